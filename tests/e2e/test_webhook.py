"""Webhook mode end to end: the real Application's webhook server, the test server posting to it.

The bot registers its webhook (setWebhook with the secret token) at start, the
Bot API test server POSTs each update to it as Telegram does, and a POST without
the right secret is refused with 403 before anything runs. Switching back to
polling deletes the webhook. The secret never reaches the logs.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Webhook
from bot.telegram.app import ALLOWED_UPDATES, build_application
from bot.telegram.redaction import SECRET_MASK
from tests.e2e.botapi import TEST_TOKEN, BotApiServer
from tests.e2e.conftest import READER, Harness
from tests.e2e.harness import free_port, running, settings_for, wait_for

SECRET = "webhook-secret-0123456789abcdef"
QUESTION = "Which robotaxi firms filed for Hong Kong IPOs?"
ROOT = Path(__file__).resolve().parents[2]


def webhook_settings(port: int) -> Webhook:
    # The public URL is the bot's own address here: no proxy between the test server and it.
    return Webhook(
        url=f"http://127.0.0.1:{port}/telegram",
        secret=SECRET,
        listen="127.0.0.1",
        port=port,
        path="/telegram",
    )


@pytest.fixture
async def hooked(api: BotApiServer, db_path: Path) -> AsyncIterator[Harness]:
    settings = settings_for(api, db_path, webhook=webhook_settings(free_port()))
    async with running(build_application(settings)) as application:
        yield Harness(api, application)


async def test_the_bot_registers_its_webhook_and_answers_what_telegram_posts(
    hooked: Harness,
) -> None:
    [set_webhook] = hooked.api.calls_of("setWebhook")
    assert set_webhook.params["url"].endswith("/telegram")
    assert set_webhook.params["secret_token"] == SECRET
    assert set_webhook.params["allowed_updates"] == list(ALLOWED_UPDATES)
    [card] = await hooked.say(READER, QUESTION)
    assert "Pony.ai and WeRide" in card.text
    # A button press travels the same way: "Source" replies with the passage.
    await hooked.press(card, card.button("Source")["callback_data"])
    [source] = await hooked.new_messages(READER, 1)
    assert "Pony.ai and WeRide" in source.text
    assert hooked.api.calls_of("getUpdates") == []  # no polling in webhook mode
    assert 200 in hooked.api.webhook_deliveries


@pytest.mark.parametrize("secret", [None, "", "wrong-secret-0123456789", SECRET.upper()])
async def test_a_post_without_the_right_secret_is_refused_and_nothing_runs(
    hooked: Harness, secret: str | None
) -> None:
    forged = hooked.api.private_message_update(READER, QUESTION)
    # From another thread: the bot's webhook server runs on this event loop.
    status = await asyncio.to_thread(hooked.api.post_to_webhook, forged, secret)
    assert status == 403
    await hooked.idle()
    assert hooked.api.sent(READER) == []
    assert hooked.api.calls_of("sendMessage") == []
    assert hooked.api.chat_actions == []
    # The same update with the secret is answered: the refusal was the secret's doing.
    assert await asyncio.to_thread(hooked.api.post_to_webhook, forged, SECRET) == 200
    [card] = await hooked.replies(READER, forged["message"]["message_id"])
    assert "Pony.ai and WeRide" in card.text


async def test_switching_back_to_polling_deletes_the_webhook(
    api: BotApiServer, db_path: Path
) -> None:
    webhook = webhook_settings(free_port())
    async with running(build_application(settings_for(api, db_path, webhook=webhook))):
        assert api.webhook is not None
    async with running(build_application(settings_for(api, db_path))) as application:
        assert api.calls_of("deleteWebhook")
        assert api.webhook is None
        [card] = await Harness(api, application).say(READER, QUESTION)
        assert "Pony.ai and WeRide" in card.text
    assert all(c.status == 200 for c in api.calls_of("getUpdates"))  # never a 409 Conflict


async def test_the_webhook_secret_never_reaches_the_logs(
    api: BotApiServer, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Everything at DEBUG, where PTB logs setWebhook's parameters, through a real handler."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "telegram", "bot", "tornado"):
        caplog.set_level(logging.DEBUG, logger=name)
    try:
        settings = settings_for(api, db_path, webhook=webhook_settings(free_port()))
        async with running(build_application(settings)) as application:
            bot = Harness(api, application)
            await bot.say(READER, QUESTION)
            forged = api.private_message_update(READER + 1, QUESTION)
            wrong = "wrong-secret-0123456789"
            assert await asyncio.to_thread(api.post_to_webhook, forged, wrong) == 403
    finally:
        root.removeHandler(handler)
    output = stream.getvalue()
    assert "secret_token" in output  # PTB did log setWebhook's parameters...
    assert SECRET_MASK in output  # ...with the secret masked
    assert SECRET not in output
    assert TEST_TOKEN not in output
    for record in caplog.records:
        assert SECRET not in logging.Formatter().format(record)


# -- as an operator runs it ---------------------------------------------------------------------


def techbrief(tmp_path: Path, api: BotApiServer, port: int, **extra: str) -> subprocess.Popen[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("TECHBRIEF_", "TELEGRAM_"))}
    environ.update(
        {
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_URL": api.base_url,
            "TECHBRIEF_DB": str(tmp_path / "t.db"),
            "TECHBRIEF_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
            "TECHBRIEF_WEBHOOK_PORT": str(port),
            "TECHBRIEF_WEBHOOK_SECRET": SECRET,
            "PYTHONPATH": str(ROOT),
            **extra,
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


_LOG_LINE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d (DEBUG|INFO|WARNING|ERROR|CRITICAL) \S+: ")


async def test_techbrief_in_webhook_mode_logs_one_line_per_event_without_secrets(
    api: BotApiServer, tmp_path: Path
) -> None:
    process = techbrief(tmp_path, api, free_port(), TECHBRIEF_LOG_LEVEL="DEBUG")
    try:
        await wait_for(lambda: api.webhook, within=60, what="setWebhook")
        api.private_message(READER, QUESTION)
        [card] = await wait_for(lambda: api.sent(READER), within=30, what="the answer")
        assert "Pony.ai and WeRide" in card.text
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    lines = stderr.splitlines()
    assert any("webhook http://127.0.0.1" in line for line in lines)
    assert any(" DEBUG telegram." in line for line in lines)  # the level was applied
    assert all(_LOG_LINE.match(line) for line in lines), [
        line for line in lines if not _LOG_LINE.match(line)
    ][:3]
    assert SECRET not in stderr
    assert TEST_TOKEN not in stderr


def test_a_webhook_port_in_use_is_one_line(api: BotApiServer, tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        process = techbrief(tmp_path, api, taken.getsockname()[1])
        _, stderr = process.communicate(timeout=120)
    lines = stderr.strip().splitlines()
    assert process.returncode == 2
    assert lines[-1].startswith("techbrief: TECHBRIEF_WEBHOOK_PORT: cannot listen on 127.0.0.1:")
    assert "Traceback" not in stderr
    assert SECRET not in stderr
