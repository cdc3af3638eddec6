"""Feed polling: a JobQueue job that polls the feeds that are due and tells admins of failures.

The job ticks every :data:`FEED_TICK`; each feed keeps its own next poll time
(every ``TECHBRIEF_FEED_POLL_MINUTES``, later after failures: see
:mod:`bot.core.ingest`), so a tick usually finds nothing due and costs one
SQLite query. Fetching runs on a fetch thread, never on the event loop or the
corpus thread.
"""

from __future__ import annotations

import html
import logging
from datetime import timedelta

from telegram.error import TelegramError

from bot.telegram.runtime import BriefContext, TechBriefApplication

__all__ = ["FEED_JOB", "FEED_TICK", "poll_feeds", "schedule_feed_polling"]

log = logging.getLogger(__name__)

FEED_JOB = "poll-feeds"
FEED_TICK = timedelta(minutes=1)
FIRST_TICK = timedelta(seconds=30)


def schedule_feed_polling(application: TechBriefApplication) -> None:
    job_queue = application.job_queue
    if job_queue is None:
        raise TypeError("the application has no JobQueue (install python-telegram-bot[job-queue])")
    # max_instances=1: a long poll is never overlapped by the next tick.
    job_queue.run_repeating(
        poll_feeds, interval=FEED_TICK, first=FIRST_TICK, name=FEED_JOB,
        job_kwargs={"max_instances": 1, "coalesce": True},
    )  # fmt: skip


async def poll_feeds(context: BriefContext) -> None:
    """Poll the due feeds; send each admin the notices of repeated failures."""
    runtime = context.runtime
    if runtime.ingestion is None:
        return
    result = await runtime.ingest(lambda ingestion: ingestion.poll_due())
    added = sum(len(r.added) for r in result.reports)
    if result.reports:
        log.info("polled %d feeds: %d articles added", len(result.reports), added)
    for notice in result.notices:
        for admin in sorted(runtime.settings.admins):
            try:
                await context.bot.send_message(admin, html.escape(notice, quote=False))
            except TelegramError as exc:
                log.warning("could not tell admin %s about a feed: %s", admin, exc.message)
