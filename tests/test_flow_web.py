"""`GET /api/v1/flow` and the Flow page on both databases: the same document as the
command line, what-ifs as query parameters, clear 400/404 answers, the HTMX fragment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.signin import admin_client
from tests.test_flow import seed_example
from valuechain import Valuechain
from valuechain.services.flow import flow


@pytest.fixture
def client(vc: Valuechain) -> Iterator[TestClient]:
    yield from admin_client(vc, seed_example())


def test_api_is_the_cli_document(client: TestClient, vc: Valuechain) -> None:
    answer = client.get("/api/v1/flow")
    assert answer.status_code == 200
    assert answer.json() == flow(vc)
    raised = client.get("/api/v1/flow", params={"what_if": ["frames=+20%", "frames=-10%cost"]})
    assert raised.status_code == 200
    doc = raised.json()
    assert doc == flow(vc, ["frames=+20%", "frames=-10%cost"])
    assert doc["throughput"] == 110 and doc["what_if"]["new_bottleneck"] == "sent"


def test_api_bad_what_if(client: TestClient) -> None:
    # The schema's pattern refuses a what-if that cannot be read (422, like any invalid
    # parameter), so a request the schema allows is one the service can read.
    unreadable = client.get("/api/v1/flow", params={"what_if": "frames=lots"})
    assert unreadable.status_code == 422
    assert unreadable.json()["detail"][0]["loc"] == ["query", "what_if", 0]
    unknown = client.get("/api/v1/flow", params={"what_if": "nope=+5%"})
    assert unknown.status_code == 404 and "nope" in unknown.json()["detail"]


def test_api_schema_documents_flow(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "/api/v1/flow" in schema["paths"]
    assert {"FlowOut", "Stage", "WhatIfOut"} <= schema["components"]["schemas"].keys()


def test_flow_page_and_what_if_fragment(client: TestClient) -> None:
    page = client.get("/flow")
    assert page.status_code == 200
    assert "Welding is the bottleneck" in page.text and 'aria-current="page">Flow' in page.text
    fragment = client.get(
        "/flow/what-if", params={"stage": "frames", "capacity": 20}, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert 'data-bottleneck="sent"' in fragment.text and "+10" in fragment.text
    nothing = client.get("/flow/what-if", params={"stage": "frames"})
    assert "Move the capacity slider" in nothing.text
    unknown = client.get("/flow/what-if", params={"stage": "nope", "capacity": 5})
    assert unknown.status_code == 200 and "no result with id" in unknown.text
    too_much = client.get("/flow/what-if", params={"stage": "frames", "capacity": 500})
    assert too_much.status_code == 422


def test_assembly_stages_in_the_api_and_on_the_page(vc: Valuechain) -> None:
    from tests.test_flow import steel_mill

    for client in admin_client(vc, steel_mill()):
        stages = {s["id"]: s for s in client.get("/api/v1/flow").json()["stages"]}
        assert stages["iron"]["assembly"] and not stages["ore"]["assembly"]
        assert client.get("/api/v1/flow").json()["throughput"] == 60.0
        assert ">assembly</span>" in client.get("/flow").text


def test_an_unbounded_chain_on_the_page_claims_no_figure(vc: Valuechain) -> None:
    from tests.test_flow_truth import unbounded_map

    for client in admin_client(vc, unbounded_map()):
        doc = client.get("/api/v1/flow").json()
        assert doc["unbounded"] and doc["throughput"] is None
        page = client.get("/flow").text
        assert "unbounded" in page and "flour → boxes" in page
        assert "demand limits the flow" not in page and "is met" not in page
        fragment = client.get("/flow/what-if", params={"stage": "sheets", "capacity": 20}).text
        assert "nothing limits the flow" in fragment
