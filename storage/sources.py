"""The ``sources`` and ``feeds`` tables: where articles came from, and how feeds are polled.

A source is the seed, an article URL, a feed, pasted text or an uploaded file.
Every source records its last fetch and last error; a feed also keeps its
conditional-GET validators (ETag, Last-Modified), its consecutive failures,
when it is next due, whether it was disabled after too many failures and
whether the admins were told. A feed entry whose page failed is remembered
(``feed_entry_failures``) and given up after a permanent failure or a few
temporary ones in a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

__all__ = [
    "FeedState",
    "Source",
    "add_feed",
    "add_source",
    "clear_entry_failures",
    "count_sources",
    "delete_source",
    "due_feeds",
    "feed_state",
    "feeds_holding",
    "find_source_by_url",
    "get_source",
    "given_up_entries",
    "known_urls",
    "list_feeds",
    "list_sources",
    "record_entry_failure",
    "record_failure",
    "record_success",
    "set_feed_state",
]


@dataclass(frozen=True, slots=True)
class Source:
    id: int
    kind: str
    url: str | None
    title: str
    added_at: str
    articles: int = 0
    passages: int = 0
    last_fetch: str | None = None
    last_error: str | None = None
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class FeedState:
    """What polling a feed needs to know about it."""

    source_id: int
    url: str
    etag: str | None
    last_modified: str | None
    failures: int
    next_poll: str
    disabled: bool
    notified: bool


_SELECT = """
    SELECT s.id, s.kind, s.url, s.title, s.added_at,
           (SELECT COUNT(*) FROM articles a WHERE a.source_id = s.id) AS articles,
           (SELECT COUNT(*) FROM passages p JOIN articles a ON a.id = p.article_id
             WHERE a.source_id = s.id) AS passages,
           s.last_fetch, s.last_error, COALESCE(f.disabled, 0) AS disabled
    FROM sources s LEFT JOIN feeds f ON f.source_id = s.id
"""

_FEED_SELECT = """
    SELECT f.source_id, s.url, f.etag, f.last_modified, f.failures, f.next_poll,
           f.disabled, f.notified
    FROM feeds f JOIN sources s ON s.id = f.source_id
"""


def _source(row: dict[str, Any]) -> Source:
    return Source(**{**row, "disabled": bool(row["disabled"])})


def _feed(row: dict[str, Any]) -> FeedState:
    return FeedState(
        **{**row, "disabled": bool(row["disabled"]), "notified": bool(row["notified"])}
    )


def add_source(
    db: sqlite_utils.Database,
    *,
    kind: str,
    title: str,
    now: datetime,
    url: str | None = None,
    fetched: bool = False,
) -> int:
    """Insert a source and return its id. Call inside ``db.atomic()`` with its articles.

    ``fetched`` records ``now`` as its last fetch (a source that came from the network).
    """
    cursor = db.execute(
        "INSERT INTO sources (kind, url, title, added_at, last_fetch) VALUES (?, ?, ?, ?, ?)",
        [kind, url, title, now.isoformat(), now.isoformat() if fetched else None],
    )
    return int(cursor.lastrowid or 0)


def add_feed(
    db: sqlite_utils.Database,
    *,
    url: str,
    title: str,
    now: datetime,
    next_poll: datetime,
    etag: str | None = None,
    last_modified: str | None = None,
) -> int:
    """Register a feed source with its polling state; returns the source id."""
    with db.atomic():
        source_id = add_source(db, kind="feed", title=title, now=now, url=url, fetched=True)
        db.execute(
            "INSERT INTO feeds (source_id, etag, last_modified, next_poll) VALUES (?, ?, ?, ?)",
            [source_id, etag, last_modified, next_poll.isoformat()],
        )
    return source_id


def get_source(db: sqlite_utils.Database, source_id: int) -> Source | None:
    rows = list(db.query(_SELECT + " WHERE s.id = ?", [source_id]))
    return _source(rows[0]) if rows else None


def find_source_by_url(db: sqlite_utils.Database, url: str) -> Source | None:
    rows = list(db.query(_SELECT + " WHERE s.url = ?", [url]))
    return _source(rows[0]) if rows else None


def list_sources(db: sqlite_utils.Database) -> list[Source]:
    return [_source(row) for row in db.query(_SELECT + " ORDER BY s.id")]


def count_sources(db: sqlite_utils.Database) -> int:
    return int(next(db.query("SELECT COUNT(*) AS n FROM sources"))["n"])


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


def known_urls(db: sqlite_utils.Database, urls: Sequence[str]) -> set[str]:
    """Those of ``urls`` stored already as an article's URL or canonical URL."""
    found: set[str] = set()
    unique = sorted(set(urls))
    for i in range(0, len(unique), 400):
        chunk = unique[i : i + 400]
        marks = ", ".join("?" * len(chunk))
        for row in db.execute(
            f"SELECT url FROM articles WHERE url IN ({marks})"  # noqa: S608 - "?" only
            f" UNION SELECT canonical_url FROM articles WHERE canonical_url IN ({marks})",
            [*chunk, *chunk],
        ):
            found.add(str(row[0]))
    return found


def feeds_holding(db: sqlite_utils.Database, urls: Sequence[str]) -> dict[int, int]:
    """For each feed source holding articles with one of ``urls``: how many of them."""
    counts: dict[int, int] = {}
    unique = sorted(set(urls))
    for i in range(0, len(unique), 400):
        chunk = unique[i : i + 400]
        marks = ", ".join("?" * len(chunk))
        query = (
            "SELECT a.source_id, COUNT(DISTINCT a.url) FROM articles a"  # noqa: S608 - "?" only
            " JOIN sources s ON s.id = a.source_id"
            f" WHERE s.kind = 'feed' AND a.url IN ({marks}) GROUP BY a.source_id"
        )
        for row in db.execute(query, chunk):
            counts[int(row[0])] = counts.get(int(row[0]), 0) + int(row[1])
    return counts


def given_up_entries(db: sqlite_utils.Database, source_id: int) -> set[str]:
    """The entry links of a feed that are given up (not fetched again)."""
    return {
        str(row["url"])
        for row in db.query(
            "SELECT url FROM feed_entry_failures WHERE source_id = ? AND given_up = 1",
            [source_id],
        )
    }


def record_entry_failure(
    db: sqlite_utils.Database,
    source_id: int,
    url: str,
    reason: str,
    now: datetime,
    *,
    give_up_after: int,
) -> bool:
    """A feed entry's page failed again (``give_up_after`` 1: a permanent failure).

    Returns whether the entry is given up now: at ``give_up_after`` failures in a row.
    """
    with db.atomic():
        db.execute(
            "INSERT INTO feed_entry_failures (source_id, url, failures, reason, last_failed)"
            " VALUES (?, ?, 1, ?, ?) ON CONFLICT (source_id, url) DO UPDATE SET"
            " failures = failures + 1, reason = excluded.reason,"
            " last_failed = excluded.last_failed",
            [source_id, url, reason, now.isoformat()],
        )
        row = next(
            db.query(
                "SELECT failures FROM feed_entry_failures WHERE source_id = ? AND url = ?",
                [source_id, url],
            )
        )
        given_up = int(row["failures"]) >= give_up_after
        if given_up:
            db.execute(
                "UPDATE feed_entry_failures SET given_up = 1 WHERE source_id = ? AND url = ?",
                [source_id, url],
            )
        return given_up


def clear_entry_failures(db: sqlite_utils.Database, source_id: int, urls: Sequence[str]) -> None:
    """Forget the failures of entries that have now been read (or stored from their text)."""
    if not urls:
        return
    with db.atomic():
        for url in urls:
            db.execute(
                "DELETE FROM feed_entry_failures WHERE source_id = ? AND url = ?",
                [source_id, url],
            )


def feed_state(db: sqlite_utils.Database, source_id: int) -> FeedState | None:
    rows = list(db.query(_FEED_SELECT + " WHERE f.source_id = ?", [source_id]))
    return _feed(rows[0]) if rows else None


def list_feeds(db: sqlite_utils.Database) -> list[FeedState]:
    return [_feed(row) for row in db.query(_FEED_SELECT + " ORDER BY f.source_id")]


def due_feeds(db: sqlite_utils.Database, now: datetime) -> list[FeedState]:
    """Enabled feeds whose next poll is due at ``now``, the longest-waiting first."""
    return [
        _feed(row)
        for row in db.query(
            _FEED_SELECT + " WHERE f.disabled = 0 AND f.next_poll <= ? ORDER BY f.next_poll",
            [now.isoformat()],
        )
    ]


def set_feed_state(
    db: sqlite_utils.Database,
    source_id: int,
    *,
    next_poll: datetime,
    etag: str | None = None,
    last_modified: str | None = None,
    enable: bool = False,
) -> None:
    """New validators (when given) and the next poll; ``enable`` lifts a disabled feed."""
    with db.atomic():
        db.execute(
            "UPDATE feeds SET next_poll = ?, etag = COALESCE(?, etag),"
            " last_modified = COALESCE(?, last_modified) WHERE source_id = ?",
            [next_poll.isoformat(), etag, last_modified, source_id],
        )
        if enable:
            db.execute(
                "UPDATE feeds SET disabled = 0, failures = 0, notified = 0 WHERE source_id = ?",
                [source_id],
            )


def record_success(
    db: sqlite_utils.Database,
    source_id: int,
    now: datetime,
    *,
    next_poll: datetime | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
) -> None:
    """A fetch of the source worked: clear its error; a feed's failures start again at 0."""
    with db.atomic():
        db.execute(
            "UPDATE sources SET last_fetch = ?, last_error = NULL WHERE id = ?",
            [now.isoformat(), source_id],
        )
        if next_poll is not None:
            db.execute(
                "UPDATE feeds SET failures = 0, notified = 0, disabled = 0, next_poll = ?,"
                " etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified)"
                " WHERE source_id = ?",
                [next_poll.isoformat(), etag, last_modified, source_id],
            )


def record_failure(
    db: sqlite_utils.Database,
    source_id: int,
    now: datetime,
    reason: str,
    *,
    next_poll: datetime | None = None,
    disable_after: int | None = None,
    notify_after: int | None = None,
) -> tuple[FeedState | None, bool]:
    """A fetch failed with ``reason``. For a feed: count it, schedule ``next_poll``,
    disable it at ``disable_after`` failures in a row.

    Returns the feed's new state (``None`` for other sources) and whether the
    admins should be told now: true once per run of failures, when it reaches
    ``notify_after`` (or the feed is disabled).
    """
    with db.atomic():
        db.execute(
            "UPDATE sources SET last_fetch = ?, last_error = ? WHERE id = ?",
            [now.isoformat(), reason, source_id],
        )
        if next_poll is None:
            return None, False
        db.execute(
            "UPDATE feeds SET failures = failures + 1, next_poll = ? WHERE source_id = ?",
            [next_poll.isoformat(), source_id],
        )
        state = feed_state(db, source_id)
        if state is None:
            return None, False
        if disable_after is not None and state.failures >= disable_after and not state.disabled:
            db.execute("UPDATE feeds SET disabled = 1 WHERE source_id = ?", [source_id])
        tell = (
            notify_after is not None and state.failures >= notify_after and not state.notified
        ) or (disable_after is not None and state.failures == disable_after)
        if tell:
            db.execute("UPDATE feeds SET notified = 1 WHERE source_id = ?", [source_id])
        return feed_state(db, source_id), tell
