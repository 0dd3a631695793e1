"""Capability 7, Connect, as JSON.

* ``GET /api/v1/connect`` — every internal relationship's line of sight to the
  external customers and the internal-focus flags: map knowledge, so every
  signed-in role may read it (``view_map``); it carries no survey number.
* ``GET /api/v1/units/{unit_id}/connect`` — one provider unit's relationships with
  their paths and, per outcome metric, the correlation of the relationship's
  published scores with the external customers' outcomes: results about the unit,
  so ``view_unit_results`` for that unit.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from valuechain.domain.access import Action
from valuechain.edge.dependencies import CurrentValuechain, allow
from valuechain.edge.errors import NOT_FOUND
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.edge.paging import next_link
from valuechain.services.connect import connect
from valuechain.services.connect_types import ConnectOut, ConnectPage

router = APIRouter(route_class=IdempotentRoute, tags=["connect"])


#: Relationships per page by default and at most: a row is about 0.3 kB plus 20
#: bytes per external customer it serves.
CONNECT_LIMIT, CONNECT_LIMIT_MAX = 500, 5000


@router.get(
    "/connect",
    response_model=ConnectPage,
    response_model_exclude_none=False,
    dependencies=[allow(Action.VIEW_MAP)],
    summary="Line of sight of the internal relationships, a page",
)
def get_connect(
    request: Request,
    vc: CurrentValuechain,
    limit: Annotated[
        int, Query(ge=1, le=CONNECT_LIMIT_MAX, description="At most this many relationships.")
    ] = CONNECT_LIMIT,
    offset: Annotated[int, Query(ge=0, description="Position of the first relationship.")] = 0,
) -> ConnectPage:
    """One page of the internal relationships' line of sight to the external
    customers, their totals, and the units with internal focus (no survey numbers)."""
    doc = connect(vc, over_time=False, offset=offset, limit=limit)
    follow = next_link(request, offset, limit, doc["total"]["relationships"])
    return {**doc, "offset": offset, "limit": limit, "next": follow}


@router.get(
    "/units/{unit_id}/connect",
    response_model=ConnectOut,
    responses=NOT_FOUND,
    dependencies=[allow(Action.VIEW_UNIT_RESULTS, unit_param="unit_id")],
    summary="A unit's line of sight and scores against outcomes",
)
def get_unit_connect(unit_id: str, vc: CurrentValuechain) -> ConnectOut:
    """The unit's relationships as a provider, with paths and, per outcome metric,
    the correlation of their published scores with the external customers' outcomes."""
    return connect(vc, unit_id)
