"""The survey summaries every survey number is read from: per provider, the finest
cells with their moments, decided over every cut at once (``analytics.confidentiality``),
and the respondent-level blocks (driver scores, item cross-products), computed from the
responses and written in the caller's transaction (``store.measure``). See
:mod:`valuechain.services.measure` for how questions read them.

Works on a connection and an organisation id, not the ``Valuechain`` object, so the
map's writer (``Valuechain.write_map``) can summarise an import in its own transaction
without importing the question side (``services.measure``)."""

from __future__ import annotations

import logging
import pickle
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection

from valuechain.analytics.confidentiality import (
    Cell,
    Suppression,
    part_facts,
    protect,
    reveals,
)
from valuechain.domain.instrument import (
    BUILT_IN,
    IMPORTANCE_POINTS,
    OUTCOME,
    Instrument,
)
from valuechain.domain.response import By, ResponseColumns
from valuechain.store import measure as store

log = logging.getLogger(__name__)

ALL = None  # the campaign key of cells that pool every campaign (driver analyses)


# A cell's key: (cut, instrument, campaign or ALL, provider, customer, dimension).
Key = tuple[str, str, str | None, str, str | None, str | None]
DRIVERS = "drivers"
#: The summary rows of the importance split: per instrument, campaign, provider and
#: dimension, the points of the respondents who gave a split (one cut only).
IMPORTANCE = "importance"
#: trust: a provider's driver respondents of one campaign that could not be shown next
#: to that campaign's cells (what the organisation-wide decision needs of them).
DRIVER_PART = "driver_part"
#: trust: the key of the organisation-wide driver analysis (no unit has an empty id).
ORGANISATION = ""
ITEMS = "items"  # the block kind holding a dimension's item cross-products
#: Above this many respondents, driver intervals come from the normal limit of the
#: resampled moments (``analytics.driver``), which costs nothing in n.
NORMAL_BOOTSTRAP_ABOVE = 20_000
#: Providers summarised per batch (bounds the answers held in memory at once).
SUMMARY_BATCH = 1_000

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


#: Below this many answers an import summarises after writing; above it, while it
#: writes (see :func:`summarise_ahead`).
AHEAD_MIN_ANSWERS = 200_000

_Summary = tuple[list[str], list[tuple[Any, ...]], list[tuple[Any, ...]]]


class Ahead:
    """Summaries of just-imported responses, computed in a child process while the
    import writes them; :func:`refresh_in` takes those that still hold."""

    def __init__(
        self,
        task: tuple[ResponseColumns, dict[str, Instrument], int, set[str]],
    ) -> None:
        _, self.known, self.limit, self.still_open = task
        self._error = tempfile.TemporaryFile()  # noqa: SIM115 - closed by result()
        self._child = subprocess.Popen(
            [sys.executable, "-m", "valuechain.services.summary_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._error,
        )
        # Fed from a thread: the child reads while this process goes on writing.
        self._feeder = threading.Thread(target=self._feed, args=(task,), daemon=True)
        self._feeder.start()

    def _feed(self, task: tuple[Any, ...]) -> None:
        assert self._child.stdin is not None
        try:
            with self._child.stdin as pipe:
                pickle.dump(task, pipe, protocol=pickle.HIGHEST_PROTOCOL)
        except (BrokenPipeError, OSError):
            pass  # the child died; result() says so

    def close(self) -> None:
        """Stop the child if it still runs (the import failed before asking)."""
        if self._child.poll() is None:
            self._child.kill()
        self._child.wait()
        for pipe in (self._child.stdin, self._child.stdout):
            if pipe is not None:
                pipe.close()
        self._error.close()

    def result(self) -> list[_Summary] | None:
        """The summaries, or ``None`` (and a warning) when the child failed: then the
        caller summarises itself, so a failed child costs time, never correctness."""
        assert self._child.stdout is not None
        summaries: list[_Summary] | None = None
        try:
            with self._child.stdout as pipe:
                summaries = pickle.load(pipe)
        except (EOFError, pickle.UnpicklingError, OSError):
            pass
        code = self._child.wait()
        self._feeder.join()
        with self._error:
            self._error.seek(0)
            trouble = self._error.read()[-2000:].decode("utf-8", "replace")
        if code != 0 or summaries is None:
            log.warning("the summary process failed (exit %s): %s", code, trouble)
            return None
        return summaries


def summarise_ahead(
    conn: Connection, org_id: int, written: ResponseColumns, instruments: Sequence[Instrument]
) -> Ahead | None:
    """Start summarising ``written`` (responses about to be stored with the custom
    ``instruments``) per provider in a child process, so that the summaries take
    (almost) no time of their own: they run on the second core while this one writes.
    A process, not a thread: both halves hold the GIL most of the time. ``None`` for
    an import too small to gain from it."""
    if written.score.shape[0] < AHEAD_MIN_ANSWERS:
        return None
    still_open = store.open_campaigns(conn, org_id, date.today())
    limit = store.read_threshold(conn, org_id)
    known = {
        **BUILT_IN,
        **store.read_instruments(conn, org_id),
        **{i.key: i for i in instruments},
    }
    try:
        return Ahead((written, known, limit, still_open))
    except OSError as error:
        log.warning("no summary process (%s); summarising after the write", error)
        return None


def summaries_of(
    written: ResponseColumns, known: dict[str, Instrument], limit: int, still_open: set[str]
) -> list[_Summary]:
    """Cells and blocks of every provider of ``written``, a batch of providers at a time."""
    provider_of, providers = _codes(written.rated)
    out: list[_Summary] = []
    for start in range(0, len(providers), SUMMARY_BATCH):
        wanted = np.zeros(len(providers), dtype=bool)
        wanted[start : start + SUMMARY_BATCH] = True
        answers = _Answers.of_columns(written.take(wanted[provider_of]))
        cells, blocks = summarise(_without(answers, still_open), known, limit)
        out.append((providers[start : start + SUMMARY_BATCH], cells, blocks))
    return out


def refresh_in(
    conn: Connection,
    org_id: int,
    written: ResponseColumns | None = None,
    ahead: Ahead | None = None,
) -> int:
    """:func:`refresh` inside the caller's transaction (the import's, so that a
    committed import is summarised). ``written``: responses this transaction has just
    stored; a provider whose stored responses are all among them is summarised from
    memory instead of reading its answers back, or taken from ``ahead`` when that
    summarised them under the same threshold, instruments and open campaigns."""
    store.lock_summaries(conn, org_id)
    # trust (confidentiality under attack): nothing about a campaign still open, or a
    # reader polling it would subtract two readings and isolate the newcomers. Its
    # responses stay out of every summary; when a campaign opens or closes, its
    # providers are summarised again.
    still_open = store.open_campaigns(conn, org_id, date.today())
    store.write_open_campaigns(
        conn, org_id, store.summarised_open_campaigns(conn, org_id), still_open
    )
    stale = store.stale_providers(conn, org_id)
    if not stale:
        return 0
    limit = store.read_threshold(conn, org_id)
    known = {**BUILT_IN, **store.read_instruments(conn, org_id)}
    in_memory: set[str] = set()
    provider_of: IntArray = np.zeros(0, dtype=np.int64)
    providers: list[str] = []
    if written is not None and len(written):
        provider_of, providers = _codes(written.rated)
        counts = np.bincount(provider_of, minlength=len(providers)).tolist()
        stored = store.response_counts(conn, org_id, stale)
        in_memory = {p for p, n in zip(providers, counts, strict=True) if n == stored.get(p, 0)}
    # Before they are marked: the unsummarised responses give the new answer days.
    store.widen_campaign_days(conn, org_id)
    # Marked first: on SQLite this takes the write lock, so no response can arrive
    # unseen between reading the answers and writing their summary.
    store.mark_summarised(conn, org_id, stale)
    from_memory = [p for p in stale if p in in_memory]
    from_store = [p for p in stale if p not in in_memory]
    summaries = ahead.result() if ahead is not None else None
    if (
        ahead is not None
        and summaries is not None
        and (ahead.still_open, ahead.limit, ahead.known) == (still_open, limit, known)
    ):
        wanted_set = set(from_memory)
        done: set[str] = set()
        for chunk, cells, blocks in summaries:
            if wanted_set.issuperset(chunk):
                store.write_summaries(conn, org_id, chunk, cells, blocks)
                done.update(chunk)
        from_memory = [p for p in from_memory if p not in done]
    if from_memory and written is not None:
        code = {p: i for i, p in enumerate(providers)}
        wanted = np.zeros(len(providers), dtype=bool)
        wanted[[code[p] for p in from_memory]] = True
        own = written.take(wanted[provider_of])
        for chunk, cells, blocks in summaries_of(own, known, limit, still_open):
            store.write_summaries(conn, org_id, chunk, cells, blocks)
    for start in range(0, len(from_store), SUMMARY_BATCH):
        chunk = from_store[start : start + SUMMARY_BATCH]
        answers = _Answers.of_rows(
            store.provider_responses(conn, org_id, chunk),
            store.provider_answers(conn, org_id, chunk),
            store.provider_importance(conn, org_id, chunk),
        )
        cells, blocks = summarise(_without(answers, still_open), known, limit)
        store.write_summaries(conn, org_id, chunk, cells, blocks)
    return len(stale)


@dataclass(frozen=True, slots=True)
class _Answers:
    """The answers of some providers as columns: responses by position, answers
    pointing at their response."""

    ids: list[str]
    instrument: list[str]
    campaign: list[str]
    provider: list[str]
    customer: list[str]
    response: IntArray  # per answer: the position of its response
    item: list[str]
    dimension: list[str]
    score: FloatArray
    expectation: FloatArray  # nan when not asked
    # The importance splits, one row per response and dimension: the position of the
    # response, the dimension and the points.
    split_response: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    split_dimension: list[str] = field(default_factory=list)
    split_points: FloatArray = field(default_factory=lambda: np.empty(0, dtype=np.float64))

    @classmethod
    def of_rows(
        cls,
        responses: Sequence[tuple[Any, ...]],
        answers: Sequence[tuple[Any, ...]],
        splits: Sequence[tuple[Any, ...]] = (),
    ) -> _Answers:
        """From ``store.provider_responses``, ``store.provider_answers`` and
        ``store.provider_importance`` rows."""
        ids, inst, camp, prov, cust = (
            (list(c) for c in zip(*responses, strict=True)) if (responses) else ([], [], [], [], [])
        )
        position = {rid: i for i, rid in enumerate(ids)}
        rid, item, dim, score, expectation = (
            zip(*answers, strict=True) if answers else ((), (), (), (), ())
        )
        return cls(
            ids,
            inst,
            camp,
            prov,
            cust,
            np.fromiter((position[r] for r in rid), dtype=np.int64, count=len(rid)),
            list(item),
            list(dim),
            np.asarray(score, dtype=np.float64),
            np.asarray(expectation, dtype=np.float64),  # None becomes nan
            np.fromiter((position[row[0]] for row in splits), dtype=np.int64, count=len(splits)),
            [row[1] for row in splits],
            np.fromiter((row[2] for row in splits), dtype=np.float64, count=len(splits)),
        )

    @classmethod
    def of_columns(cls, responses: ResponseColumns) -> _Answers:
        """From responses as columns (as the importer read them)."""
        items, dimensions = responses.items, responses.dimensions
        return cls(
            responses.ids,
            responses.instrument,
            responses.campaign,
            responses.rated,
            responses.rater,
            responses.answer_response,
            [items[i] for i in responses.answer_item.tolist()],
            [dimensions[d] for d in responses.answer_dimension.tolist()],
            responses.score,
            responses.expectation,
            responses.split_response,
            responses.split_dimension,
            responses.split_points,
        )


def _without(answers: _Answers, campaigns: set[str]) -> _Answers:
    """trust: the answers without the responses to these campaigns (still open)."""
    if not campaigns:
        return answers
    keep = np.fromiter(
        (c not in campaigns for c in answers.campaign), dtype=bool, count=len(answers.campaign)
    )
    if keep.all():
        return answers
    kept = np.flatnonzero(keep).tolist()
    position = np.cumsum(keep) - 1
    take = keep[answers.response]
    rows = np.flatnonzero(take).tolist()
    take_split = keep[answers.split_response]
    return _Answers(
        [answers.ids[i] for i in kept],
        [answers.instrument[i] for i in kept],
        [answers.campaign[i] for i in kept],
        [answers.provider[i] for i in kept],
        [answers.customer[i] for i in kept],
        position[answers.response[take]].astype(np.int64),
        [answers.item[i] for i in rows],
        [answers.dimension[i] for i in rows],
        answers.score[take],
        answers.expectation[take],
        position[answers.split_response[take_split]].astype(np.int64),
        [d for d, kept in zip(answers.split_dimension, take_split.tolist(), strict=True) if kept],
        answers.split_points[take_split],
    )


def _codes(values: Sequence[Any]) -> tuple[IntArray, list[Any]]:
    """Integer codes of the values (in order of first appearance) and the values."""
    distinct = list(dict.fromkeys(values))
    index = {v: i for i, v in enumerate(distinct)}
    codes = np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))
    return codes, distinct


def _groups(key: IntArray) -> tuple[IntArray, IntArray]:
    """Distinct keys and each element's group number."""
    distinct, inverse = np.unique(key, return_inverse=True)
    return distinct, inverse.ravel()


def _split(group: IntArray, groups: int, items: IntArray) -> list[IntArray]:
    """The items of each group 0..groups-1 (one sort)."""
    order = np.argsort(group, kind="stable")
    bounds = np.cumsum(np.bincount(group, minlength=groups))[:-1]
    return np.split(items[order], bounds)


def _moments(group: IntArray, groups: int, x: FloatArray, g: FloatArray) -> FloatArray:
    """(n, Σx, Σx², n_gap, Σgap, Σgap²) per group, as SQL's COUNT and SUM (NULLs, here
    ``nan``, not counted)."""
    out = np.zeros((groups, 6))
    for j, values in ((0, x), (3, g)):
        ok = ~np.isnan(values)
        v = values[ok]
        out[:, j] = np.bincount(group[ok], minlength=groups)
        out[:, j + 1] = np.bincount(group[ok], weights=v, minlength=groups)
        out[:, j + 2] = np.bincount(group[ok], weights=v * v, minlength=groups)
    return out


def summarise(
    answers: _Answers, known: dict[str, Instrument], limit: int
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Summary cells (with the confidentiality decision) and blocks of the providers
    whose answers these are, in array operations.

    A respondent's dimension score is the mean of its answered items of that
    dimension; its gap the mean P − E over the items with an expectation. Its overall
    score is its ``overall`` dimension where the instrument has one, else the mean of
    its dimension scores; its total gap the mean of its dimension gaps when every
    dimension it answered has one. A response without answers has no score."""
    if answers.response.shape[0] == 0:
        return [], []
    rids = answers.ids
    r = answers.response
    n_resp = len(rids)
    inst, inst_names = _codes(answers.instrument)
    camp, camp_names = _codes(answers.campaign)
    prov, prov_names = _codes(answers.provider)
    cust, cust_names = _codes(answers.customer)
    d, dim_names = _codes(answers.dimension)
    score = answers.score
    expectation = answers.expectation
    item_col = answers.item
    n_dim = len(dim_names)

    # Respondent × dimension scores and gaps (AVG semantics: NULLs ignored).
    key = r * n_dim + d
    size = n_resp * n_dim
    count = np.bincount(key, minlength=size).reshape(n_resp, n_dim)
    total = np.bincount(key, weights=score, minlength=size).reshape(n_resp, n_dim)
    asked = ~np.isnan(expectation)
    gap_count = np.bincount(key[asked], minlength=size).reshape(n_resp, n_dim)
    gap_total = np.bincount(
        key[asked], weights=(score - expectation)[asked], minlength=size
    ).reshape(n_resp, n_dim)
    present = count > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        dim_score = np.where(present, total / np.maximum(count, 1), np.nan)
        dim_gap = np.where(gap_count > 0, gap_total / np.maximum(gap_count, 1), np.nan)
        answered = present.sum(axis=1)
        mean_score = np.where(present, dim_score, 0.0).sum(axis=1) / answered
        has_gap = ~np.isnan(dim_gap)
        mean_gap = np.where(has_gap, dim_gap, 0.0).sum(axis=1) / np.maximum(has_gap.sum(axis=1), 1)
    with_outcome = np.array([n in known and known[n].outcome is not None for n in inst_names])
    outcome_score = (
        dim_score[:, dim_names.index(OUTCOME)] if OUTCOME in dim_names else np.full(n_resp, np.nan)
    )
    x = np.where(with_outcome[inst], outcome_score, mean_score)
    g = np.where(has_gap.sum(axis=1) == answered, mean_gap, np.nan)

    n_camp, n_prov, n_cust = len(camp_names), len(prov_names), len(cust_names)
    specs: list[
        tuple[tuple[Any, ...], Key, FloatArray, IntArray]
    ] = []  # (order, key, moments, members)
    scored = np.flatnonzero(~np.isnan(x))
    base = (inst[scored] * n_camp + camp[scored]) * n_prov + prov[scored]
    for cut, cell_key in (
        (By.PROVIDER.value, base),
        (By.RELATIONSHIP.value, base * n_cust + cust[scored]),
    ):
        distinct, group = _groups(cell_key)
        moments = _moments(group, distinct.shape[0], x[scored], g[scored])
        members = _split(group, distinct.shape[0], scored)
        for j, m in enumerate(members):
            resp = int(m[0])
            i, c, p = inst_names[inst[resp]], camp_names[camp[resp]], prov_names[prov[resp]]
            u = cust_names[cust[resp]] if cut == By.RELATIONSHIP.value else None
            specs.append(((i, p, 0, c, u or "", "", 0), (cut, i, c, p, u, None), moments[j], m))
    # Provider × dimension per campaign; ordered as the cells first appear in rows
    # sorted by customer and dimension (the order the decision has always seen).
    rr, dd = np.nonzero(present)
    cell_key = ((inst[rr] * n_camp + camp[rr]) * n_prov + prov[rr]) * n_dim + dd
    distinct, group = _groups(cell_key)
    moments = _moments(group, distinct.shape[0], dim_score[rr, dd], dim_gap[rr, dd])
    members = _split(group, distinct.shape[0], rr)
    by_name = sorted(range(n_cust), key=cust_names.__getitem__)
    cust_rank = np.empty(n_cust, dtype=np.int64)
    cust_rank[by_name] = np.arange(n_cust)
    for j, m in enumerate(members):
        resp = int(m[0])
        dim = dim_names[int(distinct[j] % n_dim)]
        i, c, p = inst_names[inst[resp]], camp_names[camp[resp]], prov_names[prov[resp]]
        earliest = cust_names[by_name[int(cust_rank[cust[m]].min())]]
        specs.append(
            (
                (i, p, 1, c, earliest, dim, 0),
                (By.DIMENSION.value, i, c, p, None, dim),
                moments[j],
                m,
            )
        )
    # Relationship × dimension per campaign: each right after its provider × dimension
    # cell where both first appear in those rows.
    cell_key = (
        ((inst[rr] * n_camp + camp[rr]) * n_prov + prov[rr]) * n_cust + cust[rr]
    ) * n_dim + dd
    distinct, group = _groups(cell_key)
    moments = _moments(group, distinct.shape[0], dim_score[rr, dd], dim_gap[rr, dd])
    members = _split(group, distinct.shape[0], rr)
    for j, m in enumerate(members):
        resp = int(m[0])
        dim = dim_names[int(distinct[j] % n_dim)]
        i, c, p = inst_names[inst[resp]], camp_names[camp[resp]], prov_names[prov[resp]]
        u = cust_names[cust[resp]]
        rel_key: Key = (By.RELATIONSHIP_DIMENSION.value, i, c, p, u, dim)
        specs.append(((i, p, 1, c, u, dim, 1), rel_key, moments[j], m))
    # Driver analyses: each provider's complete respondents over all its campaigns.
    blocks: list[tuple[Any, ...]] = []
    for i_code, name in enumerate(inst_names):
        instrument = known.get(name)
        if instrument is None or instrument.outcome is None:
            continue
        dims = [dv.key for dv in instrument.drivers] + [OUTCOME]
        of_inst = np.flatnonzero(inst == i_code)
        if any(dv not in dim_names for dv in dims):
            continue
        columns = np.array([dim_names.index(dv) for dv in dims], dtype=np.int64)
        matrix = dim_score[np.ix_(of_inst, columns)]
        complete = of_inst[~np.isnan(matrix).any(axis=1)]
        if complete.shape[0] == 0:
            continue
        distinct, group = _groups(prov[complete])
        for j, m in enumerate(_split(group, distinct.shape[0], complete)):
            p = prov_names[int(distinct[j])]
            ordered = m[np.argsort(np.array([rids[k] for k in m.tolist()], dtype=object))]
            driver_key: Key = (DRIVERS, name, ALL, p, None, None)
            specs.append(((name, p, 2, "", "", "", 0), driver_key, np.zeros(6), m))
            block = dim_score[np.ix_(ordered, columns)]
            blocks.append((DRIVERS, name, p, store.NONE, int(m.shape[0]), _pack(block)))

    # The decision: cells about exactly the same respondents and the same measure tell
    # the same numbers and are decided together (as one cell). Each dimension is its
    # own measure, counted over those who answered it, so a respondent who skipped one
    # dimension makes no group in any other (docs/measure.md, "Item nonresponse").
    specs.sort(key=lambda spec: spec[0])
    with_overall = {name: name in known and known[name].outcome is not None for name in inst_names}
    groups: dict[tuple[tuple[str, str], frozenset[Hashable]], list[Key]] = {}
    for _order, cell, _moments_of, m in specs:
        if cell[0] != DRIVERS:  # trust: decided below
            groups.setdefault((_measure(cell, with_overall), frozenset(m.tolist())), []).append(
                cell
            )
    decided = protect(
        [Cell(keys[0], members, measure=mm) for (mm, members), keys in groups.items()],
        limit,
        sensitive=_unanimous(specs, limit),
    )
    reason: dict[Key, str] = {}
    for keys in groups.values():
        why = decided.suppressed.get(keys[0])
        if why is not None:
            for k in keys:
                reason[k] = str(why.name)
    incomplete = _incomplete(present, inst, inst_names)
    for leaking in _mixing_leaks(groups, reason, incomplete, limit):
        for k in groups[leaking]:
            reason[k] = Suppression.COMPLEMENT.name
    # trust (confidentiality under attack): a driver analysis pools a provider's
    # closed campaigns, so its respondents change when a campaign closes; a reader
    # who kept the earlier answer subtracts it. It is shown only when each campaign's
    # part could be published next to that campaign's published cells without
    # revealing a small group; then every pool of parts, at any time, is safe too.
    # Per measure: a driver analysis shows each dimension's mean (performance) over
    # its complete respondents, a sum in that dimension's measure.
    shown_by_part: dict[tuple[str, str, str], dict[tuple[str, str], list[frozenset[Hashable]]]] = {}
    driver_parts: dict[tuple[str, str, str], frozenset[Hashable]] = {}
    for _order, cell, _mo, m in specs:
        if cell[0] == DRIVERS:
            for c_code in np.unique(camp[m]).tolist():
                part = frozenset(m[camp[m] == c_code].tolist())
                driver_parts[(cell[1], camp_names[c_code], cell[3])] = part
        elif cell not in reason and m.shape[0]:
            assert cell[2] is not None
            shown_by_part.setdefault((cell[1], cell[2], cell[3]), {}).setdefault(
                _measure(cell, with_overall), []
            ).append(frozenset(m.tolist()))
    # trust: the mean importance points of the respondents who gave a split, offered in
    # one cut only (per instrument, campaign and provider), are shown only when that
    # group, next to every cell shown about the provider in the campaign (of any
    # measure), reveals no small group (its count can be subtracted from theirs).
    importance_rows: list[tuple[Any, ...]] = []
    for name, c, p, m, moments_of in _importance_groups(
        answers, inst, camp, prov, inst_names, camp_names, prov_names, known
    ):
        gave_split = frozenset(m.tolist())
        shown_here = [
            group
            for groups_of in shown_by_part.get((name, c, p), {}).values()
            for group in groups_of
        ]
        verdict: str | None = None
        if len(gave_split) < limit:
            verdict = Suppression.TOO_FEW.name
        elif reveals([*shown_here, gave_split], limit):
            verdict = Suppression.COMPLEMENT.name
        importance_rows.extend(
            (
                IMPORTANCE,
                c,
                name,
                p,
                store.NONE,
                d,
                len(gave_split),
                total,
                total_sq,
                0,
                0.0,
                0.0,
                verdict,
            )
            for d, (total, total_sq) in moments_of.items()
        )
    # Per part, the measures (each driver dimension and the outcome) in which it is
    # unsafe next to the campaign's shown cells of the provider.
    unsafe_in: dict[tuple[str, str, str], list[str]] = {}
    for part_key, part in driver_parts.items():
        instrument = known[part_key[0]]
        for dim in [dv.key for dv in instrument.drivers] + [OUTCOME]:
            shown_dim = shown_by_part.get(part_key, {}).get((part_key[0], dim), [])
            if reveals([*shown_dim, part], limit):
                unsafe_in.setdefault(part_key, []).append(dim)
    for _order, cell, _mo, _m in specs:
        if cell[0] == DRIVERS and any((cell[1], c, cell[3]) in unsafe_in for c in camp_names):
            reason[cell] = Suppression.COMPLEMENT.name
    blocks.extend(
        _item_blocks(
            r,
            inst,
            prov,
            item_col,
            score,
            inst_names,
            prov_names,
            known,
            _reliability_parts(
                specs,
                reason,
                driver_parts,
                shown_by_part,
                camp,
                camp_names,
                prov,
                prov_names,
                limit,
            ),
        )
    )
    part_rows = [
        (
            DRIVER_PART,
            camp_name,
            inst_name,
            prov_name,
            store.NONE,
            dim,
            len(driver_parts[(inst_name, camp_name, prov_name)]),
            *_part_facts(
                shown_by_part.get((inst_name, camp_name, prov_name), {}).get((inst_name, dim), []),
                driver_parts[(inst_name, camp_name, prov_name)],
                limit,
            ),
            0,
            0.0,
            0.0,
            Suppression.COMPLEMENT.name,
        )
        for (inst_name, camp_name, prov_name), dims_unsafe in sorted(unsafe_in.items())
        for dim in dims_unsafe
    ]
    # end trust
    cells = [
        (
            cell[0],
            cell[2] or store.NONE,
            cell[1],
            cell[3],
            cell[4] or store.NONE,
            cell[5] or store.NONE,
            int(mo[0]) if cell[0] != DRIVERS else int(m.shape[0]),
            float(mo[1]),
            float(mo[2]),
            int(mo[3]),
            float(mo[4]),
            float(mo[5]),
            reason.get(cell),
        )
        for _order, cell, mo, m in specs
    ]
    return cells + part_rows + importance_rows, blocks


MEAN_CUTS = (By.PROVIDER.value, By.RELATIONSHIP.value)


def _measure(cell: Key, with_overall: dict[str, bool]) -> tuple[str, str]:
    """The measure a cell's numbers are sums of: (instrument, dimension) for a
    dimension cell; for a provider or relationship score the ``overall`` dimension
    where the instrument has one (the score is that answer), else the instrument's
    respondent mean (``""``, tied to the dimensions by :func:`_mixing_leaks`)."""
    cut, instrument, _campaign, _provider, _customer, dimension = cell
    if cut in MEAN_CUTS:
        return (instrument, OUTCOME if with_overall.get(instrument) else "")
    return (instrument, dimension or "")


def _incomplete(present: npt.NDArray[np.bool_], inst: IntArray, inst_names: list[str]) -> set[int]:
    """The respondents who left out a dimension that others of their instrument
    answered (positions)."""
    out: set[int] = set()
    for i_code in range(len(inst_names)):
        rows = np.flatnonzero(inst == i_code)
        asked = present[rows].any(axis=0)
        out.update(rows[~present[np.ix_(rows, np.flatnonzero(asked))].all(axis=1)].tolist())
    return out


def _mixing_leaks(
    groups: dict[tuple[tuple[str, str], frozenset[Hashable]], list[Key]],
    reason: dict[Key, str],
    incomplete: set[int],
    limit: int,
) -> list[tuple[tuple[str, str], frozenset[Hashable]]]:
    """The shown respondent-mean scores (instruments without ``overall``) to hide.

    A respondent's mean is Σ_d s_d / k over the k dimensions they answered. Where a
    group's mean and all its dimension sums are shown, K·(sum of means) − Σ_d (sum of
    dimension d) is zero for every complete respondent and (K/k − 1)·Σ_d s_d for each
    incomplete one: a number about the group's incomplete respondents alone. So the
    incomplete members of the shown mean cells are decided as cells of their own
    (``protect``); a mean cell whose incomplete part is suppressed is hidden. Hiding a
    cell never makes a safe table unsafe (atoms only merge), so one pass suffices."""
    shown = [
        key
        for key, keys in groups.items()
        if key[0][1] == "" and keys[0][0] in MEAN_CUTS and keys[0] not in reason and key[1]
    ]
    parts = [
        Cell(key, frozenset(m for m in key[1] if m in incomplete), measure=key[0][0])
        for key in shown
    ]
    hidden = protect(parts, limit).suppressed
    return [key for key in shown if key in hidden]


def _importance_groups(
    answers: _Answers,
    inst: IntArray,
    camp: IntArray,
    prov: IntArray,
    inst_names: list[str],
    camp_names: list[str],
    prov_names: list[str],
    known: dict[str, Instrument],
) -> list[tuple[str, str, str, IntArray, dict[str, tuple[float, float]]]]:
    """Per instrument with an importance split, campaign and provider: the
    respondents who gave a valid split (points for every rated dimension, none
    negative, adding up to the instrument's points) and, per dimension, the sum and
    sum of squares of their points."""
    out: list[tuple[str, str, str, IntArray, dict[str, tuple[float, float]]]] = []
    if answers.split_response.shape[0] == 0:
        return out
    dim_code, dim_names = _codes(answers.split_dimension)
    for i_code, name in enumerate(inst_names):
        instrument = known.get(name)
        if instrument is None or not instrument.importance_split:
            continue
        dims = [d.key for d in instrument.drivers]
        column = np.array([dims.index(d) if d in dims else -1 for d in dim_names], dtype=np.int64)
        col = column[dim_code] if dim_names else np.empty(0, dtype=np.int64)
        take = (inst[answers.split_response] == i_code) & (col >= 0)
        if not take.any():
            continue
        respondents, local = np.unique(answers.split_response[take], return_inverse=True)
        points = np.full((respondents.shape[0], len(dims)), np.nan)
        points[local.ravel(), col[take]] = answers.split_points[take]
        valid = (
            ~np.isnan(points).any(axis=1)
            & (np.nan_to_num(points, nan=-1.0) >= 0).all(axis=1)
            & (np.abs(np.nansum(points, axis=1) - IMPORTANCE_POINTS) < 1e-9)
        )
        chosen, points = respondents[valid], points[valid]
        if chosen.shape[0] == 0:
            continue
        distinct, group = _groups((camp[chosen] * len(prov_names)) + prov[chosen])
        rows = np.arange(chosen.shape[0], dtype=np.int64)
        for j, in_group in enumerate(_split(group, distinct.shape[0], rows)):
            code = int(distinct[j])
            block = points[in_group]
            out.append(
                (
                    name,
                    camp_names[code // len(prov_names)],
                    prov_names[code % len(prov_names)],
                    chosen[in_group],
                    {
                        d: (float(block[:, k].sum()), float((block[:, k] ** 2).sum()))
                        for k, d in enumerate(dims)
                    },
                )
            )
    return out


def _part_facts(
    shown: list[frozenset[Hashable]], part: frozenset[Hashable], limit: int
) -> tuple[float, float]:
    """trust: of a provider's unsafe driver part of one campaign, next to that
    campaign's shown cells of the provider: (1.0 when the part equals a combination of
    the cells on the block's large atoms, else 0.0; 1.0 when the part adds anything
    to the cells, else 0.0). The organisation-wide analysis adds the union of every
    provider's part; it reveals a small group exactly when, in one campaign, every
    unsafe part has the first fact and some the second (``drivers``)."""
    yields, new = part_facts(shown, part, limit)
    return (1.0 if yields else 0.0), (1.0 if new else 0.0)


def _pack(values: FloatArray) -> bytes:
    return np.ascontiguousarray(values, dtype="<f8").tobytes()


def _unpack(data: bytes, columns: int) -> FloatArray:
    return np.frombuffer(data, dtype="<f8").reshape(-1, columns)


def _unanimous(
    specs: Sequence[tuple[Any, Key, FloatArray, IntArray]], limit: int
) -> frozenset[Hashable]:
    """trust (issue 15, item 12): the respondents of every cell of at least ``limit``
    whose answers are all the same (its scores, or its gaps P − E, have no spread):
    its mean is each member's answer. ``protect`` hides such a cell and every
    combination of cells that lives on such respondents only."""
    out: set[Hashable] = set()
    for _order, cell, mo, members in specs:
        if cell[0] == DRIVERS or members.shape[0] < limit:
            continue
        for count, total, total_sq in ((mo[0], mo[1], mo[2]), (mo[3], mo[4], mo[5])):
            # n·Σx² − (Σx)² is n² times the variance, zero up to rounding (about 1e-16
            # of n·Σx²); one score a third of a point off among a million respondents
            # still leaves about 1e-9 of it.
            if count >= limit and count * total_sq - total * total <= 1e-12 * max(
                1.0, count * total_sq
            ):
                out.update(members.tolist())
    return frozenset(out)


def _reliability_parts(
    specs: Sequence[tuple[Any, Key, FloatArray, IntArray]],
    reason: dict[Key, str],
    driver_parts: dict[tuple[str, str, str], frozenset[Hashable]],
    shown_by_part: dict[tuple[str, str, str], dict[tuple[str, str], list[frozenset[Hashable]]]],
    camp: IntArray,
    camp_names: list[str],
    prov: IntArray,
    prov_names: list[str],
    limit: int,
) -> Callable[[str, IntArray], IntArray]:
    """trust (issue 15, item 9): the filter that keeps, of one scale's complete
    respondents (positions), those whose campaign part may be pooled.

    The organisation-wide reliability pools every provider's and campaign's complete
    respondents; minus the published cells it would leave any part that is not itself
    safe (a suppressed campaign of 3: reliability n = 23 minus a published 20). So a
    scale's part of one campaign and provider joins the pool only when it, next to
    every group already published about that campaign and provider (the cells shown,
    the importance split, the driver parts of a shown driver analysis and the scale
    parts pooled before it), reveals no group below the threshold
    (``analytics.confidentiality.reveals``). Parts of different campaigns or
    providers share no respondent, so a combination of pools and cells that isolated
    a small group would do so within one part's block, which this test excludes: any
    pool of safe parts, at any time, is safe too (the driver analyses' argument)."""
    shown_drivers = {
        cell[1:4:2] for _o, cell, _mo, _m in specs if cell[0] == DRIVERS and cell not in reason
    }
    # Every dimension's shown groups of the part count: the pool is a count of people,
    # which a count of any dimension's cell could be subtracted from.
    published = {
        key: [group for groups in by_measure.values() for group in groups]
        for key, by_measure in shown_by_part.items()
    }
    for (name, c, p), part in driver_parts.items():
        if (name, p) in shown_drivers:
            published.setdefault((name, c, p), []).append(part)

    def keep(name: str, complete: IntArray) -> IntArray:
        distinct, group = _groups(camp[complete] * len(prov_names) + prov[complete])
        kept: list[IntArray] = []
        for j, members in enumerate(_split(group, distinct.shape[0], complete)):
            code = int(distinct[j])
            block = (name, camp_names[code // len(prov_names)], prov_names[code % len(prov_names)])
            part = frozenset(members.tolist())
            shown_here = published.setdefault(block, [])
            if not reveals([*shown_here, part], limit):
                shown_here.append(part)
                kept.append(members)
        return np.sort(np.concatenate(kept)) if kept else np.empty(0, dtype=np.int64)

    return keep


def _item_blocks(
    r: IntArray,
    inst: IntArray,
    prov: IntArray,
    item_col: Sequence[str],
    score: FloatArray,
    inst_names: list[str],
    prov_names: list[str],
    known: dict[str, Instrument],
    keep: Callable[[str, IntArray], IntArray] | None = None,
) -> list[tuple[Any, ...]]:
    """Per provider and dimension of two or more scaled items: the count, item sums
    and item cross-products of the respondents who answered all of them (of those
    ``keep`` lets into the pool, see :func:`_reliability_parts`)."""
    blocks: list[tuple[Any, ...]] = []
    item_code, item_names = _codes(item_col)
    for i_code, name in enumerate(inst_names):
        instrument = known.get(name)
        if instrument is None:
            continue
        position = {item.key: j for j, item in enumerate(instrument.items)}
        where = np.array([position.get(it, -1) for it in item_names], dtype=np.int64)
        pos = where[item_code]
        take = (inst[r] == i_code) & (pos >= 0)
        respondents, local = np.unique(r[take], return_inverse=True)
        matrix = np.full((respondents.shape[0], len(position)), np.nan)
        matrix[local.ravel(), pos[take]] = score[take]
        for dimension in instrument.dimensions:
            scaled = [it for it in dimension.items if it.scale is not None]
            if len(scaled) < 2:
                continue
            columns = matrix[:, [position[it.key] for it in scaled]]
            complete = ~np.isnan(columns).any(axis=1)
            if keep is not None and complete.any():
                complete &= np.isin(respondents, keep(name, respondents[complete]))
            if not complete.any():
                continue
            x = columns[complete]
            distinct, group = _groups(prov[respondents[complete]])
            k = x.shape[1]
            n = np.bincount(group, minlength=distinct.shape[0])
            sums = np.stack(
                [
                    np.bincount(group, weights=x[:, a], minlength=distinct.shape[0])
                    for a in range(k)
                ],
                axis=1,
            )
            products = np.stack(
                [
                    np.bincount(group, weights=x[:, a] * x[:, b], minlength=distinct.shape[0])
                    for a in range(k)
                    for b in range(k)
                ],
                axis=1,
            )
            for j, p_code in enumerate(distinct.tolist()):
                data = np.concatenate([sums[j], products[j]])
                blocks.append(
                    (ITEMS, name, prov_names[p_code], dimension.key, int(n[j]), _pack(data))
                )
    return blocks
