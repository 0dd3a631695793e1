"""`valuechain connect` over a stored organisation on both databases: line of sight
per internal relationship, paths of one unit, internal focus, and the correlation
of published relationship scores with external outcomes (against SciPy), through
the service, the CLI, the API and the unit page; and the demo's story."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import numpy as np
import pytest
from fastapi.testclient import TestClient
from scipy import stats
from typer.testing import CliRunner

from tests.signin import admin_client
from valuechain import Valuechain
from valuechain.cli.main import app
from valuechain.domain.instrument import PULSE
from valuechain.domain.link import Link, Relation
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.outcome import Outcome
from valuechain.domain.response import Answer, Response
from valuechain.domain.result import Result, ResultKind
from valuechain.domain.unit import Unit, UnitKind
from valuechain.services import measure
from valuechain.services.connect import INTERNAL_FOCUS, MIN_PERIODS, connect

TEAM, DEPT, CUSTOMER = UnitKind.TEAM, UnitKind.DEPARTMENT, UnitKind.EXTERNAL_CUSTOMER
INT, FIN = ResultKind.INTERMEDIATE, ResultKind.FINISHED
CONSUMES, PAYS, DEPENDS = Relation.CONSUMES, Relation.PAYS, Relation.DEPENDS_ON
MONTHS = [f"2026-{m:02d}" for m in range(1, 9)]
# make's monthly rating of plan (5 respondents each) and the customers' satisfaction.
PLAN_SCORES = [[3, 3, 4, 3, 3], [4, 4, 4, 5, 4], [2, 3, 2, 2, 3], [4, 5, 5, 4, 4],
               [3, 4, 3, 3, 4], [5, 5, 4, 5, 5], [2, 2, 3, 2, 2], [4, 4, 3, 4, 4]]  # fmt: skip
RETAIL = [7.1, 7.6, 6.8, 7.9, 7.2, 8.1, 6.9, 7.4]
WEB = [8.0, 8.2, 7.7, 8.3, 8.1, 8.6, 7.5, 8.2]


def org() -> OrganisationMap:
    """plan -> make -> pack -> retail and web; make's scrap goes to ctrl, which only
    trades reports with audit (a closed loop); ops groups teams and makes nothing."""
    responses = []
    for i, month in enumerate(MONTHS):
        day = date(2026, i + 1, 25)
        for k, score in enumerate(PLAN_SCORES[i]):
            responses.append(_pulse(f"p{i}-{k}", month, "make", "plan", day, score))
        if i >= 4:  # pack rates make only in the last four months: too few periods
            for k in range(5):
                responses.append(_pulse(f"m{i}-{k}", month, "pack", "make", day, 3 + k % 2))
        if i < 2:  # ctrl rates make with three people: never published
            for k in range(3):
                responses.append(_pulse(f"c{i}-{k}", month, "ctrl", "make", day, 2))
    return OrganisationMap(
        units=[
            Unit("ops", "Operations", DEPT),
            Unit("plan", "Planning", TEAM, "ops"),
            Unit("make", "Machining", TEAM, "ops"),
            Unit("pack", "Packing", TEAM, "ops"),
            Unit("ctrl", "Controlling", TEAM),
            Unit("audit", "Audit", TEAM),
            Unit("retail", "Retail", CUSTOMER),
            Unit("web", "Web shop", CUSTOMER),
        ],
        results=[
            Result("plan-r", "plan", "Weekly plan", INT),
            Result("parts", "make", "Parts", INT),
            Result("scrap", "make", "Scrap report", INT),
            Result("boxes", "pack", "Boxes", FIN),
            Result("ctrl-r", "ctrl", "Cost report", INT),
            Result("audit-r", "audit", "Audit note", INT),
        ],
        links=[
            Link("plan-r", "make", DEPENDS),
            Link("parts", "pack", CONSUMES),
            Link("scrap", "ctrl", CONSUMES),
            Link("boxes", "retail", PAYS),
            Link("boxes", "web", PAYS),
            Link("ctrl-r", "audit", DEPENDS),
            Link("audit-r", "ctrl", DEPENDS),
        ],
        responses=responses,
        outcomes=[
            Outcome(unit, month, "satisfaction", value)
            for unit, series in (("retail", RETAIL), ("web", WEB))
            for month, value in zip(MONTHS, series, strict=True)
        ],
    )


def _pulse(rid: str, month: str, rater: str, rated: str, day: date, score: int) -> Response:
    return Response(
        rid,
        f"{month}-pulse",
        PULSE.key,
        rater,
        rated,
        day,
        answers=[Answer("need_now", "need", float(score))],
    )


@pytest.fixture
def stored(vc: Valuechain) -> Valuechain:
    vc.write_map(org())
    return vc


def by_key(doc: dict) -> dict[tuple[str, str], dict]:  # type: ignore[type-arg]
    return {(r["result"], r["customer"]): r for r in doc["relationships"]}


def test_line_of_sight_and_internal_focus(stored: Valuechain) -> None:
    doc = connect(stored, over_time=False)
    rows = by_key(doc)
    assert set(rows) == {
        ("plan-r", "make"),
        ("parts", "pack"),
        ("scrap", "ctrl"),
        ("ctrl-r", "audit"),
        ("audit-r", "ctrl"),
    }
    plan = rows[("plan-r", "make")]
    assert plan["line_of_sight"] and plan["length"] == 3 and plan["flags"] == []
    assert plan["external"] == ["retail", "web"] and plan["relations"] == ["depends_on"]
    assert rows[("parts", "pack")]["length"] == 2
    for key in (("scrap", "ctrl"), ("ctrl-r", "audit"), ("audit-r", "ctrl")):
        assert rows[key]["flags"] == [INTERNAL_FOCUS] and rows[key]["length"] is None
    # Units that make something and serve no external customer; ops makes nothing.
    assert [f["unit"] for f in doc["internal_focus"]] == ["audit", "ctrl"]
    assert "over_time" not in plan
    assert doc["outcomes"] == {
        "metrics": ["satisfaction"],
        "first_period": "2026-01",
        "last_period": "2026-08",
        "customers": 2,
    }
    assert doc["entitlement"]["assessed"] is False
    assert doc["summary"].startswith("2 of 5 internal relationships have a line of sight")


def test_paths_of_one_unit(stored: Valuechain) -> None:
    doc = connect(stored, "plan", over_time=False)
    (row,) = doc["relationships"]
    assert row["paths"] == [
        {"external": "retail", "path": ["plan", "make", "pack", "retail"], "length": 3},
        {"external": "web", "path": ["plan", "make", "pack", "web"], "length": 3},
    ]
    assert doc["internal_focus"] == []
    assert connect(stored, "ctrl", over_time=False)["internal_focus"][0]["unit"] == "ctrl"


def test_correlation_matches_scipy_on_published_scores(stored: Valuechain) -> None:
    rows = by_key(connect(stored))
    (plan,) = rows[("plan-r", "make")]["over_time"]
    x = [float(np.mean(s)) for s in PLAN_SCORES]
    y = [(a + b) / 2 for a, b in zip(RETAIL, WEB, strict=True)]
    ref = stats.pearsonr(x, y)
    low, high = ref.confidence_interval(0.95)
    assert plan["n"] == len(MONTHS) >= MIN_PERIODS
    assert plan["r"] == pytest.approx(ref.statistic, abs=1e-6)
    assert plan["ci_low"] == pytest.approx(low, abs=1e-6)
    assert plan["ci_high"] == pytest.approx(high, abs=1e-6)
    assert plan["p_value"] == pytest.approx(ref.pvalue, abs=1e-6)


def test_small_samples_and_suppressed_cells(stored: Valuechain) -> None:
    rows = by_key(connect(stored))
    # pack's rating of make: only the months the measure service publishes count.
    published = 0
    for month in MONTHS:
        cells = measure.scores(stored, by="relationship", campaign=f"{month}-pulse")["cells"]
        published += any(
            c["provider"] == "make" and c["customer"] == "pack" and not c["suppressed"]
            for c in cells
        )
    (parts,) = rows[("parts", "pack")]["over_time"]
    assert parts["n"] == published <= 4
    assert parts["r"] is None and parts["reason"].startswith("too few periods")
    # ctrl's rating of make is about three people: never used, and it has no outcomes.
    (scrap,) = rows[("scrap", "ctrl")]["over_time"]
    assert scrap["n"] == 0 and scrap["r"] is None


def test_cli_json(stored: Valuechain, cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["connect", "--json", "--unit", "plan"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc == json.loads(json.dumps(connect(stored, "plan")))
    alias = CliRunner().invoke(app, ["lineofsight", "plan", "--json"])
    assert alias.exit_code == 0 and json.loads(alias.stdout) == doc
    table = CliRunner().invoke(app, ["connect"])
    assert table.exit_code == 0 and "internal focus" in table.stdout


@pytest.fixture
def client(vc: Valuechain) -> Iterator[TestClient]:
    yield from admin_client(vc, org())


def test_api_and_unit_page(client: TestClient) -> None:
    answer = client.get("/api/v1/connect")
    assert answer.status_code == 200
    doc = answer.json()
    assert all(r["over_time"] is None for r in doc["relationships"])  # no survey numbers
    unit = client.get("/api/v1/units/plan/connect").json()
    assert unit["relationships"][0]["over_time"][0]["n"] == len(MONTHS)
    assert client.get("/api/v1/units/nobody/connect").status_code == 404
    page = client.get("/units/plan")
    assert 'hx-get="/units/plan/connect"' in page.text
    section = client.get("/units/plan/connect")
    assert section.status_code == 200
    assert "Machining" in section.text and "r = " in section.text
    assert "internal focus" in client.get("/units/make/connect").text


def test_demo_story(demo_vc: Valuechain) -> None:
    vc = demo_vc
    rows = by_key(connect(vc, "production-planning"))
    over = {t["metric"]: t for t in rows[("production-plan", "assembly")]["over_time"]}
    assert over["satisfaction"]["n"] == 24
    assert over["satisfaction"]["ci_low"] > 0 and over["complaints"]["ci_high"] < 0
    payroll = by_key(connect(vc, "payroll"))[("payroll-run", "assembly")]["over_time"]
    assert all(t["ci_low"] < 0 < t["ci_high"] for t in payroll)
