"""Recommend score: the net promoter score of a 0–10 likelihood-to-recommend item.

Works from the count of each answer 0..10 per cell (an 11-bin histogram the
database sums in one pass), vectorised over cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from valuechain.analytics.score import CONFIDENCE, FloatArray, IntArray, Reason, Reasons

#: Answers counted as promoters and detractors (Reichheld 2003).
PROMOTERS = (9, 10)
DETRACTORS = (0, 6)
ANSWERS = 11


@dataclass(frozen=True, slots=True)
class NetPromoter:
    """Per cell: respondents, promoter and detractor shares and the NPS (−100..100)."""

    n: IntArray
    promoters: FloatArray
    detractors: FloatArray
    nps: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    reason: Reasons


def histogram(answers: npt.ArrayLike) -> IntArray:
    """Counts of the answers 0..10 (``nan`` and off-scale answers are left out)."""
    x = np.asarray(answers, dtype=np.float64).ravel()
    x = x[(x >= 0) & (x <= 10) & (x == np.round(x))]
    return np.bincount(x.astype(np.int64), minlength=ANSWERS).astype(np.int64)


def net_promoter(counts: npt.ArrayLike, confidence: float = CONFIDENCE) -> NetPromoter:
    """NPS = 100 · (p₉₋₁₀ − p₀₋₆) per cell from counts of the answers 0..10
    (last axis), with a Wald interval from the variance of the difference of two
    multinomial proportions, Var(p̂_P − p̂_D) = (p_P + p_D − (p_P − p_D)²) / n
    (e.g. Rocks 2016): NPS ± z · 100 · √Var.

    That is the normal interval of the mean of the answers recoded promoter = +1,
    passive = 0, detractor = −1 with the plug-in (1/n) variance. No answers: ``nan``.
    One answer or all answers in one group: a point interval, flagged.
    """
    from scipy.special import ndtri  # the normal quantile stats.norm.ppf calls; fast import

    c = np.asarray(counts, dtype=np.float64)
    if c.shape[-1] != ANSWERS:
        raise ValueError(f"counts need {ANSWERS} bins (answers 0..10), got {c.shape[-1]}")
    n = c.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        promoters = c[..., PROMOTERS[0] : PROMOTERS[1] + 1].sum(axis=-1) / n
        detractors = c[..., DETRACTORS[0] : DETRACTORS[1] + 1].sum(axis=-1) / n
        difference = promoters - detractors
        variance = np.maximum(promoters + detractors - difference**2, 0.0) / n
        half = 100.0 * ndtri(0.5 + confidence / 2) * np.sqrt(variance)
    nps = 100.0 * difference
    reasons: list[Reason | None] = []
    for count, var in zip(n.ravel().tolist(), variance.ravel().tolist(), strict=True):
        if count == 0:
            reasons.append(Reason.NO_ANSWERS)
        elif count == 1:
            reasons.append(Reason.ONE_ANSWER)
        elif var == 0:
            reasons.append(Reason.NO_VARIANCE)
        else:
            reasons.append(None)
    return NetPromoter(
        n.astype(np.int64), promoters, detractors, nps, nps - half, nps + half, tuple(reasons)
    )
