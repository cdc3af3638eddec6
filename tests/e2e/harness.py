"""Running the real Application against the Bot API test server, inside a test's event loop.

:func:`running` performs what ``Application.run_polling`` does, in the same
order (initialise, ``post_init``, start polling, start; then stop polling,
stop, shut down, ``post_shutdown``), but inside an event loop someone else
owns — pytest-asyncio's, or the load benchmark's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot.app import ALLOWED_UPDATES
from bot.config import Settings
from bot.runtime import TechBriefApplication
from tests.e2e.botapi import BotApiServer

__all__ = ["LONG_POLL", "running", "settings_for", "wait_for"]

T = TypeVar("T")

LONG_POLL = timedelta(seconds=2)
"""getUpdates' long-poll timeout: an injected update wakes the poll at once anyway."""


def settings_for(
    api: BotApiServer, db_path: Path, admins: frozenset[int] = frozenset()
) -> Settings:
    """Production settings, pointed at the test server and a database file."""
    return Settings(
        token=api.token,
        api_url=api.base_url,
        admins=admins,
        db_path=db_path,
        timezone=ZoneInfo("UTC"),
        allow_private_urls=False,
    )


@asynccontextmanager
async def running(application: TechBriefApplication) -> AsyncIterator[TechBriefApplication]:
    """The application, polling, until the block ends."""
    try:
        async with application:
            if application.post_init is not None:
                await application.post_init(application)
            assert application.updater is not None
            await application.updater.start_polling(
                poll_interval=0, timeout=LONG_POLL, allowed_updates=ALLOWED_UPDATES
            )
            await application.start()
            try:
                yield application
            finally:
                await application.updater.stop()
                await application.stop()
    finally:
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


async def wait_for(probe: Callable[[], T | None], within: float = 10.0, what: str = "") -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what or probe}")
        await asyncio.sleep(0.005)


def with_db(settings: Settings, db_path: Path) -> Settings:
    return replace(settings, db_path=db_path)
