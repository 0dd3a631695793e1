"""McDonald's omega from a one-factor maximum-likelihood model, against the exact
three-item solution and statsmodels' maximum-likelihood factor analysis."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from statsmodels.multivariate.factor import Factor
from typer.testing import CliRunner

from valuechain import Valuechain
from valuechain.analytics.reliability import omega_of
from valuechain.analytics.score import Reason
from valuechain.cli.main import app as cli
from valuechain.domain.instrument import SERVICE_FACTORS
from valuechain.services import measure
from valuechain.services.demo_survey import demo_responses

TOL = 1e-6


def _env(vc: Valuechain) -> dict[str, str]:
    return {
        "VALUECHAIN_DATABASE_URL": vc.engine.url.render_as_string(hide_password=False),
        "VALUECHAIN_ORGANISATION": vc.organisation,
    }


def _congeneric(n: int, loadings: list[float], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lam = np.array(loadings)
    factor = rng.normal(size=(n, 1))
    return factor * lam + rng.normal(size=(n, lam.size)) * np.sqrt(1 - lam**2)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_three_items_match_the_closed_form(seed: int) -> None:
    x = _congeneric(150, [0.8, 0.6, 0.5], seed)
    r = np.corrcoef(x.T)
    lam = np.sqrt(
        [
            r[0, 1] * r[0, 2] / r[1, 2],
            r[0, 1] * r[1, 2] / r[0, 2],
            r[0, 2] * r[1, 2] / r[0, 1],
        ]
    )
    expected = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())
    found = omega_of(x)
    assert found.reason is None
    assert found.omega == pytest.approx(expected, abs=TOL)
    assert np.allclose(found.loadings, lam, atol=TOL)


@pytest.mark.parametrize(("seed", "loadings"), [(4, [0.8, 0.7, 0.6, 0.5, 0.4]), (5, [0.7] * 4)])
def test_more_items_match_statsmodels_ml(seed: int, loadings: list[float]) -> None:
    x = _congeneric(300, loadings, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = Factor(corr=np.corrcoef(x.T), n_factor=1, method="ml", nobs=300).fit(
            opt={"gtol": 1e-12}, tol=1e-12
        )
    lam = np.abs(ref.loadings[:, 0])
    psi = ref.uniqueness
    found = omega_of(x)
    assert np.allclose(found.loadings, lam, atol=TOL)
    assert np.allclose(found.uniquenesses, psi, atol=TOL)
    assert found.omega == pytest.approx(lam.sum() ** 2 / (lam.sum() ** 2 + psi.sum()), abs=TOL)
    assert not found.heywood


def test_omega_is_scale_free_and_drops_incomplete_rows() -> None:
    x = _congeneric(120, [0.8, 0.7, 0.6, 0.5], 6)
    rescaled = x * np.array([1.0, 2.0, 0.5, 3.0]) + 4.0
    with_missing = np.vstack([x, [[np.nan, 1.0, 1.0, 1.0]]])
    assert omega_of(rescaled).omega == pytest.approx(omega_of(x).omega, abs=TOL)
    assert omega_of(with_missing).n == 120
    assert omega_of(with_missing).omega == pytest.approx(omega_of(x).omega, abs=TOL)


def test_omega_needs_three_items_and_spread() -> None:
    assert omega_of(np.ones((10, 2))).reason is Reason.FACTOR_NOT_IDENTIFIED
    assert np.isnan(omega_of(np.ones((10, 2))).omega)
    assert omega_of(np.ones((10, 3))).reason is Reason.NO_VARIANCE
    assert omega_of(np.ones((1, 3))).reason is Reason.TOO_FEW_RESPONSES


def test_reliability_carries_omega_for_scales_of_three_items(demo_vc: Valuechain) -> None:
    vc = demo_vc
    scales = {s["dimension"]: s for s in measure.reliability_with_omega(vc)["scales"]}
    value = SERVICE_FACTORS.dimension("value")
    rows = [
        [next(a.score for a in r.answers if a.item == item.key) for item in value.items]
        for r in demo_responses()
    ]
    assert len(value.items) == 3
    assert scales["value"]["omega"] == pytest.approx(omega_of(rows).omega, abs=TOL)
    assert scales["value"]["alpha"] > 0 and scales["value"]["omega_reason"] is None
    assert scales["courtesy"]["omega"] is None
    assert scales["courtesy"]["omega_reason"] == str(Reason.FACTOR_NOT_IDENTIFIED)
    out = CliRunner().invoke(cli, ["reliability", "--json"], env=_env(vc))
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["scales"] == list(scales.values())


def _exact(target: list[list[float]], n: int, seed: int) -> np.ndarray:
    """``n`` answers whose sample correlation matrix is exactly ``target``."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, len(target)))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z.T))).T
    return z @ np.linalg.cholesky(np.array(target)).T


@pytest.mark.parametrize("r23", [0.65, 0.8])
def test_a_heywood_case_is_flagged_and_its_omega_not_reported(r23: float) -> None:
    """Three items with r12 = r13 = 0.9: the exactly identified loading of item 1 is
    λ1² = r12 r13 / r23 > 1, an improper solution; its omega is not reported."""
    x = _exact([[1, 0.9, 0.9], [0.9, 1, r23], [0.9, r23, 1]], 200, 1)
    assert 0.81 / r23 > 1
    found = omega_of(x)
    assert found.heywood
    assert np.isnan(found.omega)
    assert found.reason is Reason.HEYWOOD
    assert len(found.loadings) == 3  # kept for inspection
