"""The watermelon check: green outside (targets met), red inside (the customer is
unhappy) — and the reverse. Per relationship with an agreement, the commitment
compliance (ended commitments delivered on time, against the agreement's
``on_time_pct`` target) and the request SLA compliance (requests resolved within the
agreement's hours, against :data:`DEFAULT_SLA_TARGET`) next to the customer's
satisfaction from the latest survey. Targets count as met when every measure known
for the relationship is met, and as missed when any is missed.

Satisfaction comes only from :func:`valuechain.services.measure.scores`, the one
protected source of survey numbers: a relationship whose cell is suppressed (fewer
respondents than the threshold, or revealing such a group by differencing) shows no
satisfaction and is never flagged. A customer is *unhappy* when the 95% interval of the
mean lies wholly below the scale's midpoint, *happy* when wholly above it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from valuechain.domain.agreement import Metric
from valuechain.domain.commitment import Outcome
from valuechain.services import measure
from valuechain.services import request as request_service
from valuechain.services.agreement_types import Watermelon
from valuechain.services.commitment import logs
from valuechain.services.measure_types import ScoreCell
from valuechain.services.organisation import Valuechain

DEFAULT_ON_TIME_TARGET = 90.0  # percent, for agreements that state no on-time target
DEFAULT_SLA_TARGET = 90.0  # percent of requests within the agreement's hours
MIN_ENDED = 3  # fewer ended commitments than this judge nothing


def _mood(cell: ScoreCell, low: int, high: int) -> str | None:
    ci_low, ci_high = cell["ci_low"], cell["ci_high"]
    if cell["suppressed"] or ci_low is None or ci_high is None:
        return None
    middle = (low + high) / 2
    if ci_high < middle:
        return "unhappy"
    if ci_low > middle:
        return "happy"
    return "neutral"


def _scale(instrument: Any) -> tuple[int, int]:
    for item in instrument.items:
        if item.scale is not None:
            return int(item.scale.low), int(item.scale.high)
    return 1, 7


@measure.within_reading
def watermelon(
    vc: Valuechain, *, unit_id: str | None = None, now: datetime | None = None
) -> Watermelon:
    """Per relationship (provider, customer) with an agreement: on-time compliance
    against target, trust, the protected satisfaction of the latest campaign, and
    ``flag``: ``targets_met_customer_unhappy``, ``targets_missed_customer_happy`` or
    ``None``. With ``unit_id`` only its relationships (either side)."""
    moment = now or datetime.now(UTC)
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    for log in logs(vc, unit_id=unit_id, now=moment):
        a = log.agreement
        key = (a.provider_id or "", a.customer_id)
        row = pairs.setdefault(
            key,
            {
                "provider": key[0],
                "customer": key[1],
                "agreements": [],
                "ended": 0,
                "on_time": 0,
                "target": None,
            },
        )
        row["agreements"].append(a.id)
        row["ended"] += log.due
        row["on_time"] += log.counts[Outcome.KEPT] + log.counts[Outcome.EXCEEDED]
        target = a.target(Metric.ON_TIME_PCT)
        if target is not None:
            row["target"] = max(row["target"] or 0.0, target)
    sla_rows = {
        (r["provider"], r["customer"]): r
        for r in request_service.sla(vc, now=moment, unit=unit_id)["relationships"]
        if r["requests"] >= MIN_ENDED
        and (r.get("resolution_met_pct") is not None or r.get("first_response_met_pct") is not None)
    }
    for key in sla_rows:
        pairs.setdefault(
            key,
            {"provider": key[0], "customer": key[1], "agreements": [], "ended": 0,
             "on_time": 0, "target": None},
        )  # fmt: skip
    survey = measure.scores(vc, measure.By.RELATIONSHIP)
    known = measure.instruments(vc)
    cells: dict[tuple[str, str], ScoreCell] = {}
    for found in survey["cells"]:
        key = (found["provider"], found.get("customer") or "")
        if key in pairs and (key not in cells or cells[key]["suppressed"]):
            cells[key] = found
    rows = []
    for key in sorted(pairs):
        row = pairs[key]
        target = row.pop("target")
        ended, on_time = row.pop("ended"), row.pop("on_time")
        compliance = None if ended == 0 else 100.0 * on_time / ended
        judged_target = DEFAULT_ON_TIME_TARGET if target is None else target
        on_time_met = (
            None if ended < MIN_ENDED or compliance is None else compliance >= judged_target
        )
        sla = sla_rows.get(key)
        sla_pct = None
        if sla is not None:
            sla_pct = sla.get("resolution_met_pct")
            if sla_pct is None:
                sla_pct = sla.get("first_response_met_pct")
        sla_met = None if sla_pct is None else sla_pct >= DEFAULT_SLA_TARGET
        judged = [m for m in (on_time_met, sla_met) if m is not None]
        met = None if not judged else all(judged)
        cell = cells.get(key)
        satisfaction = None
        mood = None
        if cell is not None and not cell.get("suppressed"):
            instrument = known.get(cell["instrument"])
            low, high = _scale(instrument) if instrument is not None else (1, 7)
            mood = _mood(cell, low, high)
            satisfaction = {
                "instrument": cell["instrument"],
                "n": cell["n"],
                "mean": cell["mean"],
                "ci_low": cell["ci_low"],
                "ci_high": cell["ci_high"],
                "scale": [low, high],
            }
        flag = None
        if met is True and mood == "unhappy":
            flag = "targets_met_customer_unhappy"
        elif met is False and mood == "happy":
            flag = "targets_missed_customer_happy"
        rows.append(
            {
                **row,
                "commitments_ended": ended,
                "on_time_pct": compliance,
                "on_time_target": judged_target,
                "sla_met_pct": sla_pct,
                "sla_target": DEFAULT_SLA_TARGET if sla_pct is not None else None,
                "requests": sla["requests"] if sla is not None else 0,
                "targets_met": met,
                "satisfaction": satisfaction,
                "suppressed": cell is not None and bool(cell.get("suppressed")),
                "mood": mood,
                "flag": flag,
            }
        )
    return cast(
        Watermelon,
        {"threshold": survey["threshold"], "campaign": survey["campaign"], "relationships": rows},
    )
