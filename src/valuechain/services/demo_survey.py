"""The demo organisation's survey history: two quarterly campaigns of the built-in
*internal service factors* instrument, answered by customer units about the
providers whose results they use (every relationship below is a link of the demo
map).

Like the map (``services.demo``), the data are tables plus one small generator, and
the same seed always gives the same responses. The story the app should find:

* **production planning's value falls**: its customers rate the value of the weekly
  plan about 1.2 points lower in 2026-Q2 than in 2026-Q1 (the plan changed too often
  that quarter), while its other dimensions hold;
* **problem solving drives overall satisfaction**: a respondent's ``overall`` answer
  follows their problem-solving rating most closely, so key-driver analysis puts
  ``problem_solving`` first;
* **an action worked, another did not**: the IT service desk promised faster first
  answers to assembly after 2026-Q1: its promptness rose by about a point in Q2,
  by more for assembly (the action is judged on that relationship); payroll's
  courtesy action changed nothing measurable;
* **both sides speak**: in each campaign the providers also rate their customers as
  partners (the ``partnership`` instrument); production planning finds assembly's
  inputs late;
* **what matters most is what falls short**: in 2026-Q2 business applications'
  customers also answered the internal SERVQUAL instrument (expectation and
  perception) and split 100 importance points across its dimensions; the biggest
  gap (responsiveness: ERP fixes take long) is where they put the most points, so
  the importance-weighted total gap is worse than the unweighted one;
* **small groups stay hidden**: maintenance answers about production planning with
  only 4 and 3 respondents, and business applications about the IT service desk
  with 3 in Q2; their numbers, and any total they could be subtracted from, are
  suppressed at the default threshold of 5.

Responses are anonymous: an id, the campaign, the rating and the rated unit and
the day; nothing names a person.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from valuechain.domain.instrument import (
    IMPORTANCE_POINTS,
    INTERNAL_SERVQUAL,
    OUTCOME,
    PARTNERSHIP,
    SERVICE_FACTORS,
)
from valuechain.domain.response import Answer, Response

CAMPAIGNS: tuple[tuple[str, date], ...] = (
    ("2026-q1", date(2026, 3, 2)),  # the campaign and the day it opened (two weeks open)
    ("2026-q2", date(2026, 6, 1)),
)

# How well each provider serves, on the 1-7 scale, before any story is added.
PROVIDER_LEVEL: dict[str, float] = {
    "production-planning": 5.2,
    "it-service-desk": 4.6,
    "payroll": 5.6,
    "quality-assurance": 5.0,
}

# Respondents per relationship and campaign.
RelationshipRow = tuple[str, str, int, int]
RELATIONSHIPS: tuple[RelationshipRow, ...] = (
    # provider               customer                 Q1   Q2
    ("production-planning",  "machining",             14,  13),
    ("production-planning",  "assembly",              18,  17),
    ("production-planning",  "packing",                9,   8),
    ("production-planning",  "procurement",            6,   6),
    ("production-planning",  "maintenance",            4,   3),   # too few: suppressed
    ("it-service-desk",      "assembly",              12,  11),
    ("it-service-desk",      "customer-service",       9,  10),
    ("it-service-desk",      "business-applications",  5,   3),   # Q2 too few
    ("payroll",              "accounting",             6,   5),
    ("payroll",              "assembly",              15,  14),
    ("payroll",              "machining",             11,  12),
    ("quality-assurance",    "packing",                8,   9),
)  # fmt: skip

# The planted change: (provider, dimension, campaign) -> shift of the ratings.
SHIFTS: dict[tuple[str, str, str], float] = {
    ("production-planning", "value", "2026-q2"): -1.2,
    ("it-service-desk", "promptness", "2026-q2"): +1.1,
}
# On top of SHIFTS, for one relationship: (provider, customer, dimension, campaign).
RELATIONSHIP_SHIFTS: dict[tuple[str, str, str, str], float] = {
    # The action that worked: faster first answers promised to assembly.
    ("it-service-desk", "assembly", "promptness", "2026-q2"): +0.7,
}
# How strongly each dimension carries into the overall answer (problem solving most).
OVERALL_WEIGHTS: dict[str, float] = {
    "courtesy": 0.05,
    "promptness": 0.1,
    "conscientiousness": 0.05,
    "value": 0.15,
    "problem_solving": 0.65,
}
RESPONDENT_SPREAD = 0.7  # how much respondents of one relationship differ overall
DIMENSION_SPREAD = 0.8  # how much one respondent's dimensions differ from each other
ITEM_SPREAD = 0.45  # how much items of one dimension differ


def _rating(value: float) -> float:
    return float(min(7, max(1, round(value))))


def demo_responses(seed: int = 7) -> list[Response]:
    """The two campaigns' responses, identical for the same seed."""
    # A stream of its own (not the map's), so the survey never shifts the people a
    # seed draws; with the default seed only planning's value moves by more than noise.
    rng = random.Random(seed * 1000 + 1)
    responses: list[Response] = []
    for campaign, opened in CAMPAIGNS:
        number = 0
        for provider, customer, q1, q2 in RELATIONSHIPS:
            size = q1 if campaign == CAMPAIGNS[0][0] else q2
            for _ in range(size):
                number += 1
                level = PROVIDER_LEVEL[provider] + rng.gauss(0, RESPONDENT_SPREAD)
                dims = {
                    d.key: level
                    + SHIFTS.get((provider, d.key, campaign), 0.0)
                    + RELATIONSHIP_SHIFTS.get((provider, customer, d.key, campaign), 0.0)
                    + rng.gauss(0, DIMENSION_SPREAD)
                    for d in SERVICE_FACTORS.drivers
                }
                dims[OUTCOME] = (
                    sum(w * dims[k] for k, w in OVERALL_WEIGHTS.items())
                    + 0.3 * (level - PROVIDER_LEVEL[provider])
                    + rng.gauss(0, 0.35)
                )
                answers = [
                    Answer(
                        item.key,
                        item.dimension,
                        _rating(dims[item.dimension] + rng.gauss(0, ITEM_SPREAD)),
                    )
                    for item in SERVICE_FACTORS.items
                ]
                responses.append(
                    Response(
                        id=f"{campaign}-{number:04d}",
                        campaign=campaign,
                        instrument=SERVICE_FACTORS.key,
                        rater_id=customer,
                        rated_id=provider,
                        submitted_on=opened + timedelta(days=rng.randrange(14)),
                        answers=answers,
                    )
                )
    return responses


# Providers rating their customers as partners: (provider, customer, respondents).
PARTNERS: tuple[tuple[str, str, int], ...] = (
    ("production-planning", "assembly", 7),
    ("production-planning", "machining", 6),
    ("it-service-desk", "assembly", 6),
    ("payroll", "assembly", 5),
)
# How good a partner each customer is, and where it falls short.
PARTNER_LEVEL: dict[str, float] = {"assembly": 5.0, "machining": 5.4}
PARTNER_SHIFTS: dict[tuple[str, str], float] = {("assembly", "inputs_on_time"): -1.6}


def demo_partnership(seed: int = 7) -> list[Response]:
    """The providers' view of their customers in both campaigns (own random stream)."""
    rng = random.Random(seed * 1000 + 2)
    responses: list[Response] = []
    for campaign, opened in CAMPAIGNS:
        number = 0
        for provider, customer, size in PARTNERS:
            for _ in range(size):
                number += 1
                level = PARTNER_LEVEL[customer] + rng.gauss(0, RESPONDENT_SPREAD)
                dims = {
                    d.key: level
                    + PARTNER_SHIFTS.get((customer, d.key), 0.0)
                    + rng.gauss(0, DIMENSION_SPREAD)
                    for d in PARTNERSHIP.drivers
                }
                dims[OUTCOME] = sum(dims.values()) / len(dims) + rng.gauss(0, 0.4)
                answers = [
                    Answer(
                        item.key,
                        item.dimension,
                        _rating(dims[item.dimension] + rng.gauss(0, ITEM_SPREAD)),
                    )
                    for item in PARTNERSHIP.items
                ]
                responses.append(
                    Response(
                        id=f"{campaign}-p{number:03d}",
                        campaign=campaign,
                        instrument=PARTNERSHIP.key,
                        rater_id=provider,
                        rated_id=customer,
                        submitted_on=opened + timedelta(days=rng.randrange(14)),
                        answers=answers,
                    )
                )
    return responses


# Internal SERVQUAL about business applications in 2026-Q2: (customer, respondents).
SERVQUAL_PROVIDER = "business-applications"
SERVQUAL_CAMPAIGN = "2026-q2"
SERVQUAL_CUSTOMERS: tuple[tuple[str, int], ...] = (
    ("sales-operations", 9),
    ("accounting", 7),
    ("production-planning", 6),
)
# Per dimension: (mean expectation, mean perception, mean importance points).
SERVQUAL_LEVELS: dict[str, tuple[float, float, float]] = {
    "tangibles": (5.2, 5.0, 10),
    "reliability": (6.2, 5.3, 25),
    "responsiveness": (6.3, 4.6, 35),
    "assurance": (5.8, 5.6, 15),
    "empathy": (5.5, 4.9, 15),
}


def _split(rng: random.Random) -> dict[str, float]:
    """One respondent's importance split: whole points around the levels above,
    adding up to exactly 100."""
    raw = {d: max(0.0, rng.gauss(p, 4.0)) for d, (_e, _p, p) in SERVQUAL_LEVELS.items()}
    scale = IMPORTANCE_POINTS / sum(raw.values())
    points = {d: float(round(v * scale)) for d, v in raw.items()}
    heaviest = max(points, key=points.__getitem__)
    points[heaviest] += IMPORTANCE_POINTS - sum(points.values())
    return points


def demo_servqual(seed: int = 7) -> list[Response]:
    """Business applications' internal SERVQUAL responses of 2026-Q2, each with an
    importance split (own random stream, so the other demo data never move)."""
    rng = random.Random(seed * 1000 + 3)
    opened = dict(CAMPAIGNS)[SERVQUAL_CAMPAIGN]
    responses: list[Response] = []
    number = 0
    for customer, size in SERVQUAL_CUSTOMERS:
        for _ in range(size):
            number += 1
            mood = rng.gauss(0, RESPONDENT_SPREAD)
            answers = []
            for item in INTERNAL_SERVQUAL.items:
                expect, perceive, _points = SERVQUAL_LEVELS[item.dimension]
                answers.append(
                    Answer(
                        item.key,
                        item.dimension,
                        _rating(perceive + mood + rng.gauss(0, ITEM_SPREAD)),
                        _rating(expect + rng.gauss(0, ITEM_SPREAD)),
                    )
                )
            responses.append(
                Response(
                    id=f"{SERVQUAL_CAMPAIGN}-s{number:03d}",
                    campaign=SERVQUAL_CAMPAIGN,
                    instrument=INTERNAL_SERVQUAL.key,
                    rater_id=customer,
                    rated_id=SERVQUAL_PROVIDER,
                    submitted_on=opened + timedelta(days=rng.randrange(14)),
                    answers=answers,
                    importance=_split(rng),
                )
            )
    return responses


__all__ = [
    "CAMPAIGNS",
    "RELATIONSHIPS",
    "SERVQUAL_PROVIDER",
    "demo_partnership",
    "demo_responses",
    "demo_servqual",
]
