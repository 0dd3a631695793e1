"""Link suggestions on both databases: pairs shown by requests, published survey
ratings and agreements with no link on the map are suggested to both sides' leads in
words; a survey relationship about fewer respondents than the threshold suggests
nothing; accepting proposes the link through map_edit (the other side is notified and
confirms it); dismissing hides the pair for good through an audit event."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.signin import form_token, make_account, sign_in
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.services import map_edit, measure, suggestion
from valuechain.services import notification as notifications
from valuechain.services.audit import Actor, read_page
from valuechain.services.bundle import import_bundle
from valuechain.services.errors import Conflict, Invalid, NotFound
from valuechain.web.app import create_app

SALES_LEAD = Actor("a-sales", "sam@example.org", "test")
DESK_LEAD = Actor("a-desk", "dee@example.org", "test")
SHIP_LEAD = Actor("a-ship", "sid@example.org", "test")

FILES = {
    "units.csv": """id,name,kind
make,Machining,team
pack,Packing,team
ship,Shipping,department
sales,Sales,department
desk,Service desk,team
ctrl,Controlling,team
""",
    "results.csv": """id,unit_id,name,kind
parts,make,Machined parts,intermediate
boxes,pack,Packed boxes,intermediate
tickets,desk,Resolved tickets,intermediate
laptops,desk,Laptops ready,intermediate
""",
    "links.csv": """result_id,customer_id,relation
parts,pack,consumes
boxes,ship,consumes
tickets,make,consumes
""",
    "people.csv": """id,name,email,unit_id,role
p-sales,Sam,sam@example.org,sales,lead
p-desk,Dee,dee@example.org,desk,lead
p-ship,Sid,sid@example.org,ship,lead
p-make,Max,max@example.org,make,lead
p-pack,Pia,pia@example.org,pack,lead
""",
    "agreements.csv": """id,result_id,customer_id,metric,target,state
ag-boxes,boxes,sales,on_time_pct,95,agreed
""",
    # Sales asks the service desk three times, Machining (linked) twice.
    "requests.csv": """id,customer_id,provider_id,created_at,first_response_at,resolved_at
r1,sales,desk,2026-01-05T09:00:00+00:00,,
r2,sales,desk,2026-02-01T09:00:00+00:00,,
r3,sales,desk,2026-03-10T09:00:00+00:00,,
r4,make,desk,2026-03-11T09:00:00+00:00,,
r5,make,desk,2026-03-12T09:00:00+00:00,,
""",
}


def _responses() -> str:
    """Shipping rates Machining in two campaigns, five respondents each (published);
    Controlling rates Packing in one campaign with two (below the threshold)."""
    rows = ["response_id,campaign,instrument,rater_id,rated_id,submitted_at,item,score"]
    groups = [("c1", "ship", "make", 5), ("c2", "ship", "make", 5), ("c1", "ctrl", "pack", 2)]
    for campaign, rater, rated, n in groups:
        for i in range(n):
            rid = f"{campaign}-{rater}-{i}"
            rows.append(f"{rid},{campaign},pulse,{rater},{rated},2026-03-02,need_now,{1 + i % 5}")
    return "\n".join(rows) + "\n"


@pytest.fixture
def org(vc: Valuechain, tmp_path: Path) -> Valuechain:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    for name, text in {**FILES, "responses.csv": _responses()}.items():
        (bundle / name).write_text(text, encoding="utf-8")
    import_bundle(vc, bundle)
    measure.refresh(vc)
    return vc


def _pairs(found: dict[str, object]) -> list[tuple[str, str]]:
    rows = found["suggestions"]
    assert isinstance(rows, list)
    return [(s["provider"], s["customer"]) for s in rows]


def test_every_source_suggests_and_nothing_else(org: Valuechain) -> None:
    found = suggestion.suggestions(org, None)
    # Most requests first; the linked pair (desk -> make) and the survey pair below the
    # threshold (pack -> ctrl) are not suggested.
    assert _pairs(found) == [("desk", "sales"), ("make", "ship"), ("pack", "sales")]
    assert found["total"] == 3
    desk, make, pack = found["suggestions"]
    assert desk["sentence"] == (
        "Sales filed 3 requests to Service desk between 2026-01-05 and 2026-03-10; "
        "no result of Service desk is linked to Sales."
    )
    assert desk["requests"] == 3 and desk["first_request"].isoformat().startswith("2026-01-05")
    assert desk["results"] == [
        {"id": "laptops", "name": "Laptops ready"},
        {"id": "tickets", "name": "Resolved tickets"},
    ]
    assert make["sentence"] == (
        "Shipping rated Machining in 2 campaigns; no result of Machining is linked to Shipping."
    )
    assert pack["agreements"] == [
        {"id": "ag-boxes", "state": "agreed", "result_id": "boxes", "result_name": "Packed boxes"}
    ]
    assert pack["sentence"] == (
        "Sales is the customer of Packing in the agreement ag-boxes on Packed boxes (agreed); "
        "no result of Packing is linked to Sales."
    )
    # No respondent count and no score leaves the service, only campaigns.
    for s in found["suggestions"]:
        assert not {"n", "mean", "score", "respondents"} & set(s)
        assert "5" not in s["sentence"].replace("2026-01-05", "")


def test_a_lead_sees_the_pairs_their_unit_is_a_side_of(org: Valuechain) -> None:
    assert _pairs(suggestion.suggestions(org, "sales")) == [("desk", "sales"), ("pack", "sales")]
    assert _pairs(suggestion.suggestions(org, "desk")) == [("desk", "sales")]
    assert _pairs(suggestion.suggestions(org, "make")) == [("make", "ship")]
    # Controlling's ratings of Packing are about two respondents: nothing to either side.
    assert _pairs(suggestion.suggestions(org, "ctrl")) == []
    assert _pairs(suggestion.suggestions(org, "pack")) == [("pack", "sales")]
    with pytest.raises(NotFound):
        suggestion.suggestions(org, "nope")


def test_pages(org: Valuechain) -> None:
    first = suggestion.suggestions(org, None, limit=2)
    second = suggestion.suggestions(org, None, offset=2, limit=2)
    past = suggestion.suggestions(org, None, offset=5, limit=2)
    assert _pairs(first) + _pairs(second) == _pairs(suggestion.suggestions(org, None))
    assert (first["total"], second["total"], past["total"]) == (3, 3, 3)
    assert past["suggestions"] == []


def test_accepting_proposes_the_link_and_the_other_side_confirms(org: Valuechain) -> None:
    link = suggestion.accept(
        org, "sales", "desk", "sales", "tickets", "consumes", SALES_LEAD, admin=False
    )
    assert (link["state"], link["proposed_side"], link["provider"]) == (
        "proposed",
        "sales",
        "desk",
    )
    # The suggestion is gone for both sides while the link waits for the desk's answer.
    assert ("desk", "sales") not in _pairs(suggestion.suggestions(org, None))
    assert _pairs(suggestion.suggestions(org, "desk")) == []
    told = [(r.person_id, r.kind) for r in notifications.outbox(org).rows]
    assert ("p-desk", "map_link") in told
    key = ("tickets", "sales", "consumes")
    assert key not in {x.key for x in org.read_map().links}  # not on the map yet
    confirmed = map_edit.answer_link(org, "desk", key, DESK_LEAD, admin=False, confirm=True)
    assert confirmed["state"] == "confirmed"
    assert key in {x.key for x in org.read_map().links}
    assert _pairs(suggestion.suggestions(org, "sales")) == [("pack", "sales")]
    actions = [e.action for e in read_page(org, per_page=20).events]
    assert {"link_proposed", "link_confirmed"} <= set(actions)


def test_accepting_is_refused_for_what_is_not_suggested(org: Valuechain) -> None:
    with pytest.raises(Invalid):  # parts is Machining's, not the desk's
        suggestion.accept(
            org, "sales", "desk", "sales", "parts", "consumes", SALES_LEAD, admin=False
        )
    with pytest.raises(NotFound):  # linked already: no suggestion
        suggestion.accept(
            org, "make", "desk", "make", "laptops", "consumes", SALES_LEAD, admin=False
        )
    with pytest.raises(NotFound):  # Shipping is no side of it
        suggestion.accept(
            org, "ship", "desk", "sales", "tickets", "consumes", SHIP_LEAD, admin=False
        )
    with pytest.raises(Invalid):  # the importer's rules judge the relation
        suggestion.accept(
            org, "sales", "desk", "sales", "tickets", "likes", SALES_LEAD, admin=False
        )
    assert ("desk", "sales") in _pairs(suggestion.suggestions(org, None))
    # Accepting twice: the second finds the pair linked (proposed) and no suggestion.
    suggestion.accept(org, "desk", "desk", "sales", "laptops", "depends_on", DESK_LEAD, admin=False)
    with pytest.raises((NotFound, Conflict)):
        suggestion.accept(
            org, "sales", "desk", "sales", "tickets", "consumes", SALES_LEAD, admin=False
        )


def test_a_dismissed_pair_stays_dismissed_for_both_sides(org: Valuechain) -> None:
    assert suggestion.dismiss(org, "ship", "make", "ship", SHIP_LEAD)["dismissed"] is True
    assert _pairs(suggestion.suggestions(org, "make")) == []
    assert _pairs(suggestion.suggestions(org, "ship")) == []
    assert ("make", "ship") not in _pairs(suggestion.suggestions(org, None))
    with pytest.raises(NotFound):
        suggestion.dismiss(org, "make", "make", "ship", SHIP_LEAD)
    events = [e for e in read_page(org, per_page=20).events if e.action == "suggestion_dismissed"]
    assert [e.subject for e in events] == ["suggested link make → ship"]
    # Other pairs are untouched.
    assert _pairs(suggestion.suggestions(org, None)) == [("desk", "sales"), ("pack", "sales")]


def test_the_page_dismisses_and_the_unit_page_links_to_it(org: Valuechain) -> None:
    """The lead of Shipping finds the page from the unit page, reads the evidence and
    dismisses it with the page's form (CSRF token and idempotency key); another
    unit's page shows them no link to its suggestions."""
    make_account(org, "sid@example.org", AccountRole.LEAD, person_id="p-ship")
    client = TestClient(create_app(org))
    sign_in(client, "sid@example.org")
    unit = client.get("/units/ship")
    assert 'href="/units/ship/suggestions"' in unit.text
    assert 'href="/units/make/suggestions"' not in client.get("/units/make").text
    page = client.get("/units/ship/suggestions")
    assert page.status_code == 200
    assert "Shipping rated Machining in 2 campaigns" in page.text
    answer = client.post(
        "/units/ship/suggestions/dismiss",
        data={
            "provider_id": "make",
            "customer_id": "ship",
            "csrf_token": form_token(page.text),
            "idempotency_key": "k-1",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/units/ship/suggestions"
    after = client.get("/units/ship/suggestions")
    assert 'id="no-suggestions"' in after.text and "rated Machining" not in after.text
