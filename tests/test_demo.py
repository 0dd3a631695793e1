"""The demo organisation: deterministic, realistic, complete, and written once."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

import networkx as nx
import pytest

from valuechain import Valuechain
from valuechain.domain.link import Relation
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.person import Role
from valuechain.domain.result import ResultKind
from valuechain.domain.unit import UnitKind
from valuechain.services.demo import demo_map, ensure_demo

EXTERNAL_CUSTOMERS = {"retail-chains", "installers", "oem-partners"}


def unit_graph(org_map: OrganisationMap) -> nx.DiGraph:
    """Reference graph: producer -> customer for every link, self-use left out."""
    producer = {r.id: r.unit_id for r in org_map.results}
    graph = nx.DiGraph()
    graph.add_nodes_from(u.id for u in org_map.units)
    graph.add_edges_from(
        (producer[link.result_id], link.customer_id)
        for link in org_map.links
        if producer[link.result_id] != link.customer_id
    )
    return graph


def test_same_seed_gives_identical_map_and_the_seed_varies_people_only() -> None:
    assert demo_map() == demo_map()
    assert demo_map(3) == demo_map(3)
    other = demo_map(8)
    assert other.people != demo_map(7).people
    assert (other.units, other.results, other.links) == (
        demo_map(7).units,
        demo_map(7).results,
        demo_map(7).links,
    )


def test_demo_is_a_complete_consistent_organisation() -> None:
    org = demo_map()
    assert len(org.units) >= 40
    assert {u.kind for u in org.units} == set(UnitKind)
    assert {r.kind for r in org.results} == set(ResultKind)
    assert {link.relation for link in org.links} == set(Relation)
    kinds = Counter(u.kind for u in org.units)
    assert kinds[UnitKind.EXTERNAL_CUSTOMER] >= 2

    unit_ids = {u.id for u in org.units}
    result_ids = {r.id for r in org.results}
    assert len(unit_ids) == len(org.units) and len(result_ids) == len(org.results)
    assert all(u.parent_id is None or u.parent_id in unit_ids for u in org.units)
    assert any(u.parent_id for u in org.units if u.kind is UnitKind.TEAM)
    assert all(u.headcount for u in org.units if not u.kind.is_external)
    assert all(r.unit_id in unit_ids for r in org.results)
    assert all(r.capacity and r.cost_per_item for r in org.results)
    assert all(link.result_id in result_ids and link.customer_id in unit_ids for link in org.links)
    assert all(link.demand for link in org.links)
    assert len({link.key for link in org.links}) == len(org.links)

    # Revenue only where an external customer pays for the result.
    paid_by_external = {
        link.result_id
        for link in org.links
        if link.relation is Relation.PAYS and link.customer_id in EXTERNAL_CUSTOMERS
    }
    assert {r.id for r in org.results if r.revenue_per_item} == paid_by_external


def test_people_one_lead_per_internal_unit_exactly_one_admin_unique_emails() -> None:
    org = demo_map()
    roles = Counter(p.role for p in org.people)
    assert roles[Role.ADMIN] == 1
    internal = {u.id for u in org.units if not u.kind.is_external}
    leads = Counter(p.unit_id for p in org.people if p.role is Role.LEAD)
    assert set(leads) == internal and set(leads.values()) == {1}
    assert roles[Role.MEMBER] > 0
    assert len({p.email for p in org.people}) == len(org.people)
    assert len({p.id for p in org.people}) == len(org.people)
    assert all(p.email.endswith("@demo.valuechain.example") for p in org.people)
    first, last = org.people[0].name.lower().split(" ")
    assert org.people[0].email == f"{first}.{last}@demo.valuechain.example"


def test_demo_has_cycles_orphans_and_an_assembly_bottleneck() -> None:
    org = demo_map()
    graph = unit_graph(org)
    cycles = [c for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert any({"it-service-desk", "business-applications"} <= c for c in cycles)

    # Orphans by the reference: no customer of the result is, or reaches, an external customer.
    reaches = {u for u in graph if nx.descendants(graph, u) & EXTERNAL_CUSTOMERS}
    good = EXTERNAL_CUSTOMERS | reaches
    has_path = {link.result_id for link in org.links if link.customer_id in good}
    orphans = {r.id for r in org.results} - has_path
    assert "legacy-utilisation-report" in orphans
    assert orphans == {"legacy-utilisation-report", "energy-readings"}

    # The main chain: the bottleneck is assembly; packing takes only 10% more.
    chain = [
        "machined-housings",
        "assembled-pumps",
        "packed-pumps",
        "picked-orders",
        "delivered-pumps",
    ]
    capacity = {r.id: r.capacity for r in org.results}
    end_demand = sum(link.demand or 0 for link in org.links if link.result_id == "delivered-pumps")
    bottleneck = min(chain, key=lambda rid: capacity[rid] or 0)
    assert bottleneck == "assembled-pumps"
    assert (capacity["assembled-pumps"] or 0) < end_demand
    assert capacity["packed-pumps"] == pytest.approx(1.1 * (capacity["assembled-pumps"] or 0))


def test_demo_in_the_database_gives_machining_its_customers(vc: Valuechain) -> None:
    assert ensure_demo(vc) is True
    org = demo_map()
    graph = unit_graph(org)

    found = vc.customers("machining")
    direct = {row["unit"] for row in found["direct"]}
    assert direct == set(graph.successors("machining"))
    assert {"assembly", "quality-assurance"} <= direct
    assert set(found["external"]) == EXTERNAL_CUSTOMERS
    indirect = {row["unit"]: row["via"] for row in found["indirect"]}
    assert set(indirect) == nx.descendants(graph, "machining") - direct - {"machining"}
    for customer, via in indirect.items():
        path = ["machining", *via, customer]
        assert all(graph.has_edge(a, b) for a, b in pairwise(path))
        assert len(path) - 1 == nx.shortest_path_length(graph, "machining", customer)
    assert indirect["oem-partners"] == ["quality-assurance"]
    assert found["orphan_results"] == []
    assert vc.customers("controlling")["orphan_results"] == ["legacy-utilisation-report"]


def test_ensure_demo_is_idempotent(vc: Valuechain) -> None:
    assert ensure_demo(vc) is True
    first = vc.read_map()
    assert ensure_demo(vc) is False
    assert vc.read_map() == first
    org = demo_map()
    assert vc.counts() == {
        "units": len(org.units),
        "results": len(org.results),
        "links": len(org.links),
        "people": len(org.people),
    }
    # read_map orders by id; the stored map is the demo map, row for row.
    assert sorted(first.units, key=lambda u: u.id) == sorted(org.units, key=lambda u: u.id)
    assert sorted(first.people, key=lambda p: p.id) == sorted(org.people, key=lambda p: p.id)


def test_ensure_demo_leaves_an_organisation_with_a_map_alone(vc: Valuechain) -> None:
    org = demo_map()
    vc.write_map(OrganisationMap(units=org.units[:1]))
    assert ensure_demo(vc) is False
    assert vc.counts()["units"] == 1
