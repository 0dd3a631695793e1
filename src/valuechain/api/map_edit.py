"""Capability 1, the Map, written through the API: a unit's results, and links built
by both sides (docs/map.md, "Building the map together").

Every write is under ``/units/{unit_id}/…`` and needs ``edit_map_of_unit`` for that
unit: its own lead, or an admin. The unit acts for its side of a link (the producer of
the result, or the customer). Fields are checked by the importer's rules: a 422 names
the column in ``errors`` as ``valuechain import`` would. ``GET /links`` lists the links
waiting for an answer or disputed: all of them for admins, those touching their own
unit for everyone else signed in with a unit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from pydantic.config import JsonDict

from valuechain.domain.access import Action, Principal
from valuechain.domain.account import AccountRole
from valuechain.domain.link import LinkState, Relation
from valuechain.domain.result import ResultKind
from valuechain.edge.dependencies import AccessRule, CurrentValuechain, client_address
from valuechain.edge.errors import Problem
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services import map_edit
from valuechain.services.audit import Actor

router = APIRouter(route_class=IdempotentRoute, tags=["map"])

# The schema documents what the importer accepts; the importer itself decides (its
# answer is a 422 naming the column), so these are documentation, not checks.
TEXT: JsonDict = {"pattern": r"\S"}  # a cell of only spaces is empty
# ... and a cell given through the API holds no control character (docs/map.md).
_C = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f"
CELL: JsonDict = {"pattern": f"^[^{_C}]*[^\\s{_C}][^{_C}]*$"}
KINDS: JsonDict = {"enum": [k.value for k in ResultKind]}
RELATIONS: JsonDict = {"enum": [r.value for r in Relation]}
AT_LEAST_ZERO: JsonDict = {"minimum": 0}
ABOVE_ZERO: JsonDict = {"exclusiveMinimum": 0}

Editing = Annotated[Principal, Depends(AccessRule(Action.EDIT_MAP_OF_UNIT, unit_param="unit_id"))]
Reading = Annotated[Principal, Depends(AccessRule(Action.VIEW_MAP))]
REFUSED: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such unit, result or link"},
    409: {"model": Problem, "description": "Taken, in use, no side of it, or already answered"},
}


class ResultFields(BaseModel):
    """A result's columns as in ``results.csv`` (its unit is the one in the path)."""

    name: str = Field(max_length=300, json_schema_extra=CELL)
    kind: str = Field(
        max_length=50,
        description="finished, intermediate or byproduct (checked as on import)",
        json_schema_extra=KINDS,
    )
    capacity: float | None = Field(
        default=None, description="Items per week.", json_schema_extra=AT_LEAST_ZERO
    )
    cost_per_item: float | None = None
    revenue_per_item: float | None = None


class NewResult(ResultFields):
    id: str = Field(
        max_length=200,
        description="Unique among the organisation's results.",
        json_schema_extra=CELL,
    )


class ResultOut(BaseModel):
    id: str
    unit_id: str
    name: str
    kind: str
    capacity: float | None
    cost_per_item: float | None
    revenue_per_item: float | None


class ResultRemoved(BaseModel):
    removed: str
    links_removed: int


class LinkKeyIn(BaseModel):
    """Which link: links have no id of their own."""

    result_id: str = Field(max_length=200, json_schema_extra=CELL)
    customer_id: str = Field(max_length=200, json_schema_extra=CELL)
    relation: str = Field(
        max_length=50,
        description="pays, consumes, adds_to or depends_on",
        json_schema_extra=RELATIONS,
    )


class NewLink(LinkKeyIn):
    """A link as in ``links.csv``."""

    demand: float | None = Field(
        default=None, description="Items per week.", json_schema_extra=AT_LEAST_ZERO
    )
    per_item: float | None = Field(
        default=None,
        description="Consumes links only: items of the result one item of the customer needs.",
        json_schema_extra=ABOVE_ZERO,
    )


class Dispute(LinkKeyIn):
    reason: str = Field(
        min_length=1, max_length=2000, description="Why it is not so.", json_schema_extra=TEXT
    )


class LinkOut(BaseModel):
    """A link with its state and who declared and answered it."""

    result_id: str
    customer_id: str
    relation: Relation
    demand: float | None
    per_item: float | None
    state: str = Field(description="confirmed, proposed, disputed (withdrawn: just removed)")
    provider: str = Field(description="The unit producing the result.")
    proposed_side: str | None = Field(description="The unit whose lead declared it.")
    proposed_by: str | None
    proposed_at: datetime | None
    answered_by: str | None
    answered_at: datetime | None
    reason: str | None = Field(description="Why it was disputed.")


class OpenLinks(BaseModel):
    links: list[LinkOut]


def _actor(principal: Principal, request: Request) -> Actor:
    return Actor(principal.account_id, principal.email, client_address(request))


def _admin(principal: Principal) -> bool:
    return principal.role is AccountRole.ADMIN


@router.post(
    "/units/{unit_id}/results",
    response_model=ResultOut,
    status_code=201,
    responses=REFUSED,
    summary="Add a result the unit produces",
)
def post_result(
    unit_id: str, body: NewResult, vc: CurrentValuechain, principal: Editing, request: Request
) -> dict[str, Any]:
    """Checked as a row of ``results.csv``; 409 when the id is taken."""
    return map_edit.save_result(vc, unit_id, body.model_dump(), _actor(principal, request))


@router.put(
    "/units/{unit_id}/results/{result_id}",
    response_model=ResultOut,
    responses=REFUSED,
    summary="Change one of the unit's results",
)
def put_result(
    unit_id: str,
    result_id: str,
    body: ResultFields,
    vc: CurrentValuechain,
    principal: Editing,
    request: Request,
) -> dict[str, Any]:
    """All columns at once, checked as a row of ``results.csv``; the leads of the
    units using it are told."""
    return map_edit.save_result(
        vc, unit_id, body.model_dump(), _actor(principal, request), result_id=result_id
    )


@router.delete(
    "/units/{unit_id}/results/{result_id}",
    response_model=ResultRemoved,
    responses=REFUSED,
    summary="Remove one of the unit's results",
)
def delete_result(
    unit_id: str, result_id: str, vc: CurrentValuechain, principal: Editing, request: Request
) -> dict[str, Any]:
    """With every link to it; 409 while an agreement or capacity share refers to it."""
    return map_edit.remove_result(vc, unit_id, result_id, _actor(principal, request))


@router.post(
    "/units/{unit_id}/links",
    response_model=LinkOut,
    status_code=201,
    responses=REFUSED,
    summary="Declare a link between a result and a customer",
)
def post_link(
    unit_id: str, body: NewLink, vc: CurrentValuechain, principal: Editing, request: Request
) -> dict[str, Any]:
    """The unit is the result's producer or the customer; a lead's link is proposed
    until the other side's lead answers, an admin's is confirmed."""
    return map_edit.propose_link(
        vc, unit_id, body.model_dump(), _actor(principal, request), admin=_admin(principal)
    )


@router.post(
    "/units/{unit_id}/links/confirm",
    response_model=LinkOut,
    responses=REFUSED,
    summary="Confirm a link the other side proposed",
)
def post_confirm(
    unit_id: str, body: LinkKeyIn, vc: CurrentValuechain, principal: Editing, request: Request
) -> dict[str, Any]:
    """A proposed (or disputed) link joins the map."""
    return map_edit.answer_link(
        vc, unit_id, map_edit.key_of(body.model_dump()), _actor(principal, request),
        admin=_admin(principal), confirm=True,
    )  # fmt: skip


@router.post(
    "/units/{unit_id}/links/dispute",
    response_model=LinkOut,
    responses=REFUSED,
    summary="Dispute a link the other side proposed",
)
def post_dispute(
    unit_id: str, body: Dispute, vc: CurrentValuechain, principal: Editing, request: Request
) -> dict[str, Any]:
    """ "Not us", with a reason: the link stays off the map and on the disputes list."""
    return map_edit.answer_link(
        vc, unit_id, map_edit.key_of(body.model_dump()), _actor(principal, request),
        admin=_admin(principal), confirm=False, reason=body.reason,
    )  # fmt: skip


@router.post(
    "/units/{unit_id}/links/withdraw",
    response_model=LinkOut,
    responses=REFUSED,
    summary="Withdraw a link the unit proposed",
)
def post_withdraw(
    unit_id: str, body: LinkKeyIn, vc: CurrentValuechain, principal: Editing, request: Request
) -> dict[str, Any]:
    """A proposed or disputed link is removed; its state is answered as withdrawn."""
    return map_edit.withdraw_link(
        vc, unit_id, map_edit.key_of(body.model_dump()), _actor(principal, request),
        admin=_admin(principal),
    )  # fmt: skip


@router.get("/links", response_model=OpenLinks, summary="Links waiting for an answer, or disputed")
def get_links(
    vc: CurrentValuechain,
    principal: Reading,
    state: Annotated[
        LinkState | None, Query(description="proposed or disputed; both when not given")
    ] = None,
) -> dict[str, Any]:
    """Admins see every open link; others those their own unit is a side of.
    ``state=confirmed`` lists nothing: confirmed links are on ``/map``."""
    asked: tuple[str, ...] = map_edit.OPEN_STATES if state is None else (state.value,)
    states = [s for s in asked if s in map_edit.OPEN_STATES]
    links = map_edit.open_links(vc, states, unit_id=principal.unit_id, everything=_admin(principal))
    return {"links": links}
