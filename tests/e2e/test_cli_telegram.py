"""``techbrief`` with a token, as an operator runs it: a real process polling the test server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bot.telegram.redaction import MASK
from tests.e2e.botapi import TEST_TOKEN, BotApiServer

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def techbrief(tmp_path: Path, api_url: str, token: str = TEST_TOKEN) -> subprocess.Popen[bytes]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("TECHBRIEF_", "TELEGRAM_"))}
    environ.update(
        {
            "TELEGRAM_BOT_TOKEN": token,
            "TELEGRAM_API_URL": api_url,
            "TECHBRIEF_DB": str(tmp_path / "t.db"),
            "PYTHONPATH": str(ROOT),
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def eventually(probe: Callable[[], T | None], within: float = 30) -> T:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {probe}")


def test_techbrief_with_a_token_answers_on_telegram_and_stops_on_sigterm(
    api: BotApiServer, tmp_path: Path
) -> None:
    process = techbrief(tmp_path, api.base_url)
    try:
        eventually(lambda: api.calls_of("getUpdates"))
        api.private_message(1, "Which robotaxi firms filed for Hong Kong IPOs?")
        card = eventually(lambda: api.sent(1))[0]
        assert "Pony.ai and WeRide" in card.text
        assert api.commands["default"]
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr.decode()
    # The whole log on failure: a stress run once saw a traceback here (20:12, run 13).
    assert b"Traceback" not in stderr, stderr.decode()
    assert TEST_TOKEN.encode() not in stderr


def test_a_token_the_bot_api_rejects_is_one_line(api: BotApiServer, tmp_path: Path) -> None:
    process = techbrief(tmp_path, api.base_url, token="987654321:" + "x" * 35)
    _, stderr = process.communicate(timeout=60)
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 2
    assert lines == ["techbrief: TELEGRAM_BOT_TOKEN: the Bot API rejected the token"]


def test_an_unreachable_bot_api_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = techbrief(tmp_path, f"http://127.0.0.1:{port}/bot")
    _, stderr = process.communicate(timeout=120)
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith(
        f"techbrief: cannot reach the Bot API at http://127.0.0.1:{port}/bot"
    )
    assert TEST_TOKEN not in lines[0]


def _errors(stderr: bytes) -> list[str]:
    """What the bot printed on stderr besides its log (the lines of a normal start)."""
    text = stderr.decode()
    assert "Traceback" not in text
    return [line for line in text.strip().splitlines() if line.startswith("techbrief: ")]


def test_a_refused_start_up_request_is_one_line_without_the_token(
    api: BotApiServer, tmp_path: Path
) -> None:
    # getMe succeeds, then the server refuses setMyCommands with 400 and (as a careless
    # server might) the token, lower-cased, in its description.
    secret = TEST_TOKEN.split(":", 1)[1]
    api.fail_next_with(
        "setMyCommands", 400, f"Bad Request: no commands for bot{TEST_TOKEN.lower()}"
    )
    process = techbrief(tmp_path, api.base_url)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 2
    assert _errors(stderr) == [
        f"techbrief: the Bot API refused a start-up request: No commands for bot{MASK}"
    ]
    assert secret[:8].lower() not in stderr.decode().lower()


def test_an_index_path_that_is_a_file_stops_the_bot_with_one_line(
    api: BotApiServer, tmp_path: Path
) -> None:
    (tmp_path / "t.db.index").write_text("precious")
    process = techbrief(tmp_path, api.base_url)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 2
    [line] = _errors(stderr)
    assert str(tmp_path / "t.db.index") in line
    assert (tmp_path / "t.db.index").read_text() == "precious"
