"""Business-time clocks: how much working time lies between two instants, and when a
number of working hours after an instant runs out.

A calendar's working intervals over a date range are laid out once as sorted UTC
epoch seconds with a running total; every query is then one ``np.searchsorted`` over
arrays of instants, so a year of requests is timed in a vectorised pass. Local wall
times are converted per day with :mod:`zoneinfo`. The clock counts **elapsed real
time during which the calendar's wall clock shows a working time**: a 09:00-17:00 day
is eight hours on either side of a daylight-saving change; a 02:30-06:00 shift is 3.0
hours the night the clocks go forward (02:30 does not exist; work starts at 03:00)
and 4.0 hours the night they go back (the repeated 02:00-02:30 shows a time before
the shift). See docs/agree.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import numpy.typing as npt

from valuechain.domain.calendar import Calendar

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BusinessClock:
    """Working intervals ``[starts[i], ends[i])`` in UTC epoch seconds, sorted and
    disjoint, with ``before[i]`` the working seconds before ``starts[i]``."""

    starts: FloatArray
    ends: FloatArray
    before: FloatArray
    first_day: date
    last_day: date

    @property
    def total(self) -> float:
        """Working seconds in the whole range."""
        return float(self.before[-1] + self.ends[-1] - self.starts[-1]) if self.starts.size else 0.0


def _seconds(day: date, moment: time) -> float:
    """``moment`` on ``day`` as if the wall clock were UTC (24:00 is the next midnight)."""
    if moment == time.max:  # a shift "until 24:00" ends at the next midnight
        return datetime.combine(day + timedelta(days=1), time(0), UTC).timestamp()
    return datetime.combine(day, moment, UTC).timestamp()


def _offset(calendar: Calendar, instant: float) -> float:
    """The calendar's UTC offset in seconds at ``instant`` (epoch seconds)."""
    offset = datetime.fromtimestamp(instant, calendar.zone).utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


def _pieces(day: date, start: time, end: time, calendar: Calendar) -> list[tuple[float, float]]:
    """The real instants (epoch seconds) at which the calendar's wall clock shows a
    time in ``[start, end)`` of ``day``: one interval, or two on the night the clocks
    go back (the repeated wall time before ``start`` is not working time), and on the
    night they go forward the first instant at or after ``start`` (02:30, which does
    not exist, starts at 03:00)."""
    a, b = _seconds(day, start), _seconds(day, end)
    lo, hi = a - 86_400.0, b + 86_400.0
    before, after = _offset(calendar, lo), _offset(calendar, hi)
    if before == after:
        return [(a - before, b - before)]
    # The transition: bisection to the second (a few dozen calls on two days a year).
    left, right = lo, hi
    while right - left > 1.0:
        mid = float(math.floor((left + right) / 2))
        if _offset(calendar, mid) == before:
            left = mid
        else:
            right = mid
    switch = right
    out = []
    for low, high in ((a - before, min(b - before, switch)), (max(a - after, switch), b - after)):
        if high > low:
            out.append((low, high))
    return out


def business_clock(calendar: Calendar, first_day: date, last_day: date) -> BusinessClock:
    """Lay out ``calendar``'s working intervals from ``first_day`` to ``last_day``
    (inclusive, in the calendar's time zone), holidays left out."""
    starts: list[float] = []
    ends: list[float] = []
    day = first_day
    # One iteration per calendar day (a few hundred per year), not per request.
    while day <= last_day:
        if not calendar.is_holiday(day):
            for start, end in calendar.hours[day.weekday()]:
                for a, b in _pieces(day, start, end, calendar):
                    starts.append(a)
                    ends.append(b)
        day += timedelta(days=1)
    s = np.asarray(starts, dtype=np.float64)
    e = np.asarray(ends, dtype=np.float64)
    order = np.argsort(s, kind="stable")
    s, e = s[order], e[order]
    before = np.concatenate(([0.0], np.cumsum(e - s)[:-1])) if s.size else np.zeros(0)
    return BusinessClock(s, e, before, first_day, last_day)


def business_seconds(clock: BusinessClock, instants: npt.ArrayLike) -> FloatArray:
    """Working seconds from the start of the clock's range up to each instant (epoch
    seconds); ``nan`` stays ``nan`` (a request not yet answered)."""
    t = np.asarray(instants, dtype=np.float64)
    if clock.starts.size == 0:
        return np.where(np.isnan(t), np.nan, 0.0)
    i = np.searchsorted(clock.starts, t, side="right") - 1
    inside = np.clip(t - clock.starts[np.maximum(i, 0)], 0.0, None)
    length = clock.ends[np.maximum(i, 0)] - clock.starts[np.maximum(i, 0)]
    value = np.where(i >= 0, clock.before[np.maximum(i, 0)] + np.minimum(inside, length), 0.0)
    return np.where(np.isnan(t), np.nan, value)


def elapsed(clock: BusinessClock, start: npt.ArrayLike, end: npt.ArrayLike) -> FloatArray:
    """Working seconds between ``start`` and ``end`` (negative when ``end`` is earlier);
    additive: elapsed(a, c) = elapsed(a, b) + elapsed(b, c)."""
    return business_seconds(clock, end) - business_seconds(clock, start)


def deadline(clock: BusinessClock, start: npt.ArrayLike, seconds: npt.ArrayLike) -> FloatArray:
    """The first instant, not before ``start``, at which ``seconds`` of working time
    have passed since ``start``; ``nan`` when that lies beyond the clock's range."""
    begin = np.asarray(start, dtype=np.float64)
    goal = business_seconds(clock, begin) + np.asarray(seconds, dtype=np.float64)
    if clock.starts.size == 0:
        return np.full(np.shape(goal), np.nan)
    # The interval in which the running total reaches the goal.
    i = np.searchsorted(clock.before, goal, side="left") - 1
    i = np.clip(i, 0, clock.starts.size - 1)
    at = clock.starts[i] + (goal - clock.before[i])
    beyond = goal > clock.total
    return np.where(beyond | np.isnan(goal), np.nan, np.maximum(at, begin))
