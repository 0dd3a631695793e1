"""The shapes the Request capability's use cases answer (``services.request``,
``services.thanks``), declared once: mypy checks them from the service to the API,
whose routes use them as their response models (FastAPI through Pydantic; a key a
row holds beyond these, such as the organisation's row id, is left out of an answer).

``TypedDict`` comes from ``typing_extensions`` because Pydantic needs it there on
Python before 3.12.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict

from valuechain.domain.request import ClockState, RequestState, Verb


class Clocked(TypedDict):
    """A request as listed: its state and its live business-hours clocks."""

    id: str
    customer_id: str
    provider_id: str
    title: str
    priority: str | None
    category: str | None
    requester: str | None
    state: RequestState
    created_at: str
    first_response_at: str | None
    resolved_at: str | None
    thanked_at: str | None
    paused: Annotated[bool, Field(description="Waiting on the customer: the clock is paused.")]
    response_hours: Annotated[float | None, Field(description="Business hours to first response.")]
    resolution_hours: Annotated[
        float | None,
        Field(description="Business hours to resolution (so far, when open), pauses left out."),
    ]
    response_target_hours: float | None
    resolution_target_hours: float | None
    response_met: Annotated[bool | None, Field(description="null: no target, or open within it.")]
    resolution_met: bool | None
    near_breach: Annotated[bool, Field(description="Open and at least 75% of a target used.")]
    breached: bool
    clock: Annotated[
        ClockState,
        Field(description="breached, at_risk (75% of a target used), on_track, met or no_target."),
    ]
    assignee_id: Annotated[str | None, Field(description="The person (map id) working on it.")]
    assignee: str | None


# ``from`` is a keyword, so this one is declared in the functional form.
Event = TypedDict(
    "Event",
    {
        "at": str,
        "actor": str | None,
        "verb": str,
        "from": str | None,
        "to": str,
        "note": str | None,
    },
)


class Comment(TypedDict):
    """One message of a request's conversation."""

    id: str
    at: str
    author: str
    side: Annotated[str, Field(description="provider or customer")]
    body: str


class CatalogueEntry(TypedDict):
    """Something a unit can ask of one of its internal providers, with the targets of
    their agreement (null: none agreed)."""

    provider: str
    provider_name: str
    result: str
    result_name: str
    response_target_hours: float | None
    resolution_target_hours: float | None


class Person(TypedDict):
    """Someone a request may be assigned to (a person of the provider unit)."""

    id: str
    name: str
    email: str


class RequestDetail(Clocked):
    """One request with its description, thanks, timeline and conversation."""

    body: str
    thanks_note: str | None
    thanked_by: str | None
    timeline: list[Event]
    comments: list[Comment]
    verbs: Annotated[list[Verb], Field(description="The changes the caller may make now.")]
    can_thank: bool
    can_assign: Annotated[bool, Field(description="The caller may set the assignee.")]


class ThanksEntry(TypedDict):
    request: str
    title: str
    customer: str
    customer_name: str
    at: str
    note: str | None
    by: str | None


class SlaRow(TypedDict):
    provider: str
    customer: str
    requests: int
    first_response_met_pct: float | None
    resolution_met_pct: float | None
    median_resolution_hours: float | None
    thanked_pct: float | None
    response_target_hours: float | None
    resolution_target_hours: float | None


class Sla(TypedDict):
    """The ``valuechain sla --json`` document (business-hours clocks)."""

    relationships: list[SlaRow]


class UnitSla(Sla):
    """:class:`Sla` for one unit's relationships, naming the unit (the API answers the
    :class:`Sla` part)."""

    unit: str
