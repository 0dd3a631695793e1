"""Storage of the external customers' outcomes (Connect) and the month each survey
campaign belongs to."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table, delete, func, select

from valuechain.domain.outcome import Outcome
from valuechain.store.organisation import _upsert
from valuechain.store.tables import CampaignRow, OutcomeRow, ResponseRow

OUTCOMES: Table = OutcomeRow.__table__  # type: ignore[assignment]
RESPONSES: Table = ResponseRow.__table__  # type: ignore[assignment]
CAMPAIGNS: Table = CampaignRow.__table__  # type: ignore[assignment]


def write_outcomes(conn: Connection, org_id: int, outcomes: Sequence[Outcome]) -> int:
    """Store outcomes inside the caller's transaction, replacing a stored value of the
    same external customer, metric and month."""
    rows = sorted((o.unit_id, o.metric, o.period, o.value) for o in outcomes)
    return _upsert(conn, OUTCOMES, org_id, rows)


def delete_outcomes(conn: Connection, org_id: int) -> None:
    """Remove every outcome of the organisation."""
    conn.execute(delete(OUTCOMES).where(OUTCOMES.c.org_id == org_id))


def read_outcomes(conn: Connection, org_id: int) -> list[Outcome]:
    """Every outcome, by external customer, metric and month."""
    o = OUTCOMES.c
    return [
        Outcome(unit, period, metric, float(value))
        for unit, metric, period, value in conn.execute(
            select(o.unit_id, o.metric, o.period, o.value)
            .where(o.org_id == org_id)
            .order_by(o.unit_id, o.metric, o.period)
        )
    ]


def campaign_days(conn: Connection, org_id: int) -> dict[str, str]:
    """Each campaign's last day of responses (ISO date): the day its results speak
    for. A campaign without responses has no day and is left out."""
    r = RESPONSES.c
    rows = conn.execute(
        select(r.campaign_id, func.max(r.submitted_on))
        .where(r.org_id == org_id)
        .group_by(r.campaign_id)
    )
    return {campaign: str(day)[:10] for campaign, day in rows if day is not None}


def unit_kinds(conn: Connection, org_id: int) -> dict[str, str]:
    """Every stored unit's kind by id (an outcome must name an external customer)."""
    from valuechain.store.organisation import UNITS

    u = UNITS.c
    return dict(conn.execute(select(u.id, u.kind).where(u.org_id == org_id)).tuples().all())
