"""Helpers to run the real Application against the Bot API test server.

The application runs with :func:`bot.telegram.app.running`, the production lifecycle,
inside the test's event loop.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot.config import Settings, Webhook
from bot.telegram.app import running
from tests.e2e.botapi import BotApiServer

__all__ = ["free_port", "running", "settings_for", "wait_for"]

T = TypeVar("T")


def settings_for(
    api: BotApiServer,
    db_path: Path,
    admins: frozenset[int] = frozenset(),
    webhook: Webhook | None = None,
) -> Settings:
    """Production settings, pointed at the test server and a database file."""
    return Settings(
        token=api.token,
        api_url=api.base_url,
        admins=admins,
        db_path=db_path,
        timezone=ZoneInfo("UTC"),
        allow_private_urls=False,
        webhook=webhook,
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the moment of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
