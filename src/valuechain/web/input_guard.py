"""Input no route can take, refused in one place before any route reads it.

:class:`InputGuard` is a pure ASGI middleware for the whole app (API and pages):

- ``NaN``, ``Infinity`` and ``-Infinity`` in a JSON body answer ``400``: they are not
  JSON (RFC 8259), Python's parser accepts them anyway, and a NaN that reached a
  number would poison sums, while one echoed in a validation error made the answer
  itself fail (a 500).
- The NUL character (U+0000) or a lone surrogate anywhere in the path, the query
  string, a form body (``application/x-www-form-urlencoded``) or a string (or key) of
  a JSON body answers ``422`` naming where (the checks are :mod:`valuechain.domain.text`):
  PostgreSQL cannot store NUL in text, a lone surrogate cannot be encoded to answer
  with, so either would fail deep in a query or a response (a 500), and no name,
  email or title needs them. Multipart bodies (file uploads, which may be binary)
  are left to their routes.

Answers under the API prefix are the usual problem body ``{"detail": "…"}``; pages
get the same message as plain text.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from valuechain.domain.text import texts_problem, value_problem

NOT_JSON_NUMBER = "The body is not valid JSON: NaN, Infinity and -Infinity are not JSON numbers."


class _Constant(ValueError):
    """A JSON body held NaN, Infinity or -Infinity."""


def _refuse_constant(name: str) -> Any:
    raise _Constant(name)


def json_problem(body: bytes) -> tuple[int, str] | None:
    """``(status, message)`` for a JSON body this guard refuses, else ``None`` (also
    for a body that is not JSON at all: the route answers that as usual)."""
    # Every JSON body is parsed here (at most the upload limit, 1 MiB by default): a
    # number such as 1e999 reads as an infinity without any tell-tale bytes.
    try:
        parsed = json.loads(body, parse_constant=_refuse_constant)
    except _Constant:
        return 400, NOT_JSON_NUMBER
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
        return None
    problem = value_problem(parsed, "the body")
    return None if problem is None else (422, problem)


def _form_problem(body: bytes) -> str | None:
    """The first NUL or lone surrogate in a URL-encoded form's names and values."""
    return texts_problem(parse_qsl(body.decode("latin-1"), keep_blank_values=True), "the form's")


def _media_type(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            raw: bytes = value
            return raw.split(b";", 1)[0].strip().lower().decode("latin-1")
    return ""


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class InputGuard:
    """Refuses NaN/Infinity in JSON bodies (400) and NUL in any text input (422)."""

    def __init__(self, app: ASGIApp, *, api_prefix: str) -> None:
        self.app = app
        self.api_prefix = api_prefix

    def _answer(self, scope: Scope, status: int, message: str) -> Response:
        if str(scope.get("path", "")).startswith(self.api_prefix):
            return JSONResponse({"detail": message}, status_code=status)
        return PlainTextResponse(message, status_code=status)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query: bytes = scope.get("query_string", b"")
        problem_text = texts_problem(
            [("path", str(scope.get("path", "")))], "the"
        ) or texts_problem(
            parse_qsl(query.decode("latin-1"), keep_blank_values=True), "the query's"
        )
        if problem_text is not None:
            await self._answer(scope, 422, problem_text)(scope, receive, send)
            return
        media_type = _media_type(scope)
        is_form = media_type == "application/x-www-form-urlencoded"
        if not (_is_json(media_type) or is_form):
            await self.app(scope, receive, send)
            return
        # The body is small here: BodyLimit, outside this middleware, caps it.
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([], message, receive), send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if is_form:
            form_text = _form_problem(body)
            problem = None if form_text is None else (422, form_text)
        else:
            problem = json_problem(body)
        if problem is not None:
            await self._answer(scope, *problem)(scope, receive, send)
            return
        await self.app(scope, _replay(chunks, None, receive), send)


def _replay(chunks: list[bytes], last: Message | None, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body already read, then defers to the
    server's (for the disconnect)."""
    pending: list[Message] = [
        {"type": "http.request", "body": b"".join(chunks), "more_body": False}
    ]
    if last is not None:
        pending = [last]

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
