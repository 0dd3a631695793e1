"""Key-driver analysis: Johnson's relative weights against an independent
construction from the data, R² against statsmodels OLS, seeded bootstrap, and the
importance–performance quadrants."""

from __future__ import annotations

import numpy as np
import pytest

from valuechain.analytics.driver import Quadrant, key_drivers, quadrants, relative_weights
from valuechain.analytics.score import CrossProducts, Reason


def survey(seed: int, n: int = 150, p: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    common = rng.normal(size=(n, 1))
    x = 4 + common + rng.normal(scale=0.8, size=(n, p))
    beta = rng.uniform(0, 1, size=p)
    y = 1 + x @ beta / p + rng.normal(scale=0.7, size=n)
    return x, y


def johnson_from_data(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Johnson (2000) as he describes it: Z = P Qᵀ from the SVD X = P Δ Qᵀ of the
    standardised predictors; regress y on Z, and the predictors on Z."""
    xs = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    ys = (y - y.mean()) / y.std(ddof=1)
    p_, _, qt = np.linalg.svd(xs, full_matrices=False)
    z = p_ @ qt
    # Z has unit-norm columns; standardised variables have norm √(n − 1).
    beta = np.linalg.lstsq(z, ys, rcond=None)[0] / np.sqrt(len(y) - 1)
    lam = np.linalg.lstsq(z, xs, rcond=None)[0] / np.sqrt(len(y) - 1)  # Λ[k, j]
    return (lam.T**2) @ (beta**2)


@pytest.mark.parametrize("seed", range(8))
def test_relative_weights_sum_to_the_ols_r2(seed: int) -> None:
    sm = pytest.importorskip("statsmodels.api")
    x, y = survey(seed, p=2 + seed % 5)
    result = key_drivers(x, y, replicates=0)
    ols = sm.OLS(y, sm.add_constant(x)).fit()
    assert result.r2 == pytest.approx(ols.rsquared, abs=1e-6)
    assert result.weight.sum() == pytest.approx(result.r2, abs=1e-9)
    assert (result.weight >= 0).all()
    np.testing.assert_allclose(result.weight, johnson_from_data(x, y), atol=1e-6)
    np.testing.assert_allclose(result.share.sum(), 1.0, atol=1e-9)
    np.testing.assert_allclose(result.performance, x.mean(axis=0), atol=1e-12)


def test_special_cases_of_relative_weights() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 1))
    y = x[:, 0] + rng.normal(size=200)
    weights, r2 = relative_weights(CrossProducts.from_answers(np.hstack([x, y[:, None]])))
    assert weights[0] == pytest.approx(np.corrcoef(x[:, 0], y)[0, 1] ** 2, abs=1e-9)
    assert r2 == pytest.approx(weights[0])
    # Orthogonal predictors: each weight is its squared correlation with the outcome.
    q, _ = np.linalg.qr(rng.normal(size=(200, 3)))
    q -= q.mean(axis=0)
    q, _ = np.linalg.qr(q)
    y = q @ np.array([3.0, 1.0, 0.5]) + rng.normal(scale=0.1, size=200)
    weights, r2 = relative_weights(CrossProducts.from_answers(np.hstack([q, y[:, None]])))
    assert r2 == pytest.approx(weights.sum())
    np.testing.assert_allclose(
        weights, [np.corrcoef(q[:, j], y)[0, 1] ** 2 for j in range(3)], atol=1e-6
    )


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_collinear_dimensions_use_the_pseudo_inverse() -> None:
    sm = pytest.importorskip("statsmodels.api")
    x, y = survey(4, p=3)
    x = np.hstack([x, x[:, :1] + x[:, 1:2]])  # an exact combination of two others
    result = key_drivers(x, y, replicates=50)
    ols = sm.OLS(y, sm.add_constant(x)).fit()
    assert result.r2 == pytest.approx(ols.rsquared, abs=1e-6)
    assert result.weight.sum() == pytest.approx(result.r2, abs=1e-9)


def test_bootstrap_intervals_are_seeded_and_cover_the_estimate() -> None:
    x, y = survey(1, n=120, p=4)
    first = key_drivers(x, y, replicates=300, seed=7)
    again = key_drivers(x, y, replicates=300, seed=7)
    other = key_drivers(x, y, replicates=300, seed=8)
    np.testing.assert_array_equal(first.ci_low, again.ci_low)
    assert not np.array_equal(first.ci_low, other.ci_low)
    assert (first.ci_low <= first.weight).all() and (first.weight <= first.ci_high).all()
    assert (first.ci_low >= 0).all() and first.replicates == 300


def test_bootstrap_matches_resampling_rows() -> None:
    """The multinomial weights are the same draw as resampling rows with replacement."""
    x, y = survey(2, n=40, p=3)
    table = np.hstack([x, y[:, None]])
    result = key_drivers(x, y, replicates=200, seed=3, confidence=0.9)
    rng = np.random.default_rng(3)
    counts = rng.multinomial(40, np.full(40, 1 / 40), size=200)
    boot = np.array(
        [
            relative_weights(CrossProducts.from_answers(np.repeat(table, c, axis=0)))[0]
            for c in counts
        ]
    )
    np.testing.assert_allclose(result.ci_low, np.quantile(boot, 0.05, axis=0), atol=1e-9)
    np.testing.assert_allclose(result.ci_high, np.quantile(boot, 0.95, axis=0), atol=1e-9)


def test_driver_edge_cases_are_nan_with_a_reason() -> None:
    x, y = survey(0, n=30, p=3)
    few = key_drivers(x[:4], y[:4])
    assert few.reason is Reason.TOO_FEW_RESPONSES and np.isnan(few.r2)
    x_missing = x.copy()
    x_missing[:, 0] = np.nan
    assert key_drivers(x_missing, y).reason is Reason.NO_ANSWERS
    flat = x.copy()
    flat[:, 1] = 4.0
    constant = key_drivers(flat, y)
    assert constant.reason is Reason.COLLINEAR and np.isnan(constant.weight).all()
    x_some = x.copy()
    x_some[:5, 2] = np.nan
    assert key_drivers(x_some, y, replicates=20).n == 25


def test_quadrants_split_at_the_means() -> None:
    importance = [0.4, 0.3, 0.1, 0.2, np.nan]
    performance = [5.0, 6.0, 6.5, 4.0, 5.0]
    assert quadrants(importance, performance) == (
        Quadrant.FIX_FIRST,
        Quadrant.KEEP_UP,
        Quadrant.POSSIBLE_OVERKILL,
        Quadrant.LOW_PRIORITY,
        None,
    )
    assert set(quadrants([0.1, 0.1, 0.1], [0.3, 0.3, 0.3])) == {Quadrant.KEEP_UP}
    assert quadrants([np.nan], [1.0]) == (None,)


def test_normal_bootstrap_agrees_with_resampling_at_scale() -> None:
    """Above ``normal_above`` respondents the intervals come from the normal limit of
    the resampled moments; at 20,000 respondents they agree with the resampling
    bootstrap to within a tenth of the interval's width, and stay seeded."""
    x, y = survey(5, n=20_000, p=5)
    resampled = key_drivers(x, y, replicates=400, seed=1)
    normal = key_drivers(x, y, replicates=400, seed=1, normal_above=10_000)
    again = key_drivers(x, y, replicates=400, seed=1, normal_above=10_000)
    np.testing.assert_array_equal(normal.ci_low, again.ci_low)
    np.testing.assert_allclose(normal.weight, resampled.weight)
    width = resampled.ci_high - resampled.ci_low
    assert (width > 0).all()
    assert np.abs(normal.ci_low - resampled.ci_low).max() < 0.1 * width.max()
    assert np.abs(normal.ci_high - resampled.ci_high).max() < 0.1 * width.max()
    assert (normal.ci_low <= normal.weight).all() and (normal.weight <= normal.ci_high).all()
