"""Capability 7, Connect, on the unit page: the unit's line of sight to the external
customers, loaded into the page (HTMX). The line of sight is map knowledge; the
correlation of scores with outcomes is shown only to those who may see the unit's
results (``view_unit_results``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from valuechain.domain.access import Action, Principal
from valuechain.edge.dependencies import AccessRule, CurrentValuechain
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services.access import may
from valuechain.services.connect import connect
from valuechain.web.templating import templates

router = APIRouter(route_class=IdempotentRoute, include_in_schema=False)
MapReader = Annotated[Principal, Depends(AccessRule(Action.VIEW_MAP))]


@router.get("/units/{unit_id}/connect", response_class=HTMLResponse)
def unit_connect(
    unit_id: str, request: Request, vc: CurrentValuechain, principal: MapReader
) -> Response:
    """The unit's internal relationships with their paths to the external customers
    and, for readers of its results, whether their scores move with the outcomes."""
    results = may(vc, principal, Action.VIEW_UNIT_RESULTS, unit_id)
    doc = connect(vc, unit_id, over_time=results)
    return templates.TemplateResponse(
        request, "connect/_unit.html", {"doc": doc, "results": results}
    )
