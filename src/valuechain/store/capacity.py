"""Capacity shares (items per week a provider agreed to give each customer of a
result) and the negotiations demand above a share opens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select, update

from valuechain.store.agreement import NEGOTIATIONS, SHARES
from valuechain.store.calendar import upsert, utc
from valuechain.store.organisation import CONFIRMED_ONLY, LINKS, RESULTS


def results_of(conn: Connection, org_id: int, unit_id: str) -> list[Row[Any]]:
    """The results ``unit_id`` produces: id, name, capacity (items per week)."""
    return list(
        conn.execute(
            select(RESULTS.c.id, RESULTS.c.name, RESULTS.c.capacity)
            .where(RESULTS.c.org_id == org_id, RESULTS.c.unit_id == unit_id)
            .order_by(RESULTS.c.id)
        )
    )


def demand(
    conn: Connection, org_id: int, *, provider: str | None = None, customer: str | None = None
) -> list[Row[Any]]:
    """Weekly demand per (result, provider, customer) from the map's links (summed over
    the customer's relations to the result; links without demand do not count), for
    one provider's results or one customer's links."""
    stmt = (
        select(
            LINKS.c.result_id,
            RESULTS.c.unit_id.label("provider"),
            LINKS.c.customer_id,
            func.sum(LINKS.c.demand).label("demand"),
        )
        .select_from(
            LINKS.join(
                RESULTS,
                (RESULTS.c.org_id == LINKS.c.org_id) & (RESULTS.c.id == LINKS.c.result_id),
            )
        )
        .where(LINKS.c.org_id == org_id, LINKS.c.demand.is_not(None), CONFIRMED_ONLY)
        .group_by(LINKS.c.result_id, RESULTS.c.unit_id, LINKS.c.customer_id)
    )
    if provider is not None:
        stmt = stmt.where(RESULTS.c.unit_id == provider)
    if customer is not None:
        stmt = stmt.where(LINKS.c.customer_id == customer)
    return list(conn.execute(stmt))


def shares(
    conn: Connection,
    org_id: int,
    *,
    result_ids: list[str] | None = None,
    customer: str | None = None,
) -> dict[tuple[str, str], float]:
    """The agreed share per (result, customer)."""
    stmt = select(SHARES.c.result_id, SHARES.c.customer_id, SHARES.c.share).where(
        SHARES.c.org_id == org_id
    )
    if result_ids is not None:
        stmt = stmt.where(SHARES.c.result_id.in_(result_ids))
    if customer is not None:
        stmt = stmt.where(SHARES.c.customer_id == customer)
    return {(r, c): float(s) for r, c, s in conn.execute(stmt)}


def set_share(
    conn: Connection, org_id: int, result_id: str, customer_id: str, share: float
) -> None:
    upsert(
        conn,
        SHARES,
        [{"org_id": org_id, "result_id": result_id, "customer_id": customer_id, "share": share}],
    )


def negotiations(
    conn: Connection,
    org_id: int,
    *,
    provider: str | None = None,
    customer: str | None = None,
    negotiation_id: str | None = None,
) -> list[dict[str, Any]]:
    """Negotiations (newest first) with the provider of their result."""
    cols = [c for c in NEGOTIATIONS.columns if c.name != "org_id"]
    stmt = (
        select(*cols, RESULTS.c.unit_id.label("provider"))
        .select_from(
            NEGOTIATIONS.join(
                RESULTS,
                (RESULTS.c.org_id == NEGOTIATIONS.c.org_id)
                & (RESULTS.c.id == NEGOTIATIONS.c.result_id),
            )
        )
        .where(NEGOTIATIONS.c.org_id == org_id)
        .order_by(NEGOTIATIONS.c.opened_at.desc(), NEGOTIATIONS.c.id)
    )
    if provider is not None and customer is not None:
        stmt = stmt.where(
            (RESULTS.c.unit_id == provider) | (NEGOTIATIONS.c.customer_id == customer)
        )
    elif provider is not None:
        stmt = stmt.where(RESULTS.c.unit_id == provider)
    elif customer is not None:
        stmt = stmt.where(NEGOTIATIONS.c.customer_id == customer)
    if negotiation_id is not None:
        stmt = stmt.where(NEGOTIATIONS.c.id == negotiation_id)
    rows = []
    for r in conn.execute(stmt):
        row = dict(r._mapping)
        row["opened_at"] = utc(row["opened_at"])
        row["closed_at"] = utc(row["closed_at"])
        rows.append(row)
    return rows


def open_pairs(conn: Connection, org_id: int) -> set[tuple[str, str]]:
    """(result, customer) pairs with an open negotiation."""
    rows = conn.execute(
        select(NEGOTIATIONS.c.result_id, NEGOTIATIONS.c.customer_id).where(
            NEGOTIATIONS.c.org_id == org_id, NEGOTIATIONS.c.state == "open"
        )
    )
    return {(r, c) for r, c in rows}


def open_negotiation(conn: Connection, org_id: int, row: dict[str, Any]) -> None:
    upsert(conn, NEGOTIATIONS, [{"org_id": org_id, **row}], ignore=True)


def close_negotiation(
    conn: Connection,
    org_id: int,
    negotiation_id: str,
    state: str,
    at: datetime,
    by: str,
    note: str | None,
) -> int:
    """Close an open negotiation; returns 1, or 0 when it was not open."""
    done = conn.execute(
        update(NEGOTIATIONS)
        .where(
            NEGOTIATIONS.c.org_id == org_id,
            NEGOTIATIONS.c.id == negotiation_id,
            NEGOTIATIONS.c.state == "open",
        )
        .values(state=state, closed_at=utc(at), closed_by=by, note=note)
    )
    return int(done.rowcount)
