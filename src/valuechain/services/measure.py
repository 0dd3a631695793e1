"""Survey numbers: the one place where every score, reliability and driver result
is computed and protected before it leaves the service.

1. The database aggregates the finest cells (instrument × campaign × provider ×
   customer × dimension) in one GROUP BY pass: count, sum and sum of squares of
   the respondents' scores (``store.measure``). Coarser cells add them up.
2. ``analytics.score`` turns the moments into means, t intervals and gaps.
3. ``analytics.confidentiality.protect`` decides, over **every** cut this service
   offers at once (by provider, by relationship, by provider and dimension, each
   per campaign, and each provider's driver analysis over its campaigns),
   which cells are shown: none about fewer than the threshold respondents, directly
   or by subtracting cells of any of these cuts from each other. Because the
   decision is taken over all cuts together, the answer to one question can be
   combined with the answer to any other without revealing a small group.

A suppressed cell keeps its keys and carries no number (``"suppressed": true``).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

import numpy as np

from valuechain.analytics.confidentiality import (
    THRESHOLD,
    Cell,
    Disclosure,
    Suppression,
    check_threshold,
    protect,
    reveals,
)
from valuechain.analytics.driver import key_drivers, quadrants
from valuechain.analytics.nps import net_promoter
from valuechain.analytics.reliability import cronbach_alpha, mcdonald_omega
from valuechain.analytics.score import CrossProducts, Moments, mean_interval
from valuechain.domain.instrument import BUILT_IN, OUTCOME, RECOMMEND, Instrument
from valuechain.services.errors import NotFound, ValuechainError
from valuechain.services.organisation import Valuechain
from valuechain.store import measure as store
from valuechain.store import nps as nps_store

ALL = None  # the campaign key of cells that pool every campaign (driver analyses)


class By(StrEnum):
    """The cuts of ``scores``."""

    PROVIDER = "provider"
    RELATIONSHIP = "relationship"
    DIMENSION = "dimension"
    RELATIONSHIP_DIMENSION = "relationship_dimension"


# A cell's key: (cut, instrument, campaign or ALL, provider, customer, dimension).
Key = tuple[str, str, str | None, str, str | None, str | None]
DRIVERS = "drivers"


def threshold(vc: Valuechain) -> int:
    """The organisation's anonymity threshold (default 5)."""
    with vc.engine.connect() as conn:
        return store.read_threshold(conn, vc.org_id)


def set_threshold(vc: Valuechain, value: int) -> None:
    """Set the anonymity threshold (a whole number from 3 to 10)."""
    try:
        check_threshold(value)
    except ValueError as error:
        raise ValuechainError(str(error)) from None
    with vc.engine.begin() as conn:
        store.write_threshold(conn, vc.org_id, value)


def instruments(vc: Valuechain) -> dict[str, Instrument]:
    """Built-in and custom instruments by key."""
    with vc.engine.connect() as conn:
        custom = store.read_instruments(conn, vc.org_id)
    return {**BUILT_IN, **custom}


@dataclass
class _Acc:
    """Moments (n, Σx, Σx², n_gap, Σgap, Σgap²) and members of one cell."""

    sums: np.ndarray = field(default_factory=lambda: np.zeros(6))
    members: set[Hashable] = field(default_factory=set)


@dataclass
class _Table:
    """Every cell of every cut with the confidentiality decision over all of them."""

    threshold: int
    cells: dict[Key, _Acc]
    disclosure: Disclosure
    instruments: dict[str, Instrument]
    campaigns: list[str]
    dimension_scores: list[tuple[Any, ...]]
    open_campaigns: set[str] = field(default_factory=set)  # trust: results withheld


def _add(cells: dict[Key, _Acc], key: Key, sums: Sequence[Any]) -> None:
    acc = cells.get(key)
    if acc is None:
        acc = cells[key] = _Acc()
    acc.sums += np.array([0.0 if v is None else float(v) for v in sums])


def _member(cells: dict[Key, _Acc], key: Key, response: Hashable) -> None:
    acc = cells.get(key)
    if acc is None:
        acc = cells[key] = _Acc()
    acc.members.add(response)


def _complete_scores(
    rows: Iterable[tuple[Any, ...]], instrument: Instrument, provider: str | None = None
) -> tuple[list[str], np.ndarray, list[str]]:
    """Respondents × (driver dimensions…, outcome) scores of one instrument; rows of
    ``store.dimension_members``. Returns (response ids, matrix, provider per row)."""
    dims = [d.key for d in instrument.drivers] + [OUTCOME]
    position = {d: i for i, d in enumerate(dims)}
    index: dict[str, int] = {}
    providers: list[str] = []
    values: list[tuple[int, int, float]] = []
    for rid, inst, _campaign, rated, _rater, dim, score in rows:
        if inst != instrument.key or dim not in position:
            continue
        if provider is not None and rated != provider:
            continue
        if rid not in index:
            index[rid] = len(index)
            providers.append(rated)
        values.append((index[rid], position[dim], float(score)))
    matrix = np.full((len(index), len(dims)), np.nan)
    for i, j, v in values:
        matrix[i, j] = v
    return list(index), matrix, providers


def _table(vc: Valuechain) -> _Table:
    """Aggregate and protect every cell the service offers."""
    known = instruments(vc)
    with_outcome = [k for k, i in known.items() if i.outcome is not None]
    with vc.engine.connect() as conn:
        limit = store.read_threshold(conn, vc.org_id)
        campaigns = store.campaign_ids(conn, vc.org_id)
        score_rows = store.score_moments(conn, vc.org_id, with_outcome, OUTCOME)
        dim_rows = store.dimension_moments(conn, vc.org_id)
        score_members = store.score_members(conn, vc.org_id, with_outcome, OUTCOME)
        dim_members = store.dimension_members(conn, vc.org_id)
        # trust (confidentiality under attack): nothing about a campaign still open, or
        # a reader polling it would subtract two readings and isolate the newcomers.
        still_open = store.open_campaigns(conn, vc.org_id, date.today())
    if still_open:
        score_rows = [r for r in score_rows if r[1] not in still_open]
        dim_rows = [r for r in dim_rows if r[1] not in still_open]
        score_members = [r for r in score_members if r[2] not in still_open]
        dim_members = [r for r in dim_members if r[2] not in still_open]
    # end trust
    cells: dict[Key, _Acc] = {}
    # Every cut is per campaign: pooling campaigns would count a unit that answered
    # twice twice, and a pooled cut minus one campaign's would reach into the other.
    for inst, camp, prov, cust, *sums in score_rows:
        _add(cells, (By.PROVIDER.value, inst, camp, prov, None, None), sums)
        _add(cells, (By.RELATIONSHIP.value, inst, camp, prov, cust, None), sums)
    for inst, camp, prov, cust, dim, *sums in dim_rows:
        _add(cells, (By.DIMENSION.value, inst, camp, prov, None, dim), sums)
        _add(cells, (By.RELATIONSHIP_DIMENSION.value, inst, camp, prov, cust, dim), sums)
    for rid, inst, camp, prov, cust in score_members:
        _member(cells, (By.PROVIDER.value, inst, camp, prov, None, None), rid)
        _member(cells, (By.RELATIONSHIP.value, inst, camp, prov, cust, None), rid)
    for rid, inst, camp, prov, cust, dim, _score in dim_members:
        _member(cells, (By.DIMENSION.value, inst, camp, prov, None, dim), rid)
        _member(cells, (By.RELATIONSHIP_DIMENSION.value, inst, camp, prov, cust, dim), rid)
    # Each provider's driver analysis is about its complete respondents.
    # trust: ... and is decided after the per-campaign cells, from its parts per
    # campaign (below), so that it cannot change their decisions over time.
    campaign_of = {row[0]: row[2] for row in dim_members}
    driver_parts: dict[tuple[str, str, str], set[Hashable]] = {}
    for key in with_outcome:
        ids, matrix, providers = _complete_scores(dim_members, known[key])
        complete = ~np.isnan(matrix).any(axis=1)
        for rid, prov, ok in zip(ids, providers, complete.tolist(), strict=True):
            if ok:
                _member(cells, (DRIVERS, key, ALL, prov, None, None), rid)
                driver_parts.setdefault((key, campaign_of[rid], prov), set()).add(rid)
    # Cells of one instrument share one measure: counts are shown in all of them,
    # so any two may be subtracted from each other. Cells about exactly the same
    # respondents (a provider's total and its dimensions, when everyone answered
    # everything) tell the same count, so they are decided together.
    groups: dict[tuple[str, frozenset[Hashable]], list[Key]] = {}
    for k, acc in cells.items():
        if k[0] != DRIVERS:  # trust: decided below
            groups.setdefault((k[1], frozenset(acc.members)), []).append(k)
    decided = protect(
        [Cell(keys[0], members, measure=inst) for (inst, members), keys in groups.items()],
        limit,
    )
    suppressed: dict[Hashable, Suppression] = {
        k: decided.suppressed[keys[0]]
        for keys in groups.values()
        if keys[0] in decided.suppressed
        for k in keys
    }
    # trust (confidentiality under attack): a driver analysis pools a provider's
    # closed campaigns, so its respondents change when a campaign closes; a reader
    # who kept the earlier answer subtracts it. It is shown only when each campaign's
    # part could be published next to that campaign's published cells without
    # revealing a small group; then every pool of parts, at any time, is safe too.
    shown_by_part: dict[tuple[str, str | None, str], list[frozenset[Hashable]]] = {}
    for k, acc in cells.items():
        if k[0] != DRIVERS and k not in suppressed and acc.members:
            shown_by_part.setdefault((k[1], k[2], k[3]), []).append(frozenset(acc.members))
    unsafe_parts = {
        (inst, camp, prov)
        for (inst, camp, prov), part in driver_parts.items()
        if reveals([*shown_by_part.get((inst, camp, prov), []), frozenset(part)], limit)
    }
    unsafe = {(inst, prov) for inst, _camp, prov in unsafe_parts}
    for k in cells:
        if k[0] == DRIVERS and (k[1], k[3]) in unsafe:
            suppressed[k] = Suppression.COMPLEMENT
    for inst in _organisation_leaks(driver_parts, shown_by_part, unsafe_parts, limit):
        suppressed[(DRIVERS, inst, ALL, ORGANISATION, None, None)] = Suppression.COMPLEMENT
    # end trust
    disclosure = Disclosure(limit, suppressed)
    return _Table(limit, cells, disclosure, known, campaigns, dim_members, still_open)


# trust: the key of the organisation-wide driver analysis (no unit has an empty id).
ORGANISATION = ""


def _organisation_leaks(
    driver_parts: dict[tuple[str, str, str], set[Hashable]],
    shown_by_part: dict[tuple[str, str | None, str], list[frozenset[Hashable]]],
    unsafe_parts: set[tuple[str, str, str]],
    limit: int,
) -> set[str]:
    """trust: instruments whose organisation-wide driver analysis would reveal a small
    group. Per campaign it adds the union of every provider's part. A safe part may be
    known (it was shown, or could have been, in its provider's pool), so what it adds
    is the union R of the unsafe parts. Providers' respondents are disjoint, so a
    combination isolating a small group exists exactly when, in every unsafe part's
    block, the part equals a combination of that block's shown cells on the block's
    large atoms (then one multiple of R cancels all large atoms), and in some block
    not everywhere (else R adds nothing): ranks per block, never the whole table."""
    leaking: set[str] = set()
    blocks: dict[tuple[str, str], list[tuple[str, set[Hashable]]]] = {}
    for (inst, camp, prov), part in driver_parts.items():
        if (inst, camp, prov) in unsafe_parts:
            blocks.setdefault((inst, camp), []).append((prov, part))
    for (inst, camp), hidden in blocks.items():
        all_yield, anything_new = True, False
        for prov, part in hidden:
            shown = shown_by_part.get((inst, camp, prov), [])
            ids = sorted(set(part).union(*shown), key=repr)
            position = {m: i for i, m in enumerate(ids)}
            matrix = np.zeros((len(shown) + 1, len(ids)))
            for row, group in enumerate([*shown, frozenset(part)]):
                matrix[row, [position[m] for m in group]] = 1.0
            _, inverse, counts = np.unique(
                matrix.T, axis=0, return_inverse=True, return_counts=True
            )
            large = counts[inverse.ravel()] >= limit
            cells_only = matrix[:-1]

            def rank(a: np.ndarray) -> int:
                return 0 if a.size == 0 else int(np.linalg.matrix_rank(a))

            if rank(matrix[:, large]) != rank(cells_only[:, large]):
                all_yield = False
                break
            if rank(matrix) != rank(cells_only):
                anything_new = True
        if all_yield and anything_new:
            leaking.add(inst)
    return leaking


def _num(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _order(instrument: Instrument | None, dimension: str | None) -> int:
    if instrument is None or dimension is None:
        return 0
    keys = [d.key for d in instrument.dimensions]
    return keys.index(dimension) if dimension in keys else len(keys)


# The tables read inside :func:`one_reading`, by Valuechain object (None: outside).
_READING: ContextVar[dict[int, tuple[Valuechain, _Table]] | None] = ContextVar(
    "measure_reading", default=None
)


@contextmanager
def one_reading(vc: Valuechain) -> Iterator[None]:
    """Within the block, every :func:`scores` call about ``vc`` answers from one
    reading of the responses, read and protected once (a page that asks for many
    campaigns' cells pays for one ``_table``, and its numbers agree with each other).
    Nested blocks share the outer reading; the reading ends with the outermost block."""
    if _READING.get() is not None:
        yield
        return
    token = _READING.set({})
    try:
        yield
    finally:
        _READING.reset(token)


def _reading(vc: Valuechain) -> _Table:
    memo = _READING.get()
    if memo is None:
        return _table(vc)
    found = memo.get(id(vc))
    if found is None or found[0] is not vc:
        found = memo[id(vc)] = (vc, _table(vc))
    return found[1]


def scores(
    vc: Valuechain,
    by: By | str = By.PROVIDER,
    campaign: str | None = None,
    instrument: str | None = None,
) -> dict[str, Any]:
    """Mean scores with 95% t intervals per provider, relationship (provider ×
    customer) or provider × dimension, for one campaign (default: the latest by id).

    A provider's or relationship's score is each respondent's ``overall`` score where
    the instrument has one, else the mean of the respondent's dimension scores. For
    instruments that ask expectations, ``gap`` is the mean P − E. Cells about fewer
    than the threshold respondents, or that would reveal such a group by subtraction
    from any other cell offered, carry ``"suppressed": true`` and no numbers."""
    cut = By(by)
    table = _reading(vc)
    if campaign is not None and campaign not in table.campaigns:
        raise NotFound(f"no campaign with id {campaign!r}")
    if campaign is None and table.campaigns:
        # trust: the latest campaign with results, i.e. not still open.
        closed = [c for c in table.campaigns if c not in table.open_campaigns]
        campaign = (closed or table.campaigns)[-1]
    if instrument is not None and instrument not in table.instruments:
        raise NotFound(f"no instrument {instrument!r}")
    keys = sorted(
        (
            k
            for k in table.cells
            if k[0] == cut.value and k[2] == campaign and (instrument is None or k[1] == instrument)
        ),
        key=lambda k: (
            k[1],
            k[3],
            k[4] or "",
            _order(table.instruments.get(k[1]), k[5]),
        ),
    )
    out: list[dict[str, Any]] = []
    for key in keys:
        _, inst, _camp, provider, customer, dimension = key
        acc = table.cells[key]
        cell: dict[str, Any] = {"instrument": inst, "provider": provider}
        if cut in (By.RELATIONSHIP, By.RELATIONSHIP_DIMENSION):
            cell["customer"] = customer
        if cut in (By.DIMENSION, By.RELATIONSHIP_DIMENSION):
            cell["dimension"] = dimension
        asks = table.instruments[inst].asks_expectation if inst in table.instruments else False
        shown = table.disclosure.published(key)
        if not shown:
            cell.update(n=None, mean=None, ci_low=None, ci_high=None)
            if asks:
                cell["gap"] = None
            cell["suppressed"] = True
            out.append(cell)
            continue
        n, total, total_sq, gap_n, gap_total, gap_sq = acc.sums.tolist()
        interval = mean_interval(Moments.of([n], [total], [total_sq]))
        cell.update(
            n=int(n),
            mean=_num(float(interval.mean[0])),
            ci_low=_num(float(interval.ci_low[0])),
            ci_high=_num(float(interval.ci_high[0])),
        )
        if asks:
            # The gap is shown only when it is about the same respondents as the mean.
            if gap_n == n and n > 0:
                gap = mean_interval(Moments.of([gap_n], [gap_total], [gap_sq]))
                cell.update(
                    gap=_num(float(gap.mean[0])),
                    gap_ci_low=_num(float(gap.ci_low[0])),
                    gap_ci_high=_num(float(gap.ci_high[0])),
                )
            else:
                cell["gap"] = None
        cell["suppressed"] = False
        out.append(cell)
    return {
        "threshold": table.threshold,
        "by": cut.value,
        "campaign": campaign,
        "cells": out,
    }


def reliability(vc: Valuechain) -> dict[str, Any]:
    """Cronbach's alpha with the Feldt 95% interval per instrument × dimension of two
    or more items, from the complete responses of the whole organisation; a scale
    with 1 to threshold − 1 complete responses is suppressed."""
    known = instruments(vc)
    with vc.engine.connect() as conn:
        limit = store.read_threshold(conn, vc.org_id)
        used = store.instruments_used(conn, vc.org_id)
        answers = {key: store.item_answers(conn, vc.org_id, key) for key in used}
    scales: list[dict[str, Any]] = []
    for key in used:
        instrument = known.get(key)
        if instrument is None:
            continue
        rows = answers[key]
        index: dict[str, int] = {}
        for rid, _item, _score in rows:
            index.setdefault(rid, len(index))
        item_pos = {item.key: j for j, item in enumerate(instrument.items)}
        matrix = np.full((len(index), len(item_pos)), np.nan)
        for rid, item, score in rows:
            if item in item_pos:
                matrix[index[rid], item_pos[item]] = score
        for dimension in instrument.dimensions:
            scaled = [i for i in dimension.items if i.scale is not None]
            if len(scaled) < 2:
                continue
            columns = matrix[:, [item_pos[i.key] for i in scaled]]
            result = cronbach_alpha(CrossProducts.from_answers(columns))
            entry: dict[str, Any] = {
                "instrument": key,
                "dimension": dimension.key,
                "items": len(scaled),
            }
            if 0 < result.n < limit:
                entry.update(n=None, alpha=None, ci_low=None, ci_high=None, suppressed=True)
            else:
                entry.update(
                    n=result.n,
                    alpha=_num(result.alpha),
                    ci_low=_num(result.ci_low),
                    ci_high=_num(result.ci_high),
                    reason=None if result.reason is None else str(result.reason),
                    suppressed=False,
                )
            scales.append(entry)
    return {"threshold": limit, "scales": scales}


def drivers(
    vc: Valuechain, provider: str | None = None, instrument: str | None = None
) -> dict[str, Any]:
    """Johnson (2000) relative weights of the dimension scores on ``overall``, with
    bootstrap 95% intervals, R², each dimension's mean (performance) and its
    importance–performance quadrant; for the whole organisation or one provider."""
    table = _table(vc)
    candidates = [
        k
        for k, i in table.instruments.items()
        if i.outcome is not None and any(row[1] == k for row in table.dimension_scores)
    ]
    if instrument is None:
        if not candidates:
            raise NotFound("no responses to an instrument with an 'overall' dimension")
        instrument = candidates[0]
    elif instrument not in candidates:
        raise NotFound(f"no responses to an instrument {instrument!r} with an 'overall' dimension")
    known = table.instruments[instrument]
    if provider is not None and not any(
        row[1] == instrument and row[3] == provider for row in table.dimension_scores
    ):
        raise NotFound(f"no responses about provider {provider!r}")
    _ids, matrix, _providers = _complete_scores(table.dimension_scores, known, provider)
    complete = matrix[~np.isnan(matrix).any(axis=1)]
    n = int(complete.shape[0])
    dims = [d.key for d in known.drivers]
    base: dict[str, Any] = {
        "threshold": table.threshold,
        "instrument": instrument,
        "provider": provider,
        "outcome": OUTCOME,
    }
    hidden = 0 < n < table.threshold or not table.disclosure.published(
        (DRIVERS, instrument, ALL, ORGANISATION if provider is None else provider, None, None)
    )  # trust: the organisation-wide analysis is decided too
    if hidden:
        return {
            **base,
            "n": None,
            "r2": None,
            "drivers": [{"dimension": d} for d in dims],
            "suppressed": True,
        }
    result = key_drivers(complete[:, :-1], complete[:, -1])
    quadrant = quadrants(result.share, result.performance)
    return {
        **base,
        "n": n,
        "r2": _num(result.r2),
        "reason": None if result.reason is None else str(result.reason),
        "drivers": [
            {
                "dimension": d,
                "weight": _num(float(result.weight[j])),
                "share": _num(float(result.share[j])),
                "ci_low": _num(float(result.ci_low[j])),
                "ci_high": _num(float(result.ci_high[j])),
                "performance": _num(float(result.performance[j])),
                "quadrant": None if quadrant[j] is None else str(quadrant[j]),
            }
            for j, d in enumerate(dims)
        ],
        "suppressed": False,
    }


__all__ = [
    "ALL",
    "THRESHOLD",
    "By",
    "PublishedCell",
    "drivers",
    "instruments",
    "published_cells",
    "reliability",
    "reliability_with_omega",
    "scores",
    "scores_with_nps",
    "set_threshold",
    "threshold",
]


# -- for other use cases (change, dashboard): published cells with their moments -------


@dataclass(frozen=True)
class PublishedCell:
    """One cell of a ``scores`` cut with its sufficient statistics, or ``None`` when
    the protection over every cut suppresses it."""

    by: By
    instrument: str
    campaign: str
    provider: str
    customer: str | None
    dimension: str | None
    moments: Moments | None
    gap: Moments | None = None  # P − E where every answer in the cell has both


def published_cells(vc: Valuechain) -> tuple[int, list[str], list[PublishedCell]]:
    """(threshold, campaigns, cells): every cell of every ``scores`` cut in every
    campaign, decided together by the same protection as :func:`scores`, with the
    count, sum and sum of squares of the published ones. Any number computed from
    published cells alone (a difference between campaigns, its test) reveals no group
    that the scores themselves do not."""
    table = _table(vc)
    out: list[PublishedCell] = []
    for key, acc in table.cells.items():
        cut, inst, camp, provider, customer, dimension = key
        if cut == DRIVERS or camp is None:
            continue
        n, total, total_sq, gap_n, gap_total, gap_sq = acc.sums.tolist()
        shown = table.disclosure.published(key)
        gap = Moments.of([gap_n], [gap_total], [gap_sq]) if shown and gap_n == n > 0 else None
        out.append(
            PublishedCell(
                By(cut),
                inst,
                camp,
                provider,
                customer,
                dimension,
                Moments.of([n], [total], [total_sq]) if shown else None,
                gap,
            )
        )
    return table.threshold, table.campaigns, out


def reliability_with_omega(vc: Valuechain) -> dict[str, Any]:
    """:func:`reliability` with McDonald's omega (one-factor ML model) per scale of
    three or more items, from the same complete responses; suppressed scales stay
    without numbers."""
    found = reliability(vc)
    known = instruments(vc)
    wanted = {s["instrument"] for s in found["scales"] if not s["suppressed"]}
    with vc.engine.connect() as conn:
        answers = {key: store.item_answers(conn, vc.org_id, key) for key in sorted(wanted)}
    for scale in found["scales"]:
        if scale["suppressed"]:
            scale["omega"] = None
            continue
        instrument = known[scale["instrument"]]
        items = [i.key for i in instrument.dimension(scale["dimension"]).items if i.scale]
        position = {item: j for j, item in enumerate(items)}
        index: dict[str, int] = {}
        for rid, item, _score in answers[scale["instrument"]]:
            if item in position:
                index.setdefault(rid, len(index))
        matrix = np.full((len(index), len(items)), np.nan)
        for rid, item, score in answers[scale["instrument"]]:
            if item in position:
                matrix[index[rid], position[item]] = score
        result = mcdonald_omega(CrossProducts.from_answers(matrix))
        scale["omega"] = _num(result.omega)
        scale["omega_reason"] = None if result.reason is None else str(result.reason)
    return found


def scores_with_nps(
    vc: Valuechain,
    by: By | str = By.PROVIDER,
    campaign: str | None = None,
    instrument: str | None = None,
) -> dict[str, Any]:
    """:func:`scores`, and for every shown cell of the ``recommend`` instrument its
    net promoter score with the Wald 95% interval and the promoter and detractor
    shares (``analytics.nps.net_promoter``). The answer counts are sums over the
    cell's respondents like its mean, so a shown cell's NPS reveals no group its
    mean does not; a cell whose counts do not cover exactly its respondents gets
    no NPS."""
    found = scores(vc, by, campaign=campaign, instrument=instrument)
    shown = [c for c in found["cells"] if c["instrument"] == RECOMMEND.key and not c["suppressed"]]
    if not shown or found["campaign"] is None:
        return found
    dimension = RECOMMEND.dimensions[0].key
    with vc.engine.connect() as conn:
        rows = nps_store.answer_counts(conn, vc.org_id, RECOMMEND.key, dimension, found["campaign"])
    counts: dict[tuple[str, str | None], np.ndarray] = {}
    for provider, customer, answer, respondents in rows:
        value = float(answer)
        if not (0 <= value <= 10 and value == round(value)):
            continue
        for key in ((provider, None), (provider, customer)):
            bins = counts.setdefault(key, np.zeros(11, dtype=np.int64))
            bins[int(value)] += int(respondents)
    for cell in shown:
        found_bins = counts.get((cell["provider"], cell.get("customer")))
        if found_bins is None or int(found_bins.sum()) != cell["n"]:
            continue
        result = net_promoter(found_bins)
        cell.update(
            nps=_num(float(result.nps)),
            nps_ci_low=_num(float(result.ci_low)),
            nps_ci_high=_num(float(result.ci_high)),
            promoters=_num(float(result.promoters)),
            detractors=_num(float(result.detractors)),
        )
    return found
