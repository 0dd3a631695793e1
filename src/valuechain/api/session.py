"""Signing in and out through the API: a script posts an email and a password and
gets a session token to send as ``Authorization: Bearer <token>``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from valuechain.domain.access import Principal
from valuechain.domain.account import AccountRole
from valuechain.edge.dependencies import (
    AccessRule,
    CurrentValuechain,
    SessionHolder,
    client_address,
    session_token,
)
from valuechain.edge.errors import Problem, TooManyProblem
from valuechain.edge.idempotency import IdempotentRoute, not_idempotent
from valuechain.services import accounts
from valuechain.services.audit import Actor

router = APIRouter(route_class=IdempotentRoute, tags=["session"])


class Credentials(BaseModel):
    """An account's email address and password."""

    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class Me(BaseModel):
    """The signed-in account."""

    account_id: str
    email: str
    name: str
    role: AccountRole
    unit_id: str | None = Field(description="The unit of the person the account is linked to.")
    demo: bool = Field(description="True for the demo admin the demo signs in automatically.")


class SessionOut(BaseModel):
    """A new session: send ``token`` as ``Authorization: Bearer <token>``."""

    token: str
    expires_at: datetime
    account: Me


def me(principal: Principal) -> Me:
    return Me(
        account_id=principal.account_id,
        email=principal.email,
        name=principal.name,
        role=principal.role,
        unit_id=principal.unit_id,
        demo=principal.demo,
    )


@router.get("/session", response_model=Me, summary="Who is signed in")
def get_session(principal: SessionHolder) -> Me:
    """The account the request is signed in as."""
    return me(principal)


@router.post(
    "/session",
    response_model=SessionOut,
    status_code=201,
    # No CSRF token: the answer is a token in the body, no cookie, so a forged
    # cross-site request gains the forger nothing.
    dependencies=[Depends(AccessRule.public(csrf=False))],
    responses={
        400: {"model": Problem, "description": "A body that cannot be read as JSON"},
        401: {"model": Problem, "description": "Wrong email or password"},
        429: {"model": TooManyProblem, "description": "Too many failed sign-ins"},
    },
    summary="Sign in",
)
@not_idempotent
async def post_session(body: Credentials, request: Request, vc: CurrentValuechain) -> Any:
    """Check the email and password and start a session. Failed attempts slow further
    ones down per account (at most 30 seconds) and per client address (at most 15
    minutes); while one must wait the answer is 429 with ``Retry-After``."""
    # TooManyAttempts answers 429 with Retry-After, SignInRefused 401 (edge.errors).
    started = await run_in_threadpool(
        accounts.sign_in,
        vc,
        body.email,
        body.password,
        address=client_address(request),
        user_agent=request.headers.get("user-agent"),
    )
    return SessionOut(
        token=started.token,
        expires_at=started.expires_at,
        account=me(accounts.principal(started.account)),
    )


@router.delete("/session", status_code=204, summary="Sign out")
@not_idempotent
def delete_session(principal: SessionHolder, request: Request, vc: CurrentValuechain) -> Response:
    """End the session the request is signed in with."""
    token, _ = session_token(request)
    if token:
        accounts.sign_out(
            vc, token, Actor(principal.account_id, principal.email, client_address(request))
        )
    return Response(status_code=204)
