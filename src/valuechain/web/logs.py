"""Survey tokens never reach a log line.

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
from collections.abc import Mapping
from typing import Any

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
