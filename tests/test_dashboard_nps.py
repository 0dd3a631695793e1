"""The net promoter score in ``scores`` for the recommend instrument, on stored
responses (both databases), against statsmodels' normal interval of the answers
recoded +100 / 0 / −100 (with the plug-in variance of the Wald interval);
suppressed cells get no NPS; the CLI and the dashboard carry it."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest
from statsmodels.stats.weightstats import DescrStatsW
from typer.testing import CliRunner

from valuechain import Valuechain
from valuechain.cli.main import app as cli
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.response import Answer, Response
from valuechain.domain.unit import Unit, UnitKind
from valuechain.services import measure

TOL = 1e-6
RNG = np.random.default_rng(11)
ANSWERS = {
    "assembly": RNG.integers(0, 11, 14).tolist(),
    "packing": RNG.integers(4, 11, 9).tolist(),
    "sales": [10, 2, 9],  # too few: suppressed
}


def _org() -> OrganisationMap:
    units = [Unit("prov", "Provider", UnitKind.TEAM)] + [
        Unit(u, u.title(), UnitKind.TEAM) for u in ANSWERS
    ]
    responses = [
        Response(
            id=f"{customer}-{i}",
            campaign="c1",
            instrument="recommend",
            rater_id=customer,
            rated_id="prov",
            submitted_on=date(2026, 5, 4),
            answers=[Answer("recommend", "recommend", float(score))],
        )
        for customer, scores in ANSWERS.items()
        for i, score in enumerate(scores)
    ]
    return OrganisationMap(units=units, results=[], links=[], people=[], responses=responses)


def _reference(answers: list[int]) -> tuple[float, float, float]:
    x = np.asarray(answers)
    recoded = 100.0 * (np.where(x >= 9, 1, 0) - np.where(x <= 6, 1, 0))
    # The Wald interval uses the plug-in variance (ddof=0): statsmodels' zconfint of
    # the recoded answers with their standard error rescaled from n − 1 to n.
    stats = DescrStatsW(recoded)
    half = stats.zconfint_mean(alpha=0.05)[1] - stats.mean
    half *= np.sqrt((recoded.size - 1) / recoded.size)
    return float(recoded.mean()), float(recoded.mean() - half), float(recoded.mean() + half)


def test_nps_in_scores_matches_statsmodels(vc: Valuechain) -> None:
    vc.write_map(_org())
    cells = measure.scores_with_nps(vc, "relationship")["cells"]
    # sales is too small; packing goes too, or the total minus assembly would be sales.
    assert {c["customer"] for c in cells if c["suppressed"]} == {"sales", "packing"}
    assert all("nps" not in c for c in cells if c["suppressed"])
    shown = [c for c in cells if not c["suppressed"]]
    for cell in shown:
        nps, low, high = _reference(ANSWERS[cell["customer"]])
        assert cell["nps"] == pytest.approx(nps, abs=TOL)
        assert (cell["nps_ci_low"], cell["nps_ci_high"]) == pytest.approx((low, high), abs=TOL)
    provider = measure.scores_with_nps(vc, "provider")["cells"]
    every = [s for scores in ANSWERS.values() for s in scores]
    assert provider[0]["nps"] == pytest.approx(_reference(every)[0], abs=TOL)
    assert (provider[0]["nps_ci_low"], provider[0]["nps_ci_high"]) == pytest.approx(
        _reference(every)[1:], abs=TOL
    )
    assert provider[0]["promoters"] == pytest.approx(np.mean(np.array(every) >= 9), abs=TOL)


def test_cli_scores_carries_the_nps(vc: Valuechain, cli_env: dict[str, str]) -> None:
    vc.write_map(_org())
    out = CliRunner().invoke(cli, ["scores", "--by", "relationship", "--json"])
    assert out.exit_code == 0, out.output
    cells = json.loads(out.stdout)["cells"]
    assert any(c.get("nps") is not None for c in cells)
    assert all("nps" not in c for c in cells if c["suppressed"])


def test_the_dashboard_of_a_recommend_provider_shows_its_nps(vc: Valuechain) -> None:
    from valuechain.services.dashboard import dashboard

    vc.write_map(_org())
    doc = dashboard(vc, "prov")
    every = [s for scores in ANSWERS.values() for s in scores]
    assert doc["instrument"] == "recommend"
    assert doc["nps"]["nps"] == pytest.approx(_reference(every)[0], abs=TOL)
    assert doc["drivers"] is None  # no overall outcome to explain


def test_the_dashboard_page_of_a_recommend_provider(vc: Valuechain) -> None:
    from fastapi.testclient import TestClient

    from tests.signin import admin_client

    for client in admin_client(vc, _org()):
        page = client.get("/units/prov/dashboard")
        assert page.status_code == 200
        assert 'id="nps"' in page.text
        assert "no overall outcome" in page.text
        assert isinstance(client, TestClient)
