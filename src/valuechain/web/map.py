"""Capability 1, the Map, as pages: the organisation graph, the units index, a unit,
and what changed about a unit's results and links."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from valuechain.api import PREFIX as API_PREFIX
from valuechain.domain.access import Action
from valuechain.domain.link import Relation
from valuechain.domain.unit import UnitKind
from valuechain.edge.dependencies import CurrentValuechain, allow, current_principal
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.edge.map import unit_detail, unit_rows
from valuechain.services import history
from valuechain.services.partner.view import hero_and_sidekick
from valuechain.web.templating import templates

router = APIRouter(
    route_class=IdempotentRoute, include_in_schema=False, dependencies=[allow(Action.VIEW_MAP)]
)

# Up to this many units the graph draws every unit (docs/benchmarks.md: 2,000 are
# interactive within 2 s); beyond it the page opens at department level
# (``/api/v1/map/departments``) and draws a department's units when it is clicked.
GRAPH_UNIT_LIMIT = 3000
# Rows rendered at once in a table; the search narrows the rest down.
TABLE_ROW_LIMIT = 500
KINDS = tuple(k.value for k in UnitKind)
RELATIONS = tuple(r.value for r in Relation)


@router.get("/", response_class=HTMLResponse)
@router.get("/map", response_class=HTMLResponse)
def map_page(
    request: Request, vc: CurrentValuechain, level: Annotated[str, Query(max_length=20)] = ""
) -> Response:
    """The organisation graph (drawn in the browser from ``/api/v1/map``) with its
    filter, legend, view options and side panel, and the same units as a plain
    table; above :data:`GRAPH_UNIT_LIMIT` units, or with ``level=department``, the
    graph opens at department level."""
    page = unit_rows(vc, limit=TABLE_ROW_LIMIT)
    return templates.TemplateResponse(
        request,
        "map/map.html",
        {
            "nav": "map",
            "page": page,
            "relations": RELATIONS,
            "kinds": KINDS,
            "api": API_PREFIX,
            "graph_limit": GRAPH_UNIT_LIMIT,
            "department_level": level == "department",
        },
    )


@router.get("/units", response_class=HTMLResponse)
def units_page(
    request: Request,
    vc: CurrentValuechain,
    q: Annotated[str, Query()] = "",
    kind: Annotated[str, Query()] = "",
) -> Response:
    """The units index; an HTMX request gets only the table rows, so typing in the
    search box updates the table without reloading the page."""
    chosen = kind if kind in KINDS else ""
    page = unit_rows(vc, q, UnitKind(chosen) if chosen else None, TABLE_ROW_LIMIT)
    context = {"nav": "units", "page": page, "q": q, "kind": chosen, "kinds": KINDS}
    # A history restore also carries HX-Request but needs the whole page.
    partial = (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )
    template = "map/_unit_results.html" if partial else "map/units.html"
    response = templates.TemplateResponse(request, template, context)
    # The same URL answers with a fragment or a page, so caches must key on the header.
    response.headers["Vary"] = "HX-Request"
    return response


@router.get("/units/{unit_id}", response_class=HTMLResponse)
def unit_page(
    unit_id: str,
    request: Request,
    vc: CurrentValuechain,
    customers_page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    """One unit: who helps it succeed and whom it helps (each relationship's score and
    health where the viewer may see them), its results, customers (direct and
    indirect, one page of :data:`CUSTOMERS_PER_PAGE` each at a time), suppliers and
    paths to the external customers; a friendly 404 page for an unknown id."""
    detail = unit_detail(vc, unit_id, customers_page)
    # The page's access rule has found the principal already (cached on the request).
    principal = current_principal(request, vc)
    roles = None
    if principal is not None:
        # The customers of this page of the customer table (a universal service has
        # thousands), and every supplier.
        roles = hero_and_sidekick(
            vc,
            principal,
            unit_id,
            [s.unit for s in detail.suppliers],
            [d.unit for d in detail.customers.direct],
        )
    return templates.TemplateResponse(
        request, "map/unit.html", {"nav": "units", "unit": detail, "roles": roles}
    )


@router.get("/units/{unit_id}/history", response_class=HTMLResponse)
def unit_history_page(unit_id: str, request: Request, vc: CurrentValuechain) -> Response:
    """What changed about the unit's results and links, newest first: what, who (a
    name) and when (:func:`valuechain.services.history.unit_history`)."""
    doc = history.unit_history(vc, unit_id)
    return templates.TemplateResponse(request, "map/history.html", {"nav": "units", "history": doc})
