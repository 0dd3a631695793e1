"""Change between two campaigns, per provider, relationship and provider × dimension.

Each compared cell is a ``scores`` cell of both campaigns. The cells come from
:func:`valuechain.services.measure.published_cells`, which protects every cut of
every campaign together, and a cell is compared only when **both** sides are
published. Every number shown here (each side's n and mean, the difference, its
Welch test and effect size) is computed from published cells' counts, sums and
sums of squares alone — numbers a reader of the two campaigns' scores already has —
so a comparison never reveals a group below the threshold, directly or by
subtracting one cut from another.

The tests are corrected for multiplicity across **every** cell compared (all cuts
together): Holm (family-wise error) by default, Benjamini–Hochberg (false discovery
rate) on request.
"""

from __future__ import annotations

import math

import numpy as np

from valuechain.analytics.change import Correction, adjust_p, welch_change
from valuechain.analytics.score import Moments
from valuechain.services.errors import Invalid, NotFound
from valuechain.services.measure import By, PublishedCell, published_cells, within_reading
from valuechain.services.measure_types import Change, ComparedCell
from valuechain.services.organisation import Valuechain

#: A change is called significant when its adjusted p is below this.
ALPHA = 0.05

CellKey = tuple[str, str, str, str | None, str | None]


def _num(value: float) -> float | None:
    return None if not math.isfinite(value) else float(value)


def _key(cell: PublishedCell) -> CellKey:
    return (cell.by.value, cell.instrument, cell.provider, cell.customer, cell.dimension)


@within_reading
def change(
    vc: Valuechain,
    before: str | None = None,
    after: str | None = None,
    correction: Correction | str = Correction.HOLM,
    provider: str | None = None,
    published: tuple[int, list[str], list[PublishedCell]] | None = None,
) -> Change:
    """Every cell's change from campaign ``before`` to campaign ``after`` (``after``
    defaults to the latest campaign in time order, ``before`` to the one just before
    ``after``, so neither given compares the last two): each side's n and mean, the
    difference after − before with its 95% Welch interval, t, df, p, the p adjusted across all cells
    compared, Hedges' g and whether the change is significant at 5% after the
    correction. A cell without numbers says why in ``status``: ``suppressed`` (held
    back on a side by the threshold rule, also ``suppressed: true``) or ``not
    measured`` (a campaign has no answers for it at all); compared cells say
    ``compared``. ``provider`` only filters the cells listed; the correction always
    counts every cell compared, so the same cell has the same adjusted p in every
    view. ``published`` is :func:`published_cells` when the caller has it already."""
    method = Correction(correction)
    threshold, campaigns, cells = published if published is not None else published_cells(vc)
    if before is None and after is None and len(campaigns) < 2:
        raise NotFound(f"change needs two campaigns; there are {len(campaigns)}")
    for campaign in (before, after):
        if campaign is not None and campaign not in campaigns:
            raise NotFound(f"no campaign with id {campaign!r}")
    if after is None:
        after = campaigns[-1]
    if before is None:
        earlier = campaigns[: campaigns.index(after)]
        if not earlier:
            raise NotFound(f"no campaign before {after!r} to compare it with")
        before = earlier[-1]
    if before == after:
        raise Invalid("compare two different campaigns")
    sides: dict[CellKey, dict[str, PublishedCell]] = {}
    for cell in cells:
        # The cuts compared: provider, relationship, provider × dimension.
        if cell.by is By.RELATIONSHIP_DIMENSION:
            continue
        if cell.campaign in (before, after):
            sides.setdefault(_key(cell), {})[cell.campaign] = cell
    cuts = [b.value for b in By]
    keys = sorted(sides, key=lambda k: (cuts.index(k[0]), k[1], k[2], k[3] or "", k[4] or ""))
    compared = [
        k
        for k in keys
        if before in sides[k]
        and after in sides[k]
        and sides[k][before].moments is not None
        and sides[k][after].moments is not None
    ]
    result = None
    adjusted = np.array([])
    if compared:
        first = [sides[k][before].moments for k in compared]
        second = [sides[k][after].moments for k in compared]
        stack = [
            Moments.of(
                [m.n[0] for m in ms if m is not None],
                [m.total[0] for m in ms if m is not None],
                [m.total_sq[0] for m in ms if m is not None],
            )
            for ms in (first, second)
        ]
        result = welch_change(stack[0], stack[1])
        adjusted = adjust_p(result.p, method)
    position = {k: i for i, k in enumerate(compared)}
    out: list[ComparedCell] = []
    for k in keys:
        cut, instrument, prov, customer, dimension = k
        if provider is not None and prov != provider:
            continue
        i = position.get(k)
        if i is None or result is None:
            # A cell one campaign never had is not measured there; hiding it as
            # suppressed would claim a small group that does not exist.
            measured = before in sides[k] and after in sides[k]
            row: ComparedCell = {
                "by": cut,
                "instrument": instrument,
                "provider": prov,
                "status": "suppressed" if measured else "not measured",
                "suppressed": measured,
            }
        else:
            b, a = sides[k][before].moments, sides[k][after].moments
            assert b is not None and a is not None
            p_adj = float(adjusted[i])
            row = {
                "by": cut,
                "instrument": instrument,
                "provider": prov,
                "n_before": int(b.n[0]),
                "n_after": int(a.n[0]),
                "mean_before": _num(float(b.mean[0])),
                "mean_after": _num(float(a.mean[0])),
                "difference": _num(float(result.difference[i])),
                "ci_low": _num(float(result.ci_low[i])),
                "ci_high": _num(float(result.ci_high[i])),
                "t": _num(float(result.t[i])),
                "df": _num(float(result.df[i])),
                "p": _num(float(result.p[i])),
                "p_adjusted": _num(p_adj),
                "hedges_g": _num(float(result.hedges_g[i])),
                "significant": bool(math.isfinite(p_adj) and p_adj < ALPHA),
                "reason": None if result.reason[i] is None else str(result.reason[i]),
                "status": "compared",
                "suppressed": False,
            }
        if cut == By.RELATIONSHIP.value:
            row["customer"] = customer
        if cut == By.DIMENSION.value:
            row["dimension"] = dimension
        out.append(row)
    return {
        "threshold": threshold,
        "from": before,
        "to": after,
        "correction": method,
        "compared": len(compared),
        "alpha": ALPHA,
        "cells": out,
    }


__all__ = ["ALPHA", "change"]
