"""The customer graph computations agree with networkx on random graphs with cycles."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from valuechain.analytics.customer import (
    NO_DEPTH,
    build_graph,
    customers_of,
    map_facts,
    unpack_external,
)


@st.composite
def chains(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 25))
    r = draw(st.integers(1, 30))
    m = draw(st.integers(0, 70))
    external = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    result_unit = np.array(draw(st.lists(st.integers(0, n - 1), min_size=r, max_size=r)))
    link_result = np.array(draw(st.lists(st.integers(0, r - 1), min_size=m, max_size=m)), dtype=int)
    link_customer = np.array(
        draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), dtype=int
    )
    return external, result_unit, link_result, link_customer


def _reference(ext, ru, lr, lc):  # type: ignore[no-untyped-def]
    graph = nx.DiGraph()
    graph.add_nodes_from(range(len(ext)))
    graph.add_edges_from((int(a), int(b)) for a, b in zip(ru[lr], lc, strict=True) if a != b)
    return graph


@settings(max_examples=150, deadline=None)
@given(chains())
def test_facts_match_networkx(chain) -> None:  # type: ignore[no-untyped-def]
    ext, ru, lr, lc = chain
    graph = build_graph(ext, ru, lr, lc)
    facts = map_facts(graph)
    ref = _reference(ext, ru, lr, lc)
    for unit in range(len(ext)):
        below = nx.descendants(ref, unit)
        externals = sorted(x for x in below if ext[x])
        assert list(unpack_external(facts, unit)) == externals
        assert facts.external_count[unit] == len(externals)
        assert facts.direct_count[unit] == ref.out_degree(unit)
        hops = nx.single_source_shortest_path_length(ref, unit)
        reachable = [hops[e] for e in externals]
        expected_depth = 0 if ext[unit] else (min(reachable) if reachable else NO_DEPTH)
        assert facts.depth[unit] == expected_depth
    orphans = set()
    for result in range(len(ru)):
        customers = {int(c) for c, res in zip(lc, lr, strict=True) if res == result}
        if not any(ext[c] or any(ext[x] for x in nx.descendants(ref, c)) for c in customers):
            orphans.add(result)
    assert set(facts.orphan_results.tolist()) == orphans


@settings(max_examples=150, deadline=None)
@given(chains())
def test_customers_of_gives_shortest_valid_paths(chain) -> None:  # type: ignore[no-untyped-def]
    ext, ru, lr, lc = chain
    graph = build_graph(ext, ru, lr, lc)
    ref = _reference(ext, ru, lr, lc)
    for unit in range(len(ext)):
        found = customers_of(graph, unit)
        below = nx.descendants(ref, unit)
        assert sorted(found.direct.tolist()) == sorted(ref.successors(unit))
        assert set(found.direct.tolist()) | set(found.indirect.tolist()) == below
        assert not set(found.direct.tolist()) & set(found.indirect.tolist())
        hops = nx.single_source_shortest_path_length(ref, unit)
        for target, via in zip(found.indirect, found.via, strict=True):
            path = [unit, *via.tolist(), int(target)]
            assert len(path) - 1 == hops[int(target)]
            assert all(ref.has_edge(a, b) for a, b in itertools.pairwise(path))


def test_cycle_does_not_hang_or_double_count() -> None:
    # a -> b -> c -> a, c -> x (external): every member reaches x once.
    ext = np.array([False, False, False, True])
    result_unit = np.array([0, 1, 2, 2])
    link_result = np.array([0, 1, 2, 3])
    link_customer = np.array([1, 2, 0, 3])
    facts = map_facts(build_graph(ext, result_unit, link_result, link_customer))
    assert facts.external_count.tolist() == [1, 1, 1, 0]
    assert facts.depth.tolist() == [3, 2, 1, 0]
    assert facts.orphan_results.size == 0


def test_seed_worked_example_chain_and_orphan() -> None:
    # supplier -> machining -> assembly -> retail; machining also writes an unread report.
    ext = np.array([False, False, False, True])
    result_unit = np.array([0, 1, 2, 1])
    link_result = np.array([0, 1, 2])
    link_customer = np.array([1, 2, 3])
    graph = build_graph(ext, result_unit, link_result, link_customer)
    found = customers_of(graph, 0)
    assert found.direct.tolist() == [1]
    assert found.indirect.tolist() == [2, 3]
    assert [v.tolist() for v in found.via] == [[1], [1, 2]]
    assert found.external.tolist() == [3]
    assert customers_of(graph, 1).orphan_results.tolist() == [3]
