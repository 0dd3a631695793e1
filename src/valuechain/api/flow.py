"""Capability 6, Flow, as JSON: ``GET /api/v1/flow`` is the ``valuechain flow --json``
document (extra keys allowed), with ``what_if`` query parameters as ``--what-if``.

The flow of the chain is organisation-wide knowledge, like the map it is drawn from:
every signed-in role may read it (``view_map``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, StringConstraints

from valuechain.domain.access import Action
from valuechain.edge.dependencies import CurrentValuechain, allow
from valuechain.edge.errors import Problem
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services.flow import flow as flow_of

router = APIRouter(
    route_class=IdempotentRoute, tags=["flow"], dependencies=[allow(Action.VIEW_MAP)]
)

PER_WEEK = "Items per week"


class Stage(BaseModel):
    """A result along the chain: capacity, demand, flow and work piling up, per week."""

    id: str = Field(description="The result's id.")
    name: str
    unit: str = Field(description="Id of the producing unit.")
    unit_name: str
    step: int = Field(description="Steps from where items enter the chain.")
    steps_to_customer: int = Field(description="Steps to the paying external customers.")
    capacity: float | None = Field(description=f"{PER_WEEK}; null: unlimited.")
    demand: float | None = Field(description=f"{PER_WEEK} its customers ask; null: unbounded.")
    flow: float | None = Field(description=f"{PER_WEEK} through it in the maximum flow.")
    utilization: float | None = Field(description="flow / capacity; null: unlimited.")
    load: float | None = Field(description="demand / capacity; null when either is unknown.")
    idle: float | None = Field(description="Capacity not used; null: unlimited.")
    arrivals: float | None = Field(description=f"{PER_WEEK} arriving when work is pushed.")
    inventory_growth: float | None = Field(description="Arrivals beyond capacity, per week.")
    delivered: float | None = Field(description=f"{PER_WEEK} handed to external customers.")
    cost_per_item: float | None
    revenue_per_item: float | None
    bottleneck: bool
    assembly: bool = Field(
        default=False, description="Combines its inputs in fixed proportions (per_item)."
    )


class Delivery(BaseModel):
    """A result the external customers pay for: what they ask and what they get."""

    id: str
    name: str
    customers: list[str] = Field(description="Ids of the paying external customers.")
    demand: float | None = Field(
        description=f"{PER_WEEK} they ask; null: unlimited (one of them states no demand)."
    )
    delivered: float | None


class Money(BaseModel):
    """Throughput accounting, per week."""

    revenue: float | None
    variable_cost: float | None
    throughput: float | None = Field(description="Revenue minus truly variable cost.")


class MoneyChange(BaseModel):
    before: Money
    after: Money
    delta: Money


class ChangeIn(BaseModel):
    id: str
    change: str = Field(description="`capacity` or `cost`.")
    percent: float


class Wasted(BaseModel):
    """Capacity a what-if adds to a stage and how much of it the chain can use."""

    id: str
    added_capacity: float | None
    used: float | None
    wasted: float | None


class Growth(BaseModel):
    id: str
    name: str
    growth: float | None


class WhatIfOut(BaseModel):
    """How the changed chain compares with today's."""

    changes: list[ChangeIn]
    throughput_before: float | None
    throughput_after: float | None
    throughput_change: float | None
    throughput_change_pct: float | None
    bottleneck_before: str | None
    bottleneck_after: str | None
    new_bottleneck: str | None
    bottlenecks_before: list[str]
    unbounded_before: bool
    wasted_capacity: list[Wasted]
    inventory_growth: list[Growth]
    money: MoneyChange
    summary_before: str


class FlowOut(BaseModel):
    """The ``valuechain flow --json`` document; with what-ifs it describes the changed
    chain and ``what_if`` compares it with today's."""

    throughput: float | None = Field(description=f"{PER_WEEK} the external customers pay for.")
    demand: float | None = Field(
        description=f"{PER_WEEK} the external customers ask; null: unlimited (one of them "
        "states no demand)."
    )
    demand_bound: bool
    bottleneck: str | None
    bottlenecks: list[str]
    stages: list[Stage]
    deliveries: list[Delivery]
    money: Money
    unbounded: bool = Field(
        description="Some path to a paying customer has no limit: throughput and money are null."
    )
    unlimited_path: list[str] = Field(
        description="The results along that path, from where items enter (empty when bounded)."
    )
    summary: str
    what_if: WhatIfOut | None


# What a what-if looks like, for the schema: a result id (no whitespace, spelled out as
# the characters Python's ``\s`` matches, since schema validators disagree on ``\s``),
# then a change from -100% to +1000000% (services.flow.SPEC and its range). A request
# the schema allows is then one the service can read (found by schemathesis).
_NOT_SPACE = r"[^=\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
WHAT_IF_PATTERN = (
    rf"^{_NOT_SPACE}+="
    r"(\+([0-9]{1,6}(\.[0-9]+)?|1000000(\.0+)?)|-([0-9]{1,2}(\.[0-9]+)?|100(\.0+)?))"
    r"%(cost|capacity)?$"
)


@router.get(
    "/flow",
    response_model=FlowOut,
    responses={
        400: {"model": Problem, "description": "A what-if that cannot be read"},
        404: {"model": Problem, "description": "A what-if names an unknown result"},
    },
    summary="Throughput, bottleneck and what-if",
)
def get_flow(
    vc: CurrentValuechain,
    what_if: Annotated[
        list[Annotated[str, StringConstraints(pattern=WHAT_IF_PATTERN)]] | None,
        Query(description="`RESULT=+20%` (capacity) or `RESULT=-10%cost`; repeat for more."),
    ] = None,
) -> dict[str, Any]:
    """Throughput to the paying external customers, the bottleneck, every stage's
    capacity, demand, utilisation and inventory growth, and money per week."""
    return flow_of(vc, what_if or [])
