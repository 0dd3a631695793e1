"""Comments about a provider unit as JSON (see :mod:`valuechain.services.comment`):
only groups of at least the comment threshold respondents, day-only dates, a fresh
random order on every answer, and the themes of the shown comments. Needs
``view_unit_results`` for the unit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from valuechain.api.dependencies import CurrentValuechain, allow
from valuechain.api.map import NOT_FOUND
from valuechain.domain.access import Action
from valuechain.services.comment import comments
from valuechain.services.errors import NotFound

router = APIRouter(tags=["measure"])


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
    try:
        vc.unit(unit_id)
        return comments(vc, unit_id, campaign)
    except NotFound as error:
        raise HTTPException(404, str(error)) from None
