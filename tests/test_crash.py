"""The crash test (issue 8, Trust, item 5): many concurrent submissions against a real
``valuechain serve`` process, ``kill -9`` at random (seeded) moments, restart, and every
submission that was acknowledged with 2xx is stored exactly once — on SQLite (WAL,
``synchronous=FULL`` for these writes) and on PostgreSQL.

Both kinds of acknowledged write are exercised at once:

* survey answers through single-use links (``POST /api/v1/survey/{token}``), stored
  sealed while the campaign is open; each carries a unique comment so the test can
  find it again among the anonymous sealed responses;
* requests filed and moved through their states (``POST /api/v1/requests`` and
  ``.../events``) with an ``Idempotency-Key``; each change carries a unique note.

A client retries an unacknowledged submission (connection refused or cut, or a 5xx)
with the same token, key and body until it is acknowledged, as a careful client does.
At the end what is stored must equal what was acknowledged, each exactly once, and a
retry of an acknowledged survey link must not add a second response.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, event, func, select

from tests.builders import chain_map
from tests.crash_server import Server
from tests.signin import PASSWORD, make_account
from valuechain import Valuechain
from valuechain.domain.person import Person, Role
from valuechain.domain.request import Verb
from valuechain.services import campaign, idempotency
from valuechain.services import request as requests
from valuechain.services.errors import ValuechainError
from valuechain.store.campaign import INVITATIONS, SEALED
from valuechain.store.database import make_engine
from valuechain.store.tables import RequestEventRow, RequestRow

SEED = 20261123
CLIENTS = 6
RESPONDENTS = 400  # survey links; more than the clients can use up in the run
KILLS = 8  # then the clients finish what is in flight and stop
KILL_AFTER = (0.2, 1.5)  # seconds between a (re)start and the next SIGKILL, uniform
# A request's life: every step is a separate acknowledged change.
VERBS = ("ack", "start", "wait", "start", "resolve", "close", "reopen", "resolve", "close")
TO_STATE = {
    "ack": "acknowledged",
    "start": "in_progress",
    "wait": "waiting",
    "resolve": "resolved",
    "close": "closed",
    "reopen": "in_progress",
}
LINK = re.compile(r"/s/([A-Za-z0-9_-]+)")
REQUESTS = RequestRow.__table__
EVENTS = RequestEventRow.__table__


@dataclass
class Ledger:
    """What the clients were told (the acknowledgements) and what went wrong."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    answers: dict[str, str] = field(default_factory=dict)  # comment nonce -> token
    answer_keys: dict[str, str] = field(default_factory=dict)  # token -> Idempotency-Key
    filed: dict[str, str] = field(default_factory=dict)  # title -> request id
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)  # note -> (id, verb)
    last_state: dict[str, str] = field(default_factory=dict)  # request id -> state
    refused: int = 0  # connection refused: the server was down
    cut: int = 0  # the connection broke mid-request: killed while it worked
    server_errors: Counter[int] = field(default_factory=Counter)
    replays: int = 0  # a retry answered from the stored result (committed, unacknowledged)
    unexpected: list[str] = field(default_factory=list)


class Crashing:
    """The server, killed and restarted by a killer thread at seeded random moments,
    KILLS times, then ``done`` is set; clients wait on ``up`` while it is down."""

    def __init__(self, server: Server, seed: int) -> None:
        self.server = server
        self.rng = random.Random(seed)
        self.done = threading.Event()
        self.up = threading.Event()
        self.up.set()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for _ in range(KILLS):
                time.sleep(self.rng.uniform(*KILL_AFTER))
                self.up.clear()
                self.server.kill()
                self.server.start()
                self.up.set()
        except BaseException as error:  # reported by the test
            self.error = error
        finally:
            self.done.set()
            self.up.set()


def send(
    client: httpx.Client,
    crashing: Crashing,
    ledger: Ledger,
    path: str,
    body: dict[str, Any],
    key: str,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST until the server answers below 500: the same body and Idempotency-Key
    every time, across kills and restarts."""
    give_up = time.monotonic() + 180
    while time.monotonic() < give_up:
        crashing.up.wait(timeout=60)
        if crashing.error is not None:
            raise AssertionError(f"the server could not be restarted: {crashing.error!r}")
        try:
            answer = client.post(
                path, json=body, headers={"Idempotency-Key": key, **(headers or {})}
            )
        except httpx.ConnectError:
            with ledger.lock:
                ledger.refused += 1
            time.sleep(0.05)
            continue
        except httpx.TransportError:
            with ledger.lock:
                ledger.cut += 1
            time.sleep(0.05)
            continue
        if answer.status_code >= 500:
            with ledger.lock:
                ledger.server_errors[answer.status_code] += 1
            time.sleep(0.05)
            continue
        return answer
    raise AssertionError(f"no answer to {path} within 180 s")


def client_loop(
    number: int,
    base_url: str,
    bearer: str,
    tokens: list[str],
    crashing: Crashing,
    ledger: Ledger,
) -> None:
    """Alternate survey answers and request changes until the killer is done; the
    change in hand is finished, so every submission ends acknowledged."""
    auth = {"Authorization": f"Bearer {bearer}"}
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        request_id: str | None = None
        step = 0
        while not crashing.done.is_set():
            with ledger.lock:
                token = tokens.pop() if tokens else None
            if token is not None:
                nonce = f"crash-answer-{uuid.uuid4().hex}"
                key = uuid.uuid4().hex
                body = {"answers": [{"item": "need_now", "score": 4}], "comment": nonce}
                answer = send(client, crashing, ledger, f"/api/v1/survey/{token}", body, key)
                with ledger.lock:
                    if answer.status_code in (200, 201):
                        ledger.answers[nonce] = token
                        ledger.answer_keys[token] = key
                        ledger.replays += answer.headers.get("Idempotent-Replayed") == "true"
                    else:
                        ledger.unexpected.append(f"survey {answer.status_code} {answer.text}")
            key = uuid.uuid4().hex
            if request_id is None:
                title = f"crash-request-{number}-{uuid.uuid4().hex}"
                body = {"provider": "make", "customer": "pack", "title": title}
                answer = send(client, crashing, ledger, "/api/v1/requests", body, key, auth)
                with ledger.lock:
                    if answer.status_code == 201:
                        request_id = answer.json()["id"]
                        ledger.filed[title] = request_id
                        ledger.last_state[request_id] = "new"
                        ledger.replays += answer.headers.get("Idempotent-Replayed") == "true"
                    else:
                        ledger.unexpected.append(f"file {answer.status_code} {answer.text}")
                step = 0
                continue
            verb = VERBS[step]
            note = f"crash-change-{uuid.uuid4().hex}"
            path = f"/api/v1/requests/{request_id}/events"
            answer = send(client, crashing, ledger, path, {"verb": verb, "note": note}, key, auth)
            with ledger.lock:
                if answer.status_code == 200 and answer.json()["state"] == TO_STATE[verb]:
                    ledger.changes[note] = (request_id, verb)
                    ledger.last_state[request_id] = TO_STATE[verb]
                    ledger.replays += answer.headers.get("Idempotent-Replayed") == "true"
                else:
                    ledger.unexpected.append(f"{verb} {answer.status_code} {answer.text}")
            step += 1
            if step == len(VERBS):
                request_id = None


def run_client(*args: Any) -> None:
    """:func:`client_loop` in a thread; what kills it is reported in the ledger."""
    try:
        client_loop(*args)
    except BaseException as error:
        ledger: Ledger = args[-1]
        with ledger.lock:
            ledger.unexpected.append(f"client {args[0]} failed: {error!r}")


def people() -> list[Person]:
    return [
        Person(f"p-crash{i}", f"Respondent {i}", f"crash{i}@example.org", "pack", Role.MEMBER)
        for i in range(RESPONDENTS)
    ]


@pytest.fixture
def organisation_with_links(vc: Valuechain, smtp_server: Any) -> Iterator[list[str]]:
    """The chain map with RESPONDENTS people in ``pack``, a pulse campaign make → pack
    with its links mailed (the tokens read from the captured mails), and an admin."""
    org_map = chain_map()
    org_map.people = people()
    vc.write_map(org_map)
    campaign.create_campaign(
        vc, "crash", name="Crash survey", instrument="pulse", relationships=[("make", "pack")]
    )
    assert campaign.invite(vc, "crash", base="http://127.0.0.1") == RESPONDENTS
    tokens = [LINK.findall(m.get_content())[0] for _, m in smtp_server.messages]
    assert len(set(tokens)) == RESPONDENTS
    make_account(vc)
    yield tokens


def stored_answers(vc: Valuechain) -> Counter[str]:
    """The comment nonces of the campaign's sealed responses, with their counts."""
    with vc.engine.connect() as conn:
        payloads = conn.execute(
            select(SEALED.c.payload).where(
                SEALED.c.org_id == vc.org_id, SEALED.c.campaign_id == "crash"
            )
        ).scalars()
        found: Counter[str] = Counter()
        for raw in payloads:
            for _item, text in json.loads(raw)["comments"]:
                if text.startswith("crash-answer-"):
                    found[text] += 1
        return found


def spent_links(vc: Valuechain) -> int:
    with vc.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(
                    INVITATIONS.c.org_id == vc.org_id,
                    INVITATIONS.c.campaign_id == "crash",
                    INVITATIONS.c.spent.is_(True),
                )
            ).scalar_one()
        )


def test_every_acknowledged_submission_survives_kill_9_exactly_once(
    vc: Valuechain,
    database_url: str,
    organisation: str,
    organisation_with_links: list[str],
    tmp_path: Path,
) -> None:
    tokens = list(organisation_with_links)
    server = Server(database_url, organisation, tmp_path / "server.log")
    server.start()
    try:
        signed_in = httpx.post(
            f"{server.base_url}/api/v1/session",
            json={"email": "admin@example.org", "password": PASSWORD},
            timeout=30.0,
        )
        assert signed_in.status_code == 201, signed_in.text
        bearer = signed_in.json()["token"]
        ledger = Ledger()
        crashing = Crashing(server, SEED)
        killer = threading.Thread(target=crashing.run, name="killer")
        clients = [
            threading.Thread(
                target=run_client,
                args=(n, server.base_url, bearer, tokens, crashing, ledger),
                name=f"client-{n}",
            )
            for n in range(CLIENTS)
        ]
        killer.start()
        for thread in clients:
            thread.start()
        killer.join(timeout=180)
        assert crashing.error is None, f"{crashing.error!r}: {server.log}"
        for thread in clients:
            thread.join(timeout=200)
            assert not thread.is_alive()
        print(
            f"\n{vc.engine.dialect.name}: {server.kills} kills, "
            f"{len(ledger.answers)} answers, {len(ledger.filed)} requests and "
            f"{len(ledger.changes)} changes acknowledged; {ledger.cut} submissions cut "
            f"mid-request, {ledger.refused} refused, {ledger.replays} acknowledged by "
            f"replay, 5xx: {dict(ledger.server_errors)}"
        )
        assert ledger.unexpected == []
        assert server.kills == KILLS
        # Kills landed while submissions were in flight, and some of those had
        # committed before the kill: their retry was answered from the stored result.
        assert ledger.cut > 0

        # What the clients were told is what is stored, each exactly once.
        fresh = Valuechain.open(database_url, organisation, create=True)
        try:
            answers = stored_answers(fresh)
            assert set(answers) == set(ledger.answers)
            assert max(answers.values()) == 1
            assert spent_links(fresh) == len(answers) == len(ledger.answers)
            check_requests(fresh, ledger)

            # A retry of an acknowledged link stores nothing more: with its key it
            # gets the stored result, with another key or none the link is spent.
            with httpx.Client(base_url=server.base_url, timeout=30.0) as client:
                for nonce, token in list(ledger.answers.items())[:20]:
                    body = {"answers": [{"item": "need_now", "score": 4}], "comment": nonce}
                    path = f"/api/v1/survey/{token}"
                    again = client.post(
                        path, json=body, headers={"Idempotency-Key": ledger.answer_keys[token]}
                    )
                    assert again.status_code == 201
                    assert again.headers["Idempotent-Replayed"] == "true"
                    assert client.post(path, json=body).status_code == 410
                    other = client.post(path, json=body, headers={"Idempotency-Key": "other"})
                    assert other.status_code == 410
            assert stored_answers(fresh) == answers
        finally:
            fresh.engine.dispose()
    finally:
        server.stop()


def check_requests(vc: Valuechain, ledger: Ledger) -> None:
    """Every acknowledged filing is one request, every acknowledged change one event
    in an unbroken sequence, and each request is in its last acknowledged state."""
    with vc.engine.connect() as conn:
        rows = conn.execute(
            select(REQUESTS.c.id, REQUESTS.c.title, REQUESTS.c.state, REQUESTS.c.events).where(
                REQUESTS.c.org_id == vc.org_id, REQUESTS.c.title.startswith("crash-request-")
            )
        ).all()
        events = conn.execute(
            select(EVENTS.c.request_id, EVENTS.c.seq, EVENTS.c.verb, EVENTS.c.note).where(
                EVENTS.c.org_id == vc.org_id
            )
        ).all()
    titles = Counter(r.title for r in rows)
    assert set(titles) == set(ledger.filed) and max(titles.values()) == 1
    assert {r.title: r.id for r in rows} == ledger.filed
    assert {r.id: r.state for r in rows} == ledger.last_state
    notes = Counter(e.note for e in events if e.note is not None)
    assert set(notes) == set(ledger.changes) and max(notes.values(), default=1) == 1
    assert {e.note: (e.request_id, e.verb) for e in events if e.note} == ledger.changes
    for row in rows:
        seqs = sorted(e.seq for e in events if e.request_id == row.id)
        assert seqs == list(range(1, row.events + 1))


# -- synchronous=FULL on SQLite for every acknowledged write --------------------------


def synchronous_at_writes(engine: Engine, tables: tuple[str, ...]) -> list[tuple[str, int]]:
    """Record, for every INSERT into ``tables``, the connection's ``PRAGMA
    synchronous`` (2 is FULL) at that moment; the list fills as the engine writes."""
    seen: list[tuple[str, int]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def watch(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        for table in tables:
            if statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()}"):
                level = conn.connection.dbapi_connection.execute("PRAGMA synchronous")
                seen.append((table, int(level.fetchone()[0])))

    return seen


def test_sqlite_commits_acknowledged_writes_with_synchronous_full(
    tmp_path: Path, smtp_server: Any
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'durable.db'}", create=True)
    vc = Valuechain(engine, "durable", create=True)
    org_map = chain_map()
    org_map.people = people()[:6]
    vc.write_map(org_map)
    campaign.create_campaign(vc, "c", instrument="pulse", relationships=[("make", "pack")])
    campaign.invite(vc, "c", base="http://127.0.0.1")
    token = LINK.findall(smtp_server.messages[0][1].get_content())[0]
    seen = synchronous_at_writes(engine, ("sealed_responses", "idempotency_keys", "request_events"))
    answers = campaign.Submission(scores={"need_now": (4.0, None)}, comment="kept")
    assert campaign.submit(vc, token, answers)["status"] == "stored"
    assert seen == [("sealed_responses", 2)]
    # The Idempotency-Key route's transaction (services.idempotency) does the same.
    keyed = idempotency.IdempotentRequest.of(
        scope="account:a", key="k", method="POST", path="/api/v1/requests", body=b"{}"
    )
    with idempotency.idempotent(vc, keyed) as attempt:
        requests.new_request(
            vc,
            requests.Asker(None, "test"),
            customer="pack",
            provider="make",
            title="durable",
        )
        attempt.record(201, "{}")
    assert ("idempotency_keys", 2) in seen and all(level == 2 for _, level in seen)
    # A change made by the web form or the command line (the service's own transaction).
    filed = requests.new_request(
        vc, requests.Asker(None, "test"), customer="pack", provider="make", title="own"
    )
    requests.change(vc, requests.Asker(None, "test"), filed["id"], Verb.ACK, "on it")
    assert [t for t, _ in seen].count("request_events") == 3
    assert all(level == 2 for _, level in seen)
    # Other writes keep the connection's default, NORMAL (1).
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 1
    with pytest.raises(ValuechainError):
        campaign.submit(vc, token, answers)  # spent: nothing more is written
    assert [t for t, _ in seen].count("sealed_responses") == 1
    engine.dispose()
