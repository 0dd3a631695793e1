"""Flow, issue 19 item 4 and issue 15: an unbounded chain names its path also when an
assembly on a cycle makes items without limit (a gain cycle); an unstated demand is
said as unlimited (``null``), never as a demand of 0, in JSON, the CLI and the page."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from typer.testing import CliRunner

from tests.signin import admin_client
from tests.test_flow import seed_example
from valuechain import Valuechain
from valuechain.analytics import flow as flow_module
from valuechain.analytics.flow import max_flow, network
from valuechain.analytics.flow_network import FlowNetwork
from valuechain.cli.main import app
from valuechain.domain.link import Link, Relation
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.result import Result, ResultKind
from valuechain.domain.unit import Unit, UnitKind
from valuechain.services.flow import flow

CONSUMES, PAYS = Relation.CONSUMES, Relation.PAYS
TEAM, CUSTOMER = UnitKind.TEAM, UnitKind.EXTERNAL_CUSTOMER
INT, FIN = ResultKind.INTERMEDIATE, ResultKind.FINISHED
INF = float("inf")

# -- an assembly on a cycle: unbounded, and the path is named --------------------------


def test_a_gain_cycle_names_its_path() -> None:
    # 0 makes its items from half an item of 2 each; 2 is made from 0, one for one:
    # every round makes twice what it takes. Nothing enters from a supply.
    net = network([INF] * 3, [[0, 2], [2, 0], [2, 1]], [1, 2], arc_per_item=[np.nan, 0.5, np.nan])
    result = max_flow(net)
    assert result.unbounded
    assert result.unlimited_path.tolist() == [2, 0, 2]  # was [] (nothing named)
    assert result.unlimited_sink == 1


@st.composite
def assembly_chains(draw: st.DrawFn) -> tuple[list[float], list[list[int]], list[float], list[int]]:
    n = draw(st.integers(2, 5))
    pairs = [[a, b] for a in range(n) for b in range(n) if a != b]
    arcs = draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=7, unique_by=tuple))
    capacity = draw(st.lists(st.sampled_from([INF, INF, INF, 10.0]), min_size=n, max_size=n))
    per_item = draw(
        st.lists(
            st.sampled_from([np.nan, np.nan, 0.5, 1.0, 2.0]),
            min_size=len(arcs),
            max_size=len(arcs),
        )
    )
    sinks = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=2))
    return capacity, arcs, per_item, sinks


@settings(max_examples=80, deadline=None)
@given(assembly_chains())
def test_every_unbounded_chain_names_a_free_path(chain) -> None:  # type: ignore[no-untyped-def]
    capacity, arcs, per_item, sinks = chain
    net = network(capacity, arcs, sinks, arc_per_item=per_item)
    result = max_flow(net)
    if not result.unbounded:
        return
    path = result.unlimited_path.tolist()
    assert path, "unbounded, but no path named"
    assert sinks[result.unlimited_sink] == path[-1]
    assert all(np.isinf(net.capacity[s]) for s in path)
    for a, b in itertools.pairwise(path):
        assert [a, b] in arcs


def gain_cycle_map() -> OrganisationMap:
    """Bread needs half a starter a loaf; the lab makes starter from bread, one for one."""
    return OrganisationMap(
        units=[
            Unit("bakery", "Bakery", TEAM),
            Unit("lab", "Lab", TEAM),
            Unit("shop", "Shop", CUSTOMER),
        ],
        results=[
            Result("bread", "bakery", "Bread", FIN, None, 1.0, 3.0),
            Result("starter", "lab", "Starter", INT, None, 0.5),
        ],
        links=[
            Link("bread", "lab", CONSUMES),
            Link("starter", "bakery", CONSUMES, per_item=0.5),
            Link("bread", "shop", PAYS),
        ],
    )


def test_a_gain_cycle_on_the_stored_map_names_it(vc: Valuechain) -> None:
    vc.write_map(gain_cycle_map())
    doc = flow(vc)
    assert doc["unbounded"] and doc["throughput"] is None
    assert doc["unlimited_path"] == ["bread", "starter", "bread"]
    assert "bread → starter → bread to shop" in doc["summary"]


# -- an unstated demand is unlimited, not 0 ------------------------------------------


def no_demand_map() -> OrganisationMap:
    """The seed's example; the buyer states no demand."""
    example = seed_example()
    links = [replace(k, demand=None) if k.relation is PAYS else k for k in example.links]
    return replace(example, links=links)


def test_an_unstated_demand_is_null_and_never_0(vc: Valuechain) -> None:
    vc.write_map(no_demand_map())
    doc = flow(vc)
    assert doc["throughput"] == 100.0 and doc["bottleneck"] == "frames"
    assert doc["demand"] is None  # was 0.0
    assert [d["demand"] for d in doc["deliveries"]] == [None]  # was [0.0]
    assert doc["summary"] == (
        "Welding is the bottleneck (welded frames, 100 a week): 100 shipped frames a "
        "week reach the external customers."
    )  # was "100 of 0 shipped frames"


def test_an_unstated_demand_in_the_cli_and_on_the_page(
    vc: Valuechain, cli_env: dict[str, str]
) -> None:
    client: TestClient
    for client in admin_client(vc, no_demand_map()):
        api = client.get("/api/v1/flow").json()
        assert api["demand"] is None
        page = client.get("/flow").text
        assert "<strong>100</strong> items a week" in page
        assert " of 0 " not in page and " of — " not in page
    runner = CliRunner()
    text = runner.invoke(app, ["flow"], env={"COLUMNS": "140"})
    assert text.exit_code == 0, text.output
    assert "Throughput 100 items a week" in text.output and " of 0 " not in text.output
    as_json = runner.invoke(app, ["flow", "--json"])
    assert json.loads(as_json.stdout)["demand"] is None


# -- assemblies: the money programme on the maximum flows' optimal face ---------------


def _reference_money(net: FlowNetwork) -> tuple[float, float]:
    """Maximum throughput, then least variable cost net of revenue with a row keeping
    that throughput (the two programmes written out with SciPy, as before the face)."""
    programme = flow_module._Programme(net)
    bounds = np.column_stack([np.zeros(programme.width), programme.upper])
    common = {
        "A_eq": programme.a_eq,
        "b_eq": np.zeros(programme.a_eq.shape[0]),
        "bounds": bounds,
        "method": "highs",
    }
    first = linprog(programme.throughput_objective(), **common)
    throughput = -float(first.fun)
    keep = np.zeros((1, programme.width))
    keep[0, programme.sink_var] = -1.0
    second = linprog(programme.money_objective(), A_ub=keep, b_ub=[-throughput + 1e-9], **common)
    return throughput, -float(second.fun)


@st.composite
def assembly_money_chains(draw: st.DrawFn) -> FlowNetwork:
    n = draw(st.integers(3, 6))
    pairs = [[a, b] for a in range(n) for b in range(a + 1, n)]  # acyclic: bounded
    arcs = draw(st.lists(st.sampled_from(pairs), min_size=2, max_size=8, unique_by=tuple))
    capacity = draw(st.lists(st.sampled_from([5.0, 10.0, 30.0, 100.0]), min_size=n, max_size=n))
    per_item = draw(
        st.lists(st.sampled_from([np.nan, 1.0, 2.0]), min_size=len(arcs), max_size=len(arcs))
    )
    cost = draw(st.lists(st.sampled_from([0.0, 1.0, 3.0]), min_size=n, max_size=n))
    revenue = draw(st.lists(st.sampled_from([0.0, 5.0, 20.0]), min_size=n, max_size=n))
    sinks = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3))
    return network(
        capacity,
        arcs,
        sinks,
        arc_per_item=per_item,
        cost_per_item=cost,
        revenue_per_item=revenue,
    )


@settings(max_examples=60, deadline=None)
@given(assembly_money_chains())
def test_money_on_the_optimal_face_is_the_two_programmes_answer(net: FlowNetwork) -> None:
    if not net.assembly().any():
        return
    throughput, money = _reference_money(net)
    result = max_flow(net)
    assert result.throughput == pytest.approx(throughput, rel=1e-9, abs=1e-9)
    assert result.net == pytest.approx(money, rel=1e-9, abs=1e-6)


def test_no_stage_limits_and_no_demand_is_stated(vc: Valuechain) -> None:
    # No capacity anywhere; only the link from cutting to welding states a demand (200).
    example = no_demand_map()
    results = [replace(r, capacity=None) for r in example.results]
    vc.write_map(replace(example, results=results))
    doc = flow(vc)
    assert doc["throughput"] == 200.0 and doc["bottleneck"] is None and doc["demand"] is None
    assert doc["summary"] == (
        "No stage limits the flow: what the units on the way take limits it; 200 items a "
        "week reach the external customers."
    )  # was "the external customers' demand of 0 a week is met"
