"""Settings, read once from the environment (and a ``.env`` file) by the entry point."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import platformdirs
from dotenv import dotenv_values

__all__ = [
    "LOG_LEVELS",
    "WEBHOOK_PORTS",
    "ConfigError",
    "Settings",
    "Webhook",
    "load_settings",
]


_USER_ID = re.compile(r"[0-9]{1,20}")
# What Telegram allows in a webhook secret token; 16 characters at least, so that it is one.
_SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")
_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
WEBHOOK_PORTS = (443, 80, 88, 8443)
"""The ports Telegram posts webhook updates to (a self-hosted Bot API server takes any)."""


class ConfigError(ValueError):
    """Bad configuration; the message is one line naming the variable."""


@dataclass(frozen=True, slots=True)
class Webhook:
    """Webhook mode: Telegram POSTs updates to ``url``; a proxy forwards them to us."""

    url: str  # the public URL given to setWebhook
    secret: str = field(repr=False)  # X-Telegram-Bot-Api-Secret-Token; never printed
    listen: str = "127.0.0.1"
    port: int = 8080
    path: str = "/"  # the path the bot's server answers on


@dataclass(frozen=True, slots=True)
class Settings:
    token: str | None
    api_url: str | None
    admins: frozenset[int]
    db_path: Path
    timezone: ZoneInfo
    allow_private_urls: bool
    webhook: Webhook | None = None  # None: long polling
    log_level: str = "INFO"
    feed_poll_minutes: int = 30

    @property
    def index_path(self) -> Path:
        """The search index lives beside the database."""
        return self.db_path.with_name(self.db_path.name + ".index")

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never reach any output (logs, errors, notices): a setting
        that holds a secret is named here, and every output masks it."""
        webhook_secret = self.webhook.secret if self.webhook is not None else None
        return tuple(s for s in (self.token, webhook_secret) if s)


def load_settings(
    environ: Mapping[str, str] | None = None,
    dotenv_path: Path | None = Path(".env"),
    *,
    db_path: str | Path | None = None,
) -> Settings:
    """Settings from ``environ`` (default: the process environment) over a ``.env`` file.

    ``db_path`` (the ``--db`` option) replaces ``TECHBRIEF_DB`` and is checked the same way;
    an empty ``--db`` is refused (an empty ``TECHBRIEF_DB`` means the default file).
    """
    values: dict[str, str] = {}
    if dotenv_path is not None and dotenv_path.is_file():
        values.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    token = _token(values.get("TELEGRAM_BOT_TOKEN", "").strip() or None)
    api_url = _url(values.get("TELEGRAM_API_URL", "").strip() or None, token)
    return Settings(
        token=token,
        api_url=api_url,
        admins=_admins(values.get("TECHBRIEF_ADMINS", "")),
        db_path=(
            _db_path(values.get("TECHBRIEF_DB", "").strip())
            if db_path is None
            else _db_path(str(db_path), "--db", required=True)
        ),
        timezone=_timezone(values.get("TECHBRIEF_TZ", "").strip() or "UTC"),
        allow_private_urls=_flag("TECHBRIEF_ALLOW_PRIVATE_URLS", values),
        webhook=_webhook(values, self_hosted_api=api_url is not None),
        log_level=_log_level(values.get("TECHBRIEF_LOG_LEVEL", "").strip() or "INFO"),
        feed_poll_minutes=_minutes(
            "TECHBRIEF_FEED_POLL_MINUTES", values.get("TECHBRIEF_FEED_POLL_MINUTES", ""), 30
        ),
    )


def _token(token: str | None) -> str | None:
    if token is None:
        return None
    bot_id, _, secret = token.partition(":")
    if not bot_id.isdigit() or len(secret) < 20 or any(c.isspace() for c in token):
        # Never echo the token itself.
        raise ConfigError("TELEGRAM_BOT_TOKEN: not a bot token (expected <digits>:<secret>)")
    return token


def _url(url: str | None, token: str | None) -> str | None:
    """A Bot API base URL: http(s), a host, and a path the token is appended to."""
    if url is None:
        return None
    shown = url.replace(token, "<token>") if token else url  # the token is never echoed
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ConfigError(f"TELEGRAM_API_URL: {shown!r} is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"TELEGRAM_API_URL: {shown!r} is not an http(s) URL with a host "
            "(e.g. http://127.0.0.1:8081/bot)"
        )
    if not parts.path or parts.query or parts.fragment or any(c.isspace() for c in url):
        # The token is appended to the URL: without a path it would become part of the host.
        raise ConfigError(
            f"TELEGRAM_API_URL: {shown!r} needs a path the token can follow "
            "(e.g. http://127.0.0.1:8081/bot) and no query"
        )
    return url


def _admins(raw: str) -> frozenset[int]:
    admins: set[int] = set()
    for part in raw.replace(" ", "").split(","):
        if not part:
            continue
        # ASCII digits only: str.isdigit() also accepts "²" and Arabic-Indic digits.
        if not _USER_ID.fullmatch(part) or int(part) == 0:
            raise ConfigError(
                f"TECHBRIEF_ADMINS: {part!r} is not a Telegram user id (a positive number)"
            )
        admins.add(int(part))
    return frozenset(admins)


def _db_path(raw: str, name: str = "TECHBRIEF_DB", *, required: bool = False) -> Path:
    if not raw.strip() and required:
        raise ConfigError(f"{name}: no file named; give a database file path")
    if not raw:
        return Path(platformdirs.user_data_dir("techbrief")) / "techbrief.db"
    path = Path(raw).expanduser()
    if path.is_dir():
        raise ConfigError(f"{name}: {raw!r} is a directory; give a file path")
    return path


def _timezone(name: str) -> ZoneInfo:
    """A zone as /timezone takes it (:func:`bot.core.schedule.match_timezone`): an IANA name
    in any case (utc, asia/shanghai), spaces for underscores, a city, a country with one
    zone, an abbreviation (PST), an offset (UTC+8); the zone's own spelling, which replies
    show. A name of several zones, a continent or an unknown name is refused in one line."""
    from bot.core.schedule import match_timezone

    match = match_timezone(name)
    if match.zone is not None:
        return match.zone
    if match.several:
        some = ", ".join(match.several[:3]) + (", …" if len(match.several) > 3 else "")
        raise ConfigError(f"TECHBRIEF_TZ: {name!r} has several time zones ({some}); name one")
    if match.continent:
        raise ConfigError(f"TECHBRIEF_TZ: {name!r} is a continent; name a city or country")
    hint = f"e.g. {', '.join(match.close)}" if match.close else "use Area/City"
    raise ConfigError(f"TECHBRIEF_TZ: unknown time zone {name!r} ({hint})")


def _minutes(name: str, raw: str, default: int) -> int:
    raw = raw.strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 1440:
        raise ConfigError(f"{name}: {raw!r} is not a number of minutes from 1 to 1440")
    return int(raw)


def _flag(name: str, values: Mapping[str, str]) -> bool:
    raw = values.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name}: {raw!r} is not 0 or 1")


def _webhook(values: Mapping[str, str], *, self_hosted_api: bool) -> Webhook | None:
    """Webhook mode when TECHBRIEF_WEBHOOK_URL is set; the other variables are checked anyway."""
    raw_url = values.get("TECHBRIEF_WEBHOOK_URL", "").strip()
    secret = values.get("TECHBRIEF_WEBHOOK_SECRET", "").strip()
    listen = values.get("TECHBRIEF_WEBHOOK_LISTEN", "").strip() or "127.0.0.1"
    raw_port = values.get("TECHBRIEF_WEBHOOK_PORT", "").strip() or "8080"
    path = values.get("TECHBRIEF_WEBHOOK_PATH", "").strip()
    if secret and not _SECRET.fullmatch(secret):
        # Never echo the secret itself.
        raise ConfigError(
            "TECHBRIEF_WEBHOOK_SECRET: use 16-256 characters of A-Z, a-z, 0-9, _ and - "
            "(e.g. openssl rand -hex 32)"
        )
    if not _is_host(listen):
        raise ConfigError(f"TECHBRIEF_WEBHOOK_LISTEN: {listen!r} is not an address to listen on")
    if not raw_port.isascii() or not raw_port.isdigit() or not 1 <= int(raw_port) <= 65535:
        raise ConfigError(f"TECHBRIEF_WEBHOOK_PORT: {raw_port!r} is not a port (1-65535)")
    if path and (not path.startswith("/") or any(c.isspace() or c in "?#" for c in path)):
        raise ConfigError(f"TECHBRIEF_WEBHOOK_PATH: {path!r} is not a URL path (/like/this)")
    if not raw_url:
        return None
    url = urlsplit(raw_url)
    try:
        port = url.port
    except ValueError:  # a port that is not a number, or out of range
        port = -1
    if url.scheme not in ("https", "http") or not url.hostname or url.query or url.fragment:
        raise ConfigError(
            f"TECHBRIEF_WEBHOOK_URL: {raw_url!r} is not an https:// URL without query"
        )
    if port == -1:
        raise ConfigError(f"TECHBRIEF_WEBHOOK_URL: {raw_url!r} has a port that is not a number")
    if url.scheme == "http" and not self_hosted_api:
        raise ConfigError(
            "TECHBRIEF_WEBHOOK_URL: Telegram posts only to https:// URLs "
            "(http:// works with a self-hosted Bot API server, TELEGRAM_API_URL)"
        )
    if port is not None and port not in WEBHOOK_PORTS and not self_hosted_api:
        raise ConfigError(
            f"TECHBRIEF_WEBHOOK_URL: Telegram posts only to ports 443, 80, 88 and 8443, "
            f"not {port} (the proxy listens on one of them and forwards to "
            "TECHBRIEF_WEBHOOK_PORT)"
        )
    if not secret:
        raise ConfigError(
            "TECHBRIEF_WEBHOOK_SECRET: required in webhook mode, so that only Telegram "
            "can post updates (e.g. openssl rand -hex 32)"
        )
    return Webhook(
        url=raw_url, secret=secret, listen=listen, port=int(raw_port), path=path or url.path or "/"
    )


def _is_host(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return bool(_HOST.fullmatch(value))
    return True


def _log_level(name: str) -> str:
    if name.upper() not in LOG_LEVELS:
        raise ConfigError(f"TECHBRIEF_LOG_LEVEL: {name!r} is not one of {', '.join(LOG_LEVELS)}")
    return name.upper()
