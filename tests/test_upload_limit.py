"""Oversized uploads are refused early, against a real uvicorn server on loopback:
a too-large Content-Length is answered 413 before any of the body is sent, a chunked
body is cut off with 413 as soon as it passes the limit, bundle imports may be larger
than forms, and bodies within the limit work as before."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI, Request

from tests.browser.conftest import serving
from tests.conftest import TEST_SECURITY
from tests.signin import PASSWORD, make_account
from valuechain import Valuechain
from valuechain.domain.access import Action
from valuechain.edge.dependencies import allow
from valuechain.settings import MIB
from valuechain.web.app import create_app
from valuechain.web.limits import UploadLimits

FORMS = 64 * 1024
IMPORTS = 1 * MIB
LIMITS = UploadLimits(default=FORMS, imports=IMPORTS)


def app_with_import_route(vc: Valuechain) -> FastAPI:
    """The real app with the given limits, plus a route under the import path that
    counts the raw body (the real import parses a multipart form; the limit is the
    path's, whatever the route does with the body)."""
    app = create_app(vc, limits=LIMITS)

    @app.post("/api/v1/import/echo", dependencies=[allow(Action.IMPORT)])
    async def receive_bundle(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    return app


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    vc = Valuechain.open(
        f"sqlite:///{tmp_path_factory.mktemp('limits') / 'v.db'}",
        security=TEST_SECURITY,
        create=True,
    )
    make_account(vc)
    with serving(lambda _url: app_with_import_route(vc)) as url:
        answer = httpx.post(
            f"{url}/api/v1/session", json={"email": "admin@example.org", "password": PASSWORD}
        )
        assert answer.status_code == 201, answer.text
        yield url, answer.json()["token"]


def raw_connection(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    conn = socket.create_connection((host, int(port)), timeout=10)
    return conn


def read_status(conn: socket.socket) -> tuple[int, bytes]:
    """The status and the whole answer (headers and the body of its Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.lower().split(b"\r\n")
            if line.startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(head.split(b" ", 2)[1]), head + b"\r\n\r\n" + body


def test_a_body_within_the_limit_is_accepted(server: tuple[str, str]) -> None:
    url, token = server
    body = b"x" * (FORMS - 100)
    answer = httpx.post(
        f"{url}/api/v1/import/echo", content=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200
    assert answer.json() == {"bytes": len(body)}


def test_a_too_large_content_length_is_refused_before_the_body_is_sent(
    server: tuple[str, str],
) -> None:
    url, _ = server
    with raw_connection(url) as conn:
        conn.sendall(
            b"POST /api/v1/session HTTP/1.1\r\nHost: test\r\n"
            b"Content-Type: application/json\r\n" + f"Content-Length: {FORMS + 1}\r\n\r\n".encode()
        )
        started = time.monotonic()
        status, data = read_status(conn)  # not one byte of the body was sent
        assert status == 413
        assert time.monotonic() - started < 5
        assert b"larger than this server accepts" in data


def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(server: tuple[str, str]) -> None:
    url, token = server
    chunk = b"y" * 16384
    with raw_connection(url) as conn:
        conn.sendall(
            b"POST /api/v1/import/echo HTTP/1.1\r\nHost: test\r\n"
            + f"Authorization: Bearer {token}\r\n".encode()
            + b"Transfer-Encoding: chunked\r\n\r\n"
        )
        sent = 0
        # Send a little more than the import limit, then stop without ending the body:
        # an answer can only come from counting the stream, not from reading it all.
        while sent <= IMPORTS + len(chunk):
            conn.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sent += len(chunk)
        status, data = read_status(conn)
        assert status == 413, data
        assert b"larger than this server accepts" in data


def test_chunked_bodies_within_the_limit_still_work(server: tuple[str, str]) -> None:
    url, token = server

    def stream() -> Iterator[bytes]:
        for _ in range(8):
            yield b"z" * 65536

    answer = httpx.post(
        f"{url}/api/v1/import/echo", content=stream(), headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200
    assert answer.json() == {"bytes": 8 * 65536}


def test_imports_may_be_larger_than_forms(server: tuple[str, str]) -> None:
    url, token = server
    body = b"b" * (FORMS * 4)
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.post(f"{url}/api/v1/import/echo", content=body, headers=headers).status_code == 200
    form = httpx.post(
        f"{url}/api/v1/session", content=body, headers={"Content-Type": "application/json"}
    )
    assert form.status_code == 413
    assert "larger than" in form.json()["detail"]
    too_big = httpx.post(f"{url}/api/v1/import/echo", content=b"b" * (IMPORTS + 1), headers=headers)
    assert too_big.status_code == 413


def test_the_server_keeps_working_after_refusals(server: tuple[str, str]) -> None:
    url, token = server
    for _ in range(3):
        assert (
            httpx.post(f"{url}/api/v1/import/echo", content=b"c" * (IMPORTS + 10)).status_code
            == 413
        )
    me = httpx.get(f"{url}/api/v1/session", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert json.loads(me.text)["email"] == "admin@example.org"


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VALUECHAIN_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("VALUECHAIN_MAX_IMPORT_BYTES", "4096")
    limits = UploadLimits.from_environment()
    assert limits.for_path("/api/v1/session") == 2048
    assert limits.for_path("/api/v1/import") == 4096
    assert limits.for_path("/admin/import/preview") == 4096
    assert limits.for_path("/api/v1/importer") == 2048
    monkeypatch.setenv("VALUECHAIN_MAX_BODY_BYTES", "0")
    with pytest.raises(ValueError, match="VALUECHAIN_MAX_BODY_BYTES='0': must be greater than 0"):
        UploadLimits.from_environment()
