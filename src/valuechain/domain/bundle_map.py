"""The Map capability's files checked row by row: units (their parents, without
cycles), results, links and people (their emails, unique)."""

from __future__ import annotations

from collections.abc import Iterable

from valuechain.domain.bundle_cells import Plan
from valuechain.domain.bundle_schema import Row, show
from valuechain.domain.bundle_state import BundleState
from valuechain.domain.link import Link, Relation
from valuechain.domain.person import Person
from valuechain.domain.result import Result
from valuechain.domain.unit import Unit


class MapRows(BundleState):
    """The Map capability's files checked row by row: units (their parents, without"""

    def units(self, plan: Plan, rows: Iterable[Row]) -> None:
        stored = self.stored_ids["units"]
        built = self.org_map.units
        for line, values, ok in self.values("units", plan, rows):
            uid, name, kind, parent, headcount = values
            unit_id = self.register("units", plan.label, line, uid, "unit")
            if unit_id is not None and kind is not None:
                self.unit_kinds[unit_id] = kind.value
            if unit_id is not None and isinstance(parent, str):
                self.pending_parents.append((line, unit_id, parent))
            if unit_id is None or not ok or self.problems:
                continue
            self.stored["units"] += unit_id in stored
            built.append(Unit(unit_id, name, kind, parent, headcount))

    def check_parents(self) -> None:
        """Parents may come after their children in the file, so they are checked last."""
        label = self.labels["units"]
        for line, uid, parent in self.pending_parents:
            if parent == uid:
                self.problems.add(
                    label,
                    line,
                    "parent_id",
                    "another unit's id",
                    f"{show(parent)}, the unit itself",
                )
            else:
                self.refer("units", label, line, "parent_id", parent)
        self.check_parent_cycles()

    def check_parent_cycles(self) -> None:
        """No unit may be its own ancestor, through any number of parents: the bundle's
        parents and, for the units the bundle does not rewrite, the stored ones. Each
        cycle is one problem, on the line of its first unit in the file."""
        label = self.labels["units"]
        in_bundle = self.ids["units"]
        parents = {u: p for u, p in self.stored_parents.items() if u not in in_bundle}
        line_of: dict[str, int] = {}
        for line, uid, parent in self.pending_parents:
            if parent != uid:  # a self-parent is reported on its own
                parents[uid] = parent
                line_of.setdefault(uid, line)
        walk_of: dict[str, int] = {}  # unit -> the walk that first reached it
        for walk, (_line, start, _parent) in enumerate(self.pending_parents):
            path: list[str] = []
            node: str | None = start
            while node is not None and node not in walk_of:
                walk_of[node] = walk
                path.append(node)
                node = parents.get(node)
            if node is None or walk_of[node] != walk:
                continue  # a root, or a chain already walked
            cycle = path[path.index(node) :]
            if not any(u in line_of for u in cycle):
                continue  # stored before this import; not the bundle's doing
            first = min((u for u in cycle if u in line_of), key=line_of.__getitem__)
            at = cycle.index(first)
            ring = [*cycle[at:], *cycle[:at], first]
            self.problems.add(
                label,
                line_of[first],
                "parent_id",
                "a parent that is not the unit itself or below it (no cycle of parents)",
                "a cycle " + " → ".join(show(u) for u in ring),
            )

    def results(self, plan: Plan, rows: Iterable[Row]) -> None:
        stored = self.stored_ids["results"]
        units = self.ids["units"]
        built = self.org_map.results
        label = plan.label
        for line, values, ok in self.values("results", plan, rows):
            rid, unit_ref, name, kind, capacity, cost, revenue = values
            result_id = self.register("results", label, line, rid, "result")
            unit = units.get(unit_ref)
            if unit is None:
                unit = self.refer("units", label, line, "unit_id", unit_ref)
            if result_id is not None and unit is not None:
                self.producer[result_id] = unit
            if result_id is None or unit is None or not ok or self.problems:
                continue
            self.stored["results"] += result_id in stored
            built.append(Result(result_id, unit, name, kind, capacity, cost, revenue))

    def links(self, plan: Plan, rows: Iterable[Row]) -> None:
        # Links are the big table (a million rows): the common case is two dict
        # lookups, one set insertion and one object per row.
        seen: set[tuple[str, str, object]] = set()
        label = plan.label
        units = self.ids["units"]
        results = self.ids["results"]
        append = self.org_map.links.append
        problems = self.problems
        for line, values, ok in self.values("links", plan, rows):
            result_ref, customer_ref, relation, demand, per_item = values
            # Only rows with a per_item pay for the check (a million links have none).
            if (
                per_item is not None
                and relation is not None
                and not (per_item > 0 and relation is Relation.CONSUMES)
            ):
                problems.add(
                    label,
                    line,
                    "per_item",
                    "an empty cell, or a number above 0 on a consumes link",
                    f"{per_item:g} on a {relation.value} link",
                )
                ok = False
            result = results.get(result_ref)
            if result is None:
                result = self.refer("results", label, line, "result_id", result_ref)
            customer = units.get(customer_ref)
            if customer is None:
                customer = self.refer("units", label, line, "customer_id", customer_ref)
            if result is None or customer is None or relation is None:
                continue
            size = len(seen)
            seen.add((result, customer, relation))
            if len(seen) == size:
                problems.add(
                    label,
                    line,
                    "relation",
                    "one row per result_id, customer_id and relation",
                    f"a second {show(customer)} {relation} {show(result)} link",
                )
            elif ok and not problems:
                append(Link(result, customer, relation, demand, per_item))

    def people(self, plan: Plan, rows: Iterable[Row]) -> None:
        stored = self.stored_ids["people"]
        units = self.ids["units"]
        built = self.org_map.people
        label = plan.label
        emails: dict[str, int] = {}
        for line, values, ok in self.values("people", plan, rows):
            pid, name, email, unit_ref, role = values
            person_id = self.register("people", label, line, pid, "person")
            unit = units.get(unit_ref)
            if unit is None:
                unit = self.refer("units", label, line, "unit_id", unit_ref)
            if isinstance(email, str):
                first = emails.get(email)
                if first is not None:
                    self.problems.add(
                        label,
                        line,
                        "email",
                        "an email no other person in the bundle has",
                        f"{show(email)} again (first on line {first})",
                    )
                    ok = False
                else:
                    emails[email] = line
                owner = self.stored_emails.get(email)
                if person_id is not None and owner is not None and owner != person_id:
                    self.pending_emails.append((line, email, owner))
            if person_id is None or unit is None or not ok or self.problems:
                continue
            self.stored["people"] += person_id in stored
            built.append(Person(person_id, name, email, unit, role))

    def check_stored_emails(self) -> None:
        """A stored person keeps their email unless the bundle rewrites that person."""
        label = self.labels["people"]
        in_bundle = self.ids["people"]
        for line, email, owner in self.pending_emails:
            if owner not in in_bundle:
                self.problems.add(
                    label,
                    line,
                    "email",
                    "an email no other person has",
                    f"{show(email)}, the email of stored person {show(owner)}",
                )
