"""Reliability of a dimension's items: Cronbach's alpha with the Feldt interval.

Alpha needs only the item covariance matrix of the complete responses, so it is
computed from cross-product sufficient statistics
(:class:`~valuechain.analytics.score.CrossProducts`) that the database can sum in
one pass and that add up across partial aggregates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

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
    # scipy.special, not scipy.stats: the F quantile stats.f uses (fdtri), at a tenth
    # of the import time.
    from scipy.special import fdtri

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
    low = 1.0 - (1.0 - alpha) * float(fdtri(df1, df2, 1 - a / 2))
    high = 1.0 - (1.0 - alpha) * float(fdtri(df1, df2, a / 2))
    return Reliability(k, n, alpha, low, high, None)


def alpha_of(answers: npt.ArrayLike, confidence: float = CONFIDENCE) -> Reliability:
    """:func:`cronbach_alpha` of respondents × items answers (listwise deletion)."""
    return cronbach_alpha(CrossProducts.from_answers(answers), confidence)


@dataclass(frozen=True, slots=True)
class Omega:
    """McDonald's omega (total) of one set of items from a one-factor model."""

    items: int
    n: int
    omega: float
    loadings: tuple[float, ...]  # standardised loadings of the one factor
    uniquenesses: tuple[float, ...]
    heywood: bool  # an improper solution: omega is nan with Reason.HEYWOOD
    reason: Reason | None


#: Lower bound of a uniqueness in the fit (as ``factor_analyzer`` and ``psych::fa``);
#: a fit that ends on it is a Heywood case, and its omega is not reported.
MIN_UNIQUENESS = 0.005
#: How far a fitted item variance λ² + ψ may stray from 1 (a proper ML solution of a
#: correlation matrix reproduces its unit diagonal) before the solution is improper.
HEYWOOD_TOLERANCE = 1e-4


def one_factor(
    corr: npt.ArrayLike,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Maximum-likelihood loadings and uniquenesses of a one-factor model of a
    correlation matrix, by Jöreskog's (1967) concentrated likelihood: for
    uniquenesses Ψ the loadings are Ψ^½ v √(γ − 1), with γ, v the largest eigenvalue
    and its vector of Ψ^-½ R Ψ^-½, and F(Ψ) = Σ_{j≥2} (γ_j − ln γ_j − 1) over the
    other eigenvalues is minimised over Ψ in [0.005, 1] (L-BFGS-B with the analytic
    gradient diag(Σ⁻¹(Σ − R)Σ⁻¹)). As ``factor_analyzer`` (method "ml") and
    ``statsmodels.multivariate.factor.Factor(method="ml")``."""
    from scipy import optimize  # here, not at module level: a slow import only omega needs

    r = np.asarray(corr, dtype=np.float64)
    k = r.shape[0]

    def loadings(psi: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], Any]:
        scale = 1.0 / np.sqrt(psi)
        gamma, vectors = np.linalg.eigh(r * np.outer(scale, scale))  # ascending
        vector = vectors[:, -1] * np.sign(vectors[:, -1].sum() or 1.0)
        return np.sqrt(psi) * vector * np.sqrt(max(float(gamma[-1]) - 1.0, 0.0)), gamma

    def objective(psi: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
        loading, gamma = loadings(psi)
        rest = gamma[:-1]
        value = float(np.sum(rest - np.log(rest) - 1.0))
        fitted = np.outer(loading, loading) + np.diag(psi)
        inverse = np.linalg.inv(fitted)
        grad = np.diag(inverse @ (fitted - r) @ inverse)
        return value, np.asarray(grad, dtype=np.float64)

    # Start from 1 − the squared multiple correlation of each item with the others.
    start = np.clip(1.0 / np.diag(np.linalg.pinv(r)), MIN_UNIQUENESS, 1.0)
    found = optimize.minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(MIN_UNIQUENESS, 1.0)] * k,
        options={"ftol": 1e-16, "gtol": 1e-12, "maxiter": 10_000},
    )
    psi = np.asarray(found.x, dtype=np.float64)
    return loadings(psi)[0], psi


def mcdonald_omega(data: CrossProducts) -> Omega:
    """McDonald's (1999) omega total, (Σλ)² / ((Σλ)² + Σψ), from the standardised
    loadings λ and uniquenesses ψ of a one-factor maximum-likelihood model of the
    items' correlation matrix (:func:`one_factor`; Dunn, Baguley & Brunsden 2014
    recommend it over alpha). With three items the model is exactly identified and
    λ_i² = r_ij r_ik / r_jk; with fewer it is not, and omega is ``nan``.

    ``nan`` with a reason for fewer than three items, fewer than two complete
    responses, an item with no variance, or a Heywood case (a uniqueness on its lower
    bound, a loading of 1 or more, or a fitted item variance λ² + ψ away from 1:
    an improper solution whose omega would overstate reliability; ``heywood`` is set
    and the loadings are kept for inspection)."""
    k, n = data.items, data.n
    empty: tuple[float, ...] = ()
    if k < 3:
        return Omega(k, n, np.nan, empty, empty, False, Reason.FACTOR_NOT_IDENTIFIED)
    if n < 2:
        reason = Reason.NO_ANSWERS if n == 0 else Reason.TOO_FEW_RESPONSES
        return Omega(k, n, np.nan, empty, empty, False, reason)
    cov = data.covariance()
    sd = np.sqrt(np.diag(cov))
    if not (sd > 1e-12).all():
        return Omega(k, n, np.nan, empty, empty, False, Reason.NO_VARIANCE)
    corr = cov / np.outer(sd, sd)
    if np.linalg.matrix_rank(corr) < k:
        return Omega(k, n, np.nan, empty, empty, False, Reason.COLLINEAR)
    loading, psi = one_factor(corr)
    heywood = bool(
        (psi <= MIN_UNIQUENESS + HEYWOOD_TOLERANCE).any()
        or (np.abs(loading) >= 1.0).any()
        or (np.abs(loading**2 + psi - 1.0) > HEYWOOD_TOLERANCE).any()
    )
    common = float(loading.sum()) ** 2
    omega = np.nan if heywood else common / (common + float(psi.sum()))
    return Omega(
        k,
        n,
        omega,
        tuple(loading.tolist()),
        tuple(psi.tolist()),
        heywood,
        Reason.HEYWOOD if heywood else None,
    )


def omega_of(answers: npt.ArrayLike) -> Omega:
    """:func:`mcdonald_omega` of respondents × items answers (listwise deletion)."""
    return mcdonald_omega(CrossProducts.from_answers(answers))
