"""Data rights over the whole schema, on both databases: every column of every table
is classified below (a new table or column fails the test until it is), a row with
the person's markers is written into every table, and then

- the export holds every marker of every column that holds data about the person;
- after erasure no name, email, text they wrote or other data about them is left in
  any text column of any table (the database is reflected, not just our metadata);
- anonymous survey data (responses, answers, comments, summaries, whether an
  invitation was spent) is exactly as it was.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
)

from tests.signin import bearer, make_account
from tests.test_person import organisation as jane_and_max
from valuechain import Valuechain
from valuechain.domain.person import Person, Role
from valuechain.services import audit, person
from valuechain.services.audit import Actor
from valuechain.store import person as person_store
from valuechain.store.request import EVENTS, REQUESTS
from valuechain.store.tables import Base
from valuechain.web.app import create_app

# -- the classes ------------------------------------------------------------------------
OTHER = "other"  # not about a person (ids of units, numbers, states, times, ...)
PERSON = "person"  # the person's id on the map: a link; the id itself stays (access.md)
ACCOUNT = "account"  # an account id: a random link to an account
NAME = "name"  # a person's name, as written by whoever acted
EMAIL = "email"  # a person's email address (or a key made of it)
AUTHORED = "authored"  # free text the row's person wrote: exported, erased
MENTION = "mention"  # free text anyone wrote that may name them: name and email replaced
PERSONAL = "personal"  # other data about them (address, user agent, webhook URL)
SECRET = "secret"  # hashes of their secrets: never exported, gone after erasure
SURVEY = "survey"  # anonymous survey data: neither exported nor changed


def each(names: str, kind: str) -> dict[str, str]:
    """The columns ``names`` (space-separated), all of class ``kind``."""
    return dict.fromkeys(names.split(), kind)


#: Every column of every table. A column missing here fails the test.
COLUMNS: dict[str, dict[str, str]] = {
    "organisations": each(
        ("id slug name map_version anonymity_threshold comment_threshold comment_retention_days"),
        OTHER,
    ),
    "units": each("org_id id name kind parent_id headcount", OTHER),
    "results": each("org_id id unit_id name kind capacity cost_per_item revenue_per_item", OTHER),
    "links": {
        **each(
            "org_id result_id customer_id relation demand per_item state proposed_side "
            "proposed_at answered_at",
            OTHER,
        ),
        "proposed_by": EMAIL,
        "answered_by": EMAIL,
        "reason": AUTHORED,
    },
    "unit_history": {
        **each(
            "seq org_id id name kind parent_id headcount removed valid_from valid_to source",
            OTHER,
        ),
        "changed_by": EMAIL,
    },
    "result_history": {
        **each(
            "seq org_id id unit_id name kind capacity cost_per_item revenue_per_item removed "
            "valid_from valid_to source",
            OTHER,
        ),
        "changed_by": EMAIL,
    },
    "link_history": {
        **each(
            "seq org_id result_id customer_id relation demand per_item state removed "
            "valid_from valid_to source",
            OTHER,
        ),
        "changed_by": EMAIL,
    },
    "people": {
        "org_id": OTHER,
        "id": PERSON,
        "name": NAME,
        "email": EMAIL,
        "unit_id": OTHER,
        "role": OTHER,
    },
    "accounts": {
        "org_id": OTHER,
        "id": ACCOUNT,
        "email": EMAIL,
        "name": NAME,
        "role": OTHER,
        "person_id": PERSON,
        "password_hash": SECRET,
        "active": OTHER,
        "created_at": OTHER,
    },
    "sessions": {
        "org_id": OTHER,
        "token_hash": SECRET,
        "account_id": ACCOUNT,
        "created_at": OTHER,
        "expires_at": OTHER,
        "address": PERSONAL,
        "user_agent": PERSONAL,
    },
    "sign_in_failures": {"org_id": OTHER, "id": OTHER, "key": EMAIL, "at": OTHER},
    "audit_events": {
        "org_id": OTHER,
        "id": OTHER,
        "at": OTHER,
        "actor_id": ACCOUNT,
        "actor": EMAIL,
        "action": OTHER,
        "subject": MENTION,
        "outcome": OTHER,
        "address": PERSONAL,
        "detail": MENTION,
    },
    "idempotency_keys": {
        "org_id": OTHER,
        "scope": ACCOUNT,
        "key": OTHER,
        "method": OTHER,
        "path": MENTION,
        "request_sha256": OTHER,
        "status_code": OTHER,
        "media_type": OTHER,
        "response_body": MENTION,
        "created_at": OTHER,
    },
    "instruments": each("org_id key name", OTHER),
    "instrument_items": each(
        "org_id instrument item position dimension text scale_min scale_max", OTHER
    ),
    "campaigns": {
        **each("org_id id name instrument opens_on closes_on state", OTHER),
        # The span of the campaign's anonymous answers: orders campaigns, never shown.
        **each("first_answer_on last_answer_on", SURVEY),
    },
    "campaign_groups": each("org_id campaign_id provider_id customer_id", OTHER),
    "invitations": {
        **each(
            "org_id id campaign_id provider_id customer_id invited_on",
            OTHER,
        ),
        "person_id": PERSON,
        "spent": SURVEY,
    },
    "invitation_tokens": each("org_id token_hash invitation_id", OTHER),
    "responses": each(
        "org_id id campaign_id instrument rater_id rated_id submitted_on summarised", SURVEY
    ),
    "answers": each("org_id response_id item dimension expectation score", SURVEY),
    "comments": each("org_id response_id item text", SURVEY),
    "importance_points": each("org_id response_id dimension points", SURVEY),
    "sealed_responses": each("org_id id campaign_id payload", SURVEY),
    "measure_cells": each(
        (
            "org_id cut campaign instrument provider customer dimension n total total_sq "
            "gap_n gap_total gap_sq suppressed"
        ),
        SURVEY,
    ),
    "measure_blocks": each("org_id kind instrument provider dimension n data", SURVEY),
    "measure_open_campaigns": each("org_id campaign", SURVEY),
    "workspace_entries": {
        **each(
            ("org_id id provider_id customer_id side kind alignment counterpart_id created_at"),
            OTHER,
        ),
        "text": MENTION,
        "author_account_id": ACCOUNT,
    },
    "actions": {
        **each(
            (
                "org_id id provider_id customer_id due_on status metric_instrument "
                "metric_dimension metric_rated_id baseline_campaign created_at updated_at"
            ),
            OTHER,
        ),
        "title": MENTION,
        "owner": NAME,
        "source": MENTION,
        "author_account_id": ACCOUNT,
    },
    "notification_outbox": {
        **each("org_id id channel kind created_at status attempts due_at sent_at", OTHER),
        "person_id": PERSON,
        "address": EMAIL,
        "subject": MENTION,
        "body": MENTION,
        "link": MENTION,
        "last_error": MENTION,
    },
    "notification_preferences": {
        **each("org_id kind email webhook", OTHER),
        "person_id": PERSON,
    },
    "notification_webhooks": {"org_id": OTHER, "person_id": PERSON, "url": PERSONAL},
    "outcomes": each("org_id unit_id metric period value", OTHER),
    "calendars": each("org_id name timezone hours holidays", OTHER),
    "agreements": {
        **each(
            (
                "org_id id result_id customer_id calendar review_on on_time_pct "
                "response_hours resolution_hours quality_pct state exceed_margin_hours "
                "deliverable_rrule provider_agreed_at customer_agreed_at"
            ),
            OTHER,
        ),
        "channel": MENTION,
        "cadence": MENTION,
        "obligations": MENTION,
        "provider_agreed_by": EMAIL,
        "customer_agreed_by": NAME,
    },
    "commitments": each("org_id agreement_id due_at delivered_at warned_at", OTHER),
    "capacity_shares": each("org_id result_id customer_id share", OTHER),
    "negotiations": {
        **each(
            "org_id id result_id customer_id opened_at demand share state closed_at",
            OTHER,
        ),
        "closed_by": EMAIL,
        "note": AUTHORED,
    },
    "requests": {
        **each(
            (
                "org_id id customer_id provider_id priority category state created_at "
                "first_response_at resolved_at paused_since paused_seconds events thanked_at"
            ),
            OTHER,
        ),
        "title": AUTHORED,
        "body": AUTHORED,
        "requester_id": ACCOUNT,
        "requester": NAME,
        "thanks_note": AUTHORED,
        "thanked_by": NAME,
        "assignee_id": PERSON,
    },
    "request_events": {
        **each(
            "org_id request_id seq at verb from_state to_state",
            OTHER,
        ),
        "actor": NAME,
        "note": AUTHORED,
    },
    "request_comments": {
        **each("org_id id request_id at side", OTHER),
        "author_id": ACCOUNT,
        "author": NAME,
        "body": AUTHORED,
    },
}

#: Tables with data about a person, and the part of the export that holds them.
PARTS: dict[str, str] = {
    "people": "people",
    "accounts": "accounts",
    "sessions": "sessions",
    "sign_in_failures": "sign_in_failures",
    "audit_events": "audit",
    "idempotency_keys": "idempotency_keys",
    "invitations": "invitations",
    "workspace_entries": "workspace_entries",
    "actions": "actions",
    "notification_outbox": "notification_outbox",
    "notification_preferences": "notification_preferences",
    "notification_webhooks": "notification_webhooks",
    "agreements": "agreements",
    "negotiations": "negotiations",
    "requests": "requests",
    "request_events": "request_events",
    "request_comments": "request_comments",
    "links": "links",
    "unit_history": "unit_history",
    "result_history": "result_history",
    "link_history": "link_history",
}

#: Values a CHECK constraint or a key format asks for.
FIXED: dict[tuple[str, str], Any] = {
    ("units", "kind"): "team",
    ("results", "kind"): "finished",
    ("links", "relation"): "consumes",
    ("links", "state"): "disputed",
    # Far above what the histories' sequences hand out in a session on the shared
    # PostgreSQL database, so a map write after this row gets another seq.
    **{
        (f"{kind}_history", "seq"): 2_000_000_000 + secrets.randbelow(100_000_000)
        for kind in ("unit", "result", "link")
    },
    ("unit_history", "kind"): "team",
    ("unit_history", "source"): "api",
    ("result_history", "kind"): "finished",
    ("result_history", "source"): "api",
    ("link_history", "relation"): "consumes",
    ("link_history", "state"): "confirmed",
    ("link_history", "source"): "api",
    ("people", "role"): "lead",
    ("accounts", "role"): "lead",
    ("workspace_entries", "side"): "provider",
    ("workspace_entries", "kind"): "need",
    ("workspace_entries", "alignment"): "aligned",
    ("actions", "status"): "open",
    ("notification_outbox", "channel"): "email",
    ("notification_outbox", "status"): "pending",
    ("agreements", "state"): "agreed",
    ("negotiations", "state"): "accepted",
    ("requests", "state"): "new",
    ("request_comments", "side"): "provider",
}

# Now, so that nothing is purged as expired (sessions, sign-in failures) meanwhile.
NOW = datetime.now(UTC) + timedelta(hours=1)
ID = "k1"  # every id: the person's, their account's, and every key that joins tables


def keyed_columns() -> set[tuple[str, str]]:
    """Columns in a foreign key, on either side: they hold the one shared id."""
    found: set[tuple[str, str]] = set()
    for table in Base.metadata.tables.values():
        for fk in table.foreign_keys:
            found.add((table.name, fk.parent.name))
            found.add((fk.column.table.name, fk.column.name))
    return found


class Markers:
    """The person's markers, unique per run (the PostgreSQL database is shared)."""

    def __init__(self) -> None:
        tag = secrets.token_hex(4)
        self.name = f"Zelda Quix{tag}"
        self.email = f"zelda.{tag}@example.org"
        self.tag = tag
        self.exported: list[str] = []  # every value the export must hold
        self.gone: list[str] = [self.name.casefold(), self.email.casefold()]
        self.number = 0

    def value(self, table: str, column: str, kind: str, keyed: bool, type_: Any) -> Any:
        if (table, column) in FIXED:
            return FIXED[(table, column)]
        if isinstance(type_, Boolean):
            return False
        if isinstance(type_, Integer):
            return 1
        if isinstance(type_, Float):
            return 1.0
        if isinstance(type_, DateTime):
            return NOW
        if isinstance(type_, Date):
            return NOW.date()
        if isinstance(type_, LargeBinary):
            return b"\x00"
        assert isinstance(type_, String | Text), (table, column, type_)
        self.number += 1
        n = self.number
        if kind in (PERSON, ACCOUNT) or keyed:
            if (table, column) == ("idempotency_keys", "scope"):
                return f"account:{ID}"
            return ID
        if kind == NAME:
            return self.name
        if kind == EMAIL:
            return f"account:{self.email}" if table == "sign_in_failures" else self.email
        if kind in (AUTHORED, PERSONAL, SECRET):
            marker = f"{kind}-{n}-{self.tag}"
            self.gone.append(marker)
            if kind != SECRET:
                self.exported.append(marker)
            return marker
        if kind == MENTION:
            marker = f"mention-{n}-{self.tag}"
            self.exported.append(marker)
            return f"{marker} by {self.name} <{self.email}>"
        return f"c{n}"


def fill(vc: Valuechain, markers: Markers) -> None:
    """One row in every table (but organisations), every column filled."""
    keyed = keyed_columns()
    with vc.engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name == "organisations":
                continue
            row = {
                c.name: vc.org_id
                if c.name == "org_id"
                else markers.value(
                    table.name,
                    c.name,
                    COLUMNS[table.name][c.name],
                    (table.name, c.name) in keyed,
                    c.type,
                )
                for c in table.columns
            }
            conn.execute(insert(table), [row])


def text_of(vc: Valuechain, tables: list[Table]) -> str:
    """Every text value of every row of ``tables``, case-folded."""
    parts: list[str] = []
    with vc.engine.connect() as conn:
        for table in tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            if columns:
                for row in conn.execute(select(*columns)):
                    parts.extend(str(v) for v in row if v is not None)
    return "\n".join(parts).casefold()


def survey_rows(vc: Valuechain) -> dict[str, list[tuple[Any, ...]]]:
    """The organisation's anonymous survey data, table by table, in a stable order."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with vc.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            survey = [c for c in table.columns if COLUMNS[table.name][c.name] == SURVEY]
            if survey and "org_id" in table.c:
                stmt = select(*survey).where(table.c.org_id == vc.org_id)
                found[table.name] = sorted((tuple(r) for r in conn.execute(stmt)), key=repr)
    return found


def test_every_column_of_every_table_is_classified() -> None:
    actual = {t.name: {c.name for c in t.columns} for t in Base.metadata.sorted_tables}
    assert set(actual) == set(COLUMNS), "classify the new or removed table in COLUMNS"
    for name, columns in actual.items():
        assert columns == set(COLUMNS[name]), f"classify every column of {name}"
    holding = {t for t, cs in COLUMNS.items() if set(cs.values()) - {OTHER, SURVEY}}
    assert holding == set(PARTS), "every table with data about people needs its export part"


@pytest.fixture
def filled(vc: Valuechain) -> Iterator[tuple[Valuechain, Markers, TestClient, dict[str, str]]]:
    markers = Markers()
    fill(vc, markers)
    make_account(vc, "admin@example.org")
    with TestClient(create_app(vc)) as client:
        admin = {"Authorization": f"Bearer {bearer(client, 'admin@example.org')}"}
        yield vc, markers, client, admin


def test_export_and_erasure_cover_every_table(
    filled: tuple[Valuechain, Markers, TestClient, dict[str, str]],
) -> None:
    vc, markers, client, admin = filled
    # Every table of the database, not only those we know: a table added by a
    # migration without a model would still be scanned.
    reflected = MetaData()
    reflected.reflect(vc.engine)
    tables = list(reflected.tables.values())
    # Other tests may add tables of their own to the shared PostgreSQL database; that
    # every table of ours is classified is checked against the metadata above.
    assert set(COLUMNS) <= set(reflected.tables)
    before = text_of(vc, tables)
    absent = [m for m in markers.gone if m not in before]
    assert not absent, absent
    survey_before = survey_rows(vc)

    exported = client.get(f"/api/v1/people/{ID}/export", headers=admin)
    assert exported.status_code == 200, exported.text
    document = exported.json()
    dump = json.dumps(document)
    missing = [m for m in markers.exported if m not in dump]
    assert not missing, f"the export lacks {missing}"
    for table, part in PARTS.items():
        assert document.get(part), f"the export's {part!r} holds nothing of {table}"
    assert "secret-" not in dump

    erased = client.delete(f"/api/v1/people/{ID}", headers=admin)
    assert erased.status_code == 200, erased.text
    after = text_of(vc, tables)
    left = [m for m in markers.gone if m in after]
    assert not left, f"still in the database after erasure: {left}"
    assert survey_rows(vc) == survey_before


def test_text_others_wrote_keeps_its_words_but_not_the_name(vc: Valuechain) -> None:
    """A request someone else filed that names the person: only her name and email
    are replaced (whole words: "Maximum" stays when "Max" is erased)."""
    org = jane_and_max()
    org.people.append(Person("p-zed", "Max", "max.z@example.org", "it", Role.MEMBER))
    vc.write_map(org)
    request = {
        "org_id": vc.org_id,
        "id": "r1",
        "customer_id": "it",
        "provider_id": "ops",
        "title": "Laptop for Max",
        "body": "Max (max.z@example.org) needs it; maximum priority, Maxine agrees.",
        "requester_id": "someone",
        "requester": "Ann Other",
        "state": "new",
        "created_at": NOW,
    }
    event = {
        "org_id": vc.org_id,
        "request_id": "r1",
        "seq": 1,
        "at": NOW,
        "actor": "Ann Other",
        "verb": "new",
        "to_state": "new",
        "note": "filed for Max",
    }
    with vc.engine.begin() as conn:
        conn.execute(insert(REQUESTS), [request])
        conn.execute(insert(EVENTS), [event])
    actor = Actor(None, "test", None)
    # The audit log names her by name only, once; another event only looks alike.
    audit.record(vc, "test_named", actor, subject="r1", detail="approved by Max")
    audit.record(vc, "test_alike", actor, subject="r2", detail="maximum reached")
    exported = person.export_person(vc, "p-zed", actor)
    assert [r["id"] for r in exported["requests"]] == ["r1"]
    assert [e["note"] for e in exported["request_events"]] == ["filed for Max"]
    found = person.erase_person(vc, "p-zed", actor)
    assert found["changed"]["requests"] == 1 and found["changed"]["request_events"] == 1
    with vc.engine.connect() as conn:
        (erased,) = person_store.people_matching(conn, vc.org_id, "p-zed")
        pseudonym = erased["name"]
        row = conn.execute(select(REQUESTS).where(REQUESTS.c.org_id == vc.org_id)).one()
        note = conn.execute(select(EVENTS.c.note).where(EVENTS.c.org_id == vc.org_id)).scalar()
    assert row.title == f"Laptop for {pseudonym}"
    assert row.body == (
        f"{pseudonym} ({found['pseudonym']}) needs it; maximum priority, Maxine agrees."
    )
    assert (row.requester_id, row.requester) == ("someone", "Ann Other")  # not hers
    assert note == f"filed for {pseudonym}"
    details = {e.action: e.detail for e in audit.read_page(vc).events}
    assert details["test_named"] == f"approved by {pseudonym}"
    assert details["test_alike"] == "maximum reached"
    assert "test_alike" not in json.dumps(exported["audit"])
