"""The ``sources`` table: where articles came from (seed, a URL, a feed, pasted text)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

__all__ = ["Source", "add_source", "delete_source", "get_source", "list_sources"]


@dataclass(frozen=True, slots=True)
class Source:
    id: int
    kind: str
    url: str | None
    title: str
    added_at: str
    articles: int = 0
    passages: int = 0


_SELECT = """
    SELECT s.id, s.kind, s.url, s.title, s.added_at,
           (SELECT COUNT(*) FROM articles a WHERE a.source_id = s.id) AS articles,
           (SELECT COUNT(*) FROM passages p JOIN articles a ON a.id = p.article_id
             WHERE a.source_id = s.id) AS passages
    FROM sources s
"""


def _source(row: dict[str, Any]) -> Source:
    return Source(**row)


def add_source(
    db: sqlite_utils.Database, *, kind: str, title: str, now: datetime, url: str | None = None
) -> int:
    """Insert a source and return its id. Call inside ``db.atomic()`` with its articles."""
    cursor = db.execute(
        "INSERT INTO sources (kind, url, title, added_at) VALUES (?, ?, ?, ?)",
        [kind, url, title, now.isoformat()],
    )
    return int(cursor.lastrowid or 0)


def get_source(db: sqlite_utils.Database, source_id: int) -> Source | None:
    rows = list(db.query(_SELECT + " WHERE s.id = ?", [source_id]))
    return _source(rows[0]) if rows else None


def list_sources(db: sqlite_utils.Database) -> list[Source]:
    return [_source(row) for row in db.query(_SELECT + " ORDER BY s.id")]


def delete_source(db: sqlite_utils.Database, source_id: int) -> list[int]:
    """Delete a source with its articles and passages; returns the deleted passage ids."""
    with db.atomic():
        passage_ids = [
            int(row["id"])
            for row in db.query(
                "SELECT p.id FROM passages p JOIN articles a ON a.id = p.article_id"
                " WHERE a.source_id = ? ORDER BY p.id",
                [source_id],
            )
        ]
        db.execute("DELETE FROM sources WHERE id = ?", [source_id])
    return passage_ids
