"""Accounts, sessions and sign-in failures: the SQL behind signing in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, select, update

from valuechain.domain.account import Account, AccountRole
from valuechain.store.organisation import ORGANISATIONS, PEOPLE, UNITS
from valuechain.store.tables import AccountRow, SessionRow, SignInFailureRow

ACCOUNTS: Table = AccountRow.__table__  # type: ignore[assignment]
SESSIONS: Table = SessionRow.__table__  # type: ignore[assignment]
FAILURES: Table = SignInFailureRow.__table__  # type: ignore[assignment]


def utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC time: SQLite hands back the naive UTC we stored."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _columns() -> list[Any]:
    return [
        ACCOUNTS.c.id,
        ACCOUNTS.c.email,
        ACCOUNTS.c.name,
        ACCOUNTS.c.role,
        ACCOUNTS.c.person_id,
        PEOPLE.c.unit_id,
        ACCOUNTS.c.active,
        ACCOUNTS.c.created_at,
        ACCOUNTS.c.password_hash,
    ]


def _joined() -> Any:
    return ACCOUNTS.outerjoin(
        PEOPLE,
        (PEOPLE.c.org_id == ACCOUNTS.c.org_id) & (PEOPLE.c.id == ACCOUNTS.c.person_id),
    )


def _to_account(row: Any) -> Account:
    return Account(
        id=row.id,
        email=row.email,
        name=row.name,
        role=AccountRole(row.role),
        person_id=row.person_id,
        unit_id=row.unit_id,
        active=bool(row.active),
        created_at=utc(row.created_at),
        has_password=row.password_hash is not None,
    )


def lock_organisation(conn: Connection, org_id: int) -> None:
    """Serialise writers that check then insert (the first admin) on PostgreSQL;
    SQLite already admits one writer at a time."""
    conn.execute(select(ORGANISATIONS.c.id).where(ORGANISATIONS.c.id == org_id).with_for_update())


def count_accounts(conn: Connection, org_id: int) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(ACCOUNTS).where(ACCOUNTS.c.org_id == org_id)
        ).scalar_one()
    )


def insert_account(conn: Connection, org_id: int, **values: Any) -> None:
    conn.execute(insert(ACCOUNTS).values(org_id=org_id, **values))


def account_by_email(
    conn: Connection, org_id: int, email: str
) -> tuple[Account, str | None] | None:
    """The account with this (normalised) email and its password hash."""
    row = conn.execute(
        select(*_columns())
        .select_from(_joined())
        .where(ACCOUNTS.c.org_id == org_id, ACCOUNTS.c.email == email)
    ).first()
    return None if row is None else (_to_account(row), row.password_hash)


def account_by_id(conn: Connection, org_id: int, account_id: str) -> Account | None:
    row = conn.execute(
        select(*_columns())
        .select_from(_joined())
        .where(ACCOUNTS.c.org_id == org_id, ACCOUNTS.c.id == account_id)
    ).first()
    return None if row is None else _to_account(row)


def list_accounts(conn: Connection, org_id: int) -> list[Account]:
    rows = conn.execute(
        select(*_columns())
        .select_from(_joined())
        .where(ACCOUNTS.c.org_id == org_id)
        .order_by(ACCOUNTS.c.email)
    )
    return [_to_account(r) for r in rows]


def people_names(conn: Connection, org_id: int) -> list[tuple[str, str, str, str, str]]:
    """Every person on the map as (id, name, email, unit id, unit name), by name."""
    rows = conn.execute(
        select(PEOPLE.c.id, PEOPLE.c.name, PEOPLE.c.email, UNITS.c.id.label("unit_id"),
               UNITS.c.name.label("unit_name"))
        .join(UNITS, (UNITS.c.org_id == PEOPLE.c.org_id) & (UNITS.c.id == PEOPLE.c.unit_id))
        .where(PEOPLE.c.org_id == org_id)
        .order_by(PEOPLE.c.name, PEOPLE.c.id)
    )  # fmt: skip
    return [(r.id, r.name, r.email, r.unit_id, r.unit_name) for r in rows]


def person_exists(conn: Connection, org_id: int, person_id: str) -> bool:
    return (
        conn.execute(
            select(PEOPLE.c.id).where(PEOPLE.c.org_id == org_id, PEOPLE.c.id == person_id)
        ).first()
        is not None
    )


def set_password_hash(conn: Connection, org_id: int, account_id: str, password_hash: str) -> None:
    conn.execute(
        update(ACCOUNTS)
        .where(ACCOUNTS.c.org_id == org_id, ACCOUNTS.c.id == account_id)
        .values(password_hash=password_hash)
    )


# -- sessions ----------------------------------------------------------------------


def insert_session(conn: Connection, org_id: int, **values: Any) -> None:
    conn.execute(insert(SESSIONS).values(org_id=org_id, **values))


def session_account(
    conn: Connection, org_id: int, token_hash: str, now: datetime
) -> Account | None:
    """The active account of the unexpired session with this token hash."""
    row = conn.execute(
        select(*_columns())
        .select_from(
            SESSIONS.join(
                ACCOUNTS,
                (ACCOUNTS.c.org_id == SESSIONS.c.org_id) & (ACCOUNTS.c.id == SESSIONS.c.account_id),
            ).outerjoin(
                PEOPLE,
                (PEOPLE.c.org_id == ACCOUNTS.c.org_id) & (PEOPLE.c.id == ACCOUNTS.c.person_id),
            )
        )
        .where(
            SESSIONS.c.org_id == org_id,
            SESSIONS.c.token_hash == token_hash,
            SESSIONS.c.expires_at > now,
            ACCOUNTS.c.active.is_(True),
        )
    ).first()
    return None if row is None else _to_account(row)


def delete_session(conn: Connection, org_id: int, token_hash: str) -> int:
    result = conn.execute(
        delete(SESSIONS).where(SESSIONS.c.org_id == org_id, SESSIONS.c.token_hash == token_hash)
    )
    return int(result.rowcount or 0)


def delete_expired_sessions(conn: Connection, org_id: int, now: datetime) -> None:
    conn.execute(delete(SESSIONS).where(SESSIONS.c.org_id == org_id, SESSIONS.c.expires_at <= now))


# -- sign-in failures ----------------------------------------------------------------


def insert_failures(conn: Connection, org_id: int, rows: list[dict[str, Any]]) -> None:
    conn.execute(insert(FAILURES), [{"org_id": org_id, **row} for row in rows])


def failures_since(conn: Connection, org_id: int, key: str, since: datetime) -> list[datetime]:
    """Times of the failures recorded under ``key`` after ``since``, oldest first."""
    rows = conn.execute(
        select(FAILURES.c.at)
        .where(FAILURES.c.org_id == org_id, FAILURES.c.key == key, FAILURES.c.at > since)
        .order_by(FAILURES.c.at)
    )
    return [utc(r.at) for r in rows]


def clear_failures(conn: Connection, org_id: int, key: str) -> None:
    conn.execute(delete(FAILURES).where(FAILURES.c.org_id == org_id, FAILURES.c.key == key))


def delete_old_failures(conn: Connection, org_id: int, before: datetime) -> None:
    conn.execute(delete(FAILURES).where(FAILURES.c.org_id == org_id, FAILURES.c.at <= before))


def update_account(conn: Connection, org_id: int, account_id: str, **values: Any) -> None:
    conn.execute(
        update(ACCOUNTS)
        .where(ACCOUNTS.c.org_id == org_id, ACCOUNTS.c.id == account_id)
        .values(**values)
    )


def delete_sessions_of(conn: Connection, org_id: int, account_id: str) -> int:
    result = conn.execute(
        delete(SESSIONS).where(SESSIONS.c.org_id == org_id, SESSIONS.c.account_id == account_id)
    )
    return int(result.rowcount or 0)


def account_ids_of_person(conn: Connection, org_id: int, person_id: str) -> list[str]:
    """The ids of the accounts linked to a person on the map, oldest first."""
    return list(
        conn.execute(
            select(ACCOUNTS.c.id)
            .where(ACCOUNTS.c.org_id == org_id, ACCOUNTS.c.person_id == person_id)
            .order_by(ACCOUNTS.c.created_at)
        ).scalars()
    )
