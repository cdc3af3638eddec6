"""Failures: 429 and 403 from Telegram, forged buttons, the error handler, the token in logs."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.texts import APOLOGY
from bot.telegram.app import build_application
from bot.telegram.redaction import MASK
from tests.e2e.botapi import TEST_TOKEN, BotApiServer, Sent
from tests.e2e.conftest import ADMIN, READER, Errors, Harness
from tests.e2e.harness import running, settings_for, wait_for

QUESTION = "Which robotaxi firms filed for Hong Kong IPOs?"


async def test_a_429_is_waited_out_and_the_reply_still_arrives(
    bot: Harness, errors: Errors
) -> None:
    bot.api.fail_next("sendMessage", retry_after=1)
    [card] = await bot.say(READER, QUESTION)
    assert "Pony.ai and WeRide" in card.text
    statuses = [c.status for c in bot.api.calls_of("sendMessage")]
    assert statuses == [429, 200]
    calls = bot.api.calls_of("sendMessage")
    assert calls[1].at - calls[0].at >= 1.0  # retry_after honoured
    assert errors() == []


async def test_a_chat_that_blocked_the_bot_is_no_crash(bot: Harness, errors: Errors) -> None:
    bot.api.private_message(READER, "hello")
    bot.api.block(READER)
    bot.api.private_message(READER, QUESTION)
    await bot.idle()
    assert bot.api.sent(READER) == []
    assert errors() == []  # logged at INFO: nobody to apologise to, nothing to fix
    # Everyone else is still served.
    [card] = await bot.say(READER + 1, QUESTION)
    assert "Pony.ai" in card.text


@pytest.mark.parametrize(
    "data",
    [
        "garbage",
        "m:AAAAAAAAAAAA:1",  # unknown question, and the card quotes no question
        "m:AAAAAAAAAAAA:99999",
        "m:" + "A" * 60,
        "s:999999",  # no such passage
        "s:-1",
        "x" * 64,
        '{"other_bot": "payload"}',
        "\x00\x01\x02",
        "m:AAAAAAAAAAAA:1:extra",
    ],
)
async def test_forged_or_stale_buttons_get_a_polite_answer(
    bot: Harness, errors: Errors, data: str
) -> None:
    sent = await _bot_message(bot)
    answer = await bot.press(sent, data)
    assert answer.get("text"), answer
    assert "Traceback" not in answer["text"]
    await bot.idle()
    assert errors() == []
    assert len(bot.api.sent(READER)) == 1  # nothing sent, nothing edited
    assert bot.api.message(READER, sent.message_id).edits == 0


async def _bot_message(bot: Harness) -> Sent:
    """A bot message without a quoted question (the /start greeting)."""
    bot.api.private_message(READER, "/start")
    [greeting] = await bot.new_messages(READER, 0)
    return greeting


async def test_an_unexpected_failure_apologises_and_tells_the_admin_once(
    api: BotApiServer, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    now = [datetime(2026, 11, 22, 9, 0, tzinfo=UTC)]
    api.private_message(ADMIN, "hi")
    settings = settings_for(api, db_path, admins=frozenset({ADMIN}))
    application = build_application(settings, clock=lambda: now[0])
    async with running(application):
        bot = Harness(api, application)
        await bot.new_messages(ADMIN, 0)  # the bot's answer to "hi", before any fault
        for expected_notices in (1, 1, 2):
            if expected_notices == 2:
                now[0] += timedelta(minutes=11)
            known = len(api.sent(READER))
            api.fail_next_with("sendMessage", 500, "Internal Server Error: upstream")
            api.private_message(READER, QUESTION)
            [apology] = await bot.new_messages(READER, known)
            assert apology.text == APOLOGY
            notices = [s for s in api.sent(ADMIN) if "techbrief error" in s.text]
            assert len(notices) == expected_notices
    assert "NetworkError: Internal Server Error: upstream" in notices[0].text
    assert f"chat {READER}" in notices[0].text
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 3
    assert all(r.exc_info for r in failures)
    assert f"chat {READER}" in failures[0].getMessage()


async def test_the_token_never_reaches_the_logs(
    api: BotApiServer, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Everything at DEBUG, httpx's request URLs included, through a real handler."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "telegram", "bot"):
        caplog.set_level(logging.DEBUG, logger=name)
    try:
        api.private_message(ADMIN, "hi")
        settings = settings_for(api, db_path, admins=frozenset({ADMIN}))
        async with running(build_application(settings)) as application:
            bot = Harness(api, application)
            await bot.new_messages(ADMIN, 0)
            [card] = await bot.say(READER, "AI model")
            await bot.press(card, card.button("More")["callback_data"])
            api.fail_next("sendMessage", retry_after=1)
            await bot.say(READER, QUESTION)
            # A failure with a traceback, and a refused token in an exception's text.
            api.fail_next_with("sendMessage", 500, f"Internal Server Error: {TEST_TOKEN}")
            api.private_message(READER, QUESTION)
            await wait_for(
                lambda: (
                    any(
                        "Internal Server Error" in r.getMessage()
                        or (r.exc_info and "Internal Server Error" in str(r.exc_info[1]))
                        for r in caplog.records
                    )
                    or None
                )
            )
            await bot.idle()
    finally:
        root.removeHandler(handler)
    output = stream.getvalue()
    assert "HTTP Request: POST" in output  # httpx did log the URLs...
    assert f"/bot{MASK}/sendMessage" in output  # ...with the token masked
    assert "Traceback" in output
    assert TEST_TOKEN not in output
    assert TEST_TOKEN.split(":")[1] not in output
    for record in caplog.records:
        assert TEST_TOKEN not in record.getMessage()
        assert TEST_TOKEN not in (record.exc_text or "")
        assert TEST_TOKEN not in logging.Formatter().format(record)
    # The admin's notice is redacted too.
    assert all(TEST_TOKEN not in s.html for s in api.sent(ADMIN))
