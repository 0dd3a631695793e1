"""Whether internal scores move with the external customers' outcomes.

Pearson's correlation over paired periods with its Fisher (1921) z-transform 95%
confidence interval and two-sided p-value; with fewer than four pairs no interval
exists and the function says so instead of guessing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

MIN_PAIRS = 4


@dataclass(frozen=True)
class Correlation:
    """r with its interval; every number is nan when ``reason`` says why not."""

    n: int
    r: float
    ci_low: float
    ci_high: float
    p_value: float
    reason: str | None = None


def correlation(x: npt.ArrayLike, y: npt.ArrayLike, confidence: float = 0.95) -> Correlation:
    """Pearson's r of the pairs where both values are known; Fisher z interval
    (agrees with ``scipy.stats.pearsonr(...).confidence_interval()``)."""
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    both = ~np.isnan(a) & ~np.isnan(b)
    a, b = a[both], b[both]
    n = int(a.size)
    nan = math.nan
    if n < MIN_PAIRS:
        return Correlation(n, nan, nan, nan, nan, f"only {n} paired periods; {MIN_PAIRS} needed")
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return Correlation(n, nan, nan, nan, nan, "one of the series does not vary")
    result = stats.pearsonr(a, b)
    r = float(result.statistic)
    z = math.atanh(min(max(r, -1 + 1e-15), 1 - 1e-15))
    half = stats.norm.ppf(0.5 + confidence / 2) / math.sqrt(n - 3)
    return Correlation(n, r, math.tanh(z - half), math.tanh(z + half), float(result.pvalue))
