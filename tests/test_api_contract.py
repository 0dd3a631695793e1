"""The API keeps the contract its OpenAPI schema states (what schemathesis found):
bounded offsets instead of a 500, every error status documented with its body, the
connect document valid against its model, a change between campaigns with one side
named, webhook URLs validated by the schema. On the demo, SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.signin import bearer, make_account
from valuechain import Valuechain
from valuechain.api.request import MAX_OFFSET
from valuechain.services import notification
from valuechain.services.change import change, published_cells
from valuechain.services.connect import connect
from valuechain.services.errors import NotFound
from valuechain.web.app import create_app

EMAIL = "contract-admin@example.org"


@pytest.fixture
def demo(demo_vc: Valuechain) -> Valuechain:
    vc = demo_vc
    make_account(vc, EMAIL)
    return vc


@pytest.fixture
def api(demo: Valuechain) -> TestClient:
    client = TestClient(create_app(demo))
    client.headers["Authorization"] = f"Bearer {bearer(client, EMAIL)}"
    return client


def test_connect_answers_its_documented_document(demo: Valuechain, api: TestClient) -> None:
    for path, unit in (("/api/v1/connect", None), ("/api/v1/units/machining/connect", "machining")):
        answer = api.get(path)
        assert answer.status_code == 200, answer.text
        found = answer.json()["entitlement"]
        expected = connect(demo, unit, over_time=False)["entitlement"]
        assert found == {"note": None, **expected}
    assert api.get("/api/v1/connect").json()["entitlement"]["flags"]  # the demo has some


@pytest.mark.parametrize(
    "path", ["/api/v1/requests", "/api/v1/units/assembly/inbox", "/api/v1/units/assembly/outbox"]
)
def test_an_offset_past_the_bound_is_refused_not_a_server_error(api: TestClient, path: str) -> None:
    huge = api.get(path, params={"offset": 1146810285444264723482673152})
    assert huge.status_code == 422
    assert isinstance(huge.json()["detail"], list)
    last = api.get(path, params={"offset": MAX_OFFSET})
    assert last.status_code == 200 and last.json() == []


def test_change_with_one_campaign_named_takes_the_other_by_default(
    demo: Valuechain, api: TestClient
) -> None:
    both = change(demo)
    assert (both["from"], both["to"]) == ("2026-q1", "2026-q2")
    assert change(demo, after="2026-q2")["cells"] == both["cells"]
    assert change(demo, before="2026-q1")["cells"] == both["cells"]
    first = published_cells(demo)[1][0]
    with pytest.raises(NotFound):
        change(demo, after=first)  # nothing before the first campaign
    answer = api.get("/api/v1/units/production-planning/change", params={"to": "2026-q2"})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["from"], answer.json()["to"]) == ("2026-q1", "2026-q2")
    assert (
        api.get("/api/v1/units/production-planning/change", params={"to": first}).status_code == 404
    )
    same = api.get(
        "/api/v1/units/production-planning/change", params={"from": "2026-q2", "to": "2026-q2"}
    )
    assert same.status_code == 422 and isinstance(same.json()["detail"], str)


def test_the_webhook_url_is_checked_by_the_schema(demo: Valuechain, api: TestClient) -> None:
    path = "/api/v1/notifications/webhook"
    for bad in ("/4", "ftp://example.org/x", "http://a[x", "http://user@"):
        answer = api.put(path, json={"url": bad})
        assert answer.status_code == 422, bad
        assert isinstance(answer.json()["detail"], list)
    good = api.put(path, json={"url": " https://hooks.example.org/services/T0/B0?x=1 "})
    assert good.json() == {"url": "https://hooks.example.org/services/T0/B0?x=1"}
    assert notification.webhook(demo) == "https://hooks.example.org/services/T0/B0?x=1"
    assert api.put(path, json={"url": " "}).json() == {"url": None}
    # The service itself refuses a host urlsplit cannot read, with its own error.
    with pytest.raises(notification.NotificationError):
        notification.set_webhook(demo, "http://a[x")


def test_a_body_that_is_not_utf8_answers_its_documented_400(api: TestClient) -> None:
    answer = api.post(
        "/api/v1/campaigns",
        content=b'{"name": "\xff"}',
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert isinstance(answer.json()["detail"], str)


def test_every_api_operation_documents_its_error_answers(api: TestClient) -> None:
    schema: dict[str, Any] = api.get("/openapi.json").json()
    unprocessable = {"$ref": "#/components/schemas/Unprocessable"}
    operations = [
        (path, method, operation)
        for path, methods in schema["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in methods.items()
    ]
    assert len(operations) >= 60
    for path, method, operation in operations:
        responses = operation["responses"]
        assert {"400", "401", "403", "413", "422"} <= responses.keys(), (method, path)
        assert responses["422"]["content"]["application/json"]["schema"] == unprocessable
        if "{provider_id}" in path or (path.endswith("/report") and "{unit_id}" in path):
            assert "404" in responses, (method, path)
