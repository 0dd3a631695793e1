"""Business calendars and clocks: parsing with clear errors, and the clock's laws
checked by hypothesis against a minute-by-minute count in local time."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valuechain.analytics.clock import business_clock, business_seconds, deadline, elapsed
from valuechain.domain.calendar import DEFAULT, CalendarError, calendar

ZONES = ["UTC", "Europe/Amsterdam", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]
HOURS = [
    "mon-fri 09:00-17:00",
    "mon-fri 09:00-12:00 13:00-17:00; sat 10:00-14:00",
    "mon-sun 00:00-24:00",
    "tue 01:30-03:30; sun 02:00-04:00 22:00-24:00",
]
START = datetime(2026, 1, 1).timestamp()
YEAR = 366 * 86_400


def test_parse_split_shifts_and_holidays() -> None:
    cal = calendar("nl", "Europe/Amsterdam", HOURS[1], "NL 2026-12-24")
    assert len(cal.hours[0]) == 2 and len(cal.hours[5]) == 1 and cal.hours[6] == ()
    assert cal.is_holiday(date(2026, 12, 24)) and cal.is_holiday(date(2026, 12, 25))
    assert not cal.is_holiday(date(2026, 12, 23))


@pytest.mark.parametrize(
    ("timezone", "hours", "holidays", "message"),
    [
        ("Mars/Olympus", "mon-fri 09:00-17:00", "", "IANA time zone"),
        ("UTC", "mon-fri 9-5", "", "09:00-17:00"),
        ("UTC", "fri-mon 09:00-17:00", "", "day range"),
        ("UTC", "mon 09:00-12:00 11:00-13:00", "", "do not overlap"),
        ("UTC", "mon 17:00-09:00", "", "ends after it starts"),
        ("UTC", "mon-fri 09:00-17:00", "XX", "supported country code"),
        ("UTC", "mon-fri 09:00-17:00", "2026-13-01", "ISO date"),
    ],
)
def test_bad_calendars_say_what_was_expected(
    timezone: str, hours: str, holidays: str, message: str
) -> None:
    with pytest.raises(CalendarError, match=message):
        calendar("bad", timezone, hours, holidays)


def _minutes(cal, a: float, b: float) -> int:  # type: ignore[no-untyped-def]
    """Reference: count the working minutes in [a, b) one minute at a time."""
    zone = ZoneInfo(cal.timezone)
    count = 0
    t = a
    while t < b:
        local = datetime.fromtimestamp(t, zone)
        day = local.date()
        if not cal.is_holiday(day):
            moment = local.time().replace(tzinfo=None)
            count += any(s <= moment < e for s, e in cal.hours[day.weekday()])
        t += 60
    return count


@settings(max_examples=40, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    hours=st.sampled_from(HOURS),
    offset=st.integers(0, YEAR // 60 - 5 * 1440),
    span=st.integers(0, 3 * 1440),
)
def test_clock_agrees_with_counting_minutes(zone: str, hours: str, offset: int, span: int) -> None:
    cal = calendar("c", zone, hours, "2026-05-05")
    clock = business_clock(cal, date(2025, 12, 30), date(2027, 1, 2))
    a = START + offset * 60
    b = a + span * 60
    assert elapsed(clock, a, b) == pytest.approx(_minutes(cal, a, b) * 60)


@settings(max_examples=100, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    hours=st.sampled_from(HOURS),
    points=st.lists(st.floats(START, START + YEAR), min_size=3, max_size=3),
)
def test_clock_is_monotonic_and_additive(zone: str, hours: str, points: list[float]) -> None:
    clock = business_clock(calendar("c", zone, hours, "NL"), date(2025, 12, 30), date(2027, 1, 2))
    a, b, c = sorted(points)
    values = business_seconds(clock, [a, b, c])
    assert values[0] <= values[1] <= values[2]
    assert elapsed(clock, a, c) == pytest.approx(elapsed(clock, a, b) + elapsed(clock, b, c))


@settings(max_examples=100, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    hours=st.sampled_from(HOURS),
    start=st.floats(START, START + YEAR / 2),
    hours_needed=st.floats(0, 400),
)
def test_deadline_is_the_inverse_of_elapsed(
    zone: str, hours: str, start: float, hours_needed: float
) -> None:
    clock = business_clock(calendar("c", zone, hours), date(2025, 12, 30), date(2027, 1, 2))
    due = float(deadline(clock, start, hours_needed * 3600))
    if np.isnan(due):  # beyond the clock's range: only when the hours truly do not fit
        assert float(business_seconds(clock, start)[()]) + hours_needed * 3600 > clock.total
        return
    assert due >= start
    assert float(elapsed(clock, start, due)) == pytest.approx(hours_needed * 3600, abs=1e-3)
    # Nothing earlier would do: a second before the deadline the hours are not yet spent.
    if hours_needed > 0:
        assert float(elapsed(clock, start, due - 1)) < hours_needed * 3600


def test_daylight_saving_days_keep_their_working_hours() -> None:
    cal = calendar("ams", "Europe/Amsterdam", "mon-sun 00:00-24:00")
    clock = business_clock(cal, date(2026, 3, 1), date(2026, 11, 1))
    zone = ZoneInfo("Europe/Amsterdam")
    for day in (date(2026, 3, 29), date(2026, 10, 25)):  # the two change-over Sundays
        midnight = datetime.combine(day, datetime.min.time(), zone).timestamp()
        next_midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone)
        # The day itself is 23 or 25 hours long, and all of it is working time.
        length = next_midnight.timestamp() - midnight
        assert length in (23 * 3600, 25 * 3600)
        assert float(elapsed(clock, midnight, next_midnight.timestamp())) == length


def test_default_calendar_and_vectorised_queries() -> None:
    clock = business_clock(DEFAULT, date(2026, 11, 1), date(2026, 11, 30))
    monday_9 = datetime(2026, 11, 23, 9, tzinfo=ZoneInfo("UTC")).timestamp()
    starts = np.array([monday_9, monday_9 + 3600 * 10, np.nan])
    got = elapsed(clock, starts, starts + 86_400)
    assert got[0] == 8 * 3600  # Monday 09:00 to Tuesday 09:00
    assert got[1] == 8 * 3600 - 0  # Monday 19:00 to Tuesday 19:00: all of Tuesday
    assert np.isnan(got[2])
    friday_16 = datetime(2026, 11, 27, 16, tzinfo=ZoneInfo("UTC")).timestamp()
    due = deadline(clock, friday_16, 2 * 3600)
    assert datetime.fromtimestamp(float(due), ZoneInfo("UTC")) == datetime(
        2026, 11, 30, 10, tzinfo=ZoneInfo("UTC")
    )


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 3, 29), 3.0), (date(2026, 10, 25), 4.0)],  # forward, back (Sundays)
)
def test_a_night_shift_on_a_daylight_saving_night_counts_its_wall_clock_hours(
    day: date, hours: float
) -> None:
    """02:30-06:00: the night the clocks go forward, 02:30 does not exist and work
    starts at 03:00 (3.0 h, not from 03:30); the night they go back, the repeated
    02:00-02:30 shows a time before the shift (4.0 h, not 4.5)."""
    zone = "Europe/Berlin"
    cal = calendar("night", zone, "sun 02:30-06:00; tue 02:30-06:00")
    clock = business_clock(cal, day - timedelta(days=2), day + timedelta(days=2))
    a = datetime.combine(day, datetime.min.time(), ZoneInfo(zone)).timestamp()
    b = a + 86_400
    assert float(elapsed(clock, a, b)) == hours * 3600
    assert float(elapsed(clock, a, b)) == _minutes(cal, a, b) * 60
    # The Tuesday after is an ordinary 3.5 hours.
    assert float(elapsed(clock, a + 2 * 86_400, b + 2 * 86_400)) == 3.5 * 3600


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Sydney"])
def test_daylight_saving_weeks_agree_with_counting_minutes(zone: str) -> None:
    cal = calendar("c", zone, HOURS[3])
    clock = business_clock(cal, date(2026, 1, 1), date(2026, 12, 31))
    for day in (date(2026, 3, 8), date(2026, 3, 29), date(2026, 4, 5), date(2026, 10, 4),
                date(2026, 10, 25), date(2026, 11, 1)):  # fmt: skip
        a = datetime.combine(day - timedelta(days=1), datetime.min.time(), ZoneInfo(zone))
        start = a.timestamp()
        assert float(elapsed(clock, start, start + 3 * 86_400)) == pytest.approx(
            _minutes(cal, start, start + 3 * 86_400) * 60
        )
