"""Who the customers of a unit are: direct, indirect, external, and orphan results.

The unit graph has an arc A -> B when B pays for, consumes, adds to or depends on a
result of A. Everything here works on a compressed sparse row (CSR) matrix of that
graph with SciPy's csgraph, so a whole organisation of 100,000 units is derived in
vectorised passes; cycles are collapsed into strongly connected components first so
they neither hang nor double count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

NO_DEPTH = -1


@dataclass(frozen=True)
class ChainGraph:
    """The value chain as arrays. Units and results are addressed by position.

    ``link_result``/``link_customer`` index into results and units; ``link_relation``
    holds a small integer per relation (the caller keeps the names).
    """

    unit_external_customer: BoolArray
    result_unit: IntArray
    link_result: IntArray
    link_customer: IntArray
    link_relation: IntArray
    units: csr_matrix  # n x n, arc producer -> customer, deduplicated, no self-arcs

    @property
    def n_units(self) -> int:
        return int(self.unit_external_customer.shape[0])

    @property
    def n_results(self) -> int:
        return int(self.result_unit.shape[0])


def build_graph(
    unit_external_customer: npt.ArrayLike,
    result_unit: npt.ArrayLike,
    link_result: npt.ArrayLike,
    link_customer: npt.ArrayLike,
    link_relation: npt.ArrayLike | None = None,
) -> ChainGraph:
    """Build the unit graph from per-result producers and per-link (result, customer)."""
    # Imported here: scipy.sparse is slow to import and most commands never build the graph.
    from scipy.sparse import csr_matrix

    external = np.asarray(unit_external_customer, dtype=bool)
    r_unit = np.asarray(result_unit, dtype=np.int64)
    l_result = np.asarray(link_result, dtype=np.int64)
    l_customer = np.asarray(link_customer, dtype=np.int64)
    l_relation = (
        np.zeros(l_result.shape[0], dtype=np.int64)
        if link_relation is None
        else np.asarray(link_relation, dtype=np.int64)
    )
    n = external.shape[0]
    src = r_unit[l_result]
    keep = src != l_customer  # a unit using its own result is not its own customer
    data = np.ones(int(keep.sum()), dtype=np.int8)
    matrix = csr_matrix((data, (src[keep], l_customer[keep])), shape=(n, n))
    matrix.sum_duplicates()
    matrix.data[:] = 1
    return ChainGraph(external, r_unit, l_result, l_customer, l_relation, matrix)


@dataclass(frozen=True)
class UnitCustomers:
    """Customers of one unit (positions into the unit and result arrays)."""

    direct: IntArray
    indirect: IntArray
    via: list[IntArray]  # one shortest intermediate path per indirect customer
    external: IntArray
    orphan_results: IntArray


def customers_of(graph: ChainGraph, unit: int, reaches: BoolArray | None = None) -> UnitCustomers:
    """Direct customers, indirect customers with one shortest ``via`` path each
    (breadth-first search, so the path is shortest in hops), the external customers
    reached, and the unit's results with no path to any external customer."""
    from scipy.sparse.csgraph import breadth_first_order  # here: slow import, see build_graph

    order, predecessors = breadth_first_order(
        graph.units, unit, directed=True, return_predecessors=True
    )
    order = order[order != unit]
    direct = graph.units.indices[graph.units.indptr[unit] : graph.units.indptr[unit + 1]]
    direct = np.sort(direct).astype(np.int64)
    is_direct = np.zeros(graph.n_units, dtype=bool)
    is_direct[direct] = True
    indirect = order[~is_direct[order]].astype(np.int64)
    via: list[IntArray] = []
    for target in indirect:
        path: list[int] = []
        step = int(predecessors[target])
        while step != unit:
            path.append(step)
            step = int(predecessors[step])
        via.append(np.asarray(path[::-1], dtype=np.int64))
    reached = order.astype(np.int64)
    external = np.sort(reached[graph.unit_external_customer[reached]])
    if reaches is None:
        reaches = reaches_external(graph)
    own = np.flatnonzero(graph.result_unit == unit)
    orphans = own[~result_has_path(graph, reaches)[own]]
    return UnitCustomers(direct, indirect, via, external, orphans.astype(np.int64))


def _distinct(values: IntArray) -> IntArray:
    """Sorted distinct values; sorting beats ``np.unique``'s hashing path (numpy 2.x)
    by 20x on the million-arc graphs this module is built for."""
    ordered = np.sort(values)
    if ordered.size == 0:
        return ordered
    keep = np.empty(ordered.size, dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _condense(graph: ChainGraph) -> tuple[int, IntArray, IntArray, IntArray, BoolArray]:
    """Strongly connected components and the arcs of the condensed DAG (deduplicated).

    Returns (components, labels, arc sources, arc targets, cyclic flag per component).
    """
    from scipy.sparse.csgraph import connected_components  # here: slow import, see build_graph

    count, labels = connected_components(graph.units, directed=True, connection="strong")
    labels = labels.astype(np.int64)
    coo = graph.units.tocoo()
    src = labels[coo.row]
    dst = labels[coo.col]
    inner = src == dst
    sizes = np.bincount(labels, minlength=count)
    cyclic = sizes > 1
    cyclic[src[inner]] = True
    cross = ~inner
    pairs = _distinct(src[cross] * count + dst[cross])
    return count, labels, pairs // count, pairs % count, cyclic


def _levels(count: int, src: IntArray, dst: IntArray) -> IntArray:
    """Height of each DAG node above the sinks (sinks are 0): Kahn's algorithm
    peeling sinks in rounds, each round one vectorised pass over its arcs."""
    out_degree = np.bincount(src, minlength=count)
    order = np.argsort(dst, kind="stable")
    by_dst_src = src[order]
    indptr = np.concatenate(([0], np.cumsum(np.bincount(dst, minlength=count))))
    level = np.full(count, -1, dtype=np.int64)
    frontier = np.flatnonzero(out_degree == 0)
    height = 0
    while frontier.size:
        level[frontier] = height
        starts = indptr[frontier]
        lengths = indptr[frontier + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            break
        # Gather the arcs entering the frontier without a Python loop per node.
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        parents = by_dst_src[offsets]
        out_degree -= np.bincount(parents, minlength=count)
        candidates = _distinct(parents)
        frontier = candidates[out_degree[candidates] == 0]
        height += 1
    return level


@dataclass(frozen=True)
class MapFacts:
    """Derived facts for every unit and result of an organisation."""

    direct_count: IntArray  # direct customers per unit
    external_count: IntArray  # external customers reached per unit
    external_bits: npt.NDArray[np.uint64]  # n x words bitset over external customers
    external_units: IntArray  # unit position of each bit
    depth: IntArray  # hops to the nearest external customer; NO_DEPTH if none
    reaches_external: BoolArray
    orphan_results: IntArray


def reaches_external(graph: ChainGraph) -> BoolArray:
    """Units with a path of one or more arcs to an external customer."""
    return np.asarray(_external_reach_bits(graph)[0].any(axis=1), dtype=bool)


def result_has_path(graph: ChainGraph, reaches: BoolArray) -> BoolArray:
    """Results with at least one customer that is, or leads to, an external customer."""
    good = graph.unit_external_customer[graph.link_customer] | reaches[graph.link_customer]
    counts = np.bincount(graph.link_result[good], minlength=graph.n_results)
    return counts > 0


def _depth(graph: ChainGraph) -> IntArray:
    """Hops from each unit to its nearest external customer (multi-source BFS on the
    reversed graph); external customers are 0, units with no path NO_DEPTH."""
    from scipy.sparse.csgraph import dijkstra  # here: slow import, see build_graph

    sources = np.flatnonzero(graph.unit_external_customer)
    if sources.size == 0:
        return np.full(graph.n_units, NO_DEPTH, dtype=np.int64)
    dist = dijkstra(
        graph.units.T.tocsr(), directed=True, indices=sources, unweighted=True, min_only=True
    )
    return np.where(np.isinf(dist), NO_DEPTH, dist).astype(np.int64)


def _external_reach_bits(graph: ChainGraph) -> tuple[npt.NDArray[np.uint64], IntArray]:
    """Bitset per unit of the external customers it reaches by one or more arcs.

    Reach is propagated over the condensation from the sinks upwards, one vectorised
    OR-reduction per DAG level (hand-written because neither SciPy nor networkx offers
    a reachability closure restricted to a target set)."""
    ext_units = np.flatnonzero(graph.unit_external_customer).astype(np.int64)
    words = max(1, (ext_units.size + 63) // 64)
    count, labels, src, dst, cyclic = _condense(graph)
    own = np.zeros((count, words), dtype=np.uint64)
    bit = np.arange(ext_units.size)
    np.bitwise_or.at(
        own,
        (labels[ext_units], bit // 64),
        np.left_shift(np.uint64(1), (bit % 64).astype(np.uint64)),
    )
    reach = np.zeros((count, words), dtype=np.uint64)
    # Inside a cycle every member reaches every other member.
    reach[cyclic] = own[cyclic]
    if src.size:
        level = _levels(count, src, dst)
        arc_level = level[src]
        order = np.lexsort((src, arc_level))
        src_s, dst_s, lvl_s = src[order], dst[order], arc_level[order]
        bounds = np.flatnonzero(np.diff(lvl_s)) + 1
        for a, b in zip(np.r_[0, bounds], np.r_[bounds, src_s.size], strict=True):
            s, d = src_s[a:b], dst_s[a:b]
            values = own[d] | reach[d]
            starts = np.r_[0, np.flatnonzero(np.diff(s)) + 1]
            reach[s[starts]] |= np.bitwise_or.reduceat(values, starts, axis=0)
    per_unit = reach[labels]
    # A unit is not its own customer, even when a cycle leads back to it.
    per_unit[ext_units, bit // 64] &= ~np.left_shift(np.uint64(1), (bit % 64).astype(np.uint64))
    return per_unit, ext_units


def map_facts(graph: ChainGraph) -> MapFacts:
    """Direct-customer counts, external reach, depth and orphan results for every unit."""
    bits, ext_units = _external_reach_bits(graph)
    external_count = np.bitwise_count(bits).sum(axis=1).astype(np.int64)
    reaches = external_count > 0
    depth = _depth(graph)
    has_path = result_has_path(graph, reaches)
    return MapFacts(
        direct_count=np.diff(graph.units.indptr).astype(np.int64),
        external_count=external_count,
        external_bits=bits,
        external_units=ext_units,
        depth=depth,
        reaches_external=reaches,
        orphan_results=np.flatnonzero(~has_path).astype(np.int64),
    )


def unpack_external(facts: MapFacts, unit: int) -> IntArray:
    """The external customers (unit positions) one unit reaches, from its bitset row."""
    row = facts.external_bits[unit]
    flags = np.unpackbits(row.view(np.uint8), bitorder="little")[: facts.external_units.size]
    chosen: IntArray = facts.external_units[flags.astype(bool)]
    return chosen


def part_of_roots(parent: IntArray) -> IntArray:
    """The root of every unit's ``part of`` tree (its top department): ``parent`` holds
    each unit's parent position or -1. Pointer jumping (each pass doubles the steps
    taken), so a tree of depth d costs log2(d) vectorised passes; a unit on a cycle of
    parents, which the import refuses, ends at some unit of the cycle instead of
    looping."""
    root = np.where(parent >= 0, parent, np.arange(parent.shape[0], dtype=np.int64))
    for _ in range(64):
        ahead = root[root]
        if np.array_equal(ahead, root):
            break
        root = ahead
    return root


@dataclass(frozen=True)
class GroupEdges:
    """Links aggregated between groups: one row per (source, target, relation) with
    the number of links, sorted by source, target and relation."""

    source: IntArray
    target: IntArray
    relation: IntArray
    links: IntArray


def group_edges(graph: ChainGraph, group: IntArray, n_groups: int) -> GroupEdges:
    """The links between units of different groups (``group`` gives each unit's
    group), counted per (provider group, customer group, relation) with one
    ``np.unique`` over packed keys; links inside a group are left out."""
    source = group[graph.result_unit[graph.link_result]]
    target = group[graph.link_customer]
    between = source != target
    n_rel = int(graph.link_relation.max()) + 1 if graph.link_relation.size else 1
    keys = (source[between] * n_groups + target[between]) * n_rel + graph.link_relation[between]
    unique, counts = np.unique(keys, return_counts=True)
    pair, rel = np.divmod(unique, n_rel)
    src, dst = np.divmod(pair, n_groups)
    return GroupEdges(
        src.astype(np.int64), dst.astype(np.int64), rel.astype(np.int64), counts.astype(np.int64)
    )
