"""Forms pick units and people by name (issue 17 item 3): each form takes a name typed
as people know it, refuses an unknown one in words next to the field and keeps what
was typed; draft agreements are listed by names. Signed in through the sign-in form
on both databases, on the example organisation."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.signin import form_token, make_account, sign_in
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.services import accounts
from valuechain.services import request as requests
from valuechain.services.bundle import import_bundle
from valuechain.web.app import create_app
from valuechain.web.picker import Choice, FieldProblem, pick

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def world(vc: Valuechain, tmp_path: Path) -> Iterator[tuple[Valuechain, TestClient, TestClient]]:
    bundle = tmp_path / "bundle"
    shutil.copytree(ROOT / "examples" / "bundle", bundle)
    for name in ("calendars.csv", "agreements.csv", "commitments.csv"):
        shutil.copy(ROOT / "examples" / "agree" / name, bundle / name)
    import_bundle(vc, bundle)
    make_account(vc, "admin@example.org", AccountRole.ADMIN)
    make_account(vc, "bram@example.org", AccountRole.LEAD, person_id="p02")  # pack
    app = create_app(vc)
    with TestClient(app) as admin, TestClient(app) as lead:
        sign_in(admin, "admin@example.org")
        sign_in(lead, "bram@example.org")
        yield vc, admin, lead


def _field(html: str, name: str) -> str:
    """The ``<input>`` tag named ``name`` in ``html``."""
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert found, f"no input {name!r}"
    return found.group(0)


def test_pick_by_name_id_or_hint_and_refuse_in_words() -> None:
    units = [
        Choice("plan", "Production planning"),
        Choice("a", "Twin", "a"),
        Choice("b", "Twin", "b"),
    ]
    assert pick("production PLANNING ", units, field="f", what="unit") == "plan"
    assert pick("plan", units, field="f", what="unit") == "plan"
    assert pick("b", units, field="f", what="unit") == "b"
    with pytest.raises(FieldProblem, match="No unit is called “Nowhere”") as unknown:
        pick("Nowhere", units, field="f", what="unit")
    assert unknown.value.field == "f"
    with pytest.raises(FieldProblem, match="More than one unit is called “twin”"):
        pick("twin", units, field="f", what="unit")


def test_the_request_form_asks_a_unit_by_name(
    world: tuple[Valuechain, TestClient, TestClient],
) -> None:
    vc, _, lead = world
    page = lead.get("/requests")
    assert '<option value="Production planning">' in page.text
    token = form_token(page.text)
    answer = lead.post(
        "/requests",
        data={"csrf_token": token, "provider": "Production planning", "title": "Plan week 3"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert [r["provider_id"] for r in requests.listing(vc, provider="plan")] == ["plan"]
    refused = lead.post(
        "/requests",
        data={"csrf_token": token, "provider": "Nowhere", "title": "Keep me", "body": "and me",
              "priority": "high"},
    )  # fmt: skip
    assert refused.status_code == 422
    assert 'id="provider-error"' in refused.text and "No unit is called “Nowhere”" in refused.text
    provider = _field(refused.text, "provider")
    assert 'value="Nowhere"' in provider and 'aria-invalid="true"' in provider
    assert (
        'value="Keep me"' in _field(refused.text, "title") and ">and me</textarea>" in refused.text
    )
    assert '<option value="high" selected>' in refused.text


def test_the_accounts_form_links_a_person_by_name(
    world: tuple[Valuechain, TestClient, TestClient],
) -> None:
    vc, admin, _ = world
    page = admin.get("/admin/accounts")
    assert '<option value="Chloé Martin">' in page.text
    token = form_token(page.text)
    data = {"csrf_token": token, "email": "chloe@example.org", "password": "x" * 16,
            "role": "member", "person": "chloé martin"}  # fmt: skip
    assert admin.post("/admin/accounts", data=data, follow_redirects=False).status_code == 303
    made = accounts.account_by_email(vc, "chloe@example.org")
    assert made is not None and made.person_id == "p03"
    listed = admin.get("/admin/accounts").text
    assert "<td>Chloé Martin</td>" in listed and ">Packing</a>" in listed
    refused = admin.post(
        "/admin/accounts", data={**data, "email": "zed@example.org", "person": "Zed Nobody"}
    )
    assert refused.status_code == 422
    assert 'id="person-error"' in refused.text and "No person on the map is called" in refused.text
    assert 'value="Zed Nobody"' in _field(refused.text, "person")
    assert re.search(r'id="new-email"[^>]*value="zed@example.org"', refused.text)


def test_the_capacity_form_sets_a_share_by_the_customers_name(
    world: tuple[Valuechain, TestClient, TestClient],
) -> None:
    _, _, lead = world
    page = lead.get("/units/pack/capacity")
    assert '<option value="Shipping">' in page.text
    token = form_token(page.text)
    data = {"csrf_token": token, "result_id": "boxes", "customer_id": "shipping", "share": "300"}
    answer = lead.post("/units/pack/capacity/shares", data=data, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    refused = lead.post("/units/pack/capacity/shares", data={**data, "customer_id": "Nobody"})
    assert refused.status_code == 422
    assert 'id="customer-boxes-error"' in refused.text
    assert "No unit is called “Nobody”" in refused.text
    assert 'value="Nobody"' in refused.text and 'value="300"' in refused.text


def test_a_refused_target_keeps_the_draft_and_says_what_to_change(
    world: tuple[Valuechain, TestClient, TestClient],
) -> None:
    _, _, lead = world
    page = lead.get("/units/pack/agreements")
    # Agreements and the drafting choices read as names, not ids.
    assert "Packed boxes → Shipping" in page.text
    assert "Inspection reports → Packing" in page.text and ">qa-pack<" not in page.text
    refused = lead.post(
        "/units/pack/agreements",
        data={"csrf_token": form_token(page.text), "pair": "boxes|ship", "on_time_pct": "150",
              "response_hours": "4", "obligations": "Pick list by 07:00", "channel": "phone"},
    )  # fmt: skip
    assert refused.status_code == 422
    assert 'id="on_time_pct-error"' in refused.text
    assert "A percentage above 0 and at most 100." in refused.text
    assert "on_time_pct:" not in refused.text
    assert 'value="150"' in _field(refused.text, "on_time_pct")
    assert 'value="4"' in _field(refused.text, "response_hours")
    assert ">Pick list by 07:00</textarea>" in refused.text
    assert 'value="phone"' in _field(refused.text, "channel")


def test_a_units_page_names_what_it_is_part_of(
    world: tuple[Valuechain, TestClient, TestClient],
) -> None:
    _, admin, _ = world
    html = admin.get("/units/plan").text
    assert 'part of <a href="/units/ops">Operations</a>' in html
    assert ">ops</a>" not in html
