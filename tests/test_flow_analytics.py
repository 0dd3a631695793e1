"""Flow along the value chain: the seed's worked example exactly, and the maximum flow
against networkx on random chains with splits, merges and cycles."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valuechain.analytics.flow import (
    Change,
    WhatIf,
    apply,
    max_flow,
    network,
)

INF = np.inf


def seed_chain() -> object:
    # supplier -> bottleneck (100/week) -> next step (110/week) -> external demand 200/week
    return network(
        [INF, 100, 110],
        [[0, 1], [1, 2]],
        [2],
        sink_demand=[200],
        cost_per_item=[5, 10, 10],
        revenue_per_item=[0, 0, 50],
    )


def test_raising_the_bottleneck_twenty_percent_gains_ten_and_moves_the_bottleneck() -> None:
    net = seed_chain()
    before = max_flow(net)  # type: ignore[arg-type]
    assert before.throughput == pytest.approx(100)
    assert before.bottlenecks.tolist() == [1]
    assert before.inventory_growth.tolist() == [0, 0, 0]
    after = max_flow(apply(net, [WhatIf(1, Change.CAPACITY, 20)]))  # type: ignore[arg-type]
    assert after.throughput == pytest.approx(110)
    assert after.bottlenecks.tolist() == [2]
    assert after.inventory_growth == pytest.approx([0, 0, 10])
    assert after.idle[1] == pytest.approx(10)  # the old bottleneck now waits on the next step


def test_raising_a_non_bottleneck_gains_nothing() -> None:
    after = max_flow(apply(seed_chain(), [WhatIf(2, Change.CAPACITY, 20)]))  # type: ignore[arg-type]
    assert after.throughput == pytest.approx(100)
    assert after.bottlenecks.tolist() == [1]


def test_saving_ten_percent_cost_while_losing_five_percent_output_is_no_saving() -> None:
    net = seed_chain()
    before = max_flow(net)  # type: ignore[arg-type]
    cheaper = max_flow(
        apply(net, [WhatIf(1, Change.COST, -10), WhatIf(1, Change.CAPACITY, -5)])  # type: ignore[arg-type]
    )
    assert cheaper.variable_cost < before.variable_cost
    assert cheaper.revenue == pytest.approx(before.revenue * 0.95)
    assert cheaper.net < before.net
    # Throughput accounting: 95 items x (50 - 5 - 9 - 10) = 2,470 against 2,500.
    assert cheaper.net == pytest.approx(2470)
    assert before.net == pytest.approx(2500)


def test_demand_not_a_stage_can_be_the_limit() -> None:
    slack = max_flow(network([INF, 300, 300], [[0, 1], [1, 2]], [2], sink_demand=[200]))
    assert slack.throughput == pytest.approx(200)
    assert slack.demand_bound and slack.bottlenecks.size == 0
    assert slack.utilisation[1] == pytest.approx(200 / 300)


def test_cycles_neither_hang_nor_create_flow() -> None:
    # 0 -> 1 -> 2 -> 1 (rework loop), 2 -> external
    net = network([50, 40, 30], [[0, 1], [1, 2], [2, 1]], [2], sink_demand=[100])
    flow = max_flow(net)
    assert flow.throughput == pytest.approx(30)
    assert np.isfinite(flow.arrivals).all()


@st.composite
def chains(
    draw: st.DrawFn,
) -> tuple[list[float], list[list[int]], list[float], list[int], list[float]]:
    n = draw(st.integers(1, 9))
    capacity = draw(
        st.lists(st.sampled_from([INF, 5.0, 10.0, 12.5, 40.0, 100.0]), min_size=n, max_size=n)
    )
    arcs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=20))
    arcs = [[a, b] for a, b in arcs if a != b]
    arc_demand = draw(
        st.lists(st.sampled_from([INF, 3.0, 8.0, 30.0]), min_size=len(arcs), max_size=len(arcs))
    )
    sinks = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4))
    sink_demand = draw(
        st.lists(st.sampled_from([INF, 7.0, 25.0, 60.0]), min_size=len(sinks), max_size=len(sinks))
    )
    return capacity, arcs, arc_demand, sinks, sink_demand


def _networkx_value(capacity, arcs, arc_demand, sinks, sink_demand) -> float:  # type: ignore[no-untyped-def]
    graph = nx.DiGraph()
    fed = {b for _, b in arcs}
    for s, cap in enumerate(capacity):
        graph.add_edge(("in", s), ("out", s), **({} if cap == INF else {"capacity": cap}))
        if s not in fed:
            graph.add_edge("S", ("in", s))
    for (a, b), d in zip(arcs, arc_demand, strict=True):
        # Parallel arcs add up: route each through its own node.
        mid = ("arc", a, b, len(graph))
        graph.add_edge(("out", a), mid, **({} if d == INF else {"capacity": d}))
        graph.add_edge(mid, ("in", b))
    for s, d in zip(sinks, sink_demand, strict=True):
        mid = ("sink", s, len(graph))
        graph.add_edge(("out", s), mid, **({} if d == INF else {"capacity": d}))
        graph.add_edge(mid, "T")
    if "S" not in graph:
        return 0.0
    try:
        return float(nx.maximum_flow_value(graph, "S", "T"))
    except nx.NetworkXUnbounded:
        return INF


@settings(max_examples=200, deadline=None)
@given(chains())
def test_throughput_matches_networkx_and_bottlenecks_bind(chain) -> None:  # type: ignore[no-untyped-def]
    capacity, arcs, arc_demand, sinks, sink_demand = chain
    expected = _networkx_value(capacity, arcs, arc_demand, sinks, sink_demand)
    net = network(
        capacity, arcs or np.empty((0, 2)), sinks, arc_demand=arc_demand, sink_demand=sink_demand
    )
    flow = max_flow(net)
    if expected == INF:  # an unlimited path from supply to an unlimited customer
        assert flow.unbounded and flow.bottlenecks.size == 0 and np.isnan(flow.net)
        path = flow.unlimited_path.tolist()
        assert path[0] not in {b for _, b in arcs}  # it starts at the supply
        assert all(np.isinf(capacity[s]) for s in path)
        for a, b in itertools.pairwise(path):
            assert any(
                [x, y] == [a, b] and d == INF for (x, y), d in zip(arcs, arc_demand, strict=True)
            )
        assert sinks[flow.unlimited_sink] == path[-1]
        assert sink_demand[flow.unlimited_sink] == INF
        return
    assert not flow.unbounded
    assert flow.throughput == pytest.approx(expected, abs=1e-6)
    assert (flow.stage_flow <= net.capacity + 1e-9).all()
    for stage in flow.bottlenecks:
        # A stage of the minimum cut binds: one item less there is one item less out.
        tighter = max_flow(
            apply(net, [WhatIf(int(stage), Change.CAPACITY, -100 / net.capacity[stage])])
        )
        assert tighter.throughput == pytest.approx(flow.throughput - 1, abs=1e-6)


# -- assembly: inputs combined in fixed proportions ---------------------------------


def steel_mill() -> object:
    """Ore (100 a week) and coke (60 a week) both go into pig iron (200 a week): one
    tonne of pig iron needs one of each; the customers ask 150 a week."""
    return network(
        [100, 60, 200],
        [[0, 2], [1, 2]],
        [2],
        sink_demand=[150],
        arc_per_item=[1, 1],
        cost_per_item=[10, 20, 5],
        revenue_per_item=[0, 0, 80],
    )


def test_an_assembly_is_limited_by_its_scarcest_input() -> None:
    net = steel_mill()
    flow = max_flow(net)  # type: ignore[arg-type]
    assert flow.throughput == pytest.approx(60)  # not 150, as additive inputs would give
    assert flow.bottlenecks.tolist() == [1]  # coke
    assert flow.stage_flow == pytest.approx([60, 60, 60])
    assert flow.inventory_growth == pytest.approx([0, 0, 40])  # ore waiting for coke
    assert flow.net == pytest.approx(60 * (80 - 10 - 20 - 5))
    more_coke = max_flow(apply(net, [WhatIf(1, Change.CAPACITY, 20)]))  # type: ignore[arg-type]
    assert more_coke.throughput == pytest.approx(72)
    more_ore = max_flow(apply(net, [WhatIf(0, Change.CAPACITY, 20)]))  # type: ignore[arg-type]
    assert more_ore.throughput == pytest.approx(60)  # no gain: ore is not the bottleneck


def test_additive_merge_is_the_default() -> None:
    merged = max_flow(network([100, 60, 200], [[0, 2], [1, 2]], [2], sink_demand=[150]))
    assert merged.throughput == pytest.approx(150)


def test_proportions_other_than_one() -> None:
    # A pump needs 2 seals (500 a week) and 1 housing (300 a week); assembly 400 a week.
    net = network([500, 300, 400], [[0, 2], [1, 2]], [2], arc_per_item=[2, np.nan])
    flow = max_flow(net)
    assert flow.throughput == pytest.approx(250)
    assert flow.bottlenecks.tolist() == [0]
    assert flow.stage_flow == pytest.approx([500, 250, 250])


@settings(max_examples=100, deadline=None)
@given(chains(), st.data())
def test_assembly_flows_are_feasible_and_bottlenecks_bind(chain, data) -> None:  # type: ignore[no-untyped-def]
    capacity, arcs, arc_demand, sinks, sink_demand = chain
    per_item = data.draw(
        st.lists(st.sampled_from([np.nan, 1.0, 2.0, 0.5]), min_size=len(arcs), max_size=len(arcs))
    )
    net = network(
        capacity,
        arcs or np.empty((0, 2)),
        sinks,
        arc_demand=arc_demand,
        sink_demand=sink_demand,
        arc_per_item=per_item,
    )
    if _networkx_value(capacity, arcs, arc_demand, sinks, sink_demand) == INF:
        return  # unlimited without assemblies, so perhaps unlimited with them
    flow = max_flow(net)
    assert (flow.stage_flow <= net.capacity + 1e-6).all()
    assert flow.throughput == pytest.approx(flow.delivered.sum(), abs=1e-6)
    for stage in flow.bottlenecks:
        tighter = max_flow(apply(net, [WhatIf(int(stage), Change.CAPACITY, -50)]))
        assert tighter.throughput < flow.throughput - 1e-9


def test_the_clrs_flow_network_carries_23() -> None:
    """Cormen, Leiserson, Rivest & Stein, *Introduction to Algorithms*, fig. 26.1: the
    maximum flow from s to t is 23. Vertices are stages without a capacity of their own,
    edge capacities are arc demands; s (0) is fed by nobody, t (5) delivers."""
    s, v1, v2, v3, v4, t = range(6)
    edges = {
        (s, v1): 16, (s, v2): 13, (v1, v3): 12, (v2, v1): 4, (v2, v4): 14,
        (v3, v2): 9, (v3, t): 20, (v4, v3): 7, (v4, t): 4,
    }  # fmt: skip
    net = network([INF] * 6, list(edges), [t], arc_demand=list(edges.values()), sink_demand=[INF])
    assert max_flow(net).throughput == pytest.approx(23)


@settings(max_examples=150, deadline=None)
@given(chains(), st.data())
def test_throughput_never_exceeds_the_capacity_of_any_cut(chain, data) -> None:  # type: ignore[no-untyped-def]
    """Weak duality, checked directly: for a random set of stage halves on the supply
    side, the capacity of the arcs leaving it bounds the throughput."""
    capacity, arcs, arc_demand, sinks, sink_demand = chain
    net = network(
        capacity, arcs or np.empty((0, 2)), sinks, arc_demand=arc_demand, sink_demand=sink_demand
    )
    flow = max_flow(net)
    fed = {b for _, b in arcs}
    n = len(capacity)
    source_side = data.draw(st.lists(st.booleans(), min_size=2 * n, max_size=2 * n))
    side_in, side_out = source_side[:n], source_side[n:]
    cut = 0.0
    for s in range(n):  # supply -> in(s) for unfed stages: unlimited
        if s not in fed and not side_in[s]:
            return  # an unlimited arc crosses: the cut bounds nothing
        if side_in[s] and not side_out[s]:
            cut += capacity[s]
    for (a, b), d in zip(arcs, arc_demand, strict=True):
        if side_out[a] and not side_in[b]:
            cut += d
    for s, d in zip(sinks, sink_demand, strict=True):
        if side_out[s]:
            cut += d
    assert flow.throughput <= cut + 1e-6
