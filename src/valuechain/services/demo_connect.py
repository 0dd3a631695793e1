"""The demo organisation's Connect story: two years of monthly outcomes of the three
external customer segments, and a monthly pulse campaign in which three internal
relationships are rated, so ``valuechain connect`` has something real to find.

Like the rest of the demo, the numbers come from tables and one small generator;
the same seed always gives the same data. The story:

* **planning's service moves with the customers**: a latent "plan stability"
  series drives both assembly's monthly pulse rating of production planning and
  the external customers' satisfaction (up) and complaints (down); over 24 months
  the correlation is clear (its 95% interval excludes 0);
* **the IT service desk and payroll do not**: their ratings follow series of their
  own, so their intervals span 0 — the honest answer is "no evidence", not "no
  effect";
* the pulse campaigns (``YYYY-MM-pulse``) are all answered before the quarterly
  campaigns of :mod:`valuechain.services.demo_survey` open, so in time order those
  stay the latest two.
"""

from __future__ import annotations

import math
import random
from datetime import date

from valuechain.domain.instrument import PULSE
from valuechain.domain.outcome import Outcome
from valuechain.domain.response import Answer, Response

FIRST_MONTH = (2024, 3)  # to 2026-02: every pulse answered before 2026-Q1 opens
MONTHS = 24
RESPONDENTS = 8  # per rated relationship and month: above the threshold of 5

# External customer -> (satisfaction level 0-10, complaints a month, revenue a month).
CUSTOMERS: dict[str, tuple[float, float, float]] = {
    "retail-chains": (7.4, 18.0, 1_250_000.0),
    "installers": (7.9, 9.0, 720_000.0),
    "oem-partners": (7.1, 6.0, 610_000.0),
}

# (provider, customer, pulse level 1-5, weight of plan stability in the rating).
PulseRow = tuple[str, str, float, float]
RATED: tuple[PulseRow, ...] = (
    ("production-planning", "assembly", 3.5, 0.55),
    ("it-service-desk", "customer-service", 3.3, 0.0),
    ("payroll", "assembly", 4.1, 0.0),
)
NEED_NOW = PULSE.item("need_now")
OWN_SERIES_SPREAD = 0.45  # how much a relationship's own monthly level wanders
RESPONDENT_SPREAD = 0.8


def months() -> list[str]:
    """The demo's months, oldest first, as ``YYYY-MM``."""
    year, month = FIRST_MONTH
    out = []
    for i in range(MONTHS):
        m = month - 1 + i
        out.append(f"{year + m // 12:04d}-{m % 12 + 1:02d}")
    return out


def _stability(rng: random.Random) -> list[float]:
    """Plan stability per month: an AR(1) series (mean 0, unit spread) with a rough
    patch in early 2025 when the plan changed too often."""
    values, level = [], 0.0
    for i in range(MONTHS):
        level = 0.6 * level + rng.gauss(0, 0.8)
        dip = -1.2 if 7 <= i <= 9 else 0.0
        values.append(level + dip)
    return values


def demo_connect(seed: int = 7) -> tuple[list[Outcome], list[Response]]:
    """The outcomes and the pulse responses, identical for the same seed."""
    rng = random.Random(seed * 1000 + 7)
    stability = _stability(rng)
    outcomes: list[Outcome] = []
    for customer, (satisfaction, complaints, revenue) in CUSTOMERS.items():
        for month, s in zip(months(), stability, strict=True):
            sat = satisfaction + 0.45 * s + rng.gauss(0, 0.2)
            outcomes.append(Outcome(customer, month, "satisfaction", round(min(10, sat), 2)))
            count = max(0.0, complaints * (1 - 0.18 * s) + rng.gauss(0, 1.5))
            outcomes.append(Outcome(customer, month, "complaints", float(round(count))))
            money = revenue * (1 + 0.01 * s + rng.gauss(0, 0.02))
            outcomes.append(Outcome(customer, month, "revenue", round(money, -2)))
    responses: list[Response] = []
    for provider, customer, level, weight in RATED:
        own = 0.0
        for i, (month, s) in enumerate(zip(months(), stability, strict=True)):
            own = 0.5 * own + rng.gauss(0, OWN_SERIES_SPREAD)
            mean = level + weight * s + own
            year, mon = int(month[:4]), int(month[5:])
            for k in range(RESPONDENTS):
                score = NEED_NOW.scale
                assert score is not None
                value = min(score.high, max(score.low, round(rng.gauss(mean, RESPONDENT_SPREAD))))
                responses.append(
                    Response(
                        id=f"{month}-pulse-{provider}-{customer}-{k + 1}",
                        campaign=f"{month}-pulse",
                        instrument=PULSE.key,
                        rater_id=customer,
                        rated_id=provider,
                        submitted_on=date(year, mon, 20 + (i + k) % 8),
                        answers=[Answer(NEED_NOW.key, NEED_NOW.dimension, float(value))],
                    )
                )
    assert all(math.isfinite(o.value) for o in outcomes)
    return outcomes, responses


__all__ = ["CUSTOMERS", "MONTHS", "RATED", "demo_connect", "months"]
