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


@pytest.mark.parametrize(
    ("raw", "zone"),
    [
        ("utc", "UTC"),
        ("asia/shanghai", "Asia/Shanghai"),
        ("ASIA/SHANGHAI", "Asia/Shanghai"),
        ("America/New York", "America/New_York"),
        ("Tokyo", "Asia/Tokyo"),
        ("Europe/Berlin", "Europe/Berlin"),
        # Second trial: "US" was America/St_Thomas, "EST" tzdata's fixed EST, 北京 unknown.
        ("EST", "America/New_York"),
        ("PST", "America/Los_Angeles"),
        ("北京", "Asia/Shanghai"),
        ("UK", "Europe/London"),
        ("UTC+8", "Etc/GMT-8"),
    ],
)
def test_the_time_zone_is_read_as_timezone_reads_it(raw: str, zone: str) -> None:
    # /timezone asia/shanghai works in the chat; TECHBRIEF_TZ takes the same spellings
    # and keeps the zone's own name, which replies show.
    assert load_settings({"TECHBRIEF_TZ": raw}, None).timezone.key == zone


def test_an_unknown_time_zone_names_the_close_ones() -> None:
    with pytest.raises(ConfigError, match=r"^TECHBRIEF_TZ: .*'Asia/Shangai'.*Asia/Shanghai"):
        load_settings({"TECHBRIEF_TZ": "Asia/Shangai"}, None)


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (
            "US",
            "'US' has several time zones (America/New_York, America/Chicago, America/Denver, …)",
        ),
        ("CST", "'CST' has several time zones (Asia/Shanghai, America/Chicago)"),
        ("Europe", "'Europe' is a continent"),
    ],
)
def test_a_name_of_several_zones_is_refused_with_them(raw: str, says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings({"TECHBRIEF_TZ": raw}, None)
    assert str(refused.value).startswith(f"TECHBRIEF_TZ: {says}")


def test_an_empty_db_option_is_refused_and_an_empty_variable_is_the_default() -> None:
    with pytest.raises(ConfigError, match=r"^--db: no file named"):
        load_settings({}, None, db_path="")
    assert load_settings({"TECHBRIEF_DB": ""}, None).db_path.name == "techbrief.db"


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


@pytest.mark.parametrize("port", ["", ":443", ":80", ":88", ":8443"])
def test_webhook_urls_on_telegram_s_ports_are_taken(port: str) -> None:
    environ = {
        "TECHBRIEF_WEBHOOK_URL": f"https://bot.example.com{port}/tg",
        "TECHBRIEF_WEBHOOK_SECRET": SECRET,
    }
    assert load_settings(environ, None).webhook is not None


@pytest.mark.parametrize("port", ["9999", "8080", "1"])
def test_webhook_urls_on_other_ports_are_refused_in_one_line(port: str) -> None:
    # Telegram posts webhook updates only to 443, 80, 88 and 8443.
    environ = {
        "TECHBRIEF_WEBHOOK_URL": f"https://x.example:{port}/t",
        "TECHBRIEF_WEBHOOK_SECRET": SECRET,
    }
    with pytest.raises(ConfigError, match=rf"^TECHBRIEF_WEBHOOK_URL: .*443, 80, 88.*not {port}"):
        load_settings(environ, None)
    # A self-hosted Bot API server posts to any port.
    settings = load_settings({**environ, "TELEGRAM_API_URL": "http://127.0.0.1:8081/bot"}, None)
    assert settings.webhook is not None


def test_a_webhook_url_port_that_is_no_number_is_one_line() -> None:
    environ = {
        "TECHBRIEF_WEBHOOK_URL": "https://x.example:https/t",
        "TECHBRIEF_WEBHOOK_SECRET": SECRET,
    }
    with pytest.raises(ConfigError, match=r"^TECHBRIEF_WEBHOOK_URL: .*not a number"):
        load_settings(environ, None)


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
