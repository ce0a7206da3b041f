"""The office calendar: working days, office hours and the handling deadline (DESIGN.md §4).

A working day is a weekday with office hours that is neither an Indonesian public holiday or
*cuti bersama* (the ``holidays`` package, maintained yearly upstream) nor a local day the admin
lists in the settings: Bali's *libur fakultatif* (Galungan, Kuningan, Nyepi ±1, Saraswati,
Pagerwesi, Siwaratri) are set by the Governor every year, so they cannot be computed here.
A calendar without local days is the "LAPOR clock" of reference/sp4n-lapor.md §3.4.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

DEFAULT_OFFICE_HOURS: Mapping[int, tuple[time, time]] = MappingProxyType(
    {
        0: (time(8), time(16)),
        1: (time(8), time(16)),
        2: (time(8), time(16)),
        3: (time(8), time(16)),
        4: (time(8), time(14)),
    }
)
DEFAULT_LOCAL_HOLIDAY_NAME = "Libur fakultatif"

_WEEKDAYS = {
    "mon": 0, "senin": 0,
    "tue": 1, "selasa": 1,
    "wed": 2, "rabu": 2,
    "thu": 3, "kamis": 3,
    "fri": 4, "jumat": 4, "jum'at": 4,
    "sat": 5, "sabtu": 5,
    "sun": 6, "minggu": 6,
}  # fmt: skip
_CLOSED = frozenset({"closed", "tutup", "libur"})
_HOURS = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*[-–]\s*(\d{1,2})[:.](\d{2})\s*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# No office closes for a whole year; a longer run means the settings close every day.
_MAX_CLOSED_DAYS = 366


@dataclass(frozen=True)
class OfficeCalendar:
    """Working days and office hours of one office; holiday look-ups are cached per date."""

    timezone: str = "Asia/Makassar"
    office_hours: Mapping[int, tuple[time, time]] = field(default_factory=DEFAULT_OFFICE_HOURS.copy)
    local_holidays: Mapping[date, str] = field(default_factory=dict)
    country: str = "ID"
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _holiday_args: dict[str, Any] = field(init=False, repr=False, compare=False)
    _national: dict[int, Mapping[date, str]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _names: dict[date, str | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _next_open: dict[date, date] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {self.timezone!r}; use e.g. 'Asia/Makassar'"
            ) from None
        _check_office_hours(self.office_hours)
        try:
            probe = holidays.country_holidays(self.country)
        except NotImplementedError:
            raise ValueError(
                f"the holidays package has no calendar for country {self.country!r}"
            ) from None
        object.__setattr__(self, "_zone", zone)
        # Read-only copies: the per-date caches would go stale if the caller's dicts changed.
        object.__setattr__(self, "office_hours", MappingProxyType(dict(self.office_hours)))
        object.__setattr__(self, "local_holidays", MappingProxyType(dict(self.local_holidays)))
        # The default language is pinned: otherwise holiday names follow the process's $LANG.
        categories = [c for c in ("public", "government") if c in probe.supported_categories]
        object.__setattr__(
            self, "_holiday_args", {"categories": categories, "language": probe.default_language}
        )

    def holiday_name(self, day: date) -> str | None:
        """The national and/or local holiday on ``day`` ("; "-joined if both), or None."""
        if isinstance(day, datetime):
            raise TypeError("holiday_name takes a date, not a datetime")
        try:
            return self._names[day]
        except KeyError:
            pass
        found = (self._national_holidays(day.year).get(day), self.local_holidays.get(day))
        name = "; ".join(n for n in found if n) or None
        self._names[day] = name
        return name

    def is_working_day(self, day: date) -> bool:
        """True when the office is open that day: it has office hours and is no holiday."""
        return day.weekday() in self.office_hours and self.holiday_name(day) is None

    def due_at(self, received_at: datetime, working_days: int = 1) -> datetime:
        """The deadline for an item received at ``received_at`` (aware); returned in UTC.

        The clock starts at ``received_at`` if that falls within office hours of a working day,
        otherwise at the next office opening. The deadline is the same clock time
        ``working_days`` working days later, clamped into that day's office hours: received
        Thursday 15:30 with Friday closing at 14:00 is due Friday 14:00. All of this is in the
        office's timezone (WITA by default). ``working_days=0`` gives the clock's start.
        """
        if received_at.tzinfo is None or received_at.utcoffset() is None:
            raise ValueError("received_at must be timezone-aware")
        if working_days < 0:
            raise ValueError(f"working_days must be 0 or more, not {working_days}")
        start = self._clock_start(received_at.astimezone(self._zone))
        day = start.date()
        for _ in range(working_days):
            day = self._first_working_day(day + timedelta(days=1))
        opens, closes = self.office_hours[day.weekday()]
        clock = min(max(start.time(), opens), closes)
        return datetime.combine(day, clock, tzinfo=self._zone).astimezone(UTC)

    def _clock_start(self, local: datetime) -> datetime:
        day = local.date()
        if self.is_working_day(day):
            opens, closes = self.office_hours[day.weekday()]
            if local.time() < opens:
                return datetime.combine(day, opens, tzinfo=self._zone)
            if local.time() < closes:
                return local
        day = self._first_working_day(day + timedelta(days=1))
        return datetime.combine(day, self.office_hours[day.weekday()][0], tzinfo=self._zone)

    def _first_working_day(self, day: date) -> date:
        """``day`` itself if it is a working day, else the next one."""
        try:
            return self._next_open[day]
        except KeyError:
            pass
        for offset in range(_MAX_CLOSED_DAYS):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                self._next_open[day] = candidate
                return candidate
        raise ValueError(
            f"no working day within {_MAX_CLOSED_DAYS} days after {day.isoformat()}: "
            "check office_hours and local_holidays in the settings"
        )

    def _national_holidays(self, year: int) -> Mapping[date, str]:
        try:
            return self._national[year]
        except KeyError:
            pass
        table = holidays.country_holidays(self.country, years=year, **self._holiday_args)
        self._national[year] = table
        return table


def is_overdue(due: datetime, now: datetime) -> bool:
    """True once ``now`` is past ``due``; a case handled exactly at its deadline is on time."""
    if due.tzinfo is None or now.tzinfo is None:
        raise ValueError("due and now must be timezone-aware")
    return now > due


def parse_office_hours(spec: Mapping[str, str]) -> dict[int, tuple[time, time]]:
    """Office hours from the settings, e.g. ``{ fri = "08:00-14:00", sat = "closed" }``.

    Days are ``mon``..``sun`` or ``senin``..``minggu``; a day not named keeps the default
    (Mon-Thu 08:00-16:00, Fri 08:00-14:00, weekend closed); ``"closed"`` or ``"tutup"`` closes
    it. Times are ``HH:MM`` or ``HH.MM``. Raises ValueError naming every problem found.
    """
    hours = dict(DEFAULT_OFFICE_HOURS)
    problems: list[str] = []
    seen: dict[int, str] = {}
    for key, value in spec.items():
        weekday = _WEEKDAYS.get(str(key).strip().lower())
        if weekday is None:
            problems.append(f"office_hours: unknown day {key!r}; use mon..sun or senin..minggu")
            continue
        if weekday in seen:
            problems.append(f"office_hours: {key!r} and {seen[weekday]!r} name the same day")
            continue
        seen[weekday] = key
        if isinstance(value, str) and value.strip().lower() in _CLOSED:
            hours.pop(weekday, None)
            continue
        parsed = _parse_hours(value)
        if isinstance(parsed, str):
            problems.append(f"office_hours: {key} = {value!r}: {parsed}")
        else:
            hours[weekday] = parsed
    if not problems and not hours:
        problems.append("office_hours: every day is closed; at least one day needs hours")
    if problems:
        raise ValueError("\n".join(problems))
    return dict(sorted(hours.items()))


def parse_local_holidays(items: list[Any]) -> dict[date, str]:
    """Local days off from the settings: ``"2026-06-17"`` or ``{ date = "...", name = "..." }``.

    A bare date is named "Libur fakultatif". TOML dates written without quotes work too.
    Raises ValueError naming every problem found.
    """
    if not isinstance(items, list):
        raise ValueError("local_holidays must be a list of dates or { date, name } tables")
    result: dict[date, str] = {}
    problems: list[str] = []
    for number, item in enumerate(items, start=1):
        where = f"local_holidays item {number}"
        if isinstance(item, Mapping):
            unknown = sorted(set(item) - {"date", "name"})
            if unknown:
                problems.append(f"{where}: unknown key(s) {', '.join(unknown)}; use date and name")
                continue
            if "date" not in item:
                problems.append(f"{where}: has no date")
                continue
            raw_day, name = item["date"], item.get("name", DEFAULT_LOCAL_HOLIDAY_NAME)
            if not isinstance(name, str) or not name.strip():
                problems.append(f"{where}: name must be a non-empty text")
                continue
        else:
            raw_day, name = item, DEFAULT_LOCAL_HOLIDAY_NAME
        day = _parse_date(raw_day)
        if day is None:
            problems.append(f"{where}: {raw_day!r} is not a date; write it as YYYY-MM-DD")
        elif day in result:
            problems.append(f"{where}: {day.isoformat()} is listed twice")
        else:
            result[day] = name.strip()
    if problems:
        raise ValueError("\n".join(problems))
    return result


def _parse_hours(value: object) -> tuple[time, time] | str:
    """(open, close), or a sentence saying what is wrong with ``value``."""
    match = _HOURS.match(value) if isinstance(value, str) else None
    if match is None:
        return 'write it as "HH:MM-HH:MM" or "closed"'
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        opens, closes = time(h1, m1), time(h2, m2)
    except ValueError:
        return "not a time of day"
    if opens >= closes:
        return "the office must open before it closes"
    return opens, closes


def _parse_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _check_office_hours(hours: Mapping[int, tuple[time, time]]) -> None:
    if not hours:
        raise ValueError("office_hours is empty: at least one day needs hours")
    for weekday, (opens, closes) in hours.items():
        if weekday not in range(7):
            raise ValueError(f"office_hours key {weekday!r} is not a weekday number 0 (Mon)..6")
        if opens >= closes:
            raise ValueError(f"office_hours for weekday {weekday}: opens at or after closing")
