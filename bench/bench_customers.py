"""Benchmark: derived customer facts for every unit of a big organisation.

Goal (docs/benchmarks.md): direct, indirect, external reach and orphans for every unit
of a generated organisation of 100,000 units and 1,000,000 links in at most 2 s on one
core, and at least 10x faster than a competent networkx computation on the same graph.

Timed in CPU seconds of this process (``time.process_time``; pinned to one core, one
thread, so on an idle machine the wall-clock is the same, and on a shared one the
waiting for a core does not count): ``build_graph`` + ``map_facts`` (median of
several runs). The baseline computes
the same facts for every unit with networkx as a competent analyst would (condensation,
reach as bitsets in reverse topological order, one multi-source search for the depth,
one pass over the links for orphans), in the same process, once; nothing is sampled or
extrapolated. Direct count, external count and depth of every unit, the external
customers of some and all orphans are checked to be identical to ours. The
organisation comes from ``--generator`` (realistic by default, see bench/realistic.py).

Run: ``.venv/bin/python -m bench.bench_customers`` (``--help`` for sizes).
"""

from __future__ import annotations

from bench.machine import (
    add_size_arguments,
    machine_info,
    organisation,
    organisation_stats,
    peak_rss_mib,
    pin_one_core,
    print_shape,
    write_result,
)

CORE = pin_one_core()  # before numpy is imported, so its thread pools start with one thread

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from valuechain.analytics.customer import (  # noqa: E402
    NO_DEPTH,
    ChainGraph,
    MapFacts,
    build_graph,
    customers_of,
    map_facts,
    unpack_external,
)

GOAL_SECONDS = 2.0
GOAL_SPEEDUP = 10.0


def time_ours(org: Any, repeats: int) -> tuple[ChainGraph, MapFacts, list[float], list[float]]:
    """Run build_graph + map_facts ``repeats`` times; per-run seconds of each step."""
    build_s: list[float] = []
    facts_s: list[float] = []
    graph: ChainGraph | None = None
    facts: MapFacts | None = None
    for _ in range(repeats):
        t0 = time.process_time()
        graph = build_graph(
            org.unit_external_customer,
            org.result_unit,
            org.link_result,
            org.link_customer,
            org.link_relation,
        )
        t1 = time.process_time()
        facts = map_facts(graph)
        t2 = time.process_time()
        build_s.append(t1 - t0)
        facts_s.append(t2 - t1)
    assert graph is not None and facts is not None
    return graph, facts, build_s, facts_s


def profile_ours(graph: ChainGraph, top: int = 12) -> str:
    """cProfile of one map_facts run: where the time goes, by cumulative time."""
    profiler = cProfile.Profile()
    profiler.enable()
    map_facts(graph)
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(top)
    return stream.getvalue()


def baseline(
    graph: ChainGraph, org: Any
) -> tuple[dict[str, float], dict[int, tuple[int, int, int]], dict[int, frozenset[int]], set[int]]:
    """The same facts with networkx, written the way a competent analyst would, for
    every unit (nothing sampled or extrapolated): the condensation (``nx.condensation``)
    so cycles are visited once, external reach as Python-int bitsets OR-ed in reverse
    topological order, depth by one multi-source search on the reversed graph, orphans
    in one pass over the links. Returns timings, per unit (direct count, external
    count, depth), the external sets of a few units, and all orphan results."""
    timings: dict[str, float] = {}
    coo = graph.units.tocoo()
    t = time.process_time()
    g = nx.DiGraph()
    g.add_nodes_from(range(graph.n_units))
    g.add_edges_from(zip(coo.row.tolist(), coo.col.tolist(), strict=True))
    timings["graph_s"] = time.process_time() - t

    external_list = np.flatnonzero(graph.unit_external_customer).tolist()
    external = set(external_list)
    bit_of = {u: 1 << i for i, u in enumerate(external_list)}

    t = time.process_time()
    hops = nx.multi_source_dijkstra_path_length(g.reverse(copy=False), external)
    timings["depth_s"] = time.process_time() - t

    t = time.process_time()
    dag = nx.condensation(g)
    members = nx.get_node_attributes(dag, "members")
    own = {c: sum(bit_of.get(u, 0) for u in m) for c, m in members.items()}
    bits: dict[int, int] = {}
    for c in reversed(list(nx.topological_sort(dag))):
        # What a component reaches: its successors and all they reach; inside a cycle
        # every member reaches every other.
        reach = own[c] if len(members[c]) > 1 else 0
        for s in dag.successors(c):
            reach |= bits[s] | own[s]
        bits[c] = reach
    mapping = dag.graph["mapping"]
    facts = {
        u: (int(g.out_degree(u)), bits[mapping[u]].bit_count(), int(hops.get(u, NO_DEPTH)))
        for u in range(graph.n_units)
    }
    timings["reach_s"] = time.process_time() - t

    # A result is an orphan when none of its customers is, or leads to, an external
    # customer, i.e. none has a finite distance to one.
    t = time.process_time()
    has_path: set[int] = set()
    for r, c in zip(org.link_result.tolist(), org.link_customer.tolist(), strict=True):
        if c in hops:
            has_path.add(r)
    orphans = set(range(graph.n_results)) - has_path
    timings["orphans_s"] = time.process_time() - t
    timings["total_s"] = sum(timings.values())
    sets = {
        u: frozenset(e for e in external_list if bits[mapping[u]] & bit_of[e])
        for u in list(facts)[:: max(1, graph.n_units // 50)]
    }
    return timings, facts, sets, orphans


def cross_check(
    facts: MapFacts,
    found: dict[int, tuple[int, int, int]],
    sets: dict[int, frozenset[int]],
    orphans: set[int],
) -> list[str]:
    """Differences between our facts and the baseline's (empty when identical): direct
    count, external count and depth of every unit, the external sets of some."""
    problems: list[str] = []
    for u, (direct, external, depth) in found.items():
        if int(facts.direct_count[u]) != direct:
            problems.append(f"unit {u}: direct {facts.direct_count[u]} != {direct}")
        if int(facts.external_count[u]) != external:
            problems.append(f"unit {u}: external {facts.external_count[u]} != {external}")
        if int(facts.depth[u]) != depth:
            problems.append(f"unit {u}: depth {facts.depth[u]} != {depth}")
    for u, reached in sets.items():
        if frozenset(unpack_external(facts, u).tolist()) != reached:
            problems.append(f"unit {u}: external customers differ")
    if set(facts.orphan_results.tolist()) != orphans:
        problems.append(f"orphans differ: {facts.orphan_results.size} vs {len(orphans)}")
    return problems


def time_customers_of(graph: ChainGraph, facts: MapFacts, units: np.ndarray) -> list[float]:
    """Seconds per customers_of call (direct, indirect with shortest via paths, orphans)."""
    seconds = []
    for u in units.tolist():
        t = time.process_time()
        customers_of(graph, u, facts.reaches_external)
        seconds.append(time.process_time() - t)
    return seconds


def run(args: argparse.Namespace) -> dict[str, Any]:
    console = Console()
    t = time.perf_counter()
    org = organisation(args)
    generate_s = time.perf_counter() - t
    console.print(
        f"Generated {org.n_units:,} units, {org.n_results:,} results, {org.n_links:,} links "
        f"in {generate_s:.1f} s (seed {args.seed}); pinned to core {CORE}."
    )

    graph, facts, build_s, facts_s = time_ours(org, args.repeats)
    total_s = [b + f for b, f in zip(build_s, facts_s, strict=True)]
    ours_rss = peak_rss_mib()
    profile = profile_ours(graph) if args.profile else ""

    rng = np.random.default_rng(args.seed + 1)
    internal = np.flatnonzero(org.unit_kind <= 1)  # teams and departments
    query_units = rng.choice(internal, size=min(args.queries, internal.size), replace=False)
    query_s = time_customers_of(graph, facts, query_units)

    console.print("Baseline: networkx (condensation, bitsets) on every unit ...")
    base, found, sets, orphans = baseline(graph, org)
    problems = cross_check(facts, found, sets, orphans)

    ours_median = statistics.median(total_s)
    speedup = base["total_s"] / ours_median
    result: dict[str, Any] = {
        "benchmark": "customers",
        "machine": machine_info(),
        "pinned_core": CORE,
        "shape": organisation_stats(args, org),
        "organisation": {
            "units": org.n_units,
            "results": org.n_results,
            "links": org.n_links,
            "unit_arcs": int(graph.units.nnz),
            "external_customers": int(org.unit_external_customer.sum()),
            "orphan_results": int(facts.orphan_results.size),
            "mean_external_reached": float(facts.external_count.mean()),
            "seed": args.seed,
            "generate_s": generate_s,
        },
        "ours": {
            "repeats": args.repeats,
            "build_graph_s": build_s,
            "map_facts_s": facts_s,
            "total_s": total_s,
            "total_median_s": ours_median,
            "total_min_s": min(total_s),
            "peak_rss_mib": ours_rss,
        },
        "customers_of": {
            "units": query_units.size,
            "median_s": statistics.median(query_s),
            "max_s": max(query_s),
        },
        "baseline": base,
        "speedup": speedup,
        "identical": not problems,
        "problems": problems[:20],
        "peak_rss_mib": peak_rss_mib(),
        "goals": {
            "seconds": GOAL_SECONDS,
            "speedup": GOAL_SPEEDUP,
            "met": ours_median <= GOAL_SECONDS and speedup >= GOAL_SPEEDUP and not problems,
        },
    }
    if profile:
        result["profile"] = profile
    report(console, result)
    return result


def report(console: Console, r: dict[str, Any]) -> None:
    """The figures as one table, then the verdict."""
    ours, base, q = r["ours"], r["baseline"], r["customers_of"]
    table = Table(
        title="Derived customer facts, whole organisation (one core)", title_justify="left"
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("build_graph, median", f"{statistics.median(ours['build_graph_s']):.3f} s"),
        ("map_facts, median", f"{statistics.median(ours['map_facts_s']):.3f} s"),
        (
            f"build_graph + map_facts, median of {ours['repeats']} (min)",
            f"{ours['total_median_s']:.3f} s ({ours['total_min_s']:.3f} s)",
        ),
        ("peak RSS after ours (incl. generator)", f"{ours['peak_rss_mib']:.0f} MiB"),
        (
            f"customers_of, median of {q['units']} units (max)",
            f"{q['median_s'] * 1000:.1f} ms ({q['max_s'] * 1000:.0f} ms)",
        ),
        ("networkx: build DiGraph", f"{base['graph_s']:.2f} s"),
        ("networkx: depth (multi-source Dijkstra)", f"{base['depth_s']:.2f} s"),
        ("networkx: reach (condensation, bitsets, every unit)", f"{base['reach_s']:.2f} s"),
        ("networkx: orphans pass", f"{base['orphans_s']:.2f} s"),
        ("networkx total (one run, in process)", f"{base['total_s']:.2f} s"),
        ("speed-up (baseline / ours median)", f"{r['speedup']:.0f}x"),
        ("identical (every unit)", "yes" if r["identical"] else "NO"),
        ("peak RSS of the whole run", f"{r['peak_rss_mib']:.0f} MiB"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    print_shape(r["shape"])
    for problem in r["problems"]:
        console.print(f"[red]mismatch:[/] {problem}")
    if "profile" in r:
        print(r["profile"])  # plain print: Rich would re-wrap the profile's columns
    verdict = "[green]met[/]" if r["goals"]["met"] else "[red]MISSED[/]"
    console.print(
        f"Goal (≤ {GOAL_SECONDS:g} s and ≥ {GOAL_SPEEDUP:g}x, identical results): {verdict}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_size_arguments(parser)
    parser.add_argument("--repeats", type=int, default=5, help="runs of our code")
    parser.add_argument("--queries", type=int, default=25, help="units for customers_of")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of map_facts")
    args = parser.parse_args(argv)
    return write_result("customers", run(args))


if __name__ == "__main__":
    raise SystemExit(main())
