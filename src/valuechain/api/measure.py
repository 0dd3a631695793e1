"""Capability 2, Measure, as JSON: a provider unit's survey scores and key drivers.

Every number comes from :mod:`valuechain.services.measure`, which protects all cuts
together, so what this API answers can be combined with any other answer without
revealing a group below the anonymity threshold. Results about a unit need
``view_unit_results`` for that unit: admins see every unit, a lead their own unit
and its relationships (its direct customers and suppliers).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from valuechain.domain.access import Action
from valuechain.edge.dependencies import CurrentValuechain, allow
from valuechain.edge.errors import NOT_FOUND
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services import measure

router = APIRouter(route_class=IdempotentRoute, tags=["measure"])
UNIT_RESULTS = [allow(Action.VIEW_UNIT_RESULTS, unit_param="unit_id")]


class ScoreCell(BaseModel):
    """One cell of a cut; a suppressed cell keeps its keys and has no numbers."""

    instrument: str
    provider: str
    customer: str | None = None
    dimension: str | None = None
    n: int | None = Field(description="Respondents; null when suppressed.")
    mean: float | None
    ci_low: float | None = Field(description="95% t interval of the mean.")
    ci_high: float | None
    gap: float | None = Field(default=None, description="Mean P − E, where asked.")
    gap_ci_low: float | None = None
    gap_ci_high: float | None = None
    nps: float | None = Field(default=None, description="Net promoter score (recommend).")
    nps_ci_low: float | None = Field(default=None, description="Wald 95% interval of the NPS.")
    nps_ci_high: float | None = None
    promoters: float | None = None
    detractors: float | None = None
    suppressed: bool


class TotalDimension(BaseModel):
    dimension: str
    gap: float | None = Field(description="Mean P − E; null when suppressed.")
    importance: float | None = Field(
        description="Mean importance points (of 100) of the respondents who gave a split."
    )


class ServqualTotal(BaseModel):
    """A provider's SERVQUAL total gap in the campaign, unweighted and weighted by the
    mean importance split (one cut only: per provider and campaign)."""

    instrument: str
    provider: str
    dimensions: list[TotalDimension]
    importance_n: int | None = Field(description="Respondents who gave a split.")
    importance_suppressed: bool
    total_gap: float | None = Field(description="Mean of the dimension gaps.")
    weighted_total_gap: float | None = Field(description="Σ (mean points / 100) × dimension gap.")


class Scores(BaseModel):
    """The ``valuechain scores --json`` document for one provider."""

    threshold: int
    by: measure.By
    campaign: str | None
    cells: list[ScoreCell]
    servqual_totals: list[ServqualTotal] = []


class Driver(BaseModel):
    dimension: str
    weight: float | None = None
    share: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    performance: float | None = None
    quadrant: str | None = None
    p_important: float | None = Field(
        default=None,
        description="One-sided bootstrap p-value that its weight exceeds the others' mean "
        "(uncorrected).",
    )
    p_below: float | None = Field(
        default=None,
        description="One-sided paired t p-value that it scores below the others' mean "
        "(uncorrected).",
    )


class Drivers(BaseModel):
    """The ``valuechain drivers --provider UNIT --json`` document."""

    threshold: int
    instrument: str
    provider: str | None
    outcome: str
    n: int | None
    r2: float | None
    drivers: list[Driver]
    suppressed: bool


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
) -> dict[str, Any]:
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
def get_drivers(unit_id: str, vc: CurrentValuechain) -> dict[str, Any]:
    """Johnson's relative weights of the dimensions on ``overall`` for the responses
    about the unit, with bootstrap intervals and quadrants."""
    return measure.drivers(vc, provider=unit_id)
