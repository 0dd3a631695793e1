"""Survey numbers: the one place where every score, reliability and driver result
is computed and protected before it leaves the service.

1. Per provider, the answers are turned into respondents' dimension scores and the
   finest cells (instrument × campaign × provider × customer × dimension) get their
   count, sum and sum of squares in one vectorised pass (``numpy.bincount`` over
   group codes); coarser cells are sums of these.
2. ``analytics.confidentiality.protect`` decides, over **every** cut this service
   offers at once (by provider, by relationship, by provider and dimension, each
   per campaign, and each provider's driver analysis over its campaigns), which
   cells are shown: none about fewer than the threshold respondents, directly or by
   subtracting cells of any of these cuts from each other. Because the decision is
   taken over all cuts together, the answer to one question can be combined with
   the answer to any other without revealing a small group. Cells of different
   providers share no respondent, so the decision for one provider depends on that
   provider's cells only (``protect`` splits its input into such linked groups
   itself): it is taken once, when the provider's responses change.
3. The decided cells and each provider's respondent-level blocks (complete driver
   scores, item cross-products) are stored as summaries (``store.measure``);
   ``refresh`` recomputes the providers with responses not yet summarised — at
   import, or on the first question after any other write. Every question then
   reads summaries: the whole organisation without touching its answers, one
   provider through an index range.
4. ``analytics.score`` turns the moments into means, t intervals and gaps.

A suppressed cell keeps its keys and carries no number (``"suppressed": true``).
"""

from __future__ import annotations

import copy
import functools
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import Context, ContextVar
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Concatenate, ParamSpec, TypeVar

import numpy as np
from sqlalchemy import Connection

from valuechain.analytics.confidentiality import (
    THRESHOLD,
    check_threshold,
)
from valuechain.analytics.driver import key_drivers, quadrants
from valuechain.analytics.nps import net_promoter
from valuechain.analytics.reliability import cronbach_alpha, mcdonald_omega
from valuechain.analytics.score import (
    CrossProducts,
    Moments,
    importance_weighted_gap,
    mean_interval,
)
from valuechain.domain.instrument import (
    BUILT_IN,
    OUTCOME,
    RECOMMEND,
    Instrument,
)
from valuechain.domain.response import By
from valuechain.services import audit
from valuechain.services.audit import Actor
from valuechain.services.errors import NotFound, ValuechainError
from valuechain.services.measure_types import (
    DriverAnalysis,
    Reliability,
    ReliabilityDocument,
    ScoreCell,
    Scores,
    ServqualTotal,
    ServqualTotals,
)
from valuechain.services.organisation import Valuechain
from valuechain.services.summary import (  # noqa: F401 - re-exported
    AHEAD_MIN_ANSWERS,
    ALL,
    DRIVER_PART,
    DRIVERS,
    IMPORTANCE,
    ITEMS,
    NORMAL_BOOTSTRAP_ABOVE,
    ORGANISATION,
    SUMMARY_BATCH,
    Ahead,
    FloatArray,
    IntArray,
    Key,
    _part_facts,
    _unpack,
    refresh_in,
    summaries_of,
    summarise,
    summarise_ahead,
)
from valuechain.services.transaction import WriteInReadUnit, in_unit, reading, writing
from valuechain.store import measure as store
from valuechain.store import nps as nps_store

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


def threshold(vc: Valuechain) -> int:
    """The organisation's anonymity threshold (default 5)."""
    with reading(vc) as conn:
        if _READING.get() is not None:
            return _facts(vc, conn).limit
        return store.read_threshold(conn, vc.org_id)


def _threshold_refused(vc: Valuechain, who: Actor, subject: str, reason: str) -> ValuechainError:
    """The error for a refused threshold change, recorded in the audit log first."""
    audit.record(
        vc, audit.THRESHOLD_CHANGED, who, outcome=audit.REFUSED, subject=subject, detail=reason
    )
    return ValuechainError(reason)


def set_threshold(vc: Valuechain, value: int, actor: Actor | None = None) -> None:
    """Set the anonymity threshold (a whole number from 3 to 10); every cell is
    decided again. It may be raised at any time, lowered only while no response is
    published: the cells decided at the lower threshold, read next to those read
    before at the higher one, could single out a respondent (a cell hidden before
    as a complement is shown after, while its partner was shown before). Recorded in
    the audit log (a refused value too)."""
    who = actor or Actor.command_line()
    try:
        check_threshold(value)
    except ValueError as error:
        raise _threshold_refused(vc, who, "numbers", str(error)) from None
    with writing(vc) as conn:
        before = store.read_threshold(conn, vc.org_id)
        lowering = value < before and store.has_responses(conn, vc.org_id)
        if not lowering:
            store.write_threshold(conn, vc.org_id, value)
            refresh_in(conn, vc.org_id)
            audit.record(
                vc,
                audit.THRESHOLD_CHANGED,
                who,
                subject="numbers",
                detail=f"{before} to {value}",
                conn=conn,
            )
    if lowering:
        raise _threshold_refused(
            vc,
            who,
            "numbers",
            f"the threshold cannot be lowered from {before} to {value} once survey "
            "results are published: numbers read at both thresholds could together "
            "single out a respondent; it can only be raised",
        )


def instruments(vc: Valuechain) -> dict[str, Instrument]:
    """Built-in and custom instruments by key."""
    with reading(vc) as conn:
        if _READING.get() is not None:
            return dict(_facts(vc, conn).known)
        custom = store.read_instruments(conn, vc.org_id)
    return {**BUILT_IN, **custom}


# -- summaries ---------------------------------------------------------------------


def _still_open_if_fresh(conn: Connection, org_id: int) -> set[str] | None:
    """The campaigns open today when every summary is up to date; ``None`` when a
    summary misses a response, or a campaign opened or closed (by the calendar too)
    since the summaries were last refreshed."""
    if store.stale_providers(conn, org_id):
        return None
    still_open = store.open_campaigns(conn, org_id, date.today())
    return still_open if still_open == store.summarised_open_campaigns(conn, org_id) else None


def refresh(vc: Valuechain) -> int:
    """Bring every provider's summary up to date; returns how many were recomputed.

    Inside a writing unit the refresh joins it; inside a reading unit (a page that
    found the summaries stale, e.g. the day a campaign closed) it commits in a unit of
    its own, which the reading sees: pysqlite and PostgreSQL (read committed) read the
    latest committed rows at every statement of a reading unit."""
    reading_memo = _READING.get()
    if reading_memo is not None and reading_memo.fresh:
        return 0
    with reading(vc) as conn:
        if _still_open_if_fresh(conn, vc.org_id) is not None:
            return 0
    try:
        with writing(vc) as conn:
            return refresh_in(conn, vc.org_id)
    except WriteInReadUnit:
        return Context().run(refresh, vc)


def _num(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _order(instrument: Instrument | None, dimension: str | None) -> int:
    if instrument is None or dimension is None:
        return 0
    keys = [d.key for d in instrument.dimensions]
    return keys.index(dimension) if dimension in keys else len(keys)


@dataclass(frozen=True)
class _Facts:
    """What every survey question reads first: the threshold, the campaigns (oldest
    first), the instruments and the campaigns still open."""

    limit: int
    campaigns: list[str]
    known: dict[str, Instrument]
    still_open: set[str]


@dataclass
class _Reading:
    """The memo of one :func:`one_reading`: summaries known fresh, the facts read once,
    and the answers of :func:`scores` by arguments."""

    fresh: bool = False
    still_open: set[str] | None = None
    facts: _Facts | None = None
    scores: dict[tuple[Any, ...], Scores] = field(default_factory=dict)


# The reading the calling code runs in (None: outside any).
_READING: ContextVar[_Reading | None] = ContextVar("measure_reading", default=None)


@contextmanager
def _memo(still_open: set[str] | None = None) -> Iterator[None]:
    token = _READING.set(_Reading(fresh=True, still_open=still_open))
    try:
        yield
    finally:
        _READING.reset(token)


@contextmanager
def one_reading(vc: Valuechain) -> Iterator[None]:
    """One reading unit on up-to-date summaries, in which the survey facts (threshold,
    campaigns, instruments) are read once and :func:`scores` answers each distinct
    question once (a page that asks for many campaigns' cells, or the same cells from
    several places, reads the summaries once per question, and its numbers agree with
    each other). Nested blocks share the outer reading. Stale summaries are refreshed
    first (a write, see :func:`refresh`); a block that is the use case's first unit
    checks that with the connection it then reads on."""
    if _READING.get() is not None:
        yield
        return
    if not in_unit(vc):
        with reading(vc) as conn:
            still_open = _still_open_if_fresh(conn, vc.org_id)
            if still_open is not None:
                with _memo(still_open):
                    yield
                return
    refresh(vc)
    with reading(vc), _memo():
        yield


def within_reading(
    question: Callable[Concatenate[Valuechain, P], R],
) -> Callable[Concatenate[Valuechain, P], R]:
    """Run ``question`` inside :func:`one_reading`: one unit, each fact read once."""

    @functools.wraps(question)
    def asked(vc: Valuechain, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with one_reading(vc):
            return question(vc, *args, **kwargs)

    return asked


def _facts(vc: Valuechain, conn: Connection) -> _Facts:
    """The survey facts, read once per :func:`one_reading`."""
    memo = _READING.get()
    if memo is not None and memo.facts is not None:
        return memo.facts
    facts = _Facts(
        limit=store.read_threshold(conn, vc.org_id),
        campaigns=store.campaign_ids(conn, vc.org_id),
        known={**BUILT_IN, **store.read_instruments(conn, vc.org_id)},
        still_open=(
            memo.still_open
            if memo is not None and memo.still_open is not None
            else store.open_campaigns(conn, vc.org_id, date.today())
        ),
    )
    if memo is not None:
        memo.facts = facts
    return facts


@contextmanager
def _survey(vc: Valuechain) -> Iterator[tuple[Connection, _Facts]]:
    """A question's connection (inside :func:`one_reading`) and the survey facts."""
    with one_reading(vc), reading(vc) as conn:
        yield conn, _facts(vc, conn)


def scores(
    vc: Valuechain,
    by: By | str = By.PROVIDER,
    campaign: str | None = None,
    instrument: str | None = None,
    provider: str | None = None,
) -> Scores:
    """The protected scores (see :func:`_scores`), answered once per question inside
    :func:`one_reading`."""
    with one_reading(vc):
        memo = _READING.get()
        assert memo is not None
        key = (id(vc), vc.org_id, By(by).value, campaign, instrument, provider)
        if key not in memo.scores:
            memo.scores[key] = _scores(vc, by, campaign, instrument, provider)
        return copy.deepcopy(memo.scores[key])


def _scores(
    vc: Valuechain,
    by: By | str = By.PROVIDER,
    campaign: str | None = None,
    instrument: str | None = None,
    provider: str | None = None,
) -> Scores:
    """Mean scores with 95% t intervals per provider, relationship (provider ×
    customer) or provider × dimension, for one campaign (default: the latest closed
    one in time order, ``store.campaign_ids``); all providers, or one (read through an
    index, not the whole organisation).

    A provider's or relationship's score is each respondent's ``overall`` score where
    the instrument has one, else the mean of the respondent's dimension scores. For
    instruments that ask expectations, ``gap`` is the mean P − E. Cells about fewer
    than the threshold respondents, or that would reveal such a group by subtraction
    from any other cell offered, carry ``"suppressed": true`` and no numbers."""
    cut = By(by)
    with _survey(vc) as (conn, facts):
        limit, campaigns, known = facts.limit, facts.campaigns, facts.known
        if campaign is not None and campaign not in campaigns:
            raise NotFound(f"no campaign with id {campaign!r}")
        if campaign is None and campaigns:
            # trust: the latest campaign with results, i.e. not still open.
            still_open = facts.still_open
            closed = [c for c in campaigns if c not in still_open]
            campaign = (closed or campaigns)[-1]
        if instrument is not None and instrument not in known:
            raise NotFound(f"no instrument {instrument!r}")
        rows = (
            store.read_cells(
                conn,
                vc.org_id,
                cut.value,
                campaign=campaign,
                instrument=instrument,
                provider=provider,
            )
            if campaign is not None
            else []
        )
    order = {key: {d.key: j for j, d in enumerate(i.dimensions)} for key, i in known.items()}
    rows.sort(
        key=lambda row: (
            row[2],
            row[3],
            row[4],
            order.get(row[2], {}).get(row[5], len(order.get(row[2], {}))) if row[5] else 0,
        )
    )
    shown = [row for row in rows if row[12] is None]
    interval = mean_interval(
        Moments.of([r[6] for r in shown], [r[7] for r in shown], [r[8] for r in shown])
    )
    same = [r[9] == r[6] and r[6] > 0 for r in shown]
    gaps = mean_interval(
        Moments.of(
            [r[9] if ok else 0 for r, ok in zip(shown, same, strict=True)],
            [r[10] if ok else 0.0 for r, ok in zip(shown, same, strict=True)],
            [r[11] if ok else 0.0 for r, ok in zip(shown, same, strict=True)],
        )
    )
    where = {id(row): j for j, row in enumerate(shown)}
    out: list[ScoreCell] = []
    for row in rows:
        _cut, _camp, inst, prov, customer, dimension = row[:6]
        asks = known[inst].asks_expectation if inst in known else False
        j = where.get(id(row))
        cell: ScoreCell = (
            {
                "instrument": inst,
                "provider": prov,
                "n": None,
                "mean": None,
                "ci_low": None,
                "ci_high": None,
                "suppressed": True,
            }
            if j is None
            else {
                "instrument": inst,
                "provider": prov,
                "n": int(row[6]),
                "mean": _num(float(interval.mean[j])),
                "ci_low": _num(float(interval.ci_low[j])),
                "ci_high": _num(float(interval.ci_high[j])),
                "suppressed": False,
            }
        )
        if cut in (By.RELATIONSHIP, By.RELATIONSHIP_DIMENSION):
            cell["customer"] = customer
        if cut in (By.DIMENSION, By.RELATIONSHIP_DIMENSION):
            cell["dimension"] = dimension
        if asks:
            cell["gap"] = None
            # The gap is shown only when it is about the same respondents as the mean.
            if j is not None and row[9] == row[6] and row[6] > 0:
                cell["gap"] = _num(float(gaps.mean[j]))
                cell["gap_ci_low"] = _num(float(gaps.ci_low[j]))
                cell["gap_ci_high"] = _num(float(gaps.ci_high[j]))
        out.append(cell)
    return {
        "threshold": limit,
        "by": cut,
        "campaign": campaign,
        "cells": out,
    }


def _organisation_leaks(part_rows: Sequence[tuple[Any, ...]], limit: int = THRESHOLD) -> bool:
    """trust: whether the organisation-wide driver analysis would reveal a small
    group. Per campaign it adds the union of every provider's part. A safe part may be
    known (it was shown, or could have been, in its provider's pool), so what it adds
    is the union R of the unsafe parts (``driver_part`` rows). Providers' respondents
    are disjoint, so a combination isolating a small group exists exactly when, in
    every unsafe part's block, the part equals a combination of that block's shown
    cells on the block's large atoms (then one multiple of R cancels all large
    atoms), and in some block not everywhere (else R adds nothing): decided per
    provider by ``_part_facts`` when it is summarised, never over the whole table.

    Decided per measure (each dimension's performance mean is a sum of its own, the
    row's dimension). A block where R adds something leaves at least one respondent
    of that block in the combination (blocks share no respondent), so the combination
    is about at least as many respondents as such blocks: with ``limit`` or more of
    them it reveals no small group."""
    by_measure: dict[tuple[str, str], list[tuple[bool, bool]]] = {}
    for row in part_rows:
        by_measure.setdefault((row[1], row[5]), []).append((row[7] > 0, row[8] > 0))
    return any(
        all(yields for yields, _new in facts) and 0 < sum(new for _yields, new in facts) < limit
        for facts in by_measure.values()
    )


def _pooled_items(conn: Connection, org_id: int) -> dict[tuple[str, str], CrossProducts]:
    """Per instrument and dimension, the sum of every provider's item cross-products
    of its complete respondents (the whole organisation's, as one block)."""
    parts: dict[tuple[str, str], tuple[list[int], list[bytes]]] = {}
    for inst, _prov, dimension, n, data in store.read_blocks(conn, org_id, ITEMS):
        ns, datas = parts.setdefault((inst, dimension), ([], []))
        ns.append(int(n))
        datas.append(data)
    pooled: dict[tuple[str, str], CrossProducts] = {}
    for scale, (ns, datas) in parts.items():
        width = len(datas[0]) // 8
        k = (math.isqrt(4 * width + 1) - 1) // 2  # k sums, then k × k cross-products
        total = np.frombuffer(b"".join(datas), dtype="<f8").reshape(-1, width).sum(axis=0)
        pooled[scale] = CrossProducts(sum(ns), total[:k], total[k:].reshape(k, k))
    return pooled


@within_reading
def reliability(vc: Valuechain) -> ReliabilityDocument:
    """Cronbach's alpha with the Feldt 95% interval per instrument × dimension of two
    or more items, from the complete responses of the whole organisation (the sum of
    every provider's item cross-products); a scale with 1 to threshold − 1 complete
    responses is suppressed."""
    with _survey(vc) as (conn, facts):
        limit, known = facts.limit, facts.known
        used = store.instruments_used(conn, vc.org_id)
        pooled = _pooled_items(conn, vc.org_id)
    scales: list[Reliability] = []
    for key in used:
        instrument = known.get(key)
        if instrument is None:
            continue
        for dimension in instrument.dimensions:
            scaled = [i for i in dimension.items if i.scale is not None]
            if len(scaled) < 2:
                continue
            data = pooled.get(
                (key, dimension.key),
                CrossProducts(0, np.zeros(len(scaled)), np.zeros((len(scaled), len(scaled)))),
            )
            result = cronbach_alpha(data)
            entry: Reliability = (
                {
                    "instrument": key,
                    "dimension": dimension.key,
                    "items": len(scaled),
                    "n": None,
                    "alpha": None,
                    "ci_low": None,
                    "ci_high": None,
                    "suppressed": True,
                }
                if 0 < result.n < limit
                else {
                    "instrument": key,
                    "dimension": dimension.key,
                    "items": len(scaled),
                    "n": result.n,
                    "alpha": _num(result.alpha),
                    "ci_low": _num(result.ci_low),
                    "ci_high": _num(result.ci_high),
                    "reason": None if result.reason is None else str(result.reason),
                    "suppressed": False,
                }
            )
            scales.append(entry)
    return {"threshold": limit, "scales": scales}


def _p(values: FloatArray | None, j: int) -> float | None:
    """A p-value as published: unrounded (a correction across a report needs small
    ones exactly), ``None`` when it does not exist."""
    if values is None or not math.isfinite(float(values[j])):
        return None
    return float(values[j])


@within_reading
def drivers(
    vc: Valuechain, provider: str | None = None, instrument: str | None = None
) -> DriverAnalysis:
    """Johnson (2000) relative weights of the dimension scores on ``overall``, with
    bootstrap 95% intervals, R², each dimension's mean (performance) and its
    importance–performance quadrant; for the whole organisation or one provider.
    Each dimension carries the one-sided p-values of the two halves of a "fix first"
    claim, uncorrected (:func:`~valuechain.analytics.driver.weight_excess_p`,
    :func:`~valuechain.analytics.driver.shortfall_p`)."""
    with _survey(vc) as (conn, facts):
        limit, known = facts.limit, facts.known
        candidates = [
            k
            for k, i in known.items()
            if i.outcome is not None and store.has_cells(conn, vc.org_id, By.DIMENSION.value, k)
        ]
        if instrument is None:
            if not candidates:
                raise NotFound("no responses to an instrument with an 'overall' dimension")
            instrument = candidates[0]
        elif instrument not in candidates:
            raise NotFound(
                f"no responses to an instrument {instrument!r} with an 'overall' dimension"
            )
        if provider is not None and not store.has_cells(
            conn, vc.org_id, By.DIMENSION.value, instrument, provider
        ):
            raise NotFound(f"no responses about provider {provider!r}")
        blocks = store.read_blocks(
            conn, vc.org_id, DRIVERS, instrument=instrument, provider=provider
        )
        if provider is not None:
            hidden_cell = any(
                row[12] is not None
                for row in store.read_cells(
                    conn, vc.org_id, DRIVERS, instrument=instrument, provider=provider
                )
            )
        else:  # trust: the organisation-wide analysis is decided too
            hidden_cell = _organisation_leaks(
                store.read_cells(conn, vc.org_id, DRIVER_PART, instrument=instrument), limit
            )
    chosen = known[instrument]
    dims = [d.key for d in chosen.drivers]
    complete = (
        np.concatenate([_unpack(row[4], len(dims) + 1) for row in blocks])
        if blocks
        else np.empty((0, len(dims) + 1))
    )
    n = int(complete.shape[0])
    if 0 < n < limit or hidden_cell:
        return {
            "threshold": limit,
            "instrument": instrument,
            "provider": provider,
            "outcome": OUTCOME,
            "n": None,
            "r2": None,
            "drivers": [{"dimension": d} for d in dims],
            "suppressed": True,
        }
    result = key_drivers(complete[:, :-1], complete[:, -1], normal_above=NORMAL_BOOTSTRAP_ABOVE)
    quadrant = quadrants(result.share, result.performance)
    return {
        "threshold": limit,
        "instrument": instrument,
        "provider": provider,
        "outcome": OUTCOME,
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
                "p_important": _p(result.p_important, j),
                "p_below": _p(result.p_below, j),
            }
            for j, d in enumerate(dims)
        ],
        "suppressed": False,
    }


__all__ = [
    "ALL",
    "IMPORTANCE",
    "THRESHOLD",
    "By",
    "PublishedCell",
    "comment_threshold",
    "drivers",
    "instruments",
    "published_cells",
    "refresh",
    "reliability",
    "reliability_with_omega",
    "scores",
    "scores_with_nps",
    "servqual_totals",
    "set_comment_threshold",
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


@within_reading
def published_cells(vc: Valuechain) -> tuple[int, list[str], list[PublishedCell]]:
    """(threshold, campaigns, cells): every cell of every ``scores`` cut in every
    campaign, decided together by the same protection as :func:`scores`, with the
    count, sum and sum of squares of the published ones. Any number computed from
    published cells alone (a difference between campaigns, its test) reveals no group
    that the scores themselves do not."""
    with _survey(vc) as (conn, facts):
        limit, campaigns = facts.limit, facts.campaigns
        rows = [row for cut in By for row in store.read_cells(conn, vc.org_id, cut.value)]
    out: list[PublishedCell] = []
    for row in rows:
        cut, camp, inst, provider, customer, dimension = row[:6]
        n, total, total_sq, gap_n, gap_total, gap_sq = row[6:12]
        shown = row[12] is None
        gap = Moments.of([gap_n], [gap_total], [gap_sq]) if shown and gap_n == n > 0 else None
        out.append(
            PublishedCell(
                By(cut),
                inst,
                camp,
                provider,
                customer or None,
                dimension or None,
                Moments.of([n], [total], [total_sq]) if shown else None,
                gap,
            )
        )
    return limit, campaigns, out


@within_reading
def reliability_with_omega(vc: Valuechain) -> ReliabilityDocument:
    """:func:`reliability` with McDonald's omega (one-factor ML model) per scale of
    three or more items, from the same complete responses (the pooled item
    cross-products); suppressed scales stay without numbers."""
    found = reliability(vc)
    with reading(vc) as conn:
        pooled = _pooled_items(conn, vc.org_id)
    for scale in found["scales"]:
        if scale["suppressed"]:
            scale["omega"] = None
            continue
        data = pooled.get((scale["instrument"], scale["dimension"]))
        k = int(scale["items"])
        result = mcdonald_omega(
            data if data is not None else CrossProducts(0, np.zeros(k), np.zeros((k, k)))
        )
        scale["omega"] = _num(result.omega)
        scale["omega_reason"] = None if result.reason is None else str(result.reason)
    return found


@within_reading
def scores_with_nps(
    vc: Valuechain,
    by: By | str = By.PROVIDER,
    campaign: str | None = None,
    instrument: str | None = None,
    provider: str | None = None,
) -> Scores:
    """:func:`scores`, and for every shown cell of the ``recommend`` instrument its
    net promoter score with the Wald 95% interval and the promoter and detractor
    shares (``analytics.nps.net_promoter``). The answer counts are sums over the
    cell's respondents like its mean, so a shown cell's NPS reveals no group its
    mean does not; a cell whose counts do not cover exactly its respondents gets
    no NPS."""
    found = scores(vc, by, campaign=campaign, instrument=instrument, provider=provider)
    shown = [c for c in found["cells"] if c["instrument"] == RECOMMEND.key and not c["suppressed"]]
    if not shown or found["campaign"] is None:
        return found
    dimension = RECOMMEND.dimensions[0].key
    with reading(vc) as conn:
        rows = nps_store.answer_counts(conn, vc.org_id, RECOMMEND.key, dimension, found["campaign"])
    counts: dict[tuple[str, str | None], np.ndarray] = {}
    for prov, customer, answer, respondents in rows:
        value = float(answer)
        if not (0 <= value <= 10 and value == round(value)):
            continue
        for key in ((prov, None), (prov, customer)):
            bins = counts.setdefault(key, np.zeros(11, dtype=np.int64))
            bins[int(value)] += int(respondents)
    for cell in shown:
        found_bins = counts.get((cell["provider"], cell.get("customer")))
        if found_bins is None or int(found_bins.sum()) != cell["n"]:
            continue
        result = net_promoter(found_bins)
        cell["nps"] = _num(float(result.nps))
        cell["nps_ci_low"] = _num(float(result.ci_low))
        cell["nps_ci_high"] = _num(float(result.ci_high))
        cell["promoters"] = _num(float(result.promoters))
        cell["detractors"] = _num(float(result.detractors))
    return found


# -- the importance-weighted SERVQUAL total --------------------------------------------


@within_reading
def provider_scores(
    vc: Valuechain, provider: str, by: By | str = By.PROVIDER, campaign: str | None = None
) -> Scores:
    """A provider's scores (:func:`scores_with_nps`, default: the latest closed
    campaign) with its SERVQUAL totals in that campaign (``servqual_totals``), read
    in one unit of work. Raises :class:`NotFound` for an unknown unit or campaign."""
    vc.unit(provider)
    # Only this provider's cells are read (an index range).
    found = scores_with_nps(vc, by, campaign=campaign, provider=provider)
    found["servqual_totals"] = servqual_totals(vc, campaign=found["campaign"], provider=provider)[
        "totals"
    ]
    return found


@within_reading
def servqual_totals(
    vc: Valuechain,
    campaign: str | None = None,
    instrument: str | None = None,
    provider: str | None = None,
) -> ServqualTotals:
    """Per provider of an instrument with an importance split (internal SERVQUAL), in
    one campaign (default: the latest closed one): the mean importance points per
    dimension of the respondents who gave a split, the unweighted total gap (the mean
    of the dimension gaps P − E) and the importance-weighted total gap
    Σ_d (mean points_d / 100) · gap_d (``analytics.score.importance_weighted_gap``).

    Every number comes from the protected summaries: the gaps from the published
    provider × dimension cells, the points from the one importance cut, shown only
    where the respondents who gave a split reach the threshold and, next to every
    cell shown about the provider in the campaign, reveal no smaller group. Nothing
    is shown about a campaign still open."""
    with _survey(vc) as (conn, facts):
        limit, campaigns, known = facts.limit, facts.campaigns, facts.known
        if campaign is not None and campaign not in campaigns:
            raise NotFound(f"no campaign with id {campaign!r}")
        if instrument is not None and instrument not in known:
            raise NotFound(f"no instrument {instrument!r}")
        still_open = facts.still_open
        if campaign is None:
            closed = [c for c in campaigns if c not in still_open]
            campaign = closed[-1] if closed else None
        wanted = [
            k
            for k, i in known.items()
            if i.importance_split and i.asks_expectation and instrument in (None, k)
        ]
        gap_rows: list[tuple[Any, ...]] = []
        point_rows: list[tuple[Any, ...]] = []
        # trust: an open campaign's answers are sealed; say nothing about it at all.
        if campaign is not None and campaign not in still_open:
            for key in wanted:
                gap_rows += store.read_cells(
                    conn,
                    vc.org_id,
                    By.DIMENSION.value,
                    campaign=campaign,
                    instrument=key,
                    provider=provider,
                )
                point_rows += store.read_cells(
                    conn,
                    vc.org_id,
                    IMPORTANCE,
                    campaign=campaign,
                    instrument=key,
                    provider=provider,
                )
    gaps: dict[tuple[str, str], dict[str, float | None]] = {}
    for row in gap_rows:
        inst, prov, dimension = row[2], row[3], row[5]
        n, gap_n, gap_total = row[6], row[9], row[10]
        shown = row[12] is None and gap_n == n > 0
        gaps.setdefault((inst, prov), {})[dimension] = gap_total / gap_n if shown else None
    points: dict[tuple[str, str], tuple[int, bool, dict[str, float]]] = {}
    for row in point_rows:
        inst, prov, dimension, n, total = row[2], row[3], row[5], row[6], row[7]
        _n, hidden, means = points.setdefault((inst, prov), (int(n), row[12] is not None, {}))
        if not hidden:  # a suppressed cell's numbers never leave the service
            means[dimension] = total / n
    totals: list[ServqualTotal] = []
    for inst, prov in sorted(gaps, key=lambda k: (k[0], k[1])):
        dims = [d.key for d in known[inst].drivers]
        by_dim = gaps[(inst, prov)]
        dim_gaps = [by_dim.get(d) for d in dims]
        complete = all(g is not None for g in dim_gaps)
        found_points = points.get((inst, prov))
        shown_points = found_points is not None and not found_points[1]
        mean_points = (
            [found_points[2].get(d, math.nan) for d in dims]
            if found_points is not None and shown_points
            else [math.nan] * len(dims)
        )
        result = importance_weighted_gap(
            [g if g is not None else math.nan for g in dim_gaps], mean_points
        )
        totals.append(
            {
                "instrument": inst,
                "provider": prov,
                "dimensions": [
                    {
                        "dimension": d,
                        "gap": _num(g) if g is not None else None,
                        "importance": _num(w) if shown_points else None,
                    }
                    for d, g, w in zip(dims, dim_gaps, mean_points, strict=True)
                ],
                "importance_n": found_points[0] if shown_points and found_points else None,
                "importance_suppressed": found_points is not None and not shown_points,
                "total_gap": _num(float(result.unweighted[0])) if complete else None,
                "weighted_total_gap": (
                    _num(float(result.weighted[0])) if complete and shown_points else None
                ),
            }
        )
    return {"threshold": limit, "campaign": campaign, "totals": totals}


# -- the comment threshold --------------------------------------------------------------


def comment_threshold(vc: Valuechain) -> int:
    """The organisation's comment threshold in force: the stored one (default 10),
    never below the threshold for numbers."""
    with reading(vc) as conn:
        return max(
            store.read_comment_threshold(conn, vc.org_id), store.read_threshold(conn, vc.org_id)
        )


def set_comment_threshold(vc: Valuechain, value: int, actor: Actor | None = None) -> None:
    """Set the comment threshold: a whole number from the threshold for numbers up to
    ``COMMENT_THRESHOLD_MAX`` (50); anything else is refused with a clear message.
    Recorded in the audit log (a refused value too)."""
    who = actor or Actor.command_line()
    try:
        check_threshold(value, comments=True)
    except ValueError as error:
        raise _threshold_refused(vc, who, "comments", str(error)) from None
    with writing(vc) as conn:
        numbers = store.read_threshold(conn, vc.org_id)
        before = max(store.read_comment_threshold(conn, vc.org_id), numbers)
        if value >= numbers:
            store.write_comment_threshold(conn, vc.org_id, value)
            audit.record(
                vc,
                audit.THRESHOLD_CHANGED,
                who,
                subject="comments",
                detail=f"{before} to {value}",
                conn=conn,
            )
    if value < numbers:
        # Recorded after the unit ends: the refusal is kept, the unit changed nothing.
        raise _threshold_refused(
            vc,
            who,
            "comments",
            f"the comment threshold must be at least the threshold for numbers "
            f"({numbers}), got {value}",
        )
