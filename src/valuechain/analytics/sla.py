"""Service-level clocks for internal requests, on the provider's business calendar.

Per request: working seconds to first response and to resolution (a request still open
is timed up to "now"), whether each target was met, and whether an open request is
near its breach. Per relationship (any grouping): requests, the share of first
responses and resolutions on target (of those that can be judged), the median working
hours to resolution, and the share of resolved requests that were thanked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from valuechain.analytics.clock import BusinessClock, elapsed
from valuechain.domain.request import AT_RISK

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

NEAR_BREACH = AT_RISK  # an open request that has used 75% of a target is at risk


@dataclass(frozen=True)
class RequestClocks:
    """Per request, in working seconds; ``met`` is nan where it cannot be judged yet
    (open and still within target)."""

    to_response: FloatArray
    to_resolution: FloatArray
    response_met: FloatArray  # 1 met, 0 breached, nan undecided or no target
    resolution_met: FloatArray
    near_breach: BoolArray


def _judge(spent: FloatArray, finished: BoolArray, target: FloatArray) -> FloatArray:
    met = np.where(spent <= target, 1.0, 0.0)
    undecided = (~finished & (spent <= target)) | np.isnan(target)
    return np.where(undecided, np.nan, met)


def request_clocks(
    clock: BusinessClock,
    created: npt.ArrayLike,
    first_response: npt.ArrayLike,
    resolved: npt.ArrayLike,
    response_target_hours: npt.ArrayLike,
    resolution_target_hours: npt.ArrayLike,
    now: float,
    paused: npt.ArrayLike | None = None,
) -> RequestClocks:
    """Working time per request (epoch seconds in; ``nan`` = not yet) against its
    targets (``nan`` = no target). ``paused`` (working seconds per request, e.g. while
    waiting on the customer) does not count towards resolution."""
    c = np.asarray(created, dtype=np.float64)
    r = np.asarray(first_response, dtype=np.float64)
    z = np.asarray(resolved, dtype=np.float64)
    responded, done = ~np.isnan(r), ~np.isnan(z)
    to_response = elapsed(clock, c, np.where(responded, r, now))
    to_resolution = elapsed(clock, c, np.where(done, z, now))
    if paused is not None:
        to_resolution = to_resolution - np.asarray(paused, dtype=np.float64)
    response_target = np.asarray(response_target_hours, dtype=np.float64) * 3600
    resolution_target = np.asarray(resolution_target_hours, dtype=np.float64) * 3600
    near = (~done & (to_resolution >= NEAR_BREACH * resolution_target)) & (
        to_resolution <= resolution_target
    )
    near |= (
        ~responded
        & (to_response >= NEAR_BREACH * response_target)
        & (to_response <= response_target)
    )
    return RequestClocks(
        to_response=to_response,
        to_resolution=to_resolution,
        response_met=_judge(to_response, responded, response_target),
        resolution_met=_judge(to_resolution, done, resolution_target),
        near_breach=near,
    )


@dataclass(frozen=True)
class SlaSummary:
    """Per group; percentages are nan where nothing could be judged."""

    requests: IntArray
    first_response_met_pct: FloatArray
    resolution_met_pct: FloatArray
    median_resolution_hours: FloatArray
    thanked_pct: FloatArray


def _pct(flags: FloatArray, groups: IntArray, n: int) -> FloatArray:
    known = ~np.isnan(flags)
    hits = np.bincount(groups[known], weights=flags[known], minlength=n)
    total = np.bincount(groups[known], minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, 100.0 * hits / total, np.nan)


def summarise(
    clocks: RequestClocks,
    resolved: npt.ArrayLike,
    thanked: npt.ArrayLike,
    groups: npt.ArrayLike,
    n_groups: int,
) -> SlaSummary:
    """Aggregate request clocks per group (e.g. per provider-customer relationship)."""
    g = np.asarray(groups, dtype=np.int64)
    done = ~np.isnan(np.asarray(resolved, dtype=np.float64))
    thanks = np.asarray(thanked, dtype=np.float64)
    hours = np.where(done, clocks.to_resolution / 3600, np.nan)
    # Median per group: sort by (group, hours) once, then pick the middle of each run.
    order = np.lexsort((hours, g))
    gs, hs = g[order], hours[order]
    medians = np.full(n_groups, np.nan)
    valid = ~np.isnan(hs)
    counts = np.bincount(gs[valid], minlength=n_groups)
    starts = np.searchsorted(gs, np.arange(n_groups), side="left")
    has = counts > 0
    lo = starts[has] + (counts[has] - 1) // 2
    hi = starts[has] + counts[has] // 2
    medians[has] = (hs[lo] + hs[hi]) / 2
    return SlaSummary(
        requests=np.bincount(g, minlength=n_groups),
        first_response_met_pct=_pct(clocks.response_met, g, n_groups),
        resolution_met_pct=_pct(clocks.resolution_met, g, n_groups),
        median_resolution_hours=medians,
        thanked_pct=_pct(np.where(done, thanks, np.nan), g, n_groups),
    )
