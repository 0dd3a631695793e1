"""The state of one bundle check, shared by the per-capability row checks: what the
organisation already holds (:class:`StoredIds`), the ids and objects seen so far, the
problems, and how a row registers its id and refers to another row's."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from valuechain.domain.bundle_cells import Plan, Problems, row_values
from valuechain.domain.bundle_schema import TABLES, Row, file_name_of, show
from valuechain.domain.instrument import Instrument
from valuechain.domain.organisation import OrganisationMap


@dataclass(frozen=True, slots=True)
class StoredIds:
    """What the organisation already holds that a bundle may refer to."""

    units: Collection[str] = frozenset()
    results: Collection[str] = frozenset()
    people: Collection[str] = frozenset()
    emails: Mapping[str, str] = field(default_factory=dict)  # email -> person id
    instruments: Mapping[str, Instrument] = field(default_factory=dict)  # custom ones
    unit_kinds: Mapping[str, str] = field(default_factory=dict)  # unit id -> kind
    calendars: Collection[str] = frozenset()
    agreements: Collection[str] = frozenset()
    #: Stored campaigns (id -> state): responses may not be added to any of them.
    campaigns: Mapping[str, str] = field(default_factory=dict)
    unit_parents: Mapping[str, str] = field(default_factory=dict)  # unit id -> parent id


KEYED = ("units", "results", "people", "calendars", "agreements", "requests")
SINGULAR = {
    "units": "unit",
    "results": "result",
    "people": "person",
    "calendars": "calendar",
    "agreements": "agreement",
    "requests": "request",
}


class BundleState:
    """The state of one check: ids seen so far, objects built so far, problems; and
    the reading, registering and referring every table's rows share."""

    def __init__(self, stored: StoredIds, replace: bool, sheets: bool, cap: int) -> None:
        self.problems = Problems(cap)
        self.replace = replace
        empty: frozenset[str] = frozenset()
        # With replace the stored organisation goes away, so nothing may refer to it.
        self.stored_ids: dict[str, Collection[str]] = {
            "units": empty if replace else stored.units,
            "results": empty if replace else stored.results,
            "people": empty if replace else stored.people,
            "calendars": empty if replace else stored.calendars,
            "agreements": empty if replace else stored.agreements,
        }
        self.stored_emails: Mapping[str, str] = {} if replace else stored.emails
        self.stored_campaigns: Mapping[str, str] = {} if replace else stored.campaigns
        self.stored_parents: Mapping[str, str] = {} if replace else stored.unit_parents
        self.instruments: dict[str, Instrument] = {} if replace else dict(stored.instruments)
        # Kinds of the units the bundle and the organisation hold (outcomes need them).
        self.unit_kinds: dict[str, str] = {} if replace else dict(stored.unit_kinds)
        self.labels = {t: file_name_of(t, sheets=sheets) for t in TABLES}
        self.unreadable: set[str] = set()  # tables whose ids are not all known
        # Ids seen per table, each mapped to itself: a reference then uses the string
        # of the referenced row, so a million links share a few hundred thousand id
        # strings instead of holding two million copies.
        self.ids: dict[str, dict[str, str]] = {t: {} for t in KEYED}
        self.lines: dict[str, dict[str, int]] = {t: {} for t in KEYED}
        self.producer: dict[str, str] = {}  # result id -> unit id, for results in the bundle
        self.org_map = OrganisationMap()
        self.rows = dict.fromkeys(TABLES, 0)
        self.stored = dict.fromkeys(TABLES, 0)
        self.pending_parents: list[tuple[int, str, str]] = []  # (line, unit id, parent id)
        self.pending_emails: list[tuple[int, str, str]] = []  # (line, email, stored owner)

    def values(
        self, table: str, plan: Plan, rows: Iterable[Row]
    ) -> Iterator[tuple[int, list[Any], bool]]:
        return row_values(plan, rows, self.problems, self.rows, table)

    def unknown(self, table: str) -> str:
        """What a reference to ``table`` must name, in words for a problem message."""
        if table == "calendars":
            where = f"the name of a calendar in {self.labels[table]}"
        else:
            singular = SINGULAR[table]
            where = (
                f"the id of a{'n' if singular[0] == 'a' else ''} {singular} in {self.labels[table]}"
            )
        return where if self.replace else f"{where} or already stored"

    def refer(self, table: str, label: str, line: int, column: str, value: object) -> str | None:
        """The id ``value`` names in ``table``, or ``None`` (and a problem) when neither
        the bundle nor the organisation holds it. Callers try ``self.ids`` first."""
        if not isinstance(value, str):
            return None
        found = self.ids[table].get(value)
        if found is not None:
            return found
        if value in self.stored_ids[table] or table in self.unreadable:
            return value
        self.problems.add(label, line, column, self.unknown(table), show(value))
        return None

    def register(
        self, table: str, label: str, line: int, key: object, what: str, column: str = "id"
    ) -> str | None:
        """Record a row's id; a second row with the same id is a problem."""
        if not isinstance(key, str):
            return None
        ids = self.ids[table]
        if key in ids:
            first = self.lines[table][key]
            self.problems.add(
                label,
                line,
                column,
                f"a {what} {column} not used before",
                f"{show(key)} again (first on line {first})",
            )
            return None
        ids[key] = key
        self.lines[table][key] = line
        return key
