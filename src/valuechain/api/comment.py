"""Comments about a provider unit as JSON (see :mod:`valuechain.services.comment`):
only groups of at least the comment threshold respondents, day-only dates, a fresh
random order on every answer, and the themes of the shown comments. Needs
``view_unit_results`` for the unit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from valuechain.domain.access import Action
from valuechain.edge.dependencies import CurrentValuechain, allow
from valuechain.edge.errors import NOT_FOUND
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services.comment import comments
from valuechain.services.measure_types import Comments

router = APIRouter(route_class=IdempotentRoute, tags=["measure"])


@router.get(
    "/units/{unit_id}/comments",
    response_model=Comments,
    responses=NOT_FOUND,
    dependencies=[allow(Action.VIEW_UNIT_RESULTS, unit_param="unit_id")],
    summary="Comments about a provider and their themes",
)
def get_comments(
    unit_id: str,
    vc: CurrentValuechain,
    campaign: Annotated[str | None, Query(description="Default: the latest.")] = None,
) -> Comments:
    """Comments per group with at least the comment threshold respondents, in random
    order with the day only, and their TF-IDF + NMF themes."""
    vc.unit(unit_id)
    return comments(vc, unit_id, campaign)
