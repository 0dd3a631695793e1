"""Big organisations (issue 19 item 4) on both databases: every list of the Map and
Connect API comes in pages whose ``next`` links walk the whole list exactly once,
limits have a stated maximum, a universal service's unit page shows one page of its
customers, and ``map --json`` streams the same document it printed whole."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.builders import universal_map
from tests.signin import admin_client
from valuechain import Valuechain
from valuechain.analytics.customer import NO_DEPTH, unpack_external
from valuechain.services.connect import connect
from valuechain.services.organisation import RELATIONS

TEAMS = 120
UNITS = TEAMS + 2
TREE = ("parent", "headcount")


@pytest.fixture
def client(vc: Valuechain) -> Iterator[TestClient]:
    yield from admin_client(vc, universal_map(TEAMS))


def walk(client: TestClient, url: str, keys: tuple[str, ...]) -> tuple[dict[str, list[Any]], int]:
    """Every list under ``keys`` gathered by following ``next`` from ``url``, and the
    number of pages."""
    gathered: dict[str, list[Any]] = {k: [] for k in keys}
    pages = 0
    next_url: str | None = url
    while next_url:
        answer = client.get(next_url)
        assert answer.status_code == 200, answer.text
        doc = answer.json()
        for k in keys:
            gathered[k].extend(doc[k])
        next_url = doc["next"]
        pages += 1
        assert pages < 1000
    return gathered, pages


def key(row: dict[str, Any]) -> str:
    return json.dumps(row, sort_keys=True)


def test_map_pages_hold_every_unit_result_and_link_once(client: TestClient, vc: Valuechain) -> None:
    first = client.get("/api/v1/map", params={"limit": 7}).json()
    assert len(first["units"]) == 7 and first["total"]["units"] == UNITS
    assert first["next"] == "/api/v1/map?offset=7&limit=7"
    pages, count = walk(client, "/api/v1/map?limit=7", ("units", "results", "links"))
    assert count == -(-UNITS // 7)
    whole = vc.overview()
    # The API's units also carry parent and headcount (the map page groups and
    # colours by them); the rest is the overview.
    pages["units"] = [{k: v for k, v in u.items() if k not in TREE} for u in pages["units"]]
    for k in ("units", "results", "links"):
        assert len(pages[k]) == first["total"][k] == len(whole[k])
        assert sorted(map(key, pages[k])) == sorted(map(key, whole[k]))


def test_units_pages_walk_every_match_once(client: TestClient) -> None:
    pages, count = walk(client, "/api/v1/units?limit=25&q=t0", ("units",))
    ids = [u["id"] for u in pages["units"]]
    assert ids == sorted(f"t{i:03d}" for i in range(100)) and count == 4
    hr = client.get("/api/v1/units", params={"q": "hr"}).json()
    assert hr["next"] is None and hr["units"][0]["direct_count"] == TEAMS // 2


def test_connect_pages_walk_every_relationship_once(client: TestClient, vc: Valuechain) -> None:
    whole = connect(vc, over_time=False)
    pages, _count = walk(client, "/api/v1/connect?limit=9", ("relationships",))
    # The API states the absent paths and correlations as null.
    stated = [{**r, "paths": None, "over_time": None} for r in whole["relationships"]]
    assert pages["relationships"] == stated
    first = client.get("/api/v1/connect", params={"limit": 9}).json()
    assert first["total"] == {
        "relationships": len(whole["relationships"]),
        "line_of_sight": sum(r["line_of_sight"] for r in whole["relationships"]),
    }
    # The summary speaks for the whole organisation on every page.
    assert first["summary"] == whole["summary"]
    assert first["summary"].startswith(f"{first['total']['line_of_sight']} of ")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/map?limit=5001",
        "/api/v1/units?limit=10001",
        "/api/v1/connect?limit=5001",
        "/api/v1/units/hr?customers_limit=5001",
        "/api/v1/map?limit=0",
    ],
)
def test_limits_have_a_stated_maximum(client: TestClient, url: str) -> None:
    assert client.get(url).status_code == 422


def table_units(html: str, section: str, until: str) -> list[str]:
    part = html[html.index(f'id="{section}"') : html.index(f'id="{until}"')]
    return re.findall(r'<tr><th scope="row"><a href="/units/([^"]+)"', part)


def test_a_universal_services_page_shows_one_page_of_customers(client: TestClient) -> None:
    half = TEAMS // 2
    one = client.get("/units/hr").text
    assert len(table_units(one, "direct-heading", "indirect-heading")) == 50
    assert len(table_units(one, "indirect-heading", "paths-heading")) == 50
    assert f"Showing 1–50 of {half} direct customers" in one
    assert f"Showing 1–50 of {half + 1} indirect customers" in one
    assert f"<dt>Direct customers</dt><dd>{half}</dd>" in one
    assert 'rel="next" href="?customers_page=2"' in one
    two = client.get("/units/hr", params={"customers_page": 2}).text
    direct = table_units(one, "direct-heading", "indirect-heading") + table_units(
        two, "direct-heading", "indirect-heading"
    )
    assert sorted(direct) == [f"t{i:03d}" for i in range(half)]
    indirect = table_units(one, "indirect-heading", "paths-heading") + table_units(
        two, "indirect-heading", "paths-heading"
    )
    assert sorted(indirect) == sorted(["ext", *(f"t{i:03d}" for i in range(half, TEAMS))])
    assert 'rel="next"' not in two and 'rel="prev" href="?customers_page=1"' in two
    # The path to the external customer is drawn whichever page is shown.
    assert "Customers</a>" in two[two.index('id="paths-heading"') :]
    api = client.get("/api/v1/units/hr", params={"customers_limit": 40}).json()
    assert len(api["customers"]["direct"]) == 40 and api["direct_total"] == half


def old_overview(vc: Valuechain) -> dict[str, Any]:
    """``map --json`` as the release before streaming built it, whole, in memory."""
    chain = vc.chain()
    cols, facts, g = chain.columns, chain.facts, chain.graph
    orphan = np.zeros(g.n_results, dtype=bool)
    orphan[facts.orphan_results] = True
    units = []
    for pos, uid in enumerate(cols.unit_ids):
        mine = [r for r in range(g.n_results) if int(g.result_unit[r]) == pos]
        direct = g.units.indices[g.units.indptr[pos] : g.units.indptr[pos + 1]]
        depth = int(facts.depth[pos])
        units.append(
            {
                "id": uid,
                "name": cols.unit_names[pos],
                "kind": cols.unit_kinds[pos],
                "direct": sorted(cols.unit_ids[c] for c in direct),
                "external": [cols.unit_ids[e] for e in unpack_external(facts, pos)],
                "depth": None if depth == NO_DEPTH else depth,
                "results": [cols.result_ids[r] for r in mine],
                "orphan_results": [cols.result_ids[r] for r in mine if orphan[r]],
            }
        )
    results = [
        {
            "id": cols.result_ids[r],
            "name": cols.result_names[r],
            "unit": cols.unit_ids[int(g.result_unit[r])],
            "orphan": bool(orphan[r]),
        }
        for r in range(g.n_results)
    ]
    links = [
        {
            "result": cols.result_ids[int(g.link_result[i])],
            "customer": cols.unit_ids[int(g.link_customer[i])],
            "relation": cols.link_relation[i],
        }
        for i in range(g.link_result.shape[0])
    ]
    assert set(cols.link_relation) <= set(RELATIONS)
    return {"units": units, "results": results, "links": links}


class CountingWriter(io.StringIO):
    """A text stream that counts the writes it receives."""

    writes = 0

    def write(self, s: str) -> int:
        self.writes += 1
        return super().write(s)


def test_map_json_streams_the_old_document(vc: Valuechain) -> None:
    from valuechain.cli.map import stream_map  # new in this release: fails alone on the old

    vc.write_map(universal_map(30))
    out = CountingWriter()
    stream_map(vc, out)
    old = old_overview(vc)
    assert json.loads(out.getvalue()) == old
    assert out.getvalue() == json.dumps(old, ensure_ascii=False) + "\n"
    # Written item by item, never as one document held whole.
    assert out.writes >= len(old["units"]) + len(old["results"]) + len(old["links"])
