"""Oversized request bodies are refused early, before the app reads them.

:class:`BodyLimit` is a pure ASGI middleware. A request whose ``Content-Length``
exceeds the limit for its path is answered ``413 Content Too Large`` at once, without
reading a byte of its body; a body without a length (``Transfer-Encoding: chunked``)
is counted while it streams in, and the moment it passes the limit the request is
answered 413 and the rest is never read. Limits depend on the kind of route: a bundle
import may be large, every other form or JSON body is small (see ``docs/deploy.md``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from valuechain.settings import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_IMPORT_BYTES, settings

#: Forms and JSON bodies.
DEFAULT_MAX_BODY = DEFAULT_MAX_BODY_BYTES
#: Bundle imports (a CSV folder as a zip, or an .xlsx workbook).
DEFAULT_MAX_IMPORT = DEFAULT_MAX_IMPORT_BYTES
#: Paths (prefixes) that take a bundle.
IMPORT_PATHS = ("/api/v1/import", "/admin/import")


@dataclass(frozen=True)
class UploadLimits:
    """The largest request body accepted, in bytes: ``imports`` for the paths in
    ``import_paths``, ``default`` for every other path."""

    default: int = DEFAULT_MAX_BODY
    imports: int = DEFAULT_MAX_IMPORT
    import_paths: Sequence[str] = field(default=IMPORT_PATHS)

    @classmethod
    def from_environment(cls) -> UploadLimits:
        """Limits from ``VALUECHAIN_MAX_BODY_BYTES`` and ``VALUECHAIN_MAX_IMPORT_BYTES``
        (defaults 1 MiB and 256 MiB)."""
        configured = settings()
        return cls(default=configured.max_body_bytes, imports=configured.max_import_bytes)

    def for_path(self, path: str) -> int:
        """The limit for a request to ``path``."""
        if any(path == p or path.startswith(p + "/") for p in self.import_paths):
            return self.imports
        return self.default


class BodyLimit:
    """ASGI middleware refusing bodies above :class:`UploadLimits` with 413 (see the
    module docstring)."""

    def __init__(self, app: ASGIApp, limits: UploadLimits | None = None) -> None:
        self.app = app
        self.limits = limits or UploadLimits.from_environment()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(scope["path"])
        length = _content_length(scope)
        if length is not None and length > limit:
            await _too_large(send, limit)
            return
        state = {"received": 0, "refused": False, "started": False}

        async def counted_receive() -> Message:
            if state["refused"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    state["refused"] = True
                    if not state["started"]:
                        state["started"] = True
                        await _too_large(send, limit)
                    # The app sees the client go away and stops reading.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if state["refused"]:
                return  # our 413 is the answer; whatever the app says next is dropped
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not state["refused"]:
                raise
            # The app failed because its body was cut off: the 413 has been sent.


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _too_large(send: Send, limit: int) -> None:
    body: Any = json.dumps(
        {"detail": f"The request body is larger than this server accepts ({limit} bytes)."}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
