"""Request clocks on business time and their summary per relationship."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from valuechain.analytics.clock import business_clock
from valuechain.analytics.sla import request_clocks, summarise
from valuechain.domain.calendar import DEFAULT

UTC = ZoneInfo("UTC")
NAN = float("nan")


def at(day: int, hour: float) -> float:
    return datetime(2026, 11, day, tzinfo=UTC).timestamp() + hour * 3600


def test_clocks_count_business_hours_only() -> None:
    clock = business_clock(DEFAULT, date(2026, 11, 1), date(2026, 12, 31))
    # Friday 16:00 -> Monday 10:00 is 1 + 1 = 2 working hours.
    created = [at(27, 16), at(23, 9), at(23, 9), at(23, 9)]
    response = [at(30, 10), at(23, 13), NAN, NAN]
    resolved = [at(30, 10), at(25, 9), NAN, NAN]
    clocks = request_clocks(
        clock, created, response, resolved, [4, 4, 4, 8], [8, 8, 24, 40], now=at(23, 16)
    )
    assert clocks.to_response.tolist()[:2] == [2 * 3600, 4 * 3600]
    assert clocks.to_resolution[1] == 16 * 3600
    assert clocks.response_met.tolist()[:2] == [1.0, 1.0]
    assert clocks.resolution_met[1] == 0.0  # 16 working hours against 8
    assert clocks.response_met[2] == 0.0  # open, 7 hours spent of 4: breached already
    assert np.isnan(clocks.response_met[3])  # open, 7 of 8 hours: not yet decided
    assert clocks.near_breach.tolist() == [False, False, False, True]


def test_summary_per_relationship_matches_hand_counts() -> None:
    clock = business_clock(DEFAULT, date(2026, 11, 1), date(2026, 12, 31))
    created = [at(23, 9)] * 5
    resolved = [at(23, 11), at(23, 13), at(24, 9), at(23, 10), NAN]
    response = [at(23, 10)] * 5
    clocks = request_clocks(clock, created, response, resolved, [2] * 5, [4] * 5, now=at(26, 9))
    summary = summarise(clocks, resolved, [1, 0, 1, 1, 0], groups=[0, 0, 0, 1, 1], n_groups=3)
    assert summary.requests.tolist() == [3, 2, 0]
    assert summary.resolution_met_pct[0] == pytest.approx(200 / 3)  # 2h and 4h met, 8h not
    assert summary.median_resolution_hours[0] == pytest.approx(4.0)
    assert summary.median_resolution_hours[1] == pytest.approx(1.0)
    assert summary.thanked_pct.tolist()[:2] == [pytest.approx(200 / 3), 100.0]
    assert np.isnan(summary.first_response_met_pct[2])


def test_paused_time_does_not_count_towards_resolution() -> None:
    """Waiting on the customer: the paused working seconds come off the resolution
    clock (and so off breach and near breach), never off the first response."""
    clock = business_clock(DEFAULT, date(2026, 11, 1), date(2026, 12, 31))
    created = [at(23, 9), at(23, 9)]
    response = [at(23, 10), at(23, 10)]
    resolved = [at(23, 17), NAN]  # 8 working hours; the second is still open at 16:00
    paused = [3 * 3600, 2 * 3600]
    plain = request_clocks(clock, created, response, resolved, [2, 2], [6, 8], now=at(23, 16))
    clocks = request_clocks(
        clock, created, response, resolved, [2, 2], [6, 8], now=at(23, 16), paused=paused
    )
    assert plain.resolution_met[0] == 0.0 and clocks.resolution_met[0] == 1.0  # 8 h - 3 h
    assert clocks.to_resolution.tolist() == [5 * 3600, 5 * 3600]
    assert clocks.to_response.tolist() == plain.to_response.tolist()
    assert plain.near_breach[1] and not clocks.near_breach[1]  # 7 of 8 h, but 5 of 8 h
