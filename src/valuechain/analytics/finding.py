"""Findings: candidate statements from every capability, kept only when their
evidence passes its test, ranked by what they matter to the external customer.

A :class:`Candidate` carries its effect, the uncertainty around it, the test it was
put to (with its p-value) and its line-of-sight weight. :func:`select` applies
Holm's (1979) step-down procedure across *all* tested candidates of a report at once
(statsmodels' ``holm``), so the chance that even one finding of a report is false
stays under ``alpha`` (1%) however many candidates were looked at and however many real
effects surround it. (The false discovery rate of Benjamini & Hochberg would allow
one false finding per twenty true ones; in a report of five findings an executive
acts on, each has to hold.) Exact facts (the bottleneck of a computed flow, a
result no one uses) need no test and pass as they are.

Survivors are ranked by ``strength × sight``: ``strength`` is a unitless size of
effect on Cohen's scale (0.2 small, 0.5 medium, 0.8 large), stated per kind where
the candidate is made (Hedges' g for a change, Cohen's d_z for a gap, ...);
``sight`` is 1 for a relationship that serves the external customer directly and
halves with every step further away (0.1 without line of sight), so the report
leads with what reaches the customer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from valuechain.analytics.change import Correction, adjust_p

#: Family-wise error rate of a report: on pure noise at most 1 report in 100 claims
#: anything. Strict on purpose: an executive acts on each of five findings.
ALPHA = 0.01
LIMIT = 5
LIMIT_ALL = 7
NO_SIGHT = 0.1


class Kind(StrEnum):
    """What a finding is about (the ``kind`` key of the report's JSON)."""

    GAP = "gap"
    DECLINE = "decline"
    RISE = "rise"
    DRIVER = "driver"
    BOTTLENECK = "bottleneck"
    OVER_SHARE = "over_share"
    LOW_TRUST = "low_trust"
    WATERMELON = "watermelon"
    INTERNAL_FOCUS = "internal_focus"
    ENTITLEMENT = "entitlement"
    ORPHAN = "orphan"
    DISAGREEMENT = "disagreement"
    ACTION_WORKED = "action_worked"
    ACTION_FAILED = "action_failed"


EXACT = "exact computation"


@dataclass(frozen=True)
class Candidate:
    """A statement the evidence may or may not support.

    ``p`` is ``None`` for an exact fact; ``ci_low``/``ci_high`` are ``nan`` where the
    effect has no interval. ``units`` are the units it is about (for scoping a
    report to what a reader may see), ``chart`` a small Vega-Lite spec or ``None``.
    """

    kind: Kind
    subject: str
    sentence: str
    next_step: str
    effect: float
    strength: float
    test: str
    p: float | None = None
    ci_low: float = math.nan
    ci_high: float = math.nan
    sight: float = 1.0
    units: tuple[str, ...] = ()
    chart: dict[str, Any] | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    #: Candidates sharing a topic say nearly the same thing (a provider's decline seen
    #: overall, per customer and per dimension): a report keeps only the strongest.
    topic: str = ""


@dataclass(frozen=True)
class Finding:
    """A candidate that passed: its adjusted p-value (``None`` for exact facts) and rank."""

    candidate: Candidate
    q: float | None
    rank: float


def sight_weight(steps: int | None) -> float:
    """1 for a relationship serving the external customer directly, halving with every
    further step; :data:`NO_SIGHT` when no path reaches an external customer."""
    if steps is None:
        return NO_SIGHT
    return max(NO_SIGHT, 0.5 ** max(steps, 0))


def select(
    candidates: Sequence[Candidate], *, alpha: float = ALPHA, limit: int = LIMIT
) -> list[Finding]:
    """The findings of a report: candidates passing Holm's step-down at ``alpha``
    across every tested candidate, plus exact facts, ranked by
    ``strength × sight``, one per topic, cut to ``limit``."""
    tested = [c.p if c.p is not None else math.nan for c in candidates]
    q = adjust_p(np.array(tested, dtype=np.float64), Correction.HOLM)
    kept: list[Finding] = []
    for candidate, adjusted in zip(candidates, q.tolist(), strict=True):
        if candidate.p is None:
            kept.append(Finding(candidate, None, abs(candidate.strength) * candidate.sight))
        elif not math.isnan(adjusted) and adjusted <= alpha:
            kept.append(Finding(candidate, adjusted, abs(candidate.strength) * candidate.sight))
    kept.sort(key=lambda f: (-f.rank, f.candidate.kind.value, f.candidate.subject))
    seen: set[str] = set()
    distinct: list[Finding] = []
    for found in kept:
        topic = found.candidate.topic or f"{found.candidate.kind}:{found.candidate.subject}"
        if topic not in seen:
            seen.add(topic)
            distinct.append(found)
    return distinct[:limit]


# ----------------------------------------------------------------------------------
# Sentences. One plain sentence per finding, its number and its uncertainty in it.


def number(value: float, digits: int = 1) -> str:
    """A number as a reader sees it: fixed decimals, a true minus sign."""
    text = f"{value:.{digits}f}"
    return text.replace("-", "−")


def interval(low: float, high: float, digits: int = 1) -> str:
    """``95% CI a to b``."""
    return f"95% CI {number(low, digits)} to {number(high, digits)}"


def change_sentence(
    provider: str,
    customer: str | None,
    dimension: str | None,
    before: float,
    after: float,
    low: float,
    high: float,
    before_label: str,
    after_label: str,
) -> str:
    """ "Packing's score from Logistics fell from 5.1 to 4.0 (−1.1, 95% CI −1.6 to −0.6)
    between Q1 and Q2"."""
    what = f"{provider}'s {dimension + ' ' if dimension else ''}score"
    if customer:
        what += f" from {customer}"
    verb = "fell" if after < before else "rose"
    return (
        f"{what} {verb} from {number(before)} to {number(after)} "
        f"({'+' if after >= before else ''}{number(after - before)}, {interval(low, high)}) "
        f"between {before_label} and {after_label}."
    )
