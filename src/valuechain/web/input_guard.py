"""Input no route can take, refused in one place before any route reads it.

:class:`InputGuard` is a pure ASGI middleware for the whole app (API and pages):

- ``NaN``, ``Infinity`` and ``-Infinity`` in a JSON body answer ``400``: they are not
  JSON (RFC 8259), Python's parser accepts them anyway, and a NaN that reached a
  number would poison sums, while one echoed in a validation error made the answer
  itself fail (a 500).
- The NUL character (U+0000) anywhere in the path, the query string, a form body
  (``application/x-www-form-urlencoded``) or a string (or key) of a JSON body answers
  ``422``: PostgreSQL cannot store it in text, so it would fail deep in a query (a
  500), and no name, email or title needs it. Multipart bodies (file uploads, which
  may be binary) are left to their routes.

Answers under the API prefix are the usual problem body ``{"detail": "…"}``; pages
get the same message as plain text.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NOT_JSON_NUMBER = "The body is not valid JSON: NaN, Infinity and -Infinity are not JSON numbers."
NUL_IN_TEXT = "Text may not contain the NUL character (U+0000)."


class _Constant(ValueError):
    """A JSON body held NaN, Infinity or -Infinity."""


def _refuse_constant(name: str) -> Any:
    raise _Constant(name)


def _holds_nul(value: Any) -> bool:
    """Whether a parsed JSON value has a NUL in any string or key (iteratively: a
    deeply nested body must not exhaust the stack)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def json_problem(body: bytes) -> tuple[int, str] | None:
    """``(status, message)`` for a JSON body this guard refuses, else ``None`` (also
    for a body that is not JSON at all: the route answers that as usual)."""
    # Cheap test first: most bodies hold none of these bytes and are not parsed here.
    if b"NaN" not in body and b"Infinity" not in body and b"\\u0000" not in body:
        return None
    try:
        parsed = json.loads(body, parse_constant=_refuse_constant)
    except _Constant:
        return 400, NOT_JSON_NUMBER
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
        return None
    return (422, NUL_IN_TEXT) if _holds_nul(parsed) else None


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
        if "\x00" in scope.get("path", "") or b"\x00" in unquote_to_bytes(query):
            await self._answer(scope, 422, NUL_IN_TEXT)(scope, receive, send)
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
            problem = (422, NUL_IN_TEXT) if b"\x00" in unquote_to_bytes(body) else None
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
