"""The Agree API on both databases, signed in as the real leads of the example
organisation: each lead acts only for their own unit's side, members read their own
unit, the organisation-wide log is for admins, capacity shares and negotiations."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.signin import bearer, make_account
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.services.bundle import import_bundle
from valuechain.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
API = "/api/v1"


@pytest.fixture
def client(vc: Valuechain, tmp_path: Path) -> Iterator[TestClient]:
    bundle = tmp_path / "bundle"
    shutil.copytree(ROOT / "examples" / "bundle", bundle)
    for name in ("calendars.csv", "agreements.csv", "commitments.csv"):
        shutil.copy(ROOT / "examples" / "agree" / name, bundle / name)
    import_bundle(vc, bundle)
    make_account(vc, "admin@example.org", AccountRole.ADMIN)
    make_account(vc, "bram@example.org", AccountRole.LEAD, person_id="p02")  # pack
    make_account(vc, "dara@example.org", AccountRole.LEAD, person_id="p04")  # ship
    make_account(vc, "chloe@example.org", AccountRole.MEMBER, person_id="p03")  # pack
    with TestClient(create_app(vc)) as c:
        yield c


def as_(client: TestClient, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {bearer(client, email)}"}


def test_a_lead_sees_both_sides_and_acts_only_for_their_unit(client: TestClient) -> None:
    pack = as_(client, "bram@example.org")
    listed = client.get(f"{API}/units/pack/agreements", headers=pack).json()
    assert [a["id"] for a in listed["agreements"]] == ["pack-ship", "plan-pack", "qa-pack"]
    plan = next(a for a in listed["agreements"] if a["id"] == "plan-pack")
    assert plan["log"]["due"] == 4 and plan["review_due"] is False
    detail = client.get(f"{API}/units/pack/agreements/plan-pack", headers=pack).json()
    assert detail["obligations"][0] == "Order intake by Thursday 12:00"
    assert detail["targets_vs_actuals"][0] == {
        "metric": "on_time_pct",
        "target": 95.0,
        "actual": 50.0,
        "met": False,
    }
    assert [c["outcome"] for c in detail["commitments"]] == ["missed", "warned", "exceeded", "kept"]
    # pack's lead proposes the draft and agrees for the customer side.
    answer = client.post(f"{API}/units/pack/agreements/qa-pack/propose", headers=pack)
    assert answer.status_code == 200 and answer.json()["state"] == "proposed"
    answer = client.post(f"{API}/units/pack/agreements/qa-pack/agree", headers=pack)
    assert answer.json()["customer_agreed_by"] == "bram@example.org"
    assert answer.json()["state"] == "proposed"
    # ... but not for qa, the provider: a lead acts only for their own unit.
    refused = client.post(f"{API}/units/qa/agreements/qa-pack/agree", headers=pack)
    assert refused.status_code == 403
    # A step the agreement's life does not allow now is 409.
    assert (
        client.post(f"{API}/units/pack/agreements/qa-pack/review", headers=pack).status_code == 409
    )
    # An agreement the unit is no side of is not found through it.
    ship = as_(client, "dara@example.org")
    assert client.get(f"{API}/units/ship/agreements/qa-pack", headers=ship).status_code == 404
    assert (
        client.post(f"{API}/units/ship/agreements/qa-pack/agree", headers=ship).status_code == 404
    )


def test_admin_completes_the_agreement_and_members_read(client: TestClient) -> None:
    pack = as_(client, "bram@example.org")
    admin = as_(client, "admin@example.org")
    client.post(f"{API}/units/pack/agreements/qa-pack/propose", headers=pack)
    client.post(f"{API}/units/pack/agreements/qa-pack/agree", headers=pack)
    done = client.post(f"{API}/units/qa/agreements/qa-pack/agree", headers=admin).json()
    assert done["state"] == "agreed" and done["provider_agreed_by"] == "admin@example.org"
    member = as_(client, "chloe@example.org")
    assert client.get(f"{API}/units/pack/agreements", headers=member).status_code == 200
    assert client.get(f"{API}/units/ship/agreements", headers=member).status_code == 403
    assert (
        client.post(f"{API}/units/pack/agreements/qa-pack/review", headers=member).status_code
        == 403
    )
    assert client.get(f"{API}/commitments", headers=pack).status_code == 403
    log = client.get(f"{API}/commitments", headers=admin).json()
    assert {a["id"] for a in log["agreements"]} == {"pack-ship", "plan-pack", "qa-pack"}


def test_capacity_shares_and_negotiations(client: TestClient) -> None:
    pack = as_(client, "bram@example.org")
    ship = as_(client, "dara@example.org")
    body = {"result_id": "boxes", "customer_id": "ship", "share": 1000}
    answer = client.put(f"{API}/units/pack/capacity/shares", json=body, headers=pack)
    assert answer.status_code == 200, answer.text
    boxes = next(r for r in answer.json()["provides"] if r["result"] == "boxes")
    negotiation = boxes["customers"][0]["negotiation"]
    assert boxes["customers"][0]["over_share"] and negotiation
    # The customer's lead sees it from their side and settles it.
    seen = client.get(f"{API}/units/ship/capacity", headers=ship).json()
    assert [n["id"] for n in seen["negotiations"]] == [negotiation]
    assert (
        client.put(f"{API}/units/ship/capacity/shares", json=body, headers=ship).status_code == 404
    )
    settled = client.post(
        f"{API}/units/ship/negotiations/{negotiation}",
        json={"settlement": "share_changed", "share": 1100, "note": "peak"},
        headers=ship,
    )
    assert settled.status_code == 200 and settled.json()["state"] == "share_changed"
    again = client.post(
        f"{API}/units/pack/negotiations/{negotiation}",
        json={"settlement": "accepted"},
        headers=pack,
    )
    assert again.status_code == 409
    bad = {"result_id": "boxes", "customer_id": "ship", "share": -1}
    assert (
        client.put(f"{API}/units/pack/capacity/shares", json=bad, headers=pack).status_code == 422
    )
