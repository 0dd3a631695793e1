"""Capability 1, the Map: the links the data suggests, as a page for a unit's lead
(docs/map.md, "Suggestions"): each with its evidence in words, a form to accept it
(one of the provider's results, picked by name, and a relation) and one to dismiss it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from valuechain.domain.access import Action, Principal
from valuechain.domain.account import AccountRole
from valuechain.domain.link import Relation
from valuechain.edge.dependencies import AccessRule, CurrentValuechain, client_address
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services import suggestion
from valuechain.services.audit import Actor
from valuechain.services.errors import NotFound
from valuechain.web.templating import templates

router = APIRouter(route_class=IdempotentRoute, include_in_schema=False)
Editing = Annotated[Principal, Depends(AccessRule(Action.EDIT_MAP_OF_UNIT, unit_param="unit_id"))]
PER_PAGE = 20
ID = Form(max_length=200)


def _actor(principal: Principal, request: Request) -> Actor:
    return Actor(principal.account_id, principal.email, client_address(request))


def _back(unit_id: str) -> Response:
    return RedirectResponse(f"/units/{unit_id}/suggestions", status_code=303)


@router.get("/units/{unit_id}/suggestions", response_class=HTMLResponse)
def suggestions_page(
    request: Request,
    unit_id: str,
    vc: CurrentValuechain,
    _: Editing,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """The suggested links the unit is a side of, a page at a time, most requests
    first; a friendly 404 page for an unknown unit."""
    found = suggestion.suggestions(vc, unit_id, offset=offset, limit=PER_PAGE)
    names = vc.describe_units([unit_id])
    if unit_id not in names:  # pragma: no cover - the service refuses it first
        raise NotFound(f"no unit with id {unit_id!r}")
    return templates.TemplateResponse(
        request,
        "map/suggestions.html",
        {
            "nav": "units",
            "unit_id": unit_id,
            "unit_name": names[unit_id]["name"],
            "found": found,
            "relations": [r.value for r in Relation],
            "per_page": PER_PAGE,
        },
    )


@router.post("/units/{unit_id}/suggestions/accept", response_class=HTMLResponse)
def accept(
    request: Request,
    unit_id: str,
    vc: CurrentValuechain,
    principal: Editing,
    provider_id: Annotated[str, ID],
    customer_id: Annotated[str, ID],
    result_id: Annotated[str, ID],
    relation: Annotated[Relation, Form()],
) -> Response:
    """Propose the link picked (as the map's own link form does); back to the list,
    where the suggestion is gone."""
    suggestion.accept(
        vc, unit_id, provider_id, customer_id, result_id, relation.value,
        _actor(principal, request), admin=principal.role is AccountRole.ADMIN,
    )  # fmt: skip
    return _back(unit_id)


@router.post("/units/{unit_id}/suggestions/dismiss", response_class=HTMLResponse)
def dismiss(
    request: Request,
    unit_id: str,
    vc: CurrentValuechain,
    principal: Editing,
    provider_id: Annotated[str, ID],
    customer_id: Annotated[str, ID],
) -> Response:
    """Dismiss the suggestion for both sides, for good; back to the list."""
    suggestion.dismiss(vc, unit_id, provider_id, customer_id, _actor(principal, request))
    return _back(unit_id)
