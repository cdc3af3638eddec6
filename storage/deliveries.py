"""The ``deliveries`` table: one row per subscription and local date, written once.

The unique key (subscription, local date) is what makes a digest go out at
most once a day: :func:`record_delivery` inserts the row and advances the
subscription's watermark in one transaction, and a second record for the
same day is refused (:class:`AlreadyDelivered`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlite_utils

from storage.errors import StorageError

__all__ = [
    "AlreadyDelivered",
    "Delivery",
    "count_sent_since",
    "delivered",
    "list_deliveries",
    "record_delivery",
]

STATUSES = ("sent", "empty", "failed")


class AlreadyDelivered(StorageError):
    """The subscription has a delivery for that local date already."""


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    subscription_id: int | None
    chat_id: int
    topic: str
    local_date: str
    status: str
    articles: int
    upto: int
    message_id: int | None
    delivered_at: str


def delivered(db: sqlite_utils.Database, subscription_id: int, local_date: str) -> bool:
    rows = list(
        db.query(
            "SELECT 1 FROM deliveries WHERE subscription_id = ? AND local_date = ?",
            [subscription_id, local_date],
        )
    )
    return bool(rows)


def record_delivery(
    db: sqlite_utils.Database,
    *,
    subscription_id: int,
    local_date: str,
    status: str,
    articles: int,
    upto: int,
    now: datetime,
    message_id: int | None = None,
    next_due_at: datetime | None = None,
) -> None:
    """Record a day's digest of a subscription and move its watermark up to ``upto``.

    ``status``: ``sent`` (a message went out), ``empty`` (nothing new: nothing sent)
    or ``failed`` (Telegram refused the message for good). Raises
    :class:`AlreadyDelivered` when that day is recorded already, and
    :class:`StorageError` when the subscription is gone. ``next_due_at`` (the next
    day's digest) replaces the subscription's, when given.
    """
    if status not in STATUSES:
        raise ValueError(f"unknown delivery status {status!r}")
    stamp = now.astimezone(UTC).isoformat()
    with db.atomic():
        rows = list(
            db.query("SELECT chat_id, topic FROM subscriptions WHERE id = ?", [subscription_id])
        )
        if not rows:
            raise StorageError(f"subscription {subscription_id} no longer exists")
        try:
            db.execute(
                "INSERT INTO deliveries (subscription_id, chat_id, topic, local_date, status,"
                " articles, upto, message_id, delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    subscription_id,
                    rows[0]["chat_id"],
                    rows[0]["topic"],
                    local_date,
                    status,
                    articles,
                    upto,
                    message_id,
                    stamp,
                ],
            )
        except sqlite3.IntegrityError as exc:
            raise AlreadyDelivered(
                f"subscription {subscription_id} has a delivery for {local_date}"
            ) from exc
        # max(): a watermark never moves back.
        db.execute(
            "UPDATE subscriptions SET watermark = MAX(watermark, ?), watermark_at = ? WHERE id = ?",
            [upto, stamp, subscription_id],
        )
        if next_due_at is not None:
            db.execute(
                "UPDATE subscriptions SET next_due_at = ? WHERE id = ?",
                [next_due_at.astimezone(UTC).isoformat(), subscription_id],
            )


def list_deliveries(db: sqlite_utils.Database, chat_id: int | None = None) -> list[Delivery]:
    """Deliveries (of one chat, when given), oldest first."""
    select = (
        "SELECT id, subscription_id, chat_id, topic, local_date, status, articles, upto,"
        " message_id, delivered_at FROM deliveries"
    )
    if chat_id is None:
        rows = db.query(select + " ORDER BY id")
    else:
        rows = db.query(select + " WHERE chat_id = ? ORDER BY id", [chat_id])
    return [Delivery(**row) for row in rows]


def count_sent_since(db: sqlite_utils.Database, since: datetime) -> int:
    """Digests actually sent (not empty days) at or after ``since``."""
    row = next(
        db.query(
            "SELECT COUNT(*) AS n FROM deliveries WHERE status = 'sent' AND delivered_at >= ?",
            [since.astimezone(UTC).isoformat()],
        )
    )
    return int(row["n"])
