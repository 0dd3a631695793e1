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
from valuechain.services.agreement_types import (
    AgreementDetail,
    Capacity,
    CommitmentItem,
    Commitments,
    Negotiation,
    UnitAgreements,
    Watermelon,
)
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
def get_agreements(unit_id: str, vc: CurrentValuechain) -> UnitAgreements:
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
def get_agreement(unit_id: str, agreement_id: str, vc: CurrentValuechain) -> AgreementDetail:
    """The agreement as seen from one of its sides."""
    return agreement_detail(vc, agreement_id, unit_id)


def _step(
    step: str,
    unit_id: str,
    agreement_id: str,
    vc: Valuechain,
    principal: Principal,
    request: Request,
) -> AgreementDetail:
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
) -> AgreementDetail:
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
) -> AgreementDetail:
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
) -> AgreementDetail:
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
) -> AgreementDetail:
    """An agreed agreement goes under review; its terms hold until both agree again."""
    return _step("review", unit_id, agreement_id, vc, principal, request)


@router.get(
    "/commitments",
    response_model=Commitments,
    dependencies=[allow(Action.VIEW_ALL_COMMITMENTS)],
    summary="The commitment log and trust of every agreement",
)
def get_commitments(vc: CurrentValuechain) -> Commitments:
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
def get_capacity(unit_id: str, vc: CurrentValuechain) -> Capacity:
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
) -> Capacity:
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
) -> Negotiation:
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


@router.get(
    "/units/{unit_id}/watermelon",
    response_model=Watermelon,
    responses=NOT_FOUND,
    dependencies=[allow(Action.VIEW_UNIT_RESULTS, unit_param="unit_id")],
    summary="Targets met against customer satisfaction, per relationship",
)
def get_watermelon(unit_id: str, vc: CurrentValuechain) -> Watermelon:
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
) -> CommitmentItem:
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
