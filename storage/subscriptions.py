"""The ``subscriptions`` and ``chat_settings`` tables: who gets which digest, when.

A subscription belongs to a chat (a Telegram private chat or group, or the
console) and names a topic, a local delivery time ``HH:MM`` and an IANA time
zone. Its *watermark* is the largest passage id its last digest covered (or
the largest id when it was created): passage ids grow monotonically, so the
next digest covers exactly the passages with a larger id. ``active`` is 0 while
the chat has blocked the bot. ``next_due_at`` (UTC) is a lower bound of when
its next digest is due, kept by the callers that change what decides it (the
time, the zone, a delivery): :func:`list_due` reads only the rows past it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

__all__ = [
    "Subscription",
    "add_subscription",
    "chat_timezone",
    "count_active",
    "get_subscription",
    "latest_passage_id",
    "list_active",
    "list_due",
    "list_subscriptions",
    "migrate_chat",
    "passage_id_before",
    "remove_subscriptions",
    "set_active",
    "set_chat_timezone",
    "set_local_time",
    "set_next_due",
]


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    chat_id: int
    topic: str
    topic_key: str
    local_time: str  # "HH:MM"
    timezone: str  # IANA name
    created_at: str
    active: bool
    paused_at: str | None
    watermark: int  # passage id: the next digest covers ids above it
    watermark_at: str
    next_due_at: str  # UTC; the next digest is due no earlier
    last_date: str | None = None  # local date of the latest delivery, if any


_SELECT = """
    SELECT s.id, s.chat_id, s.topic, s.topic_key, s.local_time, s.timezone, s.created_at,
           s.active, s.paused_at, s.watermark, s.watermark_at, s.next_due_at,
           (SELECT MAX(d.local_date) FROM deliveries d WHERE d.subscription_id = s.id)
             AS last_date
    FROM subscriptions s
"""


def _subscription(row: dict[str, Any]) -> Subscription:
    return Subscription(**{**row, "active": bool(row["active"])})


def latest_passage_id(db: sqlite_utils.Database) -> int:
    """The largest passage id ever handed out (0 for none): a new subscription's watermark.

    Read from ``sqlite_sequence`` so that a passage deleted since does not lower it.
    """
    rows = list(db.query("SELECT seq FROM sqlite_sequence WHERE name = 'passages'"))
    return int(rows[0]["seq"]) if rows else 0


def passage_id_before(db: sqlite_utils.Database, since: datetime) -> int:
    """The largest id of the passages stored before ``since`` (0 for none).

    Passage ids grow with time, so the passages stored since then are those above it.
    """
    row = next(
        db.query(
            "SELECT COALESCE(MAX(id), 0) AS id FROM passages WHERE added_at < ?",
            [since.astimezone(UTC).isoformat()],
        )
    )
    return int(row["id"])


def add_subscription(
    db: sqlite_utils.Database,
    *,
    chat_id: int,
    topic: str,
    topic_key: str,
    local_time: str,
    timezone: str,
    now: datetime,
    next_due_at: datetime | None = None,
) -> int:
    """Insert an active subscription whose watermark is the newest passage; returns its id.

    ``next_due_at`` defaults to ``now`` (always safe: the tick then decides).
    """
    stamp = _utc(now)
    due = _utc(next_due_at or now)
    with db.atomic():
        cursor = db.execute(
            "INSERT INTO subscriptions (chat_id, topic, topic_key, local_time, timezone,"
            " created_at, active, watermark, watermark_at, next_due_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
            [
                chat_id,
                topic,
                topic_key,
                local_time,
                timezone,
                stamp,
                latest_passage_id(db),
                stamp,
                due,
            ],
        )
    return int(cursor.lastrowid or 0)


def get_subscription(db: sqlite_utils.Database, subscription_id: int) -> Subscription | None:
    rows = list(db.query(_SELECT + " WHERE s.id = ?", [subscription_id]))
    return _subscription(rows[0]) if rows else None


def list_subscriptions(db: sqlite_utils.Database, chat_id: int) -> list[Subscription]:
    """A chat's subscriptions, oldest first."""
    return [
        _subscription(row)
        for row in db.query(_SELECT + " WHERE s.chat_id = ? ORDER BY s.id", [chat_id])
    ]


def list_active(
    db: sqlite_utils.Database, chat_ids: tuple[int, ...] | None = None
) -> list[Subscription]:
    """Every active subscription (of ``chat_ids`` only, when given), in id order."""
    if chat_ids is None:
        rows = db.query(_SELECT + " WHERE s.active = 1 ORDER BY s.id")
    else:
        marks = ", ".join("?" * len(chat_ids))
        rows = db.query(
            _SELECT + f" WHERE s.active = 1 AND s.chat_id IN ({marks}) ORDER BY s.id",
            list(chat_ids),
        )
    return [_subscription(row) for row in rows]


def list_due(
    db: sqlite_utils.Database, now: datetime, chat_ids: tuple[int, ...] | None = None
) -> list[Subscription]:
    """Active subscriptions whose ``next_due_at`` has come (of ``chat_ids`` only, when given)."""
    where = "s.active = 1 AND s.next_due_at <= ?"
    if chat_ids is None:
        rows = db.query(_SELECT + f" WHERE {where} ORDER BY s.id", [_utc(now)])
    else:
        marks = ", ".join("?" * len(chat_ids))
        rows = db.query(
            _SELECT + f" WHERE {where} AND s.chat_id IN ({marks}) ORDER BY s.id",
            [_utc(now), *chat_ids],
        )
    return [_subscription(row) for row in rows]


def set_next_due(db: sqlite_utils.Database, subscription_id: int, at: datetime) -> None:
    db.execute("UPDATE subscriptions SET next_due_at = ? WHERE id = ?", [_utc(at), subscription_id])


def count_active(db: sqlite_utils.Database) -> tuple[int, int]:
    """(active subscriptions, distinct chats holding one)."""
    row = next(
        db.query(
            "SELECT COUNT(*) AS n, COUNT(DISTINCT chat_id) AS chats FROM subscriptions"
            " WHERE active = 1"
        )
    )
    return int(row["n"]), int(row["chats"])


def remove_subscriptions(db: sqlite_utils.Database, chat_id: int, ids: list[int]) -> int:
    """Delete some of a chat's subscriptions; returns how many went (their deliveries stay)."""
    removed = 0
    with db.atomic():
        for subscription_id in ids:
            cursor = db.execute(
                "DELETE FROM subscriptions WHERE id = ? AND chat_id = ?", [subscription_id, chat_id]
            )
            removed += cursor.rowcount
    return removed


def set_local_time(
    db: sqlite_utils.Database, subscription_id: int, local_time: str, next_due_at: datetime
) -> None:
    db.execute(
        "UPDATE subscriptions SET local_time = ?, next_due_at = ? WHERE id = ?",
        [local_time, _utc(next_due_at), subscription_id],
    )


def set_active(db: sqlite_utils.Database, chat_id: int, active: bool, now: datetime) -> int:
    """Pause (the chat blocked the bot) or resume all of a chat's subscriptions; returns how
    many changed."""
    cursor = db.execute(
        "UPDATE subscriptions SET active = ?, paused_at = ? WHERE chat_id = ? AND active = ?",
        [
            int(active),
            None if active else now.astimezone(UTC).isoformat(),
            chat_id,
            int(not active),
        ],
    )
    return int(cursor.rowcount)


def chat_timezone(db: sqlite_utils.Database, chat_id: int) -> str | None:
    rows = list(db.query("SELECT timezone FROM chat_settings WHERE chat_id = ?", [chat_id]))
    return str(rows[0]["timezone"]) if rows else None


def set_chat_timezone(
    db: sqlite_utils.Database,
    chat_id: int,
    timezone: str,
    now: datetime,
    next_due: Mapping[int, datetime] | None = None,
) -> None:
    """The chat's time zone, for its new subscriptions and (at once) its existing ones,
    whose ``next_due_at`` becomes ``next_due[id]`` (default: ``now``)."""
    with db.atomic():
        db.execute(
            "INSERT INTO chat_settings (chat_id, timezone, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (chat_id) DO UPDATE SET timezone = excluded.timezone,"
            " updated_at = excluded.updated_at",
            [chat_id, timezone, now.astimezone(UTC).isoformat()],
        )
        db.execute(
            "UPDATE subscriptions SET timezone = ?, next_due_at = ? WHERE chat_id = ?",
            [timezone, _utc(now), chat_id],
        )
        for subscription_id, at in (next_due or {}).items():
            set_next_due(db, subscription_id, at)


def migrate_chat(db: sqlite_utils.Database, old_chat_id: int, new_chat_id: int) -> int:
    """A group became a supergroup: its subscriptions and settings move to the new chat id.

    Idempotent (Telegram announces a migration in both chats). A topic the new chat
    already has keeps the new chat's subscription. Returns how many subscriptions moved.
    """
    with db.atomic():
        db.execute(
            "DELETE FROM subscriptions WHERE chat_id = ? AND topic_key IN"
            " (SELECT topic_key FROM subscriptions WHERE chat_id = ?)",
            [old_chat_id, new_chat_id],
        )
        moved = db.execute(
            "UPDATE subscriptions SET chat_id = ? WHERE chat_id = ?", [new_chat_id, old_chat_id]
        ).rowcount
        db.execute(
            "UPDATE deliveries SET chat_id = ? WHERE chat_id = ?", [new_chat_id, old_chat_id]
        )
        db.execute(
            "INSERT OR IGNORE INTO chat_settings (chat_id, timezone, updated_at)"
            " SELECT ?, timezone, updated_at FROM chat_settings WHERE chat_id = ?",
            [new_chat_id, old_chat_id],
        )
        db.execute("DELETE FROM chat_settings WHERE chat_id = ?", [old_chat_id])
    return int(moved)


def _utc(when: datetime) -> str:
    return when.astimezone(UTC).isoformat()
