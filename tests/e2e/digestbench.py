"""Digest fan-out benchmark (not a test): 3,000 subscribers at Telegram's limits.

    python -m tests.e2e.digestbench [--subscribers 3000] [--topics 1]

N private chats subscribe to a topic (``--topics`` spreads them over that many
built-in topics) at 00:00 UTC, made the day before, and an article for each
topic is added: at start every digest is due. The bot is the real Application
(:func:`bot.telegram.app.build_application`, run by :func:`bot.telegram.app.running`)
with the production rate limiter (``AIORateLimiter``: 30 messages/s overall,
429s retried after ``retry_after``) and the production digest job, talking HTTP
to the Bot API test server on 127.0.0.1 in this process. The clock is real.

Reported: the time from the tick's start to the last digest recorded, beside
the floor Telegram's 30 messages/s sets (N / 30 s) and the goal (within 10% of
it); messages per second; how long finding and composing the due digests
took; and per chat how many digests arrived: duplicates must be 0 and every
chat must have one, checked after a later tick found nothing more to send.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.core.corpus import Corpus
from bot.core.service import TechBrief
from bot.telegram.app import build_application, running
from bot.telegram.jobs.digests import DigestJob
from retrieval.topics import TOPICS
from storage import sources, subscriptions
from storage.articles import NewArticle
from tests.e2e.botapi import BotApiServer
from tests.e2e.harness import wait_for

TELEGRAM_RATE = 30.0  # messages per second, overall
FIRST_CHAT = 10_000

STORIES = {
    "ai": "Moonshot AI released an open-source large language model, and DeepSeek answered "
    "with a chatbot update the same week.",
    "ev": "BYD unveiled a battery charging system that adds 400 km of range to its electric "
    "vehicles in five minutes, the carmaker said.",
    "robotaxi": "Pony.ai and WeRide expanded driverless robotaxi services to two more cities.",
    "chips": "New export controls restrict sales of semiconductor tools to Chinese chip makers.",
    "policy": "Beijing announced subsidies and an industrial policy push for self-reliance.",
    "ipo": "Zhipu AI filed for an IPO, a Hong Kong listing after securities regulator approval.",
    "energy": "Approvals for nuclear and hydrogen energy projects will feed the power grid.",
}


def prepare(db: Path, subscribers: int, topics: int) -> list[int]:
    """Subscriptions made yesterday for 00:00 UTC, then one new article per topic."""
    yesterday = datetime.now(UTC) - timedelta(days=1)
    corpus = Corpus.open(db, yesterday)
    chats = list(range(FIRST_CHAT, FIRST_CHAT + subscribers))
    chosen = TOPICS[:topics]
    try:
        for number, chat in enumerate(chats):
            topic = chosen[number % len(chosen)].name
            subscriptions.add_subscription(
                corpus.db,
                chat_id=chat,
                topic=topic,
                topic_key=topic,
                local_time="00:00",
                timezone="UTC",
                now=yesterday,
            )
        with corpus.db.atomic():
            source = sources.add_source(corpus.db, kind="text", title="bench", now=yesterday)
        for topic in chosen:
            article = NewArticle(
                title=f"Digest bench story: {topic.label}",
                body=STORIES[topic.name],
                publisher="Bench Wire",
                url=f"https://example.com/bench/{topic.name}",
            )
            corpus.add_article(source, article, yesterday)
    finally:
        corpus.close()
    return chats


def time_due(db: Path) -> tuple[float, int]:
    """Seconds to find and compose every due digest (what the tick does first)."""
    corpus = Corpus.open(db, datetime.now(UTC))
    try:
        started = time.perf_counter()
        due = TechBrief(corpus).digests.due(datetime.now(UTC))
        return time.perf_counter() - started, len(due)
    finally:
        corpus.close()


async def fan_out(db: Path, chats: list[int]) -> tuple[float, float, Counter[int], int]:
    """Run the bot until every digest is recorded and a later tick found nothing more."""
    with BotApiServer() as api:
        for chat in chats:
            api.add_private_chat(chat)
        settings = Settings(
            token=api.token,
            api_url=api.base_url,
            admins=frozenset(),
            db_path=db,
            timezone=ZoneInfo("UTC"),
            allow_private_urls=False,
        )
        job = DigestJob(interval=timedelta(seconds=5))
        application = build_application(settings, digests=job)  # Telegram's rate limiter
        async with running(application):
            report = await wait_for(
                lambda: job.last if job.last is not None and job.last.due else None,
                within=3600,
                what="the fan-out",
            )
            first_tick = job.ticks
            # A later tick, which must find nothing more to send.
            await wait_for(lambda: job.ticks > first_tick or None, within=60, what="a tick")
        calls = [c for c in api.calls_of("sendMessage") if c.status == 200]
        span = calls[-1].at - calls[0].at if len(calls) > 1 else 0.0
        received = Counter({chat: len(api.sent(chat)) for chat in chats})
        errors = len(api.errors)
    return report.seconds, span, received, errors


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.digestbench", description=__doc__)
    parser.add_argument("--subscribers", type=int, default=3000)
    parser.add_argument("--topics", type=int, default=1, choices=range(1, len(TOPICS) + 1))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="digestbench-") as tmp:
        db = Path(tmp) / "bench.db"
        chats = prepare(db, args.subscribers, args.topics)
        due_seconds, due_count = time_due(db)
        elapsed, span, received, errors = asyncio.run(fan_out(db, chats))
    floor = args.subscribers / TELEGRAM_RATE
    goal = floor * 1.1
    duplicates = sum(1 for n in received.values() if n > 1)
    missing = sum(1 for n in received.values() if n == 0)
    cpu = platform.processor() or platform.machine()
    print(f"machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}")
    print(f"subscribers: {args.subscribers:,} over {args.topics} topic(s), all due at once")
    print(f"find and compose the due digests: {due_seconds * 1000:.0f} ms ({due_count:,} due)")
    print("\n| measure | result | reference |")
    print("| --- | ---: | ---: |")
    reference = f"floor {floor:.0f} s, goal ≤ {goal:.0f} s"
    print(f"| fan-out, tick start to last digest recorded | {elapsed:.1f} s | {reference} |")
    print(f"| first to last message at the server | {span:.1f} s | |")
    print(f"| messages per second | {args.subscribers / elapsed:.1f} | {TELEGRAM_RATE:.0f} |")
    print(f"| chats that got their digest | {len(received) - missing:,} | {args.subscribers:,} |")
    print(f"| duplicates | {duplicates} | 0 |")
    print(f"| Bot API errors | {errors} | 0 |")
    verdict = "met" if elapsed <= goal and duplicates == 0 and missing == 0 else "NOT met"
    print(f"\ngoal (≤ {goal:.0f} s, no duplicates, nobody missed): {verdict}")
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    raise SystemExit(main())
