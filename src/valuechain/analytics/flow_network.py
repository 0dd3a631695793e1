"""The flow network: stages, arcs and sinks as arrays (see :mod:`valuechain.analytics.flow`
for the model), on its own so both solvers (``flow``, ``flow_integer``) read it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class FlowNetwork:
    """Stages (results) with capacity and money per item; arcs between stages and
    sinks to external customers, each with an optional weekly demand (``inf``: none);
    arcs of one group (``arc_group`` >= 0) share ``group_demand`` of that group."""

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
    # Per arc, the group whose demand it shares (-1: none); per group, that demand.
    arc_group: IntArray | None = None
    group_demand: FloatArray | None = None

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

    def groups(self) -> tuple[IntArray, FloatArray]:
        """Per arc its group (-1: none) and per group its shared weekly demand."""
        if self.arc_group is None or self.group_demand is None:
            return np.full(self.arc_from.size, -1, dtype=np.int64), np.zeros(0)
        return self.arc_group, self.group_demand

    def push_arc_demand(self) -> FloatArray:
        """Per arc the demand work is pushed against: its own, and of a group's
        demand an equal share per arc (the customer splits what it takes evenly)."""
        group, demand = self.groups()
        grouped = group >= 0
        if not grouped.any():
            return self.arc_demand
        size = np.bincount(group[grouped], minlength=demand.size)
        share = np.full(self.arc_from.size, np.inf)
        share[grouped] = demand[group[grouped]] / size[group[grouped]]
        out: FloatArray = np.minimum(self.arc_demand, share)
        return out
