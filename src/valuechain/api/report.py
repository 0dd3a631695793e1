"""Reports as JSON: the organisation's (admins) and a unit's (who may see its results)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from valuechain.api.partner import NOT_FOUND
from valuechain.domain.access import Action, Principal
from valuechain.edge.dependencies import CurrentValuechain, allow, on_relationship
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services.report import report
from valuechain.services.report_types import ReportDocument

# A relationship's report is survey findings about both units: their results rule.
REPORT_READER = on_relationship(Action.VIEW_RELATIONSHIP, results=True)
router = APIRouter(route_class=IdempotentRoute, tags=["report"])


ALL = Query(False, alias="all", description="Up to 7 findings instead of 5.")


@router.get(
    "/reports/organisation",
    response_model=ReportDocument,
    dependencies=[allow(Action.VIEW_ORGANISATION_REPORT)],
)
def organisation_report(vc: CurrentValuechain, all_findings: bool = ALL) -> ReportDocument:
    """The one-page organisation report."""
    return report(vc, all_findings=all_findings).to_json()


@router.get(
    "/units/{unit_id}/report",
    response_model=ReportDocument,
    responses=NOT_FOUND,
    dependencies=[allow(Action.VIEW_UNIT_RESULTS, unit_param="unit_id")],
)
def unit_report(unit_id: str, vc: CurrentValuechain, all_findings: bool = ALL) -> ReportDocument:
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
) -> ReportDocument:
    """A relationship's report: findings about its provider and customer only."""
    return report(vc, relationship=(provider_id, customer_id), all_findings=all_findings).to_json()
