"""The Content-Security-Policy of every response.

The app's own pages load scripts and styles from the app only: no inline script, no
``<style>`` element, no event handler attribute (their scripts live in
``static/js/``), no ``eval`` (htmx is configured without it in ``base.html``). Two
exceptions, each as narrow as it can be:

- the flow pages (``/flow``, and the what-if fragment they load) draw their bar
  charts with ``style`` attributes (a bar's height is its utilisation), so they also
  allow inline style *attributes* (``style-src-attr``), still no ``<style>``
  element and no script;
- the API's documentation pages (``/docs``, ``/redoc``, ``/docs/oauth2-redirect``),
  which hold no data, load the app's vendored Swagger UI and ReDoc with one inline
  script each, allowed by its SHA-256 hash and no other; their styles may be inline
  (ReDoc writes ``<style>`` elements at run time) and ReDoc runs a worker from a
  ``blob:``. Nothing is loaded from another site.
"""

from __future__ import annotations

import base64
import hashlib
import re

COMMON = (
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
)
STRICT = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        *COMMON,
    )
)
# The flow charts' bars are positioned by style attributes; nothing else is loosened.
FLOW = STRICT.replace("style-src 'self'", "style-src 'self'; style-src-attr 'unsafe-inline'")
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def policy(path: str) -> str:
    """The policy of an app page, an API answer or a static file at ``path``."""
    if path == "/flow" or path.startswith("/flow/"):
        return FLOW
    return STRICT


def is_docs(path: str) -> bool:
    """Whether ``path`` is one of the API documentation pages (see :func:`docs_policy`)."""
    return path in DOCS_PATHS


def docs_policy(html: bytes) -> str:
    """The policy of a documentation page: the app's own files, and the page's inline
    scripts by hash (computed from the page as sent, so an upgrade of FastAPI's page
    stays allowed and nothing else is)."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
        for body in INLINE_SCRIPT.findall(html)
    )
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' {hashes}".rstrip(),
            "style-src 'self' 'unsafe-inline'",
            "font-src 'self'",
            "img-src 'self' data:",
            "worker-src 'self' blob:",
            "connect-src 'self'",
            *COMMON,
        )
    )
