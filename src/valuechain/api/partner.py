"""Partner & Improve as JSON: relationship health, both sides' views, the workspace
and action plans."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from valuechain.domain.access import Action, Principal
from valuechain.edge.dependencies import AccessRule, CurrentValuechain, on_relationship
from valuechain.edge.errors import Problem
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services.partner import action, health, workspace
from valuechain.services.partner import view as partner
from valuechain.services.partner.types import (
    Entry,
    Relationships,
    RelationshipView,
    ShownAction,
    StoredEntry,
)

router = APIRouter(route_class=IdempotentRoute, tags=["partner"])
Facilitator = Annotated[Principal, Depends(AccessRule(Action.FACILITATE))]
Viewer = Annotated[Principal, Depends(on_relationship(Action.VIEW_RELATIONSHIP))]
Worker = Annotated[Principal, Depends(on_relationship(Action.WORK_ON_RELATIONSHIP))]
T = TypeVar("T")
# An unknown unit, relationship, entry or action (valuechain.edge.errors answers it).
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such unit, relationship, entry or action"}
}


async def _run(call: Callable[[], T]) -> T:
    return await run_in_threadpool(call)


class EntryIn(BaseModel):
    kind: Literal["challenge", "need", "value"]
    text: str = Field(min_length=1, max_length=2000)
    side: Literal["provider", "customer"] | None = Field(
        default=None, description="Only for admins; leads write for their own unit's side."
    )


class MarkIn(BaseModel):
    alignment: Literal["aligned", "conflict"] | None
    counterpart: str | None = Field(default=None, description="An entry of the other side.")


class ActionIn(BaseModel):
    title: str = Field(min_length=1, max_length=500)
    owner: str = Field(min_length=1, max_length=300)
    due_on: date
    instrument: str = Field(description="The instrument whose score should move.")
    dimension: str | None = Field(default=None, description="One dimension; null: overall.")
    rated: str | None = Field(
        default=None, description="Whose score: provider (default) or customer."
    )
    source: str = Field(default="", max_length=2000, description="The finding, score or conflict.")


class StatusIn(BaseModel):
    status: Literal["open", "in_progress", "done", "dropped"]


@router.get("/relationships", response_model=Relationships)
async def list_relationships(_: Facilitator, vc: CurrentValuechain) -> Relationships:
    """Every relationship's health (worst first) and workspace activity: the
    facilitator's view; the rows of ``valuechain health --json``."""
    rows = await _run(lambda: health.health_table(vc))
    spaces = await _run(lambda: workspace.facilitator_view(vc))
    return {"relationships": rows, "workspaces": spaces, "weights": health.weights()}


@router.get(
    "/relationships/{provider_id}/{customer_id}",
    response_model=RelationshipView,
    responses=NOT_FOUND,
)
async def relationship(
    provider_id: str, customer_id: str, principal: Viewer, vc: CurrentValuechain
) -> RelationshipView:
    """Health with its components, both sides' views per topic with the largest
    disagreement, the workspace and the actions with their verdicts. Numbers the
    caller may not see on the units' own pages are null; ``shown`` says which."""
    return await _run(lambda: partner.relationship(vc, principal, provider_id, customer_id))


@router.post(
    "/relationships/{provider_id}/{customer_id}/workspace",
    status_code=201,
    response_model=Entry,
    responses=NOT_FOUND,
)
async def add_entry(
    provider_id: str, customer_id: str, body: EntryIn, principal: Worker, vc: CurrentValuechain
) -> StoredEntry:
    """Add a challenge, need or value on the caller's side."""
    row = await _run(
        lambda: workspace.add_entry(
            vc, principal, provider_id, customer_id, body.kind, body.text, body.side
        )
    )
    return row


@router.post(
    "/relationships/{provider_id}/{customer_id}/workspace/{entry_id}/mark",
    response_model=Entry,
    responses=NOT_FOUND,
)
async def mark_entry(
    provider_id: str,
    customer_id: str,
    entry_id: str,
    body: MarkIn,
    principal: Worker,
    vc: CurrentValuechain,
) -> StoredEntry:
    """Mark the other side's entry as aligned or in conflict (null clears)."""
    row = await _run(
        lambda: workspace.mark(
            vc, principal, provider_id, customer_id, entry_id, body.alignment, body.counterpart
        )
    )
    return row


@router.post(
    "/relationships/{provider_id}/{customer_id}/actions",
    status_code=201,
    response_model=ShownAction,
    responses=NOT_FOUND,
)
async def create_action(
    provider_id: str, customer_id: str, body: ActionIn, principal: Worker, vc: CurrentValuechain
) -> ShownAction:
    """Create an action with the metric it should move."""
    made = await _run(
        lambda: action.create(
            vc,
            principal,
            provider_id,
            customer_id,
            title=body.title,
            owner=body.owner,
            due_on=body.due_on,
            instrument=body.instrument,
            dimension=body.dimension,
            rated=body.rated,
            source=body.source,
        )
    )
    return partner.action_shown(vc, principal, made)


@router.post(
    "/relationships/{provider_id}/{customer_id}/actions/{action_id}/status",
    response_model=ShownAction,
    responses=NOT_FOUND,
)
async def action_status(
    provider_id: str,
    customer_id: str,
    action_id: str,
    body: StatusIn,
    principal: Worker,
    vc: CurrentValuechain,
) -> ShownAction:
    """Move an action to open, in_progress, done or dropped."""
    moved = await _run(
        lambda: action.set_status(vc, provider_id, customer_id, action_id, body.status)
    )
    return partner.action_shown(vc, principal, moved)
