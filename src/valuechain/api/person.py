"""Data rights as JSON: export everything stored about a person, erase a person.
Admins only (export needs ``export``, erasure ``manage_accounts``); both are
recorded in the audit log. See ``docs/access.md``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from valuechain.domain.access import Action, Principal
from valuechain.edge.dependencies import AccessRule, CurrentValuechain, client_address
from valuechain.edge.errors import Problem
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services import person
from valuechain.services.audit import Actor

router = APIRouter(route_class=IdempotentRoute, tags=["people"])

Exporter = Annotated[Principal, Depends(AccessRule(Action.EXPORT))]
AccountManager = Annotated[Principal, Depends(AccessRule(Action.MANAGE_ACCOUNTS))]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No person or account by that id or email"},
}


class Erasure(BaseModel):
    """What an erasure changed."""

    pseudonym: str = Field(description="The email address that now stands for the person.")
    changed: dict[str, int] = Field(description="Rows changed, per kind of data.")


def _actor(principal: Principal, request: Request) -> Actor:
    return Actor(principal.account_id, principal.email, client_address(request))


@router.get(
    "/people/{person_key}/export",
    response_model=dict[str, Any],
    responses=NOT_FOUND,
    summary="Everything stored about a person",
)
def get_person_export(
    person_key: str, principal: Exporter, request: Request, vc: CurrentValuechain
) -> dict[str, Any]:
    """The person (by id on the map or email): their row on the map, accounts,
    session metadata, sign-in failures, idempotency keys, survey invitations (never
    whether they answered), notification settings and mail, and the requests, request
    events, workspace entries, actions, agreements, negotiations and audit events
    that are theirs or name them (see docs/access.md, "Data rights")."""
    return person.export_person(vc, person_key, _actor(principal, request))


@router.delete(
    "/people/{person_key}",
    response_model=Erasure,
    responses=NOT_FOUND,
    summary="Erase a person",
)
def delete_person(
    person_key: str, principal: AccountManager, request: Request, vc: CurrentValuechain
) -> dict[str, Any]:
    """Delete the person's accounts (signing out every session), sign-in failures,
    idempotency keys, notification settings and mail to them; replace their name and
    email with a pseudonym on the map and wherever a row names them; erase the text
    they wrote; cut their survey invitations' link to them (no survey number changes).
    Survey answers were never linked to them. See docs/access.md, "Data rights"."""
    return person.erase_person(vc, person_key, _actor(principal, request))
