"""Flow along the value chain: throughput to the external customers, the bottleneck,
where work piles up, and what a change of capacity or cost does to them and to money.

The model:

* a *stage* is a result with a weekly capacity (unknown capacity: unlimited);
* items move from stage to stage along *arcs* (a customer unit consumes or adds to a
  result and makes its own results from it), each optionally capped by the link's
  weekly demand; they leave the chain along *sinks*, the links to external customers,
  capped by the external customer's weekly demand;
* stages nobody feeds draw from an unlimited supply;
* a **merge** (several arcs into one stage) is additive by default: the inputs are
  alternative sources of the same item, one item in, one item out;
* an **assembly** stage combines its inputs in fixed proportions: an arc with a
  ``per_item`` quantity says how many of its items one item of the stage needs,
  and a stage with any such arc needs every input (``per_item`` 1 where not given),
  so it is limited by its scarcest input (a steel mill needs ore *and* coke).

Without assemblies, throughput is a maximum flow from the supply to the external
customers (Dinic's algorithm in SciPy's ``csgraph``; stage capacities become arcs
between a stage's two halves) and the bottleneck is the set of stages in the
minimum cut nearest the supply. With assemblies the network is a *generalised*
(processing) network, which no max-flow algorithm solves; throughput is then the
linear programme of the same flow with one proportion constraint per assembly input,
solved by HiGHS (``scipy.optimize.linprog``), and the bottleneck is the set of
stages whose capacity has a positive shadow price (one more item of capacity there
would raise throughput) — on a network without assemblies exactly the stages of a
minimum cut.
Work piling up is found by pushing work through the chain as it arrives: each stage
processes what it can and passes it on in proportion to its customers' demand.
Money follows throughput accounting (Goldratt): the value of what the external
customers receive minus the truly variable cost of every item processed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Capacities are integers for SciPy's max-flow: work in thousandths of an item.
RESOLUTION = 1_000
INT_LIMIT = 2**31 - 1
PUSH_ROUNDS_EXTRA = 2
TOLERANCE_LP = 1e-9  # a shadow price above this marks a binding capacity


@dataclass(frozen=True)
class FlowNetwork:
    """Stages (results) with capacity and money per item; arcs between stages and
    sinks to external customers, each with an optional weekly demand (``inf``: none)."""

    capacity: FloatArray
    cost_per_item: FloatArray
    revenue_per_item: FloatArray
    arc_from: IntArray
    arc_to: IntArray
    arc_demand: FloatArray
    sink_stage: IntArray
    sink_demand: FloatArray
    # Items of the arc's source one item of its target needs; nan: an additive input.
    arc_per_item: FloatArray | None = None

    @property
    def n_stages(self) -> int:
        return int(self.capacity.shape[0])

    def assembly(self) -> BoolArray:
        """Stages that combine their inputs in fixed proportions."""
        out = np.zeros(self.n_stages, dtype=bool)
        if self.arc_per_item is not None:
            out[self.arc_to[~np.isnan(self.arc_per_item)]] = True
        return out

    def per_item(self) -> FloatArray:
        """Per arc: items one item of the target needs (1 where an assembly's input
        gives none); nan for the inputs of stages that are not assemblies."""
        assembly = self.assembly()
        given = (
            self.arc_per_item
            if self.arc_per_item is not None
            else np.full(self.arc_from.size, np.nan)
        )
        filled = np.where(np.isnan(given), 1.0, given)
        return np.where(assembly[self.arc_to], filled, np.nan)


def network(
    capacity: npt.ArrayLike,
    arcs: npt.ArrayLike,
    sinks: npt.ArrayLike,
    *,
    arc_demand: npt.ArrayLike | None = None,
    sink_demand: npt.ArrayLike | None = None,
    cost_per_item: npt.ArrayLike | None = None,
    revenue_per_item: npt.ArrayLike | None = None,
    arc_per_item: npt.ArrayLike | None = None,
) -> FlowNetwork:
    """Build a network; ``arcs`` is (k, 2) stage pairs, ``sinks`` the stages that
    deliver to external customers; ``nan`` demands and capacities mean unlimited;
    ``arc_per_item`` (``nan``: additive) makes the arcs' targets assemblies."""
    cap = np.asarray(capacity, dtype=np.float64).copy()
    cap[np.isnan(cap)] = np.inf
    n = cap.shape[0]
    pairs = np.asarray(arcs, dtype=np.int64).reshape(-1, 2)
    sink = np.asarray(sinks, dtype=np.int64).reshape(-1)

    def per(values: npt.ArrayLike | None, size: int, default: float) -> FloatArray:
        if values is None:
            return np.full(size, default)
        out = np.asarray(values, dtype=np.float64).reshape(-1).copy()
        out[np.isnan(out)] = default
        return out

    return FlowNetwork(
        capacity=cap,
        cost_per_item=per(cost_per_item, n, 0.0),
        revenue_per_item=per(revenue_per_item, n, 0.0),
        arc_from=pairs[:, 0].copy(),
        arc_to=pairs[:, 1].copy(),
        arc_demand=per(arc_demand, pairs.shape[0], np.inf),
        sink_stage=sink,
        sink_demand=per(sink_demand, sink.shape[0], np.inf),
        arc_per_item=None
        if arc_per_item is None
        else np.asarray(arc_per_item, dtype=np.float64).reshape(-1).copy(),
    )


@dataclass(frozen=True)
class Flow:
    """A maximum flow and what it says about every stage."""

    throughput: float  # items per week reaching the external customers
    stage_flow: FloatArray  # items per week through each stage
    utilisation: FloatArray  # stage_flow / capacity (0 for unlimited stages)
    idle: FloatArray  # capacity - stage_flow (inf for unlimited stages)
    bottlenecks: IntArray  # stages in the minimum cut, highest utilisation first
    demand_bound: bool  # the external customers' demand, not a stage, limits throughput
    arrivals: FloatArray  # items per week arriving at each stage when work is pushed
    inventory_growth: FloatArray  # arrivals beyond capacity, items per week
    delivered: FloatArray  # items per week each stage hands to external customers
    revenue: float  # per week, from what the external customers receive
    variable_cost: float  # per week, of every item processed
    net: float  # revenue - variable_cost (throughput in money)
    # The solved integer network, kept so a what-if can start from this flow.
    solved: _Solved | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class _Solved:
    net: FlowNetwork
    scale: float
    unlimited: int
    graph: csr_matrix  # integer capacities
    flow: csr_matrix  # integer flow (antisymmetric, as SciPy returns it)
    value: int  # integer throughput


def _scale(net: FlowNetwork) -> tuple[float, int]:
    """Units per item and the integer that stands for "unlimited"."""
    finite = [a[np.isfinite(a)] for a in (net.capacity, net.arc_demand, net.sink_demand)]
    total = float(sum(float(a.sum()) for a in finite)) + 1.0
    scale = float(RESOLUTION)
    while total * scale * 4 > INT_LIMIT and scale > 1e-6:
        scale /= 10
    return scale, int(total * scale * 2) + 1


def _as_int(values: FloatArray, scale: float, unlimited: int) -> IntArray:
    out = np.where(np.isfinite(values), np.round(values * scale), unlimited)
    return np.minimum(out, unlimited).astype(np.int64)


def max_flow(net: FlowNetwork, start: Flow | None = None) -> Flow:
    """Throughput, per-stage flow, the bottleneck stages (minimum cut nearest the
    supply, found by a breadth-first search of the residual graph), work piling up and
    money. Dinic's maximum flow via :func:`scipy.sparse.csgraph.maximum_flow`; a
    network with assembly stages goes to :func:`assembly_flow`.

    ``start`` (the flow of the same network before a what-if) is reused when the
    what-if only raises capacities or changes costs: its flow is still feasible, so
    only the augmentation in its residual graph is computed (the max-flow of the
    residual graph, again by Dinic), which is a fraction of a full solve."""
    # Imported here: scipy.sparse is slow to import and only the flow verbs need it.
    from scipy.sparse.csgraph import breadth_first_order, maximum_flow

    if net.assembly().any():
        return assembly_flow(net)
    n = net.n_stages
    scale, unlimited = _scale(net)
    source, target = 2 * n, 2 * n + 1
    stages = np.arange(n)
    graph = _graph(net, scale, unlimited)
    earlier = start.solved if start is not None else None
    if earlier is not None and _can_start_from(earlier, net, scale, graph):
        residual = _residual(graph, earlier.flow)
        more = maximum_flow(residual, source, target, method="dinic")
        flow = (earlier.flow + more.flow.tocsr()).tocsr()
        value = earlier.value + int(more.flow_value)
    else:
        result = maximum_flow(graph, source, target, method="dinic")
        flow = result.flow.tocsr()
        value = int(result.flow_value)
    stage_flow = np.asarray(flow[2 * stages, 2 * stages + 1]).reshape(-1) / scale
    residual = _residual(graph, flow)
    reached = np.zeros(2 * n + 2, dtype=bool)
    reached[breadth_first_order(residual, source, directed=True, return_predecessors=False)] = True
    limited = np.isfinite(net.capacity)
    cut = np.flatnonzero(reached[2 * stages] & ~reached[2 * stages + 1] & limited)
    with np.errstate(divide="ignore", invalid="ignore"):
        utilisation = np.where(limited, stage_flow / net.capacity, 0.0)
    bottlenecks = cut[np.argsort(-utilisation[cut], kind="stable")].astype(np.int64)
    arrivals = push(net)
    delivered = _delivered(net, flow, scale)
    with np.errstate(invalid="ignore"):  # unlimited stages: inf - inf, masked below
        piling = np.maximum(arrivals - net.capacity, 0.0)
    return Flow(
        throughput=float(value) / scale,
        stage_flow=stage_flow,
        utilisation=utilisation,
        idle=np.where(limited, net.capacity - stage_flow, np.inf),
        bottlenecks=bottlenecks,
        demand_bound=bottlenecks.size == 0,
        arrivals=arrivals,
        inventory_growth=np.where(limited, piling, 0.0),
        delivered=delivered,
        revenue=float((delivered * net.revenue_per_item).sum()),
        variable_cost=float((stage_flow * net.cost_per_item).sum()),
        net=float(
            (delivered * net.revenue_per_item).sum() - (stage_flow * net.cost_per_item).sum()
        ),
        solved=_Solved(net, scale, unlimited, graph, flow, value),
    )


def _graph(net: FlowNetwork, scale: float, unlimited: int) -> csr_matrix:
    """The integer network: node 2s is a stage's inbox, 2s + 1 its outbox, the arc
    between them its capacity; the supply is node 2n, the customers node 2n + 1."""
    from scipy.sparse import csr_matrix  # here: slow import, see max_flow

    n = net.n_stages
    source, target = 2 * n, 2 * n + 1
    fed = np.zeros(n, dtype=bool)
    fed[net.arc_to] = True
    supplied = np.flatnonzero(~fed)
    stages = np.arange(n)
    rows = np.concatenate(
        [2 * stages, 2 * net.arc_from + 1, 2 * net.sink_stage + 1, np.full(supplied.size, source)]
    )
    cols = np.concatenate(
        [2 * stages + 1, 2 * net.arc_to, np.full(net.sink_stage.size, target), 2 * supplied]
    )
    caps = np.concatenate(
        [
            _as_int(net.capacity, scale, unlimited),
            _as_int(net.arc_demand, scale, unlimited),
            _as_int(net.sink_demand, scale, unlimited),
            np.full(supplied.size, unlimited, dtype=np.int64),
        ]
    )
    keep = rows != cols
    size = 2 * n + 2
    graph = csr_matrix((caps[keep].astype(np.int32), (rows[keep], cols[keep])), shape=(size, size))
    graph.sum_duplicates()
    return graph


def _residual(graph: csr_matrix, flow: csr_matrix) -> csr_matrix:
    """Capacity left on every arc, and the flow that may be sent back along it."""
    residual = (graph - flow).tocsr()
    residual.data[residual.data < 0] = 0
    residual.eliminate_zeros()
    out: csr_matrix = residual.astype(np.int32)
    return out


def _can_start_from(earlier: _Solved, net: FlowNetwork, scale: float, graph: csr_matrix) -> bool:
    """Whether the earlier flow is feasible in ``net``: same arcs and sinks, the same
    integer scale, and no capacity lower than before."""
    old = earlier.net
    if scale != earlier.scale:
        return False
    same_shape = (
        np.array_equal(old.arc_from, net.arc_from)
        and np.array_equal(old.arc_to, net.arc_to)
        and np.array_equal(old.sink_stage, net.sink_stage)
        and graph.shape == earlier.graph.shape
        and np.array_equal(graph.indptr, earlier.graph.indptr)
        and np.array_equal(graph.indices, earlier.graph.indices)
    )
    return same_shape and bool((graph.data >= earlier.graph.data).all())


def _delivered(net: FlowNetwork, flow: csr_matrix, scale: float) -> FloatArray:
    """Items per week each stage hands to external customers in the maximum flow."""
    n = net.n_stages
    to_target = np.asarray(flow[:, 2 * n + 1].todense()).reshape(-1) / scale
    return to_target[2 * np.arange(n) + 1]


def push(net: FlowNetwork) -> FloatArray:
    """Items per week arriving at each stage when work is pushed as it comes: the
    supply releases what the first stages can take, every stage processes what it
    can (an assembly only complete sets) and passes its output on in proportion to
    its customers' demand (equal shares where demand is unknown), never more than a
    customer's demand. Iterated to a fixed point (one round per stage along the
    longest chain; bounded on cycles)."""
    return _push(net)[0]


def _push(net: FlowNetwork) -> tuple[FloatArray, FloatArray]:
    """:func:`push`'s arrivals per stage and items passed along each arc."""
    n = net.n_stages
    fed = np.zeros(n, dtype=bool)
    fed[net.arc_to] = True
    arc_fraction = _arc_fraction(net)
    start = np.where(fed, 0.0, np.minimum(_can_take(net), _release_limit(net)))
    arrivals = start.copy()
    passed = np.zeros(net.arc_from.size)
    for _ in range(n + PUSH_ROUNDS_EXTRA):
        processed = _processed(net, arrivals, passed)
        passed = np.minimum(processed[net.arc_from] * arc_fraction, net.arc_demand)
        updated = start + np.bincount(net.arc_to, weights=passed, minlength=n)
        if np.allclose(updated, arrivals, rtol=0, atol=1e-9):
            break
        arrivals = updated
    return arrivals, passed


def _processed(net: FlowNetwork, arrivals: FloatArray, passed: FloatArray) -> FloatArray:
    """What each stage turns out per week from what arrives: up to its capacity, and
    at an assembly no more than its scarcest input allows (complete sets only)."""
    processed = np.minimum(arrivals, net.capacity)
    assembly = net.assembly()
    if not assembly.any():
        return processed
    q = net.per_item()
    inputs = ~np.isnan(q)
    sets = np.full(net.n_stages, np.inf)
    np.minimum.at(sets, net.arc_to[inputs], passed[inputs] / q[inputs])
    return np.where(assembly, np.minimum(sets, net.capacity), processed)


def assembly_flow(net: FlowNetwork) -> Flow:
    """The maximum throughput of a network with assembly stages: a linear programme
    over arc, sink and supply flows (conservation at ordinary stages, one proportion
    constraint per assembly input, capacities, demands), solved by HiGHS via
    :func:`scipy.optimize.linprog`. The bottleneck stages are those whose capacity
    constraint has a non-zero dual value (shadow price), highest utilisation first."""
    # Imported here: scipy.optimize and scipy.sparse are slow imports only flows need.
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix, vstack

    n, k, m = net.n_stages, net.arc_from.size, net.sink_stage.size
    fed = np.zeros(n, dtype=bool)
    fed[net.arc_to] = True
    supplied = np.flatnonzero(~fed)
    s = supplied.size
    # Variables: arcs [0, k), sinks [k, k + m), supplies [k + m, k + m + s).
    arc_var, sink_var, supply_var = np.arange(k), k + np.arange(m), k + m + np.arange(s)
    width = k + m + s
    assembly = net.assembly()
    q = net.per_item()
    # Outflow of each stage as rows of a sparse matrix (stage x variable).
    out_rows = np.concatenate([net.arc_from, net.sink_stage])
    out_cols = np.concatenate([arc_var, sink_var])
    outflow = coo_matrix((np.ones(out_rows.size), (out_rows, out_cols)), shape=(n, width))
    in_rows = np.concatenate([net.arc_to, supplied])
    in_cols = np.concatenate([arc_var, supply_var])
    inflow = coo_matrix((np.ones(in_rows.size), (in_rows, in_cols)), shape=(n, width))
    ordinary = np.flatnonzero(~assembly)
    conservation = (inflow - outflow).tocsr()[ordinary]
    # Assembly input a into stage t: x_a - q_a * outflow_t = 0.
    inputs = np.flatnonzero(~np.isnan(q))
    pick = coo_matrix(
        (np.ones(inputs.size), (np.arange(inputs.size), inputs)), shape=(inputs.size, width)
    )
    scale = coo_matrix(
        (q[inputs], (np.arange(inputs.size), net.arc_to[inputs])), shape=(inputs.size, n)
    )
    proportion = (pick - scale @ outflow.tocsr()).tocsr()
    a_eq = vstack([conservation, proportion]).tocsr()
    limited = np.flatnonzero(np.isfinite(net.capacity))
    a_ub = outflow.tocsr()[limited]
    upper = np.concatenate(
        [
            np.where(np.isfinite(net.arc_demand), net.arc_demand, np.inf),
            np.where(np.isfinite(net.sink_demand), net.sink_demand, np.inf),
            np.full(s, np.inf),
        ]
    )
    cost = np.zeros(width)
    cost[sink_var] = -1.0
    # A path with no limit at all has no maximum: a sink without demand takes at most
    # the sum of every finite number in the network (as "unlimited" in max_flow).
    finite = [a[np.isfinite(a)] for a in (net.capacity, net.arc_demand, net.sink_demand)]
    ceiling = float(sum(float(a.sum()) for a in finite)) + 1.0
    upper[sink_var] = np.minimum(upper[sink_var], ceiling)
    solved = linprog(
        cost,
        A_ub=a_ub if limited.size else None,
        b_ub=net.capacity[limited] if limited.size else None,
        A_eq=a_eq if a_eq.shape[0] else None,
        b_eq=np.zeros(a_eq.shape[0]) if a_eq.shape[0] else None,
        bounds=np.column_stack([np.zeros(width), upper]),
        method="highs",
    )
    if solved.status != 0:  # pragma: no cover - HiGHS solves every bounded instance
        raise RuntimeError(f"the flow programme could not be solved: {solved.message}")
    x = np.maximum(np.asarray(solved.x, dtype=np.float64), 0.0)
    stage_flow = np.asarray(outflow.tocsr() @ x).reshape(-1)
    delivered = np.bincount(net.sink_stage, weights=x[sink_var], minlength=n).astype(np.float64)
    throughput = float(x[sink_var].sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        utilisation = np.where(np.isfinite(net.capacity), stage_flow / net.capacity, 0.0)
    shadow = np.zeros(n)
    if limited.size:
        shadow[limited] = -np.asarray(solved.ineqlin.marginals, dtype=np.float64)
    cut = np.flatnonzero(shadow > TOLERANCE_LP)
    bottlenecks = cut[np.argsort(-utilisation[cut], kind="stable")].astype(np.int64)
    arrivals, passed = _push(net)
    processed_in = _assembly_waiting(net, arrivals, passed)
    with np.errstate(invalid="ignore"):
        piling = np.where(assembly, processed_in, np.maximum(arrivals - net.capacity, 0.0))
    limited_mask = np.isfinite(net.capacity)
    revenue = float((delivered * net.revenue_per_item).sum())
    variable = float((stage_flow * net.cost_per_item).sum())
    return Flow(
        throughput=throughput,
        stage_flow=stage_flow,
        utilisation=utilisation,
        idle=np.where(limited_mask, net.capacity - stage_flow, np.inf),
        bottlenecks=bottlenecks,
        demand_bound=bottlenecks.size == 0,
        arrivals=arrivals,
        inventory_growth=np.where(limited_mask | assembly, np.nan_to_num(piling), 0.0),
        delivered=delivered,
        revenue=revenue,
        variable_cost=variable,
        net=revenue - variable,
    )


def _assembly_waiting(net: FlowNetwork, arrivals: FloatArray, passed: FloatArray) -> FloatArray:
    """Items per week piling up in front of each assembly when work is pushed: every
    input item that does not become part of a complete set the stage can process."""
    n = net.n_stages
    processed = _processed(net, arrivals, passed)
    q = net.per_item()
    inputs = ~np.isnan(q)
    to = net.arc_to[inputs]
    used = np.bincount(to, weights=q[inputs] * processed[to], minlength=n)
    got = np.bincount(to, weights=passed[inputs], minlength=n)
    waiting: FloatArray = np.maximum(got - used, 0.0)
    return waiting


def _arc_fraction(net: FlowNetwork) -> FloatArray:
    """The share of a stage's output each outgoing arc takes (as in :func:`push`)."""
    n = net.n_stages
    weights = np.where(np.isfinite(net.arc_demand), net.arc_demand, np.nan)
    out_sinks = np.where(np.isfinite(net.sink_demand), net.sink_demand, np.nan)
    known = np.concatenate([weights, out_sinks])
    owner = np.concatenate([net.arc_from, net.sink_stage])
    unknown = np.isnan(known)
    known_sum = np.bincount(owner[~unknown], weights=known[~unknown], minlength=n)
    known_count = np.bincount(owner[~unknown], minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        typical = np.where(known_count > 0, known_sum / known_count, 1.0)
    share = np.where(unknown, typical[owner], known)
    totals = np.bincount(owner, weights=share, minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(totals[owner] > 0, share / totals[owner], 0.0)
    arc_fraction: FloatArray = fraction[: net.arc_from.size]
    return arc_fraction


def _can_take(net: FlowNetwork) -> FloatArray:
    """What each stage can take in per week: its capacity, or for a stage without a
    limit (an external supplier, say) what the stages it feeds can take, so the supply
    releases work at the pace of the first limited stages, not without end."""
    n = net.n_stages
    limited = np.isfinite(net.capacity)
    take = net.capacity.copy()
    sink_total = np.bincount(net.sink_stage, weights=net.sink_demand, minlength=n)
    for _ in range(n + PUSH_ROUNDS_EXTRA):
        onward = np.bincount(
            net.arc_from, weights=np.minimum(net.arc_demand, take[net.arc_to]), minlength=n
        )
        updated = np.where(limited, net.capacity, onward + sink_total)
        if np.array_equal(updated, take):
            break
        take = updated
    return take


def outgoing_demand(net: FlowNetwork) -> FloatArray:
    """What a stage's customers ask of it per week (``inf`` if any asks without limit;
    0 for a stage nobody takes from)."""
    n = net.n_stages
    owner = np.concatenate([net.arc_from, net.sink_stage])
    demand = np.concatenate([net.arc_demand, net.sink_demand])
    total = np.bincount(owner, weights=np.where(np.isfinite(demand), demand, 0.0), minlength=n)
    unbounded = np.bincount(owner, weights=~np.isfinite(demand), minlength=n) > 0
    return np.where(unbounded, np.inf, total)


def _release_limit(net: FlowNetwork) -> FloatArray:
    """Demand as a cap on what the supply releases: a stage nobody takes from is not
    held back by demand (its capacity still is)."""
    no_customer = (
        np.bincount(np.concatenate([net.arc_from, net.sink_stage]), minlength=net.n_stages) == 0
    )
    return np.where(no_customer, np.inf, outgoing_demand(net))


class Change(StrEnum):
    """What a what-if changes at one stage."""

    CAPACITY = "capacity"
    COST = "cost"


@dataclass(frozen=True)
class WhatIf:
    """Change ``stage``'s capacity or cost per item by ``percent`` (+20 = 20% more)."""

    stage: int
    change: Change
    percent: float


def apply(net: FlowNetwork, changes: list[WhatIf]) -> FlowNetwork:
    """The network with every change applied (several on one stage compound)."""
    capacity = net.capacity.copy()
    cost = net.cost_per_item.copy()
    for c in changes:
        factor = 1.0 + c.percent / 100.0
        if c.change is Change.CAPACITY:
            capacity[c.stage] *= factor
        else:
            cost[c.stage] *= factor
    return replace(net, capacity=capacity, cost_per_item=cost)
