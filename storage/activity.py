"""The ``fetch_errors`` and ``question_counts`` tables: what /stats reports besides the corpus."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

__all__ = ["FetchError", "count_question", "questions_on", "recent_errors", "record_error"]

KEEP_ERRORS = 500
"""Failed fetches kept for /stats; older ones are pruned as new ones come."""


@dataclass(frozen=True, slots=True)
class FetchError:
    at: str
    source_id: int | None
    url: str | None
    reason: str


def record_error(
    db: sqlite_utils.Database,
    now: datetime,
    reason: str,
    *,
    url: str | None = None,
    source_id: int | None = None,
) -> None:
    with db.atomic():
        cursor = db.execute(
            "INSERT INTO fetch_errors (at, source_id, url, reason) VALUES (?, ?, ?, ?)",
            [now.isoformat(), source_id, url, reason],
        )
        newest = int(cursor.lastrowid or 0)
        db.execute("DELETE FROM fetch_errors WHERE id <= ?", [newest - KEEP_ERRORS])


def recent_errors(db: sqlite_utils.Database, limit: int = 5) -> list[FetchError]:
    """The latest failed fetches, newest first."""
    return [
        FetchError(**row)
        for row in db.query(
            "SELECT at, source_id, url, reason FROM fetch_errors ORDER BY id DESC LIMIT ?",
            [limit],
        )
    ]


def count_question(db: sqlite_utils.Database, now: datetime) -> None:
    """One more question asked on ``now``'s (UTC) day."""
    with db.atomic():
        db.execute(
            "INSERT INTO question_counts (day, questions) VALUES (?, 1)"
            " ON CONFLICT (day) DO UPDATE SET questions = questions + 1",
            [now.date().isoformat()],
        )


def questions_on(db: sqlite_utils.Database, now: datetime) -> int:
    rows = list(
        db.query("SELECT questions FROM question_counts WHERE day = ?", [now.date().isoformat()])
    )
    return int(rows[0]["questions"]) if rows else 0
