"""Comments about a provider unit as JSON (see :mod:`valuechain.services.comment`):
only groups of at least the comment threshold respondents, day-only dates, a fresh
random order on every answer, and the themes of the shown comments. Needs
``view_unit_results`` for the unit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from valuechain.domain.access import Action
from valuechain.edge.dependencies import CurrentValuechain, allow
from valuechain.edge.errors import NOT_FOUND
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services.comment import comments

router = APIRouter(route_class=IdempotentRoute, tags=["measure"])


class Comment(BaseModel):
    text: str
    day: str


class CommentGroup(BaseModel):
    """All the provider's customers (``customer`` null) or one customer unit."""

    instrument: str
    customer: str | None
    comments: list[Comment] | None
    suppressed: bool


class Theme(BaseModel):
    terms: list[str]
    weights: list[float]
    comments: int


class Comments(BaseModel):
    threshold: int
    provider: str
    campaign: str | None
    groups: list[CommentGroup]
    themes: list[Theme]


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
) -> dict[str, Any]:
    """Comments per group with at least the comment threshold respondents, in random
    order with the day only, and their TF-IDF + NMF themes."""
    vc.unit(unit_id)
    return comments(vc, unit_id, campaign)
