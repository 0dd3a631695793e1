"""The data bundle of the Map capability: the check that turns its rows into an
:class:`OrganisationMap` or a list of problems.

Its files and columns are :mod:`valuechain.domain.bundle_schema` (re-exported here),
the reading of single cells :mod:`valuechain.domain.bundle_cells`, the state one check
keeps :mod:`valuechain.domain.bundle_state`, and each capability's tables are checked
in its own module: ``bundle_map``, ``bundle_measure`` (with the column-wise check of a
big ``responses.csv`` in ``bundle_columns``), ``bundle_connect``, ``bundle_agree`` and
``bundle_request``.

Pure Python: the caller reads the files (CSV or XLSX) and hands over rows of text
cells with their line numbers; nothing here touches the disk or the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from valuechain.domain.bundle_agree import AgreeRows
from valuechain.domain.bundle_cells import Plan, read_header
from valuechain.domain.bundle_columns import EncodedTable
from valuechain.domain.bundle_connect import ConnectRows
from valuechain.domain.bundle_map import MapRows
from valuechain.domain.bundle_measure import MeasureRows, late_campaign_problem
from valuechain.domain.bundle_request import RequestRows
from valuechain.domain.bundle_schema import (
    AGREE_TABLES,
    FORMULA_STARTS,
    LATER_TABLES,
    MAP_TABLES,
    MAX_COUNT,
    PROBLEM_CAP,
    REQUIRED_TABLES,
    SCHEMA,
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
from valuechain.domain.bundle_state import StoredIds
from valuechain.domain.organisation import OrganisationMap

# The bundle's files and columns, and the stored ids, stay importable from here,
# where callers found them.
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
    "check_rows",
    "escape_formula",
    "file_name_of",
    "late_campaign_problem",
    "show",
    "sort_names",
    "unescape_formula",
]


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


class _Bundle(MapRows, MeasureRows, ConnectRows, AgreeRows, RequestRows):
    """One check of a bundle: the shared state and one method per table."""


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


ROW_STEPS = ("units", "results", "links", "people")
# What an .xlsx cell cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE); tab and line
# breaks are fine.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def check_rows(table: str, rows: Sequence[Mapping[str, str]], stored: StoredIds) -> BundleCheck:
    """Check rows given one at a time (the API's writes to the map) with exactly the
    importer's rules: ``rows`` map column names of ``table`` (``units``,
    ``results``, ``links`` or ``people``) to cell text, as a bundle's file would hold
    them; references may point to ``stored`` ids. Problems are located as in
    ``{table}.csv``, the first row on line 2. Units are checked with their parents as
    a file's are (no cycle with the stored parents), people with their emails (none
    another stored person holds)."""
    if table not in ROW_STEPS:
        raise ValueError(f"check_rows checks {', '.join(ROW_STEPS)}, not {table!r}")
    bundle = _Bundle(stored, False, False, PROBLEM_CAP)
    schema = SCHEMA[table]
    label = bundle.labels[table]
    names = list(schema.column_names)
    plan = read_header(schema, label, (1, names), bundle.problems)
    assert plan is not None  # the schema's own header always reads
    lines = [(line, [row.get(n, "") for n in names]) for line, row in enumerate(rows, 2)]
    # A file's blank line carries nothing; a row given on its own must say something.
    # Beyond a file's rules: a control character would make the map unexportable as
    # .xlsx, so a row given on its own may not hold one.
    for line, cells in lines:
        for name, cell in zip(names, cells, strict=True):
            if CONTROL.search(cell):
                bundle.problems.add(
                    label, line, name, "text without control characters", show(cell)
                )
        if not any(c and not c.isspace() for c in cells):
            for column in schema.columns:
                if column.required:
                    bundle.problems.add(label, line, column.name, "a value", "an empty cell")
    steps: dict[str, Callable[[Plan, Iterable[Row]], None]] = {
        "units": bundle.units,
        "results": bundle.results,
        "links": bundle.links,
        "people": bundle.people,
    }
    steps[table](plan, lines)
    if table == "units":
        bundle.check_parents()
    if table == "people":
        bundle.check_stored_emails()
    problems = bundle.problems
    return BundleCheck(
        org_map=None if problems else bundle.org_map,
        problems=list(problems.kept),
        more_problems=problems.more,
        rows=bundle.rows,
        stored=bundle.stored,
    )
