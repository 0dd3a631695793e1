"""Generated survey responses for the measure benchmark, as numpy arrays.

Built on a generated organisation (``bench.generate``): every internal customer unit
rates the internal providers whose results it uses (the default campaign of the
product), in two campaigns. Each rated relationship gets 1 to 9 responses (the
unit's members answer), so many relationships fall below the anonymity threshold and
the protection has real work to do. A provider is rated with the internal SERVQUAL
instrument (16 items, expectation and perception) or the service factors (12 items
with the ``overall`` outcome). Scores follow a latent quality per relationship and
dimension plus noise, rounded to the 1–7 scale; 2% of the answers are skipped, so
some respondents are incomplete.

``write_responses`` writes ``responses.csv`` with the columns of PRODUCT.md.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bench.generate import DEPARTMENT, TEAM, Organisation, unit_ids

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

CAMPAIGNS = ("2026-q1", "2026-q2")
SKIP = 0.02  # share of item answers left out

# (instrument, [(item, dimension)], asks expectation)
SERVQUAL_ITEMS = [
    (f"{d}_{i}", d)
    for d, k in (
        ("tangibles", 3),
        ("reliability", 4),
        ("responsiveness", 3),
        ("assurance", 3),
        ("empathy", 3),
    )
    for i in range(1, k + 1)
]
FACTOR_ITEMS = [
    (f"{d}_{i}", d)
    for d, k in (
        ("courtesy", 2),
        ("promptness", 2),
        ("conscientiousness", 2),
        ("value", 3),
        ("problem_solving", 2),
        ("overall", 1),
    )
    for i in range(1, k + 1)
]
INSTRUMENTS = (
    ("internal_servqual", SERVQUAL_ITEMS, True),
    ("service_factors", FACTOR_ITEMS, False),
)


@dataclass(frozen=True)
class Survey:
    """One row per item answer (``answers`` rows), responses addressed by position."""

    response_campaign: IntArray
    response_instrument: IntArray
    response_rater: IntArray
    response_rated: IntArray
    answer_response: IntArray
    answer_item: IntArray  # position in the instrument's item list
    answer_expectation: FloatArray  # nan when not asked
    answer_score: FloatArray

    @property
    def n_responses(self) -> int:
        return int(self.response_rater.shape[0])

    @property
    def n_answers(self) -> int:
        return int(self.answer_response.shape[0])


def relationships(org: Organisation) -> tuple[IntArray, IntArray]:
    """Distinct (customer, provider) pairs between internal units from the links."""
    provider = org.result_unit[org.link_result]
    customer = org.link_customer
    internal = np.isin(org.unit_kind, [TEAM, DEPARTMENT])
    keep = internal[provider] & internal[customer] & (provider != customer)
    pairs = np.unique(customer[keep] * org.n_units + provider[keep])
    return pairs // org.n_units, pairs % org.n_units


def generate_survey(org: Organisation, answers: int, *, seed: int = 7) -> Survey:
    """About ``answers`` item answers over the organisation's relationships."""
    rng = np.random.default_rng(seed)
    cust, prov = relationships(org)
    instrument_of = rng.integers(0, 4, org.n_units) == 0  # a quarter use the factors (1)
    items_per = np.array([len(SERVQUAL_ITEMS), len(FACTOR_ITEMS)], dtype=np.float64)
    # Responses per rated relationship and campaign: 1 + Poisson(3.5), capped at 9.
    mean_items = items_per[instrument_of[prov].astype(np.int64)].mean()
    per_relationship = 4.4 * mean_items * len(CAMPAIGNS)
    rated = min(len(cust), max(1, round(answers / per_relationship)))
    chosen = rng.choice(len(cust), size=rated, replace=False)
    cust, prov = cust[chosen], prov[chosen]
    quality = rng.normal(4.6, 0.8, size=(rated, 6))  # latent score per dimension
    camp_list, rel_list = [], []
    for c in range(len(CAMPAIGNS)):
        count = np.minimum(1 + rng.poisson(3.5, rated), 9)
        rel_list.append(np.repeat(np.arange(rated), count))
        camp_list.append(np.full(int(count.sum()), c))
    rel = np.concatenate(rel_list)
    campaign = np.concatenate(camp_list)
    instrument = instrument_of[prov[rel]].astype(np.int64)
    n_items = items_per.astype(np.int64)[instrument]
    answer_response = np.repeat(np.arange(rel.shape[0]), n_items)
    starts = np.cumsum(n_items) - n_items
    answer_item = np.arange(answer_response.shape[0]) - np.repeat(starts, n_items)
    a_inst = instrument[answer_response]
    dim_of = [
        np.array(
            [
                sorted({d for _, d in items}, key=[d for _, d in items].index).index(d)
                for _, d in items
            ]
        )
        for _, items, _ in INSTRUMENTS
    ]
    dim = np.where(
        a_inst == 0,
        dim_of[0][np.minimum(answer_item, len(SERVQUAL_ITEMS) - 1)],
        dim_of[1][np.minimum(answer_item, len(FACTOR_ITEMS) - 1)],
    )
    latent = quality[rel[answer_response], dim]
    # The factors' overall item follows the mean of the other dimensions.
    overall = (a_inst == 1) & (dim == 5)
    latent = np.where(overall, quality[rel[answer_response], :5].mean(axis=1), latent)
    person = np.asarray(rng.normal(0.0, 0.7, rel.shape[0]))[answer_response]
    score = np.clip(np.rint(latent + person + rng.normal(0, 0.8, latent.shape)), 1, 7)
    expectation = np.where(
        a_inst == 0, np.clip(np.rint(rng.normal(5.6, 0.9, latent.shape)), 1, 7), np.nan
    )
    kept = rng.random(latent.shape[0]) >= SKIP
    kept[starts] = True  # every response keeps its first answer
    return Survey(
        response_campaign=campaign,
        response_instrument=instrument,
        response_rater=cust[rel],
        response_rated=prov[rel],
        answer_response=answer_response[kept],
        answer_item=answer_item[kept],
        answer_expectation=expectation[kept],
        answer_score=score[kept],
    )


def write_responses(org: Organisation, survey: Survey, path: Path) -> Path:
    """``responses.csv``: one row per item answer, in a seeded random order of
    responses (an export follows no key order)."""
    uid = unit_ids(org.n_units)
    rng = np.random.default_rng(99)
    order = rng.permutation(survey.n_responses)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.shape[0])
    rows = np.argsort(rank[survey.answer_response], kind="stable")
    item_names = [[i for i, _ in items] for _, items, _ in INSTRUMENTS]
    inst_names = [name for name, _, _ in INSTRUMENTS]
    days = ("2026-03-15", "2026-06-15")
    r_id = [f"s{i:07d}" for i in range(survey.n_responses)]
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(
            (
                "response_id",
                "campaign",
                "instrument",
                "rater_id",
                "rated_id",
                "submitted_at",
                "item",
                "expectation",
                "score",
                "comment",
            )
        )
        resp = survey.answer_response[rows].tolist()
        item = survey.answer_item[rows].tolist()
        expect = survey.answer_expectation[rows].tolist()
        score = survey.answer_score[rows].tolist()
        camp = survey.response_campaign.tolist()
        inst = survey.response_instrument.tolist()
        rater = survey.response_rater.tolist()
        ratee = survey.response_rated.tolist()
        w.writerows(
            (
                r_id[r],
                CAMPAIGNS[camp[r]],
                inst_names[inst[r]],
                uid[rater[r]],
                uid[ratee[r]],
                days[camp[r]],
                item_names[inst[r]][i],
                "" if e != e else int(e),
                int(s),
                "",
            )
            for r, i, e, s in zip(resp, item, expect, score, strict=True)
        )
    return path
