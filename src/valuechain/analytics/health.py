"""Relationship health: one score per provider–customer pair, its parts kept visible.

Every component is first put on 0–1 (1 = healthy):

========================  =====================================================  ======
component                 on 0–1                                                 weight
========================  =====================================================  ======
``customer_view``         customer's survey mean, (mean − min) / (max − min)      0.25
``provider_view``         provider's partnership mean, rescaled the same way       0.20
``sla``                   targets met: mean of first-response and resolution      0.20
                          shares on target (those measured), percent / 100
``trust``                 commitment trust (Beta posterior mean, already 0–1)      0.20
``thanks``                resolved requests thanked, percent / 100                 0.05
``capacity``              1 when demand ≤ agreed share, else share / demand        0.10
========================  =====================================================  ======

Health is the weighted mean of the components that are known, on 0–100; the weights
of unknown components are left out (not counted as zero), and ``coverage`` says what
share of the total weight stood behind the score. With fewer than
:data:`MIN_COMPONENTS` known components there is no score: one number would pretend
to describe a relationship it barely sees. A plain weighted mean is chosen over
anything cleverer so that every lead can recompute their own score by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

COMPONENTS: tuple[str, ...] = (
    "customer_view",
    "provider_view",
    "sla",
    "trust",
    "thanks",
    "capacity",
)
#: Each component as a reader says it (pages and the command line show these).
COMPONENT_LABELS: dict[str, str] = {
    "customer_view": "How the customer rates the provider",
    "provider_view": "How the provider rates the customer",
    "sla": "Requests on target",
    "trust": "Promises kept (trust)",
    "thanks": "Requests thanked",
    "capacity": "Demand within the agreed share",
}
WEIGHTS: FloatArray = np.array([0.25, 0.20, 0.20, 0.20, 0.05, 0.10])
MIN_COMPONENTS = 2


def rescale(mean: npt.ArrayLike, low: npt.ArrayLike, high: npt.ArrayLike) -> FloatArray:
    """A scale mean put on 0–1: ``(mean − low) / (high − low)``; ``nan`` stays ``nan``."""
    m = np.asarray(mean, dtype=np.float64)
    lo = np.asarray(low, dtype=np.float64)
    hi = np.asarray(high, dtype=np.float64)
    return np.clip((m - lo) / (hi - lo), 0.0, 1.0)


def targets_met(first_response_pct: npt.ArrayLike, resolution_pct: npt.ArrayLike) -> FloatArray:
    """The ``sla`` component on 0–1: the mean of the first-response and resolution
    shares on target, each target the agreement sets counting equally; one alone when
    only it is measured, ``nan`` when neither is. Using resolution alone would score a
    relationship whose first responses are all late as fully healthy."""
    both = np.stack(
        [
            np.asarray(first_response_pct, dtype=np.float64),
            np.asarray(resolution_pct, dtype=np.float64),
        ]
    )
    known = ~np.isnan(both)
    total = np.where(known, both, 0.0).sum(axis=0)
    count = known.sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1) / 100.0, np.nan)


def capacity_fit(demand: npt.ArrayLike, share: npt.ArrayLike) -> FloatArray:
    """1 when the customer's demand is within its agreed share, else share / demand;
    ``nan`` where no share was agreed."""
    d = np.asarray(demand, dtype=np.float64)
    s = np.asarray(share, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        fit = np.where(d <= s, 1.0, s / d)
    return np.where(np.isnan(s), np.nan, fit)


@dataclass(frozen=True, slots=True)
class Health:
    """Per relationship: the score on 0–100 (``nan`` when too little is known), the
    share of the weight behind it, and the component matrix it came from."""

    score: FloatArray
    coverage: FloatArray
    components: FloatArray  # relationships x COMPONENTS, 0–1, nan = unknown


def health(components: npt.ArrayLike, weights: npt.ArrayLike = WEIGHTS) -> Health:
    """Weighted mean of the known components (columns in :data:`COMPONENTS` order)."""
    c = np.atleast_2d(np.asarray(components, dtype=np.float64))
    w = np.asarray(weights, dtype=np.float64)
    known = ~np.isnan(c)
    weight_known = (known * w).sum(axis=1)
    total = np.where(known, c, 0.0) @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        score = 100.0 * total / weight_known
    enough = known.sum(axis=1) >= MIN_COMPONENTS
    return Health(
        score=np.where(enough, score, np.nan),
        coverage=weight_known / w.sum(),
        components=c,
    )


def largest_disagreement(ours: npt.ArrayLike, theirs: npt.ArrayLike) -> int | None:
    """Index of the topic where two sides' 0–1 views differ most (``None`` when no
    topic is known on both sides): what the relationship page highlights."""
    a = np.asarray(ours, dtype=np.float64)
    b = np.asarray(theirs, dtype=np.float64)
    gap = np.abs(a - b)
    if np.all(np.isnan(gap)):
        return None
    return int(np.nanargmax(gap))
