"""The data bundle of the Map capability: the check that turns its rows into an
:class:`OrganisationMap` or a list of problems.

Its files and columns are :mod:`valuechain.domain.bundle_schema` (re-exported here),
the reading of single cells :mod:`valuechain.domain.bundle_cells`, the column-wise
check of a big ``responses.csv`` :mod:`valuechain.domain.bundle_columns`.

Pure Python: the caller reads the files (CSV or XLSX) and hands over rows of text
cells with their line numbers; nothing here touches the disk or the database.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from valuechain.domain.agreement import (
    PERCENT_METRICS,
    Agreement,
    AgreementState,
    CalendarSpec,
    Commitment,
    Metric,
    obligation_lines,
)
from valuechain.domain.bundle_cells import (
    Plan,
    Problems,
    check_answer,
    day_of,
    is_zone,
    iso_day,
    moment_of,
    read_header,
    row_values,
)
from valuechain.domain.bundle_columns import EncodedTable, check_responses
from valuechain.domain.bundle_schema import (
    AGREE_TABLES,
    FORMULA_STARTS,
    LATER_TABLES,
    MAP_TABLES,
    MAX_COUNT,
    PROBLEM_CAP,
    REQUIRED_TABLES,
    SCHEMA,
    SCORE_COLUMN,
    TABLES,
    BundleProblem,
    Column,
    FileSchema,
    Row,
    UnreadableFile,
    ValueKind,
    escape_formula,
    file_name_of,
    show,
    sort_names,
    unescape_formula,
)
from valuechain.domain.calendar import CalendarError, parse_holidays, parse_hours
from valuechain.domain.commitment import RecurrenceError, check_rule
from valuechain.domain.instrument import BUILT_IN, Instrument, read_items
from valuechain.domain.link import Link, Relation
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.outcome import Outcome, is_period
from valuechain.domain.person import Person
from valuechain.domain.request import RequestRecord
from valuechain.domain.response import Answer, Response
from valuechain.domain.result import Result
from valuechain.domain.unit import Unit, UnitKind

# The bundle's files and columns stay importable from here, where callers found them.
__all__ = [
    "AGREE_TABLES",
    "FORMULA_STARTS",
    "LATER_TABLES",
    "MAP_TABLES",
    "MAX_COUNT",
    "PROBLEM_CAP",
    "REQUIRED_TABLES",
    "SCHEMA",
    "TABLES",
    "BundleCheck",
    "BundleProblem",
    "Column",
    "FileSchema",
    "Row",
    "StoredIds",
    "UnreadableFile",
    "ValueKind",
    "check_bundle",
    "escape_formula",
    "file_name_of",
    "late_campaign_problem",
    "show",
    "sort_names",
    "unescape_formula",
]


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


def late_campaign_problem(campaign: str, state: str) -> tuple[str, str]:
    """The expected and found text for responses naming a stored campaign.

    A campaign's responses all arrive with the bundle that creates it: once any
    number of a campaign can be read, a later import adding a few responses would
    move its cells by those few respondents, and the difference of two readings
    would be their answers (docs/measure.md, over time)."""
    return (
        "a campaign not stored yet (responses are imported only with the campaign they "
        "create; name a new campaign, or import the whole organisation with --replace)",
        f"{show(campaign)}, a campaign already stored ({state})",
    )


@dataclass(slots=True)
class BundleCheck:
    """The outcome of checking a bundle: the map when it is valid, else problems."""

    org_map: OrganisationMap | None
    problems: list[BundleProblem]
    more_problems: int
    rows: dict[str, int]  # data rows per table given in the bundle
    stored: dict[str, int]  # rows whose id the organisation already held

    @property
    def ok(self) -> bool:
        return self.org_map is not None


class _Bundle:
    """The state of one check: ids seen so far, objects built so far, problems."""

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
        self.ids: dict[str, dict[str, str]] = {t: {} for t in _KEYED}
        self.lines: dict[str, dict[str, int]] = {t: {} for t in _KEYED}
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
            singular = _SINGULAR[table]
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

    # -- one method per table: parse, register, refer, build ----------------------

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

    def items(self, label: str, header: Row, rows: Iterable[Row]) -> None:
        reading = read_items(header[1], rows, file=label)
        for p in reading.problems:
            self.problems.add(p.file, p.line, p.column, p.expected, p.found)
        self.rows["items"] = sum(len(i.items) for i in reading.instruments.values())
        if reading.problems:
            # Its instruments are unknown, so responses naming them are not reported.
            self.unreadable.add("items")
        self.instruments.update(reading.instruments)
        self.org_map.instruments.extend(reading.instruments.values())

    def responses(self, plan: Plan, rows: Iterable[Row]) -> None:
        """One row per item answer; the rows of one response agree on everything
        but the item. Scores and expectations lie on the item's scale."""
        label = plan.label
        units = self.ids["units"]
        problems = self.problems
        if not plan.present[plan.columns.index(SCORE_COLUMN)]:
            problems.add(label, 1, "score", "a column score", "no such column")
        built: dict[str, Response] = {}
        first: dict[str, tuple[int, tuple[object, ...]]] = {}
        answered: set[tuple[str, str]] = set()
        late: set[str] = set()  # stored campaigns named, each reported at its first row
        for line, values, ok in self.values("responses", plan, rows):
            rid, campaign, key, rater_ref, rated_ref, at, item_key, expect, score, comment = values
            state = self.stored_campaigns.get(campaign) if isinstance(campaign, str) else None
            if state is not None:
                ok = False
                if campaign not in late:
                    late.add(campaign)
                    problems.add(label, line, "campaign", *late_campaign_problem(campaign, state))
            rater = units.get(rater_ref) or self.refer("units", label, line, "rater_id", rater_ref)
            rated = units.get(rated_ref) or self.refer("units", label, line, "rated_id", rated_ref)
            if rater is not None and rater == rated:
                problems.add(label, line, "rated_id", "a unit other than rater_id", show(rated))
                ok = False
            day = day_of(at) if isinstance(at, str) else None
            if isinstance(at, str) and day is None:
                problems.add(label, line, "submitted_at", "an ISO 8601 date or time", show(at))
                ok = False
            instrument = self.instruments.get(key) or BUILT_IN.get(key) if key else None
            if isinstance(key, str) and instrument is None:
                ok = False
                if "items" in self.unreadable:
                    continue
                problems.add(
                    label,
                    line,
                    "instrument",
                    "a built-in instrument or one defined in items.csv",
                    show(key),
                )
            item = None
            if instrument is not None and isinstance(item_key, str):
                try:
                    item = instrument.item(item_key)
                except KeyError:
                    problems.add(
                        label, line, "item", f"an item of instrument {key}", show(item_key)
                    )
                    ok = False
            if item is not None:
                ok = check_answer(label, line, item, score, expect, comment, problems) and ok
            if not isinstance(rid, str):
                continue
            header = (campaign, key, rater, rated, day)
            seen = first.get(rid)
            if seen is None:
                first[rid] = (line, header)
            elif seen[1] != header:
                problems.add(
                    label,
                    line,
                    None,
                    f"the campaign, instrument, rater_id, rated_id and day of line {seen[0]}, "
                    f"the first row of response {show(rid)}",
                    "different values",
                )
                ok = False
            if isinstance(item_key, str):
                size = len(answered)
                answered.add((rid, item_key))
                if len(answered) == size:
                    problems.add(
                        label, line, "item", f"each item once in response {show(rid)}", "a repeat"
                    )
                    ok = False
            if not ok or problems or item is None or day is None:
                continue
            response = built.get(rid)
            if response is None:
                response = built[rid] = Response(rid, campaign, key, rater, rated, day)  # type: ignore[arg-type]
            if score is not None:
                response.answers.append(Answer(item.key, item.dimension, score, expect))
            if comment is not None:
                response.comments.append((item.key, comment))
        self.org_map.responses.extend(built.values())

    def responses_by_column(self, plan: Plan, table: EncodedTable | None) -> bool:
        """Take the responses from their columns when every row is valid; ``False``
        sends the caller to :meth:`responses`, which locates every problem."""
        if table is None or self.problems:
            return False
        units = self.ids["units"]
        stored = self.stored_ids["units"]
        trusting = "units" in self.unreadable

        def unit(text: str) -> str | None:
            found = units.get(text)
            if found is None and (text in stored or trusting):
                return text
            return found

        def instrument(key: str) -> Instrument | None:
            return self.instruments.get(key) or BUILT_IN.get(key)

        columns = check_responses(table, plan, unit, instrument, self.stored_campaigns)
        if columns is None:
            return False
        self.rows["responses"] = table.rows
        self.org_map.response_columns = columns
        return True

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

    # -- Agree ---------------------------------------------------------------------

    def calendars(self, plan: Plan, rows: Iterable[Row]) -> None:
        stored = self.stored_ids["calendars"]
        label = plan.label
        for line, values, ok in self.values("calendars", plan, rows):
            name, zone, hours, holidays = values
            key = self.register("calendars", label, line, name, "calendar", "name")
            if isinstance(zone, str) and not is_zone(zone.strip()):
                self.problems.add(
                    label,
                    line,
                    "timezone",
                    "an IANA time zone such as Europe/Amsterdam",
                    show(zone),
                )
                ok = False
            for column, text, parse in (
                ("hours", hours, parse_hours),
                ("holidays", holidays, parse_holidays),
            ):
                if isinstance(text, str):
                    try:
                        parse(text)
                    except CalendarError as error:
                        expected, _, found = (
                            str(error).removeprefix("expected ").partition("; found ")
                        )
                        self.problems.add(label, line, column, expected, found or show(text))
                        ok = False
            if key is None or not ok or self.problems:
                continue
            self.stored["calendars"] += key in stored
            self.org_map.calendars.append(CalendarSpec(key, zone.strip(), hours.strip(), holidays))

    def agreements(self, plan: Plan, rows: Iterable[Row]) -> None:
        """One row per metric; the rows of one agreement agree on everything but the
        metric and its target, and name each metric once."""
        stored = self.stored_ids["agreements"]
        label = plan.label
        units, results, calendars = self.ids["units"], self.ids["results"], self.ids["calendars"]
        ids, lines = self.ids["agreements"], self.lines["agreements"]
        problems = self.problems
        built: dict[str, Agreement] = {}
        first: dict[str, tuple[int, tuple[object, ...]]] = {}
        metrics: set[tuple[str, object]] = set()
        for line, values, ok in self.values("agreements", plan, rows):
            (
                aid,
                result_ref,
                customer_ref,
                metric,
                target,
                cal_ref,
                review,
                channel,
                cadence,
                state,
                obligations,
                margin,
                rule,
            ) = values
            result = results.get(result_ref) or self.refer(
                "results", label, line, "result_id", result_ref
            )
            customer = units.get(customer_ref) or self.refer(
                "units", label, line, "customer_id", customer_ref
            )
            calendar = None
            if cal_ref is not None:
                calendar = calendars.get(cal_ref) or self.refer(
                    "calendars", label, line, "calendar", cal_ref
                )
                ok = ok and calendar is not None
            if result is None or customer is None:
                ok = False
            elif self.producer.get(result) == customer:
                problems.add(
                    label,
                    line,
                    "customer_id",
                    "a unit other than the result's producer",
                    show(customer),
                )
                ok = False
            if isinstance(target, float) and metric in PERCENT_METRICS and target > 100:
                problems.add(label, line, "target", "a percentage from 0 to 100", f"{target:g}")
                ok = False
            day = None
            if isinstance(review, str):
                day = iso_day(review)
                if day is None:
                    problems.add(label, line, "review_on", "an ISO 8601 date", show(review))
                    ok = False
            if isinstance(rule, str):
                try:
                    check_rule(rule)
                except RecurrenceError:
                    problems.add(
                        label,
                        line,
                        "deliverable_rrule",
                        "an iCalendar RRULE such as FREQ=WEEKLY;BYDAY=MO;BYHOUR=10",
                        show(rule),
                    )
                    ok = False
            if not isinstance(aid, str):
                continue
            if aid not in ids:
                ids[aid] = aid
                lines[aid] = line
            header = (
                result,
                customer,
                calendar,
                day,
                channel,
                cadence,
                state,
                obligations,
                margin,
                rule,
            )
            seen = first.get(aid)
            if seen is None:
                first[aid] = (line, header)
            elif _differs(seen[1], header):
                problems.add(
                    label,
                    line,
                    None,
                    f"the result_id and customer_id of line {seen[0]}, the first row of "
                    f"agreement {show(aid)}, and its other values or empty cells",
                    "different values",
                )
                ok = False
            if metric is not None:
                size = len(metrics)
                metrics.add((aid, metric))
                if len(metrics) == size:
                    problems.add(
                        label,
                        line,
                        "metric",
                        f"each metric once in agreement {show(aid)}",
                        f"{metric} again",
                    )
                    ok = False
            if not ok or problems or result is None or customer is None:
                continue
            agreement = built.get(aid)
            if agreement is None:
                self.stored["agreements"] += aid in stored
                agreement = built[aid] = Agreement(
                    aid,
                    result,
                    customer,
                    calendar=calendar,
                    review_on=day,
                    channel=channel,
                    cadence=cadence,
                    state=state or AgreementState.AGREED,
                    obligations=obligation_lines(obligations),
                    exceed_margin_hours=margin,
                    deliverable_rrule=rule.strip() if isinstance(rule, str) else None,
                )
            agreement.targets[Metric(metric)] = target
        self.org_map.agreements.extend(built.values())

    def commitments(self, plan: Plan, rows: Iterable[Row]) -> None:
        """One row per agreement and due time."""
        label = plan.label
        agreements = self.ids["agreements"]
        problems = self.problems
        seen: dict[tuple[str, datetime], int] = {}
        for line, values, ok in self.values("commitments", plan, rows):
            agreement_ref, *times = values
            agreement = agreements.get(agreement_ref) or self.refer(
                "agreements", label, line, "agreement_id", agreement_ref
            )
            moments: list[datetime | None] = []
            for column, text in zip(("due_at", "delivered_at", "warned_at"), times, strict=True):
                moment = moment_of(text) if isinstance(text, str) else None
                if isinstance(text, str) and moment is None:
                    problems.add(label, line, column, "an ISO 8601 date and time", show(text))
                    ok = False
                moments.append(moment)
            due, delivered, warned = moments
            if agreement is None or due is None:
                continue
            first = seen.setdefault((agreement, due), line)
            if first != line:
                problems.add(
                    label,
                    line,
                    "due_at",
                    f"each due time once per agreement (first on line {first})",
                    "a repeat",
                )
                ok = False
            if ok and not problems:
                self.org_map.commitments.append(Commitment(agreement, due, delivered, warned))

    def requests(self, plan: Plan, rows: Iterable[Row]) -> None:
        """One row per request between two units of the map (or the bundle); times
        in order; thanked only once resolved."""
        label = plan.label
        units = self.ids["units"]
        problems = self.problems
        append = self.org_map.requests.append
        for line, values, ok in self.values("requests", plan, rows):
            rid, customer_ref, provider_ref, *texts, priority, category, thanked = values
            request_id = self.register("requests", label, line, rid, "request")
            customer = units.get(customer_ref) or self.refer(
                "units", label, line, "customer_id", customer_ref
            )
            provider = units.get(provider_ref) or self.refer(
                "units", label, line, "provider_id", provider_ref
            )
            moments: list[datetime | None] = []
            for column, text in zip(_REQUEST_TIMES, texts, strict=True):
                moment = moment_of(text) if isinstance(text, str) else None
                if isinstance(text, str) and moment is None:
                    problems.add(label, line, column, "an ISO 8601 date and time", show(text))
                    ok = False
                moments.append(moment)
            created, first, resolved = moments
            for column, moment, text in zip(
                _REQUEST_TIMES[1:], moments[1:], texts[1:], strict=True
            ):
                if moment is not None and created is not None and moment < created:
                    problems.add(label, line, column, "a time not before created_at", show(text))
                    ok = False
            if thanked is not None and (thanked > 1 or (thanked == 1 and resolved is None)):
                problems.add(
                    label, line, "thanked", "0, or 1 for a resolved request", show(str(thanked))
                )
                ok = False
            if customer is not None and customer == provider:
                problems.add(
                    label, line, "provider_id", "a unit other than the customer", show(provider)
                )
                ok = False
            if request_id is None or customer is None or provider is None or created is None:
                continue
            if ok and not problems:
                append(
                    RequestRecord(
                        request_id,
                        customer,
                        provider,
                        created,
                        first,
                        resolved,
                        priority,
                        category,
                        thanked == 1,
                    )
                )


_REQUEST_TIMES = ("created_at", "first_response_at", "resolved_at")


def _differs(first: tuple[object, ...], later: tuple[object, ...]) -> bool:
    """A later row of an agreement names the same result and customer as its first row;
    its other agreement-wide cells are empty or equal to the first row's."""
    if first[:2] != later[:2]:
        return True
    return any(b is not None and a != b for a, b in zip(first[2:], later[2:], strict=True))


_KEYED = ("units", "results", "people", "calendars", "agreements", "requests")
_SINGULAR = {
    "units": "unit",
    "results": "result",
    "people": "person",
    "calendars": "calendar",
    "agreements": "agreement",
    "requests": "request",
}


def check_bundle(
    names: Iterable[str],
    open_rows: Callable[[str], Iterable[Row]],
    *,
    sheets: bool = False,
    stored: StoredIds | None = None,
    replace: bool = False,
    cap: int = PROBLEM_CAP,
    columns: Callable[[str], EncodedTable | None] | None = None,
) -> BundleCheck:
    """Check a whole bundle and build its map.

    ``names`` are the bundle's file names (``units.csv``) or, with ``sheets``, its
    sheet names (``units``); ``open_rows(name)`` gives that file's rows, header first,
    and may raise :class:`UnreadableFile`. References may point to ids in the bundle
    or, unless ``replace``, to ids in ``stored``. Every row is read once; the first
    ``cap`` problems are returned in file and line order and the rest counted. The
    map is returned only when there is no problem at all. ``columns(name)``, when
    given, reads ``responses.csv`` column-wise (``None`` when it cannot): a valid
    file is then checked by column, anything else row by row.
    """
    found, name_problems = sort_names(names, sheets=sheets)
    bundle = _Bundle(stored or StoredIds(), replace, sheets, cap)
    for problem in name_problems:
        bundle.problems.add(
            problem.file, problem.line, problem.column, problem.expected, problem.found
        )
    steps: dict[str, Callable[[Plan, Iterable[Row]], None]] = {
        "units": bundle.units,
        "results": bundle.results,
        "links": bundle.links,
        "people": bundle.people,
        "responses": bundle.responses,
        "outcomes": bundle.outcomes,
        "calendars": bundle.calendars,
        "agreements": bundle.agreements,
        "commitments": bundle.commitments,
        "requests": bundle.requests,
    }
    for table in TABLES:
        name = found.get(table)
        if name is None:
            continue
        bundle.labels[table] = name
        try:
            rows = iter(open_rows(name))
            header = next(rows, None)
            if header is None:
                bundle.problems.add(name, 1, None, "a header row", "an empty file")
                bundle.unreadable.add(table)
                continue
            if table == "items":
                if not sheets:
                    rows = ((n, [unescape_formula(c) for c in cells]) for n, cells in rows)
                bundle.items(name, header, rows)
                continue
            plan = read_header(SCHEMA[table], name, header, bundle.problems, csv=not sheets)
            if plan is None:
                bundle.unreadable.add(table)
                continue
            if (
                table == "responses"
                and columns is not None
                and not bundle.problems
                and bundle.responses_by_column(plan, columns(name))
            ):
                continue
            steps[table](plan, rows)
        except UnreadableFile as error:
            bundle.problems.add(name, error.line, None, error.expected, error.found)
            bundle.unreadable.add(table)
        finally:
            if table == "units":
                bundle.check_parents()
    if not replace:
        bundle.check_stored_emails()
    problems = bundle.problems
    order = {name: i for i, name in enumerate(bundle.labels.values())}
    kept = sorted(problems.kept, key=lambda p: (order.get(p.file, -1), p.line or 0))
    return BundleCheck(
        org_map=None if problems else bundle.org_map,
        problems=kept,
        more_problems=problems.more,
        rows=bundle.rows,
        stored=bundle.stored,
    )
