"""The shapes the Flow capability's use case answers (``services.flow``), declared
once: mypy checks them from the service to the API, whose route uses them as its
response model.

``TypedDict`` comes from ``typing_extensions`` because Pydantic needs it there on
Python before 3.12.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict

PER_WEEK = "Items per week"


class Stage(TypedDict):
    """A result along the chain: capacity, demand, flow and work piling up, per week."""

    id: Annotated[str, Field(description="The result's id.")]
    name: str
    unit: Annotated[str, Field(description="Id of the producing unit.")]
    unit_name: str
    step: Annotated[int, Field(description="Steps from where items enter the chain.")]
    steps_to_customer: Annotated[int, Field(description="Steps to the paying external customers.")]
    capacity: Annotated[float | None, Field(description=f"{PER_WEEK}; null: unlimited.")]
    demand: Annotated[
        float | None, Field(description=f"{PER_WEEK} its customers ask; null: unbounded.")
    ]
    flow: Annotated[float | None, Field(description=f"{PER_WEEK} through it in the maximum flow.")]
    utilization: Annotated[float | None, Field(description="flow / capacity; null: unlimited.")]
    load: Annotated[
        float | None, Field(description="demand / capacity; null when either is unknown.")
    ]
    idle: Annotated[float | None, Field(description="Capacity not used; null: unlimited.")]
    arrivals: Annotated[
        float | None, Field(description=f"{PER_WEEK} arriving when work is pushed.")
    ]
    inventory_growth: Annotated[
        float | None, Field(description="Arrivals beyond capacity, per week.")
    ]
    delivered: Annotated[
        float | None, Field(description=f"{PER_WEEK} handed to external customers.")
    ]
    cost_per_item: float | None
    revenue_per_item: float | None
    bottleneck: bool
    assembly: Annotated[
        bool,
        Field(default=False, description="Combines its inputs in fixed proportions (per_item)."),
    ]


class Delivery(TypedDict):
    """A result the external customers pay for: what they ask and what they get."""

    id: str
    name: str
    customers: Annotated[list[str], Field(description="Ids of the paying external customers.")]
    demand: Annotated[
        float | None,
        Field(description=f"{PER_WEEK} they ask; null: unlimited (one of them states no demand)."),
    ]
    delivered: float | None


class Money(TypedDict):
    """Throughput accounting, per week."""

    revenue: float | None
    variable_cost: float | None
    throughput: Annotated[float | None, Field(description="Revenue minus truly variable cost.")]


class MoneyChange(TypedDict):
    before: Money
    after: Money
    delta: Money


class ChangeIn(TypedDict):
    id: str
    change: Annotated[str, Field(description="`capacity` or `cost`.")]
    percent: float


class Wasted(TypedDict):
    """Capacity a what-if adds to a stage and how much of it the chain can use."""

    id: str
    added_capacity: float | None
    used: float | None
    wasted: float | None


class Growth(TypedDict):
    id: str
    name: str
    growth: float | None


class WhatIfOut(TypedDict):
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


class FlowState(TypedDict):
    """The chain's maximum flow as :class:`FlowOut` states it, without a comparison."""

    throughput: Annotated[
        float | None, Field(description=f"{PER_WEEK} the external customers pay for.")
    ]
    demand: Annotated[
        float | None,
        Field(
            description=f"{PER_WEEK} the external customers ask; null: unlimited (one of "
            "them states no demand)."
        ),
    ]
    demand_bound: bool
    bottleneck: str | None
    bottlenecks: list[str]
    stages: list[Stage]
    deliveries: list[Delivery]
    money: Money
    unbounded: Annotated[
        bool,
        Field(
            description="Some path to a paying customer has no limit: throughput and money "
            "are null."
        ),
    ]
    unlimited_path: Annotated[
        list[str],
        Field(
            description="The results along that path, from where items enter (empty when bounded)."
        ),
    ]
    summary: str


class FlowOut(FlowState):
    """The ``valuechain flow --json`` document; with what-ifs it describes the changed
    chain and ``what_if`` compares it with today's."""

    what_if: WhatIfOut | None
