"""The Connect capability's file checked row by row: the external customers'
outcomes per month."""

from __future__ import annotations

from collections.abc import Iterable

from valuechain.domain.bundle_cells import Plan
from valuechain.domain.bundle_schema import Row, show
from valuechain.domain.bundle_state import BundleState
from valuechain.domain.outcome import Outcome, is_period
from valuechain.domain.unit import UnitKind


class ConnectRows(BundleState):
    """The Connect capability's file checked row by row: the external customers'"""

    def outcomes(self, plan: Plan, rows: Iterable[Row]) -> None:
        """One row per external customer, month and metric."""
        label = plan.label
        units = self.ids["units"]
        problems = self.problems
        external = UnitKind.EXTERNAL_CUSTOMER.value
        seen: dict[tuple[str, str, str], int] = {}
        built = self.org_map.outcomes
        for line, values, ok in self.values("outcomes", plan, rows):
            unit_ref, period, metric, value = values
            unit = units.get(unit_ref) or self.refer("units", label, line, "unit_id", unit_ref)
            kind = self.unit_kinds.get(unit) if unit is not None else None
            if unit is not None and kind is not None and kind != external:
                problems.add(
                    label, line, "unit_id", "an external customer", f"{show(unit)}, a {kind}"
                )
                ok = False
            if isinstance(period, str) and not is_period(period.strip()):
                problems.add(label, line, "period", "a month written YYYY-MM", show(period))
                ok = False
            if unit is None or not isinstance(period, str) or not isinstance(metric, str):
                continue
            key = (unit, period.strip(), metric.strip())
            first = seen.get(key)
            if first is not None:
                problems.add(
                    label,
                    line,
                    "metric",
                    "one row per unit_id, period and metric",
                    f"{show(key[2])} of {show(unit)} in {key[1]} again (first on line {first})",
                )
                continue
            seen[key] = line
            if ok and not problems:
                built.append(Outcome(unit, key[1], key[2], float(value)))
