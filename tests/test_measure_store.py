"""Survey storage, import of items.csv and responses.csv, and the protected survey
numbers of services.measure, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import json
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import inspect, select
from typer.testing import CliRunner

from valuechain import Valuechain
from valuechain.analytics.confidentiality import _linear_leak
from valuechain.cli.main import app
from valuechain.domain.instrument import SERVICE_FACTORS
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.response import Answer, Response
from valuechain.domain.unit import Unit, UnitKind
from valuechain.services import measure
from valuechain.services.bundle import BundleError, export_bundle, import_bundle
from valuechain.store.measure import ANSWERS, RESPONSES, count_survey

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "examples" / "bundle"
MEASURE = ROOT / "examples" / "measure"

# provider -> customer -> respondents per campaign (q1, q2)
PLAN: dict[str, dict[str, tuple[int, int]]] = {
    "pay": {"sales": (8, 7), "fin": (8, 9), "legal": (4, 3)},
    "it": {"sales": (6, 6), "fin": (5, 2), "ops": (12, 11)},
}


def survey_map(seed: int = 1) -> tuple[OrganisationMap, dict[str, tuple[str, str, str]]]:
    """Units and service-factor responses per PLAN; also each response's
    (campaign, provider, customer)."""
    rng = np.random.default_rng(seed)
    names = sorted({p for p in PLAN} | {c for cs in PLAN.values() for c in cs})
    org = OrganisationMap(units=[Unit(u, u.title(), UnitKind.TEAM) for u in names])
    where: dict[str, tuple[str, str, str]] = {}
    for provider, customers in PLAN.items():
        for customer, sizes in customers.items():
            for campaign, size in zip(("q1", "q2"), sizes, strict=True):
                for i in range(size):
                    rid = f"{provider}-{customer}-{campaign}-{i}"
                    where[rid] = (campaign, provider, customer)
                    base = rng.integers(2, 7)
                    answers = [
                        Answer(
                            item.key,
                            item.dimension,
                            float(np.clip(base + rng.integers(-1, 2), 1, 7)),
                        )
                        for item in SERVICE_FACTORS.items
                    ]
                    org.responses.append(
                        Response(
                            rid,
                            campaign,
                            "service_factors",
                            customer,
                            provider,
                            date(2026, 3 if campaign == "q1" else 6, 1),
                            answers,
                        )
                    )
    return org, where


def copy_measure(tmp_path: Path) -> Path:
    target = tmp_path / "bundle"
    shutil.copytree(MEASURE, target)
    return target


def test_import_stores_responses_without_persons_or_times(vc: Valuechain) -> None:
    import_bundle(vc, SMALL)
    summary = import_bundle(vc, MEASURE)
    assert summary.rows["responses"] == 7 and summary.rows["items"] == 3
    with vc.engine.connect() as conn:
        assert count_survey(conn, vc.org_id) == {"responses": 4, "answers": 6, "comments": 2}
        days = conn.execute(
            select(RESPONSES.c.id, RESPONSES.c.submitted_on).where(RESPONSES.c.org_id == vc.org_id)
        ).all()
        gap = conn.execute(
            select(ANSWERS.c.expectation, ANSWERS.c.score).where(
                ANSWERS.c.org_id == vc.org_id, ANSWERS.c.response_id == "a2"
            )
        ).one()
    assert dict(days)["a2"] == date(2026, 3, 3)
    assert tuple(gap) == (6.0, 4.0)
    columns = {c["name"] for c in inspect(vc.engine).get_columns("responses")}
    assert columns == {
        "org_id",
        "id",
        "campaign_id",
        "instrument",
        "rater_id",
        "rated_id",
        "submitted_on",
        "summarised",  # whether its provider's summary includes it: no identity, no time
    }
    # Importing the same responses again is refused (their campaign is stored, and
    # a stored response is never replaced): nothing doubles, nothing changes.
    with pytest.raises(BundleError, match="a campaign already stored"):
        import_bundle(vc, MEASURE)
    with vc.engine.connect() as conn:
        assert count_survey(conn, vc.org_id)["answers"] == 6
    assert "handover" in measure.instruments(vc)


def test_response_problems_are_located_and_nothing_is_written(
    vc: Valuechain, tmp_path: Path
) -> None:
    bundle = copy_measure(tmp_path)
    with (bundle / "responses.csv").open("a", encoding="utf-8") as out:
        out.write("b1,2026-q1,nosuch,ship,pack,2026-03-02,x,,5,\n")  # line 9
        out.write("b2,2026-q1,service_factors,ship,nobody,2026-03-02,courtesy_1,,5,\n")
        out.write("b3,2026-q1,service_factors,ship,pack,2026-03-02,courtesy_9,,5,\n")
        out.write("b4,2026-q1,service_factors,ship,pack,2026-03-02,courtesy_1,,8,\n")
        out.write("b5,2026-q1,service_factors,ship,pack,yesterday,courtesy_1,,5,\n")
        out.write("b6,2026-q1,service_factors,ship,ship,2026-03-02,courtesy_1,,5,\n")
        out.write("b7,2026-q1,service_factors,ship,pack,2026-03-02,courtesy_1,3,5,\n")
        out.write("a1,2026-q1,service_factors,crm,pack,2026-03-02,courtesy_2,,5,\n")
        out.write("a4,2026-q1,handover,pack,plan,2026-03-05,complete,,4,\n")
    with pytest.raises(BundleError) as caught:
        import_bundle(vc, bundle)
    located = [(p.file, p.line, p.column) for p in caught.value.problems]
    assert located == [
        ("responses.csv", 9, "instrument"),
        ("responses.csv", 10, "rated_id"),
        ("responses.csv", 11, "item"),
        ("responses.csv", 12, "score"),
        ("responses.csv", 13, "submitted_at"),
        ("responses.csv", 14, "rated_id"),
        ("responses.csv", 15, "expectation"),
        ("responses.csv", 16, None),
        ("responses.csv", 17, "item"),
    ]
    assert "a whole number from 1–7" in str(caught.value.problems[3])
    assert vc.counts()["units"] == 0
    with vc.engine.connect() as conn:
        assert count_survey(conn, vc.org_id)["responses"] == 0


def test_items_problems_are_located(vc: Valuechain, tmp_path: Path) -> None:
    bundle = copy_measure(tmp_path)
    with (bundle / "items.csv").open("a", encoding="utf-8") as out:
        out.write("handover,late,handover,Another question?,1,9\n")  # line 5: other scale
    with pytest.raises(BundleError) as caught:
        import_bundle(vc, bundle)
    assert [(p.file, p.line, p.column) for p in caught.value.problems] == [
        ("items.csv", 5, "scale_min")
    ]


def test_scores_json_contract(vc: Valuechain, cli_env: dict[str, str]) -> None:
    vc.write_map(survey_map()[0])
    out = CliRunner().invoke(app, ["scores", "--json", "--by", "relationship"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["threshold"] == 5
    cells = {(c["provider"], c["customer"]): c for c in doc["cells"]}
    assert set(cells) == {(p, c) for p, cs in PLAN.items() for c in cs}
    for cell in doc["cells"]:
        assert {"provider", "customer", "n", "mean", "ci_low", "ci_high", "suppressed"} <= set(cell)
        if cell["suppressed"]:
            assert cell["n"] is None and cell["mean"] is None and cell["ci_low"] is None
        else:
            assert cell["n"] >= 5 and cell["ci_low"] <= cell["mean"] <= cell["ci_high"]
    assert doc["campaign"] == "q2"  # the latest by default
    assert cells["pay", "legal"]["suppressed"]  # 3 respondents
    # 19 in all, 7 + 9 shown would leave legal's 3: one more is hidden, the smallest.
    assert cells["pay", "sales"]["suppressed"] and not cells["pay", "fin"]["suppressed"]
    out = CliRunner().invoke(app, ["scores", "--json", "--by", "dimension", "--campaign", "q1"])
    doc = json.loads(out.stdout)
    dims = [c["dimension"] for c in doc["cells"] if c["provider"] == "it"]
    assert dims == [d.key for d in SERVICE_FACTORS.dimensions]
    out = CliRunner().invoke(app, ["scores", "--campaign", "nope"])
    assert out.exit_code != 0
    human = CliRunner().invoke(app, ["scores", "--by", "relationship"])
    assert human.exit_code == 0 and "suppressed" in human.stdout


def test_no_small_group_is_revealed_by_combining_cuts(vc: Valuechain) -> None:
    """The attack: take every number the service publishes in every cut (by provider,
    relationship and dimension; pooled and per campaign; drivers per provider) and
    try every combination of them. With the respondents of each published cell
    known, a group of 1 to k − 1 respondents is derivable exactly when some
    combination of cells lives on small atoms only (rank test), and in particular
    when two nested cells differ by 1 to k − 1 respondents."""
    org, where = survey_map()
    vc.write_map(org)
    k = measure.threshold(vc)

    def members(cut: str, campaign: str | None, cell: dict[str, object]) -> frozenset[str]:
        return frozenset(
            rid
            for rid, (c, p, cust) in where.items()
            if p == cell["provider"]
            and (campaign is None or c == campaign)
            and (cut != "relationship" or cust == cell["customer"])
        )

    published: list[frozenset[str]] = []
    for cut, campaign in itertools.product(("provider", "relationship", "dimension"), ("q1", "q2")):
        doc = measure.scores(vc, cut, campaign=campaign)
        for cell in doc["cells"]:
            group = members(cut, campaign, cell)
            if cell["suppressed"]:
                assert cell["n"] is None
                continue
            assert cell["n"] == len(group) >= k
            published.append(group)
    for provider in PLAN:
        found = measure.drivers(vc, provider=provider)
        if not found["suppressed"]:
            published.append(frozenset(r for r, (_c, p, _u) in where.items() if p == provider))
    # Every difference of two nested published cells.
    for a, b in itertools.permutations(set(published), 2):
        if b < a:
            assert len(a - b) >= k, sorted(a - b)
    # Any combination of cells (the exact test over atoms).
    ids = sorted(set().union(*published))
    pattern = np.array([[rid in cell for cell in published] for rid in ids], dtype=bool)
    assert _linear_leak(pattern, np.ones(len(ids), dtype=np.int64), k) == 0
    # Protection does not hide everything: provider totals stay, and so do most
    # relationships (q1: pay <- legal (4) and one complement are hidden).
    for campaign in ("q1", "q2"):
        assert not any(c["suppressed"] for c in measure.scores(vc, campaign=campaign)["cells"])
    cells = measure.scores(vc, "relationship", campaign="q1")["cells"]
    assert sum(not c["suppressed"] for c in cells) == 4


def test_reliability_alpha_equals_pingouin(vc: Valuechain) -> None:
    pingouin = pytest.importorskip("pingouin")
    import pandas as pd

    org, _ = survey_map(seed=7)
    vc.write_map(org)
    found = measure.reliability(vc)
    for scale in found["scales"]:
        dimension = SERVICE_FACTORS.dimension(scale["dimension"])
        data = pd.DataFrame(
            [
                {a.item: a.score for a in r.answers if a.dimension == dimension.key}
                for r in org.responses
            ]
        )
        alpha, _ci = pingouin.cronbach_alpha(data)
        assert scale["n"] == len(org.responses) and not scale["suppressed"]
        assert scale["alpha"] == pytest.approx(alpha, abs=1e-6)
        assert scale["items"] == len(dimension.items)


def test_drivers_and_threshold(vc: Valuechain, cli_env: dict[str, str]) -> None:
    vc.write_map(survey_map()[0])
    out = CliRunner().invoke(app, ["drivers", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["outcome"] == "overall" and doc["n"] == sum(
        sum(s) for cs in PLAN.values() for s in cs.values()
    )
    assert {d["dimension"] for d in doc["drivers"]} == {d.key for d in SERVICE_FACTORS.drivers}
    assert sum(d["weight"] for d in doc["drivers"]) == pytest.approx(doc["r2"])
    for d in doc["drivers"]:
        assert {"dimension", "weight", "ci_low", "ci_high", "performance"} <= set(d)
    out = CliRunner().invoke(app, ["reliability", "--json"])
    assert [s["dimension"] for s in json.loads(out.stdout)["scales"]] == [
        d.key for d in SERVICE_FACTORS.dimensions if len(d.items) > 1
    ]
    measure.set_threshold(vc, 10)
    cells = measure.scores(vc, "relationship", campaign="q2")["cells"]
    assert all(c["suppressed"] for c in cells if c["customer"] in {"sales", "fin"})
    with pytest.raises(Exception, match="from 3 to 10"):
        measure.set_threshold(vc, 2)


def test_demo_surveys_tell_their_story(demo_vc: Valuechain) -> None:
    vc = demo_vc

    def value(campaign: str) -> dict[str, float]:
        cells = measure.scores(vc, "dimension", campaign=campaign)["cells"]
        return {c["provider"]: c["mean"] for c in cells if c["dimension"] == "value"}

    q1, q2 = value("2026-q1"), value("2026-q2")
    assert q1["production-planning"] - q2["production-planning"] > 0.9
    assert all(abs(q1[p] - q2[p]) < 0.5 for p in q1 if p != "production-planning")
    found = measure.drivers(vc)
    ranked = sorted(found["drivers"], key=lambda d: -d["weight"])
    assert ranked[0]["dimension"] == "problem_solving"
    cells = measure.scores(vc, "relationship", campaign="2026-q2")["cells"]
    hidden = {(c["provider"], c["customer"]) for c in cells if c["suppressed"]}
    assert ("production-planning", "maintenance") in hidden
    assert ("it-service-desk", "business-applications") in hidden
    assert len(hidden) < len(cells) / 2


def test_api_scores_are_scoped_and_protected(vc: Valuechain) -> None:
    from fastapi.testclient import TestClient

    from tests.signin import make_account
    from valuechain.domain.account import AccountRole
    from valuechain.domain.person import Person, Role
    from valuechain.edge.dependencies import SESSION_COOKIE
    from valuechain.services import accounts
    from valuechain.web.app import create_app

    org, _ = survey_map()
    org.people = [Person("p1", "Lea Lead", "lead@example.org", "pay", Role.LEAD)]
    vc.write_map(org)
    make_account(vc, "lead@example.org", AccountRole.LEAD, person_id="p1")
    account = accounts.account_by_email(vc, "lead@example.org")
    assert account is not None
    client = TestClient(create_app(vc))
    client.cookies.set(SESSION_COOKIE, accounts.start_session(vc, account, address="test").token)
    answer = client.get("/api/v1/units/pay/scores", params={"by": "relationship"})
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["campaign"] == "q2" and {c["provider"] for c in doc["cells"]} == {"pay"}
    expected = [c for c in measure.scores(vc, "relationship")["cells"] if c["provider"] == "pay"]
    assert [{k: c[k] for k in e} for c, e in zip(doc["cells"], expected, strict=True)] == expected
    legal = next(c for c in doc["cells"] if c["customer"] == "legal")
    assert legal["suppressed"] and legal["n"] is None and legal["mean"] is None
    assert client.get("/api/v1/units/it/scores").status_code == 403
    drivers = client.get("/api/v1/units/pay/drivers").json()
    assert drivers["provider"] == "pay" and drivers["outcome"] == "overall"


def test_export_carries_custom_instruments_but_never_responses(
    vc: Valuechain, tmp_path: Path
) -> None:
    import_bundle(vc, SMALL)
    import_bundle(vc, MEASURE)
    first = tmp_path / "first"
    counts = export_bundle(vc, first)
    assert counts["items"] == 3
    assert not (first / "responses.csv").exists()
    assert (first / "items.csv").read_text(encoding="utf-8") == (
        (MEASURE / "items.csv").read_text(encoding="utf-8")
    )
    other = Valuechain(vc.engine, vc.organisation + "-copy", create=True)
    import_bundle(other, first)
    second = tmp_path / "second"
    export_bundle(other, second)
    for name in ("units.csv", "results.csv", "links.csv", "people.csv", "items.csv"):
        assert (second / name).read_bytes() == (first / name).read_bytes(), name
