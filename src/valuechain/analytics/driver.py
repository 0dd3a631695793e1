"""Key-driver analysis: which dimensions move the ``overall`` outcome, and what to
fix first.

Johnson's (2000) relative weights split the R² of the regression of the outcome
on the dimension scores into one non-negative share per dimension, even when the
dimensions are correlated (they always are). The point estimate needs only the
correlation matrix, hence only :class:`~valuechain.analytics.score.CrossProducts`;
the bootstrap intervals need the respondent-level scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from valuechain.analytics.score import CONFIDENCE, CrossProducts, FloatArray, Reason

BOOTSTRAP_REPLICATES = 1000
#: Floats held at once by one bootstrap batch (about 32 MB).
_BATCH_FLOATS = 4_000_000


def _weights_from_covariance(cov: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Relative weights and R² for a stack of covariance matrices (..., p+1, p+1),
    outcome last. A stack entry with a constant variable gives ``nan``."""
    sd = np.sqrt(np.clip(np.diagonal(cov, axis1=-2, axis2=-1), 0.0, None))
    scale = np.max(sd, axis=-1, keepdims=True)
    constant = (sd <= 1e-12 * np.maximum(scale, 1e-300)).any(axis=-1)
    sd = np.where(sd > 0, sd, 1.0)
    corr = cov / (sd[..., :, None] * sd[..., None, :])
    rxx, rxy = corr[..., :-1, :-1], corr[..., :-1, -1]
    values, vectors = np.linalg.eigh(rxx)
    tol = values.max(axis=-1, keepdims=True) * rxx.shape[-1] * np.finfo(np.float64).eps
    keep = values > tol
    root = np.sqrt(np.where(keep, values, 0.0))
    inverse_root = np.where(keep, 1.0 / np.where(keep, root, 1.0), 0.0)
    # Λ = R_xx^{1/2} (symmetric), β = Λ⁺ r_xy, ε_j = Σ_k Λ_jk² β_k².
    lam = (vectors * root[..., None, :]) @ np.swapaxes(vectors, -1, -2)
    projected = np.einsum("...ji,...j->...i", vectors, rxy)
    beta = np.einsum("...ij,...j->...i", vectors, inverse_root * projected)
    weights = np.einsum("...jk,...k->...j", lam * lam, beta * beta)
    r2 = weights.sum(axis=-1)
    weights = np.where(constant[..., None], np.nan, weights)
    r2 = np.where(constant, np.nan, r2)
    return weights, r2


def relative_weights(data: CrossProducts) -> tuple[FloatArray, float]:
    """Johnson (2000) relative weights of the predictors and the R² they sum to,
    from cross-products whose last variable is the outcome.

    With R_xx = V diag(λ) Vᵀ, Λ = V diag(√λ) Vᵀ is the correlation of the predictors
    with their closest orthogonal counterparts Z; β = Λ⁻¹ r_xy regresses the outcome
    on Z; ε_j = Σ_k Λ_jk² β_k². Σ ε_j = r_xyᵀ R_xx⁻¹ r_xy is the R² of ordinary least
    squares with an intercept. Exact collinearity uses the pseudo-inverse.
    """
    weights, r2 = _weights_from_covariance(data.covariance())
    return weights, float(r2)


@dataclass(frozen=True, slots=True)
class DriverAnalysis:
    """Relative weight of each dimension on the outcome, with bootstrap intervals."""

    n: int
    r2: float
    weight: FloatArray  # raw relative weights; they sum to r2
    share: FloatArray  # weight / r2: the importance of each dimension
    ci_low: FloatArray
    ci_high: FloatArray
    performance: FloatArray  # the mean of each dimension score
    replicates: int
    reason: Reason | None
    #: One-sided p-value that the dimension's weight exceeds the mean of the others'
    #: (:func:`weight_excess_p`); ``nan`` without replicates.
    p_important: FloatArray | None = None
    #: One-sided p-value that the dimension scores below the mean of the others'
    #: (:func:`shortfall_p`).
    p_below: FloatArray | None = None


def key_drivers(
    drivers: npt.ArrayLike,
    outcome: npt.ArrayLike,
    *,
    replicates: int = BOOTSTRAP_REPLICATES,
    seed: int = 0,
    confidence: float = CONFIDENCE,
    normal_above: int | None = None,
) -> DriverAnalysis:
    """Johnson (2000) relative weights of the dimension scores (respondents × p) on
    the outcome, with percentile bootstrap confidence intervals (Efron & Tibshirani
    1993; Tonidandel, LeBreton & Johnson 2009) from ``replicates`` resamples of the
    respondents drawn with a seeded generator, so the same data give the same
    intervals. Respondents missing any score are left out.

    With more than ``normal_above`` respondents the resamples are drawn from the
    normal limit of the resampled first and second moments instead
    (:func:`_normal_bootstrap`): the same intervals to within a small share of their
    width at that size, in time independent of the number of respondents.

    ``nan`` with a reason when fewer than p + 2 complete respondents remain, or when
    a dimension or the outcome does not vary.

    ``p_important`` and ``p_below`` test the two halves of a "fix first" claim for
    each dimension (:func:`weight_excess_p`, :func:`shortfall_p`); they are not
    corrected for the p dimensions: the caller corrects across every claim it makes.
    """
    x = np.asarray(drivers, dtype=np.float64)
    y = np.asarray(outcome, dtype=np.float64).reshape(-1, 1)
    table = np.hstack([x, y])
    table = table[~np.isnan(table).any(axis=1)]
    n, p = table.shape[0], x.shape[1]
    performance = table[:, :p].mean(axis=0) if n else np.full(p, np.nan)
    nan = np.full(p, np.nan)
    if n < p + 2:
        reason = Reason.NO_ANSWERS if n == 0 else Reason.TOO_FEW_RESPONSES
        return DriverAnalysis(n, np.nan, nan, nan, nan, nan, performance, 0, reason, nan, nan)
    weights, r2 = relative_weights(CrossProducts.from_answers(table))
    if not np.isfinite(r2):
        return DriverAnalysis(
            n, np.nan, nan, nan, nan, nan, performance, 0, Reason.COLLINEAR, nan, nan
        )
    if normal_above is not None and n > normal_above:
        boot = _normal_bootstrap(table, replicates, seed)
    else:
        boot = _bootstrap(table, replicates, seed)
    tail = (1.0 - confidence) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        low, high = np.nanquantile(boot, [tail, 1.0 - tail], axis=0) if replicates else (nan, nan)
        share = weights / r2 if r2 > 0 else nan
    important = weight_excess_p(weights, boot) if replicates > 1 else nan
    below = shortfall_p(table[:, :p])
    return DriverAnalysis(
        n, r2, weights, share, low, high, performance, replicates, None, important, below
    )


def _excess(values: FloatArray) -> FloatArray:
    """Each column's value minus the mean of the other columns (last axis)."""
    p = values.shape[-1]
    total = values.sum(axis=-1, keepdims=True)
    excess: FloatArray = values - (total - values) / (p - 1)
    return excess


def weight_excess_p(weights: FloatArray, replicates: FloatArray) -> FloatArray:
    """One-sided p-value, per dimension, of "its relative weight exceeds the mean of the
    other dimensions' weights": the difference d_j = ε_j − mean_{k≠j} ε_k over its
    bootstrap standard error, referred to the normal distribution (the bootstrap
    Wald test, Efron & Tibshirani 1993, ch. 16; the weight difference as in
    Tonidandel, LeBreton & Johnson 2009). The normal tail keeps p-values below
    1/replicates meaningful, which a multiple-testing correction needs."""
    from scipy import stats  # here, not at module level: scipy.stats takes ~0.3 s to import

    if weights.size < 2:
        return np.full(weights.shape, np.nan)
    observed = _excess(weights)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.nanstd(_excess(replicates), axis=0, ddof=1)
        z = np.where(se > 0, observed / np.where(se > 0, se, 1.0), np.nan)
    p: FloatArray = stats.norm.sf(z)
    return p


def shortfall_p(scores: FloatArray) -> FloatArray:
    """One-sided p-value, per dimension, of "it scores below the mean of the other
    dimensions": a paired t test (Student 1908) of each respondent's score on the
    dimension minus their mean on the others (``scipy.stats.ttest_1samp``,
    ``alternative="less"``)."""
    from scipy import stats  # here, not at module level: scipy.stats takes ~0.3 s to import

    if scores.shape[1] < 2 or scores.shape[0] < 2:
        return np.full(scores.shape[1], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        result = stats.ttest_1samp(_excess(scores), 0.0, axis=0, alternative="less")
    p: FloatArray = np.asarray(result.pvalue, dtype=np.float64)
    return p


def _bootstrap(table: FloatArray, replicates: int, seed: int) -> FloatArray:
    """Relative weights on ``replicates`` resamples, as multinomial weights on the
    rows (the same distribution as drawing n rows with replacement)."""
    n, q = table.shape
    rng = np.random.default_rng(seed)
    batch = max(1, _BATCH_FLOATS // max(n * q, 1))
    out = np.empty((replicates, q - 1))
    uniform = np.full(n, 1.0 / n)
    centred = table - table.mean(axis=0)  # centring first keeps the products well scaled
    for start in range(0, replicates, batch):
        size = min(batch, replicates - start)
        counts = rng.multinomial(n, uniform, size=size).astype(np.float64)
        means = counts @ centred / n
        products = np.swapaxes(counts[:, :, None] * centred, 1, 2) @ centred
        cov = (products - n * means[:, :, None] * means[:, None, :]) / (n - 1)
        out[start : start + size], _ = _weights_from_covariance(cov)
    return out


def _normal_bootstrap(table: FloatArray, replicates: int, seed: int) -> FloatArray:
    """Relative weights on ``replicates`` draws of the resampled moments from their
    normal limit. A bootstrap resample's means of the centred variables and of their
    pairwise products are, by the central limit theorem, normal around the sample's
    means with covariance Cov(products)/n (the "delta method" view of the bootstrap
    of a smooth function of means: Efron & Tibshirani 1993, ch. 21; Hall 1992). Each
    draw gives a covariance matrix, hence relative weights, as in :func:`_bootstrap`.
    Needs one pass over the rows for the fourth moments; the draws cost nothing in n.
    """
    n, q = table.shape
    rng = np.random.default_rng(seed)
    centred = table - table.mean(axis=0)
    upper_i, upper_j = np.triu_indices(q)
    features = np.hstack([centred, centred[:, upper_i] * centred[:, upper_j]])
    mean = features.mean(axis=0)
    cov = np.cov(features, rowvar=False) / n
    draws = rng.multivariate_normal(mean, cov, size=replicates, method="eigh")
    first, second = draws[:, :q], draws[:, q:]
    products = np.empty((replicates, q, q))
    products[:, upper_i, upper_j] = second
    products[:, upper_j, upper_i] = second
    moments = (products - first[:, :, None] * first[:, None, :]) * (n / (n - 1))
    weights, _ = _weights_from_covariance(moments)
    return weights


class Quadrant(StrEnum):
    """Importance–performance analysis (Martilla & James 1977)."""

    FIX_FIRST = "fix first"  # important, performing below the rest
    KEEP_UP = "keep up"  # important, performing well
    LOW_PRIORITY = "low priority"  # less important, performing below the rest
    POSSIBLE_OVERKILL = "possible overkill"  # less important, performing well


def quadrants(
    importance: Sequence[float] | FloatArray, performance: Sequence[float] | FloatArray
) -> tuple[Quadrant | None, ...]:
    """Each dimension's importance–performance quadrant (Martilla & James 1977),
    splitting both axes at the mean of the dimensions shown (a value equal to the
    mean counts as high). Importance is the relative-weight share, performance the
    mean score. A dimension with a ``nan`` coordinate gets ``None`` and does not
    move the split.
    """
    imp = np.asarray(importance, dtype=np.float64)
    perf = np.asarray(performance, dtype=np.float64)
    known = ~(np.isnan(imp) | np.isnan(perf))
    if not known.any():
        return tuple(None for _ in imp)
    # A hair below the mean, so that equal values, whose mean rounds, all count as high.
    imp_split = imp[known].mean() - 1e-12 * max(1.0, abs(float(imp[known].mean())))
    perf_split = perf[known].mean() - 1e-12 * max(1.0, abs(float(perf[known].mean())))
    out: list[Quadrant | None] = []
    for i, p, k in zip(imp.tolist(), perf.tolist(), known.tolist(), strict=True):
        if not k:
            out.append(None)
        elif i >= imp_split:
            out.append(Quadrant.KEEP_UP if p >= perf_split else Quadrant.FIX_FIRST)
        else:
            out.append(Quadrant.POSSIBLE_OVERKILL if p >= perf_split else Quadrant.LOW_PRIORITY)
    return tuple(out)
