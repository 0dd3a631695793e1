"""The Idempotency-Key facility on both databases, through a toy route that exists
only in this test's app (the real routes, survey submit and request updates, use the
same helper)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from tests.signin import bearer, make_account
from valuechain import Valuechain
from valuechain.api.idempotency import (
    REPLAYED_HEADER,
    RESPONSES,
    IdempotencyKey,
    idempotent,
    recorded_json,
    replay_response,
)
from valuechain.domain.access import Action
from valuechain.domain.account import AccountRole
from valuechain.domain.organisation import OrganisationMap
from valuechain.edge.dependencies import CurrentValuechain, allow
from valuechain.services import idempotency
from valuechain.services.idempotency import IdempotentRequest, KeyReused
from valuechain.store import idempotency as store
from valuechain.web.app import create_app

TOY = Table(
    "toy_notes",
    MetaData(),
    Column("org_id", Integer, primary_key=True),
    Column("id", String(32), primary_key=True),
    Column("text", String(200)),
)


class Note(BaseModel):
    text: str
    crash: bool = False


def notes(vc: Valuechain) -> list[str]:
    with vc.engine.connect() as conn:
        return list(conn.execute(select(TOY.c.text).where(TOY.c.org_id == vc.org_id)).scalars())


def toy_app(vc: Valuechain) -> FastAPI:
    app = create_app(vc)

    @app.post(
        "/api/v1/toy/notes",
        dependencies=[allow(Action.USE_OWN_SESSION)],
        responses=RESPONSES,
        status_code=201,
    )
    def add_note(note: Note, vc: CurrentValuechain, key: IdempotencyKey) -> Response:
        with idempotent(vc, key) as attempt:
            if attempt.replay is not None:
                return replay_response(attempt.replay)
            note_id = uuid.uuid4().hex
            attempt.conn.execute(insert(TOY).values(org_id=vc.org_id, id=note_id, text=note.text))
            if note.crash:
                raise RuntimeError("the route fails after making its change")
            return recorded_json(attempt, 201, {"id": note_id, "text": note.text})

    return app


@pytest.fixture
def toy(vc: Valuechain) -> Iterator[tuple[Valuechain, TestClient, dict[str, str], dict[str, str]]]:
    """The toy app with two signed-in accounts (bearer headers)."""
    TOY.create(vc.engine, checkfirst=True)
    vc.write_map(OrganisationMap(units=[]))
    make_account(vc, "admin@example.org")
    make_account(vc, "member@example.org", AccountRole.MEMBER)
    with TestClient(toy_app(vc), raise_server_exceptions=False) as client:
        first = {"Authorization": f"Bearer {bearer(client, 'admin@example.org')}"}
        second = {"Authorization": f"Bearer {bearer(client, 'member@example.org')}"}
        yield vc, client, first, second


def test_a_replay_with_the_same_key_answers_the_stored_result_and_stores_once(toy) -> None:  # type: ignore[no-untyped-def]
    vc, client, admin, _ = toy
    headers = {**admin, "Idempotency-Key": "k-1"}
    first = client.post("/api/v1/toy/notes", json={"text": "hello"}, headers=headers)
    again = client.post("/api/v1/toy/notes", json={"text": "hello"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert REPLAYED_HEADER not in first.headers
    assert again.headers[REPLAYED_HEADER] == "true"
    assert notes(vc) == ["hello"]


def test_the_same_key_with_another_body_answers_422_and_changes_nothing(toy) -> None:  # type: ignore[no-untyped-def]
    vc, client, admin, _ = toy
    headers = {**admin, "Idempotency-Key": "k-2"}
    assert client.post("/api/v1/toy/notes", json={"text": "a"}, headers=headers).status_code == 201
    changed = client.post("/api/v1/toy/notes", json={"text": "b"}, headers=headers)
    assert changed.status_code == 422
    assert "Idempotency-Key" in changed.json()["detail"]
    assert notes(vc) == ["a"]


def test_without_a_key_every_request_is_a_new_change(toy) -> None:  # type: ignore[no-untyped-def]
    vc, client, admin, _ = toy
    for _ in range(2):
        assert (
            client.post("/api/v1/toy/notes", json={"text": "x"}, headers=admin).status_code == 201
        )
    assert notes(vc) == ["x", "x"]


def test_keys_belong_to_one_caller(toy) -> None:  # type: ignore[no-untyped-def]
    vc, client, admin, member = toy
    a = client.post(
        "/api/v1/toy/notes", json={"text": "x"}, headers={**admin, "Idempotency-Key": "k"}
    )
    b = client.post(
        "/api/v1/toy/notes", json={"text": "x"}, headers={**member, "Idempotency-Key": "k"}
    )
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]
    assert sorted(notes(vc)) == ["x", "x"]


def test_a_failing_route_leaves_neither_change_nor_key_and_may_be_retried(toy) -> None:  # type: ignore[no-untyped-def]
    vc, client, admin, _ = toy
    headers = {**admin, "Idempotency-Key": "k-crash"}
    crashed = client.post("/api/v1/toy/notes", json={"text": "c", "crash": True}, headers=headers)
    assert crashed.status_code == 500
    assert notes(vc) == []
    with vc.engine.connect() as conn:
        assert (
            conn.execute(
                select(func.count()).select_from(store.KEYS).where(store.KEYS.c.org_id == vc.org_id)
            ).scalar_one()
            == 0
        )
    # A retry with the same key and body is a first attempt again.
    retried = client.post("/api/v1/toy/notes", json={"text": "c", "crash": True}, headers=headers)
    assert retried.status_code == 500
    fixed = client.post(
        "/api/v1/toy/notes", json={"text": "c"}, headers={**admin, "Idempotency-Key": "k-crash"}
    )
    assert fixed.status_code == 201
    assert notes(vc) == ["c"]


def test_an_invalid_key_is_refused(toy) -> None:  # type: ignore[no-untyped-def]
    vc, client, admin, _ = toy
    long = client.post(
        "/api/v1/toy/notes", json={"text": "x"}, headers={**admin, "Idempotency-Key": "k" * 256}
    )
    assert long.status_code == 422
    assert notes(vc) == []


def test_the_key_needs_a_signed_in_caller(toy) -> None:  # type: ignore[no-untyped-def]
    vc, client, _, _ = toy
    answer = client.post("/api/v1/toy/notes", json={"text": "x"}, headers={"Idempotency-Key": "k"})
    assert answer.status_code == 401
    assert notes(vc) == []


def request_for(key: str, body: bytes = b'{"text":"t"}', path: str = "/toy") -> IdempotentRequest:
    return IdempotentRequest.of(scope="account:t", key=key, method="POST", path=path, body=body)


def test_the_same_key_on_another_path_is_refused(vc: Valuechain) -> None:
    TOY.create(vc.engine, checkfirst=True)
    with idempotency.idempotent(vc, request_for("p")) as attempt:
        attempt.conn.execute(insert(TOY).values(org_id=vc.org_id, id="1", text="t"))
        attempt.record(201, "{}")
    with pytest.raises(KeyReused), idempotency.idempotent(vc, request_for("p", path="/other")):
        pass
    assert notes(vc) == ["t"]


def test_a_route_that_forgets_to_record_stores_nothing(vc: Valuechain) -> None:
    TOY.create(vc.engine, checkfirst=True)
    with pytest.raises(RuntimeError), idempotency.idempotent(vc, request_for("f")) as attempt:
        attempt.conn.execute(insert(TOY).values(org_id=vc.org_id, id="1", text="t"))
    assert notes(vc) == []
    with vc.engine.connect() as conn:
        assert store.find(conn, vc.org_id, "account:t", "f") is None


def test_concurrent_requests_with_one_key_change_once_and_all_get_the_first_answer(
    vc: Valuechain,
) -> None:
    """Eight threads send the same key at once: the primary key serialises them, the
    first makes the change, the others wait and replay its answer."""
    TOY.create(vc.engine, checkfirst=True)
    threads = 8
    barrier = threading.Barrier(threads)
    answers: list[tuple[int, str, bool]] = []
    errors: list[BaseException] = []

    def submit(number: int) -> None:
        try:
            barrier.wait()
            with idempotency.idempotent(vc, request_for("race")) as attempt:
                if attempt.replay is not None:
                    answers.append((attempt.replay.status_code, attempt.replay.body, True))
                    return
                attempt.conn.execute(
                    insert(TOY).values(org_id=vc.org_id, id=str(number), text=f"from {number}")
                )
                time.sleep(0.2)  # hold the key while the others arrive
                stored = attempt.record(201, f'{{"by":{number}}}')
                answers.append((stored.status_code, stored.body, False))
        except BaseException as error:  # reported below
            errors.append(error)

    workers = [threading.Thread(target=submit, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert len(notes(vc)) == 1
    assert len(answers) == threads
    assert len({(status, body) for status, body, _ in answers}) == 1
    assert sum(1 for *_, replayed in answers if not replayed) == 1


def test_old_keys_are_purged(vc: Valuechain) -> None:
    TOY.create(vc.engine, checkfirst=True)
    with idempotency.idempotent(vc, request_for("old")) as attempt:
        attempt.record(200, "{}")
    assert idempotency.purge_expired(vc, keep_for=timedelta(hours=1)) == 0
    assert idempotency.purge_expired(vc, keep_for=timedelta(seconds=-1)) == 1
    with idempotency.idempotent(vc, request_for("old", body=b"other")) as attempt:
        assert attempt.replay is None  # the purged key is free again
        attempt.record(200, "{}")
