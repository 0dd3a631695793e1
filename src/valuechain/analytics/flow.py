"""Flow along the value chain: throughput to the external customers, the bottleneck,
where work piles up, and what a change of capacity or cost does to them and to money.

The model:

* a *stage* is a result with a weekly capacity (unknown capacity: unlimited);
* items move from stage to stage along *arcs* (a customer unit consumes a result and
  makes its own results from it), each optionally capped by a weekly demand; arcs
  may form a *group* that shares one demand (one ``consumes`` link fanned out to the
  customer's several results takes its demand once, not once per result); items
  leave the chain along *sinks*, the links to external customers, capped by the
  external customer's weekly demand;
* stages nobody feeds draw from an unlimited supply;
* a **merge** (several arcs into one stage) is additive by default: the inputs are
  alternative sources of the same item, one item in, one item out;
* an **assembly** stage combines its inputs in fixed proportions: an arc with a
  ``per_item`` quantity says how many of its items one item of the stage needs,
  and a stage with any such arc needs every input (``per_item`` 1 where not given),
  so it is limited by its scarcest input (a steel mill needs ore *and* coke).

Throughput is the maximum flow from the supply to the external customers. Without
assemblies it is solved on exact integers where the figures allow (see
:mod:`.flow_integer`: OR-Tools' max-flow and LEMON's network simplex, in C++ on the
capacities scaled by a power of ten); otherwise, and with assemblies, as a linear
programme in floating point by HiGHS (``scipy.optimize.linprog``). Either way
capacities from thousandths of an item to 10¹² a week come out exactly. Maximum
flows are not unique; the one priced is the maximum flow a manager would run, the
one of most throughput money (revenue minus truly variable cost, so least variable
cost when revenue per item is the same): the least-cost flow of the maximum
throughput on integers, or in the programme (throughput weighted above any money)
or, with assemblies, by a second programme at that throughput. When a path from the
supply to a paying customer has no limit anywhere, throughput is unbounded: the path
is named and nothing is computed from it.

The bottleneck is the set of stages in the minimum cut nearest the supply (a
breadth-first search of the residual graph of the maximum flow); with assemblies,
the stages whose capacity has a positive shadow price (one more item of capacity
there would raise throughput). Work piling up is found by pushing work through the
chain as it arrives: each stage processes what it can and passes it on in proportion
to its customers' demand. Money follows throughput accounting (Goldratt): the value
of what the external customers receive minus the truly variable cost of every item
processed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from valuechain.analytics.flow_integer import Basis, integer_flow
from valuechain.analytics.flow_network import BoolArray, FloatArray, FlowNetwork, IntArray

PUSH_ROUNDS_EXTRA = 2
TOLERANCE_LP = 1e-9  # a shadow price above this marks a binding capacity
# Residual capacity at most this (plus a relative part) counts as used up: HiGHS puts
# the flow of a saturated arc exactly on its bound, so only rounding is left over.
RESIDUAL_ABS = 1e-9
RESIDUAL_REL = 1e-12
# The second programme's answer is taken when it keeps the maximum throughput up to
# this slack (it does, on the first's optimal face; the check only guards rounding).
KEEP_REL = 1e-12
KEEP_ABS = 1e-9
LP_UNBOUNDED = 3  # scipy.optimize.linprog's status for an unbounded programme


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
    arc_group: npt.ArrayLike | None = None,
    group_demand: npt.ArrayLike | None = None,
) -> FlowNetwork:
    """Build a network; ``arcs`` is (k, 2) stage pairs, ``sinks`` the stages that
    deliver to external customers; ``nan`` demands and capacities mean unlimited;
    ``arc_per_item`` (``nan``: additive) makes the arcs' targets assemblies;
    ``arc_group`` (-1: none) makes arcs share ``group_demand``. The arcs of one
    group leave one stage (one link fanned out), which :class:`ValueError` guards."""
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

    group: IntArray | None = None
    shared: FloatArray | None = None
    if arc_group is not None:
        group = np.asarray(arc_group, dtype=np.int64).reshape(-1).copy()
        shared = per(group_demand, int(group.max(initial=-1)) + 1, np.inf)
        grouped = group >= 0
        first = np.full(shared.size, -1, dtype=np.int64)
        first[group[grouped][::-1]] = pairs[grouped, 0][::-1]
        if (first[group[grouped]] != pairs[grouped, 0]).any():
            raise ValueError("the arcs of one group must leave one stage")
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
        arc_group=group,
        group_demand=shared,
    )


@dataclass(frozen=True)
class Flow:
    """A maximum flow (of most throughput money) and what it says about every stage.
    An unbounded flow has ``throughput`` inf, names ``unlimited_path`` and leaves
    every figure computed from the flow ``nan`` (unknown)."""

    throughput: float  # items per week reaching the external customers (inf: unbounded)
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
    # Stages from the supply to a customer along which nothing limits the flow
    # (empty when throughput is bounded), and the sink at its end (-1: none).
    unlimited_path: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    unlimited_sink: int = -1
    # The solver's state a what-if on this network starts from (see max_flow).
    basis: Basis | None = field(default=None, repr=False, compare=False)

    @property
    def unbounded(self) -> bool:
        """Whether some path to a paying customer has no limit anywhere."""
        return bool(np.isinf(self.throughput))


def unlimited_path(net: FlowNetwork) -> tuple[IntArray, int]:
    """A path of stages from the supply to a sink along which no capacity, arc,
    group or sink demand sets a limit, and that sink; empty and -1 when there is none.
    An assembly is on such a path only when every one of its inputs is."""
    from scipy.sparse import csr_matrix  # here: slow import, see max_flow
    from scipy.sparse.csgraph import breadth_first_order

    n = net.n_stages
    unlimited = np.isinf(net.capacity)
    group, shared = net.groups()
    free_arc = np.isinf(net.arc_demand) & unlimited[net.arc_from] & unlimited[net.arc_to]
    grouped = group >= 0
    free_arc[grouped] &= np.isinf(shared[group[grouped]])
    fed = np.zeros(n, dtype=bool)
    fed[net.arc_to] = True
    roots = np.flatnonzero(~fed & unlimited)
    assembly = net.assembly()
    open_assembly = np.zeros(n, dtype=bool)
    root = n  # a virtual node feeding every unlimited unfed stage
    while True:
        use = free_arc & (~assembly[net.arc_to] | open_assembly[net.arc_to])
        graph = csr_matrix(
            (
                np.ones(int(use.sum()) + roots.size, dtype=np.int8),
                (
                    np.concatenate([net.arc_from[use], np.full(roots.size, root)]),
                    np.concatenate([net.arc_to[use], roots]),
                ),
            ),
            shape=(n + 1, n + 1),
        )
        order, pred = breadth_first_order(graph, root, directed=True, return_predecessors=True)
        reached = np.zeros(n + 1, dtype=bool)
        reached[order] = True
        # An assembly opens when every input arc is free and comes from a reached stage.
        input_ok = np.ones(n, dtype=bool)
        np.logical_and.at(input_ok, net.arc_to, free_arc & reached[net.arc_from])
        newly = assembly & unlimited & input_ok & ~open_assembly & fed
        if not newly.any():
            break
        open_assembly |= newly
    ends = np.flatnonzero(np.isinf(net.sink_demand) & reached[net.sink_stage])
    if ends.size == 0:
        return np.zeros(0, dtype=np.int64), -1
    sink = int(ends[0])
    path = [int(net.sink_stage[sink])]
    while pred[path[-1]] != root:
        path.append(int(pred[path[-1]]))
    return np.asarray(path[::-1], dtype=np.int64), sink


def max_flow(net: FlowNetwork, start: Flow | None = None) -> Flow:
    """Throughput, per-stage flow, the bottleneck stages, work piling up and money.

    The maximum flow of most throughput money, on exact integers by OR-Tools and
    LEMON where the network has no assembly and its figures scale to int64 (see
    :mod:`.flow_integer`), else by HiGHS's programme in floating point (exact for
    capacities and demands from 10⁻³ to 10¹² a week, never rounded up); either way
    money does not depend on how stages are numbered. An unbounded network is
    answered without solving anything (see :class:`Flow`). ``start``: today's flow
    of the same network before a what-if; on exact integers the least-cost flow
    starts from its basis (the answer is the same optimum, found sooner)."""
    arrivals, passed = _push(net)
    assembly = net.assembly()
    limited = np.isfinite(net.capacity)
    with np.errstate(invalid="ignore"):  # unlimited stages: inf - inf, masked below
        piling = np.maximum(arrivals - net.capacity, 0.0)
    if assembly.any():
        piling = np.where(assembly, _assembly_waiting(net, arrivals, passed), piling)
    growth = np.where(limited | assembly, np.nan_to_num(piling), 0.0)
    path, sink = unlimited_path(net)
    if path.size:
        return _unbounded(net, arrivals, growth, path, sink)
    if net.sink_stage.size == 0:  # nothing leaves the chain: no programme to solve
        return _still(net, arrivals, growth)
    exact = None if assembly.any() else integer_flow(net, start.basis if start else None)
    if exact is not None:
        throughput, stage_x, sink_x, cut = exact.throughput, exact.stage, exact.sink, exact.cut
    else:
        solved = _programme_flow(net, assembly)
        if solved is None:  # unbounded in a way no path from the supply shows
            path, sink = _Programme(net).gain_path()
            return _unbounded(net, arrivals, growth, path, sink)
        throughput, stage_x, sink_x, cut = solved
    stage_flow = np.minimum(np.maximum(stage_x, 0.0), net.capacity)
    delivered = np.bincount(
        net.sink_stage, weights=np.maximum(sink_x, 0.0), minlength=net.n_stages
    ).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        utilisation = np.where(limited, stage_flow / net.capacity, 0.0)
    bottlenecks = cut[np.argsort(-utilisation[cut], kind="stable")].astype(np.int64)
    if exact is not None:
        revenue, variable = exact.revenue, exact.variable_cost
    else:
        revenue = float((delivered * net.revenue_per_item).sum())
        variable = float((stage_flow * net.cost_per_item).sum())
    money = exact.net if exact is not None else revenue - variable
    return Flow(
        throughput=throughput,
        stage_flow=stage_flow,
        utilisation=utilisation,
        idle=np.where(limited, net.capacity - stage_flow, np.inf),
        bottlenecks=bottlenecks,
        demand_bound=bottlenecks.size == 0,
        arrivals=arrivals,
        inventory_growth=growth,
        delivered=delivered,
        revenue=revenue,
        variable_cost=variable,
        net=money,
        basis=exact.basis if exact is not None else None,
    )


def _programme_flow(
    net: FlowNetwork, assembly: BoolArray
) -> tuple[float, FloatArray, FloatArray, IntArray] | None:
    """The flow programme's throughput, items through every stage and along every
    sink, and the bottleneck stages (unordered); ``None`` when it is unbounded."""
    programme = _Programme(net)
    money = programme.money_objective()
    limited = np.isfinite(net.capacity)
    if assembly.any():
        # Two programmes: the maximum throughput, then the most money at it.
        first = programme.solve(programme.throughput_objective())
        if first is None:
            return None
        throughput = float(first.x[programme.sink_var].sum())
        x = first.x
        if money.any():
            keep = throughput - max(KEEP_REL * throughput, KEEP_ABS)
            second = programme.solve(money, face=first)
            if second is not None and float(second.x[programme.sink_var].sum()) >= keep:
                x = second.x
    else:
        # One programme, several times faster than two: throughput weighted so that
        # no money can buy back one item of it. An augmenting path in the residual
        # graph is simple, so one more item along it changes money by less than
        # the sum of all costs per item plus the highest revenue per item; with a
        # weight above that, the optimum is a maximum flow, and among maximum flows
        # (equal weighted throughput) the one of most money.
        weight = 1.0 + float(np.abs(net.cost_per_item).sum() + np.abs(net.revenue_per_item).max())
        first = programme.solve(money + weight * programme.throughput_objective())
        if first is None:  # pragma: no cover - unbounded networks have an unlimited path
            return None
        x = first.x
        throughput = float(x[programme.sink_var].sum())
    x = np.maximum(np.asarray(x, dtype=np.float64), 0.0)
    if assembly.any():
        shadow = -np.asarray(first.upper.marginals, dtype=np.float64)[: net.n_stages]
        cut = np.flatnonzero(limited & (shadow > TOLERANCE_LP))
    else:
        cut = programme.nearest_cut(x)
    return throughput, x[: net.n_stages], x[programme.sink_var], cut.astype(np.int64)


def _still(net: FlowNetwork, arrivals: FloatArray, growth: FloatArray) -> Flow:
    """The flow of a network without customers: nothing moves."""
    zero = np.zeros(net.n_stages)
    limited = np.isfinite(net.capacity)
    return Flow(
        throughput=0.0,
        stage_flow=zero,
        utilisation=zero,
        idle=np.where(limited, net.capacity, np.inf),
        bottlenecks=np.zeros(0, dtype=np.int64),
        demand_bound=True,
        arrivals=arrivals,
        inventory_growth=growth,
        delivered=zero,
        revenue=0.0,
        variable_cost=0.0,
        net=0.0,
    )


def _unbounded(
    net: FlowNetwork, arrivals: FloatArray, growth: FloatArray, path: IntArray, sink: int
) -> Flow:
    unknown = np.full(net.n_stages, np.nan)
    return Flow(
        throughput=np.inf,
        stage_flow=unknown,
        utilisation=unknown,
        idle=unknown,
        bottlenecks=np.zeros(0, dtype=np.int64),
        demand_bound=False,
        arrivals=arrivals,
        inventory_growth=growth,
        delivered=unknown,
        revenue=np.nan,
        variable_cost=np.nan,
        net=np.nan,
        unlimited_path=path,
        unlimited_sink=sink,
    )


class _Programme:
    """The flow as a linear programme. Variables: the items through every stage
    (bounded by its capacity), along every arc, sink and supply (bounded by their
    demands). Rows: what enters an ordinary stage goes through it, what goes through
    any stage leaves it, an assembly input is ``per_item`` times the stage's items,
    and a group's arcs share its demand."""

    def __init__(self, net: FlowNetwork) -> None:
        from scipy.sparse import coo_matrix, csr_matrix, vstack  # here: slow imports

        self.net = net
        n, k, m = net.n_stages, net.arc_from.size, net.sink_stage.size
        fed = np.zeros(n, dtype=bool)
        fed[net.arc_to] = True
        self.supplied = np.flatnonzero(~fed)
        s = self.supplied.size
        self.arc_var = n + np.arange(k)
        self.sink_var = n + k + np.arange(m)
        self.supply_var = n + k + m + np.arange(s)
        self.width = n + k + m + s
        assembly = net.assembly()
        q = net.per_item()
        stages = np.arange(n)

        def rows(r: IntArray, c: IntArray, v: FloatArray, height: int) -> csr_matrix:
            return coo_matrix((v, (r, c)), shape=(height, self.width)).tocsr()

        # Outflow: items through the stage minus its arcs and sinks out = 0.
        out_r = np.concatenate([stages, net.arc_from, net.sink_stage])
        out_c = np.concatenate([stages, self.arc_var, self.sink_var])
        out_v = np.concatenate([np.ones(n), -np.ones(k + m)])
        outflow = rows(out_r, out_c, out_v, n)
        # Inflow of ordinary stages: arcs and supply in minus items through it = 0.
        ordinary = ~assembly
        in_arc = ordinary[net.arc_to]
        in_sup = ordinary[self.supplied]
        in_r = np.concatenate([net.arc_to[in_arc], self.supplied[in_sup], stages[ordinary]])
        in_c = np.concatenate([self.arc_var[in_arc], self.supply_var[in_sup], stages[ordinary]])
        in_v = np.concatenate(
            [np.ones(int(in_arc.sum() + in_sup.sum())), -np.ones(int(ordinary.sum()))]
        )
        inflow = rows(in_r, in_c, in_v, n)[np.flatnonzero(ordinary)]
        # Assembly input a into stage t: items on a - per_item * items through t = 0.
        inputs = np.flatnonzero(~np.isnan(q))
        i = np.arange(inputs.size)
        proportion = rows(
            np.concatenate([i, i]),
            np.concatenate([self.arc_var[inputs], net.arc_to[inputs]]),
            np.concatenate([np.ones(inputs.size), -q[inputs]]),
            inputs.size,
        )
        self.a_eq = vstack([outflow, inflow, proportion]).tocsr()
        group, shared = net.groups()
        limited = np.flatnonzero(np.isfinite(shared))
        member = (group >= 0) & np.isin(group, limited)
        row_of = np.full(shared.size, -1, dtype=np.int64)
        row_of[limited] = np.arange(limited.size)
        self.a_ub = rows(
            row_of[group[member]],
            self.arc_var[member],
            np.ones(int(member.sum())),
            limited.size,
        )
        self.b_ub = shared[limited]
        self.upper = np.concatenate(
            [net.capacity, net.arc_demand, net.sink_demand, np.full(s, np.inf)]
        )

    def throughput_objective(self) -> FloatArray:
        cost = np.zeros(self.width)
        cost[self.sink_var] = -1.0
        return cost

    def money_objective(self) -> FloatArray:
        """Minus throughput money: variable cost of the items through each stage minus
        the revenue of what each sink delivers."""
        cost = np.zeros(self.width)
        cost[: self.net.n_stages] = self.net.cost_per_item
        cost[self.sink_var] = -self.net.revenue_per_item[self.net.sink_stage]
        return cost

    def solve(self, objective: FloatArray, face: Any | None = None) -> Any:
        """HiGHS's optimum (``None`` when unbounded). With ``face``, an optimum of
        the throughput programme, only over the maximum flows: its optimal face.

        That face is where complementary slackness holds with ``face``'s duals (an
        LP's optimal face, for any one dual optimum): every variable whose reduced
        cost is not zero stays at its bound, every group row with a shadow price
        stays tight. Fixing them, instead of a row keeping the throughput, lets
        HiGHS's presolve drop them; on the 20,000-unit benchmark's assemblies the
        money programme fell from 30 to 3 CPU s, to the same optimum."""
        from scipy.optimize import linprog
        from scipy.sparse import vstack

        a_ub, b_ub = self.a_ub, self.b_ub
        a_eq, b_eq = self.a_eq, np.zeros(self.a_eq.shape[0])
        bounds = np.column_stack([np.zeros(self.width), self.upper])
        if face is not None:
            at_lower = np.asarray(face.lower.marginals, dtype=np.float64) > TOLERANCE_LP
            at_upper = np.asarray(face.upper.marginals, dtype=np.float64) < -TOLERANCE_LP
            bounds[at_lower, 1] = 0.0
            bounds[at_upper, 0] = self.upper[at_upper]
            if a_ub.shape[0]:
                tight = np.abs(np.asarray(face.ineqlin.marginals)) > TOLERANCE_LP
                a_eq = vstack([a_eq, a_ub[np.flatnonzero(tight)]]).tocsr()
                b_eq = np.concatenate([b_eq, b_ub[tight]])
                a_ub, b_ub = a_ub[np.flatnonzero(~tight)], b_ub[~tight]
        solved = linprog(
            objective,
            A_ub=a_ub if a_ub.shape[0] else None,
            b_ub=b_ub if a_ub.shape[0] else None,
            A_eq=a_eq if a_eq.shape[0] else None,
            b_eq=b_eq if a_eq.shape[0] else None,
            bounds=bounds,
            method="highs",
        )
        if solved.status == LP_UNBOUNDED:
            return None
        if solved.status != 0:  # pragma: no cover - HiGHS solves every bounded instance
            raise RuntimeError(f"the flow programme could not be solved: {solved.message}")
        return solved

    def gain_path(self) -> tuple[IntArray, int]:
        """When the programme is unbounded but no path from the supply is free (see
        :func:`unlimited_path`): the stages along which items grow without limit,
        and the sink they reach; empty and -1 if the programme is bounded.

        That happens on a *gain cycle*: an assembly needing less than one item of an
        input per item, fed from a cycle through itself, makes more than it takes.
        An unbounded programme has a ray, a flow using only what nothing limits; the
        programme restricted to those variables with one item delivered, at least
        items in all (HiGHS), gives one. The path walks that flow back from its
        largest sink until a stage repeats (the cycle, named from that stage round
        to it again) or items enter, and is named forwards."""
        from scipy.optimize import linprog
        from scipy.sparse import csr_matrix, vstack

        free = np.isinf(self.upper)
        deliver = csr_matrix(
            (
                np.ones(self.sink_var.size),
                (np.zeros(self.sink_var.size, dtype=np.int64), self.sink_var),
            ),
            shape=(1, self.width),
        )
        solved = linprog(
            np.ones(self.width),
            A_ub=self.a_ub if self.a_ub.shape[0] else None,
            b_ub=np.zeros(self.a_ub.shape[0]) if self.a_ub.shape[0] else None,
            A_eq=vstack([self.a_eq, deliver]).tocsr(),
            b_eq=np.append(np.zeros(self.a_eq.shape[0]), 1.0),
            bounds=np.column_stack([np.zeros(self.width), np.where(free, np.inf, 0.0)]),
            method="highs",
        )
        if solved.status != 0:
            return np.zeros(0, dtype=np.int64), -1
        net = self.net
        x = np.asarray(solved.x, dtype=np.float64)
        sink = int(np.argmax(x[self.sink_var]))
        carried = x[self.arc_var] > RESIDUAL_ABS
        # Per stage, the input arc carrying most of this flow (-1: none, items enter).
        weight = np.where(carried, x[self.arc_var], -1.0)
        best = np.full(net.n_stages, -1.0)
        np.maximum.at(best, net.arc_to, weight)
        feeder = np.full(net.n_stages, -1, dtype=np.int64)
        arcs = np.flatnonzero(carried & (weight == best[net.arc_to]))
        feeder[net.arc_to[arcs]] = net.arc_from[arcs]
        path = [int(net.sink_stage[sink])]
        seen = {path[0]}
        while feeder[path[-1]] >= 0:
            before = int(feeder[path[-1]])
            path.append(before)
            if before in seen:
                break
            seen.add(before)
        return np.asarray(path[::-1], dtype=np.int64), sink

    def nearest_cut(self, x: FloatArray) -> IntArray:
        """Limited stages in the minimum cut nearest the supply: those whose inbox a
        breadth-first search of the residual graph of the flow ``x`` reaches and
        whose outbox it does not. Nodes: 2s and 2s + 1 a stage's two halves, 2n the
        supply, 2n + 1 the customers, 2n + 2 + g group g's shared demand."""
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import breadth_first_order

        net = self.net
        n = net.n_stages
        stages = np.arange(n)
        source, target = 2 * n, 2 * n + 1
        group, shared = net.groups()
        grouped = group >= 0
        x_arc = x[self.arc_var]
        group_flow = np.bincount(group[grouped], weights=x_arc[grouped], minlength=shared.size)
        gnode = 2 * n + 2 + group
        tail = np.concatenate(
            [
                2 * stages,
                2 * net.arc_from[grouped] + 1,  # into the group from the arcs' source
                np.where(grouped, gnode, 2 * net.arc_from + 1),
                2 * net.sink_stage + 1,
                np.full(self.supplied.size, source),
            ]
        )
        head = np.concatenate(
            [
                2 * stages + 1,
                (2 * n + 2 + np.arange(shared.size))[group[grouped]],
                2 * net.arc_to,
                np.full(net.sink_stage.size, target),
                2 * self.supplied,
            ]
        )
        caps = np.concatenate(
            [
                net.capacity,
                shared[group[grouped]],
                net.arc_demand,
                net.sink_demand,
                np.full(self.supplied.size, np.inf),
            ]
        )
        flows = np.concatenate(
            [
                x[:n],
                group_flow[group[grouped]],
                x_arc,
                x[self.sink_var],
                x[self.supply_var],
            ]
        )
        slack = RESIDUAL_ABS + RESIDUAL_REL * np.where(np.isfinite(caps), np.abs(caps), 0.0)
        forward = caps - flows > slack
        backward = flows > slack
        size = 2 * n + 2 + shared.size
        residual = csr_matrix(
            (
                np.ones(int(forward.sum() + backward.sum()), dtype=np.int8),
                (
                    np.concatenate([tail[forward], head[backward]]),
                    np.concatenate([head[forward], tail[backward]]),
                ),
            ),
            shape=(size, size),
        )
        reached = np.zeros(size, dtype=bool)
        reached[breadth_first_order(residual, source, directed=True, return_predecessors=False)] = (
            True
        )
        limited = np.isfinite(net.capacity)
        return np.flatnonzero(reached[2 * stages] & ~reached[2 * stages + 1] & limited)


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
    arc_demand = net.push_arc_demand()
    start = np.where(fed, 0.0, np.minimum(_can_take(net), _release_limit(net)))
    arrivals = start.copy()
    passed = np.zeros(net.arc_from.size)
    for _ in range(n + PUSH_ROUNDS_EXTRA):
        processed = _processed(net, arrivals, passed)
        passed = np.minimum(processed[net.arc_from] * arc_fraction, arc_demand)
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
    # On an unlimited path both are infinite: the pile is unknown (NaN), not a warning.
    with np.errstate(invalid="ignore"):
        waiting: FloatArray = np.maximum(got - used, 0.0)
    return waiting


def _arc_fraction(net: FlowNetwork) -> FloatArray:
    """The share of a stage's output each outgoing arc takes (as in :func:`push`)."""
    n = net.n_stages
    pushed = net.push_arc_demand()
    weights = np.where(np.isfinite(pushed), pushed, np.nan)
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
    arc_demand = net.push_arc_demand()
    sink_total = np.bincount(net.sink_stage, weights=net.sink_demand, minlength=n)
    for _ in range(n + PUSH_ROUNDS_EXTRA):
        onward = np.bincount(
            net.arc_from, weights=np.minimum(arc_demand, take[net.arc_to]), minlength=n
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
    demand = np.concatenate([net.push_arc_demand(), net.sink_demand])
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
    """The network with every change applied (several on one stage compound).

    Each product is taken in decimal and read back as the nearest float: +20% of 333
    is 399.6, not binary floating point's 399.59999999999997, which would take 14
    decimals and the exact integer flow out of reach (see :mod:`.flow_integer`)."""
    capacity = net.capacity.copy()
    cost = net.cost_per_item.copy()
    for c in changes:
        factor = 1 + Decimal(repr(float(c.percent))) / 100
        values = capacity if c.change is Change.CAPACITY else cost
        if np.isfinite(values[c.stage]):
            values[c.stage] = float(Decimal(repr(float(values[c.stage]))) * factor)
    return replace(net, capacity=capacity, cost_per_item=cost)
