"""Units and people through the API, against a real uvicorn server on loopback, on
both databases: created, changed and removed (a person leaves) by an admin; a lead
renames their own unit and nothing more; rows checked by the importer's own rules
(the same bad row gets the same problem text from the API and from ``valuechain
import``); a unit in use refused; every change audited and idempotent."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.browser.conftest import serving
from tests.builders import chain_map
from tests.signin import make_account
from valuechain import Valuechain
from valuechain.api import PREFIX
from valuechain.cli.main import app as cli
from valuechain.cli.main import main
from valuechain.domain.account import AccountRole
from valuechain.domain.bundle import StoredIds, check_rows
from valuechain.domain.person import Person, Role
from valuechain.domain.unit import Unit, UnitKind
from valuechain.services import accounts, audit, map_structure
from valuechain.services import notification as notifications
from valuechain.services.transaction import reading
from valuechain.store import organisation as store
from valuechain.store.tables import AccountRow
from valuechain.web.app import create_app

Clients = dict[str, httpx.Client]


@pytest.fixture
def api(vc: Valuechain) -> Iterator[tuple[Valuechain, Clients]]:
    """chain_map with make's lead (who has an account) and an admin, served."""
    org = chain_map()
    org.people = [
        Person("p-make", "Mia Make", "mia@example.org", "make", Role.LEAD),
        Person("p-pack", "Pat Pack", "pat@example.org", "pack", Role.LEAD),
    ]
    vc.write_map(org)
    make_account(vc, "admin@example.org", AccountRole.ADMIN)
    make_account(vc, "mia@example.org", AccountRole.LEAD, person_id="p-make")
    with serving(lambda _url: create_app(vc)) as url:
        clients = {}
        for who, email in (("admin", "admin@example.org"), ("make", "mia@example.org")):
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


def _actions(vc: Valuechain) -> list[tuple[str, str | None]]:
    return [(e.action, e.subject) for e in audit.read_page(vc, per_page=200).events]


def _units(vc: Valuechain) -> dict[str, tuple[str, str, str | None, int | None]]:
    return {u.id: (u.name, u.kind.value, u.parent_id, u.headcount) for u in vc.read_map().units}


def test_a_unit_is_created_changed_and_removed(api: tuple[Valuechain, Clients]) -> None:
    vc, c = api
    body = {"id": "qa", "name": "Quality", "kind": "team", "parent_id": "ops", "headcount": 3}
    made = c["admin"].post("/units", json=body)
    assert made.status_code == 201, made.text
    assert made.json() == body
    assert _units(vc)["qa"] == ("Quality", "team", "ops", 3)
    assert c["admin"].post("/units", json=body).status_code == 409
    changed = c["admin"].put(
        "/units/qa", json={"name": "Quality assurance", "kind": "department", "headcount": 5}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"id": "qa", "name": "Quality assurance", "kind": "department",
                              "parent_id": None, "headcount": 5}  # fmt: skip
    assert _units(vc)["qa"] == ("Quality assurance", "department", None, 5)
    assert c["admin"].put("/units/nope", json={"name": "N", "kind": "team"}).status_code == 404
    removed = c["admin"].delete("/units/qa")
    assert removed.status_code == 200 and removed.json() == {"removed": "qa"}
    assert "qa" not in _units(vc)
    assert c["admin"].delete("/units/qa").status_code == 404
    actions = _actions(vc)
    for action in ("unit_created", "unit_changed", "unit_removed"):
        assert (action, "unit qa") in actions
    changed_event = next(e for e in audit.read_page(vc).events if e.action == "unit_changed")
    assert changed_event.actor == "admin@example.org"
    assert changed_event.detail is not None and "'ops' → None" in changed_event.detail


def test_a_unit_in_use_is_refused_with_what_refers_to_it(api: tuple[Valuechain, Clients]) -> None:
    vc, c = api
    refused = c["admin"].delete("/units/make")
    assert refused.status_code == 409
    detail = refused.json()["detail"]
    # make produces two results, has a person, and units link to its results' ...
    assert "results" in detail and "people" in detail
    # ... ops has units below it; retail is the customer of links (pays).
    assert "2 in results" in detail and "1 in people" in detail
    assert "3 in units" in c["admin"].delete("/units/ops").json()["detail"]
    assert "links" in c["admin"].delete("/units/retail").json()["detail"]
    # A unit only a request names (no foreign key) is in use too.
    c["admin"].post("/units", json={"id": "solo", "name": "Solo", "kind": "team"})
    c["admin"].post("/requests", json={"customer": "solo", "provider": "pack", "title": "Hi"})
    asked = c["admin"].delete("/units/solo")
    assert asked.status_code == 409 and "in requests" in asked.json()["detail"]
    assert {"make", "ops", "retail", "solo"} <= set(_units(vc))
    assert "unit_removed" not in [a for a, _ in _actions(vc)]


def test_every_column_that_names_a_unit_is_counted(vc: Valuechain) -> None:
    """The columns without a foreign key exist (a rename fails here), and every table
    with a unit-like column is either keyed to ``units`` or listed."""
    metadata = store.UNITS.metadata
    for name, columns in store.UNIT_COLUMNS_WITHOUT_KEYS.items():
        assert all(c in metadata.tables[name].c for c in columns), name
    keyed = {
        t.name
        for t in metadata.sorted_tables
        for fk in t.foreign_key_constraints
        if fk.referred_table is store.UNITS
    }
    unit_like = ("unit_id", "customer_id", "provider_id", "rater_id", "rated_id", "provider")
    for table in metadata.sorted_tables:
        if any(c.name in unit_like for c in table.columns) and table.name != "units":
            listed = keyed | set(store.UNIT_COLUMNS_WITHOUT_KEYS) | store.UNIT_HISTORY_TABLES
            assert table.name in listed, table.name
    vc.write_map(chain_map())
    with reading(vc) as conn:
        assert store.unit_references(conn, vc.org_id, "audit") == {"results": 1, "links": 1}


def test_a_lead_renames_their_own_unit_and_nothing_more(api: tuple[Valuechain, Clients]) -> None:
    vc, c = api
    same = {"kind": "team", "parent_id": "ops", "headcount": 30}
    renamed = c["make"].put("/units/make", json={"name": "Machining & Milling", **same})
    assert renamed.status_code == 200, renamed.text
    assert _units(vc)["make"] == ("Machining & Milling", "team", "ops", 30)
    moved = c["make"].put("/units/make", json={"name": "Machining", **same, "parent_id": None})
    assert moved.status_code == 403
    assert "name only" in moved.json()["detail"]
    assert c["make"].put("/units/pack", json={"name": "Boxes", "kind": "team"}).status_code == 403
    new = {"id": "x", "name": "X", "kind": "team"}
    assert c["make"].post("/units", json=new).status_code == 403
    assert c["make"].delete("/units/audit").status_code == 403
    assert _units(vc)["make"][0] == "Machining & Milling"
    # Changed by an admin, the unit's leads are told.
    c["admin"].put("/units/make", json={"name": "Machining", **same})
    outbox = [(r.person_id, r.kind) for r in notifications.outbox(vc).rows]
    assert ("p-make", "map_unit") in outbox


def test_a_parent_making_a_cycle_is_refused(api: tuple[Valuechain, Clients]) -> None:
    vc, c = api
    cycle = c["admin"].put("/units/ops", json={"name": "Operations", "kind": "department",
                                               "parent_id": "make"})  # fmt: skip
    assert cycle.status_code == 422
    assert cycle.json()["errors"]["parent_id"].startswith(
        "expected a parent that is not the unit itself or below it"
    )
    itself = c["admin"].put("/units/ops", json={"name": "O", "kind": "team", "parent_id": "ops"})
    assert itself.status_code == 422 and "the unit itself" in itself.json()["errors"]["parent_id"]
    unknown = c["admin"].post("/units", json={"id": "x", "name": "X", "kind": "team",
                                              "parent_id": "nowhere"})  # fmt: skip
    # As for links: what the row names must exist (404), before the row check.
    assert unknown.status_code == 404 and "'nowhere' (parent_id)" in unknown.json()["detail"]
    elsewhere = {"id": "p-x", "name": "X", "email": "x@example.org", "unit_id": "nowhere",
                 "role": "member"}  # fmt: skip
    assert c["admin"].post("/people", json=elsewhere).status_code == 404
    assert _units(vc)["ops"] == ("Operations", "department", None, None)


def _cli_import(folder: Path) -> str:
    result = CliRunner().invoke(cli, ["import", str(folder)])
    assert result.exit_code == 2, result.stdout
    return result.stderr


def test_the_api_and_the_import_refuse_a_bad_row_with_the_same_words(
    api: tuple[Valuechain, Clients], cli_env: dict[str, str], tmp_path: Path
) -> None:
    vc, c = api
    bad_unit = c["admin"].post("/units", json={"id": "x", "name": "X", "kind": "tem"})
    assert bad_unit.status_code == 422
    expected = bad_unit.json()["errors"]["kind"]
    (tmp_path / "units.csv").write_text("id,name,kind,parent_id,headcount\nx,X,tem,,\n")
    assert f"units.csv line 2, column kind: {expected}" in _cli_import(tmp_path)

    taken = {"id": "p-new", "name": "New", "email": "mia@example.org", "unit_id": "pack",
             "role": "member"}  # fmt: skip
    bad_person = c["admin"].post("/people", json=taken)
    # Taken, like an id (409), with the importer's words in errors as for a 422.
    assert bad_person.status_code == 409
    expected = bad_person.json()["errors"]["email"]
    assert "the email of stored person 'p-make'" in expected
    folder = tmp_path / "people"
    folder.mkdir()
    (folder / "units.csv").write_text("id,name,kind\n")
    (folder / "people.csv").write_text(
        "id,name,email,unit_id,role\np-new,New,mia@example.org,pack,member\n"
    )
    assert f"people.csv line 2, column email: {expected}" in _cli_import(folder)
    bad_role = c["admin"].post("/people", json={**taken, "email": "n@example.org", "role": "boss"})
    assert bad_role.status_code == 422
    assert bad_role.json()["errors"] == {
        "role": "expected one of admin, lead, member; found 'boss'"
    }
    assert "x" not in _units(vc) and all(p.id != "p-new" for p in vc.read_map().people)


def _accounts(vc: Valuechain) -> dict[str, bool]:
    with reading(vc) as conn:
        table = AccountRow.__table__
        rows = conn.execute(
            select(table.c.email, table.c.active).where(table.c.org_id == vc.org_id)
        )
        return {email: bool(active) for email, active in rows}


def test_a_person_is_added_changed_and_leaves(api: tuple[Valuechain, Clients]) -> None:
    vc, c = api
    body = {"id": "p-new", "name": "Nia New", "email": "nia@example.org", "unit_id": "pack",
            "role": "member"}  # fmt: skip
    made = c["admin"].post("/people", json=body)
    assert made.status_code == 201, made.text
    assert made.json() == body
    assert c["admin"].post("/people", json=body).status_code == 409
    moved = c["admin"].put("/people/p-new", json={**body | {"unit_id": "make", "role": "lead"}})
    assert moved.status_code == 200 and moved.json()["unit_id"] == "make"
    assert Person("p-new", "Nia New", "nia@example.org", "make", Role.LEAD) in vc.read_map().people
    assert c["admin"].put("/people/nobody", json=body).status_code == 404
    # Leads are told who joined and who moved.
    outbox = [(r.person_id, r.kind) for r in notifications.outbox(vc).rows]
    assert ("p-pack", "map_unit") in outbox and ("p-make", "map_unit") in outbox
    # make's lead leaves: off the map, the account disabled and its sessions ended.
    assert c["make"].get("/session").status_code == 200
    left = c["admin"].post("/people/p-make/leave")
    assert left.status_code == 200, left.text
    assert left.json() == {"left": "p-make", "unit_id": "make", "accounts_deactivated": 1,
                           "sessions_ended": 1}  # fmt: skip
    assert all(p.id != "p-make" for p in vc.read_map().people)
    assert _accounts(vc)["mia@example.org"] is False
    assert c["make"].get("/session").status_code == 401
    assert c["admin"].post("/people/p-make/leave").status_code == 404
    # Leaving is not erasure: the audit log still says who did what.
    actions = _actions(vc)
    for action in ("person_added", "person_changed", "person_left"):
        assert any(a == action for a, _ in actions), action
    assert ("person_left", "person p-make") in actions
    assert "person_erased" not in [a for a, _ in actions]
    # A lead without an account leaves as well (nothing to disable).
    assert c["admin"].post("/people/p-pack/leave").status_code == 200
    assert {"p-new"} == {p.id for p in vc.read_map().people}


def test_a_retried_write_is_answered_once(api: tuple[Valuechain, Clients]) -> None:
    vc, c = api
    key = {"Idempotency-Key": "unit-qa-1"}
    body = {"id": "qa", "name": "Quality", "kind": "team"}
    first = c["admin"].post("/units", json=body, headers=key)
    again = c["admin"].post("/units", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    renamed = {"name": "QA", "kind": "team"}
    put_key = {"Idempotency-Key": "unit-qa-2"}
    assert c["admin"].put("/units/qa", json=renamed, headers=put_key).status_code == 200
    c["admin"].put("/units/qa", json={"name": "Between", "kind": "team"})
    replayed = c["admin"].put("/units/qa", json=renamed, headers=put_key)
    assert replayed.json()["name"] == "QA" and replayed.headers["Idempotent-Replayed"] == "true"
    assert _units(vc)["qa"][0] == "Between"  # the replay changed nothing
    person = {"id": "p-q", "name": "Q", "email": "q@example.org", "unit_id": "qa",
              "role": "member"}  # fmt: skip
    leave_key = {"Idempotency-Key": "p-q-leaves"}
    c["admin"].post("/people", json=person)
    gone = c["admin"].post("/people/p-q/leave", headers=leave_key)
    assert c["admin"].post("/people/p-q/leave", headers=leave_key).json() == gone.json()
    delete_key = {"Idempotency-Key": "qa-goes"}
    removed = c["admin"].delete("/units/qa", headers=delete_key)
    assert c["admin"].delete("/units/qa", headers=delete_key).json() == removed.json()
    counts: dict[str, int] = {}
    for action, subject in _actions(vc):
        if subject in ("unit qa", "person p-q"):
            counts[action] = counts.get(action, 0) + 1
    assert counts == {"unit_created": 1, "unit_changed": 2, "unit_removed": 1,
                      "person_added": 1, "person_left": 1}  # fmt: skip


def test_someone_who_left_can_still_be_exported_and_erased(
    api: tuple[Valuechain, Clients],
) -> None:
    """Leaving keeps their account (disabled) linked to their id, so the data-rights
    routes still find them by it; the erasure then removes the account."""
    vc, c = api
    assert c["admin"].post("/people/p-make/leave").status_code == 200
    exported = c["admin"].get("/people/p-make/export")
    assert exported.status_code == 200
    assert [a["email"] for a in exported.json()["accounts"]] == ["mia@example.org"]
    erased = c["admin"].delete("/people/p-make")
    assert erased.status_code == 200 and erased.json()["changed"]["accounts"] == 1
    assert "mia@example.org" not in _accounts(vc)
    assert c["admin"].get("/people/p-make/export").status_code == 404
    assert c["admin"].post("/people/nobody/leave").status_code == 404


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def _refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> str:
    """What ``valuechain ARGS`` says on stderr when it refuses (exit 2)."""
    monkeypatch.setattr(sys, "argv", ["valuechain", *args])
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code == 2
    return " ".join(capsys.readouterr().err.split())  # the console wraps long lines


def test_valuechain_unit_add_change_remove(
    vc: Valuechain,
    cli_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The command line runs the same use cases: checked, audited, refused alike."""
    vc.write_map(chain_map())
    code, out, err = _cli("unit", "add", "qa", "--name", "Quality", "--kind", "team",
                          "--parent", "ops", "--headcount", "3", "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(out) == {"id": "qa", "name": "Quality", "kind": "team",
                               "parent_id": "ops", "headcount": 3}  # fmt: skip
    code, out, err = _cli("unit", "change", "qa", "--name", "Quality assurance", "--parent", "")
    assert code == 0, err
    assert "Changed qa: Quality assurance (team, 3 people)." in out
    assert _units(vc)["qa"] == ("Quality assurance", "team", None, 3)
    err = _refused(monkeypatch, capsys, "unit", "change", "ops", "--parent", "make")
    assert "parent_id: expected a parent that is not the unit itself or below it" in err
    assert "still referred to" in _refused(monkeypatch, capsys, "unit", "remove", "make")
    code, out, err = _cli("unit", "remove", "qa")
    assert code == 0 and "Removed qa." in out
    assert "qa" not in _units(vc)
    actions = [a for a, s in _actions(vc) if s == "unit qa"]
    assert sorted(actions) == ["unit_changed", "unit_created", "unit_removed"]


def test_reading_only_what_a_row_names_gives_the_importers_verdict(vc: Valuechain) -> None:
    """The use cases read the stored ids a row can name (its own, its unit, the parents
    above, its email's holder) instead of every id: the same problems and the same
    rows as the check against everything stored that an import makes."""
    org = chain_map()
    org.units += [Unit("a", "A", UnitKind.TEAM, parent_id="b"),
                  Unit("b", "B", UnitKind.TEAM, parent_id="c"),
                  Unit("c", "C", UnitKind.TEAM, parent_id="d"),
                  Unit("d", "D", UnitKind.TEAM)]  # fmt: skip
    org.people = [Person("p-1", "One", "one@example.org", "make", Role.LEAD)]
    vc.write_map(org)
    rows = [
        ("units", {"id": "d", "name": "D", "kind": "team", "parent_id": "a"}),  # a cycle
        ("units", {"id": "d", "name": "D", "kind": "team", "parent_id": "d"}),
        ("units", {"id": "e", "name": "E", "kind": "team", "parent_id": "a"}),
        ("units", {"id": "e", "name": "E", "kind": "tem", "parent_id": "zz"}),
        ("units", {"id": "ops", "name": "O", "kind": "department", "parent_id": ""}),
        ("people", {"id": "p-2", "name": "Two", "email": "one@example.org",
                    "unit_id": "pack", "role": "member"}),
        ("people", {"id": "p-1", "name": "One", "email": "one@example.org",
                    "unit_id": "pack", "role": "admin"}),
        ("people", {"id": "p-3", "name": "", "email": "x", "unit_id": "nope", "role": "boss"}),
    ]  # fmt: skip
    with reading(vc) as conn:
        known = store.known_ids(conn, vc.org_id)
        everything = StoredIds(
            units=known["units"], results=known["results"], people=known["people"],
            emails=store.known_emails(conn, vc.org_id),
            unit_parents=store.unit_parents(conn, vc.org_id),
        )  # fmt: skip
        for table, row in rows:
            narrow = map_structure._stored(conn, vc.org_id, table, row)
            full, read = check_rows(table, [row], everything), check_rows(table, [row], narrow)
            assert read.problems == full.problems, row
            assert read.org_map == full.org_map, row
    cycle = check_rows("units", [rows[0][1]], everything).problems
    assert cycle[0].found == "a cycle 'd' → 'a' → 'b' → 'c' → 'd'"
