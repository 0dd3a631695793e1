"""The importance-weighted SERVQUAL total: the formula against a hand computation,
the service against the same computation from the raw answers, its protection (too
few respondents gave a split; a split group that would reveal a smaller one by
subtraction; nothing about an open campaign), the sealed answers of a real campaign,
the `scores --json` field, the dashboard and the demo. Both databases."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from tests.signin import admin_client
from valuechain import Valuechain
from valuechain.analytics.confidentiality import reveals
from valuechain.analytics.score import importance_weighted_gap
from valuechain.cli.main import app
from valuechain.domain.instrument import INTERNAL_SERVQUAL
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.response import Answer, Response
from valuechain.domain.unit import Unit, UnitKind
from valuechain.services import campaign as campaigns
from valuechain.services import measure
from valuechain.services.dashboard import dashboard
from valuechain.services.demo_survey import SERVQUAL_PROVIDER
from valuechain.store import campaign as campaign_store
from valuechain.store.tables import CampaignRow

TOL = 1e-9
DIMS = [d.key for d in INTERNAL_SERVQUAL.drivers]
SPLITS = tuple(
    dict(zip(DIMS, points, strict=True))
    for points in ((10.0, 30.0, 30.0, 20.0, 10.0), (20.0,) * 5, (0.0, 50.0, 25.0, 15.0, 10.0))
)


def test_formula_against_a_hand_computation() -> None:
    # Gaps −1, −0.5, 0, 0.5, 1; points 30, 20, 20, 20, 10 (out of 100).
    found = importance_weighted_gap([[-1.0, -0.5, 0.0, 0.5, 1.0]], [[30, 20, 20, 20, 10]])
    # Unweighted: (−1 − 0.5 + 0 + 0.5 + 1) / 5 = 0.
    assert found.unweighted[0] == pytest.approx(0.0, abs=TOL)
    # Weighted: 0.3·(−1) + 0.2·(−0.5) + 0.2·0 + 0.2·0.5 + 0.1·1 = −0.2.
    assert found.weighted[0] == pytest.approx(-0.2, abs=TOL)
    # Equal points give the unweighted total; a missing split gives nan.
    equal = importance_weighted_gap([[-1.0, -0.5, 0.0, 0.5, 2.0]], [[20] * 5])
    assert equal.weighted[0] == pytest.approx(equal.unweighted[0], abs=TOL) == pytest.approx(0.2)
    assert np.isnan(importance_weighted_gap([[1.0] * 5], [[np.nan] * 5]).weighted[0])


def _response(
    rid: str, customer: str, rng: random.Random, split: dict[str, float] | None
) -> Response:
    answers = [
        Answer(item.key, item.dimension, float(rng.randint(2, 7)), float(rng.randint(4, 7)))
        for item in INTERNAL_SERVQUAL.items
    ]
    return Response(
        id=rid,
        campaign="c1",
        instrument=INTERNAL_SERVQUAL.key,
        rater_id=customer,
        rated_id="prov",
        submitted_on=date(2026, 5, 4),
        answers=answers,
        importance=dict(split) if split else {},
    )


def _org(sizes: dict[str, int], split_givers: Sequence[str], seed: int = 3) -> OrganisationMap:
    """``sizes`` respondents per customer unit; the responses whose ids are in
    ``split_givers`` (``customer-i``) give one of :data:`SPLITS`."""
    rng = random.Random(seed)
    responses = [
        _response(
            f"{customer}-{i}",
            customer,
            rng,
            SPLITS[i % len(SPLITS)] if f"{customer}-{i}" in split_givers else None,
        )
        for customer, size in sizes.items()
        for i in range(size)
    ]
    units = [Unit("prov", "Provider", UnitKind.TEAM)] + [
        Unit(u, u.title(), UnitKind.TEAM) for u in sizes
    ]
    return OrganisationMap(units=units, results=[], links=[], people=[], responses=responses)


def _hand(org: OrganisationMap) -> tuple[list[float], list[float], float, float]:
    """Dimension gaps (each respondent's mean item gap, averaged), mean points of the
    split givers, and the two totals, computed directly from the responses."""
    gaps = []
    for d in DIMS:
        per_respondent = [
            np.mean([a.score - a.expectation for a in r.answers if a.dimension == d])  # type: ignore[operator]
            for r in org.responses
        ]
        gaps.append(float(np.mean(per_respondent)))
    givers = [r for r in org.responses if r.importance]
    points = [float(np.mean([r.importance[d] for r in givers])) for d in DIMS]
    unweighted = sum(gaps) / len(gaps)
    weighted = sum(p / 100 * g for p, g in zip(points, gaps, strict=True))
    return gaps, points, unweighted, weighted


def _one(vc: Valuechain, **kwargs: object) -> dict[str, object]:
    found = measure.servqual_totals(vc, **kwargs)  # type: ignore[arg-type]
    assert [t["provider"] for t in found["totals"]] == ["prov"]
    total: dict[str, object] = found["totals"][0]
    return total


def test_service_matches_the_hand_computation(vc: Valuechain) -> None:
    sizes = {"a": 8, "b": 7}
    org = _org(sizes, [f"{c}-{i}" for c, n in sizes.items() for i in range(n)])
    vc.write_map(org)
    gaps, points, unweighted, weighted = _hand(org)
    total = _one(vc)
    assert total["importance_n"] == 15 and total["importance_suppressed"] is False
    rows = total["dimensions"]
    assert isinstance(rows, list) and [r["dimension"] for r in rows] == DIMS
    assert [r["gap"] for r in rows] == pytest.approx(gaps, abs=TOL)
    assert [r["importance"] for r in rows] == pytest.approx(points, abs=TOL)
    assert sum(r["importance"] for r in rows) == pytest.approx(100.0, abs=TOL)
    assert total["total_gap"] == pytest.approx(unweighted, abs=TOL)
    assert total["weighted_total_gap"] == pytest.approx(weighted, abs=TOL)
    assert total["weighted_total_gap"] != pytest.approx(total["total_gap"], abs=1e-6)


def test_mean_points_only_over_respondents_who_gave_a_split(vc: Valuechain) -> None:
    # Customer "a" (8) gave splits, "b" (6) did not: the split group is exactly a
    # published relationship, so nothing smaller can be derived from it.
    org = _org({"a": 8, "b": 6}, [f"a-{i}" for i in range(8)])
    vc.write_map(org)
    _gaps, points, _unweighted, weighted = _hand(org)
    total = _one(vc)
    assert total["importance_n"] == 8
    assert [r["importance"] for r in total["dimensions"]] == pytest.approx(points, abs=TOL)  # type: ignore[attr-defined]
    assert total["weighted_total_gap"] == pytest.approx(weighted, abs=TOL)


def test_suppressed_when_fewer_than_the_threshold_gave_a_split(vc: Valuechain) -> None:
    org = _org({"a": 8, "b": 7}, ["a-0", "a-1", "b-0", "b-1"])  # 4 < 5
    vc.write_map(org)
    _gaps, _points, unweighted, _weighted = _hand(org)
    total = _one(vc)
    assert total["importance_suppressed"] is True and total["importance_n"] is None
    assert all(r["importance"] is None for r in total["dimensions"])  # type: ignore[attr-defined]
    assert total["weighted_total_gap"] is None
    # The unweighted total comes from the published gaps only and stays.
    assert total["total_gap"] == pytest.approx(unweighted, abs=TOL)
    # Five are enough, when every group they form with the shown cells has five too:
    # 5 of a's 10 (a minus them is 5 as well), none of b's 7.
    vc.write_map(_org({"a": 10, "b": 7}, [f"a-{i}" for i in range(5)]), replace=True)
    assert _one(vc)["importance_n"] == 5


def test_suppressed_when_the_split_group_differs_from_a_shown_group_by_a_few(
    vc: Valuechain,
) -> None:
    # 15 respondents, 12 gave a split: the provider total (15) minus the split group
    # (12) would count the 3 who did not, so the split is not shown.
    everyone = [f"{c}-{i}" for c, n in {"a": 8, "b": 7}.items() for i in range(n)]
    vc.write_map(_org({"a": 8, "b": 7}, everyone[:12]))
    total = _one(vc)
    assert total["importance_suppressed"] is True and total["weighted_total_gap"] is None


def test_a_shown_split_never_reveals_a_small_group(vc: Valuechain) -> None:
    """Random populations and split givers (per customer unit: all, none or some of
    its respondents): whenever the split is shown, its group next to every group
    shown in the scores leaves no group below the threshold derivable (the rank
    test); when it is hidden with enough givers, the rank test finds the leak. Both
    outcomes occur."""
    limit = measure.threshold(vc)
    outcomes = set()
    for seed in range(12):
        rng = random.Random(seed)
        sizes = {c: rng.randint(3, 9) for c in ("a", "b", "c")}
        givers: list[str] = []
        for customer, size in sizes.items():
            share = rng.choice((0.0, 1.0, 0.7))
            givers += [f"{customer}-{i}" for i in range(size) if rng.random() < share]
        vc.write_map(_org(sizes, givers, seed), replace=True)
        total = _one(vc)
        everyone = [f"{c}-{i}" for c, n in sizes.items() for i in range(n)]
        shown: list[frozenset[str]] = []
        for by in measure.By:
            for cell in measure.scores(vc, by)["cells"]:
                if not cell["suppressed"]:
                    customer = cell.get("customer")
                    shown.append(
                        frozenset(
                            r for r in everyone if customer is None or r.startswith(f"{customer}-")
                        )
                    )
        if total["importance_n"] is not None:
            outcomes.add("shown")
            assert total["importance_n"] == len(givers)
            assert not reveals([*shown, frozenset(givers)], limit)
        elif givers:
            outcomes.add("hidden")
            assert reveals([*shown, frozenset(givers)], limit)
    assert outcomes == {"shown", "hidden"}


def _set_closes_on(vc: Valuechain, campaign: str, day: date) -> None:
    with vc.engine.begin() as conn:
        conn.execute(
            update(CampaignRow.__table__)  # type: ignore[arg-type]
            .where(CampaignRow.org_id == vc.org_id, CampaignRow.id == campaign)
            .values(closes_on=day)
        )


def test_nothing_while_the_campaign_is_open(vc: Valuechain) -> None:
    sizes = {"a": 8, "b": 7}
    vc.write_map(_org(sizes, [f"{c}-{i}" for c, n in sizes.items() for i in range(n)]))
    assert _one(vc)["weighted_total_gap"] is not None
    _set_closes_on(vc, "c1", date.today() + timedelta(days=3))
    assert measure.servqual_totals(vc)["totals"] == []
    assert measure.servqual_totals(vc, campaign="c1")["totals"] == []
    assert measure.servqual_totals(vc, campaign="c1", provider="prov")["totals"] == []
    # Closed again (its last day is over): the numbers come back.
    _set_closes_on(vc, "c1", date.today() - timedelta(days=1))
    assert _one(vc, campaign="c1")["weighted_total_gap"] is not None


def test_sealed_splits_count_only_once_the_campaign_closes(vc: Valuechain) -> None:
    """A real campaign: answers (with their splits) are sealed while it is open, and
    join the summaries, importance included, when it closes."""
    sizes = {"a": 8, "b": 7}
    vc.write_map(_org(sizes, [f"{c}-{i}" for c, n in sizes.items() for i in range(n)]))
    campaigns.create_campaign(
        vc, "c2", instrument=INTERNAL_SERVQUAL.key, relationships=[("prov", "a"), ("prov", "b")]
    )
    rng = random.Random(9)
    with vc.engine.begin() as conn:
        for customer, size in sizes.items():
            for i in range(size):
                response = _response(f"c2-{customer}-{i}", customer, rng, SPLITS[0])
                response.campaign = "c2"
                campaign_store.seal_response(conn, vc.org_id, response, response.importance)
    assert measure.servqual_totals(vc, campaign="c2")["totals"] == []
    campaigns.close_campaign(vc, "c2")
    total = _one(vc, campaign="c2")
    assert total["importance_n"] == 15
    assert [r["importance"] for r in total["dimensions"]] == pytest.approx(  # type: ignore[attr-defined]
        [SPLITS[0][d] for d in DIMS], abs=TOL
    )


def test_scores_json_carries_the_totals(vc: Valuechain, cli_env: dict[str, str]) -> None:
    sizes = {"a": 8, "b": 7}
    org = _org(sizes, [f"{c}-{i}" for c, n in sizes.items() for i in range(n)])
    vc.write_map(org)
    _gaps, _points, unweighted, weighted = _hand(org)
    for by in ("provider", "dimension"):
        out = CliRunner().invoke(app, ["scores", "--json", "--by", by])
        assert out.exit_code == 0, out.output
        doc = json.loads(out.stdout)  # exactly one document
        assert {"threshold", "by", "campaign", "cells", "servqual_totals"} <= set(doc)
        assert doc["cells"] and all("suppressed" in c for c in doc["cells"])
        (total,) = doc["servqual_totals"]
        assert total["provider"] == "prov" and total["importance_n"] == 15
        assert total["total_gap"] == pytest.approx(unweighted, abs=TOL)
        assert total["weighted_total_gap"] == pytest.approx(weighted, abs=TOL)
    table = CliRunner().invoke(app, ["scores"])
    assert table.exit_code == 0 and "weighted gap" in table.stdout


def test_dashboard_shows_the_weighted_total(vc: Valuechain) -> None:
    sizes = {"a": 8, "b": 7}
    org = _org(sizes, [f"{c}-{i}" for c, n in sizes.items() for i in range(n)])
    _gaps, _points, _unweighted, weighted = _hand(org)
    for client in admin_client(vc, org):
        doc = dashboard(vc, "prov")
        assert doc["servqual_totals"]["weighted_total_gap"] == pytest.approx(weighted, abs=TOL)
        page = client.get("/units/prov/dashboard")
        assert page.status_code == 200
        assert 'id="table-importance"' in page.text
        assert f"{weighted:.2f}" in page.text.split('id="total-gap-weighted"')[1][:40]
        api = client.get("/api/v1/units/prov/scores").json()
        assert api["servqual_totals"][0]["weighted_total_gap"] == pytest.approx(weighted)


def test_demo_shows_a_weighted_total(demo_vc: Valuechain) -> None:
    vc = demo_vc
    doc = dashboard(vc, SERVQUAL_PROVIDER)
    totals = doc["servqual_totals"]
    assert doc["instrument"] == INTERNAL_SERVQUAL.key and totals is not None
    assert totals["importance_n"] >= measure.threshold(vc)
    # The story: the biggest gap is where customers put the most points.
    assert totals["weighted_total_gap"] < totals["total_gap"] < 0
