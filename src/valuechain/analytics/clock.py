"""Business-time clocks: how much working time lies between two instants, and when a
number of working hours after an instant runs out.

A calendar's working intervals over a date range are laid out once as sorted UTC
epoch seconds with a running total; every query is then one ``np.searchsorted`` over
arrays of instants, so a year of requests is timed in a vectorised pass. Local wall
times are converted per day with :mod:`zoneinfo`, so daylight-saving changes shorten
or lengthen nothing: a 09:00-17:00 day is eight working hours on either side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

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


def _instant(day: date, moment: time, calendar: Calendar) -> float:
    if moment == time.max:  # a shift "until 24:00" ends at the next midnight
        return datetime.combine(day + timedelta(days=1), time(0), calendar.zone).timestamp()
    return datetime.combine(day, moment, calendar.zone).timestamp()


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
                a, b = _instant(day, start, calendar), _instant(day, end, calendar)
                if b > a:
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
