"""The data bundle's files and columns, and how a problem with them is told.

What every reader of the bundle shares: the tables and their columns
(:data:`SCHEMA`), a located :class:`BundleProblem`, the export's formula escape.
Pure Python, and below every other bundle module (:mod:`valuechain.domain.instrument`
reads ``items.csv`` with it), so none of them import each other in a circle.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum

from valuechain.domain.agreement import AgreementState, Metric
from valuechain.domain.link import Relation
from valuechain.domain.person import Role
from valuechain.domain.request import Priority
from valuechain.domain.result import ResultKind
from valuechain.domain.unit import UnitKind

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


SCORE_COLUMN = SCHEMA["responses"].columns[8]
