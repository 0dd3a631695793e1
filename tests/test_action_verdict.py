"""The before/after verdict of an action: Welch's interval against SciPy, and honest on noise."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from valuechain.analytics.action import Verdict, before_after
from valuechain.analytics.score import Moments


def _m(values: np.ndarray) -> Moments:
    return Moments.from_values(values[:, None])


def test_interval_matches_scipy_welch() -> None:
    rng = np.random.default_rng(3)
    before, after = rng.normal(4.0, 1.0, 40), rng.normal(4.8, 1.3, 35)
    result = before_after(_m(before), _m(after))
    reference = stats.ttest_ind(after, before, equal_var=False)
    ci = reference.confidence_interval(0.95)
    assert result.p == pytest.approx(reference.pvalue, abs=1e-9)
    assert result.ci_low == pytest.approx(ci.low, abs=1e-9)
    assert result.ci_high == pytest.approx(ci.high, abs=1e-9)
    assert result.difference == pytest.approx(after.mean() - before.mean(), abs=1e-12)
    assert result.verdict is Verdict.IMPROVED


def test_a_clear_decline_is_worse_and_lower_is_better_flips_it() -> None:
    rng = np.random.default_rng(4)
    before, after = rng.normal(5.0, 0.5, 50), rng.normal(4.0, 0.5, 50)
    assert before_after(_m(before), _m(after)).verdict is Verdict.WORSE
    assert before_after(_m(before), _m(after), higher_is_better=False).verdict is Verdict.IMPROVED


def test_noise_mostly_says_no_evidence_of_change() -> None:
    rng = np.random.default_rng(5)
    claims = 0
    runs = 400
    for _ in range(runs):
        before, after = rng.normal(4.0, 1.0, 30), rng.normal(4.0, 1.0, 30)
        if before_after(_m(before), _m(after)).verdict is not Verdict.NO_EVIDENCE:
            claims += 1
    # A 95% interval excludes zero on about 5% of pure-noise comparisons.
    assert claims / runs < 0.09


def test_no_measurement_after_or_too_few_answers_is_not_yet() -> None:
    before = _m(np.array([4.0, 5.0, 3.0]))
    assert before_after(before, None).verdict is Verdict.NOT_YET
    assert before_after(before, _m(np.array([5.0]))).verdict is Verdict.NOT_YET
