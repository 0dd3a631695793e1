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
