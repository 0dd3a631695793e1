"""Change between campaigns: the service against SciPy/pingouin/statsmodels on the
stored responses, its protection (only cells published on both sides), the CLI
and the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pingouin
import pytest
from fastapi.testclient import TestClient
from scipy import stats
from statsmodels.stats.multitest import multipletests
from typer.testing import CliRunner

from tests.signin import make_account, sign_in
from valuechain import Valuechain
from valuechain.cli.main import app as cli
from valuechain.services import measure
from valuechain.services.change import change
from valuechain.services.demo_survey import demo_responses
from valuechain.services.errors import NotFound
from valuechain.web.app import create_app

TOL = 1e-6


@pytest.fixture
def demo(demo_vc: Valuechain) -> Valuechain:
    return demo_vc


def _dimension_scores(provider: str, dimension: str, campaign: str) -> np.ndarray:
    """Each respondent's dimension score (mean of its items), from the demo's own data."""
    out = []
    for r in demo_responses():
        if r.rated_id == provider and r.campaign == campaign:
            items = [a.score for a in r.answers if a.dimension == dimension]
            out.append(sum(items) / len(items))
    return np.array(out)


def test_change_matches_scipy_pingouin_and_statsmodels(demo: Valuechain) -> None:
    found = change(demo)
    assert (found["from"], found["to"], found["correction"]) == ("2026-q1", "2026-q2", "holm")
    cell = next(
        c
        for c in found["cells"]
        if c["by"] == "dimension"
        and c["provider"] == "production-planning"
        and c["dimension"] == "value"
    )
    before = _dimension_scores("production-planning", "value", "2026-q1")
    after = _dimension_scores("production-planning", "value", "2026-q2")
    ref = stats.ttest_ind(after, before, equal_var=False)
    ci = ref.confidence_interval()
    assert cell["n_before"] == before.size and cell["n_after"] == after.size
    assert cell["difference"] == pytest.approx(after.mean() - before.mean(), abs=TOL)
    assert cell["t"] == pytest.approx(ref.statistic, abs=TOL)
    assert cell["df"] == pytest.approx(ref.df, abs=TOL)
    assert cell["p"] == pytest.approx(ref.pvalue, abs=TOL)
    assert (cell["ci_low"], cell["ci_high"]) == pytest.approx((ci.low, ci.high), abs=TOL)
    g = pingouin.compute_effsize(after, before, eftype="hedges")
    assert cell["hedges_g"] == pytest.approx(g, abs=TOL)
    # The planted decline is found, and is the strongest change.
    assert cell["significant"] and cell["difference"] < -0.9
    shown = [c for c in found["cells"] if c["status"] == "compared"]
    assert len(shown) == found["compared"]
    raw = np.array([c["p"] for c in shown], dtype=float)
    for method, name in (("holm", "holm"), ("bh", "fdr_bh")):
        adjusted = [
            c["p_adjusted"]
            for c in change(demo, correction=method)["cells"]
            if c["status"] == "compared"
        ]
        assert np.allclose(adjusted, multipletests(raw, method=name)[1], atol=TOL)


def _same(c: measure.PublishedCell, cell: dict[str, object]) -> bool:
    key = (c.by.value, c.instrument, c.provider, c.customer, c.dimension)
    return key == (
        cell["by"], cell["instrument"], cell["provider"], cell.get("customer"),
        cell.get("dimension"),
    )  # fmt: skip


def test_only_cells_published_in_both_campaigns_are_compared(demo: Valuechain) -> None:
    found = change(demo)
    published_all = measure.published_cells(demo)[2]
    published = {
        (c.by.value, c.instrument, c.provider, c.customer, c.dimension, c.campaign)
        for c in published_all
        if c.moments is not None
    }
    for cell in found["cells"]:
        key = (
            cell["by"], cell["instrument"], cell["provider"], cell.get("customer"),
            cell.get("dimension"),
        )  # fmt: skip
        both = all((*key, campaign) in published for campaign in ("2026-q1", "2026-q2"))
        assert (cell["status"] == "compared") is both, cell
        if cell["status"] == "not measured":
            # A campaign holds no cell at all for it (e.g. an instrument asked once).
            assert cell["suppressed"] is False
            assert not all(
                any(c.campaign == campaign and _same(c, cell) for c in published_all)
                for campaign in ("2026-q1", "2026-q2")
            )
        if cell["status"] == "compared":
            assert min(cell["n_before"], cell["n_after"]) >= found["threshold"]
    hidden = {(c["provider"], c.get("customer")) for c in found["cells"] if c["suppressed"]}
    # Q2 has 3 respondents from maintenance and from business applications.
    assert ("production-planning", "maintenance") in hidden
    assert ("it-service-desk", "business-applications") in hidden
    # A provider total and the visible relationships under it never both show when
    # their difference would be the hidden relationship (protection over all cuts).
    for campaign in ("2026-q1", "2026-q2"):
        scores = measure.scores(demo, "relationship", campaign=campaign)["cells"]
        for cell in found["cells"]:
            if cell["by"] == "relationship" and cell["status"] == "compared":
                match = [
                    s
                    for s in scores
                    if (s["provider"], s["customer"]) == (cell["provider"], cell["customer"])
                ]
                assert match and not match[0]["suppressed"]


def test_raising_the_threshold_suppresses_more(demo: Valuechain) -> None:
    at_five = [c for c in change(demo)["cells"] if c["status"] == "compared"]
    measure.set_threshold(demo, 10)
    found = change(demo)
    shown = [c for c in found["cells"] if c["status"] == "compared"]
    assert all(min(c["n_before"], c["n_after"]) >= 10 for c in shown)
    assert len(shown) < len(at_five)


def test_errors(demo: Valuechain) -> None:
    with pytest.raises(NotFound, match="no campaign"):
        change(demo, "2026-q1", "nope")
    # One campaign named: the other is its default (``to`` the latest).
    assert change(demo, "2026-q1", None)["to"] == "2026-q2"
    with pytest.raises(Exception, match="two different"):
        change(demo, "2026-q2", None)
    with pytest.raises(Exception, match="two different"):
        change(demo, "2026-q1", "2026-q1")


def test_cli_prints_one_json_document(demo: Valuechain, demo_cli_env: dict[str, str]) -> None:
    out = CliRunner().invoke(cli, ["change", "--json", "--from", "2026-q1", "--to", "2026-q2"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["from"] == "2026-q1" and doc["compared"] > 0
    table = CliRunner().invoke(cli, ["change", "--provider", "production-planning"])
    assert table.exit_code == 0 and "cells compared" in table.stdout


@pytest.fixture
def client(demo: Valuechain) -> Iterator[TestClient]:
    make_account(demo)
    with TestClient(create_app(demo)) as c:
        sign_in(c)
        yield c


def test_api_answers_a_providers_cells(client: TestClient) -> None:
    answer = client.get("/api/v1/units/production-planning/change?correction=bh")
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["from"] == "2026-q1" and doc["correction"] == "bh"
    assert {c["provider"] for c in doc["cells"]} == {"production-planning"}
    assert any(
        (c["suppressed"] and "n_before" not in c) or c["n_before"] is None
        for c in doc["cells"]
        if c["suppressed"]
    )
    assert (
        client.get("/api/v1/units/production-planning/change?from=x&to=2026-q2").status_code == 404
    )
    assert client.get("/api/v1/units/nobody/change").status_code == 404
