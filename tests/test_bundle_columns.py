"""responses.csv is checked column-wise (Arrow, NumPy) when every row is valid and
row by row otherwise: both checks must accept the same files and build the same
responses, and a refused file must report the same located problems."""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from valuechain.domain.bundle import SCHEMA
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.response import ResponseColumns
from valuechain.services import bundle as bundle_service
from valuechain.services.bundle import BundleError, read_bundle

MEASURE = Path(__file__).resolve().parents[1] / "examples" / "measure"
COLUMNS = SCHEMA["responses"].column_names
# (instrument, item, asks expectation?, scale) of the items a generated answer uses.
ITEMS = (
    ("service_factors", "courtesy_1", False, (1, 7)),
    ("service_factors", "overall_1", False, (1, 7)),
    ("internal_servqual", "reliability_1", True, (1, 7)),
    ("internal_servqual", "tangibles_1", True, (1, 7)),
    ("pulse", "need_now", False, (1, 5)),
    ("pulse", "better_next", False, None),
    ("handover", "complete", False, (1, 5)),
    ("handover", "overall", False, (1, 5)),
)
UNITS = ("ship", "pack", "plan", "crm")
# Texts that exercise every rule: unknown ids, spaces, scales, numbers, dates, quotes.
NASTY: dict[str, list[str]] = {
    "response_id": ["", " ", "r1", " r1", "r9"],
    "campaign": ["", "2026-q1", "2026-q2"],
    "instrument": ["", "nosuch", "pulse", "handover", "service_factors"],
    "rater_id": ["", "nobody", " ship", "ship", "pack"],
    "rated_id": ["", "nobody", "plan", "ship"],
    "submitted_at": ["", "yesterday", "2026-3-2", "2026-03-02T23:30:00-05:00", "2026-03-03"],
    "item": ["", "x", "courtesy_1", "better_next", "overall"],
    "expectation": ["", " ", "3", "8", "2.5", "nan", "abc"],
    "score": ["", " 5", "0", "4.0", "1e0", "inf", "-1", "abc", "8", "7"],
    "comment": ["", " ", "Fine.", "a, b", 'say "hi"', '"quoted" twice', "two\nlines", "ünï"],
}


@st.composite
def answer_rows(draw: st.DrawFn) -> list[dict[str, str]]:
    """Responses that are mostly valid, then a few cells replaced by nasty ones."""
    rows: list[dict[str, str]] = []
    for number in range(draw(st.integers(0, 4))):
        instrument = draw(st.sampled_from(sorted({i[0] for i in ITEMS})))
        rater, rated = draw(st.permutations(UNITS))[:2]
        day = draw(st.sampled_from(["2026-03-02", "2026-03-02T09:30:00+01:00", " 2026-03-02"]))
        campaign = draw(st.sampled_from(["2026-q1", "2026-q2"]))
        own = [i for i in ITEMS if i[0] == instrument]
        for _, item, asks, scale in draw(st.lists(st.sampled_from(own), unique=True, min_size=1)):
            score = expectation = comment = ""
            if scale is None:
                comment = draw(st.sampled_from(NASTY["comment"][2:]))
            else:
                score = str(draw(st.integers(*scale)))
                if asks and draw(st.booleans()):
                    expectation = str(draw(st.integers(*scale)))
                if draw(st.integers(0, 4)) == 0:
                    comment = draw(st.sampled_from(NASTY["comment"]))
            cells = (f"r{number}", campaign, instrument, rater, rated, day, item)
            rows.append(dict(zip(COLUMNS, (*cells, expectation, score, comment), strict=True)))
    for _ in range(draw(st.integers(0, 2)) if rows else 0):
        row = draw(st.sampled_from(rows))
        column = draw(st.sampled_from(COLUMNS))
        row[column] = draw(st.sampled_from(NASTY[column]))
    return rows


@st.composite
def response_files(draw: st.DrawFn) -> str:
    """responses.csv in the shapes a spreadsheet writes: quoting, line ends, a BOM,
    blank lines, columns in another order or left out."""
    rows = draw(answer_rows())
    columns = list(COLUMNS)
    if draw(st.booleans()):
        columns = draw(st.permutations(columns))
    for optional in ("expectation", "comment"):
        if all(r[optional] == "" for r in rows) and draw(st.booleans()):
            columns.remove(optional)
    out = io.StringIO()
    writer = csv.writer(
        out,
        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
        lineterminator=draw(st.sampled_from(["\n", "\r\n"])),
    )
    writer.writerow(columns)
    # Now and then a row written by hand, unquoted: literal quotes, stray commas.
    by_hand = draw(st.integers(0, 3)) == 0
    for row in rows:
        if by_hand and draw(st.booleans()):
            out.write(",".join(row[c] for c in columns) + "\n")
        else:
            writer.writerow([row[c] for c in columns])
        if draw(st.integers(0, 9)) == 0:
            out.write("\n")
    text = out.getvalue()
    bom = "\ufeff" if draw(st.booleans()) else ""
    return bom + text


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="valuechain-columns-"))
    for name in ("units.csv", "items.csv"):
        shutil.copy(MEASURE / name, path / name)
    yield path
    shutil.rmtree(path)


def _read(folder: Path, *, by_column: bool) -> OrganisationMap | list[Any]:
    """The map read from ``folder``, or the located problems."""
    saved = bundle_service._csv_columns
    if not by_column:
        bundle_service._csv_columns = lambda path, progress: None  # type: ignore[assignment]
    try:
        return read_bundle(folder)[0]
    except BundleError as error:
        return [(p.file, p.line, p.column, p.expected, p.found) for p in error.problems]
    finally:
        bundle_service._csv_columns = saved


def _same(a: ResponseColumns, b: ResponseColumns) -> None:
    """Equal responses, answers and comments (codes compared through their names)."""
    for name in ("ids", "campaign", "instrument", "rater", "rated", "day"):
        assert getattr(a, name) == getattr(b, name), name
    for x in (a, b):
        assert x.answer_response.dtype == np.int64
    assert a.answer_response.tolist() == b.answer_response.tolist()
    assert [a.items[i] for i in a.answer_item] == [b.items[i] for i in b.answer_item]
    assert [a.dimensions[i] for i in a.answer_dimension] == [
        b.dimensions[i] for i in b.answer_dimension
    ]
    np.testing.assert_array_equal(a.score, b.score)
    np.testing.assert_array_equal(a.expectation, b.expectation)
    assert a.comment_response.tolist() == b.comment_response.tolist()
    assert a.comment_item == b.comment_item
    assert a.comment_text == b.comment_text


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(response_files())
def test_column_and_row_checks_agree(folder: Path, text: str) -> None:
    (folder / "responses.csv").write_text(text, encoding="utf-8", newline="")
    by_column = _read(folder, by_column=True)
    by_row = _read(folder, by_column=False)
    if isinstance(by_row, list):
        event("refused")
        assert by_column == by_row
        return
    event("accepted")
    assert isinstance(by_column, OrganisationMap)
    # A valid file is taken column-wise (unless a quote sits inside an unquoted cell,
    # which only the row reader reads), and both read the same answers.
    if bundle_service._strict_quoting(folder / "responses.csv"):
        event("by column")
        assert by_column.response_columns is not None and not by_column.responses
    assert by_row.response_columns is None
    _same(by_column.survey_columns(), by_row.survey_columns())


def test_a_valid_file_is_read_by_column_and_stored_like_rows(folder: Path) -> None:
    shutil.copy(MEASURE / "responses.csv", folder / "responses.csv")
    by_column = _read(folder, by_column=True)
    by_row = _read(folder, by_column=False)
    assert isinstance(by_column, OrganisationMap) and isinstance(by_row, OrganisationMap)
    columns = by_column.survey_columns()
    assert by_column.response_columns is columns and len(columns) == 4
    assert columns.comment_text == [
        "Labels are sometimes late.",
        "Tell us earlier when a batch slips.",
    ]
    _same(columns, by_row.survey_columns())


def test_malformed_quoting_is_refused_where_the_row_reader_refuses_it(folder: Path) -> None:
    good = (MEASURE / "responses.csv").read_text(encoding="utf-8")
    (folder / "responses.csv").write_text(
        good + 'a9,2026-q1,pulse,ship,pack,2026-03-04,need_now,,4,"late"r\n', encoding="utf-8"
    )
    by_column = _read(folder, by_column=True)
    assert by_column == _read(folder, by_column=False)
    assert isinstance(by_column, list) and by_column[0][:2] == ("responses.csv", 9)
