"""Service agreements: one row per agreement, a column per target."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Table, delete, select, update

from valuechain.domain.agreement import Agreement, AgreementState, Metric, obligation_lines
from valuechain.store.calendar import upsert, utc
from valuechain.store.organisation import RESULTS
from valuechain.store.tables import AgreementRow, CapacityShareRow, CommitmentRow, NegotiationRow

AGREEMENTS: Table = AgreementRow.__table__  # type: ignore[assignment]
COMMITMENTS: Table = CommitmentRow.__table__  # type: ignore[assignment]
SHARES: Table = CapacityShareRow.__table__  # type: ignore[assignment]
NEGOTIATIONS: Table = NegotiationRow.__table__  # type: ignore[assignment]

TARGET_COLUMNS = tuple(m.value for m in Metric)
STATE_COLUMNS = (
    "state",
    "provider_agreed_by",
    "provider_agreed_at",
    "customer_agreed_by",
    "customer_agreed_at",
)


def _row(org_id: int, a: Agreement) -> dict[str, Any]:
    return {
        "org_id": org_id,
        "id": a.id,
        "result_id": a.result_id,
        "customer_id": a.customer_id,
        "calendar": a.calendar,
        "review_on": a.review_on,
        "channel": a.channel,
        "cadence": a.cadence,
        **{m.value: a.targets.get(m) for m in Metric},
        "state": a.state.value,
        "obligations": "\n".join(a.obligations) or None,
        "exceed_margin_hours": a.exceed_margin_hours,
        "deliverable_rrule": a.deliverable_rrule,
        "provider_agreed_by": a.provider_agreed_by,
        "provider_agreed_at": utc(a.provider_agreed_at),
        "customer_agreed_by": a.customer_agreed_by,
        "customer_agreed_at": utc(a.customer_agreed_at),
    }


def write_agreements(conn: Connection, org_id: int, agreements: Iterable[Agreement]) -> int:
    """Insert agreements, replacing stored ones with the same id (all their terms)."""
    return upsert(conn, AGREEMENTS, [_row(org_id, a) for a in agreements])


def _to_agreement(r: Any) -> Agreement:
    return Agreement(
        r.id,
        r.result_id,
        r.customer_id,
        targets={m: getattr(r, m.value) for m in Metric if getattr(r, m.value) is not None},
        calendar=r.calendar,
        review_on=r.review_on,
        channel=r.channel,
        cadence=r.cadence,
        state=AgreementState(r.state),
        obligations=obligation_lines(r.obligations),
        exceed_margin_hours=r.exceed_margin_hours,
        deliverable_rrule=r.deliverable_rrule,
        provider_agreed_by=r.provider_agreed_by,
        provider_agreed_at=utc(r.provider_agreed_at),
        customer_agreed_by=r.customer_agreed_by,
        customer_agreed_at=utc(r.customer_agreed_at),
        provider_id=r.provider_id,
    )


def read_agreements(
    conn: Connection,
    org_id: int,
    *,
    agreement_id: str | None = None,
    unit_id: str | None = None,
    states: Iterable[AgreementState] | None = None,
) -> list[Agreement]:
    """Agreements (with their provider, the result's producer) ordered by id; only
    ``agreement_id``, only those ``unit_id`` is a side of, only in ``states``."""
    cols = [c for c in AGREEMENTS.columns if c.name != "org_id"]
    provider = RESULTS.c.unit_id.label("provider_id")
    stmt = (
        select(*cols, provider)
        .select_from(
            AGREEMENTS.join(
                RESULTS,
                (RESULTS.c.org_id == AGREEMENTS.c.org_id)
                & (RESULTS.c.id == AGREEMENTS.c.result_id),
            )
        )
        .where(AGREEMENTS.c.org_id == org_id)
        .order_by(AGREEMENTS.c.id)
    )
    if agreement_id is not None:
        stmt = stmt.where(AGREEMENTS.c.id == agreement_id)
    if unit_id is not None:
        stmt = stmt.where((AGREEMENTS.c.customer_id == unit_id) | (RESULTS.c.unit_id == unit_id))
    if states is not None:
        stmt = stmt.where(AGREEMENTS.c.state.in_([s.value for s in states]))
    return [_to_agreement(r) for r in conn.execute(stmt)]


def agreement_ids(conn: Connection, org_id: int) -> set[str]:
    return set(conn.execute(select(AGREEMENTS.c.id).where(AGREEMENTS.c.org_id == org_id)).scalars())


def save_state(conn: Connection, org_id: int, agreement: Agreement) -> None:
    """Store an agreement's state and who agreed when (after a step of its life)."""
    row = _row(org_id, agreement)
    conn.execute(
        update(AGREEMENTS)
        .where(AGREEMENTS.c.org_id == org_id, AGREEMENTS.c.id == agreement.id)
        .values({c: row[c] for c in STATE_COLUMNS})
    )


def delete_agree(conn: Connection, org_id: int) -> None:
    """Remove every agreement, commitment, capacity share and negotiation (the
    organisation is being replaced)."""
    for table in (COMMITMENTS, NEGOTIATIONS, SHARES, AGREEMENTS):
        conn.execute(delete(table).where(table.c.org_id == org_id))
