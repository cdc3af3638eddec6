"""Secrets out of every output: the redactor, the log record factory, the command line."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.telegram.redaction import MASK, SECRET_MASK, Redactor, install_redaction, register_settings
from tests.test_cli import run

TOKEN = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = TOKEN.split(":", 1)[1]


@pytest.mark.parametrize(
    "text",
    [
        f"POST https://api.telegram.org/bot{TOKEN}/getMe",
        f"http://{TOKEN.lower()}/getme",  # a URL's host, lower-cased
        f"https://API.TELEGRAM.ORG/BOT{TOKEN.upper()}/GETME",
        f"InvalidURL(\"Invalid port: '{SECRET}'\")",  # the half after the colon
        f"port {SECRET.lower()[:12]} refused",  # a fragment, lower-cased
        f"…{SECRET[5:20]}…",
        f"{SECRET[-9:]} at the end",
    ],
)
def test_a_secret_is_masked_whole_in_any_case_and_in_fragments(text: str) -> None:
    clean = Redactor([TOKEN])(text)
    assert MASK in clean
    folded = clean.lower()
    for i in range(len(SECRET) - 7):
        assert SECRET[i : i + 8].lower() not in folded, (clean, SECRET[i : i + 8])


def test_the_bot_id_alone_and_ordinary_text_stay() -> None:
    redactor = Redactor([TOKEN])
    for text in ("bot 987654321 started", "Pony.ai and WeRide filed for IPOs", ""):
        assert redactor(text) == text


def test_several_secrets_can_be_registered_later() -> None:
    redactor = Redactor([TOKEN])
    webhook = "s3cr3t-webhook_value"
    assert redactor(f"x-telegram-bot-api-secret-token: {webhook}").endswith(webhook)
    redactor.register(webhook, None, "")
    assert redactor(f"x-telegram-bot-api-secret-token: {webhook.upper()}") == (
        f"x-telegram-bot-api-secret-token: {MASK}"
    )
    assert redactor(f"bot{TOKEN}/getMe") == f"bot{MASK}/getMe"
    assert redactor.secrets == (TOKEN, webhook)


def test_a_short_secret_is_masked_whole() -> None:
    redactor = Redactor(["hunter2"])
    assert redactor("password: HUNTER2.") == f"password: {MASK}."


@pytest.fixture
def restore_factory() -> Iterator[None]:
    factory = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(factory)


def test_log_records_lose_secrets_in_messages_arguments_and_tracebacks(
    restore_factory: None, caplog: pytest.LogCaptureFixture
) -> None:
    redactor = install_redaction(Redactor())
    redactor.register(TOKEN)  # registered after installing: the settings came later
    log = logging.getLogger("techbrief.test")
    caplog.set_level(logging.INFO)
    log.info("calling %s", f"https://x/bot{TOKEN.lower()}/getMe")
    try:
        raise ValueError(f"Invalid port: '{SECRET}'")
    except ValueError:
        log.exception("request failed")
    log.info("stack", stack_info=True, extra={"note": "no secret"})
    text = "\n".join(logging.Formatter().format(r) for r in caplog.records)
    assert SECRET.lower() not in text.lower()
    assert SECRET[:10] not in text
    assert "Traceback" in text
    assert install_redaction(redactor) is redactor  # idempotent


# -- the command line ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://",
        "http:///bot",
        "https://:8081/bot",
        "http://127.0.0.1:8081",  # the token would be glued to the port
        f"http://127.0.0.1:{SECRET[:6]}/bot",
        "http://127.0.0.1:8081/bot?x=1",
        "file:///etc/passwd",
    ],
)
def test_a_bot_api_url_without_host_or_path_is_refused_without_the_token(
    tmp_path: Path, url: str
) -> None:
    proc = run(tmp_path, env={"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": url})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("techbrief: TELEGRAM_API_URL: ")
    assert SECRET[:8].lower() not in (proc.stdout + proc.stderr).lower()


def test_load_settings_accepts_a_bot_api_url_with_a_path() -> None:
    settings = load_settings({"TELEGRAM_API_URL": "http://127.0.0.1:8081/bot"}, None)
    assert settings.api_url == "http://127.0.0.1:8081/bot"
    assert load_settings({"TELEGRAM_BOT_TOKEN": TOKEN}, None).secrets == (TOKEN,)


def test_an_unforeseen_error_is_one_line_without_the_token(tmp_path: Path) -> None:
    # A bug that puts the token into an exception's text: the top level masks it.
    script = (
        "import sys\n"
        "import bot.cli\n"
        "def broken(settings):\n"
        "    raise RuntimeError('boom ' + settings.token.lower() + ' end')\n"
        "import bot.telegram.app as app\n"
        "app.run_telegram = broken\n"
        "sys.exit(bot.cli.main([]))\n"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("TECHBRIEF_", "TELEGRAM_"))}
    environ.update(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TECHBRIEF_DB": str(tmp_path / "t.db"),
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        }
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environ,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 70
    assert proc.stderr.strip().splitlines() == [
        f"techbrief: internal error (RuntimeError: boom {MASK} end); please report it"
    ]


def test_the_webhook_secret_is_one_of_the_settings_secrets() -> None:
    webhook_secret = "Zx9-webhook_secret-0123456789abcdef"
    settings = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TECHBRIEF_WEBHOOK_URL": "https://bot.example.com/hook",
            "TECHBRIEF_WEBHOOK_SECRET": webhook_secret,
        },
        None,
    )
    assert settings.secrets == (TOKEN, webhook_secret)
    redactor = register_settings(Redactor(), settings)
    text = f"setWebhook secret_token={webhook_secret.lower()} for bot{TOKEN}; part {SECRET[3:14]}"
    assert redactor(text) == f"setWebhook secret_token={SECRET_MASK} for bot{MASK}; part {MASK}"
