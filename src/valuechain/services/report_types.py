"""The shapes the Tell capability's reports answer (``services.report``), declared
once: mypy checks them from the service to the API, whose routes use them as their
response models.

``TypedDict`` comes from ``typing_extensions`` because Pydantic needs it there on
Python before 3.12.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from typing_extensions import TypedDict


class Finding(TypedDict):
    """One finding: a plain sentence, its effect and the evidence behind it."""

    kind: str
    subject: str
    sentence: str
    next_step: str
    effect: float | None
    evidence: Annotated[
        dict[str, Any],
        Field(description="The test passed, p and Holm-adjusted q, interval, n, line of sight."),
    ]
    units: list[str]
    chart: Annotated[dict[str, Any] | None, Field(description="A Vega-Lite specification.")]


class ReportDocument(TypedDict):
    """The ``valuechain report --format json`` document."""

    title: str
    unit: str | None
    generated: str
    threshold: int
    considered: int
    tested: int
    findings: list[Finding]


# -- notifications (``services.notification``) -----------------------------------------


class KindChoice(TypedDict):
    """Whether a person receives one kind of notification by email and by webhook."""

    kind: Annotated[str, Field(description="One of the notification kinds.")]
    label: Annotated[str | None, Field(description="What the kind is about (read-only).")]
    email: bool
    webhook: bool


class Preferences(TypedDict):
    """A person's choices for every kind, and their own webhook (``null``: the
    organisation's webhook is used, if any)."""

    person: str
    preferences: list[KindChoice]
    webhook_url: str | None


class Webhook(TypedDict):
    """The organisation's webhook, used for everyone without one of their own."""

    url: str | None


class Retried(TypedDict):
    retried: int
