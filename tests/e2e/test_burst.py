"""A burst: 300 readers ask at the same moment of a Bot API that takes 50 ms per request.

Every one of them must get their answer card, none an apology: a request that
waits for one of the bot's few Bot API connections is waiting, not failing.
Telegram's 30 messages/s ceiling is off here (as on a self-hosted Bot API
server), so that the connections, not the rate limiter, are what the burst meets.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from telegram.ext import AIORateLimiter

from bot.core.texts import APOLOGY
from bot.telegram.app import (
    BOT_API_CONNECTIONS,
    CONCURRENT_UPDATES,
    POOL_TIMEOUT,
    build_application,
)
from tests.e2e.botapi import BotApiServer
from tests.e2e.conftest import Errors, Harness
from tests.e2e.harness import running, settings_for, wait_for

READERS = 300
QUESTIONS = [
    "Which robotaxi firms filed for Hong Kong IPOs?",
    "How many EV models did BYD unveil?",
    "How much does Baidu save with digital avatars?",
    "Who approved the Pony.ai and WeRide IPO filings?",
]


@pytest.fixture
def slow_api() -> Iterator[BotApiServer]:
    with BotApiServer(delay=0.05) as server:
        yield server


def test_the_built_bot_s_pool_settings_agree(api: BotApiServer, db_path: Path) -> None:
    application = build_application(settings_for(api, db_path))
    client = application.bot.request._client  # type: ignore[attr-defined]
    connections = client._transport._pool._max_connections
    in_flight = application.update_processor.max_concurrent_updates
    assert connections == BOT_API_CONNECTIONS
    assert in_flight == CONCURRENT_UPDATES
    # Each update in flight holds at most one connection at a time, so a request waits
    # behind at most in_flight / connections others, each bounded by its own timeouts.
    per_request = client.timeout.connect + client.timeout.write + client.timeout.read
    assert client.timeout.pool == POOL_TIMEOUT
    assert client.timeout.pool >= -(-in_flight // connections) * per_request


async def test_every_reader_of_a_burst_gets_their_card(
    slow_api: BotApiServer, db_path: Path, unlimited: AIORateLimiter, errors: Errors
) -> None:
    application = build_application(settings_for(slow_api, db_path), rate_limiter=unlimited)
    async with running(application):
        bot = Harness(slow_api, application)
        readers = range(10_000, 10_000 + READERS)
        asked = {
            reader: slow_api.private_message(reader, QUESTIONS[reader % len(QUESTIONS)])
            for reader in readers
        }

        def answered() -> bool | None:
            return all(slow_api.sent(reader) for reader in readers) or None

        await wait_for(answered, within=180, what=f"cards for all {READERS} readers")
        await bot.idle()
    for reader, message in asked.items():
        [card] = slow_api.sent(reader)
        assert card.text != APOLOGY
        assert card.reply_to == message["message_id"]
        assert card.button("Source")
    assert errors() == []
    failures = [(m, d) for m, d in slow_api.errors]
    assert failures == []


async def test_a_slow_bot_api_makes_readers_wait_not_fail(
    db_path: Path, unlimited: AIORateLimiter, caplog: pytest.LogCaptureFixture
) -> None:
    # Two seconds per request and twice as many readers as connections: half of
    # the requests wait two seconds for a connection. They wait; nobody gets "Pool
    # timeout" (PTB's default pool timeout is 1 s) and an apology, no typing
    # indicator is lost.
    caplog.set_level(logging.DEBUG, logger="bot")
    with BotApiServer(delay=2.0) as api:
        application = build_application(settings_for(api, db_path), rate_limiter=unlimited)
        readers = range(20_000, 20_000 + 2 * BOT_API_CONNECTIONS)
        for reader in readers:
            api.private_message(reader, QUESTIONS[reader % len(QUESTIONS)])
        async with running(application):
            bot = Harness(api, application)
            await wait_for(
                lambda: all(api.sent(r) for r in readers) or None, within=120, what="the cards"
            )
            await bot.idle()
        for reader in readers:
            [card] = api.sent(reader)
            assert card.text != APOLOGY
    failed = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    failed += [r.getMessage() for r in caplog.records if "typing indicator" in r.getMessage()]
    assert failed == []
