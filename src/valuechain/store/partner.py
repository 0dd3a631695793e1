"""Queries for the relationship workspace and action plans."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, insert, select, update

from valuechain.store.tables import ActionRow, WorkspaceEntryRow

ENTRIES: Table = WorkspaceEntryRow.__table__  # type: ignore[assignment]
ACTIONS: Table = ActionRow.__table__  # type: ignore[assignment]


def insert_entry(conn: Connection, org_id: int, row: Mapping[str, Any]) -> None:
    conn.execute(insert(ENTRIES).values(org_id=org_id, **row))


def entries(
    conn: Connection, org_id: int, provider: str | None = None, customer: str | None = None
) -> list[dict[str, Any]]:
    """Workspace entries (of one relationship when given), oldest first."""
    query = select(ENTRIES).where(ENTRIES.c.org_id == org_id)
    if provider is not None:
        query = query.where(ENTRIES.c.provider_id == provider)
    if customer is not None:
        query = query.where(ENTRIES.c.customer_id == customer)
    rows = conn.execute(query.order_by(ENTRIES.c.created_at, ENTRIES.c.id)).mappings()
    return [dict(r) for r in rows]


def entry(conn: Connection, org_id: int, entry_id: str) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(ENTRIES).where(and_(ENTRIES.c.org_id == org_id, ENTRIES.c.id == entry_id))
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


def mark_entry(
    conn: Connection, org_id: int, entry_id: str, alignment: str | None, counterpart: str | None
) -> None:
    conn.execute(
        update(ENTRIES)
        .where(and_(ENTRIES.c.org_id == org_id, ENTRIES.c.id == entry_id))
        .values(alignment=alignment, counterpart_id=counterpart)
    )


def insert_action(conn: Connection, org_id: int, row: Mapping[str, Any]) -> None:
    conn.execute(insert(ACTIONS).values(org_id=org_id, **row))


def actions(
    conn: Connection, org_id: int, provider: str | None = None, customer: str | None = None
) -> list[dict[str, Any]]:
    """Actions (of one relationship when given), by due date."""
    query = select(ACTIONS).where(ACTIONS.c.org_id == org_id)
    if provider is not None:
        query = query.where(ACTIONS.c.provider_id == provider)
    if customer is not None:
        query = query.where(ACTIONS.c.customer_id == customer)
    rows = conn.execute(query.order_by(ACTIONS.c.due_on, ACTIONS.c.id)).mappings()
    return [dict(r) for r in rows]


def action(conn: Connection, org_id: int, action_id: str) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(ACTIONS).where(and_(ACTIONS.c.org_id == org_id, ACTIONS.c.id == action_id))
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


def set_action_status(
    conn: Connection, org_id: int, action_id: str, status: str, now: datetime
) -> int:
    result = conn.execute(
        update(ACTIONS)
        .where(and_(ACTIONS.c.org_id == org_id, ACTIONS.c.id == action_id))
        .values(status=status, updated_at=now)
    )
    return int(result.rowcount or 0)


def overdue_actions(conn: Connection, org_id: int, today: date) -> list[dict[str, Any]]:
    """Open or in-progress actions past their due date."""
    rows = conn.execute(
        select(ACTIONS).where(
            and_(
                ACTIONS.c.org_id == org_id,
                ACTIONS.c.due_on < today,
                ACTIONS.c.status.in_(("open", "in_progress")),
            )
        )
    ).mappings()
    return [dict(r) for r in rows]
