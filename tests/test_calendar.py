"""Working days and the handling deadline (DESIGN.md §4). Times are WITA unless said."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from pengaduan.cases.calendar import (
    DEFAULT_OFFICE_HOURS,
    OfficeCalendar,
    is_overdue,
    parse_local_holidays,
    parse_office_hours,
)

WITA = ZoneInfo("Asia/Makassar")
GALUNGAN_2026 = {
    date(2026, 6, 17): "Hari Raya Galungan",
    date(2026, 6, 18): "Umanis Galungan",
    date(2026, 6, 26): "Penampahan Kuningan",
}


def wita(*args: int) -> datetime:
    return datetime(*args, tzinfo=WITA)


def _nyepi(year: int) -> date:
    table = holidays.country_holidays("ID", years=year, language="id")
    return next(day for day, name in table.items() if name == "Hari Suci Nyepi")


NATIONAL = OfficeCalendar()
BALI = OfficeCalendar(local_holidays=GALUNGAN_2026)


@pytest.mark.parametrize(
    ("calendar", "received", "expected"),
    [
        # Mon 6 Jul 2026 is an ordinary week.
        (NATIONAL, wita(2026, 7, 6, 10, 0), wita(2026, 7, 7, 10, 0)),
        (NATIONAL, wita(2026, 7, 6, 7, 0), wita(2026, 7, 7, 8, 0)),  # before opening
        (NATIONAL, wita(2026, 7, 6, 15, 59), wita(2026, 7, 7, 15, 59)),
        (NATIONAL, wita(2026, 7, 6, 16, 0), wita(2026, 7, 8, 8, 0)),  # at closing
        (NATIONAL, wita(2026, 7, 9, 15, 30), wita(2026, 7, 10, 14, 0)),  # Fri closes at 14:00
        (NATIONAL, wita(2026, 7, 10, 13, 59), wita(2026, 7, 13, 13, 59)),
        (NATIONAL, wita(2026, 7, 10, 20, 0), wita(2026, 7, 14, 8, 0)),  # Fri night
        (NATIONAL, wita(2026, 7, 11, 9, 0), wita(2026, 7, 14, 8, 0)),  # Saturday
        (NATIONAL, wita(2026, 7, 12, 23, 59), wita(2026, 7, 14, 8, 0)),  # Sunday
        # Tue 17 Mar: Wed 18 cuti bersama Nyepi, Thu 19 Nyepi, Fri 20 cuti bersama Idul Fitri,
        # weekend (Idul Fitri), Mon 23 and Tue 24 cuti bersama Idul Fitri.
        (NATIONAL, wita(2026, 3, 17, 10, 0), wita(2026, 3, 25, 10, 0)),
        # Thu 14 May Ascension, Fri 15 May its cuti bersama.
        (NATIONAL, wita(2026, 5, 13, 10, 0), wita(2026, 5, 18, 10, 0)),
        # Thu 31 Dec: Fri 1 Jan 2027 is New Year, across the year boundary.
        (NATIONAL, wita(2026, 12, 31, 10, 0), wita(2027, 1, 4, 10, 0)),
        # Mon 15 Jun: Tue 16 Islamic New Year (national), Wed 17 / Thu 18 Galungan (local).
        (NATIONAL, wita(2026, 6, 15, 10, 0), wita(2026, 6, 17, 10, 0)),
        (BALI, wita(2026, 6, 15, 10, 0), wita(2026, 6, 19, 10, 0)),
        (BALI, wita(2026, 6, 17, 9, 0), wita(2026, 6, 22, 8, 0)),  # received on Galungan
        # Thu 25 Jun: Fri 26 Penampahan Kuningan (local).
        (NATIONAL, wita(2026, 6, 25, 10, 0), wita(2026, 6, 26, 10, 0)),
        (BALI, wita(2026, 6, 25, 10, 0), wita(2026, 6, 29, 10, 0)),
    ],
)
def test_due_at(calendar: OfficeCalendar, received: datetime, expected: datetime) -> None:
    due = calendar.due_at(received)
    assert due == expected
    assert due.tzinfo is UTC


def test_due_at_skips_nyepi_taken_from_the_holidays_package() -> None:
    nyepi = _nyepi(2026)
    assert not NATIONAL.is_working_day(nyepi)
    assert NATIONAL.holiday_name(nyepi) == "Hari Suci Nyepi"
    received = datetime.combine(nyepi - timedelta(days=2), time(10), tzinfo=WITA)
    due = NATIONAL.due_at(received).astimezone(WITA)
    assert due.date() > nyepi
    assert due.time() == time(10)


@pytest.mark.parametrize(
    ("received", "expected_utc"),
    [
        (datetime(2026, 7, 6, 2, 0, tzinfo=UTC), datetime(2026, 7, 7, 2, 0, tzinfo=UTC)),
        # 09:00 WIB is 10:00 WITA
        (datetime(2026, 7, 6, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta")),
         datetime(2026, 7, 7, 2, 0, tzinfo=UTC)),
        # 23:30 UTC on Sunday is 07:30 WITA on Monday: before opening
        (datetime(2026, 7, 5, 23, 30, tzinfo=UTC), datetime(2026, 7, 7, 0, 0, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_due_at_works_in_office_time_whatever_the_input_zone(
    received: datetime, expected_utc: datetime
) -> None:
    assert NATIONAL.due_at(received) == expected_utc


@pytest.mark.parametrize(
    ("working_days", "expected"),
    [(0, wita(2026, 7, 6, 10, 0)), (1, wita(2026, 7, 7, 10, 0)), (3, wita(2026, 7, 9, 10, 0)),
     (5, wita(2026, 7, 13, 10, 0))],
)  # fmt: skip
def test_due_at_counts_working_days(working_days: int, expected: datetime) -> None:
    assert NATIONAL.due_at(wita(2026, 7, 6, 10, 0), working_days) == expected


def test_due_at_clamps_into_a_later_opening() -> None:
    hours = {0: (time(8), time(16)), 1: (time(10), time(16))}
    calendar = OfficeCalendar(office_hours=hours)
    assert calendar.due_at(wita(2026, 7, 6, 9, 0)) == wita(2026, 7, 7, 10, 0)
    # closed Wed..Sun in this office: Tuesday's case is due the next Monday
    assert calendar.due_at(wita(2026, 7, 7, 11, 0)) == wita(2026, 7, 13, 11, 0)


def test_due_at_with_saturday_service() -> None:
    hours = {**DEFAULT_OFFICE_HOURS, 5: (time(8), time(12))}
    calendar = OfficeCalendar(office_hours=hours)
    assert calendar.due_at(wita(2026, 7, 10, 20, 0)) == wita(2026, 7, 13, 8, 0)
    assert calendar.due_at(wita(2026, 7, 10, 13, 0)) == wita(2026, 7, 11, 12, 0)


@pytest.mark.parametrize(
    ("received", "working_days"),
    [(datetime(2026, 7, 6, 10, 0), 1), (wita(2026, 7, 6, 10, 0), -1)],
)
def test_due_at_rejects_bad_input(received: datetime, working_days: int) -> None:
    with pytest.raises(ValueError):
        NATIONAL.due_at(received, working_days)


@pytest.mark.parametrize(
    ("day", "working", "name"),
    [
        (date(2026, 7, 6), True, None),
        (date(2026, 7, 11), False, None),  # Saturday
        (date(2026, 3, 19), False, "Hari Suci Nyepi"),
        (date(2026, 3, 18), False, "Cuti Bersama Hari Suci Nyepi"),
        (date(2026, 8, 17), False, "Hari Kemerdekaan Republik Indonesia"),
        (date(2026, 6, 18), True, None),  # a local day, but not on this calendar
    ],
)
def test_national_calendar(day: date, working: bool, name: str | None) -> None:
    assert NATIONAL.is_working_day(day) is working
    assert NATIONAL.holiday_name(day) == name


def test_local_and_national_names_are_joined() -> None:
    calendar = OfficeCalendar(local_holidays={date(2026, 3, 18): "Tawur Kesanga"})
    assert calendar.holiday_name(date(2026, 3, 18)) == "Cuti Bersama Hari Suci Nyepi; Tawur Kesanga"
    assert BALI.holiday_name(date(2026, 6, 18)) == "Umanis Galungan"
    assert not BALI.is_working_day(date(2026, 6, 18))


def test_holiday_name_takes_a_date() -> None:
    with pytest.raises(TypeError):
        NATIONAL.holiday_name(wita(2026, 3, 19, 10, 0))


@pytest.mark.parametrize(
    "changes",
    [
        {"timezone": "Mars/Olympus_Mons"},
        {"office_hours": {}},
        {"office_hours": {7: (time(8), time(16))}},
        {"office_hours": {0: (time(16), time(8))}},
        {"country": "XX"},
    ],
)
def test_calendar_rejects_bad_settings(changes: dict) -> None:
    with pytest.raises(ValueError):
        OfficeCalendar(**changes)


def test_a_calendar_that_never_opens_says_so() -> None:
    closed = {date(2026, 1, 1) + timedelta(days=n): "tutup" for n in range(800)}
    calendar = OfficeCalendar(local_holidays=closed)
    with pytest.raises(ValueError, match="no working day"):
        calendar.due_at(wita(2026, 7, 6, 10, 0))


def test_due_at_is_fast_enough_for_every_new_case() -> None:
    calendar = OfficeCalendar(local_holidays=GALUNGAN_2026)
    start = wita(2026, 1, 1, 0, 0)
    received = [start + timedelta(minutes=7 * n) for n in range(100_000)]
    began = clock.perf_counter()
    for moment in received:
        calendar.due_at(moment)
    assert clock.perf_counter() - began < 5.0


@pytest.mark.parametrize(
    ("now", "overdue"),
    [
        (wita(2026, 7, 7, 9, 59), False),
        (wita(2026, 7, 7, 10, 0), False),  # handled at the deadline is on time
        (wita(2026, 7, 7, 10, 1), True),
        (datetime(2026, 7, 7, 2, 0, 1, tzinfo=UTC), True),
    ],
)
def test_is_overdue(now: datetime, overdue: bool) -> None:
    assert is_overdue(wita(2026, 7, 7, 10, 0), now) is overdue


def test_is_overdue_rejects_naive_times() -> None:
    with pytest.raises(ValueError):
        is_overdue(datetime(2026, 7, 7, 10, 0), wita(2026, 7, 7, 10, 0))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, dict(DEFAULT_OFFICE_HOURS)),
        ({"mon": "08:00-16:00", "fri": "08:00-14:00"}, dict(DEFAULT_OFFICE_HOURS)),
        (
            {"Jumat": "07.30-11.30", "sabtu": "08:00 - 12:00"},
            {**DEFAULT_OFFICE_HOURS, 4: (time(7, 30), time(11, 30)), 5: (time(8), time(12))},
        ),
        (
            {"fri": "closed", "thu": "tutup"},
            {0: (time(8), time(16)), 1: (time(8), time(16)), 2: (time(8), time(16))},
        ),
    ],
)
def test_parse_office_hours(spec: dict[str, str], expected: dict) -> None:
    assert parse_office_hours(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"mo": "08:00-16:00"}, "unknown day 'mo'; use mon..sun or senin..minggu"),
        ({"fri": "14:00-08:00"}, "fri = '14:00-08:00': the office must open before it closes"),
        ({"fri": "8-14"}, """fri = '8-14': write it as "HH:MM-HH:MM" or "closed\""""),
        ({"fri": 8}, """fri = 8: write it as "HH:MM-HH:MM" or "closed\""""),
        ({"fri": "25:00-26:00"}, "fri = '25:00-26:00': not a time of day"),
        ({"mon": "08:00-16:00", "senin": "08:00-15:00"}, "'senin' and 'mon' name the same day"),
        (
            {day: "closed" for day in ("mon", "tue", "wed", "thu", "fri")},
            "every day is closed",
        ),
    ],
)
def test_parse_office_hours_says_what_is_wrong(spec: dict, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_office_hours(spec)
    assert message in str(raised.value)


def test_parse_office_hours_reports_every_problem_at_once() -> None:
    with pytest.raises(ValueError) as raised:
        parse_office_hours({"mo": "08:00-16:00", "fri": "14:00-08:00"})
    assert str(raised.value).splitlines() == [
        "office_hours: unknown day 'mo'; use mon..sun or senin..minggu",
        "office_hours: fri = '14:00-08:00': the office must open before it closes",
    ]


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([], {}),
        (["2026-06-17"], {date(2026, 6, 17): "Libur fakultatif"}),
        ([{"date": "2026-06-17", "name": "Galungan"}], {date(2026, 6, 17): "Galungan"}),
        ([{"date": date(2026, 6, 17), "name": " Galungan "}], {date(2026, 6, 17): "Galungan"}),
        ([{"date": "2026-06-18"}], {date(2026, 6, 18): "Libur fakultatif"}),
        (
            ["2026-06-16", {"date": "2026-06-17", "name": "Galungan"}],
            {date(2026, 6, 16): "Libur fakultatif", date(2026, 6, 17): "Galungan"},
        ),
    ],
)
def test_parse_local_holidays(items: list, expected: dict) -> None:
    assert parse_local_holidays(items) == expected


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ("2026-06-17", "local_holidays must be a list"),
        (["2026-13-01"], "item 1: '2026-13-01' is not a date; write it as YYYY-MM-DD"),
        (["17-06-2026"], "item 1: '17-06-2026' is not a date"),
        ([20260617], "item 1: 20260617 is not a date"),
        ([datetime(2026, 6, 17, 8, 0)], "item 1: datetime.datetime(2026, 6, 17, 8, 0) is not"),
        ([{"name": "Galungan"}], "item 1: has no date"),
        ([{"date": "2026-06-17", "nama": "Galungan"}], "item 1: unknown key(s) nama"),
        ([{"date": "2026-06-17", "name": ""}], "item 1: name must be a non-empty text"),
        (["2026-06-17", "2026-06-17"], "item 2: 2026-06-17 is listed twice"),
    ],
)
def test_parse_local_holidays_says_what_is_wrong(items: object, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_local_holidays(items)  # type: ignore[arg-type]
    assert message in str(raised.value)


def test_calendar_keeps_its_own_copy_of_the_settings() -> None:
    local = {date(2026, 7, 7): "Odalan"}
    calendar = OfficeCalendar(local_holidays=local)
    assert not calendar.is_working_day(date(2026, 7, 7))
    local.clear()
    assert not calendar.is_working_day(date(2026, 7, 7))
    assert calendar.due_at(wita(2026, 7, 6, 10, 0)) == wita(2026, 7, 8, 10, 0)
