"""A big, realistic organisation for benchmarks, generated as numpy arrays.

Shape (defaults: 100,000 units, 250,000 results, 1,000,000 links):

* 1% external customers and 1% external suppliers; of the internal units 10% are
  departments (one per chain stage, a division per chain, the rest grouping the
  corporate services) and the rest teams;
* 90% of the teams sit in value chains (1,000 chains of 8 stages); a stage's results go
  mostly to the next stage of the same chain, some skip a stage, 1% cross to another
  chain; the last stage sells to the chain's external customers;
* 10% of the teams are corporate services (HR, IT, finance ...) that any team depends
  on; they serve each other only "upwards" (no cycles) ...
* ... except for a few deliberate cycles: pairs of services and pairs of neighbouring
  stages that depend on each other;
* suppliers feed the first stage; departments plan for their own teams; chain
  byproducts (reports) go to a department one stage further down; about 1% of results
  have no link at all (orphans).

Run ``python -m bench.generate OUT`` to write the data bundle (units.csv, results.csv,
links.csv with the columns of PRODUCT.md "The data bundle") to the folder OUT.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# Codes for the kinds; the names are the data bundle's vocabulary.
UNIT_KINDS = ("team", "department", "external_customer", "external_supplier")
TEAM, DEPARTMENT, EXTERNAL_CUSTOMER, EXTERNAL_SUPPLIER = range(4)
RESULT_KINDS = ("finished", "intermediate", "byproduct")
FINISHED, INTERMEDIATE, BYPRODUCT = range(3)
RELATIONS = ("pays", "consumes", "adds_to", "depends_on")
PAYS, CONSUMES, ADDS_TO, DEPENDS_ON = range(4)

# Producer categories, used only while generating.
_CHAIN, _SERVICE, _DEPT, _SUPPLIER, _CUSTOMER = range(5)
# Duplicate (result, customer, relation) draws are dropped; draw this many more.
OVERSAMPLE = 1.3


@dataclass(frozen=True)
class Organisation:
    """A generated organisation; units, results and links are addressed by position.

    Optional numbers are NaN (floats) or -1 (parent, headcount) when absent.
    """

    unit_kind: IntArray
    unit_parent: IntArray
    unit_headcount: IntArray
    unit_name: list[str]
    result_unit: IntArray
    result_kind: IntArray
    result_capacity: FloatArray
    result_cost: FloatArray
    result_revenue: FloatArray
    link_result: IntArray
    link_customer: IntArray
    link_relation: IntArray
    link_demand: FloatArray

    @property
    def n_units(self) -> int:
        return int(self.unit_kind.shape[0])

    @property
    def n_results(self) -> int:
        return int(self.result_unit.shape[0])

    @property
    def n_links(self) -> int:
        return int(self.link_result.shape[0])

    @property
    def unit_external_customer(self) -> npt.NDArray[np.bool_]:
        flags: npt.NDArray[np.bool_] = self.unit_kind == EXTERNAL_CUSTOMER
        return flags


def _pick(rng: np.random.Generator, start: IntArray, size: IntArray) -> IntArray:
    """One uniformly random position per row in the ranges [start, start + size)."""
    picked: IntArray = start + np.floor(rng.random(start.shape[0]) * size).astype(np.int64)
    return picked


def _choice(rng: np.random.Generator, n: int, weights: tuple[float, ...]) -> IntArray:
    """n draws of a category code with the given probabilities."""
    return rng.choice(len(weights), size=n, p=np.asarray(weights) / sum(weights)).astype(np.int64)


def generate(
    units: int = 100_000,
    results: int = 250_000,
    links: int = 1_000_000,
    *,
    chains: int = 1_000,
    stages: int = 8,
    cycles: int = 50,
    seed: int = 42,
) -> Organisation:
    """Generate an organisation with exactly ``units`` units, about ``results`` results
    and at most ``links`` links (exactly that many unless de-duplication left fewer).
    The same arguments always give the same organisation."""
    rng = np.random.default_rng(seed)
    n_cust = max(1, units // 100)
    n_sup = max(1, units // 100)
    n_internal = units - n_cust - n_sup
    n_dept = max(stages + 3, n_internal // 10)
    n_teams = n_internal - n_dept
    n_service = max(1, n_teams // 10)
    n_chain = n_teams - n_service
    # Every chain needs a department per stage and a division, and one service
    # department must remain.
    chains = max(1, min(chains, n_chain // stages, (n_dept - 1) // (stages + 1)))

    # Structured layout first: [chain teams | service teams | departments | suppliers |
    # customers]; positions are shuffled at the end so no analysis profits from order.
    o_service = n_chain
    o_dept = o_service + n_service
    o_sup = o_dept + n_dept
    o_cust = o_sup + n_sup
    category = np.repeat(np.arange(5, dtype=np.int64), [n_chain, n_service, n_dept, n_sup, n_cust])
    kind = np.array([TEAM, TEAM, DEPARTMENT, EXTERNAL_SUPPLIER, EXTERNAL_CUSTOMER])[category]

    # Chain c holds a contiguous block of teams, split evenly into its stages, so every
    # (chain, stage) bucket is a contiguous, non-empty range.
    team_chain = np.arange(n_chain, dtype=np.int64) * chains // n_chain
    chain_start = np.searchsorted(team_chain, np.arange(chains + 1))
    chain_size = np.diff(chain_start)
    within = np.arange(n_chain) - chain_start[team_chain]
    team_stage = within * stages // chain_size[team_chain]
    bucket = team_chain * stages + team_stage
    bucket_start = np.searchsorted(bucket, np.arange(chains * stages + 1))
    bucket_size = np.diff(bucket_start)

    # Departments: one per (chain, stage) bucket holding its teams, one division per
    # chain above those, and the rest group the services (the first one is the
    # corporate division above the others). Departments never span stages, so reports
    # sent to a department further down cannot loop back.
    n_bucket = chains * stages
    o_division = o_dept + n_bucket
    o_service_dept = o_division + chains
    n_service_dept = o_sup - o_service_dept
    service_dept = np.arange(n_service, dtype=np.int64) * n_service_dept // n_service
    service_first = np.searchsorted(service_dept, np.arange(n_service_dept + 1))
    parent = np.full(units, -1, dtype=np.int64)
    parent[:n_chain] = o_dept + bucket
    parent[o_service:o_dept] = o_service_dept + service_dept
    parent[o_dept:o_division] = o_division + np.arange(n_bucket) // stages
    parent[o_service_dept + 1 : o_sup] = o_service_dept
    # Whom each department plans for: its teams, a division's departments.
    child_start = np.concatenate(
        (bucket_start[:-1], o_dept + np.arange(chains) * stages, o_service + service_first[:-1])
    )
    child_size = np.concatenate((bucket_size, np.full(chains, stages), np.diff(service_first)))

    headcount = np.full(units, -1, dtype=np.int64)
    headcount[:n_teams] = 3 + rng.poisson(6, n_teams)
    headcount[o_dept:o_sup] = 1 + rng.poisson(2, n_dept)

    # Results: every unit but the external customers produces one or more.
    producers = np.arange(o_cust, dtype=np.int64)
    per_unit = 1 + rng.poisson(max(0.0, results / producers.size - 1), producers.size)
    r_unit = np.repeat(producers, per_unit)
    r_cat = category[r_unit]
    n_res = r_unit.size
    r_kind = np.full(n_res, INTERMEDIATE, dtype=np.int64)
    r_stage = np.where(r_cat == _CHAIN, team_stage[np.minimum(r_unit, n_chain - 1)], -1)
    last = (r_cat == _CHAIN) & (r_stage == stages - 1)
    r_kind[last | (r_cat == _SUPPLIER)] = FINISHED
    by = rng.random(n_res)
    r_kind[(r_cat == _CHAIN) & ~last & (by < 0.2)] = BYPRODUCT
    r_kind[(r_cat == _SERVICE) & (by < 0.4)] = BYPRODUCT
    r_kind[(r_cat == _DEPT) & (by < 0.3)] = BYPRODUCT

    # Links: a count per result (about 1% get none: the orphans), drawn 30% above the
    # target so that after removing duplicates the target can be met exactly.
    mean = links / n_res * OVERSAMPLE / 0.99
    per_result = np.where(rng.random(n_res) < 0.01, 0, 1 + rng.poisson(max(0.0, mean - 1), n_res))
    l_res = np.repeat(np.arange(n_res, dtype=np.int64), per_result)
    n_l = l_res.size
    l_prod = r_unit[l_res]
    l_cat = r_cat[l_res]
    l_cust = np.zeros(n_l, dtype=np.int64)
    l_rel = np.zeros(n_l, dtype=np.int64)
    u = rng.random(n_l)

    # Chain stages before the last: next stage (89%), skip one (10%), other chain (1%).
    sel = (l_cat == _CHAIN) & (r_kind[l_res] != BYPRODUCT) & ~last[l_res]
    p = l_prod[sel]
    c, s = team_chain[p], team_stage[p]
    other = (c + 1 + rng.integers(0, max(1, chains - 1), p.size)) % chains
    to_chain = np.where(u[sel] < 0.99, c, other)
    to_stage = np.where((u[sel] >= 0.89) & (u[sel] < 0.99), np.minimum(s + 2, stages - 1), s + 1)
    b = to_chain * stages + to_stage
    l_cust[sel] = _pick(rng, bucket_start[b], bucket_size[b])
    l_rel[sel] = _choice(rng, p.size, (0.05, 0.55, 0.2, 0.2))

    # The last stage sells to its chain's three customers, sometimes to any customer.
    sel = (l_cat == _CHAIN) & last[l_res]
    p = l_prod[sel]
    own = (team_chain[p] * n_cust // chains + rng.integers(0, 3, p.size)) % n_cust
    anyone = rng.integers(0, n_cust, p.size)
    l_cust[sel] = o_cust + np.where(u[sel] < 0.8, own, anyone)
    l_rel[sel] = _choice(rng, p.size, (0.6, 0.3, 0.0, 0.1))

    # Chain byproducts (reports, metrics) go to the department of a team one stage
    # further down the same chain, which keeps the main structure free of cycles.
    sel = (l_cat == _CHAIN) & (r_kind[l_res] == BYPRODUCT)
    p = l_prod[sel]
    b = team_chain[p] * stages + team_stage[p] + 1
    l_cust[sel] = o_dept + b
    l_rel[sel] = _choice(rng, p.size, (0.0, 0.7, 0.1, 0.2))

    # Services: any chain team depends on them; services serve higher-numbered services.
    sel = l_cat == _SERVICE
    p = l_prod[sel]
    chain_team = rng.integers(0, n_chain, p.size)
    rest = o_dept - p - 1
    upward = p + 1 + np.floor(rng.random(p.size) * rest).astype(np.int64)
    l_cust[sel] = np.where((u[sel] < 0.2) & (rest > 0), upward, chain_team)
    l_rel[sel] = _choice(rng, p.size, (0.05, 0.3, 0.05, 0.6))

    # Departments plan for their own teams; divisions for their departments.
    sel = l_cat == _DEPT
    d = l_prod[sel] - o_dept
    l_cust[sel] = _pick(rng, child_start[d], child_size[d])
    l_rel[sel] = _choice(rng, d.size, (0.0, 0.2, 0.1, 0.7))

    # Suppliers feed the first stage of their chains (and of any chain, 20%).
    sel = l_cat == _SUPPLIER
    p = l_prod[sel] - o_sup
    to_chain = np.where(u[sel] < 0.8, p * chains // n_sup, rng.integers(0, chains, p.size))
    b = to_chain * stages
    l_cust[sel] = _pick(rng, bucket_start[b], bucket_size[b])
    l_rel[sel] = _choice(rng, p.size, (0.4, 0.6, 0.0, 0.0))

    # Deliberate cycles: pairs that depend on each other, half services and half
    # neighbouring chain stages.
    first_result = np.concatenate(([0], np.cumsum(per_unit)))
    half = cycles // 2
    a_srv = o_service + rng.integers(0, n_service, half)
    b_srv = o_service + rng.integers(0, n_service, half)
    a_chn = rng.integers(0, n_chain, cycles - half)
    a_chn = a_chn[team_stage[a_chn] < stages - 1]
    nb = team_chain[a_chn] * stages + team_stage[a_chn] + 1
    b_chn = _pick(rng, bucket_start[nb], bucket_size[nb])
    a_cyc = np.concatenate((a_srv, a_chn))
    b_cyc = np.concatenate((b_srv, b_chn))
    ok = a_cyc != b_cyc
    a_cyc, b_cyc = a_cyc[ok], b_cyc[ok]
    cyc_res = np.concatenate((first_result[a_cyc], first_result[b_cyc]))
    cyc_cust = np.concatenate((b_cyc, a_cyc))

    l_res = np.concatenate((l_res, cyc_res))
    l_cust = np.concatenate((l_cust, cyc_cust))
    l_rel = np.concatenate((l_rel, np.full(cyc_res.size, DEPENDS_ON, dtype=np.int64)))
    is_cycle = np.concatenate((np.zeros(n_l, dtype=bool), np.ones(cyc_res.size, dtype=bool)))

    # No self-links, no duplicate (result, customer, relation); then trim to the target
    # while keeping the cycle links.
    l_res, l_cust, l_rel = trim_links(
        rng, r_unit[l_res] != l_cust, (l_res, l_cust, l_rel), is_cycle, units, links
    )
    capacity, cost, revenue, demand = flow_numbers(rng, n_res, l_res, l_cust, l_rel, o_cust)

    # Shuffle unit positions so neighbours in the graph are not neighbours in memory.
    perm = rng.permutation(units)  # old position -> new position
    inverse = np.argsort(perm)
    names = _unit_names(category, team_chain, team_stage, o_service, o_dept, o_sup, o_cust)
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


def _unit_names(
    category: IntArray,
    team_chain: IntArray,
    team_stage: IntArray,
    o_service: int,
    o_dept: int,
    o_sup: int,
    o_cust: int,
) -> list[str]:
    """Readable names that say where a unit sits (chain, stage, service number ...)."""
    names = [
        f"Chain {c} stage {s} team {i}"
        for i, (c, s) in enumerate(zip(team_chain.tolist(), team_stage.tolist(), strict=True))
    ]
    names += [f"Corporate service {i}" for i in range(o_dept - o_service)]
    names += [f"Department {i}" for i in range(o_sup - o_dept)]
    names += [f"Supplier {i}" for i in range(o_cust - o_sup)]
    names += [f"Customer segment {i}" for i in range(category.size - o_cust)]
    return names


def unit_ids(n: int) -> list[str]:
    """Identifiers of the bundle: strings, as PRODUCT.md requires."""
    return [f"u{i:06d}" for i in range(n)]


def result_ids(n: int) -> list[str]:
    return [f"r{i:07d}" for i in range(n)]


def _number(value: float) -> str:
    # Empty for NaN (the bundle's "absent"), integers without a trailing ".0".
    if value != value:
        return ""
    return str(int(value)) if value == int(value) else repr(value)


T = TypeVar("T")
SHUFFLE_SEED = 4242


def _shuffled(rng: np.random.Generator, rows: Iterable[T]) -> list[tuple[int, T]]:
    """The rows with their original positions, in a random order."""
    numbered = list(enumerate(rows))
    return [numbered[i] for i in rng.permutation(len(numbered)).tolist()]


def write_bundle(
    org: Organisation, folder: Path, *, assembly_share: float = 0.0
) -> dict[str, Path]:
    """Write units.csv, results.csv and links.csv (UTF-8, header row) into ``folder``,
    rows in a seeded random order: an HR system's export follows no key order, and
    key order would flatter the importer (B-tree appends instead of inserts). With
    ``assembly_share``, that share of the ``consumes`` links (seeded) get ``per_item``
    1, which makes their customers assemblies (as ``bench_flow --assembly-share``)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SHUFFLE_SEED)
    uid = unit_ids(org.n_units)
    rid = result_ids(org.n_results)
    paths = {name: folder / f"{name}.csv" for name in ("units", "results", "links")}
    with paths["units"].open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(("id", "name", "kind", "parent_id", "headcount"))
        w.writerows(
            (uid[i], name, UNIT_KINDS[k], uid[p] if p >= 0 else "", h if h >= 0 else "")
            for i, (name, k, p, h) in _shuffled(
                rng,
                zip(
                    org.unit_name,
                    org.unit_kind.tolist(),
                    org.unit_parent.tolist(),
                    org.unit_headcount.tolist(),
                    strict=True,
                ),
            )
        )
    with paths["results"].open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(
            ("id", "unit_id", "name", "kind", "capacity", "cost_per_item", "revenue_per_item")
        )
        w.writerows(
            (
                rid[i],
                uid[u],
                f"Result {i}",
                RESULT_KINDS[k],
                _number(cap),
                _number(cost),
                _number(rev),
            )
            for i, (u, k, cap, cost, rev) in _shuffled(
                rng,
                zip(
                    org.result_unit.tolist(),
                    org.result_kind.tolist(),
                    org.result_capacity.tolist(),
                    org.result_cost.tolist(),
                    org.result_revenue.tolist(),
                    strict=True,
                ),
            )
        )
    with paths["links"].open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        chosen = (org.link_relation == CONSUMES) & (
            np.random.default_rng(SHUFFLE_SEED + 1).random(org.n_links) < assembly_share
        )
        per_item = np.where(chosen, 1.0, np.nan)
        w.writerow(("result_id", "customer_id", "relation", "demand", "per_item"))
        w.writerows(
            (rid[r], uid[c], RELATIONS[rel], _number(dem), _number(per))
            for _, (r, c, rel, dem, per) in _shuffled(
                rng,
                zip(
                    org.link_result.tolist(),
                    org.link_customer.tolist(),
                    org.link_relation.tolist(),
                    org.link_demand.tolist(),
                    per_item.tolist(),
                    strict=True,
                ),
            )
        )
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description="Write a generated organisation as a data bundle.")
    parser.add_argument("out", type=Path, help="folder for units.csv, results.csv, links.csv")
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--results", type=int, default=250_000)
    parser.add_argument("--links", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--assembly-share",
        type=float,
        default=0.0,
        help="share of the consumes links given per_item 1 (assembly inputs)",
    )
    args = parser.parse_args()
    start = time.perf_counter()
    org = generate(args.units, args.results, args.links, seed=args.seed)
    write_bundle(org, args.out, assembly_share=args.assembly_share)
    print(
        f"{org.n_units} units, {org.n_results} results, {org.n_links} links "
        f"written to {args.out} in {time.perf_counter() - start:.1f} s"
    )


def trim_links(
    rng: np.random.Generator,
    keep: npt.NDArray[np.bool_],
    link: tuple[IntArray, IntArray, IntArray],
    must: npt.NDArray[np.bool_],
    units: int,
    links: int,
) -> tuple[IntArray, IntArray, IntArray]:
    """The (result, customer, relation) links where ``keep`` holds (no self-links),
    without duplicates, trimmed at random to ``links`` while every ``must`` link stays."""
    l_res, l_cust, l_rel = (column[keep] for column in link)
    must = must[keep]
    key = (l_res * units + l_cust) * 4 + l_rel
    _, first = np.unique(key, return_index=True)
    mandatory = first[must[first]]
    optional = first[~must[first]]
    room = max(0, links - mandatory.size)
    if optional.size > room:
        optional = rng.choice(optional, size=room, replace=False)
    chosen = np.sort(np.concatenate((mandatory, optional)))
    return l_res[chosen], l_cust[chosen], l_rel[chosen]


def flow_numbers(
    rng: np.random.Generator,
    n_res: int,
    l_res: IntArray,
    l_cust: IntArray,
    l_rel: IntArray,
    o_cust: int,
) -> tuple[npt.NDArray[np.float64], ...]:
    """Capacity a week and cost per result, revenue for results sold to external
    customers (units from ``o_cust`` on), and each link's demand, which splits its
    result's capacity over the result's customers."""
    capacity = np.round(rng.lognormal(np.log(200), 0.8, n_res))
    cost = np.round(rng.lognormal(np.log(20), 1.0, n_res), 2)
    sold = np.zeros(n_res, dtype=bool)
    sold[l_res[(l_cust >= o_cust) & (l_rel == PAYS)]] = True
    revenue = np.where(sold, np.round(cost * rng.uniform(1.2, 2.5, n_res), 2), np.nan)
    fan_out = np.bincount(l_res, minlength=n_res)
    demand = np.round(
        capacity[l_res] / np.maximum(fan_out[l_res], 1) * rng.uniform(0.5, 1.3, l_res.size), 1
    )
    return capacity, cost, revenue, demand


if __name__ == "__main__":
    main()
