"""Settings, read once from the environment (and a ``.env`` file) by the entry point."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
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

    @property
    def index_path(self) -> Path:
        """The search index lives beside the database."""
        return self.db_path.with_name(self.db_path.name + ".index")

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never reach any output (logs, errors, notices): a setting
        that holds a secret is named here, and every output masks it."""
        return tuple(s for s in (self.token,) if s)


def load_settings(
    environ: Mapping[str, str] | None = None,
    dotenv_path: Path | None = Path(".env"),
    *,
    db_path: Path | None = None,
) -> Settings:
    """Settings from ``environ`` (default: the process environment) over a ``.env`` file.

    ``db_path`` (the ``--db`` option) replaces ``TECHBRIEF_DB`` and is checked the same way.
    """
    values: dict[str, str] = {}
    if dotenv_path is not None and dotenv_path.is_file():
        values.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    token = _token(values.get("TELEGRAM_BOT_TOKEN", "").strip() or None)
    return Settings(
        token=token,
        api_url=_url(values.get("TELEGRAM_API_URL", "").strip() or None, token),
        admins=_admins(values.get("TECHBRIEF_ADMINS", "")),
        db_path=(
            _db_path(values.get("TECHBRIEF_DB", "").strip())
            if db_path is None
            else _db_path(str(db_path), "--db")
        ),
        timezone=_timezone(values.get("TECHBRIEF_TZ", "").strip() or "UTC"),
        allow_private_urls=_flag("TECHBRIEF_ALLOW_PRIVATE_URLS", values),
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


def _db_path(raw: str, name: str = "TECHBRIEF_DB") -> Path:
    if not raw:
        return Path(platformdirs.user_data_dir("techbrief")) / "techbrief.db"
    path = Path(raw).expanduser()
    if path.is_dir():
        raise ConfigError(f"{name}: {raw!r} is a directory; give a file path")
    return path


def _timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a folder of zones
        raise ConfigError(f"TECHBRIEF_TZ: unknown time zone {name!r} (use Area/City)") from None


def _flag(name: str, values: Mapping[str, str]) -> bool:
    raw = values.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name}: {raw!r} is not 0 or 1")
