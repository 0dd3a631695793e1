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
from typing import cast

import numpy as np
import numpy.typing as npt

from valuechain.analytics.trust import CODE, OUTCOMES, classify, trust
from valuechain.domain.agreement import (
    IN_FORCE,
    PERCENT_METRICS,
    Agreement,
    Commitment,
    Metric,
)
from valuechain.domain.commitment import Outcome, due_dates
from valuechain.services import audit
from valuechain.services.agreement import (
    agreement,
    agreements_of,
    as_json,
    calendars,
    reviews_due_of,
)
from valuechain.services.agreement_types import (
    AgreementDetail,
    CommitmentItem,
    Commitments,
    LogRow,
    RelationshipTrust,
    TargetRow,
)
from valuechain.services.audit import Actor
from valuechain.services.errors import Conflict
from valuechain.services.organisation import Valuechain
from valuechain.services.transaction import reading, writing
from valuechain.store import commitment as commitment_store

ENDED = (Outcome.KEPT, Outcome.EXCEEDED, Outcome.MISSED, Outcome.WARNED)


def generate_due(vc: Valuechain, until: datetime, *, since: datetime | None = None) -> int:
    """Create the due items of every agreement in force that has a recurring
    deliverable, from ``since`` (default: now) to ``until``, in the agreement's
    calendar time zone. Idempotent: an item already stored (same agreement and due
    time) is left as it is. Returns how many items were created."""
    with writing(vc):
        start = since or datetime.now(UTC)
        zones = {name: cal.timezone for name, cal in calendars(vc).items()}
        created = 0
        agreements = [a for a in agreements_of(vc) if a.state in IN_FORCE and a.deliverable_rrule]
        with writing(vc) as conn:
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


def _ended(
    vc: Valuechain, agreements: list[Agreement], now: datetime
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Outcome codes and agreement positions, one entry per (agreement, outcome) with
    its count as weight: the log is classified and counted in the database
    (``store.commitment.outcome_counts``), so a million commitments never leave it."""
    with reading(vc) as conn:
        counted = commitment_store.outcome_counts(conn, vc.org_id, now)
    position = {a.id: i for i, a in enumerate(agreements)}
    rows = [(position[a], CODE[Outcome(o)], n) for a, o, n in counted if a in position]
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    where, codes, weights = (np.array(col, dtype=np.int64) for col in zip(*rows, strict=True))
    return np.repeat(codes, weights), np.repeat(where, weights)


def logs(vc: Valuechain, *, unit_id: str | None = None, now: datetime | None = None) -> list[Log]:
    """The commitment log of every agreement (or those of ``unit_id``), by id."""
    with reading(vc):
        moment = now or datetime.now(UTC)
        agreements = agreements_of(vc, unit_id)
        return _logs(agreements, *_ended(vc, agreements, moment))


def _logs(
    agreements: list[Agreement], codes: npt.NDArray[np.int64], where: npt.NDArray[np.int64]
) -> list[Log]:
    result = trust(codes, where, len(agreements))
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


def relationship_trust(vc: Valuechain, *, now: datetime | None = None) -> list[RelationshipTrust]:
    """Trust per relationship (provider, customer) over all their agreements."""
    with reading(vc):
        moment = now or datetime.now(UTC)
        agreements = agreements_of(vc)
        return _relationships(agreements, *_ended(vc, agreements, moment))


def _relationships(
    agreements: list[Agreement], codes: npt.NDArray[np.int64], where: npt.NDArray[np.int64]
) -> list[RelationshipTrust]:
    pair_of = [(a.provider_id or "", a.customer_id) for a in agreements]
    pairs = sorted(set(pair_of))
    index = {p: i for i, p in enumerate(pairs)}
    pair_index = np.array([index[p] for p in pair_of], dtype=np.int64)
    result = trust(codes, pair_index[where], len(pairs))
    # The outcome counts are keyed by the outcomes' names, which mypy cannot follow.
    return [
        cast(
            RelationshipTrust,
            {
                "provider": provider,
                "customer": customer,
                **{o.value: int(result.counts[i, CODE[o]]) for o in ENDED},
                "trust": float(result.trust[i]),
                "trust_low": float(result.low[i]),
                "trust_high": float(result.high[i]),
            },
        )
        for i, (provider, customer) in enumerate(pairs)
    ]


def log_json(log: Log) -> LogRow:
    a = log.agreement
    return {
        "id": a.id,
        "provider": cast(str, a.provider_id),  # filled in when read from the store
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


def commitments_document(vc: Valuechain, *, now: datetime | None = None) -> Commitments:
    """The ``valuechain commitments --json`` document: per agreement the commitments
    that have ended (``due``) by outcome and trust; per relationship its trust."""
    with reading(vc):
        moment = now or datetime.now(UTC)
        agreements = agreements_of(vc)
        codes, where = _ended(vc, agreements, moment)
        return {
            "agreements": [log_json(log) for log in _logs(agreements, codes, where)],
            "relationships": _relationships(agreements, codes, where),
        }


def timeline(
    vc: Valuechain, agreement: Agreement, *, now: datetime | None = None, limit: int = 200
) -> list[CommitmentItem]:
    """An agreement's commitments, newest due first, each with its outcome and how
    early (negative: late) it was delivered, in hours."""
    moment = now or datetime.now(UTC)
    with reading(vc) as conn:
        items = commitment_store.read_commitments(conn, vc.org_id, agreement_id=agreement.id)
    ended = outcomes(items, {agreement.id: agreement.exceed_margin_hours}, moment)
    rows: list[CommitmentItem] = [
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


def agreement_detail(
    vc: Valuechain, agreement_id: str, unit_id: str | None = None, *, now: datetime | None = None
) -> AgreementDetail:
    """Everything the agreement page shows: both sides' obligations (the provider's
    targets, the customer's obligations), each target against its actual where one is
    measured (``on_time_pct`` from the commitment log; the request clocks add the
    hours), trust, whether a review is due, and the commitment timeline."""
    with reading(vc):
        moment = now or datetime.now(UTC)
        found = agreement(vc, agreement_id, unit_id)
        log = next(
            x for x in logs(vc, unit_id=found.customer_id, now=moment) if x.agreement.id == found.id
        )
        actual = {Metric.ON_TIME_PCT: log.on_time_pct}
        targets: list[TargetRow] = [
            {
                "metric": m.value,
                "target": found.targets.get(m),
                "actual": actual.get(m),
                "met": None
                if actual.get(m) is None or m not in found.targets
                else _met(m, found.targets[m], actual[m]),
            }
            for m in Metric
            if m in found.targets or actual.get(m) is not None
        ]
        return {
            **as_json(found),
            "targets_vs_actuals": targets,
            "review_due": bool(reviews_due_of([found], moment.date())),
            "log": log_json(log),
            "commitments": timeline(vc, found, now=moment),
        }


def _met(metric: Metric, target: float, actual: float | None) -> bool | None:
    if actual is None:
        return None
    # Percentages are floors; hours are ceilings.
    return actual >= target if metric in PERCENT_METRICS else actual <= target


class CommitmentError(Conflict):
    """A delivery or warning that cannot be recorded; the message says why."""


COMMITMENT_DELIVERED = "commitment_delivered"
COMMITMENT_WARNED = "commitment_warned"


def record(
    vc: Valuechain,
    agreement_id: str,
    due_at: datetime,
    unit_id: str,
    actor: Actor,
    *,
    delivered: bool = False,
    warned: bool = False,
    at: datetime | None = None,
) -> CommitmentItem:
    """The provider's lead records that a due item was delivered, or warns the customer
    that it will be late (an early warning counts only before the due time). Each is
    recorded once; returns the item with its outcome."""
    with writing(vc):
        moment = at or datetime.now(UTC)
        found = agreement(vc, agreement_id, unit_id)
        if unit_id != found.provider_id:
            raise CommitmentError("only the provider records deliveries and warnings")
        if delivered == warned:
            raise CommitmentError("record either a delivery or a warning")
        with writing(vc) as conn:
            changed = commitment_store.mark(
                conn,
                vc.org_id,
                agreement_id,
                due_at,
                delivered_at=moment if delivered else None,
                warned_at=moment if warned else None,
            )
            if not changed:
                raise CommitmentError(
                    f"no due item of {agreement_id} at {due_at.isoformat()} without a "
                    f"{'delivery' if delivered else 'warning'} recorded"
                )
            audit.record(
                vc,
                COMMITMENT_DELIVERED if delivered else COMMITMENT_WARNED,
                actor,
                subject=f"agreement {agreement_id}",
                detail=f"due {due_at.isoformat()}",
                conn=conn,
            )
        due = due_at.astimezone(UTC)
        return next(
            i
            for i in timeline(vc, found, now=moment, limit=10**9)
            if i["due_at"] == due.isoformat()
        )
