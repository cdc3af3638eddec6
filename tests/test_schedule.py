"""When a digest is due: time zones, DST gaps and repeats, missed days, new subscriptions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.schedule import (
    convert_time,
    due_date,
    find_timezone,
    match_timezone,
    next_delivery,
    parse_local_time,
    same_clocks,
    scheduled_at,
    timezone_suggestions,
    utc_offset,
    zone_label,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SHANGHAI = ZoneInfo("Asia/Shanghai")
KATHMANDU = ZoneInfo("Asia/Kathmandu")  # +05:45
WINTER = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("08:00", "08:00"),
        ("7:30", "07:30"),
        ("07.30", "07.30"),
        ("23h59", "23:59"),
        ("0:00", "00:00"),
        # Trial rough edges 1 and 2: the forms people type.
        ("7pm", "19:00"),
        ("7 PM", "19:00"),
        ("7:30 p.m.", "19:30"),
        ("12am", "00:00"),
        ("12pm", "12:00"),
        ("8", "08:00"),
        ("19", "19:00"),
        ("0800", "08:00"),
        ("1930", "19:30"),
        # Second trial: these became part of a free-text topic at 08:00.
        ("noon", "12:00"),
        ("Midnight", "00:00"),
        ("19h", "19:00"),
        ("7h", "07:00"),
        ("0800h", "08:00"),
    ],
)
def test_parse_local_time(raw: str, parsed: str) -> None:
    assert parse_local_time(raw) == parsed.replace(".", ":")


@pytest.mark.parametrize(
    "raw",
    [
        *("24:00", "7:60", "24", "2400", "800", "13pm", "0am", "", "07:3", "-1:00", "٠٧:٣٠"),
        *("24h", "2400h", "800h", "noonish", "h"),
    ],
)
def test_parse_local_time_refuses_what_is_no_time(raw: str) -> None:
    assert parse_local_time(raw) is None


@pytest.mark.parametrize(
    ("zone", "local_time", "expected_utc"),
    [
        (ZoneInfo("UTC"), "08:00", utc(2026, 11, 23, 8, 0)),
        (BERLIN, "08:00", utc(2026, 11, 23, 7, 0)),  # CET, +01:00
        (SHANGHAI, "08:00", utc(2026, 11, 23, 0, 0)),  # +08:00
        (NEW_YORK, "08:00", utc(2026, 11, 23, 13, 0)),  # EST, -05:00
        (KATHMANDU, "08:00", utc(2026, 11, 23, 2, 15)),
    ],
)
def test_scheduled_at_in_time_zones(
    zone: ZoneInfo, local_time: str, expected_utc: datetime
) -> None:
    assert scheduled_at(date(2026, 11, 23), local_time, zone) == expected_utc


def test_a_time_the_clocks_skip_is_sent_at_the_next_valid_minute() -> None:
    # Berlin, 29 March 2026: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist.
    at = scheduled_at(date(2026, 3, 29), "02:30", BERLIN)
    assert at == utc(2026, 3, 29, 1, 0)
    assert at.astimezone(BERLIN).strftime("%H:%M") == "03:00"
    # New York, 8 March 2026: 02:00 EST jumps to 03:00 EDT.
    assert scheduled_at(date(2026, 3, 8), "02:59", NEW_YORK).astimezone(NEW_YORK).hour == 3
    # The day after, 02:30 exists again.
    assert scheduled_at(date(2026, 3, 30), "02:30", BERLIN) == utc(2026, 3, 30, 0, 30)


def test_a_repeated_hour_is_sent_once_at_its_first_occurrence() -> None:
    # Berlin, 25 October 2026: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice.
    first = scheduled_at(date(2026, 10, 25), "02:30", BERLIN)
    assert first == utc(2026, 10, 25, 0, 30)  # 02:30 CEST
    second = utc(2026, 10, 25, 1, 30)  # 02:30 CET, an hour later
    assert due_date(first, "02:30", BERLIN, None) == date(2026, 10, 25)
    # Delivered at the first 02:30: the second one sends nothing.
    assert due_date(second, "02:30", BERLIN, "2026-10-25") is None
    assert due_date(second + timedelta(hours=5), "02:30", BERLIN, "2026-10-25") is None


def test_due_once_the_local_time_has_passed_and_until_delivered() -> None:
    assert due_date(utc(2026, 11, 23, 6, 59, 59), "08:00", BERLIN, None) is None
    assert due_date(utc(2026, 11, 23, 7, 0), "08:00", BERLIN, None) == date(2026, 11, 23)
    assert due_date(utc(2026, 11, 23, 7, 0, 30), "08:00", BERLIN, "2026-11-22") == date(
        2026, 11, 23
    )
    assert due_date(utc(2026, 11, 23, 7, 0, 30), "08:00", BERLIN, "2026-11-23") is None


def test_the_local_date_is_the_subscribers_not_utcs() -> None:
    # 23:30 UTC on the 22nd is already 07:30 on the 23rd in Shanghai.
    now = utc(2026, 11, 22, 23, 30)
    assert due_date(now, "07:00", SHANGHAI, "2026-11-22") == date(2026, 11, 23)
    # ... and still the 22nd in New York, where 08:00 passed hours ago and was delivered.
    assert due_date(now, "08:00", NEW_YORK, "2026-11-22") is None


def test_a_digest_missed_while_down_goes_out_the_same_day_but_not_the_next() -> None:
    # Down from 07:00 to 15:00 Berlin time: at 15:00 the 08:00 digest is still due.
    assert due_date(utc(2026, 11, 23, 14, 0), "08:00", BERLIN, "2026-11-22") == date(2026, 11, 23)
    # Down for two days: yesterday's is not sent; today's goes out at its time.
    assert due_date(utc(2026, 11, 25, 6, 0), "08:00", BERLIN, "2026-11-22") is None
    assert due_date(utc(2026, 11, 25, 7, 0), "08:00", BERLIN, "2026-11-22") == date(2026, 11, 25)


def test_a_subscription_made_after_todays_time_starts_tomorrow() -> None:
    created = utc(2026, 11, 23, 9, 0)  # 10:00 Berlin, after 08:00
    assert due_date(utc(2026, 11, 23, 9, 1), "08:00", BERLIN, None, created) is None
    assert next_delivery(utc(2026, 11, 23, 9, 1), "08:00", BERLIN, None, created) == utc(
        2026, 11, 24, 7, 0
    )
    # Made before today's time: today counts.
    early = utc(2026, 11, 23, 6, 0)
    assert due_date(utc(2026, 11, 23, 7, 0), "08:00", BERLIN, None, early) == date(2026, 11, 23)


def test_next_delivery() -> None:
    now = utc(2026, 11, 23, 6, 0)
    assert next_delivery(now, "08:00", BERLIN, None) == utc(2026, 11, 23, 7, 0)
    assert next_delivery(now, "08:00", BERLIN, "2026-11-23") == utc(2026, 11, 24, 7, 0)
    due = utc(2026, 11, 23, 7, 0, 10)
    assert next_delivery(due, "08:00", BERLIN, None) == due  # due now


@given(
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2037, 12, 31)),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    zone=st.sampled_from([BERLIN, NEW_YORK, SHANGHAI, KATHMANDU, ZoneInfo("Australia/Lord_Howe")]),
)
def test_exactly_one_due_date_per_local_day(
    day: date, hour: int, minute: int, zone: ZoneInfo
) -> None:
    """Walking through a local day minute by minute (in UTC), the digest becomes due once,
    at or after its local time, never more than an hour later (a DST gap), and delivering
    it ends that."""
    local_time = f"{hour:02d}:{minute:02d}"
    at = scheduled_at(day, local_time, zone)
    assert at.astimezone(zone).date() == day
    local = at.astimezone(zone)
    assert (local.hour, local.minute) >= (hour, minute)
    assert local.replace(tzinfo=None) - datetime(day.year, day.month, day.day, hour, minute) <= (
        timedelta(hours=1)
    )
    yesterday = (day - timedelta(days=1)).isoformat()  # delivered the day before
    assert due_date(at - timedelta(seconds=1), local_time, zone, yesterday) is None
    assert due_date(at, local_time, zone, yesterday) == day
    assert due_date(at + timedelta(hours=2), local_time, zone, day.isoformat()) is None


@pytest.mark.parametrize(
    ("raw", "zone"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("America/New York", "America/New_York"),
        ("Shanghai", "Asia/Shanghai"),
        ("UTC", "UTC"),
        # Tried as a user: "Beijing" was offered Europe/Berlin, and "GMT+8" was set to
        # Etc/GMT+8, which is UTC-8 (POSIX signs): digests sixteen hours late.
        ("Beijing", "Asia/Shanghai"),
        ("shenzhen", "Asia/Shanghai"),
        ("China", "Asia/Shanghai"),
        ("GMT+8", "Etc/GMT-8"),
        ("UTC+8", "Etc/GMT-8"),
        ("utc + 08:00", "Etc/GMT-8"),
        ("+08:00", "Etc/GMT-8"),
        ("UTC\u22125", "Etc/GMT+5"),
        ("GMT-5", "Etc/GMT+5"),
        ("UTC+0", "Etc/GMT"),
        ("UTC+14", "Etc/GMT-14"),
        ("Etc/GMT+8", "Etc/GMT+8"),  # the zone's own name means what tzdata says
        ("India", "Asia/Kolkata"),
        ("Britain", "Europe/London"),
        # Second trial. "US" was America/St_Thomas: the "(US)" of "Virgin Islands (US)"
        # was taken for a country name. ISO codes and common names find the country.
        ("UK", "Europe/London"),
        ("United Kingdom", "Europe/London"),
        ("GB", "GB"),  # tzdata's own name for London's zone
        ("JP", "Asia/Tokyo"),
        ("South Korea", "Asia/Seoul"),
        ("US Virgin Islands", "America/St_Thomas"),
        ("Germany", "Europe/Berlin"),  # Busingen keeps Berlin's clocks: one zone
        ("Malaysia", "Asia/Kuala_Lumpur"),
        ("Côte d'Ivoire", "Africa/Abidjan"),
        ("Bosnia and Herzegovina", "Europe/Sarajevo"),
        # Abbreviations are the clocks people mean, summer time included (EST was
        # tzdata's fixed EST; PST was no zone at all).
        ("PST", "America/Los_Angeles"),
        ("pdt", "America/Los_Angeles"),
        ("PT", "America/Los_Angeles"),
        ("EST", "America/New_York"),
        ("ET", "America/New_York"),
        ("HKT", "Asia/Hong_Kong"),
        ("JST", "Asia/Tokyo"),
        ("KST", "Asia/Seoul"),
        ("SGT", "Asia/Singapore"),
        ("BST", "Europe/London"),
        ("CET", "Europe/Paris"),
        ("HST", "Pacific/Honolulu"),
        # Chinese names ("I don't know the time zone 北京").
        ("北京", "Asia/Shanghai"),
        ("上海", "Asia/Shanghai"),
        ("深圳", "Asia/Shanghai"),
        ("广州", "Asia/Shanghai"),
        ("杭州", "Asia/Shanghai"),
        ("成都", "Asia/Shanghai"),
        ("中国", "Asia/Shanghai"),
        ("北京时间", "Asia/Shanghai"),
        ("香港", "Asia/Hong_Kong"),
        ("台北", "Asia/Taipei"),
        ("澳门", "Asia/Macau"),
        ("Beijing time", "Asia/Shanghai"),
        ("Hong Kong time", "Asia/Hong_Kong"),
    ],
)
def test_find_timezone(raw: str, zone: str) -> None:
    found = find_timezone(raw, WINTER)
    assert found is not None
    assert found.key == zone


@pytest.mark.parametrize(
    "raw",
    [
        "Mars/Olympus",
        "",
        "../../etc/passwd",
        "Europe/Berln",
        "x" * 500,
        "UTC+15",
        "UTC+5:30",  # no whole-hour zone: suggested instead
        "UTC+8:75",
        "United States",  # several zones: suggested instead
        "US",
        "CST",  # China's or the US's
        "IST",
        "MST",  # Denver's or Arizona's
        "Asia",
        "localtime",  # the server's zone: no place
    ],
)
def test_unknown_time_zones_are_none(raw: str) -> None:
    assert find_timezone(raw, WINTER) is None


def test_close_suggestions_for_misspelt_zones() -> None:
    assert "Europe/Berlin" in timezone_suggestions("Europe/Berln", WINTER)
    assert "Asia/Shanghai" in timezone_suggestions("Asia/Shangai", WINTER)
    assert timezone_suggestions("", WINTER) == []
    assert timezone_suggestions("qqqqqqqqqq", WINTER) == []


def test_suggestions_for_a_country_with_several_zones_and_an_odd_offset() -> None:
    assert timezone_suggestions("United States", WINTER)[0] == "America/New_York"
    assert "Asia/Kolkata" in timezone_suggestions("UTC+5:30", WINTER)


US_ZONES = [
    *("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix"),
    *("America/Los_Angeles", "America/Anchorage", "America/Adak", "Pacific/Honolulu"),
]


@pytest.mark.parametrize("raw", ["US", "us", "USA", "U.S.", "United States", "America", "美国"])
def test_a_country_with_several_zones_gets_its_main_zones(raw: str) -> None:
    # Second trial: "United States" got New_York, Detroit, Kentucky/Louisville; "US" set
    # America/St_Thomas; "USA" suggested St_Thomas, Muscat, Lusaka.
    match = match_timezone(raw, WINTER)
    assert match.zone is None
    assert match.country
    assert list(match.several) == US_ZONES


def test_main_zones_are_one_a_clock_the_zone_people_name_islands_last() -> None:
    # Was Lord_Howe, Antarctica/Macquarie, Hobart: no Sydney.
    assert list(match_timezone("Australia", WINTER).several) == [
        *("Australia/Sydney", "Australia/Adelaide", "Australia/Brisbane", "Australia/Darwin"),
        *("Australia/Perth", "Australia/Eucla", "Australia/Lord_Howe"),
    ]
    assert list(match_timezone("Spain", WINTER).several) == ["Europe/Madrid", "Atlantic/Canary"]
    assert match_timezone("Brazil", WINTER).several[0] == "America/Sao_Paulo"
    assert match_timezone("China", WINTER).zone == SHANGHAI  # Xinjiang time is not official
    assert set(match_timezone("Korea", WINTER).several) == {"Asia/Seoul", "Asia/Pyongyang"}


@pytest.mark.parametrize(
    ("raw", "zones"),
    [
        ("CST", ["Asia/Shanghai", "America/Chicago"]),
        ("IST", ["Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem"]),
        ("MST", ["America/Denver", "America/Phoenix"]),
        ("AEST", ["Australia/Sydney", "Australia/Brisbane"]),
    ],
)
def test_an_ambiguous_abbreviation_names_its_zones(raw: str, zones: list[str]) -> None:
    match = match_timezone(raw, WINTER)
    assert (match.zone, list(match.several), match.country) == (None, zones, False)


@pytest.mark.parametrize("raw", ["Asia", "europe", "Africa", "North America", "Pacific"])
def test_a_continent_asks_for_a_city_or_country(raw: str) -> None:
    # Was a list of random zones ("Asia" -> Asia/Dili, ...).
    match = match_timezone(raw, WINTER)
    assert match.continent
    assert (match.zone, match.several, match.close) == (None, (), ())


def test_parenthesised_qualifiers_are_no_country_names() -> None:
    assert match_timezone("Dem. Rep.", WINTER).zone is None
    assert match_timezone("Western", WINTER).zone is None
    assert set(match_timezone("Virgin Islands", WINTER).several) == {
        "America/St_Thomas",
        "America/Tortola",
    }


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("Etc/GMT-8", "UTC+08:00"),
        ("Etc/GMT+5", "UTC-05:00"),
        ("Etc/GMT-14", "UTC+14:00"),
        ("Etc/GMT", "UTC"),
        ("UTC", "UTC"),
        ("Asia/Shanghai", "Asia/Shanghai"),
    ],
)
def test_zones_of_an_offset_are_shown_as_that_offset(name: str, label: str) -> None:
    # "/subscribe ev 7pm" in a UTC+8 chat said "daily at 19:00 (Etc/GMT-8)": read as UTC-8.
    assert zone_label(name) == label


def test_a_time_in_another_zone_on_the_chats_clock() -> None:
    assert convert_time("20:00", ZoneInfo("UTC"), SHANGHAI, WINTER) == "04:00"
    assert convert_time("06:00", SHANGHAI, ZoneInfo("UTC"), WINTER) == "22:00"
    assert convert_time("09:00", NEW_YORK, SHANGHAI, WINTER) == "22:00"  # EST
    assert convert_time("09:00", NEW_YORK, SHANGHAI, SUMMER) == "21:00"  # EDT
    assert same_clocks(SHANGHAI, ZoneInfo("Asia/Hong_Kong"), WINTER)
    assert same_clocks(SHANGHAI, ZoneInfo("Etc/GMT-8"), WINTER)
    assert not same_clocks(BERLIN, ZoneInfo("Etc/GMT-1"), WINTER)  # Berlin has summer time


def test_utc_offset_is_said_with_its_sign() -> None:
    winter = datetime(2026, 1, 15, 12, tzinfo=UTC)
    assert utc_offset(ZoneInfo("Asia/Shanghai"), winter) == "UTC+08:00"
    assert utc_offset(ZoneInfo("Etc/GMT+8"), winter) == "UTC-08:00"
    assert utc_offset(ZoneInfo("Asia/Kolkata"), winter) == "UTC+05:30"
    assert utc_offset(ZoneInfo("America/St_Johns"), winter) == "UTC-03:30"
