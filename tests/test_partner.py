"""Partner & Improve: the workspace's two sides, actions with a verdict from the next
measurement, relationship health, on both databases."""

from __future__ import annotations

import json
from datetime import date

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.signin import bearer, make_account
from valuechain import Valuechain
from valuechain.cli.main import app
from valuechain.domain.access import Principal
from valuechain.domain.account import AccountRole
from valuechain.services.errors import NotFound
from valuechain.services.partner import action, health, workspace
from valuechain.services.partner.workspace import WorkspaceError
from valuechain.web.app import create_app


def _lead(unit: str) -> Principal:
    return Principal(f"acc-{unit}", f"{unit}@example.org", unit, AccountRole.LEAD, unit)


@pytest.fixture
def demo(demo_vc: Valuechain) -> Valuechain:
    return demo_vc


def test_each_side_writes_its_own_and_marks_the_others(demo: Valuechain) -> None:
    planning, payroll = _lead("production-planning"), _lead("payroll")
    assembly = _lead("assembly")
    mine = workspace.add_entry(
        demo, planning, "production-planning", "assembly", "need", "  Orders  by Friday  "
    )
    assert (mine["side"], mine["text"]) == ("provider", "Orders by Friday")
    theirs = workspace.add_entry(
        demo, assembly, "production-planning", "assembly", "challenge", "Plans change mid-week"
    )
    assert theirs["side"] == "customer"
    with pytest.raises(WorkspaceError, match="other side marks"):
        workspace.mark(demo, planning, "production-planning", "assembly", mine["id"], "aligned")
    workspace.mark(
        demo, planning, "production-planning", "assembly", theirs["id"], "conflict", mine["id"]
    )
    space = workspace.workspace(demo, "production-planning", "assembly")
    marked = [e for e in space["sides"]["customer"]["challenge"] if e["id"] == theirs["id"]]
    assert marked[0]["alignment"] == "conflict" and marked[0]["counterpart"] == mine["id"]
    assert space["conflicts"] >= 1
    with pytest.raises(WorkspaceError, match="kind must be"):
        workspace.add_entry(demo, planning, "production-planning", "assembly", "wish", "x")
    with pytest.raises(NotFound, match="no such relationship"):
        workspace.add_entry(demo, payroll, "payroll", "packing", "need", "x")


def test_the_demo_actions_have_their_verdicts(demo: Valuechain) -> None:
    verdicts = {a["id"]: a["result"] for a in action.actions(demo)}
    worked, not_worked = verdicts["act-it-prompt"], verdicts["act-pay-courtesy"]
    assert worked["verdict"] == "improved" and worked["ci_low"] > 0
    assert not_worked["verdict"] == "no evidence of change"
    assert not_worked["ci_low"] < 0 < not_worked["ci_high"]
    assert (worked["before"]["campaign"], worked["after"]["campaign"]) == ("2026-q1", "2026-q2")


def test_a_new_action_waits_for_the_next_measurement(demo: Valuechain) -> None:
    created = action.create(
        demo, _lead("payroll"), "payroll", "assembly", title="Named contact", owner="Pat",
        due_on=date(2027, 1, 31), instrument="service_factors", dimension="courtesy",
    )  # fmt: skip
    assert created["baseline_campaign"] == "2026-q2"
    assert created["result"]["verdict"] == "not measured yet"
    assert created["result"]["before"]["campaign"] == "2026-q2"
    assert (
        action.set_status(demo, "payroll", "assembly", created["id"], "in_progress")["status"]
        == "in_progress"
    )
    overdue = action.overdue(demo, date(2027, 2, 1))
    assert created["id"] in {a["id"] for a in overdue}


def test_health_combines_both_views_and_marks_the_largest_disagreement(demo: Valuechain) -> None:
    rows = {(r["provider"], r["customer"]): r for r in health.health_table(demo)}
    row = rows[("production-planning", "assembly")]
    assert row["customer_view"] is not None and row["provider_view"] is not None
    parts = row["components"]
    weights = health.weights()
    known = {k: v for k, v in parts.items() if v is not None}
    assert {"customer_view", "provider_view", "sla", "trust", "thanks"} <= known.keys()
    expected = 100 * sum(weights[k] * v for k, v in known.items()) / sum(weights[k] for k in known)
    assert row["health"] == pytest.approx(expected, abs=0.01)  # parts are rounded to 1e-4
    assert rows[("accounting", "controlling")]["health"] is None  # nothing known
    sides = health.both_sides(demo, "production-planning", "assembly")
    gaps = [abs(t["difference"]) for t in sides["topics"] if t["difference"] is not None]
    assert abs(sides["topics"][sides["largest_disagreement"]]["difference"]) == max(gaps)


def test_health_cli_json(demo: Valuechain, demo_cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["health", "--json"], env=demo_cli_env)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    keys = {"provider", "customer", "customer_view", "provider_view", "sla_met_pct", "trust"}
    keys.add("health")
    assert doc["relationships"] and all(keys <= r.keys() for r in doc["relationships"])
    listed = CliRunner().invoke(app, ["action", "list", "--json"], env=demo_cli_env)
    assert {a["id"] for a in json.loads(listed.stdout)["actions"]} >= {"act-it-prompt"}


def test_api_lets_the_two_sides_work_and_keeps_others_out(demo: Valuechain) -> None:
    org = demo.read_map()
    people = {p.unit_id: p for p in org.people if p.role.value == "lead"}
    for email, unit in (
        ("pp@example.org", "production-planning"),
        ("qa@example.org", "quality-assurance"),
    ):
        make_account(demo, email, AccountRole.LEAD, person_id=people[unit].id)
    with TestClient(create_app(demo)) as client:
        own = {"Authorization": f"Bearer {bearer(client, 'pp@example.org')}"}
        other = {"Authorization": f"Bearer {bearer(client, 'qa@example.org')}"}
        url = "/api/v1/relationships/production-planning/assembly"
        entry = {"kind": "value", "text": "On time"}
        added = client.post(f"{url}/workspace", json=entry, headers=own)
        assert added.status_code == 201 and added.json()["side"] == "provider"
        assert client.get(url, headers=other).status_code == 403
        page = client.get(url, headers=own).json()
        assert page["health"]["health"] is not None and page["actions"] == []
        made = client.post(
            f"{url}/actions",
            json={"title": "Freeze the plan on Friday", "owner": "Pia", "due_on": "2027-01-15",
                  "instrument": "service_factors", "dimension": "value"},
            headers=own,
        )  # fmt: skip
        assert made.status_code == 201, made.text
        wrong = {"title": "x", "owner": "o", "due_on": "2027-01-01", "instrument": "nope"}
        bad = client.post(f"{url}/actions", json=wrong, headers=own)
        assert bad.status_code == 422 and "no instrument" in bad.json()["detail"]
