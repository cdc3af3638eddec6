"""``techbrief doctor`` against the Bot API test server: getMe, getWebhookInfo, the bot itself."""

from __future__ import annotations

import asyncio
import io
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import Settings
from bot.doctor import index_settle_policy, run_doctor
from bot.telegram.app import build_application
from tests.e2e.botapi import TEST_TOKEN, BotApiServer
from tests.e2e.conftest import READER, Harness
from tests.e2e.harness import free_port, running, settings_for
from tests.e2e.test_webhook import QUESTION, SECRET, webhook_settings


def doctor(settings: Settings) -> tuple[int, dict[str, str]]:
    """Exit status and check name -> its line."""
    out = io.StringIO()
    status = run_doctor(
        lambda: settings, quick=True, out=out, settle=index_settle_policy(sleep=lambda _: None)
    )
    lines = out.getvalue().splitlines()
    assert lines[-1].startswith("doctor: ")
    return status, {line.split()[1]: line for line in lines[:-1]}


def test_a_valid_token_and_no_webhook_in_polling_mode(api: BotApiServer, db_path: Path) -> None:
    status, checks = doctor(settings_for(api, db_path))
    assert status == 0
    assert checks["token"].startswith("ok    token          @TechBriefTestBot (id 123456789)")
    assert checks["webhook"].startswith("ok    webhook        none set: long polling")
    assert [c.method for c in api.calls] == ["getMe", "getWebhookInfo"]


def test_a_rejected_token_fails(db_path: Path) -> None:
    with BotApiServer(token="987654321:" + "x" * 35) as other:
        settings = replace(settings_for(other, db_path), token=TEST_TOKEN)
        status, checks = doctor(settings)
    assert status == 1
    assert checks["token"].startswith("FAIL  token          the Bot API rejected")
    assert checks["webhook"].startswith("skip")


def test_an_unreachable_bot_api_fails_without_the_token(db_path: Path) -> None:
    with BotApiServer() as api:
        settings = settings_for(api, db_path)
    status, checks = doctor(replace(settings, api_url=f"http://127.0.0.1:{free_port()}/bot"))
    assert status == 1
    assert checks["token"].startswith("FAIL  token          cannot reach the Bot API at http://")
    assert TEST_TOKEN not in "".join(checks.values())


def test_webhook_mode_checks_that_telegram_posts_to_the_configured_url(
    api: BotApiServer, db_path: Path
) -> None:
    webhook = webhook_settings(free_port())
    settings = settings_for(api, db_path, webhook=webhook)
    status, checks = doctor(settings)
    assert status == 1
    assert "not set at Telegram: the bot sets it when it starts" in checks["webhook"]
    api.handle("setWebhook", {"url": "http://127.0.0.1:9/elsewhere", "secret_token": SECRET})
    status, checks = doctor(settings)
    assert status == 1
    assert f"posts to http://127.0.0.1:9/elsewhere, not {webhook.url}" in checks["webhook"]
    # Set as configured: ok while deliveries succeed, a warning with Telegram's last error.
    api.handle("setWebhook", {"url": webhook.url, "secret_token": SECRET})
    api.private_message(READER, "hello")  # nothing listens there: delivery fails
    asyncio.run(_until(lambda: api.webhook_deliveries))
    status, checks = doctor(settings)
    assert status == 0
    assert checks["webhook"].startswith(f"warn  webhook        {webhook.url}, 1 updates waiting")
    assert "last delivery failed 0 min ago: Connection refused" in checks["webhook"]
    assert SECRET not in "".join(checks.values())


def test_polling_mode_fails_when_telegram_has_a_webhook(api: BotApiServer, db_path: Path) -> None:
    api.handle("setWebhook", {"url": "http://127.0.0.1:9/hook"})
    status, checks = doctor(settings_for(api, db_path))
    assert status == 1
    assert "409 Conflict" in checks["webhook"]


async def _until(probe: object) -> None:
    for _ in range(500):
        if probe():  # type: ignore[operator]
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def test_doctor_beside_the_running_bot_and_a_missing_index_rebuilt_at_start(
    api: BotApiServer, db_path: Path
) -> None:
    settings = settings_for(api, db_path, webhook=webhook_settings(free_port()))
    async with running(build_application(settings)) as application:
        await Harness(api, application).say(READER, QUESTION)
        status, checks = await asyncio.to_thread(doctor, settings)
        assert status == 0, checks
        assert checks["webhook"].startswith(f"ok    webhook        {settings.webhook.url}")
    shutil.rmtree(settings.index_path)
    status, checks = await asyncio.to_thread(doctor, settings)
    assert status == 1
    assert checks["index"].startswith("FAIL  index          missing")
    # The next start rebuilds it from the database.
    async with running(build_application(settings)) as application:
        [card] = await Harness(api, application).say(READER + 1, QUESTION)
        assert "Pony.ai and WeRide" in card.text
    status, checks = await asyncio.to_thread(doctor, settings)
    assert status == 0, checks
    assert "in step with the database" in checks["index"]


@pytest.fixture(autouse=True)
def _no_stray_secret(capsys: pytest.CaptureFixture[str]) -> None:
    yield
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err
