"""A bug answered 500 leaves the keep-alive connection usable: against a real uvicorn
server on loopback, the next request on the same connection is answered (Starlette
raised the error on to uvicorn after answering, and uvicorn then closed the
connection without saying so, so the client's next request failed too)."""

from __future__ import annotations

import http.client
import json
from typing import Any

from fastapi import FastAPI

from tests.browser.conftest import serving
from valuechain import Valuechain
from valuechain.api import PREFIX
from valuechain.web.app import create_app


def _app_with_a_bug(vc: Valuechain) -> FastAPI:
    """The app, plus a page and an endpoint that fail as a bug does."""
    app = create_app(vc)

    def broken() -> Any:
        return sorted([1.0, None])  # the flow page's bug: None does not compare

    app.add_api_route("/broken", broken)
    app.add_api_route(f"{PREFIX}/broken", broken)
    return app


def test_a_500_does_not_poison_the_keep_alive_connection(vc: Valuechain) -> None:
    with serving(lambda _url: _app_with_a_bug(vc)) as url:
        host, port = url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            connection.request("GET", "/broken")
            page = connection.getresponse()
            body = page.read().decode()
            assert page.status == 500
            # The error page, with the headers every page carries; no trace.
            socket_used = connection.sock
            assert socket_used is not None

            connection.request("GET", f"{PREFIX}/broken")
            api = connection.getresponse()
            assert api.status == 500
            assert api.getheader("Content-Type") == "application/problem+json"
            assert json.loads(api.read())["status"] == 500

            # Before the fix this request failed: the server had closed the connection.
            connection.request("GET", "/healthz")
            healthy = connection.getresponse()
            healthy.read()
            assert healthy.status == 200
            assert connection.sock is socket_used  # the same connection all along
            # The error page, with the headers every page carries; no trace.
            assert "Internal Server Error" in body and "Traceback" not in body
            assert page.getheader("X-Request-ID") and page.getheader("Content-Security-Policy")
        finally:
            connection.close()
