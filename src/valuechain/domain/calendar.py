"""Business calendars: when a provider works, so service clocks count only that time.

A calendar has an IANA time zone, working hours per weekday with split shifts
(``mon-fri 09:00-12:00 13:00-17:00; sat 10:00-14:00``) and holidays, given as a
country code (``NL``; resolved with the ``holidays`` package) and/or ISO dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, time
from itertools import pairwise
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    import holidays as holiday_tables

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_HOURS = "mon-fri 09:00-17:00"
DEFAULT_TIMEZONE = "UTC"

_SPAN = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


class CalendarError(ValueError):
    """A calendar that cannot be read; the message says what was expected."""


Shift = tuple[time, time]


@dataclass(frozen=True)
class Calendar:
    """Working hours per weekday (Monday = 0) in ``timezone``, and non-working days."""

    name: str
    timezone: str
    hours: tuple[tuple[Shift, ...], ...]  # seven entries, Monday first
    holidays: frozenset[date] = field(default_factory=frozenset)
    countries: tuple[str, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_holiday(self, day: date) -> bool:
        """True on an explicit holiday or a public holiday of one of the countries."""
        if day in self.holidays:
            return True
        return any(day in _country_table(code, day.year) for code in self.countries)


def _country_table(code: str, year: int) -> holiday_tables.HolidayBase:
    import holidays as holiday_tables  # here: a slow import, only country codes need it

    return holiday_tables.country_holidays(code, years=year)


def _day_range(text: str) -> list[int]:
    parts = text.split("-")
    if len(parts) == 1 and parts[0] in DAYS:
        return [DAYS.index(parts[0])]
    if len(parts) == 2 and parts[0] in DAYS and parts[1] in DAYS:
        first, last = DAYS.index(parts[0]), DAYS.index(parts[1])
        if first <= last:
            return list(range(first, last + 1))
    raise CalendarError(f"expected a day or day range such as mon-fri; found {text!r}")


def _shift(text: str) -> Shift:
    found = _SPAN.match(text)
    if found is None:
        raise CalendarError(f"expected working hours such as 09:00-17:00; found {text!r}")
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2 != 0):
        raise CalendarError(f"expected times between 00:00 and 24:00; found {text!r}")
    start = time(h1, m1)
    end = time.max if h2 == 24 else time(h2, m2)
    if end <= start:
        raise CalendarError(f"expected a shift that ends after it starts; found {text!r}")
    return start, end


def parse_hours(spec: str) -> tuple[tuple[Shift, ...], ...]:
    """Parse ``mon-fri 09:00-12:00 13:00-17:00; sat 10:00-14:00`` into seven tuples
    of shifts; shifts of one day must not overlap."""
    days: list[list[Shift]] = [[] for _ in DAYS]
    if not spec.strip():
        raise CalendarError("expected working hours such as mon-fri 09:00-17:00; found nothing")
    for clause in spec.lower().split(";"):
        words = clause.split()
        if not words:
            continue
        if len(words) < 2:
            raise CalendarError(f"expected days followed by hours; found {clause.strip()!r}")
        shifts = [_shift(w) for w in words[1:]]
        for day in _day_range(words[0]):
            days[day].extend(shifts)
    result = []
    for day, shifts in enumerate(days):
        ordered = sorted(shifts)
        for (_, end), (start, _) in pairwise(ordered):
            if start < end:
                raise CalendarError(f"expected shifts that do not overlap on {DAYS[day]}")
        result.append(tuple(ordered))
    return tuple(result)


def parse_holidays(spec: str) -> tuple[frozenset[date], tuple[str, ...]]:
    """Split ``NL 2026-12-24 2026-12-31`` into explicit dates and country codes."""
    dates: set[date] = set()
    countries: list[str] = []
    for word in spec.split():
        if re.fullmatch(r"[A-Za-z]{2}", word):
            import holidays as holiday_tables  # here: a slow import, only country codes need it

            code = word.upper()
            if code not in holiday_tables.list_supported_countries():
                raise CalendarError(f"expected a supported country code; found {word!r}")
            countries.append(code)
            continue
        try:
            dates.add(date.fromisoformat(word))
        except ValueError:
            raise CalendarError(
                f"expected a country code such as NL or an ISO date; found {word!r}"
            ) from None
    return frozenset(dates), tuple(countries)


def calendar(
    name: str, timezone: str = DEFAULT_TIMEZONE, hours: str = DEFAULT_HOURS, holidays: str = ""
) -> Calendar:
    """A calendar from the four columns of ``calendars.csv``."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(
            f"expected an IANA time zone such as Europe/Amsterdam; found {timezone!r}"
        ) from None
    dates, countries = parse_holidays(holidays)
    return Calendar(name, timezone, parse_hours(hours), dates, countries)


DEFAULT = calendar("default")
"""An agreement without a calendar: Monday to Friday, 09:00-17:00 UTC."""
