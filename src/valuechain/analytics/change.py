"""Change over time: did a cell's mean move between two campaigns?

Two campaigns ask different (anonymous) respondents, so the samples are treated
as independent. Everything works from per-cell :class:`Moments`, vectorised over
cells, so a whole organisation's comparison is a few array operations; the
corrections for comparing many cells at once are at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from valuechain.analytics.score import CONFIDENCE, FloatArray, Moments, Reason, Reasons
from valuechain.domain.response import Correction as Correction  # re-exported


@dataclass(frozen=True, slots=True)
class Change:
    """Per cell: ``after − before`` with its Welch test and effect size."""

    difference: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    t: FloatArray
    df: FloatArray
    p: FloatArray
    hedges_g: FloatArray
    reason: Reasons


def welch_change(before: Moments, after: Moments, confidence: float = CONFIDENCE) -> Change:
    """Difference of two independent means, after − before, with Welch's (1947) t
    test: standard error √(s₁²/n₁ + s₂²/n₂), Welch–Satterthwaite degrees of freedom,
    two-sided p and the t confidence interval (as
    ``scipy.stats.ttest_ind(after, before, equal_var=False)``).

    The effect size is Hedges' g: Cohen's d on the pooled standard deviation times
    the small-sample correction 1 − 3 / (4(n₁ + n₂) − 9) (Hedges 1981; as
    ``pingouin.compute_effsize(eftype="hedges")``).

    ``nan`` with a reason when a side has fewer than two answers or both sides have
    no variance.
    """
    from scipy import stats  # here, not at module level: scipy.stats takes ~0.3 s to import

    n1, n2 = after.n, before.n
    v1, v2 = after.variance, before.variance
    difference = after.mean - before.mean
    with np.errstate(invalid="ignore", divide="ignore"):
        a, b = v1 / n1, v2 / n2
        se = np.sqrt(a + b)
        df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1))
        t = difference / se
        p = 2.0 * stats.t.sf(np.abs(t), df)
        half = stats.t.ppf(0.5 + confidence / 2, df) * se
        pooled = np.sqrt(((n1 - 1) * v1 + (n2 - 1) * v2) / (n1 + n2 - 2))
        g = difference / pooled * (1.0 - 3.0 / (4.0 * (n1 + n2) - 9.0))
    reasons: list[Reason | None] = []
    for smaller, spread in zip(
        np.minimum(n1, n2).ravel().tolist(), (a + b).ravel().tolist(), strict=True
    ):
        if smaller == 0:
            reasons.append(Reason.NO_ANSWERS)
        elif smaller == 1:
            reasons.append(Reason.ONE_ANSWER)
        elif not spread > 0:
            reasons.append(Reason.NO_VARIANCE)
        else:
            reasons.append(None)
    ok = np.array([r is None for r in reasons], dtype=bool).reshape(difference.shape)
    nan = np.full(difference.shape, np.nan)
    return Change(
        difference=np.where(np.minimum(n1, n2) > 0, difference, np.nan),
        ci_low=np.where(ok, difference - half, nan),
        ci_high=np.where(ok, difference + half, nan),
        t=np.where(ok, t, nan),
        df=np.where(ok, df, nan),
        p=np.where(ok, p, nan),
        hedges_g=np.where(ok, g, nan),
        reason=tuple(reasons),
    )


def adjust_p(p: npt.ArrayLike, correction: Correction = Correction.HOLM) -> FloatArray:
    """Adjusted p-values across every cell compared, in the input order; ``nan``
    p-values (cells that could not be tested) stay ``nan`` and do not count.

    Holm (1979) step-down and Benjamini & Hochberg (1995) step-up, as
    ``statsmodels.stats.multitest.multipletests`` with ``holm`` / ``fdr_bh``.
    """
    values = np.asarray(p, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    tested = ~np.isnan(values)
    q = values[tested]
    m = q.shape[0]
    if m == 0:
        return out
    order = np.argsort(q, kind="stable")
    ranked = q[order]
    if correction is Correction.HOLM:
        stepped = np.maximum.accumulate((m - np.arange(m)) * ranked)
    else:
        stepped = np.minimum.accumulate(m / np.arange(m, 0, -1) * ranked[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    out[tested] = adjusted
    return out
