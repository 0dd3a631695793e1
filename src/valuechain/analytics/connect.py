"""Connect: each internal relationship's line of sight to the external customers,
whether internal scores move with the external customers' outcomes, and the two
flags of seed ``002`` (internal focus, entitlement).

* Line of sight reuses the Map's derived facts (:mod:`valuechain.analytics.customer`):
  the bitset of external customers every unit reaches and its breadth-first depth,
  so all relationships of a 100,000-unit map are answered in a few array passes.
* Pearson's correlation over paired periods with its Fisher (1921) z-transform 95%
  confidence interval and two-sided p-value; with fewer pairs than asked no interval
  is given and the function says so instead of guessing.
* A relationship "moves with" an outcome only when its correlation survives Holm's
  (1979) correction across every correlation tried, at the report's family-wise
  error (:data:`valuechain.analytics.finding.ALPHA`): :func:`moves_with`.
* Entitlement compares agreement targets along a path with the target the external
  customer at its end asks, metric by metric.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from valuechain.analytics.change import adjust_p
from valuechain.analytics.customer import NO_DEPTH, ChainGraph, MapFacts
from valuechain.analytics.finding import ALPHA
from valuechain.domain.response import Correction

MIN_PAIRS = 4
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Correlation:
    """r with its interval; every number is nan when ``reason`` says why not."""

    n: int
    r: float
    ci_low: float
    ci_high: float
    p_value: float
    reason: str | None = None


def correlation(
    x: npt.ArrayLike, y: npt.ArrayLike, confidence: float = 0.95, min_pairs: int = MIN_PAIRS
) -> Correlation:
    """Pearson's r of the pairs where both values are known; Fisher z interval
    (agrees with ``scipy.stats.pearsonr(...).confidence_interval()``). Below
    ``min_pairs`` pairs (at least 4, where the interval starts to exist) every
    number is nan and ``reason`` says "too few periods"."""
    from scipy import stats  # here, not at module level: scipy.stats takes ~0.3 s to import

    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    both = ~np.isnan(a) & ~np.isnan(b)
    a, b = a[both], b[both]
    n = int(a.size)
    nan = math.nan
    needed = max(min_pairs, MIN_PAIRS)
    if n < needed:
        return Correlation(n, nan, nan, nan, nan, f"too few periods: {n} paired, {needed} needed")
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return Correlation(n, nan, nan, nan, nan, "one of the series does not vary")
    result = stats.pearsonr(a, b)
    r = float(result.statistic)
    z = math.atanh(min(max(r, -1 + 1e-15), 1 - 1e-15))
    half = stats.norm.ppf(0.5 + confidence / 2) / math.sqrt(n - 3)
    return Correlation(n, r, math.tanh(z - half), math.tanh(z + half), float(result.pvalue))


def moves_with(p_values: npt.ArrayLike, alpha: float = ALPHA) -> tuple[FloatArray, BoolArray]:
    """Holm-adjusted p-values of every correlation tried (``nan``: not tested, does not
    count) and whether each may be claimed: adjusted p ≤ ``alpha``. On outcomes that
    do not move with any score, the chance that even one claim is made stays under
    ``alpha`` however many relationships and metrics were tried (Holm 1979)."""
    adjusted = adjust_p(np.asarray(p_values, dtype=np.float64), Correction.HOLM)
    with np.errstate(invalid="ignore"):
        claim: BoolArray = adjusted <= alpha
    return adjusted, claim


# -- line of sight --------------------------------------------------------------------


@dataclass(frozen=True)
class LineOfSight:
    """Per relationship (a provider's result used by a customer unit)."""

    reaches: BoolArray  # some path leads from the result to an external customer
    length: IntArray  # arcs of the shortest such path (provider -> ... -> external)
    served_count: IntArray  # external customers it serves
    customer: IntArray  # the customer unit of each relationship
    facts: MapFacts  # whose bitsets say which external customers each unit reaches
    own: BoolArray  # the customer is itself an external customer


def line_of_sight(graph: ChainGraph, facts: MapFacts, customer: npt.ArrayLike) -> LineOfSight:
    """The line of sight of relationships whose customer units are ``customer``.

    A relationship serves the external customers its customer unit is, or reaches by
    one or more arcs of the unit graph (any relation: pays, consumes, adds to,
    depends on); its length is one arc to the customer plus the customer's
    breadth-first depth (:func:`valuechain.analytics.customer.map_facts`). A few
    gathers over all relationships at once; the bitsets are not copied."""
    c = np.asarray(customer, dtype=np.int64)
    own = graph.unit_external_customer[c]
    count = facts.external_count[c] + own
    reaches = count > 0
    depth = facts.depth[c]
    length = np.where(reaches & (depth != NO_DEPTH), depth + 1, NO_DEPTH).astype(np.int64)
    return LineOfSight(reaches, length, count.astype(np.int64), c, facts, own)


def served_units(sight: LineOfSight, row: int) -> IntArray:
    """The external customers (unit positions) relationship ``row`` serves, sorted."""
    facts = sight.facts
    unit = int(sight.customer[row])
    flags = np.unpackbits(facts.external_bits[unit].view(np.uint8), bitorder="little")
    chosen: IntArray = facts.external_units[flags[: facts.external_units.size].astype(bool)]
    if sight.own[row]:
        chosen = np.sort(np.append(chosen, unit)).astype(np.int64)
    return chosen


# -- entitlement ----------------------------------------------------------------------

#: Per agreement metric: is a higher target the stricter one?
HIGHER_IS_STRICTER: dict[str, bool] = {
    "on_time_pct": True,
    "quality_pct": True,
    "response_hours": False,
    "resolution_hours": False,
}


@dataclass(frozen=True)
class Entitlement:
    """Per step of a path: whether its target asks more than the end needs."""

    entitled: BoolArray
    excess: FloatArray  # how much stricter, in the metric's unit (0 where not)


def entitlement(
    step_targets: npt.ArrayLike, end_target: float, higher_is_stricter: bool
) -> Entitlement:
    """Compare the targets agreed along a path (``nan``: no agreement on that step)
    with the target the external customer at its end asks for the same metric: a
    step whose customer asks its provider for a stricter target than the external
    customer needs is *entitlement* (seed ``002``). With no end target (``nan``)
    nothing can be claimed and no step is flagged."""
    t = np.asarray(step_targets, dtype=np.float64)
    if not math.isfinite(end_target):
        return Entitlement(np.zeros(t.shape, dtype=bool), np.zeros(t.shape))
    excess = (t - end_target) if higher_is_stricter else (end_target - t)
    known = ~np.isnan(t)
    entitled = known & (excess > 0)
    return Entitlement(entitled, np.where(entitled, excess, 0.0))
