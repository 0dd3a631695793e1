"""Capability 2, Measure, as JSON: a provider unit's survey scores and key drivers.

Every number comes from :mod:`valuechain.services.measure`, which protects all cuts
together, so what this API answers can be combined with any other answer without
revealing a group below the anonymity threshold. Results about a unit need
``view_unit_results`` for that unit: admins see every unit, a lead their own unit
and its relationships (its direct customers and suppliers).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from valuechain.domain.access import Action
from valuechain.edge.dependencies import CurrentValuechain, allow
from valuechain.edge.errors import NOT_FOUND
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services import measure
from valuechain.services.measure_types import DriverAnalysis, Drivers, Scores

router = APIRouter(route_class=IdempotentRoute, tags=["measure"])
UNIT_RESULTS = [allow(Action.VIEW_UNIT_RESULTS, unit_param="unit_id")]


@router.get(
    "/units/{unit_id}/scores",
    response_model=Scores,
    responses=NOT_FOUND,
    dependencies=UNIT_RESULTS,
    summary="A provider's survey scores",
)
def get_scores(
    unit_id: str,
    vc: CurrentValuechain,
    by: Annotated[measure.By, Query(description="The cut.")] = measure.By.PROVIDER,
    campaign: Annotated[str | None, Query(description="Default: the latest.")] = None,
) -> Scores:
    """Mean scores with 95% intervals of the unit as a provider, per campaign, by
    provider, relationship or dimension; suppressed cells carry no numbers."""
    return measure.provider_scores(vc, unit_id, by, campaign)


@router.get(
    "/units/{unit_id}/drivers",
    response_model=Drivers,
    responses=NOT_FOUND,
    dependencies=UNIT_RESULTS,
    summary="Key drivers of a provider's overall score",
)
def get_drivers(unit_id: str, vc: CurrentValuechain) -> DriverAnalysis:
    """Johnson's relative weights of the dimensions on ``overall`` for the responses
    about the unit, with bootstrap intervals and quadrants."""
    return measure.drivers(vc, provider=unit_id)
