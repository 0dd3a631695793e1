"""Input no route can take is refused with a 4xx and the usual problem body, never a
500: NaN and Infinity in a JSON body (400), the NUL character in any text (422: a
JSON string or key, a form field, the query string, the path). As an anonymous
client signing in, and as a signed-in one, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.signin import PASSWORD, bearer, form_token, make_account
from valuechain import Valuechain
from valuechain.web.app import create_app
from valuechain.web.input_guard import NOT_JSON_NUMBER

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def client(vc: Valuechain) -> Iterator[TestClient]:
    make_account(vc)
    with TestClient(create_app(vc)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "body",
    [
        b'{"email": NaN, "password": "x"}',
        b'{"email": "admin@example.org", "password": NaN}',
        b'{"email": Infinity, "password": "x"}',
        b'{"email": "a@example.org", "password": -Infinity}',
        b'{"email": "a@example.org", "password": "x", "extra": [1, {"n": NaN}]}',
    ],
)
def test_nan_and_infinity_in_a_json_body_answer_400(client: TestClient, body: bytes) -> None:
    answer = client.post("/api/v1/session", content=body, headers=JSON)
    assert answer.status_code == 400, answer.text
    assert answer.json() == {"detail": NOT_JSON_NUMBER}


@pytest.mark.parametrize(
    "body",
    [
        b'{"email": "admin\\u0000@example.org", "password": "x"}',
        b'{"email": "\\u0000", "password": "x"}',
        b'{"email": "admin@example.org", "password": "pass\\u0000word"}',
        b'{"email": "a@example.org", "password": "x", "extra\\u0000": 1}',
    ],
)
def test_nul_in_a_json_string_answers_422(client: TestClient, body: bytes) -> None:
    answer = client.post("/api/v1/session", content=body, headers=JSON)
    assert answer.status_code == 422, answer.text
    assert "a NUL character" in answer.json()["detail"]


def test_the_words_and_escapes_as_text_still_sign_in_and_fail_as_usual(
    client: TestClient,
) -> None:
    """No false alarms: "NaN" inside a string, or a backslash followed by u0000."""
    answer = client.post(
        "/api/v1/session",
        content=b'{"email": "NaN.Infinity@example.org", "password": "\\\\u0000 NaN"}',
        headers=JSON,
    )
    assert answer.status_code == 401, answer.text
    assert bearer(client)  # the right password still works


def test_nul_in_the_sign_in_form_answers_422(client: TestClient) -> None:
    token = form_token(client.get("/signin").text)
    answer = client.post(
        "/signin",
        data={"email": "admin\x00@example.org", "password": PASSWORD, "csrf_token": token},
    )
    assert answer.status_code == 422 and "a NUL character" in answer.text


def test_nul_in_the_query_string_or_path_answers_422(client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {bearer(client)}"}
    for path in ("/api/v1/audit?actor=a%00b", "/api/v1/units/a%00b", "/api/v1/units?x=%00"):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 422, (path, answer.text)
        assert "a NUL character" in answer.json()["detail"]


def test_the_refusals_carry_the_security_headers(client: TestClient) -> None:
    answer = client.post("/api/v1/session", content=b'{"email": NaN}', headers=JSON)
    assert answer.status_code == 400
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
