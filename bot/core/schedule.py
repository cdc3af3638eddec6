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
]

DEFAULT_TIME = "08:00"

_TIME = re.compile(r"([01]?[0-9]|2[0-3])[:.h]([0-5][0-9])")


def parse_local_time(raw: str) -> str | None:
    """``"7:30"``, ``"07.30"`` or ``"07h30"`` -> ``"07:30"``; ``None`` for anything else."""
    match = _TIME.fullmatch(raw.strip())
    if match is None:
        return None
    return f"{int(match.group(1)):02d}:{match.group(2)}"


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
def _zones() -> dict[str, str]:
    """Every IANA zone name by its case-folded form (and by its city, when unambiguous)."""
    names = sorted(available_timezones())
    by_key = {name.casefold(): name for name in names}
    cities: dict[str, list[str]] = {}
    for name in names:
        if "/" in name:
            cities.setdefault(name.rsplit("/", 1)[1].casefold(), []).append(name)
    for city, matches in cities.items():
        if len(matches) == 1:
            by_key.setdefault(city, matches[0])
    return by_key


def find_timezone(raw: str) -> ZoneInfo | None:
    """The zone called ``raw``: exact, any case, spaces for underscores, or a unique city."""
    key = raw.strip().replace(" ", "_").casefold()
    name = _zones().get(key)
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def timezone_suggestions(raw: str, limit: int = 3) -> list[str]:
    """Zone names close to ``raw`` (spelling slips, a city without its area)."""
    key = raw.strip().replace(" ", "_").casefold()
    if not key:
        return []
    zones = _zones()
    close = difflib.get_close_matches(key, list(zones), n=limit * 3, cutoff=0.6)
    found: list[str] = []
    for match in close:
        if zones[match] not in found:
            found.append(zones[match])
    return found[:limit]
