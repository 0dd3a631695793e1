"""The ``Idempotency-Key`` header for state-changing API routes (see
:mod:`valuechain.services.idempotency` for the guarantee).

A route takes :data:`IdempotencyKey` as a parameter and runs its change inside
:func:`~valuechain.services.idempotency.idempotent`::

    from valuechain.api.idempotency import IdempotencyKey, idempotent, ...

    @router.post("/things", dependencies=[allow(Action.X)], responses=RESPONSES)
    def make(payload: Thing, vc: CurrentValuechain, key: IdempotencyKey) -> Response:
        with idempotent(vc, key) as attempt:
            if attempt.replay is not None:
                return replay_response(attempt.replay)
            made = things.make(attempt.conn, payload)
            return recorded_json(attempt, 201, made)

A replay answers with the stored status and body and the header
``Idempotent-Replayed: true``; the same key with another request answers 422.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from valuechain.edge.dependencies import current_principal, current_valuechain
from valuechain.edge.errors import Unprocessable
from valuechain.services import idempotency
from valuechain.services.errors import NotSignedIn
from valuechain.services.idempotency import (
    Attempt,
    IdempotentRequest,
    StoredResponse,
)
from valuechain.services.organisation import Valuechain

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

# For a route's ``responses=``: what the header adds to its possible answers.
RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {
        "model": Unprocessable,
        "description": "The Idempotency-Key was used before with a different request",
    },
}


async def idempotency_request(
    request: Request,
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            min_length=1,
            max_length=idempotency.MAX_KEY_LENGTH,
            # Printable ASCII, as IdempotentRequest.of checks (HTTP strips outer spaces).
            pattern=r"^[!-~]([ -~]*[!-~])?$",
            description="A unique key per intended change (e.g. a UUID): a retry with "
            "the same key and body gets the first answer again and changes nothing.",
        ),
    ] = None,
) -> IdempotentRequest | None:
    """The request's idempotency identity, or ``None`` without the header. The key
    belongs to the signed-in account (the route's access rule has checked it)."""
    if key is None:
        return None
    vc = current_valuechain(request)
    principal = await run_in_threadpool(current_principal, request, vc)
    if principal is None:  # the route's access rule refuses this first
        raise NotSignedIn()
    return IdempotentRequest.of(
        scope=idempotency.account_scope(principal.account_id),
        key=key,
        method=request.method,
        path=request.url.path,
        body=await request.body(),
    )


IdempotencyKey = Annotated[IdempotentRequest | None, Depends(idempotency_request)]


def replay_response(stored: StoredResponse) -> Response:
    """The stored answer, as it was first sent."""
    return Response(
        stored.body,
        status_code=stored.status_code,
        media_type=stored.media_type,
        headers={REPLAYED_HEADER: "true"},
    )


def recorded_json(attempt: Attempt, status_code: int, content: Any) -> Response:
    """Store ``content`` (anything FastAPI can encode, e.g. a Pydantic model) as the
    attempt's answer and return it as JSON."""
    body = json.dumps(jsonable_encoder(content), separators=(",", ":"), ensure_ascii=False)
    stored = attempt.record(status_code, body, "application/json")
    return Response(stored.body, status_code=status_code, media_type=stored.media_type)


@contextmanager
def idempotent(vc: Valuechain, request: IdempotentRequest | None) -> Iterator[Attempt]:
    """:func:`valuechain.services.idempotency.idempotent` for a route: a key sent
    again with another request answers 422."""
    with idempotency.idempotent(vc, request) as attempt:
        yield attempt
