"""The one error map: every error a user can cause, answered the same way by every
page and endpoint.

A :class:`~valuechain.services.errors.ValuechainError` carries its HTTP status and
title (its kind, see :mod:`valuechain.services.errors`); the few errors of the domain
(pure ``ValueError`` subclasses, which may not know about HTTP) get theirs from
:data:`DOMAIN_KINDS`. :func:`install` adds the two handlers once: the JSON API
answers RFC 9457 ``application/problem+json`` (``type``, ``title``, ``status``,
``detail`` and the error's own members, such as ``retry_after``); pages answer the
error page with the message, and send someone not signed in to the sign-in page.
Routes therefore raise and never catch an error only to turn it into HTTP.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from valuechain.domain import agreement, calendar, commitment
from valuechain.domain import request as request_rules
from valuechain.services.errors import (
    Conflict,
    Invalid,
    NotSignedIn,
    TooMany,
    ValuechainError,
)

PROBLEM_JSON = "application/problem+json"

#: Domain errors (``ValueError`` subclasses, free of HTTP) mapped to their kind: a
#: service normally turns them into its own error, this is the net below it.
DOMAIN_KINDS: dict[type[Exception], type[ValuechainError]] = {
    agreement.TransitionError: Conflict,
    request_rules.TransitionError: Conflict,
    calendar.CalendarError: Invalid,
    commitment.RecurrenceError: Invalid,
}

#: Page templates by status; any other status uses ``errors/error.html``.
PAGE_TEMPLATES = {403: "errors/403.html", 404: "errors/404.html"}


class Problem(BaseModel):
    """An error as RFC 9457 problem details: what kind of mistake (``title``, the
    HTTP ``status``) and what exactly went wrong (``detail``, a sentence for people)."""

    type: str = Field(default="about:blank", description="Always about:blank: see title.")
    title: str = Field(default="", description="The kind of mistake, e.g. Not found.")
    status: int = Field(default=400, description="The HTTP status, repeated.")
    detail: str


class Unprocessable(BaseModel):
    """A ``422``: a problem (``detail`` a sentence, with ``errors``, a message per
    field, for survey answers), or the request's schema violations as FastAPI lists
    them (``detail`` a list of ``loc``, ``msg``, ``type``)."""

    type: str | None = None
    title: str | None = None
    status: int | None = None
    detail: str | list[dict[str, Any]]
    errors: dict[str, str] | None = None


class TooManyProblem(Problem):
    """A ``429``: wait ``retry_after`` seconds (also the ``Retry-After`` header)."""

    retry_after: int


def kind_of(error: Exception) -> tuple[int, str]:
    """The HTTP status and title of ``error``: its own for a Valuechain error, its
    kind's for a domain error, 500 for anything else."""
    if isinstance(error, ValuechainError):
        return error.status, error.title
    for domain_error, kind in DOMAIN_KINDS.items():
        if isinstance(error, domain_error):
            return kind.status, kind.title
    return 500, HTTPStatus.INTERNAL_SERVER_ERROR.phrase


def status_of(error: Exception) -> int:
    """The status a form answers when it shows ``error`` next to what was typed:
    the error's kind, and 422 for a value the edge itself could not read."""
    status, _ = kind_of(error)
    return 422 if status == 500 and isinstance(error, ValueError) else status


def problem(error: Exception) -> dict[str, Any]:
    """``error`` as a problem+json document, with the error's extra members."""
    status, title = kind_of(error)
    doc: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    doc["detail"] = str(error)
    if isinstance(error, ValuechainError):
        doc.update(error.extensions())
    return doc


def headers_of(error: Exception) -> dict[str, str]:
    """The HTTP headers an error's answer needs (``Retry-After``, ``WWW-Authenticate``)."""
    if isinstance(error, TooMany):
        return {"Retry-After": str(error.retry_after)}
    if isinstance(error, NotSignedIn):
        return {"WWW-Authenticate": "Bearer"}
    return {}


def problem_response(error: Exception) -> JSONResponse:
    """The JSON API's answer to ``error``."""
    doc = problem(error)
    return JSONResponse(
        doc, status_code=doc["status"], headers=headers_of(error), media_type=PROBLEM_JSON
    )


def install(app: FastAPI, *, api_prefix: str, templates: Jinja2Templates) -> None:
    """Answer every Valuechain and domain error, and every HTTP error, of ``app``:
    problem+json under ``api_prefix``, the error page (rendered by ``templates``)
    elsewhere."""

    def is_api(request: Request) -> bool:
        return request.url.path.startswith(api_prefix)

    def page(request: Request, status: int, title: str, message: str) -> Response:
        return error_page(templates, request, status, title, message)

    async def domain_error(request: Request, error: Exception) -> Response:
        if is_api(request):
            return problem_response(error)
        if isinstance(error, NotSignedIn):
            return _to_sign_in(request)
        status, title = kind_of(error)
        response = page(request, status, title, str(error))
        response.headers.update(headers_of(error))
        return response

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        title = HTTPStatus(error.status_code).phrase
        if is_api(request) or error.status_code != 404:
            detail = error.detail
            return JSONResponse(
                {"type": "about:blank", "title": title, "status": error.status_code}
                | {"detail": detail},
                status_code=error.status_code,
                headers=error.headers,
                media_type=PROBLEM_JSON,
            )
        return page(request, 404, title, "There is no page at this address.")

    app.add_exception_handler(ValuechainError, domain_error)
    for domain_class in DOMAIN_KINDS:
        app.add_exception_handler(domain_class, domain_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    _document_problems(app)


def error_page(
    templates: Jinja2Templates, request: Request, status: int, title: str, message: str
) -> Response:
    """The error page (or, for an HTMX request, the message alone as a fragment)."""
    if request.headers.get("HX-Request") == "true":
        # A fragment swapped into a page: the message alone, not a whole page.
        return templates.TemplateResponse(
            request, "errors/_fragment.html", {"message": message}, status_code=status
        )
    return templates.TemplateResponse(
        request,
        PAGE_TEMPLATES.get(status, "errors/error.html"),
        {"message": message, "title": title, "status": status},
        status_code=status,
    )


#: Said instead of an unexpected error's text, which is for the operators' log only.
UNEXPECTED = "Something went wrong on our side. It has been logged; please try again later."
#: The server's error log: uvicorn's, whose filters take survey tokens out of a trace.
SERVER_LOG = logging.getLogger("uvicorn.error")


class Unexpected:
    """ASGI middleware: an error no handler knows (a bug) is logged with its trace and
    answered 500 (the error page, problem+json under ``api_prefix``), and the
    connection stays usable.

    Starlette answers such an error itself but then raises it again to the server,
    and uvicorn closes a connection whose app raised after answering, without saying
    ``Connection: close``: the client's next request on that keep-alive connection
    then failed too. Here the error ends with its answer. When the answer had already
    begun, only closing the connection can end it, so the error goes on to the server."""

    def __init__(self, app: ASGIApp, *, api_prefix: str, templates: Jinja2Templates) -> None:
        self.app = app
        self.api_prefix = api_prefix
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as error:
            if started:
                raise
            SERVER_LOG.error("Exception in ASGI application", exc_info=error)
            request = Request(scope, receive)
            title = HTTPStatus.INTERNAL_SERVER_ERROR.phrase
            response: Response
            if request.url.path.startswith(self.api_prefix):
                response = JSONResponse(
                    {"type": "about:blank", "title": title, "status": 500, "detail": UNEXPECTED},
                    status_code=500,
                    media_type=PROBLEM_JSON,
                )
            else:
                response = error_page(self.templates, request, 500, title, UNEXPECTED)
            await response(scope, receive, send)


def _document_problems(app: FastAPI) -> None:
    """Document every error answer of the schema as ``application/problem+json`` too
    (FastAPI documents a response model as ``application/json`` only)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        cached = app.openapi_schema is not None
        schema = build()
        if cached:
            return schema
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, answer in operation.get("responses", {}).items():
                    content = answer.get("content", {})
                    if status[:1] in "45" and "application/json" in content:
                        content.setdefault(PROBLEM_JSON, content["application/json"])
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _to_sign_in(request: Request) -> Response:
    """A page needs a session: go to the sign-in page and come back afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    signin = f"/signin?next={quote(target, safe='')}"
    if request.headers.get("HX-Request") == "true":
        # HTMX would swap the sign-in page into a fragment; make it navigate.
        return Response(status_code=401, headers={"HX-Redirect": signin})
    return RedirectResponse(signin, status_code=303)


#: OpenAPI ``responses`` for every endpoint that names a thing in its path.
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such unit or object"}
}
