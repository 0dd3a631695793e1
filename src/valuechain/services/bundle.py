"""Import and export of the Map capability's data bundle: a folder of UTF-8 CSV
files or one ``.xlsx`` workbook (see ``docs/bundle.md``).

An import reads and checks the whole bundle before it writes anything, then writes
it in one transaction, so a bad bundle changes nothing.
"""

from __future__ import annotations

import csv
import gc
import io
import math
import mmap
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.exc import IntegrityError

from valuechain.domain.agreement import Metric
from valuechain.domain.bundle import (
    MAP_TABLES,
    PROBLEM_CAP,
    SCHEMA,
    TABLES,
    BundleCheck,
    BundleProblem,
    Row,
    StoredIds,
    UnreadableFile,
    check_bundle,
    escape_formula,
)
from valuechain.domain.bundle_columns import EncodedColumn, EncodedTable
from valuechain.domain.organisation import OrganisationMap
from valuechain.services import audit
from valuechain.services.audit import Actor
from valuechain.services.errors import Invalid, ValuechainError
from valuechain.services.organisation import Valuechain
from valuechain.services.transaction import reading
from valuechain.store import agreement as agreement_store
from valuechain.store import calendar as calendar_store
from valuechain.store import campaign as campaign_store
from valuechain.store import commitment as commitment_store
from valuechain.store import measure as measure_store
from valuechain.store import organisation as store
from valuechain.store import outcome as outcome_store
from valuechain.store import request as request_store

Progress = Callable[[str, int, int], None]
"""Called as ``progress(step, done, total)`` while a bundle is read or written.

``step`` is a file name (``links.csv``; bytes done of the file's size), a sheet name
(``links``; rows done of the sheet's rows), or ``"database"`` (0 of 1 when the write
starts, 1 of 1 when it is committed).
"""

DATABASE_STEP = "database"
REPORT_EVERY = 16_384  # rows between two progress reports: often enough for a bar, cheap


@dataclass(frozen=True)
class WorkbookLimits:
    """How far an ``.xlsx`` workbook (a zip of XML files) may unpack. Its entries'
    declared sizes are checked before any is read (the reader never unpacks more than
    an entry declares), and cells are counted while the sheets stream in, so a small
    file that unpacks to gigabytes (a zip bomb) is refused at once.

    ``max_unpacked_bytes``: all entries together, unpacked. ``max_ratio``: unpacked
    bytes per compressed byte of any entry larger than ``ratio_floor`` unpacked (small
    XML parts compress well and are harmless). ``max_cells``: cells of all sheets."""

    max_unpacked_bytes: int = 1 << 30
    max_ratio: float = 200.0
    ratio_floor: int = 1 << 20
    max_cells: int = 20_000_000


class BundleError(Invalid):
    """A bundle that cannot be imported; nothing was written.

    ``problems`` are the first problems found (up to a cap) in file and line order,
    ``more_problems`` how many more there were.
    """

    def __init__(self, problems: Sequence[BundleProblem], more_problems: int = 0) -> None:
        self.problems = list(problems)
        self.more_problems = more_problems
        super().__init__(self._message())

    def _message(self) -> str:
        total = len(self.problems) + self.more_problems
        lines = [f"the bundle was not imported ({total} problem{'s' if total != 1 else ''}):"]
        lines += [f"  {problem}" for problem in self.problems]
        if self.more_problems:
            lines.append(f"  … and {self.more_problems} more")
        return "\n".join(lines)


def problem_fields(problem: BundleProblem) -> dict[str, Any]:
    """A problem as plain fields, with ``text`` the line ``valuechain import`` prints."""
    return {
        "file": problem.file,
        "line": problem.line,
        "column": problem.column,
        "expected": problem.expected,
        "found": problem.found,
        "text": str(problem),
    }


def _problem(path: Path, expected: str, found: str) -> BundleError:
    return BundleError([BundleProblem(str(path), None, None, expected, found)])


@dataclass(frozen=True)
class ImportSummary:
    """What an import wrote: rows per table, and how many of them replaced a row with
    the same id (``None`` where that is not known cheaply: links have no id)."""

    rows: dict[str, int]
    updated: dict[str, int | None]
    replaced_organisation: bool


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector. A big bundle creates millions of objects
    that live until the write; the collector would rescan them again and again
    (about a quarter of the import's time) although they hold no cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# -- reading -----------------------------------------------------------------------


def _csv_rows(path: Path, progress: Progress | None) -> Iterator[Row]:
    """The rows of one CSV file with the line each starts on; a UTF-8 BOM is dropped.

    Decoding is done by the text layer in C; only when it fails is the file scanned
    again line by line to say where."""
    label = path.name
    try:
        size = path.stat().st_size
        nul = _first_nul_line(path)
        raw = path.open("rb")
    except OSError as error:
        raise UnreadableFile(None, "a readable file", error.strerror or str(error)) from None
    if nul is not None:
        # UTF-8 allows NUL but no text holds one, and PostgreSQL refuses to store it.
        raise UnreadableFile(nul, "text without NUL characters", "a NUL character")
    with raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        reader = csv.reader(text, strict=True)
        previous = 0
        count = 0
        try:
            for cells in reader:
                yield previous + 1, cells
                previous = reader.line_num
                count += 1
                if progress is not None and count % REPORT_EVERY == 0:
                    progress(label, raw.tell(), size)
        except UnicodeDecodeError:
            raise UnreadableFile(
                _first_bad_line(path), "UTF-8 text", "bytes that are not UTF-8"
            ) from None
        except csv.Error as error:
            raise UnreadableFile(reader.line_num, "well-formed CSV", str(error)) from None
        except OSError as error:
            raise UnreadableFile(None, "a readable file", str(error)) from None
    if progress is not None:
        progress(label, size, size)


class _Reporting(io.RawIOBase):
    """A binary file that reports how far it has been read."""

    def __init__(self, raw: io.BufferedReader, label: str, size: int, progress: Progress) -> None:
        self.raw, self.label, self.size, self.progress = raw, label, size, progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self.raw.readinto(buffer)
        self.progress(self.label, self.raw.tell(), self.size)
        return count


def _csv_columns(path: Path, progress: Progress | None) -> EncodedTable | None:
    """A CSV file read by Apache Arrow's parser, every column dictionary-encoded, or
    ``None`` when Arrow cannot read it exactly as the row reader would (then the row
    reader reads it and says where it is wrong).

    Arrow: the row reader's one object per cell is most of a 10-million-answer
    import (docs/benchmarks.md §5)."""
    import pyarrow as pa  # imported here: only big survey files need it
    from pyarrow import csv as arrow_csv

    try:
        with path.open(encoding="utf-8-sig", newline="") as text:
            header = next(csv.reader(text, strict=True), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    if not header or len(set(header)) != len(header) or _first_nul_line(path) is not None:
        return None  # the row reader says where the file is wrong
    encoded = pa.dictionary(pa.int32(), pa.string())
    try:
        with path.open("rb") as raw:
            source = (
                raw
                if progress is None
                else _Reporting(raw, path.name, path.stat().st_size, progress)
            )
            reader = arrow_csv.open_csv(
                source,
                read_options=arrow_csv.ReadOptions(block_size=16 << 20),
                parse_options=arrow_csv.ParseOptions(newlines_in_values=True),
                convert_options=arrow_csv.ConvertOptions(
                    column_types=dict.fromkeys(header, encoded),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            table = pa.Table.from_batches(list(reader), schema=reader.schema)
    except (OSError, pa.ArrowException):
        return None
    if table.column_names != header or not _strict_quoting(path):
        return None
    table = table.unify_dictionaries()
    columns = []
    for chunks in table.columns:
        if chunks.num_chunks == 0:
            columns.append(EncodedColumn(np.zeros(0, dtype=np.int64), []))
            continue
        values = chunks.chunks[0].dictionary.to_pylist()
        # The row reader refuses a cell over the csv module's limit; so must this one.
        if max(map(len, values), default=0) >= csv.field_size_limit():
            return None
        codes = np.concatenate(
            [c.indices.to_numpy(zero_copy_only=False) for c in chunks.chunks]
        ).astype(np.int64)
        columns.append(EncodedColumn(codes, values))
    return EncodedTable(header, columns, table.num_rows)


def _strict_quoting(path: Path) -> bool:
    """Whether every quote of the file opens a field, closes it, or doubles a quote
    inside it (RFC 4180). Arrow reads ``"late"r`` as ``later`` where the row reader
    (``csv``, strict) refuses it; on such files both read every cell alike.

    A quote opens a field after a comma, a line end or the start, and the quote
    that closes it is followed by a comma, a line end, the end or a doubled quote."""
    if path.stat().st_size == 0:
        return True
    with path.open("rb") as raw, mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ) as view:
        if view.find(b'"') < 0:
            return True  # nothing quoted: nothing to misread (one fast scan)
    data = np.memmap(path, dtype=np.uint8, mode="r")
    window = 1 << 26  # compared piece by piece: no array as big as the file
    quotes = np.concatenate(
        [
            np.flatnonzero(data[at : at + window] == ord('"')) + at
            for at in range(0, data.shape[0], window)
        ]
    )
    if quotes.shape[0] % 2:
        return False
    start = 3 if data[:3].tobytes() == b"\xef\xbb\xbf" else 0
    opening, closing = quotes[0::2], quotes[1::2]
    before = data[np.maximum(opening - 1, 0)]
    after = data[np.minimum(closing + 1, data.shape[0] - 1)]
    opens_field = (opening == start) | np.isin(before, np.frombuffer(b',\r\n"', np.uint8))
    closes_field = (closing == data.shape[0] - 1) | np.isin(
        after, np.frombuffer(b',\r\n"', np.uint8)
    )
    return bool(opens_field.all() and closes_field.all())


def _first_nul_line(path: Path) -> int | None:
    """The physical line of the first NUL byte in ``path``, or ``None`` (one scan in C)."""
    if path.stat().st_size == 0:
        return None
    with path.open("rb") as raw, mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ) as view:
        at = view.find(b"\x00")
        return None if at < 0 else view[:at].count(b"\n") + 1


def _first_bad_line(path: Path) -> int | None:
    """The first physical line of ``path`` that is not UTF-8."""
    with path.open("rb") as raw:
        for number, line in enumerate(raw, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None


def _cell_text(value: Any) -> str:
    """A spreadsheet cell as the text a CSV file would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        # repr gives the shortest text that reads back as the same float.
        return repr(value) if math.isfinite(value) else str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _sheet_rows(
    sheet: Any, label: str, progress: Progress | None, budget: _CellBudget
) -> Iterator[Row]:
    """The rows of one sheet with their row numbers, cells as text, within the
    workbook's cell budget."""
    total = sheet.max_row or 0
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        budget.take(len(row), number)
        yield number, [c if type(c) is str else _cell_text(c) for c in row]
        if progress is not None and number % REPORT_EVERY == 0:
            progress(label, number, max(total, number))
    if progress is not None:
        progress(label, total, total)


def _stored_ids(vc: Valuechain) -> StoredIds:
    with reading(vc) as conn:
        known = store.known_ids(conn, vc.org_id)
        emails = store.known_emails(conn, vc.org_id)
        instruments = measure_store.read_instruments(conn, vc.org_id)
        kinds = outcome_store.unit_kinds(conn, vc.org_id)
        calendars = calendar_store.calendar_names(conn, vc.org_id)
        agreements = agreement_store.agreement_ids(conn, vc.org_id)
        campaigns = {c.id: c.state.value for c in campaign_store.read_campaigns(conn, vc.org_id)}
        parents = store.unit_parents(conn, vc.org_id)
    return StoredIds(
        known["units"],
        known["results"],
        known["people"],
        emails,
        instruments,
        kinds,
        calendars=calendars,
        agreements=agreements,
        campaigns=campaigns,
        unit_parents=parents,
    )


def _refuse_stored_responses(vc: Valuechain, path: Path | str, org_map: OrganisationMap) -> None:
    """Refuse responses whose id is already stored: replacing one would move a stored
    (perhaps published) campaign's numbers by that one respondent."""
    ids = org_map.survey_columns().ids
    if not ids:
        return
    with reading(vc) as conn:
        found = campaign_store.stored_responses(conn, vc.org_id, ids)
    if not found:
        return
    label = "responses" if Path(path).suffix.lower() == ".xlsx" else "responses.csv"
    shown = sorted(found.items())
    more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
    listed = ", ".join(f"{rid!r} (campaign {campaign!r})" for rid, campaign in shown[:3])
    raise BundleError(
        [
            BundleProblem(
                label,
                None,
                "response_id",
                "response ids not stored yet (a stored response is never replaced: its "
                "campaign's numbers would move by one respondent; import the whole "
                "organisation with --replace to start over)",
                f"{listed}{more} already stored",
            )
        ]
    )


def read_bundle(
    path: Path | str,
    *,
    stored: StoredIds | None = None,
    replace: bool = False,
    progress: Progress | None = None,
    cap: int = PROBLEM_CAP,
    limits: WorkbookLimits | None = None,
) -> tuple[OrganisationMap, dict[str, int], dict[str, int]]:
    """Read and check the bundle at ``path`` (a folder or an ``.xlsx`` file).

    Returns the map, the rows per table and the rows whose id ``stored`` held; raises
    :class:`BundleError` with every problem (up to ``cap``) when anything is wrong. A
    workbook is read within ``limits`` (default :class:`WorkbookLimits`)."""
    path = Path(path)
    if path.is_dir():
        with _no_cyclic_gc():
            check = _check_folder(path, stored, replace, progress, cap)
    elif path.suffix.lower() == ".xlsx" and path.is_file():
        with _no_cyclic_gc():
            check = _check_workbook(path, stored, replace, progress, cap, limits)
    elif path.exists():
        raise _problem(path, "a folder of CSV files or an .xlsx workbook", "another kind of file")
    else:
        raise _problem(path, "a folder of CSV files or an .xlsx workbook", "nothing at that path")
    if check.org_map is None:
        raise BundleError(check.problems, check.more_problems)
    return check.org_map, check.rows, check.stored


def _check_folder(
    path: Path, stored: StoredIds | None, replace: bool, progress: Progress | None, cap: int
) -> BundleCheck:
    try:
        # Hidden files (.DS_Store, editor backups) are the file system's, not the bundle's.
        names = sorted(p.name for p in path.iterdir() if not p.name.startswith("."))
    except OSError as error:
        raise _problem(path, "a readable folder", error.strerror or str(error)) from None
    return check_bundle(
        names,
        lambda name: _csv_rows(path / name, progress),
        stored=stored,
        replace=replace,
        cap=cap,
        columns=lambda name: _csv_columns(path / name, progress),
    )


def _check_unpacked_size(path: Path, limits: WorkbookLimits) -> None:
    """Refuse a workbook whose zip entries declare more than ``limits`` allow, before
    any entry is unpacked (the zip reader stops at an entry's declared size)."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (OSError, zipfile.BadZipFile) as error:
        raise _problem(
            path, "a readable .xlsx workbook", str(error) or type(error).__name__
        ) from None
    total = sum(e.file_size for e in entries)
    if total > limits.max_unpacked_bytes:
        raise _problem(
            path,
            f"a workbook that unpacks to at most {limits.max_unpacked_bytes:,} bytes",
            f"entries of {total:,} bytes unpacked",
        )
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > limits.ratio_floor and ratio > limits.max_ratio:
            raise _problem(
                path,
                f"entries compressed at most {limits.max_ratio:g} to 1",
                f"{entry.filename} of {entry.file_size:,} bytes compressed {ratio:,.0f} to 1",
            )


class _CellBudget:
    """The cells a workbook may still hold (:attr:`WorkbookLimits.max_cells`)."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path, self.limit, self.left = path, limit, limit

    def take(self, cells: int, line: int) -> None:
        self.left -= cells
        if self.left < 0:
            raise UnreadableFile(
                line, f"a workbook of at most {self.limit:,} cells", f"more in {self.path.name}"
            )


def _check_workbook(
    path: Path,
    stored: StoredIds | None,
    replace: bool,
    progress: Progress | None,
    cap: int,
    limits: WorkbookLimits | None,
) -> BundleCheck:
    from openpyxl import load_workbook  # imported here: openpyxl is slow to import

    limits = limits or WorkbookLimits()
    _check_unpacked_size(path, limits)
    budget = _CellBudget(path, limits.max_cells)
    try:
        # data_only: a formula cell counts as the value Excel last computed for it.
        book = load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise _problem(
            path, "a readable .xlsx workbook", str(error) or type(error).__name__
        ) from None
    try:
        return check_bundle(
            book.sheetnames,
            lambda name: _sheet_rows(book[name], name, progress, budget),
            sheets=True,
            stored=stored,
            replace=replace,
            cap=cap,
        )
    finally:
        book.close()


def import_bundle(
    vc: Valuechain,
    path: Path | str,
    *,
    replace: bool = False,
    progress: Progress | None = None,
    cap: int = PROBLEM_CAP,
    actor: Actor | None = None,
    limits: WorkbookLimits | None = None,
    subject: str | None = None,
) -> ImportSummary:
    """Import the bundle at ``path`` into ``vc``'s organisation, all or nothing.

    By id (rows with a known id are replaced, new ones added, nothing removed), or with
    ``replace`` the whole organisation is replaced by the bundle. Raises
    :class:`BundleError` listing the problems, in which case nothing was written.
    A workbook is read within ``limits`` (default :class:`WorkbookLimits`).
    The import, refused or done, is recorded in the audit log as ``actor`` (default:
    the operating-system user) about ``subject`` (default: the path).
    """
    who = actor or Actor.command_line()
    try:
        summary = _import_bundle(
            vc, path, replace=replace, progress=progress, cap=cap, limits=limits, by=who.label
        )
    except BundleError as error:
        total = len(error.problems) + error.more_problems
        audit.record(
            vc,
            audit.IMPORT,
            who,
            outcome=audit.FAILED,
            subject=subject or str(path),
            detail=f"{total} problem{'s' if total != 1 else ''}; nothing changed",
        )
        raise
    rows = ", ".join(f"{n} {t}" for t, n in summary.rows.items())
    audit.record(
        vc,
        audit.IMPORT,
        who,
        subject=subject or str(path),
        detail=("replaced the organisation: " if replace else "by id: ") + rows,
    )
    return summary


def _checked_bundle(
    vc: Valuechain,
    path: Path | str,
    *,
    replace: bool,
    progress: Progress | None,
    cap: int,
    limits: WorkbookLimits | None,
) -> tuple[OrganisationMap, dict[str, int], dict[str, int], StoredIds | None]:
    """The bundle read and checked against the organisation as an import checks it
    (the one check the import and its preview share); raises :class:`BundleError`."""
    # With replace nothing stored survives, so nothing stored may be referred to.
    stored = None if replace else _stored_ids(vc)
    org_map, rows, updated = read_bundle(
        path, stored=stored, replace=replace, progress=progress, cap=cap, limits=limits
    )
    if not replace:
        _refuse_stored_responses(vc, path, org_map)
    return org_map, rows, updated, stored


@dataclass(frozen=True)
class TableChange:
    """What an import would do to one table of the map, in rows: ``changed`` rows
    keep their id (a link: its result, customer and relation) with other values,
    ``removed`` rows are stored and would go (only with ``replace``)."""

    added: int
    changed: int
    unchanged: int
    removed: int


@dataclass(frozen=True)
class BundlePreview:
    """What importing a bundle would do, nothing written: rows per table of the
    bundle, and the map's tables (units, results, links, people) compared with what
    is stored."""

    rows: dict[str, int]
    changes: dict[str, TableChange]
    replace: bool


def _table_change(stored: dict[Any, Any], incoming: dict[Any, Any], replace: bool) -> TableChange:
    common = stored.keys() & incoming.keys()
    changed = sum(1 for key in common if stored[key] != incoming[key])
    return TableChange(
        added=len(incoming.keys() - common),
        changed=changed,
        unchanged=len(common) - changed,
        removed=len(stored.keys() - common) if replace else 0,
    )


def preview_bundle(
    vc: Valuechain,
    path: Path | str,
    *,
    replace: bool = False,
    cap: int = PROBLEM_CAP,
    limits: WorkbookLimits | None = None,
) -> BundlePreview:
    """What :func:`import_bundle` would do with the bundle at ``path``, by the same
    check (so the same :class:`BundleError` and problems), writing nothing.

    Map rows are compared with the stored ones by id (links by their key) as
    dataclass values; the map's tables are small next to survey data."""
    org_map, rows, _, _ = _checked_bundle(
        vc, path, replace=replace, progress=None, cap=cap, limits=limits
    )
    stored = vc.read_map()
    changes = {
        "units": _table_change(
            {u.id: u for u in stored.units}, {u.id: u for u in org_map.units}, replace
        ),
        "results": _table_change(
            {r.id: r for r in stored.results}, {r.id: r for r in org_map.results}, replace
        ),
        "links": _table_change(
            {k.key: k for k in stored.links}, {k.key: k for k in org_map.links}, replace
        ),
        "people": _table_change(
            {p.id: p for p in stored.people}, {p.id: p for p in org_map.people}, replace
        ),
    }
    return BundlePreview(rows=rows, changes=changes, replace=replace)


def _import_bundle(
    vc: Valuechain,
    path: Path | str,
    *,
    replace: bool,
    progress: Progress | None,
    cap: int,
    limits: WorkbookLimits | None = None,
    by: str | None = None,
) -> ImportSummary:
    org_map, rows, updated, stored = _checked_bundle(
        vc, path, replace=replace, progress=progress, cap=cap, limits=limits
    )
    if stored is not None and stored.emails:
        # Emails are unique and checked row by row: a stored person who gives up an
        # email is written before the new person who takes it (stable sort).
        known_people = stored.people
        org_map.people.sort(key=lambda p: p.id not in known_people)
    if progress is not None:
        progress(DATABASE_STEP, 0, 1)
    try:
        with _no_cyclic_gc():
            vc.write_map(org_map, replace=replace, by=by)
    except IntegrityError as error:
        # The check has seen every rule the tables enforce; this is a concurrent
        # writer changing the organisation between the check and the write.
        raise BundleError(
            [
                BundleProblem(
                    str(path),
                    None,
                    None,
                    "an organisation no one else changed during the import",
                    f"the database refused the rows ({type(error.orig).__name__}); import again",
                )
            ]
        ) from None
    if progress is not None:
        progress(DATABASE_STEP, 1, 1)
    return ImportSummary(
        rows=rows,
        updated={
            t: (None if t not in MAP_TABLES or t == "links" else (0 if replace else updated[t]))
            for t in TABLES
        },
        replaced_organisation=replace,
    )


# -- writing -----------------------------------------------------------------------


def bundle_rows(org_map: OrganisationMap) -> dict[str, tuple[list[str], Iterable[list[Any]]]]:
    """Each table's header and rows (plain values, ``None`` for empty cells), in a
    stable order by id that does not depend on the database's collation."""
    units = sorted(org_map.units, key=lambda u: u.id)
    results = sorted(org_map.results, key=lambda r: r.id)
    links = sorted(org_map.links, key=lambda x: (x.result_id, x.customer_id, x.relation.value))
    people = sorted(org_map.people, key=lambda p: p.id)
    header = {t: list(SCHEMA[t].column_names) for t in MAP_TABLES}
    return {
        "units": (
            header["units"],
            ([u.id, u.name, u.kind.value, u.parent_id, u.headcount] for u in units),
        ),
        "results": (
            header["results"],
            (
                [
                    r.id,
                    r.unit_id,
                    r.name,
                    r.kind.value,
                    r.capacity,
                    r.cost_per_item,
                    r.revenue_per_item,
                ]
                for r in results
            ),
        ),
        "links": (
            header["links"],
            ([x.result_id, x.customer_id, x.relation.value, x.demand, x.per_item] for x in links),
        ),
        "people": (
            header["people"],
            ([p.id, p.name, p.email, p.unit_id, p.role.value] for p in people),
        ),
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def agree_rows(vc: Valuechain) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """The Agree tables as bundle rows: calendars by name, agreements by id (one row
    per metric, metrics in ``Metric`` order), commitments by agreement and due time."""
    with reading(vc) as conn:
        calendars = calendar_store.read_calendars(conn, vc.org_id)
        agreements = agreement_store.read_agreements(conn, vc.org_id)
        commitments = commitment_store.read_commitments(conn, vc.org_id)
    agreement_rows: list[list[Any]] = []
    for a in agreements:
        for metric, target in sorted(a.targets.items(), key=lambda t: list(Metric).index(t[0])):
            agreement_rows.append(
                [
                    a.id,
                    a.result_id,
                    a.customer_id,
                    metric.value,
                    target,
                    a.calendar,
                    None if a.review_on is None else a.review_on.isoformat(),
                    a.channel,
                    a.cadence,
                    a.state.value,
                    "\n".join(a.obligations) or None,
                    a.exceed_margin_hours,
                    a.deliverable_rrule,
                ]
            )
    return {
        "calendars": (
            list(SCHEMA["calendars"].column_names),
            [[c.name, c.timezone, c.hours, c.holidays] for c in calendars],
        ),
        "agreements": (list(SCHEMA["agreements"].column_names), agreement_rows),
        "commitments": (
            list(SCHEMA["commitments"].column_names),
            [
                [c.agreement_id, _iso(c.due_at), _iso(c.delivered_at), _iso(c.warned_at)]
                for c in commitments
            ],
        ),
    }


def export_bundle(
    vc: Valuechain, path: Path | str, *, actor: Actor | None = None
) -> dict[str, int]:
    """Write the organisation's map to ``path``: an ``.xlsx`` workbook when the name
    ends in ``.xlsx``, else a folder (created when missing) of ``units.csv``,
    ``results.csv``, ``links.csv`` and ``people.csv``, each with its header row, and
    ``items.csv`` when the organisation has custom instruments, ``outcomes.csv`` when
    it has outcomes, and ``calendars.csv``, ``agreements.csv``, ``commitments.csv``
    and ``requests.csv`` when it has any.
    Returns the rows written per table. Importing the export into an empty
    organisation gives the same organisation. The export is recorded in the audit
    log as ``actor`` (default: the operating-system user)."""
    path = Path(path)
    org_map = vc.read_map()
    tables = bundle_rows(org_map)
    counts = {
        "units": len(org_map.units),
        "results": len(org_map.results),
        "links": len(org_map.links),
        "people": len(org_map.people),
    }
    with reading(vc) as conn:
        items = measure_store.item_rows(conn, vc.org_id)
    if items:
        # Custom instruments travel with the map; survey responses never leave (they
        # are confidential, see docs/bundle.md).
        tables["items"] = (list(SCHEMA["items"].column_names), (list(row) for row in items))
        counts["items"] = len(items)
    with reading(vc) as conn:
        outcomes = outcome_store.read_outcomes(conn, vc.org_id)
    if outcomes:
        # The external customers' outcomes are not about any respondent: they travel.
        tables["outcomes"] = (
            list(SCHEMA["outcomes"].column_names),
            ([o.unit_id, o.period, o.metric, o.value] for o in outcomes),
        )
        counts["outcomes"] = len(outcomes)
    for table, (header, rows) in agree_rows(vc).items():
        if rows:
            tables[table] = (header, rows)
            counts[table] = len(rows)
    request_rows = request_store.records_as_rows(vc.engine, vc.org_id)
    if request_rows:
        tables["requests"] = (list(SCHEMA["requests"].column_names), request_rows)
        counts["requests"] = len(request_rows)
    try:
        if path.suffix.lower() == ".xlsx":
            _write_workbook(path, tables)
        else:
            _write_folder(path, tables)
    except OSError as error:
        raise ValuechainError(
            f"cannot write the bundle to {path}: {error.strerror or error}"
        ) from None
    audit.record(
        vc,
        audit.EXPORT,
        actor or Actor.command_line(),
        subject=str(path),
        detail=", ".join(f"{n} {t}" for t, n in counts.items()),
    )
    return counts


def _write_folder(path: Path, tables: dict[str, tuple[list[str], Iterable[list[Any]]]]) -> None:
    if path.exists() and not path.is_dir():
        raise ValuechainError(f"{path} is a file; export needs a folder or a name ending in .xlsx")
    path.mkdir(parents=True, exist_ok=True)
    for table, (header, rows) in tables.items():
        with (path / f"{table}.csv").open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            # csv quotes a cell holding a character of the line terminator ("\n") but
            # not one holding "\r", which a reader takes for a line end; such rows
            # are written with every cell quoted.
            quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
            writer.writerow(header)
            # csv writes None as an empty cell, ints as ints and floats by repr (the
            # shortest text that reads back as the same float). Text that a
            # spreadsheet would run as a formula gets a ' in front (the import takes it
            # off); numbers are never text here, so a negative number stays a number.
            for row in rows:
                cells = [escape_formula(v) if type(v) is str else v for v in row]
                if any(type(v) is str and "\r" in v for v in cells):
                    quoted.writerow(cells)
                else:
                    writer.writerow(cells)


def _write_workbook(path: Path, tables: dict[str, tuple[list[str], Iterable[list[Any]]]]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils.exceptions import IllegalCharacterError

    book = Workbook(write_only=True)
    for table, (header, rows) in tables.items():
        sheet = book.create_sheet(table)
        sheet.append(header)
        for row in rows:
            cells: list[Any] = []
            for value in row:
                if isinstance(value, float) and float(f"{value:.16g}") != value:
                    # openpyxl writes floats with 16 digits; the few that need 17 go
                    # in as text so they read back equal.
                    value = repr(value)
                if isinstance(value, str) and value.startswith("="):
                    # openpyxl would store this text as a formula; keep it text.
                    cell = WriteOnlyCell(sheet, value)
                    cell.data_type = "s"
                    cells.append(cell)
                else:
                    cells.append(value)
            try:
                sheet.append(cells)
            except IllegalCharacterError:
                raise ValuechainError(
                    f"{table} row {row[0]!r} holds a control character that .xlsx cannot "
                    "store; export to a folder of CSV files instead"
                ) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
