"""Settings, read once from the environment (and a ``.env`` file) by the entry point."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from dotenv import dotenv_values

__all__ = ["ConfigError", "Settings", "load_settings"]


_USER_ID = re.compile(r"[0-9]{1,20}")


class ConfigError(ValueError):
    """Bad configuration; the message is one line naming the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    token: str | None
    api_url: str | None
    admins: frozenset[int]
    db_path: Path
    timezone: ZoneInfo
    allow_private_urls: bool
    feed_poll_minutes: int = 30

    @property
    def index_path(self) -> Path:
        """The search index lives beside the database."""
        return self.db_path.with_name(self.db_path.name + ".index")


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv_path: Path | None = Path(".env")
) -> Settings:
    """Settings from ``environ`` (default: the process environment) over a ``.env`` file."""
    values: dict[str, str] = {}
    if dotenv_path is not None and dotenv_path.is_file():
        values.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return Settings(
        token=_token(values.get("TELEGRAM_BOT_TOKEN", "").strip() or None),
        api_url=_url(values.get("TELEGRAM_API_URL", "").strip() or None),
        admins=_admins(values.get("TECHBRIEF_ADMINS", "")),
        db_path=_db_path(values.get("TECHBRIEF_DB", "").strip()),
        timezone=_timezone(values.get("TECHBRIEF_TZ", "").strip() or "UTC"),
        allow_private_urls=_flag("TECHBRIEF_ALLOW_PRIVATE_URLS", values),
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


def _url(url: str | None) -> str | None:
    if url is None:
        return None
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"TELEGRAM_API_URL: {url!r} is not an http(s) URL")
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


def _db_path(raw: str) -> Path:
    if not raw:
        return Path(platformdirs.user_data_dir("techbrief")) / "techbrief.db"
    path = Path(raw).expanduser()
    if path.is_dir():
        raise ConfigError(f"TECHBRIEF_DB: {raw!r} is a directory; give a file path")
    return path


def _timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"TECHBRIEF_TZ: unknown time zone {name!r} (use Area/City)") from None


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
