"""Building the map together through the API, against a real uvicorn server on
loopback, on both databases: a lead proposes, the customer's lead confirms (the link
joins the map every analysis reads), another is disputed (it stays off the map, on the
admin's list of disputes); results are checked by the importer's own rules; every
change is audited and notifies the other side's leads; migration 0018 keeps stored
links confirmed."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import insert, select, text

from tests.browser.conftest import serving
from tests.builders import chain_map
from tests.signin import make_account
from valuechain import Valuechain
from valuechain.api import PREFIX
from valuechain.domain.account import AccountRole
from valuechain.domain.link import Link, Relation
from valuechain.domain.person import Person, Role
from valuechain.services import accounts, audit
from valuechain.services import notification as notifications
from valuechain.store.database import _alembic_config, make_engine
from valuechain.store.organisation import LINKS
from valuechain.web.app import create_app

# make produces parts and scrap-report; ship is not yet make's customer.
LEADS = {"make": "p-make", "ship": "p-ship", "pack": "p-pack"}


@pytest.fixture
def api(vc: Valuechain) -> Iterator[tuple[Valuechain, dict[str, httpx.Client]]]:
    org = chain_map()
    org.people = [
        Person(pid, pid, f"{pid}@example.org", unit, Role.LEAD) for unit, pid in LEADS.items()
    ]
    vc.write_map(org)
    make_account(vc, "admin@example.org", AccountRole.ADMIN)
    for pid in LEADS.values():
        make_account(vc, f"{pid}@example.org", AccountRole.LEAD, person_id=pid)
    with serving(lambda _url: create_app(vc)) as url:
        clients = {}
        for who in ("admin", *LEADS):
            email = "admin@example.org" if who == "admin" else f"{LEADS[who]}@example.org"
            account = accounts.account_by_email(vc, email)
            assert account is not None
            token = accounts.start_session(vc, account, address="test").token
            clients[who] = httpx.Client(
                base_url=url + PREFIX, headers={"Authorization": f"Bearer {token}"}, timeout=10
            )
        try:
            yield vc, clients
        finally:
            for client in clients.values():
                client.close()


def _keys(vc: Valuechain) -> set[tuple[str, str, str]]:
    return {link.key for link in vc.read_map().links}


def _outbox(vc: Valuechain) -> list[tuple[str | None, str]]:
    return [(row.person_id, row.kind) for row in notifications.outbox(vc).rows]


def test_proposed_confirmed_and_disputed_links(
    api: tuple[Valuechain, dict[str, httpx.Client]],
) -> None:
    vc, c = api
    depends = {"result_id": "parts", "customer_id": "ship", "relation": "depends_on"}
    report = {"result_id": "scrap-report", "customer_id": "ship", "relation": "adds_to"}
    # The provider's lead proposes one; the customer's lead proposes "we depend on
    # your scrap report" for the other (each side may declare a link).
    first = c["make"].post("/units/make/links", json=depends)
    assert first.status_code == 201, first.text
    assert first.json()["state"] == "proposed" and first.json()["proposed_side"] == "make"
    second = c["ship"].post("/units/ship/links", json=report)
    assert second.status_code == 201 and second.json()["provider"] == "make"
    assert ("parts", "ship", "depends_on") not in _keys(vc)  # proposed: not on the map
    assert "ship" not in {d["unit"] for d in vc.customers("make")["direct"]}
    # The proposing side may not confirm its own proposal; a third unit is no side.
    assert c["make"].post("/units/make/links/confirm", json=depends).status_code == 403
    assert c["pack"].post("/units/pack/links/confirm", json=depends).status_code == 409
    assert c["make"].post("/units/ship/links/confirm", json=depends).status_code == 403
    # The customer confirms: the link joins the map every analysis reads.
    confirmed = c["ship"].post("/units/ship/links/confirm", json=depends)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["state"] == "confirmed"
    assert confirmed.json()["answered_by"] == "p-ship@example.org"
    assert ("parts", "ship", "depends_on") in _keys(vc)
    direct = {d["unit"] for d in vc.customers("make")["direct"]}
    assert "ship" in direct
    # The provider disputes the other, with a reason: it stays off the map.
    no_reason = c["make"].post("/units/make/links/dispute", json=report)
    assert no_reason.status_code == 422
    disputed = c["make"].post(
        "/units/make/links/dispute", json={**report, "reason": "we stopped that report"}
    )
    assert disputed.status_code == 200 and disputed.json()["state"] == "disputed"
    assert ("scrap-report", "ship", "adds_to") not in _keys(vc)
    # The admin's list of disputes shows it; pack's lead is no side of it.
    listed = c["admin"].get("/links", params={"state": "disputed"}).json()["links"]
    assert [(x["result_id"], x["reason"]) for x in listed] == [
        ("scrap-report", "we stopped that report")
    ]
    assert c["pack"].get("/links", params={"state": "disputed"}).json()["links"] == []
    assert len(c["ship"].get("/links").json()["links"]) == 1
    # A confirmed link is not answered again; the proposer withdraws the dispute.
    assert c["ship"].post("/units/ship/links/confirm", json=depends).status_code == 409
    assert c["make"].post("/units/make/links/withdraw", json=report).status_code == 403
    withdrawn = c["ship"].post("/units/ship/links/withdraw", json=report)
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert c["admin"].get("/links").json()["links"] == []
    # Audited, and each answer told the other side's lead.
    actions = [e.action for e in audit.read_page(vc).events]
    for action in ("link_proposed", "link_confirmed", "link_disputed", "link_withdrawn"):
        assert action in actions
    told = _outbox(vc)
    assert ("p-ship", "map_link") in told and ("p-make", "map_link") in told


def test_an_admins_link_is_confirmed_at_once(
    api: tuple[Valuechain, dict[str, httpx.Client]],
) -> None:
    vc, c = api
    made = c["admin"].post(
        "/units/ship/links",
        json={"result_id": "parts", "customer_id": "ship", "relation": "consumes", "demand": 2.5},
    )
    assert made.status_code == 201 and made.json()["state"] == "confirmed"
    assert ("parts", "ship", "consumes") in _keys(vc)
    again = c["admin"].post(
        "/units/make/links",
        json={"result_id": "parts", "customer_id": "ship", "relation": "consumes"},
    )
    assert again.status_code == 409


def test_results_follow_the_importers_rules(
    api: tuple[Valuechain, dict[str, httpx.Client]],
) -> None:
    vc, c = api
    bad = c["make"].post("/units/make/results", json={"id": "x", "name": "X", "kind": "great"})
    assert bad.status_code == 422
    assert bad.json()["errors"] == {
        "kind": "expected one of finished, intermediate, byproduct; found 'great'"
    }
    negative = c["make"].post(
        "/units/make/results", json={"id": "x", "name": "X", "kind": "finished", "capacity": -1.0}
    )
    assert negative.status_code == 422 and "capacity" in negative.json()["errors"]
    per_item = c["make"].post(
        "/units/make/links",
        json={"result_id": "parts", "customer_id": "ship", "relation": "pays", "per_item": 2.0},
    )
    assert per_item.status_code == 422 and "per_item" in per_item.json()["errors"]
    unknown = c["make"].post(
        "/units/make/links", json={"result_id": "nope", "customer_id": "ship", "relation": "pays"}
    )
    assert unknown.status_code == 404
    # Beyond a file's rules: no control character (an .xlsx export could not hold it).
    control = c["make"].post(
        "/units/make/results", json={"id": "x", "name": "X\x07", "kind": "finished"}
    )
    assert control.status_code == 422 and "name" in control.json()["errors"]
    made = c["make"].post(
        "/units/make/results",
        json={"id": "jigs", "name": "Jigs", "kind": "intermediate", "capacity": 12.5},
    )
    assert made.status_code == 201, made.text
    assert made.json() == {
        "id": "jigs", "unit_id": "make", "name": "Jigs", "kind": "intermediate",
        "capacity": 12.5, "cost_per_item": None, "revenue_per_item": None,
    }  # fmt: skip
    assert c["make"].post("/units/make/results", json=made.json()).status_code == 409
    # pack's lead may not add a result to make (the role matrix covers every route).
    assert c["pack"].post("/units/make/results", json=made.json()).status_code == 403
    changed = c["make"].put("/units/make/results/jigs", json={"name": "Jigs", "kind": "finished"})
    assert changed.status_code == 200 and changed.json()["kind"] == "finished"
    assert c["make"].put("/units/make/results/boxes", json=changed.json()).status_code == 404
    # Removing a result removes its links; the customers' leads are told.
    c["admin"].post(
        "/units/make/links", json={"result_id": "jigs", "customer_id": "pack", "relation": "pays"}
    )
    removed = c["make"].delete("/units/make/results/jigs")
    assert removed.json() == {"removed": "jigs", "links_removed": 1}
    assert all(r.id != "jigs" for r in vc.read_map().results)
    assert ("p-pack", "map_result") in _outbox(vc)
    assert "result_removed" in [e.action for e in audit.read_page(vc).events]


def test_the_migration_confirms_every_stored_link(fresh_url: str) -> None:
    """A database at 0017 holding links, upgraded: every link is confirmed."""
    from alembic import command

    engine = make_engine(fresh_url, migrate=False, create=True)
    with engine.begin() as conn:
        cfg = _alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0017_campaign_dates")
        conn.execute(text("INSERT INTO organisations (slug, name) VALUES ('o', 'o')"))
        org_id = conn.execute(text("SELECT id FROM organisations")).scalar_one()
        conn.execute(text(
            "INSERT INTO units (org_id, id, name, kind) VALUES (:o, 'a', 'A', 'team'),"
            " (:o, 'b', 'B', 'team')"), {"o": org_id})  # fmt: skip
        conn.execute(text(
            "INSERT INTO results (org_id, id, unit_id, name, kind) VALUES"
            " (:o, 'r', 'a', 'R', 'finished')"), {"o": org_id})  # fmt: skip
        old = ("org_id", "result_id", "customer_id", "relation")
        conn.execute(
            text("INSERT INTO links (org_id, result_id, customer_id, relation) VALUES"
                 " (:org_id, :result_id, :customer_id, :relation)"),
            [dict(zip(old, (org_id, "r", "b", rel), strict=True)) for rel in ("pays", "adds_to")],
        )  # fmt: skip
    with engine.begin() as conn:
        cfg = _alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with engine.connect() as conn:
        states = conn.execute(select(LINKS.c.relation, LINKS.c.state)).all()
    # The check holds on the upgraded table too.
    with pytest.raises(Exception, match=r"(?i)check|constraint"), engine.begin() as conn:
        conn.execute(
            insert(LINKS).values(
                org_id=org_id,
                result_id="r",
                customer_id="a",
                relation="pays",
                state="maybe",
            )
        )
    assert sorted(states) == [("adds_to", "confirmed"), ("pays", "confirmed")]
    vc = Valuechain(engine, "o")
    assert {link.key for link in vc.read_map().links} == {
        Link("r", "b", Relation.PAYS).key,
        Link("r", "b", Relation.ADDS_TO).key,
    }
    engine.dispose()
