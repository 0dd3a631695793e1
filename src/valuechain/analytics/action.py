"""Did an action work? Before/after on the metric it should move, with its uncertainty.

The measurement before the action and the next one after it ask different
(anonymous) respondents, so they are independent samples: Welch's test and interval
(:func:`valuechain.analytics.change.welch_change`). The verdict only claims a change
when the interval excludes zero; otherwise it says there is no evidence of change,
which on noise is what it says (at the stated confidence).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from valuechain.analytics.change import welch_change
from valuechain.analytics.score import CONFIDENCE, Moments


class Verdict(StrEnum):
    """What the evidence says about an action's metric."""

    IMPROVED = "improved"
    NO_EVIDENCE = "no evidence of change"
    WORSE = "worse"
    NOT_YET = "not measured yet"  # no measurement after the action, or too few answers


@dataclass(frozen=True, slots=True)
class BeforeAfter:
    """The two measurements and the verdict; the difference is ``after − before``."""

    n_before: int
    n_after: int
    mean_before: float
    mean_after: float
    difference: float
    ci_low: float
    ci_high: float
    p: float
    verdict: Verdict


def before_after(
    before: Moments,
    after: Moments | None,
    *,
    higher_is_better: bool = True,
    confidence: float = CONFIDENCE,
) -> BeforeAfter:
    """The verdict on the answers before and after an action (one-cell moments).

    Improved when the Welch (1947) confidence interval of ``after − before`` lies
    wholly on the good side of zero, worse when wholly on the bad side, otherwise no
    evidence of change; not measured yet when either side has fewer than two answers.
    """
    nb, mb = int(before.n[0]), float(before.mean[0])
    if after is None:
        nan = math.nan
        return BeforeAfter(nb, 0, mb, nan, nan, nan, nan, nan, Verdict.NOT_YET)
    na, ma = int(after.n[0]), float(after.mean[0])
    change = welch_change(before, after, confidence)
    low, high = float(change.ci_low[0]), float(change.ci_high[0])
    difference, p = float(change.difference[0]), float(change.p[0])
    if math.isnan(low):
        verdict = Verdict.NOT_YET
    elif low > 0:
        verdict = Verdict.IMPROVED if higher_is_better else Verdict.WORSE
    elif high < 0:
        verdict = Verdict.WORSE if higher_is_better else Verdict.IMPROVED
    else:
        verdict = Verdict.NO_EVIDENCE
    return BeforeAfter(nb, na, mb, ma, difference, low, high, p, verdict)
