"""Relationship health for every provider–customer pair: the customer's view, the
provider's view, agreement compliance, trust, thanks and demand against the agreed
share, combined by the documented formula of :mod:`valuechain.analytics.health`.

Survey views come only from published (protected) relationship cells. The other
components come from the capabilities that hold them, registered in
:data:`COMPONENT_SOURCES`; a component without data is left out, not counted as 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np

from valuechain.analytics.health import COMPONENT_LABELS as COMPONENT_LABELS  # for the edges
from valuechain.analytics.health import (
    COMPONENTS,
    WEIGHTS,
    capacity_fit,
    health,
    largest_disagreement,
    rescale,
    targets_met,
)
from valuechain.domain.instrument import MIRRORED_TOPICS, PARTNERSHIP, SERVICE_FACTORS, Instrument
from valuechain.services import commitment as commitment_service
from valuechain.services import measure
from valuechain.services import request as request_service
from valuechain.services.errors import NotFound
from valuechain.services.organisation import Valuechain
from valuechain.services.partner.relationship import Relationship, relationships, require
from valuechain.services.partner.types import BothSides, HealthRow, SideScore, SurveyView, Topic
from valuechain.services.transaction import reading
from valuechain.store import capacity as capacity_store
from valuechain.store import measure as measure_store

Pair = tuple[str, str]
#: component name -> function giving its 0–1 value per (provider, customer).
ComponentSource = Callable[[Valuechain], dict[Pair, float]]


def _share(pct: float | None) -> float:
    """A percentage as given, NaN where nothing was measured."""
    return math.nan if pct is None else pct


def _sla_parts(vc: Valuechain) -> tuple[dict[Pair, float], dict[Pair, float]]:
    """Per relationship: targets met (first responses and resolutions on target,
    ``analytics.health.targets_met``) and resolved requests thanked, both 0–1
    (business-hours clocks)."""
    met: dict[Pair, float] = {}
    thanked: dict[Pair, float] = {}
    rows = request_service.sla(vc)["relationships"]
    shares = targets_met(
        [_share(r.get("first_response_met_pct")) for r in rows],
        [_share(r.get("resolution_met_pct")) for r in rows],
    )
    for row, value in zip(rows, shares.tolist(), strict=True):
        pair = (row["provider"], row["customer"])
        if not math.isnan(value):
            met[pair] = value
        share_thanked = row["thanked_pct"]  # one read, so mypy sees it is not None
        if share_thanked is not None:
            thanked[pair] = share_thanked / 100
    return met, thanked


def sla_source(vc: Valuechain) -> dict[Pair, float]:
    """Agreement compliance: the share of requests meeting their targets."""
    return _sla_parts(vc)[0]


def thanks_source(vc: Valuechain) -> dict[Pair, float]:
    """The share of resolved requests the customer thanked."""
    return _sla_parts(vc)[1]


Ended = Literal["kept", "exceeded", "warned", "missed"]


def trust_source(vc: Valuechain) -> dict[Pair, float]:
    """Trust from the commitment log (Beta posterior mean, rewards early warnings)."""
    ended: tuple[Ended, ...] = ("kept", "exceeded", "warned", "missed")
    return {
        (row["provider"], row["customer"]): row["trust"]
        for row in commitment_service.relationship_trust(vc)
        if sum(row.get(k, 0) for k in ended) > 0  # no commitment ended yet: unknown
    }


def capacity_source(vc: Valuechain) -> dict[Pair, float]:
    """Demand within the agreed share: 1 when within, else share / demand (summed over
    the provider's results the customer uses)."""
    with reading(vc) as conn:
        demand = capacity_store.demand(conn, vc.org_id)
        agreed = capacity_store.shares(conn, vc.org_id)
    wanted: dict[Pair, float] = {}
    granted: dict[Pair, float] = {}
    for row in demand:
        share = agreed.get((row.result_id, row.customer_id))
        if share is None:
            continue
        pair = (row.provider, row.customer_id)
        wanted[pair] = wanted.get(pair, 0.0) + float(row.demand)
        granted[pair] = granted.get(pair, 0.0) + share
    return {pair: float(capacity_fit(wanted[pair], granted[pair])) for pair in wanted}


COMPONENT_SOURCES: dict[str, ComponentSource] = {
    "sla": sla_source,
    "trust": trust_source,
    "thanks": thanks_source,
    "capacity": capacity_source,
}


def _scale(instrument: Instrument) -> tuple[float, float] | None:
    dims = [instrument.outcome] if instrument.outcome is not None else list(instrument.drivers)
    for dim in dims:
        if dim is not None and dim.scale is not None:
            return float(dim.scale.low), float(dim.scale.high)
    return None


def survey_views(vc: Valuechain) -> tuple[dict[Pair, SurveyView], dict[Pair, SurveyView]]:
    """Per (provider, customer): the latest published relationship score the customer
    gives the provider, and the latest the provider gives the customer (partnership),
    each with its campaign, n, mean and 0–1 value."""
    known = measure.instruments(vc)
    with reading(vc) as conn:
        campaigns = list(measure_store.campaign_ids(conn, vc.org_id))
        used = set(measure_store.instruments_used(conn, vc.org_id))
    customer_view: dict[Pair, SurveyView] = {}
    provider_view: dict[Pair, SurveyView] = {}
    for campaign in campaigns:  # oldest first: later campaigns overwrite
        cells = measure.scores(vc, measure.By.RELATIONSHIP, campaign)["cells"]
        for cell in cells:
            instrument = known.get(cell["instrument"])
            if cell["suppressed"] or instrument is None or instrument.key not in used:
                continue
            scale = _scale(instrument)
            if scale is None or cell["mean"] is None:
                continue
            view: SurveyView = {
                "campaign": campaign,
                "instrument": instrument.key,
                "n": cell["n"],
                "mean": cell["mean"],
                "value": float(rescale(cell["mean"], *scale)),
            }
            # A relationship cell always names its customer.
            rated, rater = cell["provider"], cell.get("customer") or ""
            if instrument.rates_customer:
                provider_view[(rater, rated)] = view
            else:
                customer_view[(rated, rater)] = view
    return customer_view, provider_view


def health_table(vc: Valuechain, pairs: list[Relationship] | None = None) -> list[HealthRow]:
    """Health per relationship with every component (0–1, null when unknown) and the
    weights, worst first; the ``valuechain health --json`` rows."""
    with reading(vc):
        pairs = relationships(vc) if pairs is None else pairs
        with measure.one_reading(vc):
            customer_view, provider_view = survey_views(vc)
        other = {name: source(vc) for name, source in COMPONENT_SOURCES.items()}
        matrix = np.full((len(pairs), len(COMPONENTS)), np.nan)
        for i, rel in enumerate(pairs):
            key = (rel.provider, rel.customer)
            if key in customer_view:
                matrix[i, 0] = customer_view[key]["value"]
            if key in provider_view:
                matrix[i, 1] = provider_view[key]["value"]
            for j, name in enumerate(COMPONENTS[2:], start=2):
                value = other.get(name, {}).get(key)
                if value is not None:
                    matrix[i, j] = value
        result = health(matrix)
        rows: list[HealthRow] = []
        for i, rel in enumerate(pairs):
            key = (rel.provider, rel.customer)
            parts = {name: _num(result.components[i, j]) for j, name in enumerate(COMPONENTS)}
            rows.append(
                {
                    "provider": rel.provider,
                    "customer": rel.customer,
                    "customer_view": customer_view[key]["mean"] if key in customer_view else None,
                    "provider_view": provider_view[key]["mean"] if key in provider_view else None,
                    "sla_met_pct": None if parts["sla"] is None else 100 * parts["sla"],
                    "trust": parts["trust"],
                    "health": _num(result.score[i]),
                    "coverage": _num(result.coverage[i]),
                    "components": parts,
                }
            )
        rows.sort(
            key=lambda r: (r["health"] is None, r["health"] or 0.0, r["provider"], r["customer"])
        )
        return rows


def _num(value: float) -> float | None:
    return None if math.isnan(value) else round(float(value), 4)


def weights() -> dict[str, float]:
    """The formula's weights by component, for the docs and the page."""
    return {name: float(w) for name, w in zip(COMPONENTS, WEIGHTS, strict=True)}


def _dimension_cells(vc: Valuechain, instrument: str) -> dict[tuple[str, str], SideScore]:
    """(rated unit, dimension) -> its latest published dimension cell for ``instrument``
    (its ``value`` on 0–1 is left to the caller, which knows the scale: NaN here)."""
    with reading(vc) as conn:
        campaigns = list(measure_store.campaign_ids(conn, vc.org_id))
    out: dict[tuple[str, str], SideScore] = {}
    for campaign in campaigns:
        try:
            cells = measure.scores(vc, measure.By.DIMENSION, campaign, instrument)["cells"]
        except NotFound:
            continue
        for cell in cells:
            mean = cell["mean"]
            if not cell["suppressed"] and mean is not None:
                # A dimension cell always names its dimension.
                key = (cell["provider"], cell.get("dimension") or "")
                # The value (0–1) is set by the caller, which knows the scale.
                out[key] = {"mean": mean, "n": cell["n"], "value": math.nan, "campaign": campaign}
    return out


def both_sides(vc: Valuechain, provider: str, customer: str) -> BothSides:
    """The relationship page's core: its health row, and per mirrored topic how the
    provider's customers rate it next to how the customer's providers rate the
    customer (0–1 each), with the topic where they differ most marked."""
    with reading(vc):
        require(vc, provider, customer)
        with measure.one_reading(vc):  # every campaign's cells from one reading
            [row] = health_table(vc, [Relationship(provider, customer)])
            theirs = _dimension_cells(vc, SERVICE_FACTORS.key)
            ours = _dimension_cells(vc, PARTNERSHIP.key)
        known = measure.instruments(vc)
        topics: list[Topic] = []
        for label, customer_dim, provider_dim in MIRRORED_TOPICS:
            a = theirs.get((provider, customer_dim))
            b = ours.get((customer, provider_dim))
            sf, pa = _scale(known[SERVICE_FACTORS.key]), _scale(known[PARTNERSHIP.key])
            va = float(rescale(a["mean"], *sf)) if a and sf else math.nan
            vb = float(rescale(b["mean"], *pa)) if b and pa else math.nan
            topics.append(
                {
                    "topic": label,
                    "customer_dimension": customer_dim,
                    "provider_dimension": provider_dim,
                    # Each side is its latest published cell; the campaign says which.
                    "customers_rate_provider": None if a is None else {**a, "value": va},
                    "providers_rate_customer": None if b is None else {**b, "value": vb},
                    "difference": _num(va - vb),
                }
            )
        largest = largest_disagreement(
            [
                t["customers_rate_provider"]["value"] if t["customers_rate_provider"] else math.nan
                for t in topics
            ],
            [
                t["providers_rate_customer"]["value"] if t["providers_rate_customer"] else math.nan
                for t in topics
            ],
        )
        return {
            "health": row,
            "topics": topics,
            "largest_disagreement": largest,
            "weights": weights(),
        }
