"""The commitment log: due items from each agreement's recurring deliverables, how
each one ended, and trust per agreement and per relationship.

Outcomes (``analytics.trust.classify``): *kept* (delivered by the due time),
*exceeded* (delivered at least the agreement's ``exceed_margin_hours`` early),
*missed* (late or not delivered after the due time), *warned* (missed, but the
customer was warned before the due time), *pending* (not delivered, not yet due).
Trust is the mean of the Beta(s + 1, n - s + 1) posterior, where ``n`` counts ended
commitments and ``s`` credits kept and exceeded ones 1, warned ones 0.5 and surprise
misses 0 (see ``analytics.trust`` and ``docs/agree.md``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from valuechain.analytics.trust import CODE, OUTCOMES, classify, trust
from valuechain.domain.agreement import IN_FORCE, Agreement, Commitment, Metric
from valuechain.domain.commitment import Outcome, due_dates
from valuechain.services.agreement import agreements_of, calendars
from valuechain.services.organisation import Valuechain
from valuechain.store import commitment as commitment_store

ENDED = (Outcome.KEPT, Outcome.EXCEEDED, Outcome.MISSED, Outcome.WARNED)


def generate_due(vc: Valuechain, until: datetime, *, since: datetime | None = None) -> int:
    """Create the due items of every agreement in force that has a recurring
    deliverable, from ``since`` (default: now) to ``until``, in the agreement's
    calendar time zone. Idempotent: an item already stored (same agreement and due
    time) is left as it is. Returns how many items were created."""
    start = since or datetime.now(UTC)
    zones = {name: cal.timezone for name, cal in calendars(vc).items()}
    created = 0
    agreements = [a for a in agreements_of(vc) if a.state in IN_FORCE and a.deliverable_rrule]
    with vc.engine.begin() as conn:
        for a in agreements:
            assert a.deliverable_rrule is not None
            zone = "UTC" if a.calendar is None else zones[a.calendar]
            due = due_dates(a.deliverable_rrule, start, until, zone)
            created += commitment_store.add_due(conn, vc.org_id, a.id, due)
    return created


def _epoch(moment: datetime | None) -> float:
    return math.nan if moment is None else moment.timestamp()


def outcomes(
    commitments: list[Commitment], margins: dict[str, float | None], now: datetime
) -> list[Outcome]:
    """How each commitment ended (or ``pending``), with each agreement's early margin."""
    if not commitments:
        return []
    codes = classify(
        [c.due_at.timestamp() for c in commitments],
        [_epoch(c.delivered_at) for c in commitments],
        [_epoch(c.warned_at) for c in commitments],
        now.timestamp(),
        [(margins.get(c.agreement_id) or 0.0) * 3600.0 for c in commitments],
    )
    return [OUTCOMES[int(code)] for code in codes]


@dataclass(frozen=True)
class Log:
    """Counts per outcome and trust (with its 95% credible interval) per agreement."""

    agreement: Agreement
    counts: dict[Outcome, int]
    trust: float
    trust_low: float
    trust_high: float

    @property
    def due(self) -> int:
        """Commitments that have ended (delivered, or past their due time)."""
        return sum(self.counts[o] for o in ENDED)

    @property
    def on_time_pct(self) -> float | None:
        """Ended commitments delivered on time, in percent (the actual of ``on_time_pct``)."""
        if self.due == 0:
            return None
        return 100.0 * (self.counts[Outcome.KEPT] + self.counts[Outcome.EXCEEDED]) / self.due


def logs(vc: Valuechain, *, unit_id: str | None = None, now: datetime | None = None) -> list[Log]:
    """The commitment log of every agreement (or those of ``unit_id``), by id."""
    moment = now or datetime.now(UTC)
    agreements = agreements_of(vc, unit_id)
    with vc.engine.connect() as conn:
        items = commitment_store.read_commitments(conn, vc.org_id)
    position = {a.id: i for i, a in enumerate(agreements)}
    items = [c for c in items if c.agreement_id in position]
    margins = {a.id: a.exceed_margin_hours for a in agreements}
    ended = outcomes(items, margins, moment)
    result = trust(
        np.array([CODE[o] for o in ended], dtype=np.int64),
        np.array([position[c.agreement_id] for c in items], dtype=np.int64),
        len(agreements),
    )
    return [
        Log(
            agreement=a,
            counts={o: int(result.counts[i, CODE[o]]) for o in OUTCOMES},
            trust=float(result.trust[i]),
            trust_low=float(result.low[i]),
            trust_high=float(result.high[i]),
        )
        for i, a in enumerate(agreements)
    ]


def relationship_trust(vc: Valuechain, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Trust per relationship (provider, customer) over all their agreements."""
    moment = now or datetime.now(UTC)
    agreements = agreements_of(vc)
    with vc.engine.connect() as conn:
        items = commitment_store.read_commitments(conn, vc.org_id)
    pair_of = {a.id: (a.provider_id or "", a.customer_id) for a in agreements}
    pairs = sorted(set(pair_of.values()))
    index = {p: i for i, p in enumerate(pairs)}
    ended = outcomes(items, {a.id: a.exceed_margin_hours for a in agreements}, moment)
    result = trust(
        np.array([CODE[o] for o in ended], dtype=np.int64),
        np.array([index[pair_of[c.agreement_id]] for c in items], dtype=np.int64),
        len(pairs),
    )
    return [
        {
            "provider": provider,
            "customer": customer,
            **{o.value: int(result.counts[i, CODE[o]]) for o in ENDED},
            "trust": float(result.trust[i]),
            "trust_low": float(result.low[i]),
            "trust_high": float(result.high[i]),
        }
        for i, (provider, customer) in enumerate(pairs)
    ]


def log_json(log: Log) -> dict[str, Any]:
    a = log.agreement
    return {
        "id": a.id,
        "provider": a.provider_id,
        "customer": a.customer_id,
        "result": a.result_id,
        "state": a.state.value,
        "due": log.due,
        "kept": log.counts[Outcome.KEPT],
        "missed": log.counts[Outcome.MISSED],
        "warned": log.counts[Outcome.WARNED],
        "exceeded": log.counts[Outcome.EXCEEDED],
        "pending": log.counts[Outcome.PENDING],
        "trust": log.trust,
        "trust_low": log.trust_low,
        "trust_high": log.trust_high,
        "on_time_pct": log.on_time_pct,
        "on_time_target": a.target(Metric.ON_TIME_PCT),
    }


def commitments_document(vc: Valuechain, *, now: datetime | None = None) -> dict[str, Any]:
    """The ``valuechain commitments --json`` document: per agreement the commitments
    that have ended (``due``) by outcome and trust; per relationship its trust."""
    moment = now or datetime.now(UTC)
    return {
        "agreements": [log_json(log) for log in logs(vc, now=moment)],
        "relationships": relationship_trust(vc, now=moment),
    }


def timeline(
    vc: Valuechain, agreement: Agreement, *, now: datetime | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """An agreement's commitments, newest due first, each with its outcome and how
    early (negative: late) it was delivered, in hours."""
    moment = now or datetime.now(UTC)
    with vc.engine.connect() as conn:
        items = commitment_store.read_commitments(conn, vc.org_id, agreement_id=agreement.id)
    ended = outcomes(items, {agreement.id: agreement.exceed_margin_hours}, moment)
    rows = [
        {
            "due_at": c.due_at.isoformat(),
            "delivered_at": None if c.delivered_at is None else c.delivered_at.isoformat(),
            "warned_at": None if c.warned_at is None else c.warned_at.isoformat(),
            "outcome": o.value,
            "early_hours": None
            if c.delivered_at is None
            else (c.due_at - c.delivered_at) / timedelta(hours=1),
        }
        for c, o in zip(items, ended, strict=True)
    ]
    return rows[::-1][:limit]
