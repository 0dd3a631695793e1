"""Capacity shares: a provider's weekly capacity per result, the share agreed with
each customer, and each customer's demand against its share. Demand above the share
opens a negotiation, visible to both sides, that ends in one of three ways: the
provider accepts the extra demand, the customer reschedules it, or the share changes.

Demand per customer is the weekly ``demand`` of its links to the result (summed over
its relations); a customer without an agreed share has no ceiling and opens nothing.
"""

from __future__ import annotations

import math
import secrets
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection

from valuechain.services import audit
from valuechain.services.agreement_types import (
    Capacity,
    CustomerShare,
    Negotiation,
    ProvidedResult,
    ReceivedResult,
)
from valuechain.services.audit import Actor
from valuechain.services.errors import Conflict, Invalid, NotFound
from valuechain.services.organisation import Valuechain
from valuechain.services.transaction import reading, writing
from valuechain.store import capacity as store
from valuechain.store import organisation as map_store

NEGOTIATION_OPENED = "negotiation_opened"
NEGOTIATION_CLOSED = "negotiation_closed"
SHARE_SET = "capacity_share_set"


class Settlement(StrEnum):
    """How a negotiation ends."""

    ACCEPTED = "accepted"  # the provider takes the extra demand on
    RESCHEDULED = "rescheduled"  # the customer moves the extra demand to later
    SHARE_CHANGED = "share_changed"  # the share is set to a new value


class CapacityError(Invalid):
    """A share or settlement that cannot be stored; the message says why."""


class NegotiationSettled(Conflict, CapacityError):
    """The negotiation was settled already; it cannot be settled again."""


def _known_unit(conn: Connection, vc: Valuechain, unit_id: str) -> None:
    if map_store.read_unit(conn, vc.org_id, unit_id) is None:
        raise NotFound(f"no unit with id {unit_id!r}")


def _over(demand: float | None, share: float | None) -> bool:
    return demand is not None and share is not None and demand > share + 1e-9


def capacity(vc: Valuechain, unit_id: str) -> Capacity:
    """The capacity view of one unit, both ways: as a provider (per result its
    capacity, the shares agreed, what is left unallocated, and per customer its
    demand against its share) and as a customer (its demand against the shares its
    providers agreed), with the negotiations of either side."""
    with reading(vc) as conn:
        _known_unit(conn, vc, unit_id)
        results = store.results_of(conn, vc.org_id, unit_id)
        demand_rows = store.demand(conn, vc.org_id, provider=unit_id)
        agreed = store.shares(conn, vc.org_id, result_ids=[r.id for r in results])
        asking = store.demand(conn, vc.org_id, customer=unit_id)
        mine = store.shares(conn, vc.org_id, customer=unit_id)
        talks = store.negotiations(conn, vc.org_id, provider=unit_id, customer=unit_id)
    open_by_pair = {
        (n["result_id"], n["customer_id"]): n["id"] for n in talks if n["state"] == "open"
    }
    demand_of = {(r.result_id, r.customer_id): float(r.demand) for r in demand_rows}
    provided: list[ProvidedResult] = []
    for r in results:
        customers = sorted(
            {c for (res, c) in demand_of if res == r.id} | {c for (res, c) in agreed if res == r.id}
        )
        rows: list[CustomerShare] = []
        for c in customers:
            share = agreed.get((r.id, c))
            wanted = demand_of.get((r.id, c))
            rows.append(
                {
                    "customer": c,
                    "share": share,
                    "demand": wanted,
                    "over_share": _over(wanted, share),
                    "negotiation": open_by_pair.get((r.id, c)),
                }
            )
        allocated = sum(x["share"] for x in rows if x["share"] is not None)
        total_demand = sum(x["demand"] for x in rows if x["demand"] is not None)
        provided.append(
            {
                "result": r.id,
                "name": r.name,
                "capacity": r.capacity,
                "allocated": allocated,
                "unallocated": None if r.capacity is None else r.capacity - allocated,
                "overallocated": r.capacity is not None and allocated > r.capacity + 1e-9,
                "demand": total_demand,
                "customers": rows,
            }
        )
    received: list[ReceivedResult] = [
        {
            "result": row.result_id,
            "provider": row.provider,
            "demand": float(row.demand),
            "share": mine.get((row.result_id, unit_id)),
            "over_share": _over(float(row.demand), mine.get((row.result_id, unit_id))),
            "negotiation": open_by_pair.get((row.result_id, unit_id)),
        }
        for row in sorted(asking, key=lambda x: x.result_id)
    ]
    return {
        "unit": unit_id,
        "provides": provided,
        "receives": received,
        "negotiations": [_negotiation_json(n) for n in talks],
    }


def _negotiation_json(n: dict[str, Any]) -> Negotiation:
    return {
        "id": n["id"],
        "result": n["result_id"],
        "provider": n["provider"],
        "customer": n["customer_id"],
        "opened_at": n["opened_at"].isoformat(),
        "demand": n["demand"],
        "share": n["share"],
        "state": n["state"],
        "closed_at": None if n["closed_at"] is None else n["closed_at"].isoformat(),
        "closed_by": n["closed_by"],
        "note": n["note"],
    }


def open_negotiations(
    vc: Valuechain, *, now: datetime | None = None, actor: Actor | None = None
) -> list[str]:
    """Open a negotiation for every customer whose demand is above its agreed share
    and that has none open yet (idempotent; a job and every share change run it).
    Returns the new negotiations' ids."""
    moment = now or datetime.now(UTC)
    who = actor or Actor(None, "valuechain:capacity", None)
    opened: list[str] = []
    with writing(vc) as conn:
        agreed = store.shares(conn, vc.org_id)
        already = store.open_pairs(conn, vc.org_id)
        for row in store.demand(conn, vc.org_id):
            key = (row.result_id, row.customer_id)
            share = agreed.get(key)
            if key in already or not _over(float(row.demand), share):
                continue
            assert share is not None
            negotiation_id = secrets.token_hex(8)
            store.open_negotiation(
                conn,
                vc.org_id,
                {
                    "id": negotiation_id,
                    "result_id": row.result_id,
                    "customer_id": row.customer_id,
                    "opened_at": moment,
                    "demand": float(row.demand),
                    "share": share,
                    "state": "open",
                },
            )
            audit.record(
                vc,
                NEGOTIATION_OPENED,
                who,
                subject=f"capacity {row.result_id} for {row.customer_id}",
                detail=f"demand {row.demand:g} a week above the share of {share:g}",
                conn=conn,
            )
            opened.append(negotiation_id)
    return opened


def set_share(
    vc: Valuechain, unit_id: str, result_id: str, customer_id: str, share: float, actor: Actor
) -> list[str]:
    """The provider ``unit_id`` agrees ``share`` items a week of ``result_id`` with
    ``customer_id``; then negotiations open where demand is above a share."""
    with writing(vc):
        if not math.isfinite(share) or share < 0:
            raise CapacityError(f"a share is a number of items a week, 0 or more; got {share}")
        with writing(vc) as conn:
            produced = {r.id for r in store.results_of(conn, vc.org_id, unit_id)}
            if result_id not in produced:
                raise NotFound(f"unit {unit_id!r} produces no result {result_id!r}")
            _known_unit(conn, vc, customer_id)
            store.set_share(conn, vc.org_id, result_id, customer_id, share)
            audit.record(
                vc,
                SHARE_SET,
                actor,
                subject=f"capacity {result_id} for {customer_id}",
                detail=f"share {share:g} a week",
                conn=conn,
            )
        return open_negotiations(vc, actor=actor)


def settle(
    vc: Valuechain,
    unit_id: str,
    negotiation_id: str,
    settlement: Settlement,
    actor: Actor,
    *,
    share: float | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> Negotiation:
    """A lead of either side (``unit_id``) closes an open negotiation: accepted,
    rescheduled, or the share changed to ``share`` (required for that ending)."""
    with writing(vc):
        moment = now or datetime.now(UTC)
        with reading(vc) as conn:
            found = store.negotiations(conn, vc.org_id, negotiation_id=negotiation_id)
        if not found or unit_id not in (found[0]["provider"], found[0]["customer_id"]):
            raise NotFound(f"no negotiation {negotiation_id!r} of unit {unit_id!r}")
        talk = found[0]
        if settlement is Settlement.SHARE_CHANGED:
            if share is None or not math.isfinite(share) or share < 0:
                raise CapacityError(
                    "changing the share needs the new share, 0 or more items a week"
                )
        elif share is not None:
            raise CapacityError(
                f"a share is given only when the share changes, not when {settlement.value}"
            )
        with writing(vc) as conn:
            closed = store.close_negotiation(
                conn,
                vc.org_id,
                negotiation_id,
                settlement.value,
                moment,
                actor.label or "unknown",
                note,
            )
            if not closed:
                raise NegotiationSettled(f"negotiation {negotiation_id} is already {talk['state']}")
            if share is not None:
                store.set_share(conn, vc.org_id, talk["result_id"], talk["customer_id"], share)
            audit.record(
                vc,
                NEGOTIATION_CLOSED,
                actor,
                subject=f"capacity {talk['result_id']} for {talk['customer_id']}",
                detail=settlement.value + ("" if share is None else f": share {share:g} a week"),
                conn=conn,
            )
        with reading(vc) as conn:
            return _negotiation_json(
                store.negotiations(conn, vc.org_id, negotiation_id=negotiation_id)[0]
            )
