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


# -- webhook mode and log level -----------------------------------------------------------------

SECRET = "a1b2c3d4e5f6a7b8c9d0"


def test_polling_unless_a_webhook_url_is_set() -> None:
    assert load_settings({"TECHBRIEF_WEBHOOK_SECRET": SECRET}, None).webhook is None


def test_webhook_mode_with_its_defaults() -> None:
    settings = load_settings(
        {
            "TECHBRIEF_WEBHOOK_URL": "https://bot.example.com/hook/tg",
            "TECHBRIEF_WEBHOOK_SECRET": SECRET,
        },
        None,
    )
    assert settings.webhook is not None
    assert settings.webhook.url == "https://bot.example.com/hook/tg"
    assert settings.webhook.secret == SECRET
    assert (settings.webhook.listen, settings.webhook.port) == ("127.0.0.1", 8080)
    assert settings.webhook.path == "/hook/tg"  # the public path, as a proxy passes it on
    assert SECRET not in repr(settings)


def test_webhook_listen_port_and_path_are_read() -> None:
    settings = load_settings(
        {
            "TECHBRIEF_WEBHOOK_URL": "https://bot.example.com/",
            "TECHBRIEF_WEBHOOK_SECRET": SECRET,
            "TECHBRIEF_WEBHOOK_LISTEN": "0.0.0.0",
            "TECHBRIEF_WEBHOOK_PORT": "8443",
            "TECHBRIEF_WEBHOOK_PATH": "/tg",
        },
        None,
    )
    assert settings.webhook is not None
    assert (settings.webhook.listen, settings.webhook.port, settings.webhook.path) == (
        "0.0.0.0",
        8443,
        "/tg",
    )


def test_http_webhook_urls_only_with_a_self_hosted_bot_api() -> None:
    environ = {
        "TECHBRIEF_WEBHOOK_URL": "http://127.0.0.1:9000/tg",
        "TECHBRIEF_WEBHOOK_SECRET": SECRET,
    }
    with pytest.raises(ConfigError, match=r"^TECHBRIEF_WEBHOOK_URL: .*https://"):
        load_settings(environ, None)
    settings = load_settings({**environ, "TELEGRAM_API_URL": "http://127.0.0.1:8081/bot"}, None)
    assert settings.webhook is not None


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"TECHBRIEF_WEBHOOK_URL": "https://bot.example.com/tg"}, "TECHBRIEF_WEBHOOK_SECRET"),
        ({"TECHBRIEF_WEBHOOK_URL": "bot.example.com/tg"}, "TECHBRIEF_WEBHOOK_URL"),
        ({"TECHBRIEF_WEBHOOK_URL": "https://bot.example.com/tg?x=1"}, "TECHBRIEF_WEBHOOK_URL"),
        ({"TECHBRIEF_WEBHOOK_SECRET": "short"}, "TECHBRIEF_WEBHOOK_SECRET"),
        ({"TECHBRIEF_WEBHOOK_SECRET": "has spaces in it, sixteen+"}, "TECHBRIEF_WEBHOOK_SECRET"),
        ({"TECHBRIEF_WEBHOOK_PORT": "http"}, "TECHBRIEF_WEBHOOK_PORT"),
        ({"TECHBRIEF_WEBHOOK_PORT": "70000"}, "TECHBRIEF_WEBHOOK_PORT"),
        ({"TECHBRIEF_WEBHOOK_PORT": "０"}, "TECHBRIEF_WEBHOOK_PORT"),
        ({"TECHBRIEF_WEBHOOK_LISTEN": "every where"}, "TECHBRIEF_WEBHOOK_LISTEN"),
        ({"TECHBRIEF_WEBHOOK_PATH": "tg"}, "TECHBRIEF_WEBHOOK_PATH"),
        ({"TECHBRIEF_LOG_LEVEL": "LOUD"}, "TECHBRIEF_LOG_LEVEL"),
    ],
)
def test_bad_webhook_or_log_settings_are_refused_by_name(
    environ: dict[str, str], variable: str
) -> None:
    with pytest.raises(ConfigError, match=f"^{variable}: ") as caught:
        load_settings(environ, None)
    assert "\n" not in str(caught.value)


def test_the_webhook_secret_is_never_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"TECHBRIEF_WEBHOOK_SECRET": "not valid but secret!!"}, None)
    assert "secret!!" not in str(caught.value)


def test_log_level_is_case_insensitive() -> None:
    assert load_settings({"TECHBRIEF_LOG_LEVEL": "debug"}, None).log_level == "DEBUG"
