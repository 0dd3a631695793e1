"""Commitment outcomes, recurring due dates and the trust formula."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from valuechain.analytics.trust import CODE, OUTCOMES, classify, trust
from valuechain.domain.commitment import Outcome, RecurrenceError, due_dates

H = 3600.0
NAN = float("nan")


def test_each_outcome() -> None:
    due = np.array([10, 10, 10, 10, 10, 10]) * H
    delivered = np.array([9.5, 4, 12, NAN, 12, NAN]) * H
    warned = np.array([NAN, NAN, NAN, NAN, 8, NAN]) * H
    codes = classify(due, delivered, warned, now=11 * H, early_margin=2 * H)
    assert [OUTCOMES[c] for c in codes] == [
        Outcome.KEPT,  # on time but not 2 hours early
        Outcome.EXCEEDED,  # time sheets at 1 pm when asked for 3 pm
        Outcome.MISSED,
        Outcome.MISSED,  # not delivered and past due
        Outcome.WARNED,  # late, but the customer heard two hours before
        Outcome.MISSED,
    ]
    later = classify([20 * H], [NAN], [NAN], now=11 * H)
    assert OUTCOMES[later[0]] is Outcome.PENDING
    # A warning given after the due time is no early warning.
    assert OUTCOMES[classify([10 * H], [12 * H], [11 * H], now=13 * H)[0]] is Outcome.MISSED


def test_trust_rewards_early_warnings_over_surprise_misses() -> None:
    kept, warned, missed = CODE[Outcome.KEPT], CODE[Outcome.WARNED], CODE[Outcome.MISSED]
    outcomes = [kept] * 8 + [warned] * 2 + [kept] * 8 + [missed] * 2
    groups = [0] * 10 + [1] * 10
    t = trust(outcomes, groups, 2)
    assert t.trust[0] > t.trust[1]
    assert t.trust[0] == pytest.approx((9 + 1) / (10 + 2))
    assert t.trust[1] == pytest.approx((8 + 1) / (10 + 2))
    assert (t.low < t.trust).all() and (t.trust < t.high).all()


def test_trust_is_less_certain_with_fewer_commitments() -> None:
    kept = CODE[Outcome.KEPT]
    t = trust([kept] * 2 + [kept] * 200, [0] * 2 + [1] * 200, 2)
    assert (t.high - t.low)[0] > (t.high - t.low)[1]
    pending = trust([CODE[Outcome.PENDING]], [0], 1)
    assert pending.trust[0] == pytest.approx(0.5)  # nothing ended: the uniform prior


def test_weekly_plan_every_monday_ten_local_time_across_dst() -> None:
    amsterdam = ZoneInfo("Europe/Amsterdam")
    dues = due_dates(
        "FREQ=WEEKLY;BYDAY=MO;BYHOUR=10;BYMINUTE=0;BYSECOND=0",
        datetime(2026, 3, 16, tzinfo=amsterdam),
        datetime(2026, 4, 10, tzinfo=amsterdam),
        "Europe/Amsterdam",
    )
    assert [d.day for d in dues] == [16, 23, 30, 6]
    assert all(d.hour == 10 and d.weekday() == 0 for d in dues)
    # 10:00 local is 09:00 UTC before the change on 29 March and 08:00 UTC after it.
    assert [d.astimezone(ZoneInfo("UTC")).hour for d in dues] == [9, 9, 8, 8]


def test_bad_rule_is_a_clear_error() -> None:
    with pytest.raises(RecurrenceError, match="RRULE"):
        due_dates("EVERY MONDAY", datetime(2026, 1, 1), datetime(2026, 2, 1))
