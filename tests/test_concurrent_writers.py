"""Concurrent writers against a real server (issue 14): 20 clients each make 50 writes a
client may retry (file a request, move it along, thank for it, every one with an
Idempotency-Key; some sent twice as a retry would), on SQLite and on PostgreSQL.

Nothing may answer 5xx (a use case holding one connection while it waits for a second
from the pool hung for 30 s and failed on PostgreSQL; a deferred SQLite transaction
that read and then wrote failed with "database is locked"), every acknowledged write
is in the database exactly once, and a replayed key changes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from tests.conftest import _free_port
from tests.test_api import chain_map
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.services import accounts
from valuechain.services.audit import Actor

CLIENTS = 20
WRITES = 50  # per client: cycles of file, ack, start, resolve, thank
CYCLE = ("file", "ack", "start", "resolve", "thanks")
PASSWORD = "concurrent writers' password"
# A write is sent again with its key every few writes, as a client whose answer was
# lost would: the replay must answer the same and store nothing.
RETRY_EVERY = 4


@dataclass
class Tally:
    """What the clients saw: status codes, transport errors, the acknowledged writes
    and replays that did not answer as the first call did."""

    codes: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    filed: dict[str, str] = field(default_factory=dict)  # title -> request id
    events: list[tuple[str, str]] = field(default_factory=list)  # (request id, verb)
    thanked: list[str] = field(default_factory=list)
    bad_replays: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _start_server(url: str, folder: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = _free_port()
    log = folder / "server.log"
    env = {
        **os.environ,
        "VALUECHAIN_DATABASE_URL": url,
        "VALUECHAIN_QUEUE_URL": f"sqlite:///{folder / 'queue.db'}",
    }
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "valuechain"), "serve", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"{base}/openapi.json", timeout=2).status_code == 200:
                return server, base, log
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    server.kill()
    raise RuntimeError(f"the server did not start:\n{log.read_text(errors='replace')[-3000:]}")


def _client(base: str, token: str, number: int, tally: Tally) -> None:
    """One client's writes; every answer is tallied, every acknowledged write noted."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=40) as http:
        request_id = ""
        for n in range(WRITES):
            step = CYCLE[n % len(CYCLE)]
            title = f"client {number} write {n}"
            if step == "file":
                path = "/api/v1/requests"
                body: dict[str, Any] = {"customer": "pack", "provider": "make", "title": title}
            elif step == "thanks":
                path, body = f"/api/v1/requests/{request_id}/thanks", {"note": title}
            else:
                path = f"/api/v1/requests/{request_id}/events"
                body = {"verb": step, "note": title}
            key = {"Idempotency-Key": f"c{number}-w{n}"}
            sends = 2 if n % RETRY_EVERY == 0 else 1
            first: httpx.Response | None = None
            for attempt in range(sends):
                try:
                    answer = http.post(path, json=body, headers=key)
                except httpx.HTTPError as error:
                    with tally.lock:
                        tally.errors.append(f"{step} {title}: {error!r}")
                    return
                with tally.lock:
                    tally.codes[answer.status_code] += 1
                if attempt == 0:
                    first = answer
                elif first is not None and (
                    answer.status_code != first.status_code
                    or answer.json() != first.json()
                    or answer.headers.get("Idempotent-Replayed") != "true"
                ):
                    with tally.lock:
                        tally.bad_replays.append(f"{step} {title}: {answer.status_code}")
            assert first is not None
            if not first.is_success:
                return  # the answer is tallied; the next steps would refer to nothing
            with tally.lock:
                if step == "file":
                    request_id = first.json()["id"]
                    tally.filed[title] = request_id
                elif step == "thanks":
                    tally.thanked.append(request_id)
                else:
                    tally.events.append((request_id, step))


def _run(url: str, folder: Path) -> None:
    vc = Valuechain.open(url, create=True)
    vc.write_map(chain_map())
    accounts.create_account(
        vc, "writer@example.org", PASSWORD, AccountRole.ADMIN, Actor(None, "test", "test")
    )
    server, base, log = _start_server(url, folder)
    try:
        signed = httpx.post(
            f"{base}/api/v1/session",
            json={"email": "writer@example.org", "password": PASSWORD},
            timeout=30,
        )
        assert signed.status_code == 201, signed.text
        token = signed.json()["token"]
        tally = Tally()
        threads = [
            threading.Thread(target=_client, args=(base, token, i, tally)) for i in range(CLIENTS)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        took = time.monotonic() - started
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung server
            server.kill()
    failed = {code: n for code, n in tally.codes.items() if code >= 500}
    summary = (
        f"{dict(tally.codes)} in {took:.1f} s; log:\n{log.read_text(errors='replace')[-2000:]}"
    )
    assert not tally.errors, (tally.errors[:5], summary)
    assert not failed, summary
    assert not tally.bad_replays, tally.bad_replays[:5]
    writes = CLIENTS * WRITES
    assert len(tally.filed) + len(tally.events) + len(tally.thanked) == writes, summary
    with vc.engine.connect() as conn:
        titles = Counter(
            conn.execute(
                text("SELECT title FROM requests WHERE org_id = :org"), {"org": vc.org_id}
            ).scalars()
        )
        stored_events = Counter(
            (row.request_id, row.verb)
            for row in conn.execute(
                text("SELECT request_id, verb FROM request_events WHERE org_id = :org"),
                {"org": vc.org_id},
            )
        )
        thanked = set(
            conn.execute(
                text("SELECT id FROM requests WHERE org_id = :org AND thanked_at IS NOT NULL"),
                {"org": vc.org_id},
            ).scalars()
        )
    vc.engine.dispose()
    # Every acknowledged request stored once, and nothing stored that was not acknowledged.
    assert titles == Counter(list(tally.filed))
    for request_id, verb in tally.events:
        assert stored_events[(request_id, verb)] == 1, (request_id, verb)
    for request_id in tally.thanked:
        assert stored_events[(request_id, "thank")] == 1, request_id
    # One "new" event per request, one per acknowledged move and thanks, nothing else.
    assert sum(stored_events.values()) == writes
    assert thanked == set(tally.thanked)


def test_twenty_clients_writing_at_once_get_no_server_error(fresh_url: str, tmp_path: Path) -> None:
    _run(fresh_url, tmp_path)
