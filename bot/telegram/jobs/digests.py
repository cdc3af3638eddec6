"""The digest tick: every few seconds, send the digests that are due, once each.

Each tick (a JobQueue job, every :data:`DIGEST_TICK`) asks the corpus thread
which subscriptions are due (:meth:`bot.core.digests.Digests.due`: read from
SQLite, nothing kept in memory), records the days with nothing new at once,
and fans the rest out through the bot, whose rate limiter
(``AIORateLimiter``: 30 messages/s overall, 20/min per group, waiting out
each 429's ``retry_after``) sets the pace; messages to one chat are
:data:`CHAT_GAP` apart.

Exactly once, as far as one process can: before each send the corpus thread
checks the day is still undelivered (and the subscription still there and
active), and right after Telegram accepts the message the delivery is
recorded (unique per subscription and local date) with the watermark moved.
A crash before the send leaves the day undelivered: the next tick, after a
restart too, sends it. What remains is the window between Telegram accepting a
message and the record being committed (one corpus-thread hop, milliseconds):
a crash there sends that digest again after the restart. A send that times out
after Telegram has taken it is retried and sent twice in the same way.

Failures: ``Forbidden`` (the chat blocked the bot, or it was removed from the
group) and "chat not found" pause the chat's subscriptions until it writes
``/start``; ``ChatMigrated`` moves the chat's subscriptions to the supergroup and
sends there; a 429 the rate limiter could not wait out ends the tick (the rest
go out next tick); transient network errors are retried by :func:`send_retry`
and otherwise left for the next tick; any other refusal is recorded as
``failed`` for that day (so a broken message is not retried every tick) and
logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from telegram import Bot, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from bot.core.digests import Digests, DueDigest
from bot.telegram.cards import Reply, digest_reply
from bot.telegram.handlers.common import keyboard_markup
from bot.telegram.runtime import BriefContext, Runtime, TechBriefApplication

__all__ = [
    "CHAT_GAP",
    "DIGEST_TICK",
    "DigestJob",
    "TickReport",
    "digest_job",
    "schedule_digests",
    "send_retry",
    "stop_digests",
]

log = logging.getLogger(__name__)

DIGEST_TICK = timedelta(seconds=15)
"""How often due digests are looked for: a digest goes out within this of its time
(plus its turn in the fan-out)."""

CHAT_GAP = 1.0
"""Seconds between two digests to one chat (Telegram asks for at most one a second)."""

SEND_WORKERS = 16
"""Chats served at once; the rate limiter, not this, sets the pace."""

JOB_NAME = "digests"

Sleep = Callable[[float], Awaitable[None]]


def _transient(error: BaseException) -> bool:
    """Worth another try now: a network error or timeout, not a refusal (BadRequest)."""
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest)


def send_retry(sleep: Sleep = asyncio.sleep) -> AsyncRetrying:
    """The retry policy of one digest send: 3 tries, 1-8 s apart, transient errors only.

    429s are the rate limiter's (it waits out ``retry_after``); ``Forbidden``,
    ``ChatMigrated`` and ``BadRequest`` are answers, not accidents.
    """
    return AsyncRetrying(
        stop=stop_after_attempt(3),
        wait=wait_exponential(multiplier=1, min=1, max=8),
        retry=retry_if_exception(_transient),
        sleep=sleep,
        reraise=True,
    )


@dataclass
class TickReport:
    """What one tick did."""

    due: int = 0
    sent: int = 0
    empty: int = 0
    failed: int = 0
    paused: int = 0  # chats paused (blocked the bot, or gone)
    migrated: int = 0
    deferred: int = 0  # left for the next tick (network trouble, flood wait, stopped)
    skipped: int = 0  # no longer due when their turn came
    seconds: float = 0.0


@dataclass
class DigestJob:
    """The digest tick's settings and state: one tick at a time, counters for logs and tests."""

    interval: timedelta = DIGEST_TICK
    workers: int = SEND_WORKERS
    chat_gap: float = CHAT_GAP
    sleep: Sleep = asyncio.sleep
    ticks: int = 0
    last: TickReport | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _stop: bool = False
    _closed: bool = False

    async def tick(self, application: TechBriefApplication) -> TickReport | None:
        """Send what is due now; ``None`` when the previous tick is still sending."""
        if self._lock.locked() or self._closed:
            return None
        async with self._lock:
            started = time.monotonic()
            report = await self._tick(application)
            report.seconds = time.monotonic() - started
            self.ticks += 1
            self.last = report
        if report.due:
            log.info("digest tick: %s", report)
        return report

    async def close(self) -> None:
        """Stop: no new ticks; a fan-out under way finishes the sends in flight, records
        them, and leaves the rest for the next start."""
        self._closed = True
        self._stop = True
        async with self._lock:
            pass

    async def _tick(self, application: TechBriefApplication) -> TickReport:
        runtime = application.runtime
        digests = runtime.service.digests
        now = runtime.clock()
        due = await runtime.run(digests.due, now, tidy=True)
        report = TickReport(due=len(due))
        empty = [d for d in due if d.view.digest.empty]
        if empty:
            await runtime.run(_record_all, digests, empty, "empty", now)
            report.empty = len(empty)
        by_chat: dict[int, list[DueDigest]] = {}
        for d in due:
            if not d.view.digest.empty:
                by_chat.setdefault(d.subscription.chat_id, []).append(d)
        queue: asyncio.Queue[list[DueDigest]] = asyncio.Queue()
        for items in by_chat.values():
            queue.put_nowait(items)
        self._stop = self._closed
        workers = [
            asyncio.create_task(self._worker(application.bot, runtime, queue, report))
            for _ in range(min(self.workers, len(by_chat)))
        ]
        try:
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()
        return report

    async def _worker(
        self, bot: Bot, runtime: Runtime, queue: asyncio.Queue[list[DueDigest]], report: TickReport
    ) -> None:
        while not queue.empty():
            items = queue.get_nowait()
            for number, due in enumerate(items):
                if self._stop:
                    report.deferred += len(items) - number
                    break
                if number:
                    await self.sleep(self.chat_gap)
                if not await self._send(bot, runtime, due, report):
                    report.skipped += len(items) - number - 1
                    break  # the chat cannot be written to

    async def _send(self, bot: Bot, runtime: Runtime, due: DueDigest, report: TickReport) -> bool:
        """Send one digest and record it; ``False`` when its chat cannot be written to."""
        digests = runtime.service.digests
        subscription = due.subscription
        if not await runtime.run(digests.still_due, subscription.id, due.local_date):
            report.skipped += 1
            return True
        reply = digest_reply(due.view)
        chat_id = subscription.chat_id
        try:
            try:
                message = await _deliver(bot, chat_id, reply, self.sleep)
            except ChatMigrated as exc:
                new_chat_id = int(exc.new_chat_id)
                await runtime.run(digests.migrate_chat, chat_id, new_chat_id)
                report.migrated += 1
                log.info("group %s is now supergroup %s: digests follow it", chat_id, new_chat_id)
                message = await _deliver(bot, new_chat_id, reply, self.sleep)
        except Forbidden as exc:
            return await self._pause(runtime, digests, chat_id, exc.message, report)
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                return await self._pause(runtime, digests, chat_id, exc.message, report)
            log.error("digest %s refused by Telegram: %s", subscription.id, exc.message)
            await runtime.run(digests.record, due, "failed", runtime.clock())
            report.failed += 1
            return True
        except RetryAfter as exc:
            log.warning("flood wait %s: the rest of this tick's digests go next tick", exc)
            self._stop = True
            report.deferred += 1
            return True
        except NetworkError as exc:
            log.warning("digest %s not sent (%s); next tick tries again", subscription.id, exc)
            report.deferred += 1
            return True
        # Sent: record it before anything else can happen (see the module docstring).
        await runtime.run(digests.record, due, "sent", runtime.clock(), message.message_id)
        report.sent += 1
        return True

    async def _pause(
        self, runtime: Runtime, digests: Digests, chat_id: int, why: str, report: TickReport
    ) -> bool:
        paused = await runtime.run(digests.pause_chat, chat_id, runtime.clock())
        log.info("chat %s cannot be written to (%s): %d subscriptions paused", chat_id, why, paused)
        report.paused += 1
        return False


async def _deliver(bot: Bot, chat_id: int, reply: Reply, sleep: Sleep) -> Message:
    """Send a digest's messages (the last one with its buttons); returns the last one."""
    message: Message | None = None
    for number, chunk in enumerate(reply.chunks, 1):
        markup = keyboard_markup(reply.keyboard) if number == len(reply.chunks) else None
        async for attempt in send_retry(sleep):
            with attempt:
                message = await bot.send_message(chat_id, chunk, reply_markup=markup)
    if message is None:
        raise ValueError("a digest without text")
    return message


def _record_all(digests: Digests, due: list[DueDigest], status: str, now: datetime) -> None:
    for d in due:
        digests.record(d, status, now)


async def _tick(context: BriefContext) -> None:
    job = context.job
    application = context.application
    if job is None or not isinstance(job.data, DigestJob):
        raise TypeError("the digest tick runs with its DigestJob as data")
    if not isinstance(application, TechBriefApplication):
        raise TypeError("the digest tick runs in a TechBriefApplication")
    await job.data.tick(application)


def schedule_digests(application: TechBriefApplication, job: DigestJob | None = None) -> DigestJob:
    """Run the digest tick every ``job.interval`` from a second after start."""
    job = job or DigestJob()
    queue = application.job_queue
    if queue is None:
        raise TypeError("the application has no JobQueue (install the job-queue extra)")
    queue.run_repeating(
        _tick,
        interval=job.interval,
        first=1.0,
        name=JOB_NAME,
        data=job,
        # A fan-out may outlast an interval: the next run returns at once (DigestJob's
        # lock) instead of APScheduler skipping it with a warning per interval.
        job_kwargs={"max_instances": 2, "coalesce": True},
    )
    return job


def digest_job(application: TechBriefApplication) -> DigestJob:
    """The application's :class:`DigestJob` (tests read its counters)."""
    queue = application.job_queue
    jobs = queue.get_jobs_by_name(JOB_NAME) if queue is not None else ()
    for job in jobs:
        if isinstance(job.data, DigestJob):
            return job.data
    raise LookupError("no digest job scheduled")


async def stop_digests(application: TechBriefApplication) -> None:
    """Let a fan-out under way record what it sent and stop (before the bot shuts down)."""
    with contextlib.suppress(LookupError):
        await digest_job(application).close()
