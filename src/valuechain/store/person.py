"""Data rights' SQL: everything stored about one person (their row on the map, their
accounts, sessions, sign-in failures, the audit events that name them, and, through
:func:`rows_about`, the rows of every other table that link to them or name them),
read for an export and rewritten or deleted for an erasure; and the retention of raw
survey comments."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, func, or_, select, text, update

from valuechain.store.accounts import ACCOUNTS, FAILURES, SESSIONS
from valuechain.store.audit import AUDIT
from valuechain.store.measure import COMMENTS, RESPONSES
from valuechain.store.organisation import ORGANISATIONS, PEOPLE


def _rows(conn: Connection, stmt: Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in conn.execute(stmt)]


def people_matching(conn: Connection, org_id: int, key: str) -> list[dict[str, Any]]:
    """People on the map whose id is ``key``, or whose email is ``key`` (any case)."""
    return _rows(
        conn,
        select(PEOPLE).where(
            PEOPLE.c.org_id == org_id,
            or_(PEOPLE.c.id == key, func.lower(PEOPLE.c.email) == key.strip().casefold()),
        ),
    )


def accounts_of(
    conn: Connection, org_id: int, person_ids: Iterable[str], emails: Iterable[str]
) -> list[dict[str, Any]]:
    """Accounts linked to one of ``person_ids`` or with one of ``emails`` (no hashes)."""
    ids, mails = list(person_ids), [e.casefold() for e in emails]
    columns = [c for c in ACCOUNTS.c if c.name != "password_hash"]
    return _rows(
        conn,
        select(*columns, (ACCOUNTS.c.password_hash.is_not(None)).label("has_password"))
        .where(
            ACCOUNTS.c.org_id == org_id,
            or_(ACCOUNTS.c.person_id.in_(ids), func.lower(ACCOUNTS.c.email).in_(mails)),
        )
        .order_by(ACCOUNTS.c.created_at),
    )


def sessions_of(conn: Connection, org_id: int, account_ids: Iterable[str]) -> list[dict[str, Any]]:
    """Session metadata (never the token hash) of the accounts."""
    return _rows(
        conn,
        select(
            SESSIONS.c.account_id,
            SESSIONS.c.created_at,
            SESSIONS.c.expires_at,
            SESSIONS.c.address,
            SESSIONS.c.user_agent,
        )
        .where(SESSIONS.c.org_id == org_id, SESSIONS.c.account_id.in_(list(account_ids)))
        .order_by(SESSIONS.c.created_at),
    )


def failure_keys(emails: Iterable[str]) -> list[str]:
    """The sign-in failure keys of these emails (see services.accounts)."""
    return [f"account:{e.casefold()}" for e in emails]


def sign_in_failures(conn: Connection, org_id: int, emails: Iterable[str]) -> list[dict[str, Any]]:
    return _rows(
        conn,
        select(FAILURES.c.key, FAILURES.c.at)
        .where(FAILURES.c.org_id == org_id, FAILURES.c.key.in_(failure_keys(emails)))
        .order_by(FAILURES.c.at),
    )


def _like(needle: str) -> str:
    """A LIKE pattern that finds ``needle`` anywhere (its wildcards escaped)."""
    return "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def rows_about(
    conn: Connection,
    table: Table,
    org_id: int,
    *,
    links: Mapping[str, Iterable[str]],
    labels: Iterable[str],
    labelled: Iterable[str],
    mentions: Iterable[str],
    needles: Iterable[str],
) -> list[dict[str, Any]]:
    """The organisation's rows of ``table`` about a person: a column of ``links`` holds
    one of its values (an id), a ``labelled`` column is one of ``labels`` (names and
    emails, lower case; any case in the row), or a ``labelled`` or ``mentions`` column
    contains one of ``needles`` (any case). Erasures are rare: a scan is fine."""
    names = [label.casefold() for label in labels]
    clauses: list[Any] = [table.c[c].in_(list(v)) for c, v in links.items() if v]
    labelled = list(labelled)
    if names:
        clauses += [func.lower(table.c[c]).in_(names) for c in labelled]
    for needle in needles:
        pattern = _like(needle.casefold())
        for column in [*labelled, *mentions]:
            clauses.append(func.lower(table.c[column]).like(pattern, escape="\\"))
    if not clauses:
        return []
    key = list(table.primary_key.columns)
    return _rows(conn, select(table).where(table.c.org_id == org_id, or_(*clauses)).order_by(*key))


def _key_of(table: Table, row: Mapping[str, Any]) -> Any:
    return and_(*(column == row[column.name] for column in table.primary_key.columns))


def update_row(
    conn: Connection, table: Table, row: Mapping[str, Any], values: Mapping[str, Any]
) -> None:
    """Rewrite columns of one row (found by its primary key, which holds ``org_id``)."""
    conn.execute(update(table).where(_key_of(table, row)).values(**values))


def delete_row(conn: Connection, table: Table, row: Mapping[str, Any]) -> None:
    """Delete one row (found by its primary key)."""
    conn.execute(delete(table).where(_key_of(table, row)))


def _about(account_ids: list[str], needles: list[str]) -> Any:
    """Audit events whose actor is one of the accounts, or whose actor, subject or
    detail contains one of the needles (emails, lower case)."""
    clauses: list[Any] = [AUDIT.c.actor_id.in_(account_ids)] if account_ids else []
    for needle in needles:
        pattern = _like(needle)
        for column in (AUDIT.c.actor, AUDIT.c.subject, AUDIT.c.detail):
            clauses.append(func.lower(column).like(pattern, escape="\\"))
    return or_(*clauses) if clauses else text("1 = 0")


def audit_about(
    conn: Connection, org_id: int, account_ids: Iterable[str], needles: Iterable[str]
) -> list[dict[str, Any]]:
    """Audit events that name the person, oldest first."""
    return _rows(
        conn,
        select(AUDIT)
        .where(AUDIT.c.org_id == org_id, _about(list(account_ids), [n.casefold() for n in needles]))
        .order_by(AUDIT.c.id),
    )


# -- erasure ---------------------------------------------------------------------------


def allow_audit_erasure(conn: Connection) -> None:
    """Open the audit log's one exception for this transaction: on PostgreSQL its
    trigger admits rewriting who an event names while ``valuechain.erasure`` is on."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT set_config('valuechain.erasure', 'on', true)"))


def rewrite_audit_event(
    conn: Connection, org_id: int, event_id: str, values: Mapping[str, Any]
) -> None:
    """Rewrite who one audit event names (actor, subject, address, detail only)."""
    allowed = {"actor", "subject", "address", "detail"}
    if not set(values) <= allowed:
        raise ValueError(f"an erasure rewrites only {sorted(allowed)}")
    conn.execute(
        update(AUDIT).where(AUDIT.c.org_id == org_id, AUDIT.c.id == event_id).values(**values)
    )


def anonymise_people(
    conn: Connection, org_id: int, person_ids: Iterable[str], name: str, email: str
) -> int:
    """Replace the name and email of people on the map (ids and units stay, so rows
    that refer to them stay valid)."""
    count = 0
    for number, person_id in enumerate(person_ids):
        address = email if number == 0 else email.replace("@", f"+{number}@")
        result = conn.execute(
            update(PEOPLE)
            .where(PEOPLE.c.org_id == org_id, PEOPLE.c.id == person_id)
            .values(name=name, email=address)
        )
        count += int(result.rowcount or 0)
    return count


def delete_accounts(conn: Connection, org_id: int, account_ids: Iterable[str]) -> tuple[int, int]:
    """Delete the accounts and their sessions; (accounts, sessions) deleted."""
    ids = list(account_ids)
    if not ids:
        return 0, 0
    sessions = conn.execute(
        delete(SESSIONS).where(SESSIONS.c.org_id == org_id, SESSIONS.c.account_id.in_(ids))
    )
    found = conn.execute(
        delete(ACCOUNTS).where(ACCOUNTS.c.org_id == org_id, ACCOUNTS.c.id.in_(ids))
    )
    return int(found.rowcount or 0), int(sessions.rowcount or 0)


def delete_rows(
    conn: Connection, table: Table, org_id: int, column: str, values: Iterable[str]
) -> int:
    """Delete the organisation's rows of ``table`` whose ``column`` is in ``values``."""
    found = conn.execute(
        delete(table).where(table.c.org_id == org_id, table.c[column].in_(list(values)))
    )
    return int(found.rowcount or 0)


# -- retention of raw comments ------------------------------------------------------------


def read_comment_retention(conn: Connection, org_id: int) -> int | None:
    value = conn.execute(
        select(ORGANISATIONS.c.comment_retention_days).where(ORGANISATIONS.c.id == org_id)
    ).scalar()
    return None if value is None else int(value)


def write_comment_retention(conn: Connection, org_id: int, days: int | None) -> None:
    conn.execute(
        update(ORGANISATIONS)
        .where(ORGANISATIONS.c.id == org_id)
        .values(comment_retention_days=days)
    )


def purge_comments_before(conn: Connection, org_id: int, before: date) -> int:
    """Delete the comments of responses submitted before ``before``; how many."""
    old = select(RESPONSES.c.id).where(
        RESPONSES.c.org_id == org_id, RESPONSES.c.submitted_on < before
    )
    found = conn.execute(
        delete(COMMENTS).where(COMMENTS.c.org_id == org_id, COMMENTS.c.response_id.in_(old))
    )
    return int(found.rowcount or 0)
