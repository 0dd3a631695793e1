"""Reading the bundle's cells: one parser per column, a file's header plan, its rows
as values, and the checks of single cells (dates, times, zones, answers on a scale).

The row-by-row check (:mod:`valuechain.domain.bundle`) and the column-wise one
(:mod:`valuechain.domain.bundle_columns`) both read cells here, so they accept the
same text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from valuechain.domain.bundle_schema import (
    MAX_COUNT,
    BundleProblem,
    Column,
    FileSchema,
    Row,
    ValueKind,
    show,
    unescape_formula,
)


class Problems:
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
BAD = object()  # a parser's answer for a cell it cannot read


def _none(_text: str) -> object:
    return None


def _parser(column: Column, *, csv: bool = False) -> Parser:
    """The function that turns one cell of ``column`` into its value: ``None`` for an
    empty optional cell, ``BAD`` for anything invalid (an empty required cell
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
            return members.get(text, BAD) if text or required else None

        return parse_enum
    if column.kind is ValueKind.TEXT:
        if csv:

            def parse_csv_text(text: str) -> object:
                if text and not text.isspace():
                    return text if text[0] != "'" else unescape_formula(text)
                return BAD if required else None

            return parse_csv_text

        def parse_text(text: str) -> object:
            if text and not text.isspace():
                return text
            return BAD if required else None

        return parse_text
    whole = column.kind is ValueKind.COUNT
    at_least_zero = column.kind is not ValueKind.NUMBER

    def parse_number(text: str) -> object:
        try:
            value = float(text)
        except ValueError:
            if text.strip():
                return BAD
            return BAD if required else None
        # One comparison rejects NaN and infinity, and negatives where they make no sense.
        if not (0.0 <= value < math.inf if at_least_zero else -math.inf < value < math.inf):
            return BAD
        if whole:
            # A spreadsheet may hold 12 as 12.0; a whole float is still a count. Counts
            # are stored as 32-bit integers, so 1e308 is no headcount.
            return int(value) if value.is_integer() and value <= MAX_COUNT else BAD
        return value

    return parse_number


@dataclass(slots=True)
class Plan:
    """How to read one file's rows, decided once from its header."""

    label: str
    width: int  # cells that have a column name
    # One (cell index, parser) per schema column, in schema order; a column the
    # header lacks (only optional ones may be lacking) always reads as None.
    cells: list[tuple[int, Parser]]
    columns: tuple[Column, ...]
    present: list[bool]


def read_header(
    schema: FileSchema, label: str, header: Row, problems: Problems, *, csv: bool = False
) -> Plan | None:
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
    return Plan(
        label,
        len(names),
        [
            (position[c.name], _parser(c, csv=csv)) if c.name in position else (0, _none)
            for c in schema.columns
        ],
        schema.columns,
        [c.name in position for c in schema.columns],
    )


def row_values(
    plan: Plan, rows: Iterable[Row], problems: Problems, counts: dict[str, int], table: str
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
            if BAD not in values:
                count += 1
                yield line, values, True
                continue
        # Blank lines and a spreadsheet's empty trailing rows carry nothing.
        if not any(c and not c.isspace() for c in cells):
            continue
        count += 1
        yield line, *report_row(plan, line, cells, problems)
    counts[table] = count


def report_row(
    plan: Plan, line: int, cells: Sequence[str], problems: Problems
) -> tuple[list[Any], bool]:
    """The slow path of :func:`row_values`: a problem for every bad cell of the row."""
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
        if value is BAD:
            problems.add(plan.label, line, column.name, column.expected, show(text))
            ok = False
            value = None
        values.append(value)
    return values, ok


def is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def iso_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def moment_of(text: str) -> datetime | None:
    """An ISO 8601 date or date and time as an aware UTC time; without an offset the
    time is UTC (a date alone is its midnight)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def day_of(text: str) -> date | None:
    """The day of an ISO 8601 date or date and time (as written, in its own offset)."""
    try:
        if len(text.strip()) == 10:
            return date.fromisoformat(text.strip())
        return datetime.fromisoformat(text.strip()).date()
    except ValueError:
        return None


def check_answer(
    label: str,
    line: int,
    item: Any,
    score: float | None,
    expectation: float | None,
    comment: str | None,
    problems: Problems,
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
