"""The one idempotency mechanism at the HTTP edge (see
:mod:`valuechain.services.idempotency` for the guarantee), for the API and the pages.

Every state-changing route (POST, PUT, PATCH, DELETE) of a router built with
``route_class=IdempotentRoute`` honours a key without saying so itself: the API's
``Idempotency-Key`` header, or a page form's hidden ``idempotency_key`` field (each
form carries a fresh one, see ``web/templating.py``). With a key the route runs inside
:func:`~valuechain.services.idempotency.idempotent`: the key is claimed, the route's
change is made (its service calls join the unit) and its answer (status, media type,
body) is stored, all in one transaction. A refusal (an error raised, or a page
answering 4xx or 5xx) rolls all of it back and stores nothing, so the caller may
retry with the same key. A replay gets the stored answer back with
``Idempotent-Replayed: true`` and changes nothing; the same key with another body,
method or path answers 422. Without a key the route runs as it always did.

Whose key it is (the scope): the signed-in account; on a survey link (a route with a
``token`` in its path) always the link itself, never an account, as an HMAC keyed by
the token, and the answers' fingerprint is keyed by it too (the database holds
neither the token nor anything that says which invitation a key belongs to, and
candidate answers cannot be tried against a stored fingerprint).

Only the session routes (signing in and out, the first set-up) are exempt
(:func:`not_idempotent`): repeating them is harmless and their answers carry session
secrets that must not be stored.
"""

from __future__ import annotations

import inspect
import json
import typing
from collections.abc import Callable
from functools import partial, wraps
from typing import Annotated, Any, TypeVar

from anyio import from_thread
from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from valuechain.edge.dependencies import current_principal, current_valuechain
from valuechain.edge.errors import Unprocessable
from valuechain.services import idempotency
from valuechain.services.errors import NotSignedIn
from valuechain.services.idempotency import Attempt, IdempotentRequest, StoredResponse
from valuechain.services.organisation import Valuechain

HEADER = "Idempotency-Key"
FORM_FIELD = "idempotency_key"
REPLAYED_HEADER = "Idempotent-Replayed"
CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A stored redirect: its body is the target (RFC 2483's list of URIs, one line).
REDIRECT_MEDIA_TYPE = "text/uri-list"

# For a route's ``responses=``: what the key adds to its possible answers.
RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {
        "model": Unprocessable,
        "description": "The Idempotency-Key was used before with a different request",
    },
}

_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
F = TypeVar("F", bound=Callable[..., Any])


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
    """The request's idempotency identity (header, else a form's field), or ``None``
    without a key. The key belongs to the signed-in account (the route's access rule
    has checked it), or on a survey link to the link."""
    if request.headers.get("content-type", "").startswith(_FORMS):
        # The route has parsed the form already (the raw stream is gone): the
        # fingerprint is the form's fields in order, a file by its name and size.
        form = await request.form()
        if key is None:
            field = form.get(FORM_FIELD)
            key = field if isinstance(field, str) and field else None
        fields = [
            (name, value if isinstance(value, str) else [value.filename, value.size])
            for name, value in form.multi_items()
        ]
        body = json.dumps(fields, separators=(",", ":")).encode()
    else:
        body = await request.body()
    if key is None:
        return None
    token = request.path_params.get("token")
    if isinstance(token, str):
        # A survey link's key is the link's, also when somebody is signed in: an
        # answer is never filed under an account.
        return IdempotentRequest.of(
            scope=idempotency.link_scope(token),
            key=key,
            method=request.method,
            # The token is a secret: the path is stored without it.
            path=request.url.path.replace(token, "{token}"),
            body=body,
            secret=token.encode(),
        )
    vc = current_valuechain(request)
    principal = await run_in_threadpool(current_principal, request, vc)
    if principal is None:  # the route's access rule refuses this first
        raise NotSignedIn()
    return IdempotentRequest.of(
        scope=idempotency.account_scope(principal.account_id),
        key=key,
        method=request.method,
        path=request.url.path,
        body=body,
    )


IdempotencyKey = Annotated[IdempotentRequest | None, Depends(idempotency_request)]


def replay_response(stored: StoredResponse) -> Response:
    """The stored answer, as it was first sent (a redirect goes to the same place)."""
    # Never cached: the first answer may have been private, its headers are not kept.
    headers = {REPLAYED_HEADER: "true", "Cache-Control": "no-store"}
    if stored.media_type == REDIRECT_MEDIA_TYPE:
        return RedirectResponse(stored.body, status_code=stored.status_code, headers=headers)
    return Response(
        stored.body, status_code=stored.status_code, media_type=stored.media_type, headers=headers
    )


def record_response(attempt: Attempt, response: Response) -> Response:
    """Store ``response`` as the attempt's answer and return it unchanged."""
    location = response.headers.get("location")
    if location is not None and 300 <= response.status_code < 400:
        attempt.record(response.status_code, location, REDIRECT_MEDIA_TYPE)
    else:
        body = bytes(response.body).decode("utf-8")
        media_type = response.media_type or response.headers.get("content-type", "")
        attempt.record(response.status_code, body, media_type)
    return response


def not_idempotent(endpoint: F) -> F:
    """Mark a state-changing route that takes no key (the session routes only)."""
    endpoint.__dict__["idempotency_exempt"] = True
    return endpoint


class IdempotentRoute(APIRoute):
    """An API route whose state-changing endpoint honours a key (module docstring)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = {m.upper() for m in kwargs.get("methods") or ()}
        if methods & CHANGING_METHODS and not endpoint.__dict__.get("idempotency_exempt"):
            endpoint = _honouring_keys(endpoint, lambda: self)
            # Every route that honours a key may refuse a reused one: its schema says so.
            kwargs["responses"] = {**RESPONSES, **(kwargs.get("responses") or {})}
        super().__init__(path, endpoint, **kwargs)


class _Refused(Exception):
    """A page that answered a refusal (a form shown again with its problems) without
    raising: its unit is rolled back, the key stays free for the corrected retry, and
    nothing the person typed is stored with the key."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


_VC = "idempotency_valuechain_"
_KEY = "idempotency_key_"


def _honouring_keys(endpoint: Callable[..., Any], route: Callable[[], APIRoute]) -> Any:
    """``endpoint`` run inside :func:`idempotency.idempotent` when a key is sent, its
    answer (a ``Response``, or content the route's response model encodes) stored."""
    hints = typing.get_type_hints(endpoint, include_extras=True)
    signature = inspect.signature(endpoint)
    parameters = [
        p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()
    ]
    parameters += [
        inspect.Parameter(
            _VC,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[Valuechain, Depends(current_valuechain)],
        ),
        inspect.Parameter(_KEY, inspect.Parameter.KEYWORD_ONLY, annotation=IdempotencyKey),
    ]
    # Resolved here: the wrapper's globals are this module's, not the endpoint's.
    typed = signature.replace(
        parameters=parameters, return_annotation=hints.get("return", signature.return_annotation)
    )
    adapter: list[TypeAdapter[Any]] = []

    def answer(content: Any) -> Response:
        if isinstance(content, Response):
            return content
        model = route().response_model
        if model is None:
            encoded = json.dumps(jsonable_encoder(content), separators=(",", ":"))
        else:
            if not adapter:
                adapter.append(TypeAdapter(model))
            valid = adapter[0].validate_python(content, from_attributes=True)
            encoded = adapter[0].dump_json(valid, by_alias=True).decode("utf-8")
        return Response(
            encoded, status_code=route().status_code or 200, media_type="application/json"
        )

    def once(vc: Valuechain, key: IdempotentRequest, call: Callable[[], Any]) -> Response:
        try:
            with idempotency.idempotent(vc, key) as attempt:
                if attempt.replay is not None:
                    return replay_response(attempt.replay)
                response = answer(call())
                if response.status_code >= 400:
                    raise _Refused(response)
                return record_response(attempt, response)
        except _Refused as refused:
            return refused.response

    if inspect.iscoroutinefunction(endpoint):

        @wraps(endpoint)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            vc, key = kwargs.pop(_VC), kwargs.pop(_KEY)
            if key is None:
                return await endpoint(*args, **kwargs)
            # The unit is opened in a worker thread (it may wait for SQLite's write
            # lock); the endpoint runs on the event loop in that thread's context, so
            # the services it calls in the thread pool join the unit.
            coroutine = partial(endpoint, *args, **kwargs)
            return await run_in_threadpool(once, vc, key, lambda: from_thread.run(coroutine))

        run_async.__signature__ = typed  # type: ignore[attr-defined]
        return run_async

    @wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        vc, key = kwargs.pop(_VC), kwargs.pop(_KEY)
        if key is None:
            return endpoint(*args, **kwargs)
        return once(vc, key, partial(endpoint, *args, **kwargs))

    run.__signature__ = typed  # type: ignore[attr-defined]
    return run


def honours_keys(endpoint: Callable[..., Any]) -> bool:
    """Whether a route's endpoint runs through this mechanism (for the route test)."""
    return _KEY in inspect.signature(endpoint).parameters
