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
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

__all__ = [
    "DEFAULT_TIME",
    "ZoneMatch",
    "convert_time",
    "country_zones",
    "due_date",
    "find_timezone",
    "match_timezone",
    "next_delivery",
    "parse_local_time",
    "same_clocks",
    "scheduled_at",
    "timezone_suggestions",
    "utc_offset",
    "zone_label",
]

DEFAULT_TIME = "08:00"

_TIME = re.compile(r"([01]?[0-9]|2[0-3])[:.h]([0-5][0-9])")
_TWELVE_HOUR = re.compile(r"(1[0-2]|0?[1-9])(?:[:.]([0-5][0-9]))? ?([ap])\.?m\.?")
_HOUR = re.compile(r"([01]?[0-9]|2[0-3])h?")
_HHMM = re.compile(r"([01][0-9]|2[0-3])([0-5][0-9])h?")
_WORDS = {"noon": "12:00", "midday": "12:00", "midnight": "00:00"}


def parse_local_time(raw: str) -> str | None:
    """A time of day as ``"HH:MM"``, or ``None``.

    ``7:30``, ``07.30``, ``07h30``; ``7pm``, ``7:30 pm``, ``7 p.m.``; a bare hour
    ``8`` or ``19``, also ``19h``; four digits ``0800`` or ``1930``, also ``0800h``;
    ``noon``, ``midday`` and ``midnight``.
    """
    text = raw.strip().casefold()
    if text in _WORDS:
        return _WORDS[text]
    if match := _TIME.fullmatch(text):
        return f"{int(match.group(1)):02d}:{match.group(2)}"
    if match := _TWELVE_HOUR.fullmatch(text):
        hour = int(match.group(1)) % 12 + (12 if match.group(3) == "p" else 0)
        return f"{hour:02d}:{match.group(2) or '00'}"
    if match := _HOUR.fullmatch(text):
        return f"{int(match.group(1)):02d}:00"
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


# -- time zones: what people type for them ---------------------------------------------


@dataclass(frozen=True, slots=True)
class ZoneMatch:
    """What a typed zone names: one zone, several (say which), close names, or a continent."""

    zone: ZoneInfo | None = None
    several: tuple[str, ...] = ()
    """Zones ``raw`` names, none of them more than the others: an ambiguous abbreviation
    ("CST"), a country with several time zones, an offset no whole-hour zone has."""
    close: tuple[str, ...] = ()
    """Names close to an unknown ``raw`` (misspelt)."""
    continent: bool = False
    """``raw`` is a continent or an ocean ("Asia"): a city or country is needed."""
    country: bool = False
    """``several`` are the main zones of the country ``raw`` names."""


_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    # Common abbreviations, each as the zone whose clocks people mean, summer time included
    # ("EST" in July is New York's clock, not tzdata's fixed EST); several: ask which.
    # PT and ET are Pacific and Eastern Time here, not Portugal's or Ethiopia's codes.
    **dict.fromkeys(("pst", "pdt", "pt", "pacific_time"), ("America/Los_Angeles",)),
    "mst": ("America/Denver", "America/Phoenix"),  # Arizona keeps MST all year
    **dict.fromkeys(("mdt", "mountain_time"), ("America/Denver",)),
    "cst": ("Asia/Shanghai", "America/Chicago"),  # China or US Central Standard Time
    **dict.fromkeys(("cdt", "ct", "central_time"), ("America/Chicago",)),
    **dict.fromkeys(("est", "edt", "et", "eastern_time"), ("America/New_York",)),
    **dict.fromkeys(("akst", "akdt"), ("America/Anchorage",)),
    "hst": ("Pacific/Honolulu",),
    "bst": ("Europe/London",),
    **dict.fromkeys(("wet", "west"), ("Europe/Lisbon",)),
    **dict.fromkeys(("cet", "cest"), ("Europe/Paris",)),
    **dict.fromkeys(("eet", "eest"), ("Europe/Athens",)),
    "msk": ("Europe/Moscow",),
    "ist": ("Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem"),
    "sgt": ("Asia/Singapore",),
    "hkt": ("Asia/Hong_Kong",),
    "jst": ("Asia/Tokyo",),
    "kst": ("Asia/Seoul",),
    "aest": ("Australia/Sydney", "Australia/Brisbane"),  # Queensland keeps AEST all year
    "aedt": ("Australia/Sydney",),
    "awst": ("Australia/Perth",),
    **dict.fromkeys(("nzst", "nzdt"), ("Pacific/Auckland",)),
}

_NAMES_IN_CHINESE: dict[str, str] = {
    # Chinese names of the cities (and places) people in Greater China name first.
    **dict.fromkeys(
        (
            *("中国", "中國", "中国大陆", "中國大陸", "北京", "北京时间", "北京時間", "上海"),
            *("深圳", "广州", "廣州", "杭州", "成都", "武汉", "武漢", "南京", "天津"),
            *("苏州", "蘇州", "西安", "合肥", "长沙", "長沙", "青岛", "青島", "重庆", "重慶"),
            *("厦门", "廈門", "大连", "大連"),
        ),
        "Asia/Shanghai",
    ),
    "香港": "Asia/Hong_Kong",
    **dict.fromkeys(("台北", "臺北", "台湾", "台灣", "臺灣"), "Asia/Taipei"),
    **dict.fromkeys(("澳门", "澳門"), "Asia/Macau"),
    **dict.fromkeys(("日本", "东京", "東京"), "Asia/Tokyo"),
    **dict.fromkeys(("韩国", "韓國", "首尔", "首爾"), "Asia/Seoul"),
    "新加坡": "Asia/Singapore",
    **dict.fromkeys(("英国", "英國", "伦敦", "倫敦"), "Europe/London"),
    **dict.fromkeys(("纽约", "紐約"), "America/New_York"),
    **dict.fromkeys(("旧金山", "舊金山", "硅谷", "矽谷"), "America/Los_Angeles"),
    **dict.fromkeys(("美国", "美國"), "US"),  # a country: its zones
}

_CHINA_CITIES = (
    "china",
    "mainland_china",
    "beijing",
    "bjt",
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

_COUNTRY_ALIASES: dict[str, str] = {
    # Common names of countries whose iso3166.tab name is another (or has a qualifier).
    **dict.fromkeys(("usa", "united_states_of_america", "america"), "US"),
    **dict.fromkeys(
        ("uk", "united_kingdom", "great_britain", "england", "scotland", "wales"), "GB"
    ),
    "south_korea": "KR",
    "north_korea": "KP",
    "burma": "MM",
    "swaziland": "SZ",
    "american_samoa": "AS",
    "western_samoa": "WS",
    "us_virgin_islands": "VI",
    **dict.fromkeys(("british_virgin_islands", "uk_virgin_islands"), "VG"),
    "czechia": "CZ",
    "holland": "NL",
    "uae": "AE",
    "ivory_coast": "CI",
    "turkiye": "TR",
    **dict.fromkeys(("drc", "dr_congo"), "CD"),
    "macao": "MO",
}

_CONTINENTS = frozenset(
    {
        *("africa", "asia", "europe", "oceania", "americas", "north_america"),
        *("south_america", "latin_america", "central_america", "middle_east", "arctic"),
        *("pacific", "atlantic", "indian", "indian_ocean", "pacific_ocean", "atlantic_ocean"),
    }
)

_NOT_FOR_PEOPLE = frozenset({"localtime", "factory", "posixrules"})
"""Names in the zone list that are no place: the server's own zone, tzdata's placeholder."""


def _key(raw: str) -> str:
    """How names are compared: case-folded, spaces as underscores, no dots ("U.S.A."), no
    accents ("Côte d’Ivoire" is "cote_d'ivoire")."""
    decomposed = unicodedata.normalize("NFKD", raw.replace("’", "'").replace(".", ""))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "_".join(plain.casefold().split())


@functools.cache
def _names() -> dict[str, str]:
    """Every IANA zone name by its case-folded form."""
    return {
        name.casefold(): name
        for name in sorted(available_timezones())
        if name.casefold() not in _NOT_FOR_PEOPLE
    }


@functools.cache
def _cities() -> dict[str, str]:
    """Zone names by their city, where no other zone has that city ("shanghai")."""
    cities: dict[str, list[str]] = {}
    for name in _names().values():
        if "/" in name and not name.startswith("Etc/"):  # Etc/GMT+8 is UTC-8: not "GMT+8"
            cities.setdefault(name.rsplit("/", 1)[1].casefold(), []).append(name)
    return {city: found[0] for city, found in cities.items() if len(found) == 1}


@functools.cache
def _countries() -> dict[str, tuple[str, ...]]:
    """ISO 3166 codes by what people call the country: its code ("us", "cn"), its name in
    tzdata's iso3166.tab ("united_states", "britain_(uk)"), that name without its bracketed
    qualifier ("britain"; "korea" is North and South), "and" for "&", "saint" for "St",
    and the common names of :data:`_COUNTRY_ALIASES` ("usa", "uk"). A
    bracketed qualifier alone is no name: "(US)" is the US Virgin Islands' qualifier."""
    found: dict[str, list[str]] = {}

    def add(key: str, code: str) -> None:
        codes = found.setdefault(key, [])
        if code not in codes:
            codes.append(code)

    for row in _tab("iso3166.tab"):
        if len(row) < 2:
            continue
        code, name = row[0], row[1]
        add(code.casefold(), code)
        short = name.split(" (", 1)[0]
        for variant in {name, short}:
            add(_key(variant), code)
            add(_key(variant.replace("&", "and")), code)
            if variant.startswith("St "):
                add(_key("Saint " + variant[3:]), code)
    for alias, code in _COUNTRY_ALIASES.items():
        found[alias] = [code]
    return {key: tuple(codes) for key, codes in found.items()}


@functools.cache
def _zone_rows() -> dict[str, list[list[str]]]:
    """zone.tab's rows by country code, in the table's order."""
    rows: dict[str, list[list[str]]] = {}
    for row in _tab("zone.tab"):
        if len(row) >= 3:
            rows.setdefault(row[0], []).append(row)
    return rows


@functools.cache
def _zonenow() -> frozenset[str]:
    """The zones tzdata's zonenow.tab names: one per set of clocks that agree from now on,
    the one people name for it (Australia/Sydney, America/Sao_Paulo)."""
    return frozenset(row[2] for row in _tab("zonenow.tab") if len(row) >= 3)


def _clocks(name: str, now: datetime) -> tuple[timedelta | None, ...]:
    """The zone's UTC offset each day of the coming year: equal for zones whose clocks agree
    (standard time, summer time and the days they change)."""
    return _clocks_from(name, now.astimezone(UTC).date())


@functools.lru_cache(maxsize=2048)
def _clocks_from(name: str, day: date) -> tuple[timedelta | None, ...]:
    zone, start = ZoneInfo(name), datetime.combine(day, time(12), UTC)
    return tuple(zone.utcoffset(start + timedelta(days=n)) for n in range(366))


_MOST = re.compile(
    r"\bmost (?:areas|locations)\b|\bmost of\b|\((?:mainland|peninsula)\)", re.IGNORECASE
)
_ISLAND = re.compile(r"\bislands?\b", re.IGNORECASE)


def _main_zone(rows: list[list[str]]) -> list[str]:
    """The row people would name among zones whose clocks agree: the one zonenow.tab names,
    else one whose comment says "most areas" or "(mainland)", else one without a bracketed
    part, else the first (Australia/Sydney, not Hobart; Adelaide, not Broken_Hill
    "(Yancowinna)"; Europe/Madrid "Spain (mainland)", not Ceuta)."""
    comment = [(row, row[3] if len(row) >= 4 else "") for row in rows]
    for row, _ in comment:
        if row[2] in _zonenow():
            return row
    for row, text in comment:
        if _MOST.search(text):
            return row
    for row, text in comment:
        if "(" not in text:
            return row
    return rows[0]


def country_zones(code: str, now: datetime) -> list[str]:
    """A country's main zones: its zone.tab zones grouped by clocks that agree over the coming
    year (Antarctic bases aside, unless the country is Antarctica), one zone per group
    (:func:`_main_zone`), in zone.tab's order with small islands last (Lord Howe, Fernando de
    Noronha): the United States' are New York, Chicago, Denver, Phoenix, Los Angeles,
    Anchorage, Adak and Honolulu."""
    groups: dict[tuple[timedelta | None, ...], list[list[str]]] = {}
    for row in _zone_rows().get(code, []):
        if code == "AQ" or not row[2].startswith("Antarctica/"):
            groups.setdefault(_clocks(row[2], now), []).append(row)
    picks = [_main_zone(rows) for rows in groups.values()]
    picks.sort(key=lambda row: bool(len(row) >= 4 and _ISLAND.search(row[3])))
    return [row[2] for row in picks]


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


_TIME_WORD = re.compile(r"(?:_time|时间|時間)$")


def match_timezone(raw: str, now: datetime | None = None) -> ZoneMatch:
    """What ``raw`` names, tried in this order: a common abbreviation (:data:`_ABBREVIATIONS`:
    "PST" is Los Angeles' clock, "CST" China's or the US's), an IANA name (any case, spaces
    for underscores), an offset from UTC ("UTC+8", "GMT-5", "+08:00"), a Chinese name
    (:data:`_NAMES_IN_CHINESE`), a mainland Chinese city (all on Beijing time), a country
    (:func:`_countries`: one zone when all its clocks agree, else its main zones), a city
    that names one zone; "Beijing time" is Beijing. A continent asks for a city or country;
    anything else gets the names close to it. ``now`` (default: the clock) is when the
    coming year starts for telling a country's zones apart and for odd offsets."""
    now = now or datetime.now(UTC)
    key = _key(raw)
    if not key:
        return ZoneMatch()
    if key in _CONTINENTS:
        return ZoneMatch(continent=True)
    found = _match(key, now)
    if found is None and _TIME_WORD.search(key):
        found = _match(_TIME_WORD.sub("", key), now)
    if found is not None:
        return found
    known = {**_cities(), **_names()}
    close = difflib.get_close_matches(key, list(known), n=9, cutoff=0.6)
    return ZoneMatch(close=tuple(dict.fromkeys(known[c] for c in close))[:3])


def _match(key: str, now: datetime) -> ZoneMatch | None:
    abbreviation = _ABBREVIATIONS.get(key)
    if abbreviation is not None:
        return _zones(abbreviation)
    name = _names().get(key)
    if name is None:
        offset = _offset(key.replace("_", ""))
        if offset is not None:
            name = _offset_zone(offset)
            if name is None:  # UTC+5:30: the zones at that offset now, or nothing
                main = [z for rows in _zone_rows().values() for _, _, z, *_ in rows]
                at = [z for z in main if ZoneInfo(z).utcoffset(now) == offset]
                return ZoneMatch(several=tuple(at[:3])) if at else ZoneMatch()
    if name is None:
        name = _NAMES_IN_CHINESE.get(key) or ("Asia/Shanghai" if key in _CHINA_CITIES else None)
    if name is not None and name.casefold() in _names():
        return _zones((name,))
    codes = _countries().get(key) or _countries().get(name.casefold() if name else "")
    if codes:
        zones = tuple(z for code in codes for z in country_zones(code, now))
        return ZoneMatch(several=zones, country=True) if len(zones) > 1 else _zones(zones)
    city = _cities().get(key)
    return _zones((city,)) if city is not None else None


def _zones(names: tuple[str, ...]) -> ZoneMatch:
    if len(names) == 1:
        try:
            return ZoneMatch(zone=ZoneInfo(names[0]))
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneMatch()
    return ZoneMatch(several=names)


def find_timezone(raw: str, now: datetime | None = None) -> ZoneInfo | None:
    """The one zone ``raw`` names (see :func:`match_timezone`), or ``None``."""
    return match_timezone(raw, now).zone


def timezone_suggestions(raw: str, now: datetime | None = None) -> list[str]:
    """The zones ``raw`` may mean: several it names, else names close to it."""
    match = match_timezone(raw, now)
    return list(match.several or match.close)


def same_clocks(a: ZoneInfo, b: ZoneInfo, now: datetime) -> bool:
    """Whether the two zones' clocks agree over the coming year (Beijing and Hong Kong)."""
    return a.key == b.key or _clocks(a.key, now) == _clocks(b.key, now)


_ETC_OFFSET = re.compile(r"Etc/GMT([+-])([0-9]{1,2})")


def zone_label(name: str) -> str:
    """A zone as people read it: tzdata's fixed zones of an offset by that offset
    ("Etc/GMT-8" is UTC+08:00: POSIX signs are reversed), the rest by their name."""
    match = _ETC_OFFSET.fullmatch(name)
    if match is not None:
        hours = int(match.group(2))
        if hours == 0:
            return "UTC"
        return f"UTC{'-' if match.group(1) == '+' else '+'}{hours:02d}:00"
    if name in ("Etc/GMT", "Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "Etc/GMT0"):
        return "UTC"
    return name


def convert_time(local_time: str, source: ZoneInfo, target: ZoneInfo, now: datetime) -> str:
    """``local_time`` in ``source`` as ``target``'s clock shows it, at its next occurrence
    after ``now`` ("20:00" in UTC is "04:00" in Shanghai)."""
    day = now.astimezone(source).date()
    at = scheduled_at(day, local_time, source)
    if at < now:
        at = scheduled_at(day + timedelta(days=1), local_time, source)
    return f"{at.astimezone(target):%H:%M}"


def utc_offset(zone: ZoneInfo, now: datetime) -> str:
    """``UTC+08:00``: the zone's offset at ``now``."""
    offset = zone.utcoffset(now) or timedelta()
    sign = "-" if offset < timedelta() else "+"
    hours, rest = divmod(abs(int(offset.total_seconds())), 3600)
    return f"UTC{sign}{hours:02d}:{rest // 60:02d}"
