"""``responses.csv`` checked column by column.

Ten million answers are too many to check one cell at a time (docs/benchmarks.md §5),
so the caller hands over each column dictionary-encoded: the distinct texts and, per
row, which one it holds. Every distinct text is checked once by the very parsers and
rules of the row-by-row check in :mod:`valuechain.domain.bundle_cells`, and the verdicts
are spread over the rows with NumPy. Only a file without any problem passes; for
anything else the caller goes back to the row-by-row check, which locates every
problem. Both checks accept the same files and build the same responses (a property
test holds them to it).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from valuechain.domain.bundle_cells import BAD, Plan, Problems, check_answer, day_of
from valuechain.domain.instrument import Instrument, Item
from valuechain.domain.response import ResponseColumns

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class EncodedColumn:
    """One column of a file: its distinct texts and, per data row, the index of the
    text the row holds."""

    codes: IntArray
    values: list[str]


@dataclass(frozen=True, slots=True)
class EncodedTable:
    """A whole file as read: the header's cells and one column per header cell."""

    header: list[str]
    columns: list[EncodedColumn]
    rows: int


# The columns of responses.csv in schema order.
RID, CAMPAIGN, INSTRUMENT, RATER, RATED, SUBMITTED, ITEM, EXPECTATION, SCORE, COMMENT = range(10)


def check_responses(
    table: EncodedTable,
    plan: Plan,
    unit: Callable[[str], str | None],
    instrument: Callable[[str], Instrument | None],
    stored_campaigns: Collection[str] = (),
) -> ResponseColumns | None:
    """The responses of ``table`` when every row is valid, else ``None``.

    ``plan`` is the file's header plan; ``unit(text)`` is the unit a reference
    names (``None`` when unknown) and ``instrument(key)`` the instrument a key names.
    A row naming one of ``stored_campaigns`` is not valid (responses come only with
    the campaign they create).
    """
    if len(table.columns) != plan.width or len(plan.columns) != 10 or not plan.present[SCORE]:
        return None
    n = table.rows
    # Per schema column: codes per row and the parsed value of each distinct text.
    codes: list[IntArray] = []
    parsed: list[list[Any]] = []
    for (index, parse), present in zip(plan.cells, plan.present, strict=True):
        if not present:
            codes.append(np.zeros(n, dtype=np.int64))
            parsed.append([None])
            continue
        column = table.columns[index]
        used = np.bincount(column.codes, minlength=len(column.values)) > 0
        values = [parse(text) if u else None for text, u in zip(column.values, used, strict=True)]
        if any(v is BAD for v in values):
            return None
        codes.append(column.codes)
        parsed.append(values)

    # No response joins a stored campaign: its numbers may already have been read.
    if any(c in stored_campaigns for c in parsed[CAMPAIGN] if c is not None):
        return None
    # References: the rating and the rated unit, known and different.
    rater = _lookup(parsed[RATER], unit)
    rated = _lookup(parsed[RATED], unit)
    if rater is None or rated is None:
        return None
    unit_names = {u: i for i, u in enumerate(dict.fromkeys([*rater, *rated]))}
    rater_unit = np.array([unit_names[u] for u in rater], dtype=np.int64)[codes[RATER]]
    rated_unit = np.array([unit_names[u] for u in rated], dtype=np.int64)[codes[RATED]]
    if (rater_unit == rated_unit).any():
        return None
    days = _lookup(parsed[SUBMITTED], day_of)
    instruments = _lookup(parsed[INSTRUMENT], instrument)
    if days is None or instruments is None:
        return None

    # Each (instrument, item) pair names an item of its instrument.
    n_items = len(parsed[ITEM])
    pair, pair_of_row = _distinct(codes[INSTRUMENT] * n_items + codes[ITEM])
    items: list[Item] = []
    for key in pair.tolist():
        try:
            items.append(instruments[key // n_items].item(parsed[ITEM][key % n_items]))
        except KeyError:
            return None

    # Scores and expectations on the item's scale, text items answered by a comment:
    # one verdict per distinct (item, score, expectation, comment given?).
    without_comment = np.array([v is None for v in parsed[COMMENT]], dtype=bool)
    n_scores, n_expectations = len(parsed[SCORE]), len(parsed[EXPECTATION])
    answer_key = (
        (pair_of_row.astype(np.int64) * n_scores + codes[SCORE]) * n_expectations
        + codes[EXPECTATION]
    ) * 2 + without_comment[codes[COMMENT]]
    scratch = Problems(0)
    for key in _distinct(answer_key)[0].tolist():
        key, no_comment = divmod(key, 2)
        key, expectation = divmod(key, n_expectations)
        item_pair, score = divmod(key, n_scores)
        comment = None if no_comment else ""
        if not check_answer(
            "",
            0,
            items[item_pair],
            parsed[SCORE][score],
            parsed[EXPECTATION][expectation],
            comment,
            scratch,
        ):
            return None

    # The rows of one response agree on everything but the item, and name each item once.
    rid = codes[RID]
    first_row = np.full(len(parsed[RID]), n, dtype=np.int64)
    np.minimum.at(first_row, rid, np.arange(n, dtype=np.int64))
    leader = first_row[rid]
    day_codes = _codes_of(days)[codes[SUBMITTED]]
    for per_row in (codes[CAMPAIGN], codes[INSTRUMENT], rater_unit, rated_unit, day_codes):
        if (per_row != per_row[leader]).any():
            return None
    if _count_distinct(rid * n_items + codes[ITEM]) != n:
        return None
    # Responses are numbered by their first row (a code no row holds has none).
    held = np.flatnonzero(first_row < n)
    first = first_row[held]
    response_of_row = np.empty(first_row.shape[0], dtype=np.int64)
    response_of_row[held] = np.arange(held.shape[0])
    return _build(parsed, codes, days, items, pair_of_row, first, response_of_row[rid])


def _distinct(key: IntArray) -> tuple[IntArray, IntArray]:
    """The distinct keys (ascending) and each element's index among them, as
    ``np.unique(return_inverse=True)``; keys of 0 or more. Dense keys take a table
    instead of a sort (ten times faster at ten million rows)."""
    if key.shape[0] == 0:
        return key, key
    top = int(key.max()) + 1
    if top > 4 * key.shape[0] + 1024:
        distinct, inverse = np.unique(key, return_inverse=True)
        return distinct, inverse.ravel().astype(np.int64)
    present = np.zeros(top, dtype=bool)
    present[key] = True
    distinct = np.flatnonzero(present)
    index = np.cumsum(present, dtype=np.int64) - 1
    return distinct.astype(np.int64), index[key]


def _count_distinct(key: IntArray) -> int:
    """How many distinct keys (of 0 or more) there are."""
    if key.shape[0] == 0:
        return 0
    top = int(key.max()) + 1
    if top > 8 * key.shape[0] + 1024:
        return int(np.unique(key).shape[0])
    present = np.zeros(top, dtype=bool)
    present[key] = True
    return int(np.count_nonzero(present))


def _lookup(values: Sequence[Any], find: Callable[[Any], Any]) -> list[Any] | None:
    """``find`` of each distinct value (``None`` stays ``None``), or ``None`` when
    any value finds nothing."""
    found = [None if v is None else find(v) for v in values]
    if any(f is None and v is not None for f, v in zip(found, values, strict=True)):
        return None
    return found


def _codes_of(values: Sequence[Any]) -> IntArray:
    """Equal values get equal codes."""
    index: dict[Any, int] = {}
    return np.array([index.setdefault(v, len(index)) for v in values], dtype=np.int64)


def _build(
    parsed: list[list[Any]],
    codes: list[IntArray],
    days: list[date],
    items: list[Item],
    pair_of_row: IntArray,
    first: IntArray,
    response_of_row: IntArray,
) -> ResponseColumns:
    """The responses in order of their first row; answers and comments grouped by
    response, in row order within it."""
    order = np.argsort(first, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(order.shape[0])
    leaders = first[order]

    def per_response(column: int, values: Sequence[Any]) -> list[Any]:
        return [values[c] for c in codes[column][leaders].tolist()]

    score = np.array([np.nan if v is None else v for v in parsed[SCORE]], dtype=np.float64).reshape(
        -1
    )[codes[SCORE]]
    expectation = np.array(
        [np.nan if v is None else v for v in parsed[EXPECTATION]], dtype=np.float64
    ).reshape(-1)[codes[EXPECTATION]]
    row_response = position[response_of_row]
    # Answers and comments grouped by response as the row check builds them; a file
    # usually holds each response's rows together, and then nothing moves.
    rows = np.arange(row_response.shape[0])
    if (np.diff(row_response) < 0).any():
        rows = np.argsort(row_response, kind="stable")
    answered = rows[~np.isnan(score[rows])]
    item_keys = list(dict.fromkeys(i.key for i in items))
    dimensions = list(dict.fromkeys(i.dimension for i in items))
    item_code = np.array([item_keys.index(i.key) for i in items], dtype=np.int64).reshape(-1)
    dimension_code = np.array(
        [dimensions.index(i.dimension) for i in items], dtype=np.int64
    ).reshape(-1)
    commented = np.array([v is not None for v in parsed[COMMENT]], dtype=bool)
    with_comment = rows[commented[codes[COMMENT][rows]]]
    comment_pair = pair_of_row[with_comment].tolist()
    comment_text = codes[COMMENT][with_comment].tolist()
    return ResponseColumns(
        per_response(RID, parsed[RID]),
        per_response(CAMPAIGN, parsed[CAMPAIGN]),
        per_response(INSTRUMENT, parsed[INSTRUMENT]),
        per_response(RATER, parsed[RATER]),
        per_response(RATED, parsed[RATED]),
        per_response(SUBMITTED, days),
        row_response[answered],
        item_code[pair_of_row[answered]],
        dimension_code[pair_of_row[answered]],
        item_keys,
        dimensions,
        score[answered],
        expectation[answered],
        row_response[with_comment],
        [items[p].key for p in comment_pair],
        [parsed[COMMENT][c] for c in comment_text],
        np.zeros(0, dtype=np.int64),
        [],
        np.zeros(0, dtype=np.float64),
    )
