"""Flow numbers that cannot overflow or invent (issue 15, items 1-4): large and
fractional capacities, unlimited paths, money that does not depend on result ids,
a consumes link's demand taken once, and byproducts that carry nothing. The maximum
flow and its least-cost pricing are checked against networkx on random chains whose
capacities span 1e-3 to 1e12."""

from __future__ import annotations

import math
from decimal import Decimal
from unittest.mock import patch

import networkx as nx
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from valuechain import Valuechain
from valuechain.analytics import flow as flow_module
from valuechain.analytics import flow_integer
from valuechain.analytics.flow import Change, Flow, WhatIf, apply, max_flow, network
from valuechain.analytics.flow_integer import integer_flow
from valuechain.domain.link import Link, Relation
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.result import Result, ResultKind
from valuechain.domain.unit import Unit, UnitKind
from valuechain.services.flow import flow

INF = np.inf
MILLION = 10**6
CONSUMES, PAYS = Relation.CONSUMES, Relation.PAYS
TEAM, CUSTOMER = UnitKind.TEAM, UnitKind.EXTERNAL_CUSTOMER
INT, FIN, BYP = ResultKind.INTERMEDIATE, ResultKind.FINISHED, ResultKind.BYPRODUCT

# -- item 1: no overflow, no rounding to zero or beyond a capacity ---------------------


def test_three_customers_without_demand_do_not_overflow_to_zero() -> None:
    # Capacities totalling ~500,000 a week; three paying customers without a demand.
    net = network([200_000, 1_005, 300_000], [[0, 1], [1, 2]], [2, 2, 2])
    result = max_flow(net)
    assert result.throughput == 1_005
    assert result.bottlenecks.tolist() == [1] and not result.demand_bound


@pytest.mark.parametrize("capacity", [1e12, 3.7e12, 0.0004, 123_456_789.7, 0.001, 1e-3 + 1e12])
def test_one_stage_carries_exactly_its_capacity(capacity: float) -> None:
    net = network([2 * capacity, capacity, INF], [[0, 1], [1, 2]], [2], sink_demand=[5e12])
    result = max_flow(net)
    assert result.throughput == capacity  # exactly: never rounded up, never to zero
    assert result.stage_flow[1] <= capacity


def test_a_demand_of_a_trillion_is_met_exactly() -> None:
    net = network([INF, 4e12], [[0, 1]], [1], sink_demand=[1e12])
    result = max_flow(net)
    assert result.throughput == 1e12 and result.demand_bound


# -- random chains against networkx (maximum flow and its least cost) ------------------

SPAN = st.floats(min_value=-3, max_value=12).map(lambda e: float(f"{10**e:.4g}"))


@st.composite
def wide_chains(draw: st.DrawFn) -> dict[str, list]:  # type: ignore[type-arg]
    n = draw(st.integers(1, 8))
    capacity = draw(st.lists(st.one_of(st.just(INF), SPAN), min_size=n, max_size=n))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=16))
    arcs = [[a, b] for a, b in pairs if a != b]
    arc_demand = draw(
        st.lists(st.one_of(st.just(INF), SPAN), min_size=len(arcs), max_size=len(arcs))
    )
    sinks = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4))
    # At least one limit on the way out, so most chains are bounded.
    sink_demand = draw(st.lists(SPAN, min_size=len(sinks), max_size=len(sinks)))
    cost = draw(st.lists(st.integers(0, 50), min_size=n, max_size=n))
    revenue = draw(st.lists(st.integers(0, 200), min_size=n, max_size=n))
    return {
        "capacity": capacity,
        "arcs": arcs,
        "arc_demand": arc_demand,
        "sinks": sinks,
        "sink_demand": sink_demand,
        "cost": cost,
        "revenue": revenue,
    }


def _networkx_graph(chain: dict[str, list]) -> nx.DiGraph:  # type: ignore[type-arg]
    """The same flow as a networkx graph: a stage is an in and an out node; each arc
    and sink goes through a node of its own so parallel ones add up; the weight of a
    stage's edge is its cost per item, of a sink's edge minus the revenue per item."""
    graph = nx.DiGraph()
    fed = {b for _, b in chain["arcs"]}

    def cap(value: float) -> dict[str, float]:
        return {} if value == INF else {"capacity": value}

    for s, c in enumerate(chain["capacity"]):
        graph.add_edge(("in", s), ("out", s), weight=chain["cost"][s], **cap(c))
        if s not in fed:
            graph.add_edge("S", ("in", s), weight=0)
    for i, ((a, b), d) in enumerate(zip(chain["arcs"], chain["arc_demand"], strict=True)):
        graph.add_edge(("out", a), ("arc", i), weight=0, **cap(d))
        graph.add_edge(("arc", i), ("in", b), weight=0)
    for i, (s, d) in enumerate(zip(chain["sinks"], chain["sink_demand"], strict=True)):
        graph.add_edge(("out", s), ("sink", i), weight=-chain["revenue"][s], **cap(d))
        graph.add_edge(("sink", i), "T", weight=0)
    graph.add_nodes_from(["S", "T"])
    return graph


def _net(chain: dict[str, list]) -> object:  # type: ignore[type-arg]
    return network(
        chain["capacity"],
        chain["arcs"] or np.empty((0, 2)),
        chain["sinks"],
        arc_demand=chain["arc_demand"],
        sink_demand=chain["sink_demand"],
        cost_per_item=chain["cost"],
        revenue_per_item=chain["revenue"],
    )


# Every chain is solved by each solver: "exact" is the integer path (OR-Tools and
# LEMON on figures scaled exactly to integers; chains it cannot scale are skipped),
# "programme" the HiGHS programme every chain would fall back to.
SOLVERS = ["exact", "programme"]


def _solve(chain: dict[str, list], solver: str) -> Flow:  # type: ignore[type-arg]
    net = _net(chain)
    if solver == "programme":
        with patch.object(flow_module, "integer_flow", return_value=None):
            return max_flow(net)
    assume(integer_flow(net) is not None)
    return max_flow(net)


@pytest.mark.parametrize("solver", SOLVERS)
@settings(max_examples=150, deadline=None)
@given(chain=wide_chains())
def test_throughput_matches_networkx_over_twelve_orders_of_magnitude(chain, solver) -> None:  # type: ignore[no-untyped-def]
    graph = _networkx_graph(chain)
    expected = float(nx.maximum_flow_value(graph, "S", "T"))
    result = _solve(chain, solver)
    assert result.throughput == pytest.approx(expected, rel=1e-9, abs=1e-9)
    limited = np.isfinite(result.stage_flow) & np.isfinite(np.asarray(chain["capacity"]))
    assert (
        result.stage_flow[limited] <= np.asarray(chain["capacity"])[limited] * (1 + 1e-12)
    ).all()


@pytest.mark.parametrize("solver", SOLVERS)
@settings(max_examples=100, deadline=None)
@given(chain=wide_chains())
def test_money_is_that_of_the_least_cost_maximum_flow(chain, solver) -> None:  # type: ignore[no-untyped-def]
    graph = _networkx_graph(chain)
    # networkx's network simplex needs integers (our weights are): capacities have
    # four significant digits and are at least 1e-3, so millionths are exact, and
    # Python's integers neither overflow nor round.
    exact = graph.copy()
    for _, _, data in exact.edges(data=True):
        if "capacity" in data:
            data["capacity"] = int(Decimal(str(data["capacity"])) * MILLION)
    best = nx.max_flow_min_cost(exact, "S", "T")
    money = -nx.cost_of_flow(exact, best) / MILLION  # revenue minus variable cost
    value = float(nx.maximum_flow_value(exact, "S", "T")) / MILLION
    result = _solve(chain, solver)
    assert result.throughput == pytest.approx(value, rel=1e-9, abs=1e-9)
    assert result.net == pytest.approx(money, rel=1e-9, abs=1e-6)


def test_the_property_chains_take_both_paths() -> None:
    # The span 1e-3..1e12 is meant to reach both: figures that scale to int64, and
    # thousandths beside trillions, which need 10**6 * 10**13 > 2**62 and fall back.
    small = {
        "capacity": [INF, 1005.0],
        "arcs": [[0, 1]],
        "arc_demand": [0.5],
        "sinks": [1],
        "sink_demand": [12.25],
        "cost": [1, 2],
        "revenue": [0, 9],
    }
    wide = {**small, "capacity": [INF, 9.999e12], "arc_demand": [0.001234], "sinks": [1, 1]}
    wide["sink_demand"] = [9.999e12, 9.999e12]
    assert integer_flow(_net(small)) is not None  # type: ignore[arg-type]
    assert integer_flow(_net(wide)) is None  # type: ignore[arg-type]
    assert max_flow(_net(wide)).throughput == 0.001234  # type: ignore[arg-type]


@st.composite
def grouped_chains(draw: st.DrawFn) -> tuple[dict[str, list], list[int], list[float]]:  # type: ignore[type-arg]
    """A wide chain whose arcs leaving one stage may share one demand (a group)."""
    chain = draw(wide_chains())
    shared = draw(st.lists(st.booleans(), min_size=len(chain["arcs"]), max_size=len(chain["arcs"])))
    stage_group: dict[int, int] = {}
    group = []
    for (a, _), share in zip(chain["arcs"], shared, strict=True):
        group.append(stage_group.setdefault(a, len(stage_group)) if share else -1)
    demand = draw(st.lists(SPAN, min_size=len(stage_group), max_size=len(stage_group)))
    return chain, group, demand


@settings(max_examples=100, deadline=None)
@given(grouped_chains())
def test_exact_and_programme_agree_with_shared_demands(drawn) -> None:  # type: ignore[no-untyped-def]
    chain, group, demand = drawn
    net = network(
        chain["capacity"],
        chain["arcs"] or np.empty((0, 2)),
        chain["sinks"],
        arc_demand=chain["arc_demand"],
        sink_demand=chain["sink_demand"],
        cost_per_item=chain["cost"],
        revenue_per_item=chain["revenue"],
        arc_group=group if group else None,
        group_demand=demand if group else None,
    )
    assume(integer_flow(net) is not None)
    exact = max_flow(net)
    with patch.object(flow_module, "integer_flow", return_value=None):
        programme = max_flow(net)
    assert exact.throughput == pytest.approx(programme.throughput, rel=1e-9, abs=1e-9)
    assert exact.net == pytest.approx(programme.net, rel=1e-9, abs=1e-6)
    # The cut nearest the supply is the same for every maximum flow.
    assert sorted(exact.bottlenecks.tolist()) == sorted(programme.bottlenecks.tolist())


def test_a_what_if_of_twenty_percent_stays_exact() -> None:
    # 333 * 1.2 is 399.59999999999997 in binary floating point: 14 decimals, which no
    # int64 scaling of a whole chain could hold. In decimal it is 399.6.
    net = network([INF, 333.0, 1_000.0], [[0, 1], [1, 2]], [2], sink_demand=[900.0])
    changed = apply(net, [WhatIf(1, Change.CAPACITY, 20.0)])
    assert changed.capacity[1] == 399.6
    assert integer_flow(changed) is not None
    assert max_flow(changed).throughput == 399.6


# -- item 3: money does not depend on which stage comes first --------------------------


def test_renaming_stages_changes_no_money() -> None:
    # Supply (100 a week) to a customer by two routes: cheap (1 a item) or dear (50).
    def chain(order: list[int]) -> object:
        capacity = {0: 100.0, 1: INF, 2: INF, 3: INF}
        cost = {0: 0.0, 1: 1.0, 2: 50.0, 3: 0.0}
        arcs = [[0, 1], [0, 2], [1, 3], [2, 3]]
        pos = {s: i for i, s in enumerate(order)}
        return network(
            [capacity[s] for s in order],
            [[pos[a], pos[b]] for a, b in arcs],
            [pos[3]],
            sink_demand=[100],
            cost_per_item=[cost[s] for s in order],
            revenue_per_item=[10.0 if s == 3 else 0.0 for s in order],
        )

    answers = {
        (r.throughput, r.variable_cost, r.net)
        for r in (max_flow(chain(o)) for o in ([0, 1, 2, 3], [3, 2, 1, 0], [0, 2, 1, 3]))  # type: ignore[arg-type]
    }
    assert answers == {(100.0, 100.0, 900.0)}


# -- item 2: an unlimited path is unbounded, and nothing is computed from it ----------


def test_an_unlimited_path_is_unbounded() -> None:
    # 0 (unlimited) -> 2 (unlimited) -> a customer without demand; 1 (100) -> 2.
    net = network([INF, 100, INF], [[0, 2], [1, 2]], [2], revenue_per_item=[0, 0, 5])
    result = max_flow(net)
    assert math.isinf(result.throughput)
    assert result.unlimited_path.tolist() == [0, 2]
    assert result.bottlenecks.size == 0 and not result.demand_bound
    assert math.isnan(result.net) and math.isnan(result.revenue)


def _map(results: list[Result], links: list[Link], units: list[Unit]) -> OrganisationMap:
    return OrganisationMap(units=units, results=results, links=links)


UNITS = [
    Unit("mill", "Mill", TEAM),
    Unit("press", "Press", TEAM),
    Unit("pack", "Packing", TEAM),
    Unit("shop", "Shop", CUSTOMER),
    Unit("depot", "Depot", CUSTOMER),
]


def unbounded_map() -> OrganisationMap:
    """Flour (no capacity) into boxes (no capacity) to a depot without demand."""
    return _map(
        [
            Result("flour", "mill", "Flour", INT, None, 1.0),
            Result("sheets", "press", "Sheets", INT, 172.0, 2.0),
            Result("boxes", "pack", "Boxes", FIN, None, 1.0, 9.0),
        ],
        [
            Link("flour", "pack", CONSUMES),
            Link("sheets", "pack", CONSUMES),
            Link("boxes", "shop", PAYS, 30.0),
            Link("boxes", "depot", PAYS),
        ],
        UNITS,
    )


def test_unbounded_on_the_stored_map_says_so_and_computes_nothing(vc: Valuechain) -> None:
    vc.write_map(unbounded_map())
    doc = flow(vc)
    assert doc["throughput"] is None and doc["unbounded"] is True
    assert doc["unlimited_path"] == ["flour", "boxes"]
    assert doc["money"] == {"revenue": None, "variable_cost": None, "throughput": None}
    assert "is met" not in doc["summary"] and "unbounded" in doc["summary"]
    assert "flour" in doc["summary"].lower()
    what_if = flow(vc, ["sheets=+20%"])["what_if"]
    assert what_if["throughput_before"] is None and what_if["throughput_after"] is None
    assert what_if["throughput_change"] is None
    assert set(what_if["money"]["delta"].values()) == {None}
    assert "unbounded" in what_if["summary_before"]


# -- item 3 on the stored map: renaming result ids changes no money --------------------


def _two_routes(cheap: str, dear: str) -> OrganisationMap:
    return _map(
        [
            Result("ore", "mill", "Ore", INT, 100.0, 0.0),
            Result(cheap, "press", "Cheap route", INT, None, 1.0),
            Result(dear, "pack", "Dear route", INT, None, 50.0),
            Result("goods", "shop-team", "Goods", FIN, None, 0.0, 100.0),
        ],
        [
            Link("ore", "press", CONSUMES),
            Link("ore", "pack", CONSUMES),
            Link(cheap, "shop-team", CONSUMES),
            Link(dear, "shop-team", CONSUMES),
            Link("goods", "shop", PAYS, 100.0),
        ],
        [*UNITS, Unit("shop-team", "Shop team", TEAM)],
    )


@pytest.mark.parametrize(("cheap", "dear"), [("a-cheap", "z-dear"), ("z-cheap", "a-dear")])
def test_money_on_the_stored_map_does_not_depend_on_ids(
    vc: Valuechain, cheap: str, dear: str
) -> None:
    vc.write_map(_two_routes(cheap, dear))
    doc = flow(vc)
    assert doc["throughput"] == 100
    assert doc["money"] == {"revenue": 10_000.0, "variable_cost": 100.0, "throughput": 9_900.0}


# -- item 4: a consumes link's demand is taken once; byproducts carry nothing ---------


def test_a_consumes_links_demand_caps_all_the_customers_results_together(
    vc: Valuechain,
) -> None:
    # The press takes at most 100 flour a week and makes sheets and lids from it.
    vc.write_map(
        _map(
            [
                Result("flour", "mill", "Flour", INT, 1_000.0),
                Result("sheets", "press", "Sheets", FIN, 1_000.0),
                Result("lids", "press", "Lids", FIN, 1_000.0),
            ],
            [
                Link("flour", "press", CONSUMES, 100.0),
                Link("sheets", "shop", PAYS, 500.0),
                Link("lids", "depot", PAYS, 500.0),
            ],
            UNITS,
        )
    )
    doc = flow(vc)
    assert doc["throughput"] == 100  # not 200: the link's demand is not taken twice
    assert {d["id"]: d["delivered"] for d in doc["deliveries"]}.keys() == {"sheets", "lids"}


def test_a_byproduct_carries_no_items_and_is_never_the_bottleneck(vc: Valuechain) -> None:
    vc.write_map(
        _map(
            [
                Result("flour", "mill", "Flour", FIN, 1_000.0),
                Result("dust", "mill", "Dust report", BYP, 5.0),
            ],
            [Link("flour", "shop", PAYS, 100.0), Link("dust", "depot", PAYS, 50.0)],
            UNITS,
        )
    )
    doc = flow(vc)
    assert {s["id"] for s in doc["stages"]} == {"flour"}
    assert doc["throughput"] == 100 and doc["bottleneck"] is None and doc["demand_bound"]


def test_what_if_on_an_analytic_chain_keeps_the_least_cost_flow() -> None:
    net = network([INF, 100, INF, INF], [[0, 1], [0, 2], [1, 3], [2, 3]], [3], sink_demand=[150])
    priced = apply(
        network(
            [INF, 100, 100, INF],
            [[0, 1], [0, 2], [1, 3], [2, 3]],
            [3],
            sink_demand=[150],
            cost_per_item=[0, 1, 5, 0],
        ),
        [WhatIf(1, Change.CAPACITY, 50)],
    )
    assert max_flow(net).throughput == 150  # the unlimited route ends at a demand of 150
    result = max_flow(priced)
    assert result.throughput == 150 and result.variable_cost == 150 * 1


@settings(max_examples=60, deadline=None)
@given(
    chain=wide_chains(),
    stage=st.integers(0, 7),
    percent=st.sampled_from([-50.0, 20.0, 15.5, 300.0]),
    change=st.sampled_from(list(Change)),
)
def test_a_what_if_from_todays_basis_equals_a_fresh_solve(chain, stage, percent, change) -> None:  # type: ignore[no-untyped-def]
    net = _net(chain)
    today = max_flow(net)  # type: ignore[arg-type]
    changed = apply(net, [WhatIf(min(stage, net.n_stages - 1), change, percent)])  # type: ignore[attr-defined, arg-type]
    warm = max_flow(changed, start=today)
    fresh = max_flow(changed)
    assert warm.throughput == fresh.throughput
    assert warm.net == fresh.net or math.isnan(fresh.net)
    assert sorted(warm.bottlenecks.tolist()) == sorted(fresh.bottlenecks.tolist())


def test_a_what_if_reuses_todays_basis() -> None:
    net = network(
        [INF, 100, 100, INF],
        [[0, 1], [0, 2], [1, 3], [2, 3]],
        [3],
        sink_demand=[150],
        cost_per_item=[0, 1, 5, 0],
        revenue_per_item=[0, 0, 0, 9],
    )
    today = max_flow(net)
    # Today's flow stays feasible when a capacity rises: only the augmentation is solved.
    with patch.object(flow_integer, "_augment", wraps=flow_integer._augment) as augment:
        after = max_flow(apply(net, [WhatIf(1, Change.CAPACITY, 20)]), start=today)
    assert augment.called
    assert today.basis is not None and after.basis is today.basis
    assert after.throughput == 150 and after.variable_cost == 120 * 1 + 30 * 5
