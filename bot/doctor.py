"""``techbrief doctor``: can the bot run from this configuration and this data?

One line per check, then a summary; the exit status is 1 when any check
failed. Every check only reads: the database is opened read-only, the index
without sweeping its files, and nothing is migrated or repaired. So the
doctor runs beside the bot (the container health check runs ``--quick``
every few minutes) and reports what the bot would fix at its next start
instead of fixing it.

Checks, in order (a check that needs an earlier one's result is skipped when
that one failed): configuration; database (opens, read-only); migrations
(current); integrity (``PRAGMA integrity_check``, or ``quick_check`` with
``--quick``); index (readable, built by this analyzer, in step with the
database); token (``getMe``, when set); webhook (``getWebhookInfo``: in webhook
mode Telegram must post to the configured URL; in polling mode no webhook may
be set, or polling fails with 409 Conflict).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import tenacity

from bot.config import ConfigError, Settings
from storage.errors import StorageError

if TYPE_CHECKING:
    import sqlite_utils
    from telegram import WebhookInfo

__all__ = ["Check", "Status", "index_settle_policy", "run_doctor"]


class Status(Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: Status
    detail: str
    # A failure that a concurrent writer can cause for a moment (the bot between its
    # SQLite commit and its index commit): worth looking again before reporting.
    transient: bool = False


def index_settle_policy(sleep: Callable[[float], None] = time.sleep) -> tenacity.Retrying:
    """Look at the index again, up to 4 times 0.5 s apart, while a failure may be a write
    in progress: the bot commits SQLite first, then the index."""
    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(4),
        wait=tenacity.wait_fixed(0.5),
        retry=tenacity.retry_if_result(lambda check: check.transient),
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        sleep=sleep,
    )


def run_doctor(
    load_settings: Callable[[], Settings],
    *,
    quick: bool,
    out: TextIO,
    settle: tenacity.Retrying | None = None,
) -> int:
    """Run every check, print one line each and a summary; 0 when none failed, else 1."""
    checks: list[Check] = []
    for check in _checks(load_settings, quick=quick, settle=settle or index_settle_policy()):
        checks.append(check)
        print(f"{check.status.value:<5} {check.name:<14} {check.detail}", file=out, flush=True)
    failed = [c.name for c in checks if c.status is Status.FAIL]
    warned = [c.name for c in checks if c.status is Status.WARN]
    if failed:
        summary = f"{len(failed)} of {len(checks)} checks failed: {', '.join(failed)}"
        print(f"doctor: {summary}", file=out)
        return 1
    passed = sum(c.status is Status.OK for c in checks)
    note = f"; warnings: {', '.join(warned)}" if warned else ""
    print(f"doctor: no problem found ({passed} checks passed{note})", file=out)
    return 0


def _checks(
    load_settings: Callable[[], Settings], *, quick: bool, settle: tenacity.Retrying
) -> Iterator[Check]:
    try:
        settings = load_settings()
    except ConfigError as exc:
        yield Check("configuration", Status.FAIL, str(exc))
        return
    mode = (
        f"webhook at {settings.webhook.url}" if settings.webhook else "long polling"
    ) + f", database {settings.db_path}"
    yield Check("configuration", Status.OK, mode if settings.token else "no token: console chat")
    yield from _database_checks(settings, quick=quick, settle=settle)
    yield from _telegram_checks(settings)


def _database_checks(
    settings: Settings, *, quick: bool, settle: tenacity.Retrying
) -> Iterator[Check]:
    from storage.health import integrity_problems, migration_state, open_read_only

    path = settings.db_path
    if not path.exists():
        yield Check(
            "database",
            Status.WARN,
            f"none yet at {path}: the bot creates it, with the seed articles, when it starts",
        )
        return
    try:
        db = open_read_only(path)
    except StorageError as exc:
        yield Check("database", Status.FAIL, str(exc))
        return
    try:
        size = path.stat().st_size
        yield Check("database", Status.OK, f"{path} ({size / 1e6:.1f} MB), opened read-only")
        try:
            migrations = migration_state(db)
        except StorageError as exc:
            yield Check("migrations", Status.FAIL, str(exc))
        else:
            yield _migrations_check(migrations.applied, migrations.pending, migrations.unknown)
        pragma = "quick_check" if quick else "integrity_check"
        problems = integrity_problems(db, quick=quick)
        if problems:
            more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
            shown = "; ".join(problems[:3]) + more
            yield Check("integrity", Status.FAIL, f"{pragma}: {shown}")
            yield Check("index", Status.SKIP, "not compared with a damaged database")
            return
        yield Check("integrity", Status.OK, f"{pragma}: ok")
        yield settle(_index_check, db, settings.index_path)
    finally:
        db.close()


def _migrations_check(applied: list[str], pending: list[str], unknown: list[str]) -> Check:
    if unknown:
        return Check(
            "migrations",
            Status.FAIL,
            f"applied by a newer techbrief: {', '.join(unknown)}; upgrade techbrief",
        )
    if pending:
        return Check(
            "migrations",
            Status.WARN,
            f"{len(pending)} pending ({', '.join(pending)}): the bot applies them when it starts",
        )
    return Check("migrations", Status.OK, f"current ({len(applied)} applied)")


def _index_check(db: sqlite_utils.Database, directory: Path) -> Check:
    import sqlite3

    from bot.core.corpus import IndexUnusable, index_drift, read_index

    restart = "the bot rebuilds it from the database when it starts"
    try:
        index = read_index(directory, read_only=True)
    except IndexUnusable as exc:
        missing = not (directory / "manifest.json").exists()
        # Unreadable may be a commit seen half-way (its old generation just swept): look again.
        return Check("index", Status.FAIL, f"{exc}; {restart}", transient=not missing)
    try:
        drift = index_drift(db, index)
    except sqlite3.DatabaseError as exc:
        return Check("index", Status.FAIL, f"cannot compare with the database: {exc}")
    if drift:
        return Check(
            "index",
            Status.FAIL,
            f"out of step with the database: {drift.missing.shape[0]} passages not indexed, "
            f"{drift.extra.shape[0]} indexed but deleted; the bot repairs it when it starts",
            transient=True,
        )
    return Check("index", Status.OK, f"{len(index):,} passages, in step with the database")


def _telegram_checks(settings: Settings) -> Iterator[Check]:
    if not settings.token:
        yield Check("token", Status.SKIP, "TELEGRAM_BOT_TOKEN not set")
        yield Check("webhook", Status.SKIP, "no token")
        return
    yield from asyncio.run(_ask_telegram(settings))


async def _ask_telegram(settings: Settings) -> list[Check]:
    from telegram import Bot
    from telegram.error import InvalidToken, TelegramError

    from bot.telegram.app import file_url
    from bot.telegram.redaction import install_redaction, redact

    assert settings.token is not None
    install_redaction(settings.token)
    where = settings.api_url or "api.telegram.org"
    bot = (
        Bot(settings.token, base_url=settings.api_url, base_file_url=file_url(settings.api_url))
        if settings.api_url
        else Bot(settings.token)
    )
    checks: list[Check] = []
    try:
        async with bot:  # initialize() calls getMe
            me = bot.bot
            checks.append(Check("token", Status.OK, f"@{me.username} (id {me.id}) at {where}"))
            info = await bot.get_webhook_info()
    except InvalidToken:
        return [
            Check("token", Status.FAIL, "the Bot API rejected TELEGRAM_BOT_TOKEN"),
            Check("webhook", Status.SKIP, "no valid token"),
        ]
    except TelegramError as exc:
        message = redact(exc.message, settings.token)
        failed = Check("token", Status.FAIL, f"cannot reach the Bot API at {where}: {message}")
        return [failed, Check("webhook", Status.SKIP, "Bot API not reachable")]
    checks.append(_webhook_check(settings, info))
    return checks


def _webhook_check(settings: Settings, info: WebhookInfo) -> Check:
    url, pending = info.url, info.pending_update_count
    last_error, last_error_at = info.last_error_message, info.last_error_date
    if settings.webhook is None:
        if url:
            return Check(
                "webhook",
                Status.FAIL,
                f"Telegram posts updates to {url}, so polling gets 409 Conflict: another "
                "deployment in webhook mode with this token? (the bot deletes it when it starts)",
            )
        return Check("webhook", Status.OK, f"none set: long polling ({pending} updates waiting)")
    if not url:
        return Check("webhook", Status.FAIL, "not set at Telegram: the bot sets it when it starts")
    if url != settings.webhook.url:
        return Check(
            "webhook",
            Status.FAIL,
            f"Telegram posts to {url}, not {settings.webhook.url}: the bot sets it when it starts",
        )
    if last_error and isinstance(last_error_at, datetime):
        ago = datetime.now(UTC) - last_error_at.astimezone(UTC)
        minutes = max(0, int(ago.total_seconds() // 60))
        return Check(
            "webhook",
            Status.WARN,
            f"{url}, {pending} updates waiting; last delivery failed {minutes} min ago: "
            f"{last_error}",
        )
    return Check("webhook", Status.OK, f"{url}, {pending} updates waiting")
