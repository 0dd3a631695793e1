"""A provider's dashboard: everything a lead needs about how its customers rate it,
in one document the page renders.

Every number comes from the protected cells of :mod:`valuechain.services.measure`
(all cuts of all campaigns decided together), the change test of
:mod:`valuechain.services.change` and the comments of
:mod:`valuechain.services.comment`; this module only selects the provider's cells
and shapes them. A suppressed cell keeps its keys and carries no number.
"""

from __future__ import annotations

import math
from typing import Any

from valuechain.analytics.score import Moments, mean_interval
from valuechain.domain.instrument import RECOMMEND
from valuechain.services import measure
from valuechain.services.change import change
from valuechain.services.comment import comments
from valuechain.services.errors import NotFound
from valuechain.services.measure import By, PublishedCell
from valuechain.services.measure_types import Change, DriverAnalysis, ScoreCell
from valuechain.services.organisation import Valuechain


def _num(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _stats(moments: Moments | None, gap: Moments | None = None) -> dict[str, Any]:
    """n, mean and 95% t interval (and the gap P − E with its interval) of a cell."""
    if moments is None:
        return {"n": None, "mean": None, "ci_low": None, "ci_high": None, "suppressed": True}
    m = mean_interval(moments)
    out: dict[str, Any] = {
        "n": int(m.n[0]),
        "mean": _num(float(m.mean[0])),
        "ci_low": _num(float(m.ci_low[0])),
        "ci_high": _num(float(m.ci_high[0])),
        "suppressed": False,
    }
    if gap is not None:
        g = mean_interval(gap)
        out.update(
            gap=_num(float(g.mean[0])),
            gap_ci_low=_num(float(g.ci_low[0])),
            gap_ci_high=_num(float(g.ci_high[0])),
        )
    return out


@measure.within_reading
def dashboard(vc: Valuechain, provider: str, instrument: str | None = None) -> dict[str, Any]:
    """The dashboard document of ``provider`` for one instrument (default: the one
    with the most cells about it, preferring one with an ``overall`` outcome):
    latest campaign's score and dimension scores with intervals and gaps, the
    SERVQUAL total gap unweighted and weighted by the importance split (where the
    instrument asks one), the
    customers × dimensions heat map, the trend over every campaign, key drivers with
    quadrants, the change from the previous campaign and the comment themes."""
    vc.unit(provider)  # NotFound for an unknown unit
    return _document(vc, provider, instrument)


def _document(vc: Valuechain, provider: str, instrument: str | None) -> dict[str, Any]:
    """:func:`dashboard` of a known unit."""
    published = measure.published_cells(vc)
    threshold, campaigns, cells = published
    known = measure.instruments(vc)
    # A partnership rating is about the unit as a customer: it belongs on the
    # relationship pages, not on the unit's dashboard as a provider.
    mine = [
        c
        for c in cells
        if c.provider == provider
        and not (c.instrument in known and known[c.instrument].rates_customer)
    ]
    used = sorted({c.instrument for c in mine})
    if instrument is None and used:
        instrument = max(
            used,
            key=lambda k: (known[k].outcome is not None if k in known else False, k),
        )
    if instrument is not None and instrument not in used:
        raise NotFound(f"no responses about {provider!r} with instrument {instrument!r}")
    mine = [c for c in mine if c.instrument == instrument]
    asked = [c for c in campaigns if any(x.campaign == c for x in mine)]
    latest = asked[-1] if asked else None
    spec = known.get(instrument) if instrument else None
    order = [d.key for d in spec.dimensions] if spec else []
    labels = {d.key: d.label for d in spec.dimensions} if spec else {}

    def pick(by: By, campaign: str | None) -> list[PublishedCell]:
        found = [c for c in mine if c.by is by and c.campaign == campaign]
        return sorted(
            found,
            key=lambda c: (
                c.customer or "",
                order.index(c.dimension) if c.dimension in order else len(order),
            ),
        )

    overall = pick(By.PROVIDER, latest)
    dimensions = [
        {"dimension": c.dimension, "label": labels.get(c.dimension or "", c.dimension)}
        | _stats(c.moments, c.gap)
        for c in pick(By.DIMENSION, latest)
    ]
    heat = [
        {"customer": c.customer, "dimension": c.dimension, "label": labels.get(c.dimension or "")}
        | _stats(c.moments)
        for c in pick(By.RELATIONSHIP_DIMENSION, latest)
    ]
    relationships = [
        {"customer": c.customer} | _stats(c.moments, c.gap) for c in pick(By.RELATIONSHIP, latest)
    ]
    trend = [
        {"campaign": campaign, "series": "score"} | _stats(c.moments)
        for campaign in asked
        for c in pick(By.PROVIDER, campaign)
    ] + [
        {"campaign": campaign, "series": c.dimension} | _stats(c.moments)
        for campaign in asked
        for c in pick(By.DIMENSION, campaign)
    ]
    drivers: DriverAnalysis | None = None
    if spec is not None and spec.outcome is not None:
        try:
            drivers = measure.drivers(vc, provider=provider, instrument=instrument)
        except NotFound:
            drivers = None
    nps: ScoreCell | None = None
    if instrument == RECOMMEND.key and latest is not None:
        found_nps = measure.scores_with_nps(vc, By.PROVIDER, latest, instrument)
        nps = next((c for c in found_nps["cells"] if c["provider"] == provider), None)
    totals: dict[str, Any] | None = None
    if spec is not None and spec.importance_split and latest is not None:
        found_totals = measure.servqual_totals(vc, latest, instrument, provider=provider)
        total = next(iter(found_totals["totals"]), None)
        if total is not None:
            # The page names each dimension as the instrument words it.
            totals = {
                **total,
                "dimensions": [
                    {**row, "label": labels.get(row["dimension"], row["dimension"])}
                    for row in total["dimensions"]
                ],
            }
    moved: Change | None = None
    if len(asked) >= 2:
        found = change(vc, asked[-2], asked[-1], provider=provider, published=published)
        found["cells"] = [c for c in found["cells"] if c["instrument"] == instrument]
        moved = found
    # The instrument's wording for every series, as the tables say it.
    for row in trend:
        row["label"] = (
            "Overall score"
            if row["series"] == "score"
            else labels.get(row["series"], row["series"])
        )
    customers = {r["customer"] for r in heat} | {r["customer"] for r in relationships}
    customers |= {c.get("customer") for c in (moved["cells"] if moved else [])} - {None, ""}
    said = comments(vc, provider, latest) if latest else None
    customers |= {g["customer"] for g in (said["groups"] if said else [])} - {None, ""}
    return {
        "threshold": threshold,
        "provider": provider,
        "instrument": instrument,
        "instruments": used,
        "campaign": latest,
        "campaigns": asked,
        "asks_expectation": bool(spec and spec.asks_expectation),
        "labels": labels,
        "names": {u: d["name"] for u, d in vc.describe_units(customers).items()},
        "overall": _stats(overall[0].moments, overall[0].gap) if overall else None,
        "nps": nps if nps and nps.get("nps") is not None else None,
        "servqual_totals": totals,
        "dimensions": dimensions,
        "relationships": relationships,
        "heat": heat,
        "trend": trend,
        "drivers": drivers,
        "change": moved,
        "comments": said,
    }


@measure.within_reading
def unit_dashboard(
    vc: Valuechain, unit_id: str, instrument: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The unit (:meth:`Valuechain.unit`) and its :func:`dashboard`, read in one unit of
    work (the dashboard page). Raises :class:`NotFound` for an unknown unit."""
    return vc.unit(unit_id), _document(vc, unit_id, instrument)


__all__ = ["dashboard", "unit_dashboard"]
