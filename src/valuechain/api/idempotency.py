"""The ``Idempotency-Key`` header for API routes (see
:mod:`valuechain.services.idempotency` for the guarantee).

Every state-changing route of the API's routers honours the header already
(:class:`valuechain.edge.idempotency.IdempotentRoute`). This module is for a route
outside those routers that wants to do the same by hand: it takes
:data:`IdempotencyKey` as a parameter and runs its change inside
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
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response

from valuechain.edge.idempotency import (
    HEADER,
    REPLAYED_HEADER,
    RESPONSES,
    IdempotencyKey,
    idempotency_request,
    replay_response,
)
from valuechain.services import idempotency
from valuechain.services.idempotency import Attempt, IdempotentRequest
from valuechain.services.organisation import Valuechain

__all__ = [
    "HEADER",
    "REPLAYED_HEADER",
    "RESPONSES",
    "IdempotencyKey",
    "idempotency_request",
    "idempotent",
    "recorded_json",
    "replay_response",
]


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
