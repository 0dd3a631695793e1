"""The watermelon check on both databases: commitment compliance next to protected
survey satisfaction per relationship; "targets met, customer unhappy" and the
reverse are flagged; a relationship below the anonymity threshold shows no survey
number and is never flagged (also not through the API or the command line)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.signin import bearer, make_account
from valuechain import Valuechain
from valuechain.cli.main import app
from valuechain.domain.account import AccountRole
from valuechain.domain.agreement import Commitment
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.response import Answer, Response
from valuechain.services.bundle import import_bundle
from valuechain.services.watermelon import watermelon
from valuechain.store import commitment as commitment_store
from valuechain.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def responses(rater: str, rated: str, scores: list[int], prefix: str) -> list[Response]:
    return [
        Response(
            f"{prefix}{i}",
            "2026-q4",
            "service_factors",
            rater,
            rated,
            date(2026, 11, 2),
            answers=[Answer("overall_1", "overall", float(s))],
        )
        for i, s in enumerate(scores)
    ]


def load(vc: Valuechain, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(ROOT / "examples" / "bundle", bundle)
    for name in ("calendars.csv", "agreements.csv", "commitments.csv"):
        shutil.copy(ROOT / "examples" / "agree" / name, bundle / name)
    with (bundle / "agreements.csv").open("a") as out:
        out.write("qa-ship,inspection,ship,on_time_pct,90,,,,,agreed,,,\n")
    import_bundle(vc, bundle)
    # pack-ship keeps every promise; qa-ship too, but only 3 respondents rate qa.
    start = datetime(2026, 10, 1, 15, tzinfo=UTC)
    kept = [
        Commitment(a, start + timedelta(days=d), start + timedelta(days=d, hours=-1))
        for a in ("pack-ship", "qa-ship")
        for d in range(1, 5)
    ]
    with vc.engine.begin() as conn:
        commitment_store.write_commitments(conn, vc.org_id, kept)
    survey = (
        responses("ship", "pack", [2, 1, 2, 3, 2, 2], "s")  # unhappy with pack
        + responses("pack", "plan", [6, 7, 6, 6, 7, 6], "p")  # happy with plan
        + responses("ship", "qa", [1, 1, 1], "q")  # below the threshold of 5
    )
    vc.write_map(OrganisationMap(responses=survey))


def test_flags_both_ways_and_protects_small_groups(vc: Valuechain, tmp_path: Path) -> None:
    load(vc, tmp_path)
    doc = watermelon(vc, now=NOW)
    rows = {(r["provider"], r["customer"]): r for r in doc["relationships"]}
    ship = rows[("pack", "ship")]
    assert ship["targets_met"] is True and ship["on_time_pct"] == 100.0
    assert ship["on_time_target"] == 90.0  # no target stated: the default
    assert ship["mood"] == "unhappy" and ship["flag"] == "targets_met_customer_unhappy"
    assert ship["satisfaction"]["n"] == 6 and ship["satisfaction"]["scale"] == [1, 7]
    plan = rows[("plan", "pack")]
    assert plan["targets_met"] is False and plan["on_time_pct"] == 50.0
    assert plan["mood"] == "happy" and plan["flag"] == "targets_missed_customer_happy"
    qa = rows[("qa", "ship")]
    assert qa["suppressed"] is True and qa["satisfaction"] is None and qa["flag"] is None
    # Too few ended commitments judge nothing.
    assert rows[("qa", "pack")]["targets_met"] is None
    assert doc["threshold"] == 5


def test_api_and_command_line_show_no_suppressed_number(
    vc: Valuechain, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    load(vc, tmp_path)
    make_account(vc, "dara@example.org", AccountRole.LEAD, person_id="p04")  # ship
    make_account(vc, "chloe@example.org", AccountRole.MEMBER, person_id="p03")  # pack
    with TestClient(create_app(vc)) as client:
        ship = {"Authorization": f"Bearer {bearer(client, 'dara@example.org')}"}
        doc = client.get("/api/v1/units/ship/watermelon", headers=ship).json()
        rows = {(r["provider"], r["customer"]): r for r in doc["relationships"]}
        assert set(rows) == {("pack", "ship"), ("qa", "ship")}
        assert rows[("qa", "ship")]["satisfaction"] is None
        member = {"Authorization": f"Bearer {bearer(client, 'chloe@example.org')}"}
        # Survey results need view_unit_results: not for members.
        assert client.get("/api/v1/units/pack/watermelon", headers=member).status_code == 403
    result = CliRunner().invoke(app, ["watermelon", "--json"])
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    qa = next(r for r in out["relationships"] if r["provider"] == "qa" and r["customer"] == "ship")
    assert qa["satisfaction"] is None and qa["mood"] is None
    table = CliRunner().invoke(app, ["watermelon"])
    assert "met but unhappy" in table.stdout and "suppressed" in table.stdout
