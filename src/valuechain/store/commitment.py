"""The commitment log: one row per agreement and due time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select, update

from valuechain.analytics.trust import EXCEED_SLACK
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


def mark(
    conn: Connection,
    org_id: int,
    agreement_id: str,
    due_at: datetime,
    *,
    delivered_at: datetime | None = None,
    warned_at: datetime | None = None,
) -> int:
    """Record a delivery and/or an early warning on a stored due item (only where none
    is recorded yet); returns 1 when the item exists and changed."""
    values = {}
    where = [
        COMMITMENTS.c.org_id == org_id,
        COMMITMENTS.c.agreement_id == agreement_id,
        COMMITMENTS.c.due_at == utc(due_at),
    ]
    if delivered_at is not None:
        values["delivered_at"] = utc(delivered_at)
        where.append(COMMITMENTS.c.delivered_at.is_(None))
    if warned_at is not None:
        values["warned_at"] = utc(warned_at)
        where.append(COMMITMENTS.c.warned_at.is_(None))
    if not values:
        return 0
    return int(conn.execute(update(COMMITMENTS).where(*where).values(values)).rowcount)


def _epoch(conn: Connection, column: Any) -> Any:
    """A time column as float seconds since the epoch, computed by the database."""
    if conn.dialect.name == "postgresql":
        return func.extract("epoch", column)
    # SQLite stores the UTC time as text; julianday keeps ~50 µs resolution.
    return (func.julianday(column) - 2440587.5) * 86400.0


def outcome_counts(conn: Connection, org_id: int, now: datetime) -> list[tuple[str, str, int]]:
    """(agreement id, outcome, count) for the whole log, classified and counted in the
    database with the rules of ``analytics.trust.classify``: kept (delivered by the due
    time), exceeded (at least the agreement's ``exceed_margin_hours`` early), missed
    (late, or undelivered after the due time), warned (missed after a warning before the
    due time), pending (undelivered, not yet due)."""
    from valuechain.store.agreement import AGREEMENTS

    due = _epoch(conn, COMMITMENTS.c.due_at)
    delivered = _epoch(conn, COMMITMENTS.c.delivered_at)
    warned = _epoch(conn, COMMITMENTS.c.warned_at)
    margin = func.coalesce(AGREEMENTS.c.exceed_margin_hours, 0.0) * 3600.0
    moment = now.timestamp()
    late = or_(
        and_(COMMITMENTS.c.delivered_at.is_not(None), delivered > due),
        and_(COMMITMENTS.c.delivered_at.is_(None), due < moment),
    )
    outcome = case(
        (
            and_(COMMITMENTS.c.delivered_at.is_not(None), delivered <= due),
            case(
                (and_(margin > 0, due - delivered >= margin - EXCEED_SLACK), "exceeded"),
                else_="kept",
            ),
        ),
        (
            late,
            case(
                (and_(COMMITMENTS.c.warned_at.is_not(None), warned < due), "warned"),
                else_="missed",
            ),
        ),
        else_="pending",
    ).label("outcome")
    stmt = (
        select(COMMITMENTS.c.agreement_id, outcome, func.count().label("n"))
        .select_from(
            COMMITMENTS.join(
                AGREEMENTS,
                (AGREEMENTS.c.org_id == COMMITMENTS.c.org_id)
                & (AGREEMENTS.c.id == COMMITMENTS.c.agreement_id),
            )
        )
        .where(COMMITMENTS.c.org_id == org_id)
        .group_by(COMMITMENTS.c.agreement_id, outcome)
    )
    return [(a, o, int(n)) for a, o, n in conn.execute(stmt)]
