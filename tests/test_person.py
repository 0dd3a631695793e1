"""Data rights on both databases: export of everything stored about a person,
erasure of a person (CLI and API), the registry later capabilities add their data to,
and the retention of raw comments."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, func, select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from tests.signin import bearer, make_account
from valuechain import Valuechain
from valuechain.cli.main import app
from valuechain.domain.account import AccountRole
from valuechain.domain.instrument import PULSE
from valuechain.domain.link import Link, Relation
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.person import Person, Role
from valuechain.domain.response import Answer, Response
from valuechain.domain.result import Result, ResultKind
from valuechain.domain.unit import Unit, UnitKind
from valuechain.services import accounts, audit, person, retention
from valuechain.services.audit import Actor
from valuechain.services.errors import NotFound, ValuechainError
from valuechain.store.audit import AUDIT
from valuechain.store.measure import ANSWERS, COMMENTS
from valuechain.store.organisation import PEOPLE
from valuechain.web.app import create_app

JANE = "jane.doe@example.org"


def organisation() -> OrganisationMap:
    units = [Unit("ops", "Operations", UnitKind.TEAM), Unit("it", "IT", UnitKind.TEAM)]
    return OrganisationMap(
        units=units,
        results=[Result("out", "ops", "Output", ResultKind.INTERMEDIATE)],
        links=[Link("out", "it", Relation.CONSUMES)],
        people=[
            Person("p-jane", "Jane Doe", "Jane.Doe@example.org", "ops", Role.LEAD),
            Person("p-max", "Max Other", "max@example.org", "it", Role.MEMBER),
        ],
    )


@dataclass
class World:
    vc: Valuechain
    client: TestClient
    admin: dict[str, str]
    jane: dict[str, str]


@pytest.fixture
def world(vc: Valuechain) -> Iterator[World]:
    vc.write_map(organisation())
    make_account(vc, "admin@example.org")
    make_account(vc, JANE, AccountRole.LEAD, person_id="p-jane")
    make_account(vc, "max@example.org", AccountRole.MEMBER, person_id="p-max")
    with TestClient(create_app(vc)) as client:
        # A session, a failed sign-in after it, and an admin change that names her.
        jane = {"Authorization": f"Bearer {bearer(client, JANE)}"}
        failed = client.post("/api/v1/session", json={"email": JANE, "password": "wrong one!"})
        assert failed.status_code == 401
        admin = {"Authorization": f"Bearer {bearer(client, 'admin@example.org')}"}
        accounts.update_account(
            vc, JANE, Actor(None, "admin@example.org", "test"), role=AccountRole.LEAD
        )
        yield World(vc, client, admin, jane)


def audit_text(conn: Connection, org_id: int) -> str:
    rows = conn.execute(select(AUDIT).where(AUDIT.c.org_id == org_id)).all()
    return json.dumps([[str(v) for v in row] for row in rows])


def test_export_holds_everything_stored_about_the_person(
    world: World, cli_env: dict[str, str]
) -> None:
    out = CliRunner().invoke(app, ["person", "export", "p-jane", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["person"] == "p-jane"
    assert [(p["id"], p["email"], p["unit_id"]) for p in doc["people"]] == [
        ("p-jane", "Jane.Doe@example.org", "ops")
    ]
    (account,) = doc["accounts"]
    assert account["email"] == JANE and account["has_password"] is True
    assert "password_hash" not in account
    assert len(doc["sessions"]) == 1 and "token_hash" not in doc["sessions"][0]
    assert len(doc["sign_in_failures"]) == 1
    actions = {e["action"] for e in doc["audit"]}
    assert {audit.SIGN_IN, audit.ACCOUNT_CREATED, audit.ACCOUNT_CHANGED} <= actions
    assert all(
        e["actor_id"] == account["id"] or JANE in json.dumps(e).lower() for e in doc["audit"]
    )
    assert "never linked" in doc["survey_answers"]
    # The same by email, and through the human-readable output.
    by_email = CliRunner().invoke(app, ["person", "export", JANE, "--json"])
    assert json.loads(by_email.stdout)["accounts"][0]["id"] == account["id"]
    table = CliRunner().invoke(app, ["person", "export", "p-jane"])
    assert table.exit_code == 0 and "sessions" in table.stdout
    # Exports are themselves audited.
    assert audit.read_page(world.vc).events[0].action == person.PERSON_EXPORTED
    missing = CliRunner().invoke(app, ["person", "export", "nobody"])
    assert isinstance(missing.exception, NotFound)  # main() prints it, exit code 2


def test_erasure_deletes_the_account_and_anonymises_history(
    world: World, cli_env: dict[str, str]
) -> None:
    vc = world.vc
    with vc.engine.connect() as conn:
        events_before = conn.execute(
            select(func.count()).select_from(AUDIT).where(AUDIT.c.org_id == vc.org_id)
        ).scalar_one()
        assert JANE in audit_text(conn, vc.org_id).lower()
    out = CliRunner().invoke(app, ["person", "erase", "p-jane", "--yes", "--json"])
    assert out.exit_code == 0, out.output
    found = json.loads(out.stdout)
    assert found["changed"]["accounts"] == 1
    assert found["changed"]["sessions"] == 1
    assert found["changed"]["sign_in_failures"] == 1
    assert found["changed"]["people"] == 1
    assert found["changed"]["audit"] >= 3
    # Her session no longer signs anyone in; her account is gone.
    assert world.client.get("/api/v1/session", headers=world.jane).status_code == 401
    assert accounts.account_by_email(vc, JANE) is None
    with vc.engine.connect() as conn:
        history = audit_text(conn, vc.org_id).lower()
        row = conn.execute(
            select(PEOPLE).where(PEOPLE.c.org_id == vc.org_id, PEOPLE.c.id == "p-jane")
        ).one()
        events_after = conn.execute(
            select(func.count()).select_from(AUDIT).where(AUDIT.c.org_id == vc.org_id)
        ).scalar_one()
    assert JANE not in history and "jane doe" not in history
    assert found["pseudonym"] in history
    # Her row stays (its id and unit), without her name and email.
    assert row.unit_id == "ops" and row.email == found["pseudonym"]
    assert "Jane" not in row.name
    # History keeps every event (plus the erasure), only who they name changed.
    assert events_after == events_before + 1
    assert audit.read_page(vc).events[0].action == person.PERSON_ERASED
    # Nobody else was touched.
    assert accounts.account_by_email(vc, "max@example.org") is not None
    with pytest.raises(NotFound):
        person.export_person(vc, JANE, Actor(None, "test", None))


def test_the_audit_log_stays_append_only_outside_an_erasure(world: World) -> None:
    vc = world.vc
    if vc.engine.dialect.name != "postgresql":
        pytest.skip("the trigger guards PostgreSQL")
    with pytest.raises(DBAPIError, match="append-only"), vc.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'someone else'"))
    with pytest.raises(DBAPIError, match="append-only"), vc.engine.begin() as conn:
        conn.execute(text("SELECT set_config('valuechain.erasure', 'on', true)"))
        # Even an erasure may not change what happened or when.
        conn.execute(text("UPDATE audit_events SET action = 'nothing'"))
    with pytest.raises(DBAPIError, match="append-only"), vc.engine.begin() as conn:
        conn.execute(text("SELECT set_config('valuechain.erasure', 'on', true)"))
        conn.execute(text("DELETE FROM audit_events"))


def test_admins_export_and_erase_through_the_api(world: World) -> None:
    client = world.client
    make_account(world.vc, "lead@example.org", AccountRole.LEAD, person_id="p-max")
    lead = {"Authorization": f"Bearer {bearer(client, 'lead@example.org')}"}
    assert client.get("/api/v1/people/p-jane/export", headers=lead).status_code == 403
    assert client.delete("/api/v1/people/p-jane", headers=lead).status_code == 403
    exported = client.get("/api/v1/people/p-jane/export", headers=world.admin)
    assert exported.status_code == 200
    assert exported.json()["accounts"][0]["email"] == JANE
    assert client.get("/api/v1/people/nobody/export", headers=world.admin).status_code == 404
    assert client.get("/api/v1/people/%20/export", headers=world.admin).status_code == 404
    erased = client.delete(f"/api/v1/people/{JANE}", headers=world.admin)
    assert erased.status_code == 200, erased.text
    assert erased.json()["changed"]["accounts"] == 1
    assert client.delete(f"/api/v1/people/{JANE}", headers=world.admin).status_code == 404


def test_later_capabilities_add_their_part(world: World) -> None:
    seen: dict[str, Any] = {}

    def export_thanks(conn: Connection, org_id: int, who: person.Who) -> Any:
        return [{"thanked_by": list(who.person_ids)}]

    def erase_thanks(
        conn: Connection, org_id: int, who: person.Who, pseudonym: person.Pseudonym
    ) -> int:
        # Runs before the accounts are deleted, inside the erasure's transaction.
        seen["accounts_left"] = len(
            person.store.accounts_of(conn, org_id, who.person_ids, who.emails)
        )
        seen["pseudonym"] = pseudonym.email
        return 2

    person.register(person.Part("thanks", export_thanks, erase_thanks))
    try:
        actor = Actor(None, "test", None)
        doc = person.export_person(world.vc, "p-jane", actor)
        assert doc["thanks"] == [{"thanked_by": ["p-jane"]}]
        found = person.erase_person(world.vc, "p-jane", actor)
        assert found["changed"]["thanks"] == 2
        assert seen == {"accounts_left": 1, "pseudonym": found["pseudonym"]}
    finally:
        person.unregister("thanks")
    assert "thanks" not in {p.name for p in person.parts()}


def survey(vc: Valuechain, today: date) -> None:
    responses = [
        Response(
            f"r-{age}",
            "pulse-1",
            PULSE.key,
            "it",
            "ops",
            today - timedelta(days=age),
            [Answer(item.key, item.dimension, 5.0) for item in PULSE.items if item.scale],
            [(PULSE.items[-1].key, f"a comment {age} days old")],
        )
        for age in (40, 31, 29, 10)
    ]
    org = organisation()
    org.responses = responses
    vc.write_map(org)


def comments(vc: Valuechain) -> list[str]:
    with vc.engine.connect() as conn:
        return sorted(
            conn.execute(select(COMMENTS.c.text).where(COMMENTS.c.org_id == vc.org_id)).scalars()
        )


def test_retention_purges_old_raw_comments_only(vc: Valuechain, cli_env: dict[str, str]) -> None:
    today = date.today()
    survey(vc, today)
    with vc.engine.connect() as conn:
        answers = conn.execute(
            select(func.count()).select_from(ANSWERS).where(ANSWERS.c.org_id == vc.org_id)
        ).scalar_one()
    assert retention.comment_retention(vc) is None
    assert retention.purge_comments(vc) == 0  # no period: kept
    out = CliRunner().invoke(app, ["retention", "--comments-days", "30", "--purge", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout) == {"comments_days": 30, "purged": 2}
    assert comments(vc) == ["a comment 10 days old", "a comment 29 days old"]
    with vc.engine.connect() as conn:  # scores come from answers, which stay
        assert (
            conn.execute(
                select(func.count()).select_from(ANSWERS).where(ANSWERS.c.org_id == vc.org_id)
            ).scalar_one()
            == answers
        )
    # A job runs the same purge later.
    assert retention.purge_comments(vc, today=today + timedelta(days=15)) == 1
    actions = [e.action for e in audit.read_page(vc).events]
    assert actions.count(retention.COMMENTS_PURGED) == 2
    assert retention.RETENTION_CHANGED in actions
    shown = CliRunner().invoke(app, ["retention"])
    assert "30 days" in shown.stdout
    assert CliRunner().invoke(app, ["retention", "--keep-comments"]).exit_code == 0
    assert retention.comment_retention(vc) is None
    bad = CliRunner().invoke(app, ["retention", "--comments-days", "0"])
    assert isinstance(bad.exception, ValuechainError) and "from 1 to" in str(bad.exception)
