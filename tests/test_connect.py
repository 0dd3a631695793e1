"""Connect maths: correlation against SciPy, line of sight against networkx,
entitlement along a path."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from valuechain.analytics.connect import (
    HIGHER_IS_STRICTER,
    correlation,
    entitlement,
    line_of_sight,
    served_units,
)
from valuechain.analytics.customer import NO_DEPTH, build_graph, map_facts


@pytest.mark.parametrize("seed", range(10))
def test_matches_scipy_to_1e6(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 40))
    x = rng.normal(size=n)
    y = 0.5 * x + rng.normal(size=n)
    ours = correlation(x, y)
    ref = stats.pearsonr(x, y)
    low, high = ref.confidence_interval(0.95)
    assert ours.n == n
    assert ours.r == pytest.approx(ref.statistic, abs=1e-6)
    assert ours.ci_low == pytest.approx(low, abs=1e-6)
    assert ours.ci_high == pytest.approx(high, abs=1e-6)
    assert ours.p_value == pytest.approx(ref.pvalue, abs=1e-6)


def test_small_or_flat_samples_are_honest() -> None:
    few = correlation([1, 2, 3], [2, 4, 5])
    assert few.n == 3 and math.isnan(few.r) and "4 needed" in (few.reason or "")
    asked = correlation(range(5), [1, 3, 2, 5, 4], min_pairs=6)
    assert math.isnan(asked.r) and asked.reason == "too few periods: 5 paired, 6 needed"
    flat = correlation([1, 1, 1, 1, 1], [1, 2, 3, 4, 5])
    assert math.isnan(flat.r) and flat.reason
    gaps = correlation([1, 2, np.nan, 4, 5, 6], [2, 1, 3, np.nan, 5, 7])
    assert gaps.n == 4


# -- line of sight against networkx ---------------------------------------------------


@st.composite
def maps(draw: st.DrawFn) -> tuple[list[bool], list[int], list[int], list[int]]:
    """Random maps with cycles, self-use and external customers that use results."""
    n = draw(st.integers(2, 14))
    external = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    result_unit = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=2 * n))
    k = draw(st.integers(0, 4 * n))
    link_result = draw(st.lists(st.integers(0, len(result_unit) - 1), min_size=k, max_size=k))
    link_customer = draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k))
    return external, result_unit, link_result, link_customer


@settings(max_examples=150, deadline=None)
@given(maps())
def test_line_of_sight_matches_networkx(
    drawn: tuple[list[bool], list[int], list[int], list[int]],
) -> None:
    external, result_unit, link_result, link_customer = drawn
    graph = build_graph(external, result_unit, link_result, link_customer)
    facts = map_facts(graph)
    reference = nx.DiGraph()
    reference.add_nodes_from(range(len(external)))
    for r, c in zip(link_result, link_customer, strict=True):
        if result_unit[r] != c:
            reference.add_edge(result_unit[r], c)
    sight = line_of_sight(graph, facts, link_customer)
    for row, c in enumerate(link_customer):
        provider = result_unit[link_result[row]]
        reached = {c} | nx.descendants(reference, c)
        served = {e for e in reached if external[e] and e != provider}
        # A customer that leads back to its provider serves the provider too, unless
        # the provider is that external customer itself (nobody is their own customer).
        assert set(served_units(sight, row).tolist()) - {provider} == served
        if served:
            lengths = nx.single_source_shortest_path_length(reference, c)
            best = 1 + min(lengths[e] for e in served if e in lengths)
            assert sight.reaches[row]
            assert sight.length[row] <= best
        elif not (external[provider] and provider in reached):
            assert not sight.reaches[row] and sight.length[row] == NO_DEPTH


def test_line_of_sight_of_a_chain() -> None:
    # plan(0) -> make(1) -> pack(2) -> retail(3); audit(4) only serves ctrl(5) and back.
    graph = build_graph(
        [False, False, False, True, False, False],
        [0, 1, 2, 4, 5],
        [0, 1, 2, 3, 4],
        [1, 2, 3, 5, 4],
    )
    sight = line_of_sight(graph, map_facts(graph), [1, 2, 3, 5, 4])
    assert sight.length.tolist() == [3, 2, 1, NO_DEPTH, NO_DEPTH]
    assert sight.reaches.tolist() == [True, True, True, False, False]
    assert [served_units(sight, i).tolist() for i in range(3)] == [[3], [3], [3]]


# -- entitlement ----------------------------------------------------------------------


def test_entitlement_flags_steps_stricter_than_the_end() -> None:
    # The external customer needs 95% on time; steps ask 99%, 90%, nothing, 95%.
    found = entitlement([99, 90, math.nan, 95], 95, HIGHER_IS_STRICTER["on_time_pct"])
    assert found.entitled.tolist() == [True, False, False, False]
    assert found.excess.tolist() == [4, 0, 0, 0]
    # Hours: asking a 4 h response when the external customer accepts 24 h is stricter.
    hours = entitlement([4, 24, 48], 24, HIGHER_IS_STRICTER["response_hours"])
    assert hours.entitled.tolist() == [True, False, False]
    assert hours.excess.tolist() == [20, 0, 0]
    # Without a target at the end nothing can be claimed.
    none = entitlement([99, 1], math.nan, True)
    assert not none.entitled.any()
