"""Capability 6, Flow: throughput to the paying external customers, the bottleneck,
where work piles up, and what a change of capacity or cost does (``valuechain flow``).

How the stored map becomes a flow network (the maths is in
:mod:`valuechain.analytics.flow`):

* **stages** are results; a result's ``capacity`` is items per week (none: unlimited);
* **items move** along ``consumes`` links only: when an internal unit consumes a
  finished or intermediate result, that result is an input of each of the unit's own
  finished and intermediate results, capped by the link's demand. ``adds_to`` (the
  customer improves the result itself, as an inspection does), ``depends_on`` (a
  plan, a service) and ``pays`` move no items; byproducts (reports, metrics) neither
  take nor pass items on, nor go to a paying customer; results of external
  suppliers are where items enter. A ``consumes`` link's demand caps what the
  customer takes of that result in total, however many results it makes from it;
* **items leave** along ``pays`` links to external customers, capped by the link's
  demand: throughput is what the external customers pay for;
* only stages from which items can reach a paying external customer take part.

Every number in the answer is items (or money) per week; no ``Infinity`` or ``NaN``
ever leaves this module (unlimited and unknown become ``None``).
"""

from __future__ import annotations

import math
import re
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from valuechain.analytics.flow import (
    Change,
    Flow,
    WhatIf,
    apply,
    max_flow,
    network,
    outgoing_demand,
)
from valuechain.analytics.flow_network import FlowNetwork
from valuechain.domain.link import Relation
from valuechain.domain.result import ResultKind
from valuechain.domain.unit import UnitKind
from valuechain.services.errors import Invalid, NotFound
from valuechain.services.flow_types import Delivery, FlowOut, FlowState, Money, Stage, Wasted
from valuechain.services.organisation import Chain, Valuechain
from valuechain.services.transaction import reading
from valuechain.store import organisation as store

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

CARRIES_ITEMS = Relation.CONSUMES.value
DELIVERS = Relation.PAYS.value
INTERNAL = (UnitKind.TEAM.value, UnitKind.DEPARTMENT.value)
SPEC = re.compile(
    r"^(?P<id>[^=\s]+)=(?P<sign>[+-])(?P<number>\d+(?:\.\d+)?)%(?P<what>cost|capacity)?$"
)
MIN_PERCENT = -100.0
MAX_PERCENT = 1_000_000.0
TOLERANCE = 1e-9


class InvalidWhatIf(Invalid):
    """A ``--what-if`` spec that cannot be read, or that names no stage of the flow."""


class UnknownStage(NotFound, InvalidWhatIf):
    """A what-if naming a result that does not exist (404, and a bad spec to a form)."""


@dataclass(frozen=True)
class FlowModel:
    """The flow network of one map version and how its stages map to results."""

    version: int
    net: FlowNetwork
    stage_result: IntArray  # stage -> result position
    result_stage: dict[str, int]  # result id -> stage
    step: IntArray  # steps from where items enter (for drawing the chain left to right)
    steps_to_customer: IntArray  # steps to the paying external customers
    reaches: csr_matrix  # stage -> stage arcs, to find what a bottleneck feeds
    sink_customers: list[list[str]]  # per stage, the paying external customers it serves
    sink_customer: list[str]  # per sink, its paying external customer


_CACHE: weakref.WeakKeyDictionary[Valuechain, FlowModel] = weakref.WeakKeyDictionary()
# Today's maximum flow of a model, computed once per map version: every what-if compares
# with it, so only the changed chain is solved per request.
_BASE: weakref.WeakKeyDictionary[Valuechain, tuple[FlowModel, Flow]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def flow_model(vc: Valuechain) -> FlowModel:
    """The flow network of the current map, rebuilt only when the map changes."""
    with _LOCK:
        chain = vc.chain()
        cached = _CACHE.get(vc)
        if cached is not None and cached.version == chain.version:
            return cached
        with reading(vc) as conn:
            version = store.map_version(conn, vc.org_id)
            columns = store.read_flow_columns(conn, vc.org_id)
        if version != chain.version:  # written in between: read the graph again
            chain = vc.chain()
            with reading(vc) as conn:
                columns = store.read_flow_columns(conn, vc.org_id)
        model = _build(chain, columns)
        _CACHE[vc] = model
        return model


def _build(chain: Chain, columns: store.FlowColumns) -> FlowModel:
    # Imported here: scipy.sparse is slow to import and only the flow verbs need it.
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import breadth_first_order, dijkstra

    cols, g = chain.columns, chain.graph
    n_results = g.n_results
    unit_kind = np.array(cols.unit_kinds, dtype=object)
    internal = np.isin(unit_kind, INTERNAL)
    external_customer = unit_kind == UnitKind.EXTERNAL_CUSTOMER.value
    item = np.array(columns.result_kind, dtype=object) != ResultKind.BYPRODUCT.value
    relation = np.array(cols.link_relation, dtype=object)
    link_result, link_customer = g.link_result, g.link_customer

    # Sinks: pays links from an item result (a byproduct carries none) to an external
    # customer.
    sink_link = np.flatnonzero(
        (relation == DELIVERS) & external_customer[link_customer] & item[link_result]
    )
    # Arcs: consumes links from an item result to an internal unit, fanned out to each
    # of that unit's item results (other than the consumed result itself).
    arc_link = np.flatnonzero(
        (relation == CARRIES_ITEMS) & internal[link_customer] & item[link_result]
    )
    item_results = np.flatnonzero(item)
    by_unit = np.argsort(g.result_unit[item_results], kind="stable")
    unit_results = item_results[by_unit]
    counts = np.bincount(g.result_unit[item_results], minlength=g.n_units)
    starts = np.concatenate([[0], np.cumsum(counts)])
    fan = counts[link_customer[arc_link]]
    rep_link = np.repeat(arc_link, fan)
    offsets = np.arange(rep_link.size) - np.repeat(np.cumsum(fan) - fan, fan)
    arc_to = unit_results[starts[link_customer[rep_link]] + offsets]
    arc_from = link_result[rep_link]
    own = arc_from != arc_to
    arc_from, arc_to, rep_link = arc_from[own], arc_to[own], rep_link[own]

    # Keep the stages from which items can reach a paying external customer.
    virtual = n_results
    reverse = csr_matrix(
        (
            np.ones(arc_from.size + sink_link.size, dtype=np.int8),
            (
                np.concatenate([arc_to, np.full(sink_link.size, virtual)]),
                np.concatenate([arc_from, link_result[sink_link]]),
            ),
        ),
        shape=(n_results + 1, n_results + 1),
    )
    on_chain = np.zeros(n_results + 1, dtype=bool)
    on_chain[breadth_first_order(reverse, virtual, directed=True, return_predecessors=False)] = True
    on_chain = on_chain[:n_results]
    stage_result = np.flatnonzero(on_chain).astype(np.int64)
    stage_of = np.full(n_results, -1, dtype=np.int64)
    stage_of[stage_result] = np.arange(stage_result.size)
    keep = on_chain[arc_from] & on_chain[arc_to]
    arc_from, arc_to, rep_link = stage_of[arc_from[keep]], stage_of[arc_to[keep]], rep_link[keep]
    sink_stage = stage_of[link_result[sink_link]]
    # One link fanned out to several results: its demand caps them together (a group).
    links, arc_group = np.unique(rep_link, return_inverse=True)

    net = network(
        columns.capacity[stage_result],
        np.column_stack([arc_from, arc_to]),
        sink_stage,
        sink_demand=columns.link_demand[sink_link],
        arc_group=arc_group.reshape(-1),
        group_demand=columns.link_demand[links],
        cost_per_item=columns.cost_per_item[stage_result],
        revenue_per_item=columns.revenue_per_item[stage_result],
        arc_per_item=columns.link_per_item[rep_link],
    )
    n = stage_result.size
    arcs = csr_matrix((np.ones(arc_from.size, dtype=np.int8), (arc_from, arc_to)), shape=(n, n))
    # Steps from where items enter: a breadth-first search from every unfed stage.
    fed = np.zeros(n, dtype=bool)
    fed[arc_to] = True
    entry = csr_matrix(
        (
            np.ones(int((~fed).sum()), dtype=np.int8),
            (np.full(int((~fed).sum()), n), np.flatnonzero(~fed)),
        ),
        shape=(n + 1, n + 1),
    )
    padded = csr_matrix(
        (arcs.data, arcs.indices, np.append(arcs.indptr, arcs.indptr[-1])), shape=(n + 1, n + 1)
    )
    distance = dijkstra(padded + entry, indices=n, unweighted=True)[:n] - 1
    step = np.where(np.isfinite(distance), distance, 0).astype(np.int64)
    # Steps to the paying external customers: a breadth-first search backwards.
    delivering = np.unique(sink_stage)
    exits = csr_matrix(
        (
            np.ones(delivering.size, dtype=np.int8),
            (np.full(delivering.size, n), delivering),
        ),
        shape=(n + 1, n + 1),
    )
    backwards = padded.T.tocsr() + exits
    to_customer = dijkstra(backwards, indices=n, unweighted=True)[:n] - 1
    steps_to_customer = np.where(np.isfinite(to_customer), to_customer, 0).astype(np.int64)
    customers: list[list[str]] = [[] for _ in range(n)]
    for link in sink_link:
        customers[int(stage_of[link_result[link]])].append(cols.unit_ids[int(link_customer[link])])
    return FlowModel(
        version=chain.version,
        net=net,
        stage_result=stage_result,
        result_stage={cols.result_ids[int(r)]: i for i, r in enumerate(stage_result)},
        step=step,
        steps_to_customer=steps_to_customer,
        reaches=arcs,
        sink_customers=customers,
        sink_customer=[cols.unit_ids[int(link_customer[link])] for link in sink_link],
    )


# -- what-if specs ------------------------------------------------------------------


def parse_what_if(specs: Iterable[str], vc: Valuechain) -> list[WhatIf]:
    """Read ``ID=+20%`` (capacity) and ``ID=-10%cost`` specs into changes of stages.

    Raises :class:`InvalidWhatIf` for a malformed spec or a result that takes no part
    in the flow, :class:`NotFound` for an unknown result id."""
    model = flow_model(vc)
    chain = vc.chain()
    changes: list[WhatIf] = []
    for spec in specs:
        found = SPEC.match(spec.strip())
        if found is None:
            raise InvalidWhatIf(
                f"cannot read what-if {spec!r}: write RESULT=+20% to change a capacity "
                "or RESULT=-10%cost to change the cost per item"
            )
        result_id = found["id"]
        percent = float(found["number"]) * (1 if found["sign"] == "+" else -1)
        if result_id not in chain.result_pos:
            raise UnknownStage(f"what-if {spec!r}: no result with id {result_id!r}")
        if result_id not in model.result_stage:
            raise InvalidWhatIf(
                f"what-if {spec!r}: result {result_id!r} carries no items to a paying "
                "external customer, so changing it cannot change the flow"
            )
        if not MIN_PERCENT <= percent <= MAX_PERCENT:
            raise InvalidWhatIf(f"what-if {spec!r}: a change must lie between -100% and +1000000%")
        change = Change.COST if found["what"] == "cost" else Change.CAPACITY
        changes.append(WhatIf(model.result_stage[result_id], change, percent))
    return changes


# -- the answer ---------------------------------------------------------------------


def _num(value: float) -> float | None:
    """A JSON-safe number: ``None`` for unlimited or unknown, rounded off float noise."""
    if not math.isfinite(value):
        return None
    return round(float(value), 6) + 0.0


def _money(flow: Flow) -> Money:
    return {
        "revenue": _num(flow.revenue),
        "variable_cost": _num(flow.variable_cost),
        "throughput": _num(flow.net),
    }


def _delta(before: float | None, after: float | None) -> float | None:
    """after − before, unknown when either is."""
    return None if before is None or after is None else _num(after - before)


def _downstream(model: FlowModel, stage: int) -> IntArray:
    from scipy.sparse.csgraph import breadth_first_order  # here: slow import, see _build

    order = breadth_first_order(model.reaches, stage, directed=True, return_predecessors=False)
    return np.asarray(order, dtype=np.int64)


def _lower_first(name: str) -> str:
    if len(name) > 1 and name[1].isupper():
        return name
    return name[:1].lower() + name[1:]


def _sink_demand(net: FlowNetwork) -> FloatArray:
    """Per stage what its paying external customers ask a week: ``inf`` (unlimited,
    said as ``null``) when any of them states no demand, 0 for a stage delivering to
    none. Counting an unstated demand as 0 said "demand 0" where none limits."""
    stated = np.isfinite(net.sink_demand)
    total = np.bincount(
        net.sink_stage, weights=np.where(stated, net.sink_demand, 0.0), minlength=net.n_stages
    )
    unstated = np.bincount(net.sink_stage, weights=~stated, minlength=net.n_stages) > 0
    out: FloatArray = np.where(unstated, np.inf, total).astype(np.float64)
    return out


def _state(vc: Valuechain, model: FlowModel, net: FlowNetwork, flow: Flow) -> FlowState:
    chain = vc.chain()
    cols = chain.columns
    demand = outgoing_demand(net)
    sinks = np.unique(net.sink_stage)
    sink_demand = _sink_demand(net)
    bottlenecks = [int(s) for s in flow.bottlenecks]
    assembly = net.assembly()

    def rid(stage: int) -> str:
        return cols.result_ids[int(model.stage_result[stage])]

    stages: list[Stage] = []
    for s in range(net.n_stages):
        r = int(model.stage_result[s])
        unit = int(chain.graph.result_unit[r])
        capacity = float(net.capacity[s])
        with np.errstate(divide="ignore", invalid="ignore"):
            load = demand[s] / capacity if math.isfinite(capacity) and capacity > 0 else math.nan
        stages.append(
            {
                "id": cols.result_ids[r],
                "name": cols.result_names[r],
                "unit": cols.unit_ids[unit],
                "unit_name": cols.unit_names[unit],
                "step": int(model.step[s]),
                "steps_to_customer": int(model.steps_to_customer[s]),
                "capacity": _num(capacity),
                "demand": _num(float(demand[s])),
                "flow": _num(float(flow.stage_flow[s])),
                "utilization": _num(float(flow.utilisation[s]))
                if math.isfinite(capacity)
                else None,
                "load": _num(float(load)),
                "idle": _num(float(flow.idle[s])),
                "arrivals": _num(float(flow.arrivals[s])),
                "inventory_growth": _num(float(flow.inventory_growth[s])),
                "delivered": _num(float(flow.delivered[s])),
                "cost_per_item": _num(float(net.cost_per_item[s])),
                "revenue_per_item": _num(float(net.revenue_per_item[s])),
                "bottleneck": s in bottlenecks,
                "assembly": bool(assembly[s]),
            }
        )
    deliveries: list[Delivery] = [
        {
            "id": rid(int(s)),
            "name": cols.result_names[int(model.stage_result[s])],
            "customers": model.sink_customers[int(s)],
            "demand": _num(float(sink_demand[s])),
            "delivered": _num(float(flow.delivered[s])),
        }
        for s in sinks
    ]
    total_demand = float(sink_demand.sum())
    first = bottlenecks[0] if bottlenecks else None
    return {
        "throughput": _num(flow.throughput),
        "demand": _num(total_demand),
        "demand_bound": bool(flow.demand_bound),
        "bottleneck": rid(first) if first is not None else None,
        "bottlenecks": [rid(s) for s in bottlenecks],
        "stages": stages,
        "deliveries": deliveries,
        "money": _money(flow),
        "unbounded": flow.unbounded,
        "unlimited_path": [rid(int(s)) for s in flow.unlimited_path],
        "summary": _summary(model, stages, flow, net, sink_demand, first),
    }


def _summary(
    model: FlowModel,
    stages: Sequence[Stage],
    flow: Flow,
    net: FlowNetwork,
    sink_demand: FloatArray,
    first: int | None,
) -> str:
    """One plain sentence: who limits the flow and how much reaches the customers."""
    if net.n_stages == 0 or net.sink_stage.size == 0:
        return "No result carries items to a paying external customer yet."
    if flow.unbounded:
        return _unbounded_summary(model, stages, flow)
    if first is None:
        wanted_all = float(sink_demand.sum())
        if math.isinf(wanted_all):  # a customer without a stated demand: limits elsewhere
            return (
                f"No stage limits the flow: what the units on the way take limits it; "
                f"{_fmt(flow.throughput)} items a week reach the external customers."
            )
        return (
            f"No stage limits the flow: the external customers' demand of "
            f"{_fmt(wanted_all)} a week is met."
        )
    stage = stages[first]
    reached = _downstream(model, first)
    ends = [int(s) for s in reached if sink_demand[s] > 0]
    if not ends:
        ends = [int(s) for s in np.unique(net.sink_stage)]
    delivered = float(flow.delivered[ends].sum())
    wanted = float(sink_demand[ends].sum())
    names = ", ".join(_lower_first(stages[s]["name"]) for s in ends)
    # Of an unlimited demand nothing is said: "of 0" or "of ∞" would claim a figure.
    of_wanted = f" of {_fmt(wanted)}" if math.isfinite(wanted) else ""
    headline = (
        f"{stage['unit_name']} is the bottleneck ({_lower_first(stage['name'])}, "
        f"{_fmt(float(net.capacity[first]))} a week): {_fmt(delivered)}{of_wanted} "
        f"{names} a week reach the external customers."
    )
    return headline + _all_kinds(stages, flow, net, sink_demand, ends)


def _all_kinds(
    stages: Sequence[Stage],
    flow: Flow,
    net: FlowNetwork,
    sink_demand: FloatArray,
    ends: Sequence[int],
) -> str:
    """The rest of what reaches the external customers beside the bottleneck's results,
    and the total of every kind: the same deliveries the throughput is the sum of, so
    the headline and the throughput figure add up ("" when the bottleneck feeds every
    delivery)."""
    others = [int(s) for s in np.unique(net.sink_stage) if int(s) not in set(ends)]
    if not others:
        return ""

    def of(wanted: float) -> str:
        return f" of {_fmt(wanted)}" if math.isfinite(wanted) else ""

    said = [
        f"{_fmt(float(flow.delivered[s]))}{of(float(sink_demand[s]))} "
        f"{_lower_first(stages[s]['name'])}"
        for s in others
    ]
    parts = said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1]
    return (
        f" With {parts}, {_fmt(flow.throughput)}{of(float(sink_demand.sum()))} items of "
        "all kinds a week reach them."
    )


def _unbounded_summary(model: FlowModel, stages: Sequence[Stage], flow: Flow) -> str:
    """Names the path along which nothing limits the flow; claims no figure."""
    advice = "state a capacity or a demand on it to compute throughput and money"
    if flow.unlimited_path.size == 0:
        return (
            "Throughput is unbounded: assemblies that need less than one item per item "
            f"make items in a cycle without limit; {advice}."
        )
    names = " → ".join(_lower_first(stages[int(s)]["name"]) for s in flow.unlimited_path)
    customer = model.sink_customer[flow.unlimited_sink]
    return (
        f"Throughput is unbounded: nothing limits {names} to {customer} (no capacity, "
        f"no demand anywhere on the way); {advice}."
    )


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value - round(value)) < 0.05 else f"{value:,.1f}"


def base_flow(vc: Valuechain, model: FlowModel) -> Flow:
    """Today's maximum flow of ``model``, computed once per map version."""
    with _LOCK:
        cached = _BASE.get(vc)
    if cached is not None and cached[0] is model:
        return cached[1]
    solved = max_flow(model.net)
    with _LOCK:
        _BASE[vc] = (model, solved)
    return solved


def flow(vc: Valuechain, what_if: Sequence[str] = ()) -> FlowOut:
    """The ``valuechain flow --json`` document: throughput, the bottleneck(s), every
    stage, deliveries and money per week; with ``what_if`` specs, the changed chain
    at the top level and ``what_if`` comparing it with today's."""
    with reading(vc):
        changes = parse_what_if(what_if, vc)
        model = flow_model(vc)
        before_flow = base_flow(vc, model)
        before = _state(vc, model, model.net, before_flow)
        if not changes:
            return {**before, "what_if": None}
        changed = apply(model.net, changes)
        after_flow = max_flow(changed, start=before_flow)
        after = _state(vc, model, changed, after_flow)
        chain = vc.chain()
        ids = chain.columns.result_ids

        def rid(stage: int) -> str:
            return ids[int(model.stage_result[stage])]

        changed_stages = sorted({c.stage for c in changes if c.change is Change.CAPACITY})
        wasted: list[Wasted] = []
        for s in changed_stages:
            added = float(changed.capacity[s] - model.net.capacity[s])
            used = float(after_flow.stage_flow[s] - before_flow.stage_flow[s])
            known = math.isfinite(added) and math.isfinite(used)  # nan when unbounded
            wasted.append(
                {
                    "id": rid(s),
                    "added_capacity": _num(added),
                    "used": _num(used),
                    "wasted": _num(max(added - used, 0.0)) if known else None,
                }
            )
        before_tp, after_tp = before_flow.throughput, after_flow.throughput
        money_before, money_after = before["money"], after["money"]
        return {
            **after,
            "what_if": {
                "changes": [
                    {"id": rid(c.stage), "change": c.change.value, "percent": c.percent}
                    for c in changes
                ],
                "throughput_before": _num(before_tp),
                "throughput_after": _num(after_tp),
                "throughput_change": _num(after_tp - before_tp),
                "throughput_change_pct": _num((after_tp - before_tp) / before_tp * 100)
                if before_tp > TOLERANCE
                else None,
                "bottleneck_before": before["bottleneck"],
                "bottleneck_after": after["bottleneck"],
                "new_bottleneck": after["bottleneck"]
                if after["bottleneck"] != before["bottleneck"]
                else None,
                "bottlenecks_before": before["bottlenecks"],
                "unbounded_before": before["unbounded"],
                "wasted_capacity": wasted,
                "inventory_growth": [
                    {"id": st["id"], "name": st["name"], "growth": st["inventory_growth"]}
                    for st in after["stages"]
                    if (st["inventory_growth"] or 0) > TOLERANCE
                ],
                "money": {
                    "before": money_before,
                    "after": money_after,
                    "delta": {
                        "revenue": _delta(money_before["revenue"], money_after["revenue"]),
                        "variable_cost": _delta(
                            money_before["variable_cost"], money_after["variable_cost"]
                        ),
                        "throughput": _delta(money_before["throughput"], money_after["throughput"]),
                    },
                },
                "summary_before": before["summary"],
            },
        }


__all__ = [
    "CARRIES_ITEMS",
    "DELIVERS",
    "FlowModel",
    "InvalidWhatIf",
    "flow",
    "flow_model",
    "parse_what_if",
]
