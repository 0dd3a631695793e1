"""The Agree pages on both databases, signed in through the sign-in form as the
leads of the example organisation: the agreement list with reviews due on both
sides, the agreement page (both sides' obligations, targets vs actuals, timeline)
and its forms, and the capacity page with a share and a negotiation."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.signin import form_token, make_account, sign_in
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.services import agreement as agreements
from valuechain.services.audit import Actor
from valuechain.services.bundle import import_bundle
from valuechain.services.commitment import generate_due
from valuechain.store import commitment as commitment_store
from valuechain.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def world(vc: Valuechain, tmp_path: Path) -> Iterator[tuple[Valuechain, TestClient, TestClient]]:
    bundle = tmp_path / "bundle"
    shutil.copytree(ROOT / "examples" / "bundle", bundle)
    for name in ("calendars.csv", "agreements.csv", "commitments.csv"):
        shutil.copy(ROOT / "examples" / "agree" / name, bundle / name)
    import_bundle(vc, bundle)
    make_account(vc, "bram@example.org", AccountRole.LEAD, person_id="p02")  # pack
    make_account(vc, "dara@example.org", AccountRole.LEAD, person_id="p04")  # ship
    app = create_app(vc)
    with TestClient(app) as pack, TestClient(app) as ship:
        sign_in(pack, "bram@example.org")
        sign_in(ship, "dara@example.org")
        yield vc, pack, ship


def test_agreement_pages_show_both_sides(world: tuple[Valuechain, TestClient, TestClient]) -> None:
    vc, pack, ship = world
    agreements.review(vc, "pack-ship", "ship", Actor(None, "test", None))
    listed = pack.get("/units/pack/agreements")
    assert listed.status_code == 200
    assert "As provider" in listed.text and "As customer" in listed.text
    assert "Review due: Packed boxes → Shipping" in listed.text
    # A lead's page offers the draft form once, in the page, never in its title.
    title = listed.text[listed.text.index("<title>") : listed.text.index("</title>")]
    assert "Agreements of" in title and "<form" not in title
    assert listed.text.count('id="draft-heading"') == 1
    # The review shows up on the other side too.
    assert "Review due: Packed boxes → Shipping" in ship.get("/units/ship/agreements").text
    page = pack.get("/units/pack/agreements/plan-pack")
    assert page.status_code == 200
    text = page.text
    assert "The customer promises" in text and "Order intake by Thursday 12:00" in text
    assert "Delivered on time" in text and "95%" in text and "50%" in text and "not met" in text
    assert "1 kept, 1 exceeded, 1 missed with an early warning, 1 missed without one" in text
    assert 'class="timeline__item outcome--warned"' in text
    # pack is plan-pack's customer: its lead may ask for a review, nothing else.
    assert "Ask for a review" in text and ">Propose<" not in text
    # ship's lead sees no agreement of pack's that ship is no side of.
    assert ship.get("/units/ship/agreements/plan-pack").status_code == 404


def test_the_forms_take_an_agreement_through_its_life(
    world: tuple[Valuechain, TestClient, TestClient],
) -> None:
    vc, pack, ship = world
    page = pack.get("/units/pack/agreements/pack-ship")
    token = form_token(page.text)
    answer = pack.post(
        "/units/pack/agreements/pack-ship/review",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    page = pack.get("/units/pack/agreements/pack-ship")
    assert "under review" in page.text and "Agree for the provider" in page.text
    pack.post("/units/pack/agreements/pack-ship/agree", data={"csrf_token": token})
    ship_page = ship.get("/units/ship/agreements/pack-ship")
    ship.post(
        "/units/ship/agreements/pack-ship/agree", data={"csrf_token": form_token(ship_page.text)}
    )
    assert agreements.agreement(vc, "pack-ship").state.value == "agreed"
    final = pack.get("/units/pack/agreements/pack-ship").text
    assert "bram@example.org" in final and "dara@example.org" in final
    # A step the state does not allow re-renders the page with the reason.
    refused = pack.post("/units/pack/agreements/pack-ship/agree", data={"csrf_token": token})
    assert refused.status_code == 409 and "only a proposed agreement" in refused.text
    # Without the CSRF token nothing happens.
    assert pack.post("/units/pack/agreements/pack-ship/review").status_code == 403


def test_capacity_page_share_and_negotiation(
    world: tuple[Valuechain, TestClient, TestClient],
) -> None:
    _, pack, ship = world
    page = pack.get("/units/pack/capacity")
    assert page.status_code == 200 and "Packed boxes" in page.text
    answer = pack.post(
        "/units/pack/capacity/shares",
        data={
            "csrf_token": form_token(page.text),
            "result_id": "boxes",
            "customer_id": "ship",
            "share": "1000",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    seen = ship.get("/units/ship/capacity")
    assert "above share" in seen.text and "Settle" in seen.text
    negotiation = seen.text.split("/units/ship/negotiations/")[1].split('"')[0]
    settled = ship.post(
        f"/units/ship/negotiations/{negotiation}",
        data={
            "csrf_token": form_token(seen.text),
            "settlement": "share_changed",
            "share": "1100",
            "note": "peak season",
        },
        follow_redirects=False,
    )
    assert settled.status_code == 303
    after = pack.get("/units/pack/capacity").text
    assert "share changed" in after and "peak season" in after


def test_the_provider_records_a_delivery_on_the_page(
    world: tuple[Valuechain, TestClient, TestClient],
) -> None:
    vc, pack, ship = world
    generate_due(vc, datetime(2099, 1, 1, tzinfo=UTC), since=datetime(2026, 11, 24, tzinfo=UTC))
    page = pack.get("/units/pack/agreements/pack-ship")
    # pack-ship has no recurring deliverable and its one item is delivered.
    assert 'value="delivered"' not in page.text
    plan_page = ship.get("/units/ship/agreements/pack-ship")
    assert "Warn: will be late" not in plan_page.text  # ship is the customer
    with vc.engine.begin() as conn:
        commitment_store.add_due(
            conn, vc.org_id, "pack-ship", [datetime(2099, 1, 5, 15, tzinfo=UTC)]
        )
    page = pack.get("/units/pack/agreements/pack-ship")
    assert "Warn: will be late" in page.text
    answer = pack.post(
        "/units/pack/agreements/pack-ship/commitments/record",
        data={
            "csrf_token": form_token(page.text),
            "due_at": "2099-01-05T15:00:00+00:00",
            "event": "warned",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert "Warn: will be late" not in pack.get("/units/pack/agreements/pack-ship").text
