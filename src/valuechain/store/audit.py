"""The audit log's SQL: insert and read, nothing else. There is deliberately no
update or delete here; on PostgreSQL a trigger refuses them as well."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, func, insert, select

from valuechain.store.tables import AuditEventRow

AUDIT: Table = AuditEventRow.__table__  # type: ignore[assignment]


def append(conn: Connection, org_id: int, event: dict[str, Any]) -> None:
    conn.execute(insert(AUDIT).values(org_id=org_id, **event))


def count(conn: Connection, org_id: int) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(AUDIT).where(AUDIT.c.org_id == org_id)
        ).scalar_one()
    )


def newest_first(conn: Connection, org_id: int, offset: int, limit: int) -> list[Any]:
    """A page of events, newest first (ids are time-ordered)."""
    return list(
        conn.execute(
            select(AUDIT)
            .where(AUDIT.c.org_id == org_id)
            .order_by(AUDIT.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
    )
