"""The Map at department level (``/api/v1/map/departments``) and one department's
units (``/api/v1/map?department=ID``) on both databases, checked against a plain
Python reference over the demo organisation's map: every unit in exactly one
department, every link between two departments counted once, a department's page
holding its units and every link that touches them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.signin import admin_client
from valuechain import Valuechain
from valuechain.analytics.customer import part_of_roots
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.unit import UnitKind
from valuechain.services.demo import demo_map


@pytest.fixture
def org() -> OrganisationMap:
    return demo_map()


@pytest.fixture
def client(vc: Valuechain, org: OrganisationMap) -> Iterator[TestClient]:
    yield from admin_client(vc, org)


def reference_departments(org: OrganisationMap) -> dict[str, str]:
    """Each unit's department by walking its parents one by one."""
    parent = {u.id: u.parent_id for u in org.units}
    kind = {u.id: u.kind for u in org.units}
    found = {}
    for uid in parent:
        at = uid
        while parent[at] is not None:
            at = parent[at]  # type: ignore[assignment]
        if at == uid and kind[uid] in (UnitKind.EXTERNAL_CUSTOMER, UnitKind.EXTERNAL_SUPPLIER):
            at = "~" + kind[uid].value
        found[uid] = at
    return found


def walk(client: TestClient, url: str, keys: tuple[str, ...]) -> tuple[dict[str, Any], int]:
    """The lists under ``keys`` over every page from ``url``, and how many pages."""
    out: dict[str, list[Any]] = {k: [] for k in keys}
    pages, next_url = 0, url
    while next_url:
        answer = client.get(next_url)
        assert answer.status_code == 200, answer.text
        doc = answer.json()
        for k in keys:
            out[k].extend(doc[k])
        next_url, pages = doc["next"], pages + 1
    return out, pages


def test_part_of_roots_follows_parents_to_the_top() -> None:
    parent = np.array([-1, 0, 1, 2, -1, 4, 3], dtype=np.int64)
    assert part_of_roots(parent).tolist() == [0, 0, 0, 0, 4, 4, 0]
    # A cycle (which the import refuses) ends instead of looping.
    assert len(part_of_roots(np.array([1, 0], dtype=np.int64))) == 2


def test_department_level_aggregates_every_link_once(
    client: TestClient, org: OrganisationMap
) -> None:
    dept = reference_departments(org)
    producer = {r.id: r.unit_id for r in org.results}
    expected = Counter(
        (dept[producer[link.result_id]], dept[link.customer_id], link.relation.value)
        for link in org.links
        if dept[producer[link.result_id]] != dept[link.customer_id]
    )
    doc, pages = walk(client, "/api/v1/map/departments?limit=3", ("departments", "edges"))
    assert pages == -(-len(set(dept.values())) // 3)
    got = Counter({(e["source"], e["target"], e["relation"]): e["links"] for e in doc["edges"]})
    assert got == expected
    sizes = Counter(dept.values())
    assert {d["id"]: d["units"] for d in doc["departments"]} == dict(sizes)
    ops = next(d for d in doc["departments"] if d["id"] == "operations")
    heads = [u.headcount for u in org.units if dept[u.id] == "operations"]
    assert ops["name"] == "Operations" and ops["kind"] == "department"
    assert ops["headcount"] == sum(h for h in heads if h is not None)
    externals = next(d for d in doc["departments"] if d["id"] == "~external_customer")
    assert externals["name"] == "External customers" and externals["depth"] == 0


def test_a_departments_page_holds_its_units_and_every_link_touching_them(
    client: TestClient, org: OrganisationMap
) -> None:
    dept = reference_departments(org)
    producer = {r.id: r.unit_id for r in org.results}
    members = {u for u, d in dept.items() if d == "operations"}
    doc, _ = walk(
        client, "/api/v1/map?department=operations&limit=4", ("units", "results", "links")
    )
    assert {u["id"] for u in doc["units"]} == members
    assert len(doc["units"]) == len(members)  # each once
    touching = {
        (link.result_id, link.customer_id, link.relation.value)
        for link in org.links
        if producer[link.result_id] in members or link.customer_id in members
    }
    got = {(x["result"], x["customer"], x["relation"]) for x in doc["links"]}
    assert got == touching
    assert {r["id"] for r in doc["results"]} == {r.id for r in org.results if r.unit_id in members}
    units = {u["id"]: u for u in doc["units"]}
    assert units["procurement"]["parent"] == "supply-chain"
    assert units["procurement"]["headcount"] == 9
    one = client.get("/api/v1/map?department=operations").json()
    for link in one["links"]:
        made_by = one["producers"].get(link["result"]) or next(
            r["unit"] for r in one["results"] if r["id"] == link["result"]
        )
        assert made_by == producer[link["result"]]
        for end in (made_by, link["customer"]):
            assert one["departments"][end] == dept[end]
    missing = client.get("/api/v1/map?department=nowhere")
    assert missing.status_code == 404
