"""Settings: read once, the environment over a ``.env`` file, bad values refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings


def test_the_environment_wins_over_the_dotenv_file(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("TECHBRIEF_TZ=Asia/Shanghai\nTECHBRIEF_ADMINS=7\n")
    settings = load_settings({"TECHBRIEF_TZ": "Europe/Berlin"}, dotenv)
    assert settings.timezone.key == "Europe/Berlin"
    assert settings.admins == frozenset({7})  # from .env: the environment does not set it


def test_defaults_without_any_configuration(tmp_path: Path) -> None:
    settings = load_settings({}, tmp_path / "absent.env")
    assert settings.token is None
    assert settings.admins == frozenset()
    assert settings.timezone.key == "UTC"
    assert settings.allow_private_urls is False
    assert settings.db_path.name == "techbrief.db"
    assert settings.index_path.name == "techbrief.db.index"


def test_admin_ids_are_read_with_spaces(tmp_path: Path) -> None:
    settings = load_settings({"TECHBRIEF_ADMINS": " 11, 22 ,33 "}, None)
    assert settings.admins == frozenset({11, 22, 33})


@pytest.mark.parametrize("raw", ["12,alice", "1.5", "0x10", "--5"])
def test_junk_admin_ids_are_refused_by_name(raw: str) -> None:
    with pytest.raises(ConfigError, match="TECHBRIEF_ADMINS"):
        load_settings({"TECHBRIEF_ADMINS": raw}, None)


def test_a_directory_as_database_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TECHBRIEF_DB"):
        load_settings({"TECHBRIEF_DB": str(tmp_path)}, None)


def test_the_token_is_never_echoed_in_the_error() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"TELEGRAM_BOT_TOKEN": "12345:tooshortsecret"}, None)
    assert "tooshortsecret" not in str(caught.value)


@pytest.mark.parametrize("raw", ["-5", "0", "12,²", "١٢٣"])
def test_negative_zero_and_non_ascii_admin_ids_are_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match="TECHBRIEF_ADMINS"):
        load_settings({"TECHBRIEF_ADMINS": raw}, None)


def test_feed_poll_minutes(tmp_path: Path) -> None:
    assert load_settings({}, None).feed_poll_minutes == 30
    assert load_settings({"TECHBRIEF_FEED_POLL_MINUTES": " 5 "}, None).feed_poll_minutes == 5


@pytest.mark.parametrize("raw", ["0", "1441", "-3", "half", "1.5", "٣"])
def test_bad_feed_poll_minutes_are_refused_by_name(raw: str) -> None:
    with pytest.raises(ConfigError, match="TECHBRIEF_FEED_POLL_MINUTES"):
        load_settings({"TECHBRIEF_FEED_POLL_MINUTES": raw}, None)
