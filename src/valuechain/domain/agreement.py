"""Service agreements: a provider (the producer of a result) and one customer unit
agree on measurable targets, a business calendar, how they talk and when they review.

An agreement is two-sided: it lists the customer's obligations too, and it is only
in force once both leads have agreed to it. Its life::

    draft -> proposed -> agreed (by the provider's lead and the customer's lead)
          -> under_review (the review date came, or a lead asked) -> agreed ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Metric(StrEnum):
    """What a target measures (one row of ``agreements.csv`` per metric)."""

    ON_TIME_PCT = "on_time_pct"  # share of deliverables on time, 0-100
    RESPONSE_HOURS = "response_hours"  # business hours to first response
    RESOLUTION_HOURS = "resolution_hours"  # business hours to resolution
    QUALITY_PCT = "quality_pct"  # share of deliverables right first time, 0-100


PERCENT_METRICS = frozenset({Metric.ON_TIME_PCT, Metric.QUALITY_PCT})


def target_words(metric: Metric, value: float) -> str:
    """A target as a reader says it: "98% on time", "a first response within 4
    business hours"."""
    shown = f"{value:.0f}" if float(value).is_integer() else f"{value:g}"
    if metric is Metric.ON_TIME_PCT:
        return f"{shown}% on time"
    if metric is Metric.QUALITY_PCT:
        return f"{shown}% right first time"
    if metric is Metric.RESPONSE_HOURS:
        return f"a first response within {shown} business hours"
    return f"resolution within {shown} business hours"


def target_problem(metric: Metric, value: float) -> str | None:
    """What is wrong with ``value`` as a target for ``metric``, in words, or None: a
    percentage lies above 0 and at most 100, hours above 0."""
    if metric in PERCENT_METRICS and not 0 < value <= 100:
        return "a percentage above 0 and at most 100"
    if metric not in PERCENT_METRICS and not value > 0:
        return "business hours above 0"
    return None


class AgreementState(StrEnum):
    DRAFT = "draft"
    PROPOSED = "proposed"
    AGREED = "agreed"
    UNDER_REVIEW = "under_review"


#: States in which an agreement's targets apply to requests and commitments: the
#: terms agreed last stay in force while they are reviewed.
IN_FORCE = frozenset({AgreementState.AGREED, AgreementState.UNDER_REVIEW})


class Side(StrEnum):
    """Which lead acts on an agreement."""

    PROVIDER = "provider"
    CUSTOMER = "customer"


class TransitionError(ValueError):
    """A step the agreement's life does not allow; the message says why."""


@dataclass(frozen=True, slots=True)
class CalendarSpec:
    """One row of ``calendars.csv`` as text (parsed by ``domain.calendar.calendar``)."""

    name: str
    timezone: str
    hours: str
    holidays: str | None = None


@dataclass(slots=True)
class Agreement:
    """A service agreement between the producer of ``result_id`` and ``customer_id``."""

    id: str
    result_id: str
    customer_id: str
    targets: dict[Metric, float] = field(default_factory=dict)
    calendar: str | None = None  # a calendar's name; None: mon-fri 09:00-17:00 UTC
    review_on: date | None = None
    channel: str | None = None
    cadence: str | None = None
    state: AgreementState = AgreementState.AGREED
    obligations: tuple[str, ...] = ()  # the customer's side, one line each
    exceed_margin_hours: float | None = None  # delivered this early counts as exceeded
    deliverable_rrule: str | None = None  # recurring deliverables (iCalendar RRULE)
    provider_agreed_by: str | None = None
    provider_agreed_at: datetime | None = None
    customer_agreed_by: str | None = None
    customer_agreed_at: datetime | None = None
    provider_id: str | None = None  # the result's producer; filled in when read from store

    def target(self, metric: Metric) -> float | None:
        return self.targets.get(metric)


@dataclass(frozen=True, slots=True)
class Commitment:
    """One deliverable due under an agreement, and how it went (times are aware)."""

    agreement_id: str
    due_at: datetime
    delivered_at: datetime | None = None
    warned_at: datetime | None = None


def obligation_lines(text: str | None) -> tuple[str, ...]:
    """The customer's obligations from one text cell: one per non-empty line."""
    if not text:
        return ()
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def propose(agreement: Agreement) -> None:
    """Put a draft (or an agreement under review) to both leads; earlier consent lapses."""
    if agreement.state not in (AgreementState.DRAFT, AgreementState.UNDER_REVIEW):
        raise TransitionError(
            f"only a draft or an agreement under review can be proposed; "
            f"agreement {agreement.id} is {agreement.state.value}"
        )
    agreement.state = AgreementState.PROPOSED
    agreement.provider_agreed_by = agreement.provider_agreed_at = None
    agreement.customer_agreed_by = agreement.customer_agreed_at = None


def agree(agreement: Agreement, side: Side, who: str, at: datetime) -> None:
    """Record one lead's consent to a proposed agreement or one under review; it is
    agreed once both sides have consented."""
    if agreement.state not in (AgreementState.PROPOSED, AgreementState.UNDER_REVIEW):
        raise TransitionError(
            f"only a proposed agreement or one under review can be agreed to; "
            f"agreement {agreement.id} is {agreement.state.value}"
        )
    if side is Side.PROVIDER:
        agreement.provider_agreed_by, agreement.provider_agreed_at = who, at
    else:
        agreement.customer_agreed_by, agreement.customer_agreed_at = who, at
    if agreement.provider_agreed_at is not None and agreement.customer_agreed_at is not None:
        agreement.state = AgreementState.AGREED


def start_review(agreement: Agreement) -> None:
    """Open the review of an agreement in force (its review date came or a lead asked):
    its terms stay in force until both leads agree again (to them or to new ones)."""
    if agreement.state is not AgreementState.AGREED:
        raise TransitionError(
            f"only an agreed agreement can be reviewed; agreement {agreement.id} is "
            f"{agreement.state.value}"
        )
    agreement.state = AgreementState.UNDER_REVIEW
    agreement.provider_agreed_by = agreement.provider_agreed_at = None
    agreement.customer_agreed_by = agreement.customer_agreed_at = None


def review_due(agreement: Agreement, today: date) -> bool:
    """True when an agreement in force has reached its review date."""
    return (
        agreement.state is AgreementState.AGREED
        and agreement.review_on is not None
        and agreement.review_on <= today
    )
