"""Data rights: export everything stored about a person, and erase a person.

A person is found by their id on the map (``people.csv``) or by an email address (of
the map's person or of an account). What is stored about them is collected from
*parts*, one per kind of data; this module brings every part the platform has (the
person's row on the map, accounts, sessions, sign-in failures, audit events, and one
per table in :data:`TRACES`: idempotency keys, invitations, notifications, requests,
request events and comments, workspace entries, actions, agreements, negotiations), so
every entry point has them all; a part can also be added with :func:`register`::

    person.register(person.Part("requests", export_requests, erase_requests))

``export_part(conn, org_id, who)`` returns something JSON can hold;
``erase_part(conn, org_id, who, pseudonym)`` deletes or anonymises the person's rows and
returns how many it changed. Both run inside the one transaction of the export or
the erasure. Survey answers are never linked to a person, so there is nothing to
export or erase there.

**Erasure** deletes the accounts (and so their sessions: every device is signed out),
sign-in failures, idempotency keys and their notification settings and mail; replaces
the name and email on the map with a pseudonym (the person's id and unit stay, so rows
of other capabilities that refer to them stay valid), and wherever a row names them;
erases text they wrote; cuts their invitations' link to them (never whether one was
spent); and rewrites the audit events that name them so they name the pseudonym
instead (when and what stays: the log still shows that something happened).
Both the export and the erasure are themselves recorded in the audit log, under the
pseudonym for an erasure.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Table

from valuechain.domain.person import ERASED_DOMAIN
from valuechain.services import audit, idempotency
from valuechain.services.audit import Actor
from valuechain.services.errors import NotFound
from valuechain.services.organisation import Valuechain
from valuechain.services.transaction import writing
from valuechain.store import person as store
from valuechain.store.accounts import FAILURES, SESSIONS
from valuechain.store.agreement import AGREEMENTS, NEGOTIATIONS
from valuechain.store.campaign import INVITATIONS
from valuechain.store.history import LINK_HISTORY, RESULT_HISTORY, UNIT_HISTORY
from valuechain.store.idempotency import KEYS
from valuechain.store.notification import OUTBOX, PREFERENCES, WEBHOOKS
from valuechain.store.organisation import LINKS
from valuechain.store.partner import ACTIONS, ENTRIES
from valuechain.store.request import COMMENTS as REQUEST_COMMENTS
from valuechain.store.request import EVENTS, REQUESTS

PERSON_EXPORTED = "person_exported"
PERSON_ERASED = "person_erased"


@dataclass(frozen=True)
class Who:
    """The person an export or erasure is about: their id(s) on the map, their email
    addresses (map and accounts, lower case), names and account ids."""

    key: str
    person_ids: tuple[str, ...]
    emails: tuple[str, ...]
    names: tuple[str, ...]
    account_ids: tuple[str, ...]

    @property
    def scopes(self) -> list[str]:
        return [idempotency.account_scope(a) for a in self.account_ids]

    @property
    def scopes_tuple(self) -> tuple[str, ...]:
        return tuple(self.scopes)


@dataclass(frozen=True)
class Pseudonym:
    """What replaces the person's name and email in everything that stays."""

    name: str
    email: str

    @property
    def key(self) -> str:
        """An id for rows whose link to the person is cut (``erased-…``)."""
        return self.email.split("@", 1)[0]


ExportPart = Callable[[Connection, int, Who], Any]
ErasePart = Callable[[Connection, int, Who, Pseudonym], int]


@dataclass(frozen=True)
class Part:
    """One kind of data stored about people: how to export it, how to erase it."""

    name: str
    export: ExportPart
    erase: ErasePart


_PARTS: dict[str, Part] = {}


def register(part: Part) -> None:
    """Add (or replace, by name) a part. Parts registered later are erased first, so
    a capability's rows are anonymised before the accounts they name are deleted."""
    _PARTS.pop(part.name, None)
    _PARTS[part.name] = part


def unregister(name: str) -> None:
    """Remove a part (tests, or a capability switched off)."""
    _PARTS.pop(name, None)


def parts() -> list[Part]:
    """The registered parts, in registration order."""
    return list(_PARTS.values())


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items() if k != "org_id"}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


# -- the platform's parts --------------------------------------------------------------


def _export_person(conn: Connection, org_id: int, who: Who) -> Any:
    return [row for key in who.person_ids for row in store.people_matching(conn, org_id, key)]


def _erase_person(conn: Connection, org_id: int, who: Who, pseudonym: Pseudonym) -> int:
    return store.anonymise_people(conn, org_id, who.person_ids, pseudonym.name, pseudonym.email)


def _export_accounts(conn: Connection, org_id: int, who: Who) -> Any:
    return store.accounts_of(conn, org_id, who.person_ids, who.emails)


def _erase_accounts(conn: Connection, org_id: int, who: Who, pseudonym: Pseudonym) -> int:
    deleted, _sessions = store.delete_accounts(conn, org_id, who.account_ids)
    return deleted


def _export_sessions(conn: Connection, org_id: int, who: Who) -> Any:
    return store.sessions_of(conn, org_id, who.account_ids)


def _erase_sessions(conn: Connection, org_id: int, who: Who, pseudonym: Pseudonym) -> int:
    return store.delete_rows(conn, SESSIONS, org_id, "account_id", who.account_ids)


def _export_failures(conn: Connection, org_id: int, who: Who) -> Any:
    return store.sign_in_failures(conn, org_id, who.emails)


def _erase_failures(conn: Connection, org_id: int, who: Who, pseudonym: Pseudonym) -> int:
    return store.delete_rows(conn, FAILURES, org_id, "key", store.failure_keys(who.emails))


def _needles(who: Who) -> list[str]:
    return [e for e in who.emails if e]


def _patterns(who: Who) -> list[tuple[re.Pattern[str], bool]]:
    """The person's emails, then names, longest first, as whole-word patterns (so
    erasing "Max" leaves "maximum" alone); True marks an email."""
    emails = sorted(who.emails, key=len, reverse=True)
    names = sorted(_names(who), key=len, reverse=True)
    return [
        (re.compile(rf"(?<![\w.+-]){re.escape(e)}(?![\w-])", re.IGNORECASE), True) for e in emails
    ] + [(re.compile(rf"(?<!\w){re.escape(n)}(?!\w)", re.IGNORECASE), False) for n in names]


def _mentions(value: Any, who: Who) -> bool:
    """Whether the text ``value`` names the person (an email or a whole-word name)."""
    return isinstance(value, str) and any(p.search(value) for p, _ in _patterns(who))


def _replace(value: str | None, who: Who, pseudonym: Pseudonym) -> str | None:
    """``value`` with every email and name of the person replaced by the pseudonym's."""
    if value is None:
        return None
    for pattern, email in _patterns(who):
        value = pattern.sub(pseudonym.email if email else pseudonym.name, value)
    return value


def _names(who: Who) -> list[str]:
    # A name of one or two letters would match inside too many words.
    return [n for n in who.names if len(n.strip()) >= 3]


def _audit_events(conn: Connection, org_id: int, who: Who) -> list[dict[str, Any]]:
    """Events whose actor is one of their accounts or that name them (LIKE finds the
    candidates, the whole-word patterns decide)."""
    found = store.audit_about(conn, org_id, who.account_ids, [*_needles(who), *_names(who)])
    return [
        e
        for e in found
        if e["actor_id"] in who.account_ids
        or any(_mentions(e[c], who) for c in ("actor", "subject", "detail"))
    ]


def _export_audit(conn: Connection, org_id: int, who: Who) -> Any:
    return _audit_events(conn, org_id, who)


def _erase_audit(conn: Connection, org_id: int, who: Who, pseudonym: Pseudonym) -> int:
    events = _audit_events(conn, org_id, who)
    if not events:
        return 0
    store.allow_audit_erasure(conn)
    for event in events:
        own = event["actor_id"] in who.account_ids
        values = {
            "actor": _replace(event["actor"], who, pseudonym),
            "subject": _replace(event["subject"], who, pseudonym),
            "detail": _replace(event["detail"], who, pseudonym),
            # Where they signed in from is about them too.
            "address": None if own else event["address"],
        }
        store.rewrite_audit_event(conn, org_id, event["id"], values)
    return len(events)


# -- every other table that holds data about people ------------------------------------
#
# One declaration per table, read by one export and one erasure (below), so that a
# table's rule is a line, not a function. tests/test_person_tables.py classifies every
# column of every table and checks that these cover each one that holds person data.

ERASED_TEXT = "(erased)"


@dataclass(frozen=True)
class Trace:
    """Where a table holds data about people, and what an erasure does with it.

    ``links``: columns holding one of the person's ids, by kind (``account_ids``,
    ``person_ids`` or ``scopes``); ``labels``: columns holding the name or email of
    whoever acted (replaced by the pseudonym's when they are the person's);
    ``authored``: per link or label column, the text columns written by whoever it
    names (erased when that is the person); ``mentions``: free text anyone wrote
    (names and emails replaced); ``delete``: rows linked to the person are deleted
    instead (their own settings and mail); ``hidden``: columns never exported."""

    table: Table
    links: Mapping[str, str] = field(default_factory=dict)
    labels: tuple[str, ...] = ()
    authored: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    mentions: tuple[str, ...] = ()
    delete: bool = False
    hidden: tuple[str, ...] = ()

    def ids(self, who: Who, column: str) -> tuple[str, ...]:
        kind = self.links[column]
        return who.scopes_tuple if kind == "scopes" else getattr(who, kind)


def _labels(who: Who) -> set[str]:
    return {v.casefold() for v in (*who.emails, *_names(who))}


def _rows(conn: Connection, org_id: int, who: Who, trace: Trace) -> list[dict[str, Any]]:
    """The table's rows about the person: LIKE finds the candidates, then a row stays
    if it links to them, names them as who acted, or names them as a whole word."""
    found = store.rows_about(
        conn,
        trace.table,
        org_id,
        links={column: trace.ids(who, column) for column in trace.links},
        labels=_labels(who),
        labelled=trace.labels,
        mentions=trace.mentions,
        needles=[*_needles(who), *_names(who)],
    )
    labels = _labels(who)
    return [
        row
        for row in found
        if any(row[c] is not None and row[c] in trace.ids(who, c) for c in trace.links)
        or any(
            isinstance(row[c], str) and row[c].strip().casefold() in labels for c in trace.labels
        )
        or any(_mentions(row[c], who) for c in (*trace.labels, *trace.mentions))
    ]


def _export_trace(trace: Trace) -> ExportPart:
    def export(conn: Connection, org_id: int, who: Who) -> Any:
        rows = _rows(conn, org_id, who, trace)
        return [{k: v for k, v in row.items() if k not in trace.hidden} for row in rows]

    return export


def _pseudonymous_id(who: Who, pseudonym: Pseudonym, value: str) -> str:
    # One per id of the person, so unique constraints over the id still hold.
    number = who.person_ids.index(value) if value in who.person_ids else 0
    return pseudonym.key if number == 0 else f"{pseudonym.key}-{number}"


def _erased_row(
    trace: Trace, row: Mapping[str, Any], who: Who, pseudonym: Pseudonym
) -> dict[str, Any] | None:
    """The values that erase the person from ``row``; None: delete the row."""
    labels = _labels(who)
    values: dict[str, Any] = {}
    named: list[str] = []  # link and label columns that name the person
    for column in trace.links:
        if row[column] is not None and row[column] in trace.ids(who, column):
            named.append(column)
            if trace.links[column] == "person_ids":
                values[column] = _pseudonymous_id(who, pseudonym, row[column])
            else:
                values[column] = None
    for column in trace.labels:
        if row[column] is not None and row[column].strip().casefold() in labels:
            named.append(column)
            values[column] = pseudonym.email if "@" in row[column] else pseudonym.name
    if named and trace.delete:
        return None
    for column in named:
        for text_column in trace.authored.get(column, ()):
            nullable = trace.table.c[text_column].nullable
            values[text_column] = None if nullable else ERASED_TEXT
    for column in (*trace.labels, *trace.mentions):
        if column not in values:
            values[column] = _replace(row[column], who, pseudonym)
    return {k: v for k, v in values.items() if v != row[k]}


def _erase_trace(trace: Trace) -> ErasePart:
    def erase(conn: Connection, org_id: int, who: Who, pseudonym: Pseudonym) -> int:
        changed = 0
        for row in _rows(conn, org_id, who, trace):
            values = _erased_row(trace, row, who, pseudonym)
            if values is None:
                store.delete_row(conn, trace.table, row)
            elif values:
                store.update_row(conn, trace.table, row, values)
            else:
                continue
            changed += 1
        return changed

    return erase


TRACES: dict[str, Trace] = {
    "idempotency_keys": Trace(
        KEYS, links={"scope": "scopes"}, mentions=("path", "response_body"), delete=True
    ),
    "invitations": Trace(
        # Whether an invitation was spent is the respondents' (see access.md "Data
        # rights"): never exported, never changed. Erasure only cuts the link.
        INVITATIONS,
        links={"person_id": "person_ids"},
        hidden=("spent",),
    ),
    "notification_preferences": Trace(PREFERENCES, links={"person_id": "person_ids"}, delete=True),
    "notification_webhooks": Trace(WEBHOOKS, links={"person_id": "person_ids"}, delete=True),
    "notification_outbox": Trace(
        OUTBOX,
        links={"person_id": "person_ids"},
        labels=("address",),
        mentions=("subject", "body", "link", "last_error"),
        delete=True,
    ),
    "workspace_entries": Trace(
        ENTRIES, links={"author_account_id": "account_ids"}, mentions=("text",)
    ),
    "actions": Trace(
        ACTIONS,
        links={"author_account_id": "account_ids"},
        labels=("owner",),
        mentions=("title", "source"),
    ),
    "agreements": Trace(
        AGREEMENTS,
        labels=("provider_agreed_by", "customer_agreed_by"),
        mentions=("channel", "cadence", "obligations"),
    ),
    "negotiations": Trace(
        NEGOTIATIONS, labels=("closed_by",), authored={"closed_by": ("note",)}, mentions=("note",)
    ),
    "requests": Trace(
        REQUESTS,
        links={"requester_id": "account_ids", "assignee_id": "person_ids"},
        labels=("requester", "thanked_by"),
        authored={
            "requester_id": ("title", "body"),
            "requester": ("title", "body"),
            "thanked_by": ("thanks_note",),
        },
        mentions=("title", "body", "thanks_note"),
    ),
    "request_events": Trace(
        EVENTS, labels=("actor",), authored={"actor": ("note",)}, mentions=("note",)
    ),
    # A request's conversation: who wrote each message, and whom it mentions.
    "request_comments": Trace(
        REQUEST_COMMENTS,
        links={"author_id": "account_ids"},
        labels=("author",),
        authored={"author_id": ("body",), "author": ("body",)},
        mentions=("body",),
    ),
    # Who proposed and who answered a link on the map, and a dispute's reason.
    "links": Trace(
        LINKS,
        labels=("proposed_by", "answered_by"),
        authored={"answered_by": ("reason",)},
        mentions=("reason",),
    ),
    # Who changed the map (docs/map.md, "History"): the account's email, or cli:<user>.
    "unit_history": Trace(UNIT_HISTORY, labels=("changed_by",)),
    "result_history": Trace(RESULT_HISTORY, labels=("changed_by",)),
    "link_history": Trace(LINK_HISTORY, labels=("changed_by",)),
}


for _part in (
    Part("people", _export_person, _erase_person),
    Part("accounts", _export_accounts, _erase_accounts),
    Part("sessions", _export_sessions, _erase_sessions),
    Part("sign_in_failures", _export_failures, _erase_failures),
    *(Part(name, _export_trace(t), _erase_trace(t)) for name, t in TRACES.items()),
    Part("audit", _export_audit, _erase_audit),
):
    register(_part)


# -- the use cases ----------------------------------------------------------------------


def _who(conn: Connection, org_id: int, key: str) -> Who:
    key = key.strip()
    if not key:  # a blank name names nobody (found by schemathesis: was a 400)
        raise NotFound("no person or account named: give an id on the map or an email")
    people = store.people_matching(conn, org_id, key)
    person_ids = tuple(sorted({p["id"] for p in people}))
    emails = {p["email"].casefold() for p in people}
    if "@" in key:
        emails.add(key.casefold())
    # Someone who left the organisation is off the map, but an account still links
    # to their id (services.map_structure.leave): the id still names them.
    accounts = store.accounts_of(conn, org_id, person_ids or (key,), emails)
    if not people and not accounts:
        raise NotFound(f"no person or account {key!r}")
    if not people:
        person_ids = tuple(sorted({a["person_id"] for a in accounts if a["person_id"] == key}))
    emails |= {a["email"].casefold() for a in accounts}
    names = {p["name"] for p in people} | {a["name"] for a in accounts if a["name"]}
    return Who(
        key=key,
        person_ids=person_ids,
        emails=tuple(sorted(emails)),
        names=tuple(sorted(names)),
        account_ids=tuple(sorted(a["id"] for a in accounts)),
    )


def export_person(vc: Valuechain, key: str, actor: Actor) -> dict[str, Any]:
    """Everything stored about the person ``key`` (id on the map or email), one key
    per part; the export is recorded in the audit log (in the same transaction)."""
    with writing(vc) as conn:
        who = _who(conn, vc.org_id, key)
        document: dict[str, Any] = {
            "person": key,
            "survey_answers": "never linked to a person: survey responses are anonymous",
        }
        for part in parts():
            document[part.name] = _json(part.export(conn, vc.org_id, who))
        audit.record(
            vc, PERSON_EXPORTED, actor, subject=", ".join(who.person_ids) or "account", conn=conn
        )
    return document


def erase_person(vc: Valuechain, key: str, actor: Actor) -> dict[str, Any]:
    """Erase the person ``key`` in one transaction (see the module docstring);
    returns the pseudonym and how many rows each part changed."""
    token = secrets.token_hex(5)
    pseudonym = Pseudonym(f"Erased person {token}", f"erased-{token}@{ERASED_DOMAIN}")
    with writing(vc) as conn:
        who = _who(conn, vc.org_id, key)
        changed = {
            part.name: part.erase(conn, vc.org_id, who, pseudonym) for part in reversed(parts())
        }
        # Recorded after the rewrite, so this event names the pseudonym only.
        audit.record(
            vc,
            PERSON_ERASED,
            actor,
            subject=pseudonym.email,
            detail=", ".join(f"{name}: {count}" for name, count in changed.items()),
            conn=conn,
        )
    return {"pseudonym": pseudonym.email, "changed": changed}
