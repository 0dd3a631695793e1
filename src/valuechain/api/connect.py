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

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from valuechain.domain.access import Action
from valuechain.edge.dependencies import CurrentValuechain, allow
from valuechain.edge.errors import NOT_FOUND
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.edge.paging import next_link
from valuechain.services.connect import connect

router = APIRouter(route_class=IdempotentRoute, tags=["connect"])


class OverTime(BaseModel):
    """Pearson's r of the relationship's scores with one outcome metric over months."""

    metric: str
    n: int = Field(description="Months with both a published score and an outcome.")
    r: float | None
    ci_low: float | None = Field(description="Fisher-z 95% interval of r.")
    ci_high: float | None
    p_value: float | None
    p_adjusted: float | None = Field(
        default=None, description="Holm-adjusted across every correlation of the answer."
    )
    moves_with: bool = Field(
        default=False, description="Passes Holm at 1%: the only correlations the summary names."
    )
    reason: str | None = Field(description="Why there is no r (e.g. too few periods).")


class PathOut(BaseModel):
    external: str
    path: list[str] = Field(description="Unit ids from the provider to the external customer.")
    length: int


class Relationship(BaseModel):
    """A result of an internal unit used by another internal unit."""

    provider: str
    provider_name: str
    result: str
    result_name: str
    customer: str
    customer_name: str
    relations: list[str]
    line_of_sight: bool
    length: int | None = Field(description="Arcs of the shortest path to an external customer.")
    external: list[str] = Field(description="The external customers it serves.")
    external_names: list[str] = Field(description="Their names, in the same order.")
    flags: list[str] = Field(description="`internal_focus` when it serves none.")
    paths: list[PathOut] | None = None
    over_time: list[OverTime] | None = None


class Focus(BaseModel):
    unit: str
    name: str
    reason: str


class OutcomesHeld(BaseModel):
    metrics: list[str]
    first_period: str | None
    last_period: str | None
    customers: int


class EntitlementFlag(BaseModel):
    """An internal target stricter than the strictest external customer on the line
    of sight asks for (seed 002)."""

    provider: str
    customer: str
    agreement: str
    metric: str
    target: float
    external_customer: str
    external_target: float
    excess: float


class Entitlement(BaseModel):
    assessed: bool
    note: str | None = Field(default=None, description="Why it was not assessed.")
    flags: list[EntitlementFlag] = Field(default_factory=list)


class ConnectTotals(BaseModel):
    relationships: int = Field(description="Internal relationships in the whole answer.")
    line_of_sight: int = Field(description="Of them, those with a line of sight.")


class ConnectOut(BaseModel):
    """The ``valuechain connect --json`` document."""

    unit: str | None
    min_periods: int = Field(description="Fewer paired months give no correlation.")
    outcomes: OutcomesHeld
    relationships: list[Relationship]
    total: ConnectTotals | None = None
    internal_focus: list[Focus]
    entitlement: Entitlement
    summary: str


class ConnectPage(ConnectOut):
    """One page of the relationships (``offset`` to ``offset + limit``, in result
    then customer order); ``total``, ``internal_focus``, ``entitlement`` and
    ``summary`` speak for the whole organisation on every page."""

    offset: int
    limit: int
    next: str | None = Field(description="The URL of the next page; null on the last page.")


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
) -> dict[str, Any]:
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
def get_unit_connect(unit_id: str, vc: CurrentValuechain) -> dict[str, Any]:
    """The unit's relationships as a provider, with paths and, per outcome metric,
    the correlation of their published scores with the external customers' outcomes."""
    return connect(vc, unit_id)
