"""The shapes the Agree capability's use cases answer (``services.agreement``,
``services.commitment``, ``services.capacity``, ``services.watermelon``), declared
once: mypy checks them from the service to the API, whose routes use them as their
response models (a key a result holds beyond these is left out of an answer).

``TypedDict`` comes from ``typing_extensions`` because Pydantic needs it there on
Python before 3.12.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict


class Agreement(TypedDict):
    """A service agreement between the producer of a result and one customer."""

    id: str
    provider: Annotated[str, Field(description="The producer of the result.")]
    customer: str
    result: str
    state: Annotated[str, Field(description="draft, proposed, agreed or under_review.")]
    targets: Annotated[
        dict[str, float], Field(description="Per metric: percent or business hours.")
    ]
    calendar: Annotated[str | None, Field(description="null: mon-fri 09:00-17:00 UTC.")]
    review_on: str | None
    channel: str | None
    cadence: str | None
    obligations: Annotated[list[str], Field(description="The customer's obligations.")]
    exceed_margin_hours: float | None
    deliverable_rrule: str | None
    provider_agreed_by: str | None
    provider_agreed_at: str | None
    customer_agreed_by: str | None
    customer_agreed_at: str | None


class LogRow(TypedDict):
    """An agreement's commitment log: ended commitments (``due``) by outcome, trust."""

    id: str
    provider: str
    customer: str
    result: str
    state: str
    due: int
    kept: int
    missed: int
    warned: int
    exceeded: int
    pending: int
    trust: Annotated[float, Field(description="Mean of the Beta posterior, (s + 1) / (n + 2).")]
    trust_low: float
    trust_high: float
    on_time_pct: float | None
    on_time_target: float | None


class UnitAgreement(Agreement):
    review_due: bool
    log: LogRow


class UnitAgreements(TypedDict):
    unit: str
    agreements: list[UnitAgreement]
    reviews_due: Annotated[
        list[str], Field(description="Ids under review or past their review date.")
    ]


class TargetRow(TypedDict):
    metric: str
    target: float | None
    actual: float | None
    met: bool | None


class CommitmentItem(TypedDict):
    due_at: str
    delivered_at: str | None
    warned_at: str | None
    outcome: Annotated[str, Field(description="kept, exceeded, missed, warned or pending.")]
    early_hours: Annotated[
        float | None, Field(description="Hours delivered early; negative: late.")
    ]


class AgreementDetail(Agreement):
    targets_vs_actuals: list[TargetRow]
    review_due: bool
    log: LogRow
    commitments: Annotated[list[CommitmentItem], Field(description="Newest due first.")]


class RelationshipTrust(TypedDict):
    provider: str
    customer: str
    kept: int
    exceeded: int
    missed: int
    warned: int
    trust: float
    trust_low: float
    trust_high: float


class Commitments(TypedDict):
    """The ``valuechain commitments --json`` document."""

    agreements: list[LogRow]
    relationships: list[RelationshipTrust]


class CustomerShare(TypedDict):
    customer: str
    share: Annotated[float | None, Field(description="Items a week agreed; null: none agreed.")]
    demand: Annotated[float | None, Field(description="Items a week asked (the map's links).")]
    over_share: bool
    negotiation: Annotated[str | None, Field(description="The open negotiation's id.")]


class ProvidedResult(TypedDict):
    result: str
    name: str
    capacity: float | None
    allocated: float
    unallocated: float | None
    overallocated: bool
    demand: float
    customers: list[CustomerShare]


class ReceivedResult(TypedDict):
    result: str
    provider: str
    demand: float
    share: float | None
    over_share: bool
    negotiation: str | None


class Negotiation(TypedDict):
    id: str
    result: str
    provider: str
    customer: str
    opened_at: str
    demand: float
    share: float
    state: Annotated[str, Field(description="open, accepted, rescheduled or share_changed.")]
    closed_at: str | None
    closed_by: str | None
    note: str | None


class Capacity(TypedDict):
    unit: str
    provides: list[ProvidedResult]
    receives: list[ReceivedResult]
    negotiations: list[Negotiation]


class Satisfaction(TypedDict):
    """The relationship's protected survey cell (never a suppressed one)."""

    instrument: str
    n: int
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    scale: list[int]


class WatermelonRow(TypedDict):
    provider: str
    customer: str
    agreements: list[str]
    commitments_ended: int
    on_time_pct: float | None
    on_time_target: float
    targets_met: Annotated[bool | None, Field(description="null: fewer than 3 ended commitments.")]
    satisfaction: Satisfaction | None
    suppressed: Annotated[
        bool, Field(description="The survey cell exists but is below the threshold.")
    ]
    mood: Annotated[
        str | None, Field(description="unhappy, neutral or happy (95% interval vs midpoint).")
    ]
    flag: Annotated[
        str | None,
        Field(description="targets_met_customer_unhappy or targets_missed_customer_happy."),
    ]


class Watermelon(TypedDict):
    threshold: int
    campaign: str | None
    relationships: list[WatermelonRow]
