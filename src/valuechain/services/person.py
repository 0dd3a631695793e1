"""Data rights: export everything stored about a person, and erase a person.

A person is found by their id on the map (``people.csv``) or by an email address (of
the map's person or of an account). What is stored about them is collected from
*parts*, one per kind of data; this module brings the parts the platform has
(the person's row on the map, accounts, sessions, sign-in failures, idempotency keys,
audit events), and a later capability adds its own with :func:`register` (requests
authored, thanks given, ...)::

    person.register(person.Part("requests", export_requests, erase_requests))

``export_part(conn, org_id, who)`` returns something JSON can hold;
``erase_part(conn, org_id, who, pseudonym)`` deletes or anonymises the person's rows and
returns how many it changed. Both run inside the one transaction of the export or
the erasure. Survey answers are never linked to a person, so there is nothing to
export or erase there.

**Erasure** deletes the accounts (and so their sessions: every device is signed out),
sign-in failures and idempotency keys; replaces the name and email on the map with a
pseudonym (the person's id and unit stay, so rows of other capabilities that refer to
them stay valid); and rewrites the audit events that name them so they name the
pseudonym instead (when and what stays: the log still shows that something happened).
Both the export and the erasure are themselves recorded in the audit log, under the
pseudonym for an erasure.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from valuechain.services import audit, idempotency
from valuechain.services.audit import Actor
from valuechain.services.errors import NotFound
from valuechain.services.organisation import Valuechain
from valuechain.store import person as store
from valuechain.store.accounts import FAILURES, SESSIONS
from valuechain.store.idempotency import KEYS

PERSON_EXPORTED = "person_exported"
PERSON_ERASED = "person_erased"
ERASED_DOMAIN = "erased.invalid"


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


@dataclass(frozen=True)
class Pseudonym:
    """What replaces the person's name and email in everything that stays."""

    name: str
    email: str


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


def _export_keys(conn: Connection, org_id: int, who: Who) -> Any:
    return store.idempotency_keys(conn, org_id, who.scopes)


def _erase_keys(conn: Connection, org_id: int, who: Who, pseudonym: Pseudonym) -> int:
    return store.delete_rows(conn, KEYS, org_id, "scope", who.scopes)


def _needles(who: Who) -> list[str]:
    return [e for e in who.emails if e]


def _export_audit(conn: Connection, org_id: int, who: Who) -> Any:
    return store.audit_about(conn, org_id, who.account_ids, _needles(who))


def _replace(value: str | None, who: Who, pseudonym: Pseudonym) -> str | None:
    if value is None:
        return None
    for email in sorted(who.emails, key=len, reverse=True):
        value = re.sub(re.escape(email), pseudonym.email, value, flags=re.IGNORECASE)
    for name in sorted((n for n in who.names if len(n) >= 3), key=len, reverse=True):
        value = re.sub(re.escape(name), pseudonym.name, value, flags=re.IGNORECASE)
    return value


def _erase_audit(conn: Connection, org_id: int, who: Who, pseudonym: Pseudonym) -> int:
    events = store.audit_about(conn, org_id, who.account_ids, _needles(who))
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


for _part in (
    Part("people", _export_person, _erase_person),
    Part("accounts", _export_accounts, _erase_accounts),
    Part("sessions", _export_sessions, _erase_sessions),
    Part("sign_in_failures", _export_failures, _erase_failures),
    Part("idempotency_keys", _export_keys, _erase_keys),
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
    accounts = store.accounts_of(conn, org_id, person_ids, emails)
    if not people and not accounts:
        raise NotFound(f"no person or account {key!r}")
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
    with vc.engine.begin() as conn:
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
    with vc.engine.begin() as conn:
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
