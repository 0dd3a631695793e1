"""Reliability of a dimension's items: Cronbach's alpha with the Feldt interval.

Alpha needs only the item covariance matrix of the complete responses, so it is
computed from cross-product sufficient statistics
(:class:`~valuechain.analytics.score.CrossProducts`) that the database can sum in
one pass and that add up across partial aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from valuechain.analytics.score import CONFIDENCE, CrossProducts, Reason


@dataclass(frozen=True, slots=True)
class Reliability:
    """Cronbach's alpha of one set of items with its confidence interval."""

    items: int
    n: int
    alpha: float
    ci_low: float
    ci_high: float
    reason: Reason | None


def cronbach_alpha(data: CrossProducts, confidence: float = CONFIDENCE) -> Reliability:
    """Cronbach (1951) alpha, k/(k − 1) · (1 − Σ var_j / var_total), with the Feldt
    (1965) confidence interval: with F quantiles on (n − 1, (n − 1)(k − 1)) degrees
    of freedom, ``[1 − (1 − α)·F(1 − a/2), 1 − (1 − α)·F(a/2)]``, a = 1 − confidence
    (Feldt, Woodruff & Salih 1987; as ``pingouin.cronbach_alpha``).

    ``nan`` with a reason for fewer than two items, fewer than two complete
    responses, or a total score with no variance.
    """
    k, n = data.items, data.n
    if k < 2:
        return Reliability(k, n, np.nan, np.nan, np.nan, Reason.TOO_FEW_ITEMS)
    if n < 2:
        reason = Reason.NO_ANSWERS if n == 0 else Reason.TOO_FEW_RESPONSES
        return Reliability(k, n, np.nan, np.nan, np.nan, reason)
    cov = data.covariance()
    total = float(cov.sum())
    if not total > 1e-12 * max(float(np.trace(cov)), 1.0):
        return Reliability(k, n, np.nan, np.nan, np.nan, Reason.NO_VARIANCE)
    alpha = k / (k - 1) * (1.0 - float(np.trace(cov)) / total)
    a = 1.0 - confidence
    df1, df2 = n - 1, (n - 1) * (k - 1)
    low = 1.0 - (1.0 - alpha) * float(stats.f.isf(a / 2, df1, df2))
    high = 1.0 - (1.0 - alpha) * float(stats.f.isf(1 - a / 2, df1, df2))
    return Reliability(k, n, alpha, low, high, None)


def alpha_of(answers: npt.ArrayLike, confidence: float = CONFIDENCE) -> Reliability:
    """:func:`cronbach_alpha` of respondents × items answers (listwise deletion)."""
    return cronbach_alpha(CrossProducts.from_answers(answers), confidence)
