"""When a digest is due: pure functions of a subscription's time, its zone and ``now``.

A subscription's digest for a local date is *scheduled* at its local time
that day; when that time does not exist (the clocks jump over it, as at 02:30
on a spring-forward night) it is scheduled at the next minute that does, and
when it exists twice (a fall-back night) at its first occurrence. A digest is
*due* when its scheduled time today (in the subscription's zone) has passed and
nothing was delivered for today (and the subscription existed by then: one made
at 10:00 for 08:00 starts tomorrow): one missed while the bot was down goes out
when it comes back the same day, and the repeated hour sends nothing twice
because deliveries are keyed by local date.
"""

from __future__ import annotations

import difflib
import functools
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

__all__ = [
    "DEFAULT_TIME",
    "due_date",
    "find_timezone",
    "next_delivery",
    "parse_local_time",
    "scheduled_at",
    "timezone_suggestions",
    "utc_offset",
]

DEFAULT_TIME = "08:00"

_TIME = re.compile(r"([01]?[0-9]|2[0-3])[:.h]([0-5][0-9])")
_TWELVE_HOUR = re.compile(r"(1[0-2]|0?[1-9])(?:[:.]([0-5][0-9]))? ?([ap])\.?m\.?")
_HOUR = re.compile(r"[01]?[0-9]|2[0-3]")
_HHMM = re.compile(r"([01][0-9]|2[0-3])([0-5][0-9])")


def parse_local_time(raw: str) -> str | None:
    """A time of day as ``"HH:MM"``, or ``None``.

    ``7:30``, ``07.30``, ``07h30``; ``7pm``, ``7:30 pm``, ``7 p.m.``; a bare hour
    ``8`` or ``19``; four digits ``0800`` or ``1930``.
    """
    text = raw.strip().casefold()
    if match := _TIME.fullmatch(text):
        return f"{int(match.group(1)):02d}:{match.group(2)}"
    if match := _TWELVE_HOUR.fullmatch(text):
        hour = int(match.group(1)) % 12 + (12 if match.group(3) == "p" else 0)
        return f"{hour:02d}:{match.group(2) or '00'}"
    if _HOUR.fullmatch(text):
        return f"{int(text):02d}:00"
    if match := _HHMM.fullmatch(text):
        return f"{match.group(1)}:{match.group(2)}"
    return None


def _exists(local: datetime, zone: ZoneInfo) -> bool:
    """Whether the naive local time ``local`` happens in ``zone`` (is not in a DST gap)."""
    aware = local.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == local


def scheduled_at(day: date, local_time: str, zone: ZoneInfo) -> datetime:
    """The instant (UTC) of the digest of local date ``day``.

    A local time the clocks skip that day becomes the next minute that exists;
    a local time that happens twice is its first occurrence (``fold=0``).
    """
    hours, minutes = (int(part) for part in local_time.split(":"))
    local = datetime.combine(day, time(hours, minutes))
    # Gaps last an hour (at most a few in history); a day bounds the search.
    for _ in range(24 * 60):
        if _exists(local, zone):
            return local.replace(tzinfo=zone).astimezone(UTC)
        local += timedelta(minutes=1)
    raise ValueError(f"{zone.key} has no valid time after {local_time} on {day}")


def due_date(
    now: datetime,
    local_time: str,
    zone: ZoneInfo,
    last_date: str | None,
    created: datetime | None = None,
) -> date | None:
    """The local date whose digest is due at ``now``, or ``None`` when none is.

    ``last_date`` is the local date (ISO) of the subscription's latest delivery;
    ``created`` is when it was made: a subscription made after today's time has
    its first digest tomorrow.
    """
    today = now.astimezone(zone).date()
    if last_date is not None and last_date >= today.isoformat():
        return None
    at = scheduled_at(today, local_time, zone)
    if created is not None and created > at:
        return None
    return today if now >= at else None


def next_delivery(
    now: datetime,
    local_time: str,
    zone: ZoneInfo,
    last_date: str | None,
    created: datetime | None = None,
) -> datetime:
    """When the next digest is scheduled (UTC): now if one is due, else today's or tomorrow's."""
    if due_date(now, local_time, zone, last_date, created) is not None:
        return now
    today = now.astimezone(zone).date()
    at = scheduled_at(today, local_time, zone)
    if at > now and (last_date is None or last_date < today.isoformat()):
        return at
    return scheduled_at(today + timedelta(days=1), local_time, zone)


@functools.cache
def _names() -> dict[str, str]:
    """Every IANA zone name by its case-folded form."""
    return {name.casefold(): name for name in sorted(available_timezones())}


@functools.cache
def _zones() -> dict[str, str]:
    """Zone names by what people type for them: the zone's name, its city when no other
    zone has it, a country with one zone ("Japan"), a city of mainland China (all on
    Beijing time: "Beijing", "Shenzhen"). Offsets ("UTC+8") are :func:`_offset_zone`'s."""
    names = _names()
    by_key = dict(names)
    cities: dict[str, list[str]] = {}
    for name in names.values():
        if "/" in name and not name.startswith("Etc/"):  # Etc/GMT+8 is UTC-8: not "GMT+8"
            cities.setdefault(name.rsplit("/", 1)[1].casefold(), []).append(name)
    for city, matches in cities.items():
        if len(matches) == 1:
            by_key.setdefault(city, matches[0])
    for country, zones in _countries().items():
        if len(zones) == 1:
            by_key.setdefault(country, zones[0])
    for city in _CHINA_CITIES:
        by_key.setdefault(city, "Asia/Shanghai")
    return by_key


_CHINA_CITIES = (
    "china",
    "mainland_china",
    "beijing",
    "beijing_time",
    "china_standard_time",
    "shenzhen",
    "guangzhou",
    "hangzhou",
    "chengdu",
    "wuhan",
    "nanjing",
    "tianjin",
    "suzhou",
    "xi'an",
    "xian",
    "hefei",
    "changsha",
    "qingdao",
    "dalian",
    "xiamen",
)
"""tzdata names mainland China's zone after Shanghai only ("Beijing Time" in its comment)."""


@functools.cache
def _countries() -> dict[str, list[str]]:
    """The zones of each country (its main zone first), by its name as tzdata spells it, that
    name without the bracketed part and the bracketed part: "Britain (UK)" is
    "britain_(uk)", "britain" and "uk" (shared by "Virgin Islands (UK)": two zones)."""
    names = _tab("iso3166.tab")
    zones: dict[str, list[str]] = {}
    for row in _tab("zone.tab"):
        if len(row) >= 3:
            zones.setdefault(row[0], []).append(row[2])
    by_name: dict[str, list[str]] = {}
    for row in names:
        if len(row) < 2 or row[0] not in zones:
            continue
        name = row[1].casefold()
        short, _, bracket = name.partition(" (")
        for key in {name, short, bracket.rstrip(")")} - {""}:
            found = by_name.setdefault(key.replace(" ", "_"), [])  # "korea": North and South
            found.extend(z for z in zones[row[0]] if z not in found)
    return by_name


def _tab(name: str) -> list[list[str]]:
    """The rows of one of tzdata's tables (the tzdata package's, else the system's)."""
    import importlib.resources
    from pathlib import Path

    try:
        text = (importlib.resources.files("tzdata") / "zoneinfo" / name).read_text("utf-8")
    except (ModuleNotFoundError, OSError):
        try:
            text = (Path("/usr/share/zoneinfo") / name).read_text("utf-8")
        except OSError:
            return []
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


_OFFSET = re.compile(r"(?:utc|gmt)?\s*([+\-\u2212])\s*([0-9]{1,2})(?:[:.h]?([0-9]{2}))?")


def _offset(raw: str) -> timedelta | None:
    """``UTC+8``, ``GMT-5``, ``+08:00``, ``UTC+5:30`` as an offset from UTC (east is +)."""
    match = _OFFSET.fullmatch(raw.strip().casefold())
    if match is None:
        return None
    hours, minutes = int(match.group(2)), int(match.group(3) or 0)
    if minutes >= 60:
        return None
    offset = timedelta(hours=hours, minutes=minutes)
    return -offset if match.group(1) != "+" else offset


def _offset_zone(offset: timedelta) -> str | None:
    """The fixed zone of a whole-hour offset: tzdata's Etc/GMT-8 is UTC+8 (POSIX signs)."""
    hours, rest = divmod(int(offset.total_seconds()), 3600)
    if rest or not -12 <= hours <= 14:
        return None
    return "Etc/GMT" if hours == 0 else f"Etc/GMT{-hours:+d}"


def find_timezone(raw: str) -> ZoneInfo | None:
    """The zone ``raw`` names: a zone name (any case, spaces for underscores), an offset
    from UTC (``UTC+8``, ``GMT+8``, ``+08:00``), a city or country with one zone."""
    key = raw.strip().replace(" ", "_").casefold()
    name = _names().get(key)
    if name is None:
        offset = _offset(raw)
        name = _offset_zone(offset) if offset is not None else _zones().get(key)
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def timezone_suggestions(raw: str, limit: int = 3) -> list[str]:
    """Zone names close to ``raw``: a misspelt name or a city without its area; the zones
    of a country with several; zones now at an offset no fixed zone has (``UTC+5:30``)."""
    key = raw.strip().replace(" ", "_").casefold()
    if not key:
        return []
    offset = _offset(raw)
    if offset is not None:
        now = datetime.now(UTC)
        main = [row[2] for row in _tab("zone.tab") if len(row) >= 3]
        return [z for z in main if ZoneInfo(z).utcoffset(now) == offset][:limit]
    country = _countries().get(key)
    if country:
        return country[:limit]
    zones = _zones()
    close = difflib.get_close_matches(key, list(zones), n=limit * 3, cutoff=0.6)
    found: list[str] = []
    for match in close:
        if zones[match] not in found:
            found.append(zones[match])
    return found[:limit]


def utc_offset(zone: ZoneInfo, now: datetime) -> str:
    """``UTC+08:00``: the zone's offset at ``now``."""
    offset = zone.utcoffset(now) or timedelta()
    sign = "-" if offset < timedelta() else "+"
    hours, rest = divmod(abs(int(offset.total_seconds())), 3600)
    return f"UTC{sign}{hours:02d}:{rest // 60:02d}"
