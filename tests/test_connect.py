"""Correlation of internal scores with external outcomes against SciPy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from valuechain.analytics.connect import correlation


@pytest.mark.parametrize("seed", range(10))
def test_matches_scipy_to_1e6(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 40))
    x = rng.normal(size=n)
    y = 0.5 * x + rng.normal(size=n)
    ours = correlation(x, y)
    ref = stats.pearsonr(x, y)
    low, high = ref.confidence_interval(0.95)
    assert ours.n == n
    assert ours.r == pytest.approx(ref.statistic, abs=1e-6)
    assert ours.ci_low == pytest.approx(low, abs=1e-6)
    assert ours.ci_high == pytest.approx(high, abs=1e-6)
    assert ours.p_value == pytest.approx(ref.pvalue, abs=1e-6)


def test_small_or_flat_samples_are_honest() -> None:
    few = correlation([1, 2, 3], [2, 4, 5])
    assert few.n == 3 and math.isnan(few.r) and "4 needed" in (few.reason or "")
    flat = correlation([1, 1, 1, 1, 1], [1, 2, 3, 4, 5])
    assert math.isnan(flat.r) and flat.reason
    gaps = correlation([1, 2, np.nan, 4, 5, 6], [2, 1, 3, np.nan, 5, 7])
    assert gaps.n == 4
