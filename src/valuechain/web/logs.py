"""The server's log lines: JSON or text, each carrying the id of the request it was
written for, and never a survey token.

**Request ids.** :class:`RequestId` (an ASGI middleware) gives every HTTP request an id
(the client's ``X-Request-ID`` when it is sane, else a new one), echoes it in the
``X-Request-ID`` response header and keeps it in a context variable while the request
is handled; :class:`RequestIdFilter` writes it on every log record as ``request_id``.
:func:`log_config` is uvicorn's logging configuration in either format.

**Survey tokens never reach a log line.**

A survey link's token is the respondent's credential (docs/access.md, "Survey
links"): whoever reads it can answer in their place, and the order of logged links
would line respondents up with the stored answers. :class:`RedactSurveyTokens`
replaces the token of every ``/s/{token}`` and ``/api/v1/survey/{token}`` path with
``…`` in the message, its arguments (uvicorn's access log passes the path as one) and
any exception trace. :func:`install` puts it on the loggers the server writes to.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from enum import StrEnum
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.logging import AccessFormatter, DefaultFormatter

#: The path segment after a survey route's prefix, up to the next separator.
SURVEY_TOKEN = re.compile(r"(/s/|/survey/)(?!thanks\b|…)[^/?#\s\"'<>]+")
REDACTED = "…"
#: uvicorn's access and error logs; the app's own code never logs a token.
LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn.asgi")


def redact(text: str) -> str:
    """``text`` with the token of every survey path replaced by ``…``."""
    return SURVEY_TOKEN.sub(rf"\1{REDACTED}", text)


def _redacted(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactSurveyTokens(logging.Filter):
    """Rewrites a record's message, arguments and exception trace; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        # The arguments first: uvicorn's access formatter unpacks them again.
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(a) for a in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {k: _redacted(v) for k, v in record.args.items()}
        message = record.getMessage()
        if SURVEY_TOKEN.search(message):
            # The template and its arguments only make a token together ("/s/%s").
            record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            # Formatted here so that no handler formats the raw trace later.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install() -> None:
    """Put one :class:`RedactSurveyTokens` on each of :data:`LOGGERS` (idempotent).
    Logger filters survive uvicorn's logging configuration, which replaces handlers."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSurveyTokens) for f in logger.filters):
            logger.addFilter(RedactSurveyTokens())


# -- request ids --------------------------------------------------------------------

REQUEST_ID_HEADER = "X-Request-ID"
#: An incoming id is kept when it looks like an id (a UUID, a proxy's or a tracer's
#: token); anything else (too long, spaces, quotes, newlines) could forge log lines.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@+=-]{1,128}")
#: The id of the request being handled, ``None`` outside a request.
current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def request_id_from(incoming: str | None) -> str:
    """``incoming`` if it is a sane id, else a new random one (32 hex digits)."""
    if incoming is not None and SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestId:
    """ASGI middleware: sets :data:`current_request_id` for the request and answers
    with the id in ``X-Request-ID``.

    The variable is not reset afterwards on purpose: uvicorn runs each request in a
    task of its own (a copy of the context), and it logs the access line and any
    unhandled exception after the app has returned; both must carry the id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.lower().encode("latin-1"))
        rid = request_id_from(incoming.decode("latin-1") if incoming is not None else None)
        current_request_id.set(rid)
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = rid
            await send(message)

        await self.app(scope, receive, send_with_id)


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record as ``request_id`` (``None``
    outside a request); drops nothing. Installed on handlers, so records of every
    logger that reach them carry it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


# -- formats ------------------------------------------------------------------------


class LogFormat(StrEnum):
    JSON = "json"
    TEXT = "text"


def _with_request_id(line: str, record: logging.LogRecord) -> str:
    rid = getattr(record, "request_id", None)
    return f"{line} request_id={rid}" if rid else line


class TextFormatter(DefaultFormatter):
    """uvicorn's line, then ``request_id=…`` for a line written while handling one."""

    def format(self, record: logging.LogRecord) -> str:
        return _with_request_id(super().format(record), record)


class AccessTextFormatter(AccessFormatter):
    """uvicorn's access line, then ``request_id=…``."""

    def format(self, record: logging.LogRecord) -> str:
        return _with_request_id(super().format(record), record)


#: The arguments of uvicorn's access log record, in order.
ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


class JsonFormatter(_JsonFormatter):
    """One JSON object a line: ``time``, ``level``, ``logger``, ``message``,
    ``request_id``, and for uvicorn's access lines ``client``, ``method``, ``path``,
    ``http_version`` and ``status`` as fields. A trace is redacted like the message
    (:class:`RedactSurveyTokens` already rewrote ``exc_text``; this formatter
    formats ``exc_info`` again)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
            **kwargs,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        # uvicorn's copy of the message with terminal colours, for its text lines.
        log_data.pop("color_message", None)
        args = record.args
        if (
            record.name == "uvicorn.access"
            and isinstance(args, tuple)
            and len(args) == len(ACCESS_FIELDS)
        ):
            log_data.update(zip(ACCESS_FIELDS, args, strict=True))

    def formatException(self, ei: Any) -> str:
        return redact(str(super().formatException(ei)))

    def formatStack(self, stack_info: str) -> str:
        return redact(str(super().formatStack(stack_info)))


def log_config(log_format: LogFormat) -> dict[str, Any]:
    """uvicorn's ``log_config``: its loggers (errors on stderr, access lines on
    stdout, as uvicorn does) and the root logger at WARNING with the app's own
    ``valuechain`` loggers at INFO, every line in ``log_format`` with the request id."""
    json_lines = log_format is LogFormat.JSON
    formatters: dict[str, Any] = {
        "default": {"()": f"{__name__}.JsonFormatter"}
        if json_lines
        else {"()": f"{__name__}.TextFormatter", "fmt": "%(levelprefix)s %(message)s"},
        "access": {"()": f"{__name__}.JsonFormatter"}
        if json_lines
        else {
            "()": f"{__name__}.AccessTextFormatter",
            "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s',
        },
    }
    handler = {"class": "logging.StreamHandler", "filters": ["request_id"]}
    return {
        "version": 1,
        # Loggers made before (and their filters, such as the redaction) stay.
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": formatters,
        "handlers": {
            "default": {**handler, "formatter": "default", "stream": "ext://sys.stderr"},
            "access": {**handler, "formatter": "access", "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
            "valuechain": {"level": "INFO"},
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
    }
