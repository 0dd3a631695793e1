"""A realistic organisation for benchmarks: universal services, reporting cycles, a
matrix, long chains. Numpy, fixed seed, vectorised; the same ``Organisation`` as
``bench.generate`` (the uniform generator), so every benchmark can run on either.

Why a second generator: the uniform one links each corporate service to a handful of
random teams (no unit serves more than ~50 of 100,000) and its largest cycle is three
units, which flatters every whole-organisation computation. Here (defaults: 100,000
units, 250,000 results, 1,000,000 links):

* 1% external customers, 1% external suppliers; the internal units form a hierarchy:
  one executive board, divisions (1 per 1,000 internal units), departments (1 per 20)
  and teams;
* **universal services** (HR, payroll, IT service desk, facilities): each has one
  result linked to **every** internal unit, so four units serve everyone;
* **shared services** (2% of the teams: finance, legal, procurement ...) serve a
  heavy-tailed number of units (Zipf popularity), hundreds to thousands each;
* **reporting cycles**: 70% of the teams send a report to their department, every
  department to its division, every division to the board; the board plans for the
  divisions, divisions for their departments, departments for their teams. That closes
  cycles through the whole hierarchy: one strongly connected component holds most
  internal units;
* **a matrix**: 30% of the teams also report to a project department usually in another
  division, and 20% deliver to a random team anywhere;
* **long chains**: the other teams sit in value chains of 4 to 200 stages
  (log-normal lengths, so a few are very long); a stage delivers to the next, 10%
  also skip one; the last stage sells to external customers, suppliers feed the first.

``stats(org)`` computes the figures the benchmarks print next to their timings (max
customers per unit, the largest strongly connected component with scipy's csgraph,
the longest chain ...). ``python -m bench.realistic OUT`` writes the data bundle and
prints them.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.generate import (
    ADDS_TO,
    BYPRODUCT,
    CONSUMES,
    DEPARTMENT,
    DEPENDS_ON,
    EXTERNAL_CUSTOMER,
    EXTERNAL_SUPPLIER,
    FINISHED,
    INTERMEDIATE,
    PAYS,
    TEAM,
    Organisation,
    flow_numbers,
    trim_links,
    write_bundle,
)

IntArray = npt.NDArray[np.int64]

UNIVERSAL = ("HR", "Payroll", "IT service desk", "Facilities")
SHARED_NAMES = ("Finance", "Legal", "Procurement", "Data platform", "Security", "Travel")
REPORTING_SHARE = 0.7  # teams that report to their department
MATRIX_REPORT_SHARE = 0.3  # teams that also report to a project department elsewhere
MATRIX_DELIVERY_SHARE = 0.2  # teams that also deliver to a random team anywhere
SKIP_SHARE = 0.1  # chain stages that also deliver two stages on


def generate_realistic(
    units: int = 100_000,
    results: int = 250_000,
    links: int = 1_000_000,
    *,
    seed: int = 42,
) -> Organisation:
    """A realistic organisation with exactly ``units`` units. Structural links
    (universal services, reporting, plans, chains, matrix) are always kept; shared
    services' links fill up to ``links`` (so the count exceeds ``links`` when the
    structure alone needs more). About ``results`` results. Same arguments, same
    organisation."""
    rng = np.random.default_rng(seed)
    n_cust = max(1, units // 100)
    n_sup = max(1, units // 100)
    n_int = units - n_cust - n_sup
    n_div = max(2, n_int // 1000)
    n_dept = max(2 * n_div, n_int // 20)
    n_teams = n_int - 1 - n_div - n_dept
    n_univ = len(UNIVERSAL)
    n_shared = max(2, n_teams // 50)
    n_chain_teams = n_teams - n_univ - n_shared
    if n_chain_teams < 8:
        raise ValueError("too few units for a realistic organisation (use at least 200)")

    # Layout: [board | divisions | departments | universal | shared | chain teams |
    # suppliers | customers]; shuffled at the end.
    o_div = 1
    o_dept = o_div + n_div
    o_univ = o_dept + n_dept
    o_shared = o_univ + n_univ
    o_chain = o_shared + n_shared
    o_sup = o_chain + n_chain_teams
    o_cust = o_sup + n_sup
    kind = np.full(units, TEAM, dtype=np.int64)
    kind[:o_univ] = DEPARTMENT
    kind[o_sup:o_cust] = EXTERNAL_SUPPLIER
    kind[o_cust:] = EXTERNAL_CUSTOMER

    # Hierarchy: departments spread over divisions, teams over departments (sizes vary:
    # a Dirichlet share per department). Universal and shared services sit in the
    # first division's departments.
    parent = np.full(units, -1, dtype=np.int64)
    parent[o_div:o_dept] = 0
    dept_div = np.sort(rng.integers(0, n_div, n_dept))
    dept_div[:n_div] = np.arange(n_div)  # every division has a department
    dept_div = np.sort(dept_div)
    parent[o_dept:o_univ] = o_div + dept_div
    weights = rng.dirichlet(np.full(n_dept, 2.0))
    team_dept = rng.choice(n_dept, size=n_teams, p=weights)
    team_dept[:n_univ] = 0
    team_dept[n_univ : n_univ + n_shared] = rng.integers(0, max(1, n_dept // n_div), n_shared)
    parent[o_univ:o_sup] = o_dept + team_dept
    teams = np.arange(o_univ, o_sup, dtype=np.int64)
    team_division = dept_div[team_dept]

    headcount = np.full(units, -1, dtype=np.int64)
    headcount[o_univ:o_sup] = 2 + rng.negative_binomial(3, 0.3, n_teams)  # mean ~9, long tail
    headcount[o_univ:o_shared] = 20 + rng.poisson(30, n_univ)
    headcount[:o_univ] = 1 + rng.poisson(2, o_univ)

    # Chains: consecutive chain teams, log-normal lengths between 4 and 200 stages.
    lengths: list[int] = []
    left = n_chain_teams
    while left > 0:
        n = int(np.clip(np.rint(rng.lognormal(np.log(12), 0.9)), 4, 200))
        n = left if left - n < 4 else n  # no chain shorter than 4 stages at the end
        lengths.append(n)
        left -= n
    chain_len = np.array(lengths, dtype=np.int64)
    chain_of = np.repeat(np.arange(chain_len.size), chain_len)
    stage = np.arange(n_chain_teams) - np.repeat(np.cumsum(chain_len) - chain_len, chain_len)
    last = stage == chain_len[chain_of] - 1
    first = stage == 0

    # Results. Each internal unit: a main result and a report (byproduct); suppliers
    # one product each; extra results go to chain teams (more products per stage).
    producers = np.arange(o_cust, dtype=np.int64)
    per_unit = np.ones(o_cust, dtype=np.int64)
    per_unit[:o_sup] = 2
    extra = max(0, results - int(per_unit.sum()))
    if extra:
        per_unit[o_chain:o_sup] += rng.multinomial(extra, np.full(n_chain_teams, 1 / n_chain_teams))
    r_unit = np.repeat(producers, per_unit)
    first_result = np.concatenate(([0], np.cumsum(per_unit)))[:-1]
    n_res = r_unit.size
    # Position of each result within its unit: 0 main, 1 report, 2+ further products.
    r_pos = np.arange(n_res) - np.repeat(first_result, per_unit)
    r_kind = np.full(n_res, INTERMEDIATE, dtype=np.int64)
    r_kind[(r_pos == 1) & (r_unit < o_sup)] = BYPRODUCT
    chain_res = (r_unit >= o_chain) & (r_unit < o_sup) & (r_pos != 1)
    r_last = np.zeros(n_res, dtype=bool)
    r_last[chain_res] = last[r_unit[chain_res] - o_chain]
    r_kind[r_last | (r_unit >= o_sup)] = FINISHED
    main = first_result  # the main result of each producer
    report = first_result[:o_sup] + 1

    parts: list[tuple[IntArray, IntArray, IntArray, bool]] = []

    def add(res: IntArray, cust: IntArray, rel: int | IntArray, mandatory: bool = True) -> None:
        rels = np.broadcast_to(np.asarray(rel, dtype=np.int64), res.shape).copy()
        parts.append((res.astype(np.int64), cust.astype(np.int64), rels, mandatory))

    internal = np.arange(o_sup, dtype=np.int64)
    # Universal services: one result to every internal unit.
    for s in range(n_univ):
        add(np.full(o_sup, main[o_univ + s]), internal, DEPENDS_ON)
    # Reporting upwards: teams (70%) to their department, departments to their
    # division, divisions to the board; and plans downwards, which closes the cycles.
    reports = teams[rng.random(n_teams) < REPORTING_SHARE]
    add(report[reports], parent[reports], CONSUMES)
    below_board = np.arange(o_div, o_univ, dtype=np.int64)
    add(report[below_board], parent[below_board], CONSUMES)
    everyone_below = np.arange(o_div, o_sup, dtype=np.int64)
    add(main[parent[everyone_below]], everyone_below, DEPENDS_ON)
    # Matrix: reports to a project department in another division; deliveries to a
    # random team anywhere.
    m = teams[rng.random(n_teams) < MATRIX_REPORT_SHARE]
    other_dept = rng.integers(0, n_dept, m.size)
    clash = dept_div[other_dept] == team_division[m - o_univ]
    other_dept[clash] = (other_dept[clash] + max(1, n_dept // n_div)) % n_dept
    add(report[m], o_dept + other_dept, ADDS_TO)
    m = teams[rng.random(n_teams) < MATRIX_DELIVERY_SHARE]
    to = rng.integers(0, n_teams, m.size)
    add(main[m], o_univ + to, CONSUMES)
    # Chains: every product of a stage goes to the next stage (10% also skip one);
    # last stages sell to external customers; suppliers feed first stages.
    cr = np.flatnonzero(chain_res & ~r_last)
    cu = r_unit[cr] - o_chain
    add(cr, o_chain + cu + 1, rng.choice([CONSUMES, ADDS_TO, PAYS], cr.size, p=[0.7, 0.2, 0.1]))
    skip = rng.random(cr.size) < SKIP_SHARE
    ok = skip & (stage[cu] + 2 < chain_len[chain_of[cu]])
    add(cr[ok], o_chain + cu[ok] + 2, CONSUMES)
    lr = np.flatnonzero(r_last)
    add(lr, o_cust + rng.integers(0, n_cust, lr.size), PAYS)
    add(lr, o_cust + rng.integers(0, n_cust, lr.size), PAYS)
    first_teams = o_chain + np.flatnonzero(first)
    sup = np.arange(o_sup, o_cust, dtype=np.int64)
    add(main[sup], first_teams[rng.integers(0, first_teams.size, n_sup)], PAYS)
    add(
        main[sup[rng.integers(0, n_sup, first_teams.size)]],
        first_teams,
        CONSUMES,
    )

    # Shared services fill up to the target: Zipf popularity over the services, each
    # link to a random internal unit (optional links, dropped first when trimming).
    mandatory = sum(p[0].size for p in parts)
    fill = max(0, int((links - mandatory) * 1.05))
    if fill:
        popularity = 1.0 / np.arange(1, n_shared + 1) ** 1.1
        service = rng.choice(n_shared, size=fill, p=popularity / popularity.sum())
        add(
            main[o_shared + service],
            rng.integers(0, o_sup, fill),
            rng.choice([DEPENDS_ON, CONSUMES], fill, p=[0.7, 0.3]),
            mandatory=False,
        )

    l_res = np.concatenate([p[0] for p in parts])
    l_cust = np.concatenate([p[1] for p in parts])
    l_rel = np.concatenate([p[2] for p in parts])
    must = np.concatenate([np.full(p[0].size, p[3]) for p in parts])
    l_res, l_cust, l_rel = trim_links(
        rng, r_unit[l_res] != l_cust, (l_res, l_cust, l_rel), must, units, links
    )
    # Flow numbers as in the uniform generator: capacity a week, demand splits it.
    capacity, cost, revenue, demand = flow_numbers(rng, n_res, l_res, l_cust, l_rel, o_cust)
    demand = np.maximum(demand, 0.1)

    names = (
        ["Executive board"]
        + [f"Division {i}" for i in range(n_div)]
        + [f"Department {i}" for i in range(n_dept)]
        + list(UNIVERSAL)
        + [f"{SHARED_NAMES[i % len(SHARED_NAMES)]} {i}" for i in range(n_shared)]
        + [f"Chain {c} stage {s}" for c, s in zip(chain_of.tolist(), stage.tolist(), strict=True)]
        + [f"Supplier {i}" for i in range(n_sup)]
        + [f"Customer segment {i}" for i in range(n_cust)]
    )
    perm = rng.permutation(units)  # old position -> new position
    inverse = np.argsort(perm)
    new_parent = np.where(parent[inverse] >= 0, perm[np.maximum(parent[inverse], 0)], -1)
    return Organisation(
        unit_kind=kind[inverse],
        unit_parent=new_parent,
        unit_headcount=headcount[inverse],
        unit_name=[names[i] for i in inverse.tolist()],
        result_unit=perm[r_unit],
        result_kind=r_kind,
        result_capacity=capacity,
        result_cost=cost,
        result_revenue=revenue,
        link_result=l_res,
        link_customer=perm[l_cust],
        link_relation=l_rel,
        link_demand=demand,
    )


def stats(org: Organisation) -> dict[str, Any]:
    """The shape in figures: distinct customers per unit (max, p99, median), the
    largest strongly connected component of the unit graph (scipy.sparse.csgraph,
    ``connection="strong"``) and how many components have more than one unit, the
    longest path in the condensed graph (levels), links and orphans-to-be."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = org.n_units
    producer = org.result_unit[org.link_result]
    pairs = np.unique(producer * n + org.link_customer)
    src, dst = pairs // n, pairs % n
    keep = src != dst
    src, dst = src[keep], dst[keep]
    customers = np.bincount(src, minlength=n)
    graph = coo_matrix((np.ones(src.size, dtype=np.int8), (src, dst)), shape=(n, n)).tocsr()
    count, label = connected_components(graph, directed=True, connection="strong")
    sizes = np.bincount(label, minlength=count)
    return {
        "units": n,
        "results": org.n_results,
        "links": org.n_links,
        "unit_arcs": int(src.size),
        "max_customers_per_unit": int(customers.max()),
        "units_serving_over_1000": int((customers > 1000).sum()),
        "p99_customers_per_unit": float(np.percentile(customers, 99)),
        "median_customers_per_unit": float(np.median(customers)),
        "largest_scc": int(sizes.max()),
        "sccs_over_one_unit": int((sizes > 1).sum()),
        "external_customers": int((org.unit_kind == EXTERNAL_CUSTOMER).sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Write a realistic organisation as a bundle.")
    parser.add_argument("out", type=Path, nargs="?", help="folder for the bundle (else stats)")
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--results", type=int, default=250_000)
    parser.add_argument("--links", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    start = time.perf_counter()
    org = generate_realistic(args.units, args.results, args.links, seed=args.seed)
    if args.out:
        write_bundle(org, args.out)
    print(f"generated in {time.perf_counter() - start:.1f} s")
    for key, value in stats(org).items():
        print(f"{key}: {value:,}" if isinstance(value, int) else f"{key}: {value:g}")


if __name__ == "__main__":
    main()
