"""The data bundle of the Map capability: which files and columns it has, and the
checks that turn its rows into an :class:`OrganisationMap` or a list of problems.

Pure Python: the caller reads the files (CSV or XLSX) and hands over rows of text
cells with their line numbers; nothing here touches the disk or the database.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Any

from valuechain.domain.agreement import (
    PERCENT_METRICS,
    Agreement,
    AgreementState,
    CalendarSpec,
    Commitment,
    Metric,
    obligation_lines,
)
from valuechain.domain.calendar import CalendarError, parse_holidays, parse_hours
from valuechain.domain.commitment import RecurrenceError, check_rule
from valuechain.domain.link import Link, Relation
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.outcome import Outcome, is_period
from valuechain.domain.person import Person, Role
from valuechain.domain.request import Priority, RequestRecord
from valuechain.domain.response import Answer, Response
from valuechain.domain.result import Result, ResultKind
from valuechain.domain.unit import Unit, UnitKind

if TYPE_CHECKING:  # instrument imports this module
    from valuechain.domain.bundle_columns import EncodedTable
    from valuechain.domain.instrument import Instrument

#: The tables the importer reads, in the order they are checked: every table refers
#: only to tables before it (apart from ``units.parent_id``), so references are
#: resolved in the same pass that parses a row. ``items`` and ``responses`` belong
#: to the Measure capability, ``outcomes`` to Connect, ``calendars``, ``agreements`` and
#: ``commitments`` to Agree.
TABLES: tuple[str, ...] = (
    "units",
    "results",
    "links",
    "people",
    "items",
    "responses",
    "outcomes",
    "calendars",
    "agreements",
    "commitments",
    "requests",
)
#: The tables of the Agree capability (export writes them when the organisation has any).
AGREE_TABLES: tuple[str, ...] = ("calendars", "agreements", "commitments")
#: The tables of the Map capability (what ``export`` writes).
MAP_TABLES: tuple[str, ...] = ("units", "results", "links", "people")
REQUIRED_TABLES: frozenset[str] = frozenset({"units"})

#: Files of the bundle that later capabilities own, with the capability's name (none
#: left: every file of PRODUCT.md's bundle is imported; kept for the next capability).
LATER_TABLES: Mapping[str, str] = {}

#: How many problems a check reports in full; the rest are only counted.
PROBLEM_CAP = 200

Row = tuple[int, Sequence[str]]
"""One row as read: its line (1-based, the header is line 1) and its cells as text."""


MAX_COUNT = 2**31 - 1  # the largest count the tables store (INTEGER on PostgreSQL)


class ValueKind(Enum):
    """How a cell's text becomes a value."""

    TEXT = "text"
    ENUM = "enum"
    NUMBER = "number"  # any finite float
    AMOUNT = "amount"  # a finite float of 0 or more
    COUNT = "count"  # a whole number of 0 or more


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a bundle file."""

    name: str
    required: bool
    kind: ValueKind = ValueKind.TEXT
    choices: type[StrEnum] | None = None
    refers_to: str | None = None  # the table whose ids this column holds
    meaning: str = ""

    @property
    def expected(self) -> str:
        """What a valid cell holds, in words for a problem message."""
        if self.choices is not None:
            return "one of " + ", ".join(c.value for c in self.choices)
        return {
            ValueKind.TEXT: "a value",
            ValueKind.ENUM: "a value",
            ValueKind.NUMBER: "a number",
            ValueKind.AMOUNT: "a number of 0 or more",
            ValueKind.COUNT: f"a whole number from 0 to {MAX_COUNT:,}",
        }[self.kind]


@dataclass(frozen=True, slots=True)
class FileSchema:
    """One file (CSV) or sheet (XLSX) of the bundle."""

    table: str
    columns: tuple[Column, ...]
    meaning: str = ""

    @property
    def file_name(self) -> str:
        return f"{self.table}.csv"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


SCHEMA: Mapping[str, FileSchema] = {
    "units": FileSchema(
        "units",
        (
            Column("id", True, meaning="the unit's id"),
            Column("name", True),
            Column("kind", True, ValueKind.ENUM, UnitKind),
            Column("parent_id", False, refers_to="units", meaning="the unit it belongs to"),
            Column("headcount", False, ValueKind.COUNT, meaning="people in the unit"),
        ),
        "teams, departments, external customers and external suppliers",
    ),
    "results": FileSchema(
        "results",
        (
            Column("id", True, meaning="the result's id"),
            Column("unit_id", True, refers_to="units", meaning="the unit that produces it"),
            Column("name", True),
            Column("kind", True, ValueKind.ENUM, ResultKind),
            Column("capacity", False, ValueKind.AMOUNT, meaning="items per week"),
            Column("cost_per_item", False, ValueKind.NUMBER),
            Column("revenue_per_item", False, ValueKind.NUMBER),
        ),
        "what each unit's work produces",
    ),
    "links": FileSchema(
        "links",
        (
            Column("result_id", True, refers_to="results"),
            Column("customer_id", True, refers_to="units", meaning="the customer unit"),
            Column("relation", True, ValueKind.ENUM, Relation),
            Column("demand", False, ValueKind.AMOUNT, meaning="items per week"),
            Column(
                "per_item",
                False,
                ValueKind.AMOUNT,
                meaning="consumes only: items of the result one item of the customer needs",
            ),
        ),
        "which unit pays for, consumes, adds to or depends on which result",
    ),
    "people": FileSchema(
        "people",
        (
            Column("id", True, meaning="the person's id"),
            Column("name", True),
            Column("email", True, meaning="unique in the organisation"),
            Column("unit_id", True, refers_to="units", meaning="the unit they belong to"),
            Column("role", True, ValueKind.ENUM, Role),
        ),
        "members of units and their role",
    ),
    "items": FileSchema(
        "items",
        (
            Column("instrument", True, meaning="a custom instrument's key"),
            Column("item", True, meaning="the item's key, once per instrument"),
            Column("dimension", True, meaning="`overall` is the driver-analysis outcome"),
            Column("text", True, meaning="the question; may hold {provider}"),
            Column("scale_min", False, ValueKind.NUMBER, meaning="whole number, default 1"),
            Column("scale_max", False, ValueKind.NUMBER, meaning="whole number, default 7"),
        ),
        "the items of instruments that are not built in",
    ),
    "responses": FileSchema(
        "responses",
        (
            Column("response_id", True, meaning="an anonymous id of one questionnaire"),
            Column("campaign", True, meaning="the campaign's id"),
            Column("instrument", True, meaning="a built-in instrument or one in items.csv"),
            Column("rater_id", True, refers_to="units", meaning="the rating (customer) unit"),
            Column("rated_id", True, refers_to="units", meaning="the rated (provider) unit"),
            Column("submitted_at", True, meaning="ISO 8601 date or time; only the day is kept"),
            Column("item", True, meaning="an item of the instrument"),
            Column("expectation", False, ValueKind.NUMBER, meaning="for instruments that ask it"),
            Column("score", False, ValueKind.NUMBER, meaning="on the item's scale"),
            Column("comment", False, meaning="free text; the answer to a text item"),
        ),
        "survey answers, one row per item answer",
    ),
    "outcomes": FileSchema(
        "outcomes",
        (
            Column("unit_id", True, refers_to="units", meaning="an external customer"),
            Column("period", True, meaning="the month, YYYY-MM"),
            Column("metric", True, meaning="e.g. satisfaction, complaints, revenue"),
            Column("value", True, ValueKind.NUMBER),
        ),
        "the external customers' outcomes, one row per customer, month and metric",
    ),
    "calendars": FileSchema(
        "calendars",
        (
            Column("name", True, meaning="the calendar's name, once per bundle"),
            Column("timezone", True, meaning="an IANA time zone such as Europe/Amsterdam"),
            Column("hours", True, meaning="e.g. mon-fri 09:00-12:00 13:00-17:00; sat 10:00-14:00"),
            Column("holidays", False, meaning="country codes and/or ISO dates, space-separated"),
        ),
        "business calendars: working hours and holidays",
    ),
    "agreements": FileSchema(
        "agreements",
        (
            Column("id", True, meaning="the agreement's id; one row per metric"),
            Column("result_id", True, refers_to="results", meaning="its producer is the provider"),
            Column("customer_id", True, refers_to="units", meaning="the customer unit"),
            Column("metric", True, ValueKind.ENUM, Metric),
            Column("target", True, ValueKind.AMOUNT, meaning="percent 0-100 or business hours"),
            Column("calendar", False, refers_to="calendars", meaning="a calendar's name"),
            Column("review_on", False, meaning="ISO 8601 date"),
            Column("channel", False, meaning="how provider and customer talk"),
            Column("cadence", False, meaning="how often they meet"),
            Column("state", False, ValueKind.ENUM, AgreementState, meaning="default agreed"),
            Column("obligations", False, meaning="the customer's obligations, one per line"),
            Column("exceed_margin_hours", False, ValueKind.AMOUNT, meaning="early by this much"),
            Column("deliverable_rrule", False, meaning="an iCalendar RRULE of due times"),
        ),
        "service agreements between a result's producer and one customer",
    ),
    "commitments": FileSchema(
        "commitments",
        (
            Column("agreement_id", True, refers_to="agreements"),
            Column("due_at", True, meaning="ISO 8601 time; without offset: UTC"),
            Column("delivered_at", False, meaning="ISO 8601 time"),
            Column("warned_at", False, meaning="ISO 8601 time the customer was warned"),
        ),
        "the commitment log: what was due under an agreement and how it went",
    ),
    "requests": FileSchema(
        "requests",
        (
            Column("id", True, meaning="the request's id"),
            Column("customer_id", True, refers_to="units", meaning="the asking unit"),
            Column("provider_id", True, refers_to="units", meaning="the unit asked"),
            Column("created_at", True, meaning="ISO 8601 time; without offset: UTC"),
            Column("first_response_at", False, meaning="ISO 8601 time"),
            Column("resolved_at", False, meaning="ISO 8601 time"),
            Column("priority", False, ValueKind.ENUM, Priority),
            Column("category", False),
            Column("thanked", False, ValueKind.COUNT, meaning="1 when thanked, else 0"),
        ),
        "internal requests between units and how they were answered",
    ),
}


#: A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV
#: injection"): an export never lets a text cell start with one.
FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
# Text the export escapes: a formula start, or quotes before one (so that text which
# really starts with ``'=`` survives the round trip too).
_ESCAPED = re.compile(r"'*[=+\-@\t\r]")


def escape_formula(text: str) -> str:
    """``text`` as a CSV export writes it: with one more ``'`` in front when it starts
    with a formula start, or with quotes followed by one; otherwise unchanged."""
    return "'" + text if _ESCAPED.match(text) else text


def unescape_formula(text: str) -> str:
    """The inverse of :func:`escape_formula`: one leading ``'`` taken off a cell whose
    rest starts with a formula start (after any further quotes); other text unchanged.
    ``unescape_formula(escape_formula(t)) == t`` for every ``t``."""
    return text[1:] if text[:1] == "'" and _ESCAPED.match(text, 1) else text


@dataclass(frozen=True, slots=True)
class BundleProblem:
    """One thing wrong with a bundle, located as precisely as it can be.

    ``line`` is the 1-based line of the file (the header is line 1) or the sheet's
    row number; it is ``None`` for problems with a whole file. ``column`` is ``None``
    for problems with a whole row or file.
    """

    file: str
    line: int | None
    column: str | None
    expected: str
    found: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file} line {self.line}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: expected {self.expected}; found {self.found}"


class UnreadableFile(Exception):
    """Raised by a row source that cannot go on (bad encoding, broken CSV quoting,
    an I/O error); the check records it as a problem of that file."""

    def __init__(self, line: int | None, expected: str, found: str) -> None:
        super().__init__(f"line {line}: expected {expected}; found {found}")
        self.line = line
        self.expected = expected
        self.found = found


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


def show(value: str, limit: int = 60) -> str:
    """A cell's text quoted for a message, shortened when long."""
    if value == "":
        return "an empty cell"
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return repr(value)


def file_name_of(table: str, *, sheets: bool) -> str:
    """What the bundle calls a table: ``units.csv`` in a folder, ``units`` in a workbook."""
    return table if sheets else f"{table}.csv"


def sort_names(names: Iterable[str], *, sheets: bool) -> tuple[dict[str, str], list[BundleProblem]]:
    """Which table each file (or sheet) name holds, and the problems with the names:
    unknown files, files of later capabilities, and a missing ``units`` file."""
    found: dict[str, str] = {}
    problems: list[BundleProblem] = []
    expected_names = ", ".join(file_name_of(t, sheets=sheets) for t in TABLES)
    what = "sheet" if sheets else "file"
    for name in names:
        # In a folder only ``.csv`` files name a table; "" matches no table.
        table = name if sheets else name.removesuffix(".csv") if name.endswith(".csv") else ""
        if table in SCHEMA:
            found[table] = name
        elif table in LATER_TABLES:
            problems.append(
                BundleProblem(
                    name,
                    None,
                    None,
                    f"a {what} this version imports ({expected_names})",
                    f"a {what} of the {LATER_TABLES[table]} capability, which this version "
                    "cannot import yet; remove it from the bundle",
                )
            )
        else:
            problems.append(
                BundleProblem(name, None, None, f"one of {expected_names}", f"an unknown {what}")
            )
    for missing in sorted(REQUIRED_TABLES - found.keys()):
        name = file_name_of(missing, sheets=sheets)
        problems.append(
            BundleProblem(name, None, None, f"a {what} {name} (every bundle needs one)", "none")
        )
    return found, problems


class _Problems:
    """Problems kept up to a cap, the rest counted."""

    __slots__ = ("cap", "kept", "more")

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.kept: list[BundleProblem] = []
        self.more = 0

    def add(
        self, file: str, line: int | None, column: str | None, expected: str, found: str
    ) -> None:
        if len(self.kept) < self.cap:
            self.kept.append(BundleProblem(file, line, column, expected, found))
        else:
            self.more += 1

    def __bool__(self) -> bool:
        return bool(self.kept)


Parser = Callable[[str], object]
_BAD = object()  # a parser's answer for a cell it cannot read


def _none(_text: str) -> object:
    return None


def _parser(column: Column, *, csv: bool = False) -> Parser:
    """The function that turns one cell of ``column`` into its value: ``None`` for an
    empty optional cell, ``_BAD`` for anything invalid (an empty required cell
    included). Cells of only spaces count as empty. In a CSV file (``csv``) a text
    cell loses the ``'`` the export put before a formula (:func:`unescape_formula`)."""
    required = column.required
    if column.choices is not None:
        members: dict[str, object] = {m.value: m for m in column.choices}

        def parse_enum(text: str) -> object:
            found = members.get(text)
            if found is not None:
                return found
            text = text.strip()
            return members.get(text, _BAD) if text or required else None

        return parse_enum
    if column.kind is ValueKind.TEXT:
        if csv:

            def parse_csv_text(text: str) -> object:
                if text and not text.isspace():
                    return text if text[0] != "'" else unescape_formula(text)
                return _BAD if required else None

            return parse_csv_text

        def parse_text(text: str) -> object:
            if text and not text.isspace():
                return text
            return _BAD if required else None

        return parse_text
    whole = column.kind is ValueKind.COUNT
    at_least_zero = column.kind is not ValueKind.NUMBER

    def parse_number(text: str) -> object:
        try:
            value = float(text)
        except ValueError:
            if text.strip():
                return _BAD
            return _BAD if required else None
        # One comparison rejects NaN and infinity, and negatives where they make no sense.
        if not (0.0 <= value < math.inf if at_least_zero else -math.inf < value < math.inf):
            return _BAD
        if whole:
            # A spreadsheet may hold 12 as 12.0; a whole float is still a count. Counts
            # are stored as 32-bit integers, so 1e308 is no headcount.
            return int(value) if value.is_integer() and value <= MAX_COUNT else _BAD
        return value

    return parse_number


@dataclass(slots=True)
class _Plan:
    """How to read one file's rows, decided once from its header."""

    label: str
    width: int  # cells that have a column name
    # One (cell index, parser) per schema column, in schema order; a column the
    # header lacks (only optional ones may be lacking) always reads as None.
    cells: list[tuple[int, Parser]]
    columns: tuple[Column, ...]
    present: list[bool]


def _read_header(
    schema: FileSchema, label: str, header: Row, problems: _Problems, *, csv: bool = False
) -> _Plan | None:
    """The plan for a file's rows, or ``None`` when its rows cannot be read (a required
    column is missing or named twice). Unknown columns are problems but the rows are
    still checked, so one import shows as much as possible. ``csv``: the rows come from
    a CSV file (whose text cells may carry the export's formula escape)."""
    line, cells = header
    names = [c.strip() for c in cells]
    if names:
        names[0] = names[0].lstrip("\ufeff")
    while names and names[-1] == "":
        names.pop()  # spreadsheets pad rows with empty cells; they name no column
    known = {c.name: c for c in schema.columns}
    listing = ", ".join(schema.column_names)
    position: dict[str, int] = {}
    readable = True
    for index, name in enumerate(names):
        if name == "":
            problems.add(label, line, f"#{index + 1}", "a column name", "an empty header cell")
        elif name in position:
            problems.add(label, line, name, "each column once", "the column a second time")
            readable = False
        elif name not in known:
            problems.add(label, line, name, f"one of the columns {listing}", "an unknown column")
        else:
            position[name] = index
    for column in schema.columns:
        if column.required and column.name not in position:
            problems.add(label, line, column.name, "a required column", "no such column")
            readable = False
    if not readable:
        return None
    return _Plan(
        label,
        len(names),
        [
            (position[c.name], _parser(c, csv=csv)) if c.name in position else (0, _none)
            for c in schema.columns
        ],
        schema.columns,
        [c.name in position for c in schema.columns],
    )


def _values(
    plan: _Plan, rows: Iterable[Row], problems: _Problems, counts: dict[str, int], table: str
) -> Iterator[tuple[int, list[Any], bool]]:
    """Each non-blank data row as (line, values in schema order, all valid?).

    Every row first takes the fast path: one parser call per cell. Only a row that
    fails it is read again cell by cell to report each problem; a cell that cannot be
    read then holds ``None``."""
    width = plan.width
    cells_plan = plan.cells
    count = 0
    for line, cells in rows:
        if len(cells) == width:
            values = [parse(cells[i]) for i, parse in cells_plan]
            if _BAD not in values:
                count += 1
                yield line, values, True
                continue
        # Blank lines and a spreadsheet's empty trailing rows carry nothing.
        if not any(c and not c.isspace() for c in cells):
            continue
        count += 1
        yield line, *_report_row(plan, line, cells, problems)
    counts[table] = count


def _report_row(
    plan: _Plan, line: int, cells: Sequence[str], problems: _Problems
) -> tuple[list[Any], bool]:
    """The slow path of :func:`_values`: a problem for every bad cell of the row."""
    ok = True
    if len(cells) > plan.width and any(c and not c.isspace() for c in cells[plan.width :]):
        problems.add(
            plan.label,
            line,
            None,
            f"at most {plan.width} cells, as many as the header has columns",
            f"{len(cells)} cells",
        )
        ok = False
    values: list[Any] = []
    for (index, parse), column, present in zip(plan.cells, plan.columns, plan.present, strict=True):
        text = cells[index] if present and index < len(cells) else ""
        value = parse(text) if present else None
        if value is _BAD:
            problems.add(plan.label, line, column.name, column.expected, show(text))
            ok = False
            value = None
        values.append(value)
    return values, ok


class _Bundle:
    """The state of one check: ids seen so far, objects built so far, problems."""

    def __init__(self, stored: StoredIds, replace: bool, sheets: bool, cap: int) -> None:
        self.problems = _Problems(cap)
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
        self, table: str, plan: _Plan, rows: Iterable[Row]
    ) -> Iterator[tuple[int, list[Any], bool]]:
        return _values(plan, rows, self.problems, self.rows, table)

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

    def units(self, plan: _Plan, rows: Iterable[Row]) -> None:
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

    def results(self, plan: _Plan, rows: Iterable[Row]) -> None:
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

    def links(self, plan: _Plan, rows: Iterable[Row]) -> None:
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

    def people(self, plan: _Plan, rows: Iterable[Row]) -> None:
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
        from valuechain.domain.instrument import read_items

        reading = read_items(header[1], rows, file=label)
        for p in reading.problems:
            self.problems.add(p.file, p.line, p.column, p.expected, p.found)
        self.rows["items"] = sum(len(i.items) for i in reading.instruments.values())
        if reading.problems:
            # Its instruments are unknown, so responses naming them are not reported.
            self.unreadable.add("items")
        self.instruments.update(reading.instruments)
        self.org_map.instruments.extend(reading.instruments.values())

    def responses(self, plan: _Plan, rows: Iterable[Row]) -> None:
        """One row per item answer; the rows of one response agree on everything
        but the item. Scores and expectations lie on the item's scale."""
        from valuechain.domain.instrument import BUILT_IN

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
            day = _day(at) if isinstance(at, str) else None
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
                ok = _check_answer(label, line, item, score, expect, comment, problems) and ok
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

    def responses_by_column(self, plan: _Plan, table: EncodedTable | None) -> bool:
        """Take the responses from their columns when every row is valid; ``False``
        sends the caller to :meth:`responses`, which locates every problem."""
        from valuechain.domain.bundle_columns import check_responses
        from valuechain.domain.instrument import BUILT_IN

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

    def outcomes(self, plan: _Plan, rows: Iterable[Row]) -> None:
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

    def calendars(self, plan: _Plan, rows: Iterable[Row]) -> None:
        stored = self.stored_ids["calendars"]
        label = plan.label
        for line, values, ok in self.values("calendars", plan, rows):
            name, zone, hours, holidays = values
            key = self.register("calendars", label, line, name, "calendar", "name")
            if isinstance(zone, str) and not _is_zone(zone.strip()):
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

    def agreements(self, plan: _Plan, rows: Iterable[Row]) -> None:
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
                day = _iso_day(review)
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

    def commitments(self, plan: _Plan, rows: Iterable[Row]) -> None:
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
                moment = _moment(text) if isinstance(text, str) else None
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

    def requests(self, plan: _Plan, rows: Iterable[Row]) -> None:
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
                moment = _moment(text) if isinstance(text, str) else None
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


def _is_zone(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _iso_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _moment(text: str) -> datetime | None:
    """An ISO 8601 date or date and time as an aware UTC time; without an offset the
    time is UTC (a date alone is its midnight)."""
    from datetime import UTC

    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


SCORE_COLUMN = SCHEMA["responses"].columns[8]


def _day(text: str) -> date | None:
    """The day of an ISO 8601 date or date and time (as written, in its own offset)."""
    try:
        if len(text.strip()) == 10:
            return date.fromisoformat(text.strip())
        return datetime.fromisoformat(text.strip()).date()
    except ValueError:
        return None


def _check_answer(
    label: str,
    line: int,
    item: Any,
    score: float | None,
    expectation: float | None,
    comment: str | None,
    problems: _Problems,
) -> bool:
    """Score and expectation on the item's scale; a text item takes only a comment."""
    scale = item.scale
    if scale is None:
        if score is not None or expectation is not None:
            problems.add(label, line, "score", "an empty cell (a text item)", show(str(score)))
            return False
        if comment is None:
            problems.add(label, line, "comment", "the answer to a text item", "an empty cell")
            return False
        return True
    ok = True
    if score is None:
        problems.add(label, line, "score", f"a whole number from {scale}", "an empty cell")
        ok = False
    elif not scale.contains(score):
        problems.add(label, line, "score", f"a whole number from {scale}", show(f"{score:g}"))
        ok = False
    if expectation is not None:
        if not item.expectation:
            problems.add(
                label, line, "expectation", "an empty cell (this item asks none)", "a value"
            )
            ok = False
        elif not scale.contains(expectation):
            problems.add(
                label, line, "expectation", f"a whole number from {scale}", f"{expectation:g}"
            )
            ok = False
    return ok


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
    steps: dict[str, Callable[[_Plan, Iterable[Row]], None]] = {
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
            plan = _read_header(SCHEMA[table], name, header, bundle.problems, csv=not sheets)
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
