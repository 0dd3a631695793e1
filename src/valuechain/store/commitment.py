"""The commitment log: one row per agreement and due time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, func, select

from valuechain.domain.agreement import Commitment
from valuechain.store.agreement import COMMITMENTS
from valuechain.store.calendar import upsert, utc


def write_commitments(conn: Connection, org_id: int, commitments: Iterable[Commitment]) -> int:
    """Insert commitments, replacing stored ones with the same agreement and due time."""
    return upsert(
        conn,
        COMMITMENTS,
        [
            {
                "org_id": org_id,
                "agreement_id": c.agreement_id,
                "due_at": utc(c.due_at),
                "delivered_at": utc(c.delivered_at),
                "warned_at": utc(c.warned_at),
            }
            for c in commitments
        ],
    )


def add_due(conn: Connection, org_id: int, agreement_id: str, due: Iterable[datetime]) -> int:
    """Insert due items that are not stored yet (idempotent); returns how many were new."""
    rows = [
        {"org_id": org_id, "agreement_id": agreement_id, "due_at": utc(moment)} for moment in due
    ]
    before = _count(conn, org_id, agreement_id)
    upsert(conn, COMMITMENTS, rows, ignore=True)
    return _count(conn, org_id, agreement_id) - before


def _count(conn: Connection, org_id: int, agreement_id: str) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(COMMITMENTS)
            .where(COMMITMENTS.c.org_id == org_id, COMMITMENTS.c.agreement_id == agreement_id)
        ).scalar_one()
    )


def read_commitments(
    conn: Connection, org_id: int, *, agreement_id: str | None = None
) -> list[Commitment]:
    """Commitments ordered by agreement and due time."""
    stmt = (
        select(
            COMMITMENTS.c.agreement_id,
            COMMITMENTS.c.due_at,
            COMMITMENTS.c.delivered_at,
            COMMITMENTS.c.warned_at,
        )
        .where(COMMITMENTS.c.org_id == org_id)
        .order_by(COMMITMENTS.c.agreement_id, COMMITMENTS.c.due_at)
    )
    if agreement_id is not None:
        stmt = stmt.where(COMMITMENTS.c.agreement_id == agreement_id)
    return [
        Commitment(a, utc(due) or due, utc(delivered), utc(warned))
        for a, due, delivered, warned in conn.execute(stmt)
    ]
