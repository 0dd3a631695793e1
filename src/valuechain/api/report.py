"""Reports as JSON: the organisation's (admins) and a unit's (who may see its results)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from valuechain.api.partner import NOT_FOUND
from valuechain.domain.access import Action, Principal
from valuechain.edge.dependencies import CurrentValuechain, allow, on_relationship
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services.report import report

# A relationship's report is survey findings about both units: their results rule.
REPORT_READER = on_relationship(Action.VIEW_RELATIONSHIP, results=True)
router = APIRouter(route_class=IdempotentRoute, tags=["report"])


class Finding(BaseModel):
    """One finding: a plain sentence, its effect and the evidence behind it."""

    kind: str
    subject: str
    sentence: str
    next_step: str
    effect: float | None
    evidence: dict[str, Any] = Field(
        description="The test passed, p and Holm-adjusted q, interval, n, line of sight."
    )
    units: list[str]
    chart: dict[str, Any] | None = Field(description="A Vega-Lite specification.")


class ReportDocument(BaseModel):
    """The ``valuechain report --format json`` document."""

    title: str
    unit: str | None
    generated: str
    threshold: int
    considered: int
    tested: int
    findings: list[Finding]


ALL = Query(False, alias="all", description="Up to 7 findings instead of 5.")


@router.get(
    "/reports/organisation",
    response_model=ReportDocument,
    dependencies=[allow(Action.VIEW_ORGANISATION_REPORT)],
)
def organisation_report(vc: CurrentValuechain, all_findings: bool = ALL) -> dict[str, Any]:
    """The one-page organisation report."""
    return report(vc, all_findings=all_findings).to_json()


@router.get(
    "/units/{unit_id}/report",
    response_model=ReportDocument,
    responses=NOT_FOUND,
    dependencies=[allow(Action.VIEW_UNIT_RESULTS, unit_param="unit_id")],
)
def unit_report(unit_id: str, vc: CurrentValuechain, all_findings: bool = ALL) -> dict[str, Any]:
    """A unit's report: findings about the unit and its relationships."""
    return report(vc, unit_id, all_findings=all_findings).to_json()


@router.get(
    "/relationships/{provider_id}/{customer_id}/report",
    response_model=ReportDocument,
    responses=NOT_FOUND,
)
def relationship_report(
    provider_id: str,
    customer_id: str,
    _: Annotated[Principal, Depends(REPORT_READER)],
    vc: CurrentValuechain,
    all_findings: bool = ALL,
) -> dict[str, Any]:
    """A relationship's report: findings about its provider and customer only."""
    return report(vc, relationship=(provider_id, customer_id), all_findings=all_findings).to_json()
