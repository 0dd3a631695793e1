"""The shapes the Partner & Improve use cases answer (``services.partner``: health,
both sides' views, the workspace and action plans), declared once: mypy checks them
from the service to the API, whose routes use them as their response models (a key
a stored row holds beyond these, such as who wrote an entry, is left out of an
answer).

``TypedDict`` comes from ``typing_extensions`` because Pydantic needs it there on
Python before 3.12.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, NotRequired

from pydantic import Field
from typing_extensions import TypedDict

Side = Literal["provider", "customer"]
EntryKind = Literal["challenge", "need", "value"]
Alignment = Literal["aligned", "conflict"]


class SurveyView(TypedDict):
    """One side's latest published relationship score (its mean, and 0–1)."""

    campaign: str
    instrument: str
    n: int | None
    mean: float
    value: float


class HealthRow(TypedDict):
    """A relationship's health (0–100) with every component (0–1, null when unknown
    or withheld from the caller); the ``valuechain health --json`` rows."""

    provider: str
    customer: str
    customer_view: Annotated[
        float | None, Field(description="The customer's latest score of the provider.")
    ]
    provider_view: Annotated[
        float | None, Field(description="The provider's latest score of the customer.")
    ]
    sla_met_pct: float | None
    trust: float | None
    health: float | None
    coverage: Annotated[float | None, Field(description="Share of the weights known.")]
    components: dict[str, float | None]


class WorkspaceSummary(TypedDict):
    """Per relationship with a workspace: entries per side, aligned and conflicts."""

    provider: str
    customer: str
    provider_entries: int
    customer_entries: int
    aligned: int
    conflicts: int


class Relationships(TypedDict):
    """The facilitator's view: every relationship's health, worst first."""

    relationships: list[HealthRow]
    workspaces: list[WorkspaceSummary]
    weights: dict[str, float]


class SideScore(TypedDict):
    mean: float
    n: int | None
    value: float
    campaign: str


class Topic(TypedDict):
    """A mirrored topic: how the provider's customers rate it next to how the
    customer's providers rate the customer (0–1 each)."""

    topic: str
    customer_dimension: str
    provider_dimension: str
    customers_rate_provider: SideScore | None
    providers_rate_customer: SideScore | None
    difference: float | None


class BothSides(TypedDict):
    """:func:`valuechain.services.partner.health.both_sides`."""

    health: HealthRow
    topics: list[Topic]
    largest_disagreement: Annotated[
        int | None, Field(description="Index of the topic where the sides differ most.")
    ]
    weights: dict[str, float]


class EntryShown(TypedDict):
    id: str
    text: str
    alignment: Alignment | None
    counterpart: str | None
    created_on: str


class Workspace(TypedDict):
    """Both sides' entries, grouped by side and kind, with their alignment marks."""

    provider: str
    customer: str
    sides: dict[Side, dict[EntryKind, list[EntryShown]]]
    aligned: int
    conflicts: int


class Entry(TypedDict):
    """A workspace entry as stored (who wrote it stays in the database)."""

    id: str
    provider_id: str
    customer_id: str
    side: Side
    kind: EntryKind
    text: str
    alignment: Alignment | None
    counterpart_id: str | None
    created_at: datetime


class StoredEntry(Entry):
    """:class:`Entry` with its author, which no answer carries."""

    author_account_id: str | None


class Measured(TypedDict):
    campaign: str
    n: int | None
    mean: float | None


class ActionResult(TypedDict):
    """Before (the baseline campaign) and after with Welch's interval and the verdict."""

    verdict: str
    before: Measured | None
    after: Measured | None
    scope: Annotated[str | None, Field(description="relationship or unit.")]
    note: str | None
    difference: NotRequired[float]
    ci_low: NotRequired[float]
    ci_high: NotRequired[float]
    p: NotRequired[float]


class ActionMetric(TypedDict):
    instrument: str
    dimension: str | None
    rated: str


class _ActionFields(TypedDict):
    id: str
    provider: str
    customer: str
    title: str
    owner: str
    due_on: str
    status: str
    overdue: bool
    metric: ActionMetric
    baseline_campaign: str | None
    source: str


class ActionPlan(_ActionFields):
    """An action with the metric it should move and its before/after."""

    result: ActionResult


class ShownAction(_ActionFields):
    """An action as one caller may see it: its before/after only for who may see the
    rated unit's results (``result`` null for the rest)."""

    result: ActionResult | None


class Shown(TypedDict):
    """Which groups of numbers about the relationship the caller may see."""

    provider_results: bool
    customer_results: bool
    service_levels: bool
    summary: bool


class RelationshipView(BothSides):
    """The relationship page's document for one caller."""

    workspace: Workspace
    actions: list[ShownAction]
    shown: Shown


class Overdue(TypedDict):
    """An open action past its due date (what a "regroup" reminder is about)."""

    id: str
    provider: str
    customer: str
    title: str
    owner: str
    due_on: str
