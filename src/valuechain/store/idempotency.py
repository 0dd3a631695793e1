"""Idempotency keys' SQL: find, claim, complete and purge, nothing else."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from valuechain.store.tables import IdempotencyKeyRow

KEYS: Table = IdempotencyKeyRow.__table__  # type: ignore[assignment]


def _where(org_id: int, scope: str, key: str) -> Any:
    return (KEYS.c.org_id == org_id) & (KEYS.c.scope == scope) & (KEYS.c.key == key)


def find(conn: Connection, org_id: int, scope: str, key: str) -> Any | None:
    """The stored row for ``(scope, key)``, or ``None``."""
    return conn.execute(select(KEYS).where(_where(org_id, scope, key))).first()


def claim(
    conn: Connection,
    org_id: int,
    *,
    scope: str,
    key: str,
    method: str,
    path: str,
    request_sha256: str,
    at: datetime,
) -> bool:
    """Insert the key with no answer yet; ``False`` when it is already there. A
    concurrent claim of the same key waits on the primary key for the claiming
    transaction to end, then inserts (rolled back) or finds it (committed)."""
    insert = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
    result = conn.execute(
        insert(KEYS)
        .values(
            org_id=org_id,
            scope=scope,
            key=key,
            method=method,
            path=path,
            request_sha256=request_sha256,
            status_code=0,
            media_type="",
            response_body="",
            created_at=at,
        )
        .on_conflict_do_nothing()
        # RETURNING, not rowcount: psycopg reports -1 for a conflict skipped here.
        .returning(KEYS.c.key)
    )
    return result.first() is not None


def complete(
    conn: Connection,
    org_id: int,
    *,
    scope: str,
    key: str,
    status_code: int,
    media_type: str,
    response_body: str,
) -> None:
    """Store the answer of a claimed key (in the claiming transaction)."""
    conn.execute(
        update(KEYS)
        .where(_where(org_id, scope, key))
        .values(status_code=status_code, media_type=media_type, response_body=response_body)
    )


def purge_before(conn: Connection, org_id: int, before: datetime) -> int:
    """Delete keys created before ``before``; the number deleted."""
    result = conn.execute(
        delete(KEYS).where((KEYS.c.org_id == org_id) & (KEYS.c.created_at < before))
    )
    return int(result.rowcount)
