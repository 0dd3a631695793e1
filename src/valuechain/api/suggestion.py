"""Capability 1, the Map: links the data suggests (docs/map.md, "Suggestions").

A unit's lead (or an admin) lists the suggested links the unit is a side of, accepts
one (the link is proposed exactly as ``POST /units/{unit_id}/links`` proposes it) or
dismisses it for good. Admins also list every suggestion of the organisation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from valuechain.api.map_edit import LinkOut
from valuechain.domain.access import Action, Principal
from valuechain.domain.account import AccountRole
from valuechain.edge.dependencies import AccessRule, CurrentValuechain, client_address
from valuechain.edge.errors import Problem
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.edge.paging import next_link
from valuechain.services import suggestion
from valuechain.services.audit import Actor

router = APIRouter(route_class=IdempotentRoute, tags=["map"])

Editing = Annotated[Principal, Depends(AccessRule(Action.EDIT_MAP_OF_UNIT, unit_param="unit_id"))]
Everyone = Annotated[Principal, Depends(AccessRule(Action.FACILITATE))]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Limit = Annotated[int, Query(ge=1, le=suggestion.MAX_PAGE)]
REFUSED: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such unit, or no such suggestion for it"},
    409: {"model": Problem, "description": "The link exists already"},
}
ID = Field(max_length=200, pattern=r"\S")


class SuggestedAgreement(BaseModel):
    id: str
    state: str
    result_id: str
    result_name: str


class ResultChoice(BaseModel):
    id: str
    name: str


class Suggestion(BaseModel):
    """A customer (A) the data shows the provider (B) serves, with no link from any of
    B's results to A."""

    provider: str = Field(description="B, the unit whose result would be linked.")
    provider_name: str
    customer: str = Field(description="A, the customer unit.")
    customer_name: str
    requests: int = Field(description="Requests A filed to B.")
    first_request: datetime | None
    last_request: datetime | None
    campaigns: int = Field(
        description="Closed campaigns in which A's rating of B is published (no "
        "respondent count and no score is given)."
    )
    agreements: list[SuggestedAgreement]
    evidence: list[str] = Field(description="The evidence in words, one part per source.")
    sentence: str = Field(description="The evidence as one sentence.")
    results: list[ResultChoice] = Field(description="B's results, one to pick when accepting.")


class SuggestionPage(BaseModel):
    total: int
    offset: int
    limit: int
    next: str | None = Field(description="The next page, or null on the last one.")
    suggestions: list[Suggestion]


class Pair(BaseModel):
    provider_id: str = ID
    customer_id: str = ID


class Acceptance(Pair):
    result_id: str = Field(max_length=200, description="One of the provider's results.")
    relation: str = Field(max_length=50, description="pays, consumes, adds_to or depends_on")


class Dismissed(BaseModel):
    provider: str
    customer: str
    dismissed: bool


def _actor(principal: Principal, request: Request) -> Actor:
    return Actor(principal.account_id, principal.email, client_address(request))


def _page(request: Request, found: dict[str, Any]) -> dict[str, Any]:
    return {**found, "next": next_link(request, found["offset"], found["limit"], found["total"])}


@router.get(
    "/units/{unit_id}/suggestions",
    response_model=SuggestionPage,
    responses=REFUSED,
    summary="Links the data suggests for a unit",
)
def get_unit_suggestions(
    unit_id: str,
    vc: CurrentValuechain,
    _: Editing,
    request: Request,
    offset: Offset = 0,
    limit: Limit = 50,
) -> dict[str, Any]:
    """Pairs the unit is a side of (as provider or customer) where requests, published
    survey ratings or agreements show a relationship the map has no link for; most
    requests first."""
    return _page(request, suggestion.suggestions(vc, unit_id, offset=offset, limit=limit))


@router.get(
    "/suggestions",
    response_model=SuggestionPage,
    summary="Every link the data suggests (admins)",
)
def get_suggestions(
    vc: CurrentValuechain, _: Everyone, request: Request, offset: Offset = 0, limit: Limit = 50
) -> dict[str, Any]:
    """The organisation's suggestions, most requests first, a page at a time."""
    return _page(request, suggestion.suggestions(vc, None, offset=offset, limit=limit))


@router.post(
    "/units/{unit_id}/suggestions/accept",
    response_model=LinkOut,
    status_code=201,
    responses=REFUSED,
    summary="Accept a suggestion: propose the link",
)
def post_accept(
    unit_id: str, body: Acceptance, vc: CurrentValuechain, principal: Editing, request: Request
) -> dict[str, Any]:
    """The unit (either side) proposes the link from the provider's result to the
    customer with the relation picked; the other side's leads are notified. An admin's
    link is confirmed at once."""
    return suggestion.accept(
        vc, unit_id, body.provider_id, body.customer_id, body.result_id, body.relation,
        _actor(principal, request), admin=principal.role is AccountRole.ADMIN,
    )  # fmt: skip


@router.post(
    "/units/{unit_id}/suggestions/dismiss",
    response_model=Dismissed,
    responses=REFUSED,
    summary="Dismiss a suggestion for good",
)
def post_dismiss(
    unit_id: str, body: Pair, vc: CurrentValuechain, principal: Editing, request: Request
) -> dict[str, Any]:
    """The pair is not suggested again, to either side (an audit event records it)."""
    return suggestion.dismiss(
        vc, unit_id, body.provider_id, body.customer_id, _actor(principal, request)
    )
