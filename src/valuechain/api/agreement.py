"""Capability 3, Agree, as JSON: a unit's agreements and their life, the commitment
log and trust, and capacity shares with their negotiations.

Everything about a unit is under ``/units/{unit_id}/…``: reading needs
``view_unit_summary`` for the unit (admins every unit, a lead their own unit and its
relationships, a member their own unit); acting (propose, agree, review, set a share,
settle a negotiation) needs ``act_on_agreements`` for the unit, which only the lead of
that very unit (and admins) have, and the unit acts for its side of the agreement.
The organisation-wide commitment log needs ``view_all_commitments`` (admins).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from valuechain.domain.access import Action, Principal
from valuechain.domain.agreement import Metric
from valuechain.edge.dependencies import AccessRule, CurrentValuechain, allow, client_address
from valuechain.edge.errors import Problem
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services import agreement as agreements
from valuechain.services import capacity as capacities
from valuechain.services.audit import Actor
from valuechain.services.capacity import Settlement
from valuechain.services.commitment import (
    agreement_detail,
    commitments_document,
    log_json,
    logs,
    record,
)
from valuechain.services.organisation import Valuechain
from valuechain.services.watermelon import watermelon

router = APIRouter(route_class=IdempotentRoute, tags=["agree"])
UNIT_SUMMARY = [allow(Action.VIEW_UNIT_SUMMARY, unit_param="unit_id")]
Acting = Annotated[Principal, Depends(AccessRule(Action.ACT_ON_AGREEMENTS, unit_param="unit_id"))]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such unit, agreement or negotiation"}
}
REFUSED_STEP: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    409: {"model": Problem, "description": "A step the agreement's life does not allow now"},
}


class Agreement(BaseModel):
    """A service agreement between the producer of a result and one customer."""

    id: str
    provider: str = Field(description="The producer of the result.")
    customer: str
    result: str
    state: str = Field(description="draft, proposed, agreed or under_review.")
    targets: dict[str, float] = Field(description="Per metric: percent or business hours.")
    calendar: str | None = Field(description="null: mon-fri 09:00-17:00 UTC.")
    review_on: str | None
    channel: str | None
    cadence: str | None
    obligations: list[str] = Field(description="The customer's obligations.")
    exceed_margin_hours: float | None
    deliverable_rrule: str | None
    provider_agreed_by: str | None
    provider_agreed_at: str | None
    customer_agreed_by: str | None
    customer_agreed_at: str | None


class LogRow(BaseModel):
    """An agreement's commitment log: ended commitments (``due``) by outcome, trust."""

    id: str
    provider: str
    customer: str
    result: str
    state: str
    due: int
    kept: int
    missed: int
    warned: int
    exceeded: int
    pending: int
    trust: float = Field(description="Mean of the Beta posterior, (s + 1) / (n + 2).")
    trust_low: float
    trust_high: float
    on_time_pct: float | None
    on_time_target: float | None


class UnitAgreement(Agreement):
    review_due: bool
    log: LogRow


class UnitAgreements(BaseModel):
    unit: str
    agreements: list[UnitAgreement]
    reviews_due: list[str] = Field(description="Ids under review or past their review date.")


class TargetRow(BaseModel):
    metric: str
    target: float | None
    actual: float | None
    met: bool | None


class CommitmentItem(BaseModel):
    due_at: str
    delivered_at: str | None
    warned_at: str | None
    outcome: str = Field(description="kept, exceeded, missed, warned or pending.")
    early_hours: float | None = Field(description="Hours delivered early; negative: late.")


class AgreementDetail(Agreement):
    targets_vs_actuals: list[TargetRow]
    review_due: bool
    log: LogRow
    commitments: list[CommitmentItem] = Field(description="Newest due first.")


class RelationshipTrust(BaseModel):
    provider: str
    customer: str
    kept: int
    exceeded: int
    missed: int
    warned: int
    trust: float
    trust_low: float
    trust_high: float


class Commitments(BaseModel):
    """The ``valuechain commitments --json`` document."""

    agreements: list[LogRow]
    relationships: list[RelationshipTrust]


class CustomerShare(BaseModel):
    customer: str
    share: float | None = Field(description="Items a week agreed; null: none agreed.")
    demand: float | None = Field(description="Items a week asked (the map's links).")
    over_share: bool
    negotiation: str | None = Field(description="The open negotiation's id.")


class ProvidedResult(BaseModel):
    result: str
    name: str
    capacity: float | None
    allocated: float
    unallocated: float | None
    overallocated: bool
    demand: float
    customers: list[CustomerShare]


class ReceivedResult(BaseModel):
    result: str
    provider: str
    demand: float
    share: float | None
    over_share: bool
    negotiation: str | None


class Negotiation(BaseModel):
    id: str
    result: str
    provider: str
    customer: str
    opened_at: str
    demand: float
    share: float
    state: str = Field(description="open, accepted, rescheduled or share_changed.")
    closed_at: str | None
    closed_by: str | None
    note: str | None


class Capacity(BaseModel):
    unit: str
    provides: list[ProvidedResult]
    receives: list[ReceivedResult]
    negotiations: list[Negotiation]


class DraftIn(BaseModel):
    """A new agreement, written by a lead of either side; it starts as a draft."""

    result_id: str = Field(max_length=200, description="Its producer is the provider.")
    customer_id: str = Field(max_length=200)
    targets: dict[Metric, float] = Field(description="At least one: percent or business hours.")
    obligations: list[str] = Field(default_factory=list, description="The customer's side.")
    calendar: str | None = Field(default=None, max_length=200)
    review_on: date | None = None
    channel: str | None = Field(default=None, max_length=300)
    cadence: str | None = Field(default=None, max_length=300)


class ShareIn(BaseModel):
    result_id: str = Field(description="A result the unit produces.")
    customer_id: str
    share: float = Field(ge=0, description="Items a week.")


class SettleIn(BaseModel):
    settlement: Settlement
    share: float | None = Field(default=None, ge=0, description="Only for share_changed.")
    note: str | None = Field(default=None, max_length=2000)


def actor_of(principal: Principal, request: Request) -> Actor:
    return Actor(principal.account_id, principal.email, client_address(request))


@router.get(
    "/units/{unit_id}/agreements",
    response_model=UnitAgreements,
    responses=NOT_FOUND,
    dependencies=UNIT_SUMMARY,
    summary="A unit's agreements, as provider and as customer",
)
def get_agreements(unit_id: str, vc: CurrentValuechain) -> dict[str, Any]:
    """Every agreement the unit is a side of, with its commitment log and trust;
    ``reviews_due`` shows on both sides."""
    vc.unit(unit_id)
    found = logs(vc, unit_id=unit_id)
    due = {
        a.id
        for a in agreements.reviews_due_of([x.agreement for x in found], datetime.now(UTC).date())
    }
    return {
        "unit": unit_id,
        "agreements": [
            {
                **agreements.as_json(x.agreement),
                "review_due": x.agreement.id in due,
                "log": log_json(x),
            }
            for x in found
        ],
        "reviews_due": sorted(due),
    }


@router.get(
    "/units/{unit_id}/agreements/{agreement_id}",
    response_model=AgreementDetail,
    responses=NOT_FOUND,
    dependencies=UNIT_SUMMARY,
    summary="One agreement: obligations, targets vs actuals, commitment timeline",
)
def get_agreement(unit_id: str, agreement_id: str, vc: CurrentValuechain) -> dict[str, Any]:
    """The agreement as seen from one of its sides."""
    return agreement_detail(vc, agreement_id, unit_id)


def _step(
    step: str,
    unit_id: str,
    agreement_id: str,
    vc: Valuechain,
    principal: Principal,
    request: Request,
) -> dict[str, Any]:
    getattr(agreements, step)(vc, agreement_id, unit_id, actor_of(principal, request))
    return agreement_detail(vc, agreement_id, unit_id)


@router.post(
    "/units/{unit_id}/agreements",
    response_model=AgreementDetail,
    status_code=201,
    responses=REFUSED_STEP,
    summary="Draft a new agreement",
)
def post_draft(
    unit_id: str, body: DraftIn, vc: CurrentValuechain, principal: Acting, request: Request
) -> dict[str, Any]:
    """A draft between the producer of ``result_id`` and ``customer_id`` (the unit is
    one of them); propose it next. 409 when the pair or a target is not acceptable."""
    made = agreements.draft(
        vc, unit_id, actor_of(principal, request), result_id=body.result_id,
        customer_id=body.customer_id, targets=dict(body.targets),
        obligations=tuple(body.obligations), calendar=body.calendar,
        review_on=body.review_on, channel=body.channel, cadence=body.cadence,
    )  # fmt: skip
    return agreement_detail(vc, made.id, unit_id)


@router.post(
    "/units/{unit_id}/agreements/{agreement_id}/propose",
    response_model=AgreementDetail,
    responses=REFUSED_STEP,
    summary="Propose an agreement to both leads",
)
def post_propose(
    unit_id: str, agreement_id: str, vc: CurrentValuechain, principal: Acting, request: Request
) -> dict[str, Any]:
    """A draft (or an agreement under review) goes to both leads; consent given
    before lapses."""
    return _step("propose", unit_id, agreement_id, vc, principal, request)


@router.post(
    "/units/{unit_id}/agreements/{agreement_id}/agree",
    response_model=AgreementDetail,
    responses=REFUSED_STEP,
    summary="Agree for the unit's side",
)
def post_agree(
    unit_id: str, agreement_id: str, vc: CurrentValuechain, principal: Acting, request: Request
) -> dict[str, Any]:
    """The unit's lead agrees; the agreement is agreed once both sides have."""
    return _step("agree", unit_id, agreement_id, vc, principal, request)


@router.post(
    "/units/{unit_id}/agreements/{agreement_id}/review",
    response_model=AgreementDetail,
    responses=REFUSED_STEP,
    summary="Ask to review an agreement",
)
def post_review(
    unit_id: str, agreement_id: str, vc: CurrentValuechain, principal: Acting, request: Request
) -> dict[str, Any]:
    """An agreed agreement goes under review; its terms hold until both agree again."""
    return _step("review", unit_id, agreement_id, vc, principal, request)


@router.get(
    "/commitments",
    response_model=Commitments,
    dependencies=[allow(Action.VIEW_ALL_COMMITMENTS)],
    summary="The commitment log and trust of every agreement",
)
def get_commitments(vc: CurrentValuechain) -> dict[str, Any]:
    """Per agreement the ended commitments by outcome and trust; per relationship its
    trust (see docs/agree.md for the formula)."""
    return commitments_document(vc)


@router.get(
    "/units/{unit_id}/capacity",
    response_model=Capacity,
    responses=NOT_FOUND,
    dependencies=UNIT_SUMMARY,
    summary="A unit's capacity shares and demand, both ways",
)
def get_capacity(unit_id: str, vc: CurrentValuechain) -> dict[str, Any]:
    """As a provider: capacity, shares and each customer's demand; as a customer: its
    demand against its providers' shares; the negotiations of either side."""
    return capacities.capacity(vc, unit_id)


@router.put(
    "/units/{unit_id}/capacity/shares",
    response_model=Capacity,
    responses={**NOT_FOUND, 400: {"model": Problem, "description": "A bad share"}},
    summary="Set the share of a result agreed with a customer",
)
def put_share(
    unit_id: str, body: ShareIn, vc: CurrentValuechain, principal: Acting, request: Request
) -> dict[str, Any]:
    """The provider sets a customer's weekly share; demand above it opens a negotiation."""
    capacities.set_share(
        vc, unit_id, body.result_id, body.customer_id, body.share, actor_of(principal, request)
    )
    return capacities.capacity(vc, unit_id)


@router.post(
    "/units/{unit_id}/negotiations/{negotiation_id}",
    response_model=Negotiation,
    responses={**NOT_FOUND, 409: {"model": Problem, "description": "Already settled or bad"}},
    summary="Settle a negotiation",
)
def post_settle(
    unit_id: str,
    negotiation_id: str,
    body: SettleIn,
    vc: CurrentValuechain,
    principal: Acting,
    request: Request,
) -> dict[str, Any]:
    """Either side's lead settles: accepted, rescheduled, or share_changed (with the
    new share)."""
    return capacities.settle(
        vc,
        unit_id,
        negotiation_id,
        body.settlement,
        actor_of(principal, request),
        share=body.share,
        note=body.note,
    )


class Satisfaction(BaseModel):
    """The relationship's protected survey cell (never a suppressed one)."""

    instrument: str
    n: int
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    scale: list[int]


class WatermelonRow(BaseModel):
    provider: str
    customer: str
    agreements: list[str]
    commitments_ended: int
    on_time_pct: float | None
    on_time_target: float
    targets_met: bool | None = Field(description="null: fewer than 3 ended commitments.")
    satisfaction: Satisfaction | None
    suppressed: bool = Field(description="The survey cell exists but is below the threshold.")
    mood: str | None = Field(description="unhappy, neutral or happy (95% interval vs midpoint).")
    flag: str | None = Field(
        description="targets_met_customer_unhappy or targets_missed_customer_happy."
    )


class Watermelon(BaseModel):
    threshold: int
    campaign: str | None
    relationships: list[WatermelonRow]


@router.get(
    "/units/{unit_id}/watermelon",
    response_model=Watermelon,
    responses=NOT_FOUND,
    dependencies=[allow(Action.VIEW_UNIT_RESULTS, unit_param="unit_id")],
    summary="Targets met against customer satisfaction, per relationship",
)
def get_watermelon(unit_id: str, vc: CurrentValuechain) -> dict[str, Any]:
    """The unit's relationships with an agreement: commitment compliance next to the
    protected satisfaction of the latest campaign, flagged where they disagree."""
    vc.unit(unit_id)
    return watermelon(vc, unit_id=unit_id)


class RecordIn(BaseModel):
    due_at: datetime = Field(description="The due item's time (ISO 8601, with offset).")
    event: Literal["delivered", "warned"] = Field(
        description="delivered now, or warned now that it will be late."
    )


@router.post(
    "/units/{unit_id}/agreements/{agreement_id}/commitments",
    response_model=CommitmentItem,
    responses={**NOT_FOUND, 409: {"model": Problem, "description": "Cannot be recorded"}},
    summary="Record a delivery or an early warning",
)
def post_commitment(
    unit_id: str,
    agreement_id: str,
    body: RecordIn,
    vc: CurrentValuechain,
    principal: Acting,
    request: Request,
) -> dict[str, Any]:
    """The provider's lead records, now, that a due item was delivered or that the
    customer is warned it will be late (a warning counts only before the due time)."""
    due = body.due_at if body.due_at.tzinfo else body.due_at.replace(tzinfo=UTC)
    return record(
        vc,
        agreement_id,
        due,
        unit_id,
        actor_of(principal, request),
        delivered=body.event == "delivered",
        warned=body.event == "warned",
    )
