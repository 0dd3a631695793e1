"""The shapes the Connect capability's use case answers (``services.connect``),
declared once: mypy checks them from the service to the API, whose routes use them
as their response models.

A key the service leaves out where it does not apply (a row's ``paths`` outside one
unit's view, an entitlement's ``note`` once assessed) is ``NotRequired`` here and
answered with its default by the API, as its models did before.

``TypedDict`` comes from ``typing_extensions`` because Pydantic needs it there on
Python before 3.12.
"""

from __future__ import annotations

from typing import Annotated, NotRequired

from pydantic import Field
from typing_extensions import TypedDict


class OverTime(TypedDict):
    """Pearson's r of the relationship's scores with one outcome metric over months."""

    metric: str
    n: Annotated[int, Field(description="Months with both a published score and an outcome.")]
    r: float | None
    ci_low: Annotated[float | None, Field(description="Fisher-z 95% interval of r.")]
    ci_high: float | None
    p_value: float | None
    p_adjusted: NotRequired[
        Annotated[
            float | None,
            Field(
                default=None, description="Holm-adjusted across every correlation of the answer."
            ),
        ]
    ]
    moves_with: NotRequired[
        Annotated[
            bool,
            Field(
                default=False,
                description="Passes Holm at 1%: the only correlations the summary names.",
            ),
        ]
    ]
    reason: Annotated[str | None, Field(description="Why there is no r (e.g. too few periods).")]


class PathOut(TypedDict):
    external: str
    path: Annotated[
        list[str], Field(description="Unit ids from the provider to the external customer.")
    ]
    length: int


class Relationship(TypedDict):
    """A result of an internal unit used by another internal unit."""

    provider: str
    provider_name: str
    result: str
    result_name: str
    customer: str
    customer_name: str
    relations: list[str]
    line_of_sight: bool
    length: Annotated[
        int | None, Field(description="Arcs of the shortest path to an external customer.")
    ]
    external: Annotated[list[str], Field(description="The external customers it serves.")]
    external_names: Annotated[list[str], Field(description="Their names, in the same order.")]
    flags: Annotated[list[str], Field(description="`internal_focus` when it serves none.")]
    paths: NotRequired[Annotated[list[PathOut] | None, Field(default=None)]]
    over_time: NotRequired[Annotated[list[OverTime] | None, Field(default=None)]]


class Focus(TypedDict):
    unit: str
    name: str
    reason: str


class OutcomesHeld(TypedDict):
    metrics: list[str]
    first_period: str | None
    last_period: str | None
    customers: int


class EntitlementFlag(TypedDict):
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


class Entitlement(TypedDict):
    assessed: bool
    note: NotRequired[
        Annotated[str | None, Field(default=None, description="Why it was not assessed.")]
    ]
    flags: list[EntitlementFlag]


class ConnectTotals(TypedDict):
    relationships: Annotated[int, Field(description="Internal relationships in the whole answer.")]
    line_of_sight: Annotated[int, Field(description="Of them, those with a line of sight.")]


class ConnectOut(TypedDict):
    """The ``valuechain connect --json`` document."""

    unit: str | None
    min_periods: Annotated[int, Field(description="Fewer paired months give no correlation.")]
    outcomes: OutcomesHeld
    relationships: list[Relationship]
    total: ConnectTotals
    internal_focus: list[Focus]
    entitlement: Entitlement
    summary: str


class ConnectPage(ConnectOut):
    """One page of the relationships (``offset`` to ``offset + limit``, in result
    then customer order); ``total``, ``internal_focus``, ``entitlement`` and
    ``summary`` speak for the whole organisation on every page."""

    offset: int
    limit: int
    next: Annotated[
        str | None, Field(description="The URL of the next page; null on the last page.")
    ]
