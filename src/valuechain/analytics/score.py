"""Scores: means with confidence intervals, dimension scores and SERVQUAL gaps.

Everything is vectorised over cells (a provider, a relationship, a dimension...)
and works from sufficient statistics — the count, sum and sum of squares of the
answers in each cell (:class:`Moments`) — so the database can aggregate in one
pass and Python never loops over answers. A statistic that cannot be estimated is
``nan`` with a :class:`Reason`, never an exception.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

CONFIDENCE = 0.95


class Reason(StrEnum):
    """Why a statistic is ``nan`` (or, for ``NO_VARIANCE``, why its interval is a point)."""

    NO_ANSWERS = "no answers"
    ONE_ANSWER = "only one answer, so no spread to estimate"
    NO_VARIANCE = "every answer is the same"
    TOO_FEW_ITEMS = "fewer than two items"
    TOO_FEW_RESPONSES = "too few complete responses"
    COLLINEAR = "a dimension is constant or the dimensions are collinear"
    FACTOR_NOT_IDENTIFIED = "fewer than three items, so a one-factor model is not identified"
    HEYWOOD = (
        "a Heywood case: an item's unique variance reached its lower bound (a loading of "
        "about 1 or more), so the one-factor model does not fit"
    )


Reasons = tuple[Reason | None, ...]


@dataclass(frozen=True, slots=True)
class Moments:
    """Sufficient statistics of the answers in each cell: count, sum, sum of squares.

    Arrays of one shape (one element per cell). Two ``Moments`` add up to the
    moments of the pooled answers, so partial aggregates (per campaign, per
    database shard) combine exactly.
    """

    n: FloatArray
    total: FloatArray
    total_sq: FloatArray

    @classmethod
    def of(cls, n: npt.ArrayLike, total: npt.ArrayLike, total_sq: npt.ArrayLike) -> Moments:
        return cls(
            np.asarray(n, dtype=np.float64),
            np.asarray(total, dtype=np.float64),
            np.asarray(total_sq, dtype=np.float64),
        )

    @classmethod
    def from_values(cls, values: npt.ArrayLike, axis: int = 0) -> Moments:
        """Moments along ``axis``; ``nan`` answers are missing and not counted."""
        x = np.asarray(values, dtype=np.float64)
        present = ~np.isnan(x)
        filled = np.where(present, x, 0.0)
        return cls(
            present.sum(axis=axis).astype(np.float64),
            filled.sum(axis=axis),
            (filled * filled).sum(axis=axis),
        )

    @classmethod
    def by_group(cls, values: npt.ArrayLike, group: npt.ArrayLike, groups: int) -> Moments:
        """Moments of ``values`` per group label ``0..groups-1`` in one pass (``bincount``)."""
        x = np.asarray(values, dtype=np.float64)
        g = np.asarray(group, dtype=np.int64)
        present = ~np.isnan(x)
        x, g = x[present], g[present]
        return cls(
            np.bincount(g, minlength=groups).astype(np.float64),
            np.bincount(g, weights=x, minlength=groups).astype(np.float64),
            np.bincount(g, weights=x * x, minlength=groups).astype(np.float64),
        )

    def __add__(self, other: Moments) -> Moments:
        return Moments(self.n + other.n, self.total + other.total, self.total_sq + other.total_sq)

    @property
    def mean(self) -> FloatArray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.n > 0, self.total / np.maximum(self.n, 1), np.nan)

    @property
    def variance(self) -> FloatArray:
        """Sample variance (denominator n − 1); ``nan`` below two answers."""
        with np.errstate(invalid="ignore", divide="ignore"):
            centred = self.total_sq - self.total * self.total / np.maximum(self.n, 1)
            # Rounding can leave a tiny negative sum of squares for constant answers.
            var = np.maximum(centred, 0.0) / (self.n - 1)
        return np.where(self.n >= 2, var, np.nan)


@dataclass(frozen=True, slots=True)
class CrossProducts:
    """Count, item sums and the item cross-product matrix of complete responses:
    ``n``, ``Σ x_j`` (k) and ``Σ x_i x_j`` (k × k)."""

    n: int
    sums: FloatArray
    products: FloatArray

    @classmethod
    def from_answers(cls, answers: npt.ArrayLike) -> CrossProducts:
        """From respondents × items; a respondent with a missing item is left out
        (listwise deletion, as ``pingouin.cronbach_alpha(nan_policy="listwise")``)."""
        x = np.asarray(answers, dtype=np.float64)
        x = x[~np.isnan(x).any(axis=1)]
        return cls(int(x.shape[0]), x.sum(axis=0), x.T @ x)

    def __add__(self, other: CrossProducts) -> CrossProducts:
        return CrossProducts(
            self.n + other.n, self.sums + other.sums, self.products + other.products
        )

    @property
    def items(self) -> int:
        return int(self.sums.shape[0])

    def covariance(self) -> FloatArray:
        """Sample covariance matrix (denominator n − 1)."""
        mean = self.sums / self.n
        return (self.products - self.n * np.outer(mean, mean)) / (self.n - 1)


@dataclass(frozen=True, slots=True)
class MeanInterval:
    """Mean of each cell with its two-sided t confidence interval."""

    n: IntArray
    mean: FloatArray
    sd: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    reason: Reasons


def _reasons(n: FloatArray, variance: FloatArray) -> Reasons:
    out: list[Reason | None] = []
    for count, var in zip(n.ravel().tolist(), variance.ravel().tolist(), strict=True):
        if count == 0:
            out.append(Reason.NO_ANSWERS)
        elif count == 1:
            out.append(Reason.ONE_ANSWER)
        elif var == 0:
            out.append(Reason.NO_VARIANCE)
        else:
            out.append(None)
    return tuple(out)


def mean_interval(moments: Moments, confidence: float = CONFIDENCE) -> MeanInterval:
    """Mean and Student t confidence interval, mean ± t(1 − α/2, n − 1) · s / √n,
    per cell (as ``scipy.stats.t.interval`` with ``scale = sem``).

    No answers: all ``nan``. One answer: the mean, with a ``nan`` interval. All
    answers equal: the interval is the point itself, flagged ``NO_VARIANCE``.
    """
    # scipy.special, not scipy.stats: the same quantile (stats.t.ppf calls stdtrit) and
    # a tenth of the import time, which every `valuechain scores` pays.
    from scipy.special import stdtrit

    n = moments.n
    mean = moments.mean
    var = moments.variance
    with np.errstate(invalid="ignore", divide="ignore"):
        half = stdtrit(n - 1, 0.5 + confidence / 2) * np.sqrt(var / n)
    half = np.where(n >= 2, half, np.nan)
    return MeanInterval(
        n.astype(np.int64),
        mean,
        np.sqrt(var),
        mean - half,
        mean + half,
        _reasons(n, var),
    )


def mean_of(values: npt.ArrayLike, confidence: float = CONFIDENCE) -> MeanInterval:
    """:func:`mean_interval` of one sample (``nan`` answers are missing), as a
    one-cell result."""
    sample = np.asarray(values, dtype=np.float64).reshape(-1, 1)
    return mean_interval(Moments.from_values(sample), confidence)


def dimension_scores(answers: npt.ArrayLike, item_dimension: Sequence[int]) -> FloatArray:
    """Each respondent's score per dimension: the mean of the items of that dimension
    the respondent answered (``nan`` when none). ``answers`` is respondents × items
    with ``nan`` for missing answers; ``item_dimension[j]`` is item j's dimension."""
    x = np.asarray(answers, dtype=np.float64)
    dims = np.asarray(item_dimension, dtype=np.int64)
    indicator = np.zeros((dims.shape[0], int(dims.max()) + 1 if dims.size else 0))
    indicator[np.arange(dims.shape[0]), dims] = 1.0
    present = ~np.isnan(x)
    sums = np.where(present, x, 0.0) @ indicator
    counts = present.astype(np.float64) @ indicator
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def gap_interval(
    perception: npt.ArrayLike, expectation: npt.ArrayLike, confidence: float = CONFIDENCE
) -> MeanInterval:
    """SERVQUAL gap P − E (Parasuraman, Zeithaml & Berry 1988) per column, with the
    paired t confidence interval of the mean difference (as
    ``scipy.stats.ttest_rel(P, E).confidence_interval()``).

    Rows are respondents; columns are items or dimension scores. A pair counts
    only when both answers are present. For sufficient statistics, take the
    :class:`Moments` of the differences and call :func:`mean_interval`.
    """
    p = np.asarray(perception, dtype=np.float64)
    e = np.asarray(expectation, dtype=np.float64)
    return mean_interval(Moments.from_values(p - e, axis=0), confidence)


@dataclass(frozen=True, slots=True)
class ServqualTotals:
    """The unweighted and importance-weighted total gaps over the dimensions."""

    unweighted: MeanInterval
    weighted: MeanInterval


def servqual_totals(
    dimension_gaps: npt.ArrayLike,
    importance: npt.ArrayLike | None = None,
    confidence: float = CONFIDENCE,
) -> ServqualTotals:
    """Total SERVQUAL gap per respondent, then its mean with a t interval.

    Unweighted: the mean of the respondent's dimension gaps (respondents × dimensions,
    complete rows only). Weighted: Σ_d w_d · gap_d with w_d the respondent's own
    share of the 100 importance points (Zeithaml, Parasuraman & Berry 1990); a
    respondent without a valid split (``nan`` or not summing to a positive total)
    is left out of the weighted total only.
    """
    gaps = np.asarray(dimension_gaps, dtype=np.float64)
    complete = np.asarray(~np.isnan(gaps).any(axis=1), dtype=bool)
    unweighted = gaps.mean(axis=1)  # nan for an incomplete row
    if importance is None:
        weighted = np.full(gaps.shape[0], np.nan)
    else:
        points = np.asarray(importance, dtype=np.float64)
        sums = points.sum(axis=1)
        valid = complete & ~np.isnan(points).any(axis=1) & (sums > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            weights = points / sums[:, None]
        weighted = np.where(
            valid, (np.where(valid[:, None], weights * gaps, 0.0)).sum(axis=1), np.nan
        )
    return ServqualTotals(mean_of(unweighted, confidence), mean_of(weighted, confidence))


@dataclass(frozen=True, slots=True)
class ImportanceWeightedGap:
    """Per cell: the unweighted total gap (the mean of the dimension gaps) and the
    importance-weighted total gap (Σ_d mean points_d / points · gap_d)."""

    unweighted: FloatArray
    weighted: FloatArray


def importance_weighted_gap(
    dimension_gaps: npt.ArrayLike, mean_points: npt.ArrayLike, points: float = 100.0
) -> ImportanceWeightedGap:
    """Total SERVQUAL gap of a group, unweighted and weighted by the group's mean
    importance split (Zeithaml, Parasuraman & Berry 1990, ch. 2: each dimension's
    gap P − E times the share of the ``points`` its respondents gave it, added up).

    Both arguments are cells × dimensions: the group's mean gap per dimension and the
    mean points per dimension of the respondents who gave a split. Unlike
    :func:`servqual_totals`, which weights each respondent by its own split and needs
    the respondents' answers, this works from published group means only, so it
    reveals nothing they do not. A missing (``nan``) gap or split gives ``nan``."""
    gaps = np.atleast_2d(np.asarray(dimension_gaps, dtype=np.float64))
    weights = np.atleast_2d(np.asarray(mean_points, dtype=np.float64)) / points
    return ImportanceWeightedGap(gaps.mean(axis=1), (weights * gaps).sum(axis=1))


def moments_from_interval(
    n: int, mean: float, ci_low: float, confidence: float = CONFIDENCE
) -> Moments:
    """The one-cell moments behind a published ``n``, mean and t interval: the
    interval's half-width is t(1 − α/2, n − 1) · s / √n, so s (and with it the sum of
    squares) follows exactly. Lets findings and verdicts work from published cells
    only, never from raw answers."""
    from scipy import stats  # here, not at module level: scipy.stats takes ~0.3 s to import

    half = mean - ci_low
    s = half * math.sqrt(n) / float(stats.t.ppf(0.5 + confidence / 2, n - 1))
    total = n * mean
    return Moments.of([n], [total], [(n - 1) * s * s + total * total / n])
