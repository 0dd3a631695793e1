"""The JSON API under /api/v1 on both databases: the customers contract, the map,
units, one unit, 404s and the OpenAPI schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.builders import chain_map
from tests.signin import admin_client
from valuechain import Valuechain

CUSTOMERS_KEYS = {"unit", "direct", "indirect", "external", "orphan_results"}


@pytest.fixture
def client(vc: Valuechain) -> Iterator[TestClient]:
    """The web app (pages and API) over the chain map on a real database."""
    yield from admin_client(vc, chain_map())


def by_unit(rows: list[dict[str, object]]) -> dict[object, dict[str, object]]:
    return {row["unit"]: row for row in rows}


def test_customers_contract_with_indirect_customers_and_an_orphan(client: TestClient) -> None:
    answer = client.get("/api/v1/units/make/customers")
    assert answer.status_code == 200
    doc = answer.json()
    assert doc.keys() >= CUSTOMERS_KEYS
    assert doc["unit"] == "make"
    assert by_unit(doc["direct"]) == {
        "pack": {
            "unit": "pack",
            "name": "Packing & <Boxes>",
            "relations": ["consumes", "adds_to"],
            "results": ["parts"],
        },
        "ctrl": {
            "unit": "ctrl",
            "name": "Controlling",
            "relations": ["consumes"],
            "results": ["scrap-report"],
        },
    }
    indirect = {row["unit"]: row["via"] for row in doc["indirect"]}
    assert indirect == {
        "ship": ["pack"],
        "retail": ["pack", "ship"],
        "plan": ["pack", "ship"],
        "audit": ["ctrl"],
    }
    assert doc["external"] == ["retail"]
    assert doc["orphan_results"] == ["scrap-report"]
    assert doc["depth"] == 3


def test_customers_answer_is_the_cli_contract(client: TestClient, vc: Valuechain) -> None:
    for unit in ("make", "plan", "ctrl", "retail", "steel"):
        assert client.get(f"/api/v1/units/{unit}/customers").json() == vc.customers(unit)


def test_a_cycle_that_reaches_the_external_customer(client: TestClient) -> None:
    doc = client.get("/api/v1/units/plan/customers").json()
    assert [row["unit"] for row in doc["direct"]] == ["make"]
    assert doc["direct"][0]["relations"] == ["depends_on"]
    indirect = {row["unit"]: row["via"] for row in doc["indirect"]}
    # The cycle leads back to plan itself; a unit is never its own customer.
    assert "plan" not in indirect
    assert indirect["retail"] == ["make", "pack", "ship"]
    assert doc["external"] == ["retail"] and doc["orphan_results"] == []


def test_a_closed_cycle_has_no_external_customer(client: TestClient) -> None:
    doc = client.get("/api/v1/units/ctrl/customers").json()
    assert [row["unit"] for row in doc["direct"]] == ["audit"]
    assert doc["indirect"] == [] and doc["external"] == []
    assert doc["orphan_results"] == ["budget"]
    assert doc["depth"] is None


def test_unknown_unit_is_404_json(client: TestClient) -> None:
    for path in ("/api/v1/units/nobody/customers", "/api/v1/units/nobody"):
        answer = client.get(path)
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json() == {
            "type": "about:blank",
            "title": "Not found",
            "status": 404,
            "detail": "no unit with id 'nobody'",
        }
    missing = client.get("/api/v1/no-such-endpoint")
    assert missing.status_code == 404 and missing.json()["detail"] == "Not Found"


def test_map_is_the_overview(client: TestClient, vc: Valuechain) -> None:
    doc = client.get("/api/v1/map").json()
    # A map shorter than one page is the whole overview on its only page, each unit
    # with its parent and headcount too (the map page groups and colours by them).
    tree = {u.id: (u.parent_id, u.headcount) for u in chain_map().units}
    assert all((u.pop("parent"), u.pop("headcount")) == tree[u["id"]] for u in doc["units"])
    assert {k: doc[k] for k in ("units", "results", "links")} == vc.overview()
    assert doc["next"] is None and doc["total"]["units"] == len(doc["units"])
    units = {u["id"]: u for u in doc["units"]}
    assert set(units) == {u.id for u in chain_map().units}
    assert units["make"]["orphan_results"] == ["scrap-report"]
    assert units["ship"]["depth"] == 1 and units["ctrl"]["depth"] is None
    assert {"result": "parts", "customer": "pack", "relation": "adds_to"} in doc["links"]
    orphans = {r["id"] for r in doc["results"] if r["orphan"]}
    assert orphans == {"scrap-report", "budget", "findings"}


def test_units_lists_counts_and_filters(client: TestClient) -> None:
    doc = client.get("/api/v1/units").json()
    assert doc["total"] == 10 and len(doc["units"]) == 10
    rows = {row["id"]: row for row in doc["units"]}
    assert rows["make"] == {
        "id": "make",
        "name": "Machining",
        "kind": "team",
        "direct_count": 2,
        "external_count": 1,
        "depth": 3,
        "result_count": 2,
        "orphan_count": 1,
    }
    assert rows["retail"]["depth"] == 0 and rows["retail"]["direct_count"] == 0
    found = client.get("/api/v1/units", params={"q": "PACK"}).json()
    assert [row["id"] for row in found["units"]] == ["pack"]
    departments = client.get("/api/v1/units", params={"kind": "department"}).json()
    assert {row["id"] for row in departments["units"]} == {"ship", "ops"}
    limited = client.get("/api/v1/units", params={"limit": 3}).json()
    assert limited["total"] == 10 and len(limited["units"]) == 3
    assert client.get("/api/v1/units", params={"kind": "planet"}).status_code == 422


def test_unit_detail(client: TestClient) -> None:
    doc = client.get("/api/v1/units/make").json()
    assert (doc["id"], doc["name"], doc["kind"]) == ("make", "Machining", "team")
    assert (doc["parent_id"], doc["headcount"], doc["depth"]) == ("ops", 30, 3)
    assert {r["id"]: (r["kind"], r["orphan"]) for r in doc["results"]} == {
        "parts": ("intermediate", False),
        "scrap-report": ("byproduct", True),
    }
    assert doc["customers"]["external"] == ["retail"]
    assert {s["unit"]: (s["relations"], s["results"]) for s in doc["suppliers"]} == {
        "steel": (["consumes"], ["bars"]),
        "plan": (["depends_on"], ["plan"]),
    }
    assert doc["paths"] == [{"external": "retail", "path": ["make", "pack", "ship", "retail"]}]
    assert doc["units"]["pack"]["name"] == "Packing & <Boxes>"
    assert doc["result_names"]["bars"] == "Steel bars"


def test_openapi_documents_the_models(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/map",
        "/api/v1/units",
        "/api/v1/units/{unit_id}",
        "/api/v1/units/{unit_id}/customers",
    ):
        assert "get" in paths[path], path
    customers = paths["/api/v1/units/{unit_id}/customers"]["get"]["responses"]
    assert customers["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Customers")
    assert customers["404"]["content"]["application/json"]["schema"]["$ref"].endswith("/Problem")
    models = schema["components"]["schemas"]
    assert set(models["Customers"]["properties"]) >= CUSTOMERS_KEYS
    assert set(models["IndirectCustomer"]["properties"]) >= {"unit", "via"}
    assert set(models["Relation"]["enum"]) == {"pays", "consumes", "adds_to", "depends_on"}
    # Pages are not part of the API.
    assert "/" not in paths and "/units/{unit_id}" not in paths
    assert client.get("/docs").status_code == 200
