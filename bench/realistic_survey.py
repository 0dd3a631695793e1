"""Realistic survey responses for the measure benchmarks, as numpy arrays.

The uniform generator (``bench.survey``) gives symmetric scores around 4.6 of 7, two
distinct timestamps, no comments, random skips only, and no provider rated by more
than a handful of units. Here, on any ``Organisation`` (best on ``bench.realistic``):

* **heavy providers**: the universal services (the units serving the most customers)
  are rated by thousands of customer units: 40% of the answer budget goes to them,
  the rest to a random share of the other relationships;
* **respondents per relationship** follow the rating unit: Binomial(headcount, the
  unit's response rate), rate ~ Beta(2, 3), at least one;
* **scores skewed to the top** with a ceiling: provider quality per dimension
  ~ N(5.4, 0.6), a relationship effect N(0, 0.4), a **person effect** (scale use)
  N(0, 0.7) per respondent, item noise N(0, 0.7), rounded and clipped to 1–7;
  8% of respondents are straight-liners who give one score (mostly 7) to every item;
* **break-offs** (7% of responses stop after a random item), **skipped dimensions**
  (4% leave one dimension out), **item skips** (3% of the remaining answers);
* **timestamps over three weeks** per campaign: most answers in the first days, bumps
  after the reminders on days 7 and 14, working hours, no weekends;
* **comments** on 12% of responses (one per response, on its last answer), with
  commas, quotes and non-ASCII letters.

``survey_stats`` computes the figures printed beside the benchmarks (score
distribution, skip and break-off rates, distinct timestamps, most raters of one
provider). ``write_realistic_responses`` writes ``responses.csv`` (PRODUCT.md
columns).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.generate import Organisation, unit_ids
from bench.survey import CAMPAIGNS, FACTOR_ITEMS, INSTRUMENTS, SERVQUAL_ITEMS, relationships

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

OPENS = (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))  # Mondays
HEAVY_SHARE = 0.4  # of the answer budget, for the most-served providers
HEAVY_PROVIDERS = 2
BREAK_OFF = 0.07
SKIP_DIMENSION = 0.04
SKIP_ITEM = 0.03
STRAIGHT_LINERS = 0.08
COMMENTED = 0.12
COMMENTS = (
    "Quick and friendly, thanks!",
    "Took three reminders, but it was solved in the end.",
    'The "self-service" portal is confusing; I called instead.',
    "Réponse rapide, très professionnel.",
    "Nobody owns the handover between our teams, so things fall through.",
    "Great, as always.",
    "Prices went up, quality didn't.",
    "Wir warten seit Wochen auf eine Rückmeldung.",
    "Fine.",
    "Good people, slow process: approvals take 2-3 weeks.",
)


@dataclass(frozen=True)
class RealisticSurvey:
    """One row per kept item answer; responses addressed by position."""

    response_campaign: IntArray
    response_instrument: IntArray
    response_rater: IntArray
    response_rated: IntArray
    response_submitted: IntArray  # seconds since the Unix epoch, UTC
    response_comment: IntArray  # index into COMMENTS, -1 for none
    response_broke_off: npt.NDArray[np.bool_]
    answer_response: IntArray
    answer_item: IntArray
    answer_expectation: FloatArray  # NaN when not asked
    answer_score: FloatArray
    asked: int  # item answers the instruments asked for (kept + left out)

    @property
    def n_responses(self) -> int:
        return int(self.response_rater.shape[0])

    @property
    def n_answers(self) -> int:
        return int(self.answer_response.shape[0])


def _dimension_index() -> list[IntArray]:
    """Per instrument, the dimension number of each item (in item order)."""
    out = []
    for _, items, _ in INSTRUMENTS:
        dims = list(dict.fromkeys(d for _, d in items))
        out.append(np.array([dims.index(d) for _, d in items], dtype=np.int64))
    return out


def _timestamps(rng: np.random.Generator, campaign: IntArray) -> IntArray:
    """Submission times: 60% decay from the opening, 28% after the day-7 reminder, 12%
    after the day-14 one; working hours; weekends move to Monday; within 23 days."""
    n = campaign.size
    wave = rng.choice(3, size=n, p=[0.6, 0.28, 0.12])
    start = np.array([0.0, 7.0, 14.0])[wave]
    scale = np.array([1.5, 1.0, 1.2])[wave]
    day = np.floor(np.minimum(start + rng.exponential(1.0, n) * scale, 20.0))
    weekday = day % 7
    day = np.where(weekday >= 5, day + 7 - weekday, day)  # Saturday, Sunday -> Monday
    seconds = np.clip(rng.normal(11.5, 2.5, n), 7.5, 18.5) * 3600 + rng.integers(0, 60, n)
    opens = np.array([int(o.timestamp()) for o in OPENS], dtype=np.int64)[campaign]
    stamp: IntArray = opens + (day * 86400 + seconds).astype(np.int64)
    return stamp


def generate_realistic_survey(org: Organisation, answers: int, *, seed: int = 7) -> RealisticSurvey:
    """About ``answers`` kept item answers (before break-offs and skips the instruments
    ask for ~15% more) over two campaigns. Same arguments, same survey."""
    rng = np.random.default_rng(seed)
    cust, prov = relationships(org)
    uses_factors = rng.random(org.n_units) < 0.25
    items_per = np.array([len(SERVQUAL_ITEMS), len(FACTOR_ITEMS)], dtype=np.int64)
    n_items = items_per[uses_factors[prov].astype(np.int64)]

    headcount = np.where(org.unit_headcount > 0, org.unit_headcount, 3)
    rate = rng.beta(2, 3, org.n_units)
    expected = np.maximum(1.0, headcount[cust] * rate[cust]) * n_items * len(CAMPAIGNS)
    budget = answers / 0.87  # break-offs and skips remove ~13%

    # The most-served providers take HEAVY_SHARE of the budget, in random rater order.
    served = np.bincount(prov, minlength=org.n_units)
    heavy = np.argsort(served)[::-1][:HEAVY_PROVIDERS]
    is_heavy = np.isin(prov, heavy)
    chosen: list[IntArray] = []
    for pool, share in ((np.flatnonzero(is_heavy), HEAVY_SHARE), (np.flatnonzero(~is_heavy), 1)):
        pool = rng.permutation(pool)
        spent = np.cumsum(expected[pool])
        room = budget * share if share < 1 else budget - sum(expected[c].sum() for c in chosen)
        chosen.append(pool[: max(1, int(np.searchsorted(spent, room)))])
    pick = np.concatenate(chosen)
    cust, prov = cust[pick], prov[pick]
    rated = pick.size

    # Responses per relationship and campaign.
    camp_parts, rel_parts = [], []
    for c in range(len(CAMPAIGNS)):
        count = np.maximum(1, rng.binomial(headcount[cust], rate[cust]))
        rel_parts.append(np.repeat(np.arange(rated), count))
        camp_parts.append(np.full(int(count.sum()), c, dtype=np.int64))
    rel = np.concatenate(rel_parts)
    campaign = np.concatenate(camp_parts)
    n_resp = rel.size
    instrument = uses_factors[prov[rel]].astype(np.int64)
    per = items_per[instrument]
    answer_response = np.repeat(np.arange(n_resp), per)
    starts = np.cumsum(per) - per
    item = np.arange(answer_response.size) - np.repeat(starts, per)
    a_inst = instrument[answer_response]
    dims = _dimension_index()
    dim = np.where(
        a_inst == 0,
        dims[0][np.minimum(item, len(SERVQUAL_ITEMS) - 1)],
        dims[1][np.minimum(item, len(FACTOR_ITEMS) - 1)],
    )

    quality = rng.normal(5.4, 0.6, size=(org.n_units, 6))
    relation = rng.normal(0.0, 0.4, rated)
    person = rng.normal(0.0, 0.7, n_resp)
    latent = quality[prov[rel[answer_response]], dim] + relation[rel[answer_response]]
    overall = (a_inst == 1) & (dim == 5)  # the factors' outcome follows the other five
    latent = np.where(overall, quality[prov[rel[answer_response]], :5].mean(axis=1) + 0.2, latent)
    score = np.clip(
        np.rint(latent + person[answer_response] + rng.normal(0, 0.7, latent.size)), 1, 7
    )
    liner = rng.random(n_resp) < STRAIGHT_LINERS
    liner_score = rng.choice([7.0, 6.0, 4.0, 1.0], size=n_resp, p=[0.7, 0.15, 0.1, 0.05])
    score = np.where(liner[answer_response], liner_score[answer_response], score)
    expectation = np.where(
        a_inst == 0,
        np.clip(np.rint(rng.normal(6.0, 0.8, latent.size) + 0.5 * person[answer_response]), 1, 7),
        np.nan,
    )

    # Break-offs keep the first k items (k >= 1); a skipped dimension and item skips.
    broke = rng.random(n_resp) < BREAK_OFF
    stop = np.where(broke, 1 + np.floor(rng.random(n_resp) * (per - 1)).astype(np.int64), per)
    skip_dim = np.where(rng.random(n_resp) < SKIP_DIMENSION, rng.integers(0, 5, n_resp), -1)
    kept = (item < stop[answer_response]) & (dim != skip_dim[answer_response])
    kept &= rng.random(item.size) >= SKIP_ITEM
    kept[starts] = True  # every response keeps its first answer

    comment = np.where(rng.random(n_resp) < COMMENTED, rng.integers(0, len(COMMENTS), n_resp), -1)
    return RealisticSurvey(
        response_campaign=campaign,
        response_instrument=instrument,
        response_rater=cust[rel],
        response_rated=prov[rel],
        response_submitted=_timestamps(rng, campaign),
        response_comment=comment.astype(np.int64),
        response_broke_off=broke,
        answer_response=answer_response[kept],
        answer_item=item[kept],
        answer_expectation=expectation[kept],
        answer_score=score[kept],
        asked=int(item.size),
    )


def survey_stats(survey: RealisticSurvey) -> dict[str, Any]:
    """Score distribution (share per point, mean, skew), left-out share, break-offs,
    distinct timestamps, comments and the most raters (units) of one provider."""
    from scipy.stats import skew

    score = survey.answer_score
    shares = np.bincount(score.astype(np.int64), minlength=8)[1:] / score.size
    raters = np.unique(
        survey.response_rated * (survey.response_rater.max() + 1) + survey.response_rater
    )
    per_provider = np.bincount(raters // (survey.response_rater.max() + 1))
    return {
        "responses": survey.n_responses,
        "answers": survey.n_answers,
        "score_mean": round(float(score.mean()), 2),
        "score_skew": round(float(skew(score)), 2),
        "score_shares_1_to_7": [round(float(s), 3) for s in shares],
        "left_out_share": round(1 - survey.n_answers / survey.asked, 3),
        "broke_off_share": round(float(survey.response_broke_off.mean()), 3),
        "distinct_timestamps": int(np.unique(survey.response_submitted).size),
        "distinct_days": int(np.unique(survey.response_submitted // 86400).size),
        "commented_share": round(float((survey.response_comment >= 0).mean()), 3),
        "max_rater_units_of_one_provider": int(per_provider.max()),
    }


def write_realistic_responses(org: Organisation, survey: RealisticSurvey, path: Path) -> Path:
    """``responses.csv``: one row per kept item answer, responses in a seeded random
    order; ``submitted_at`` as ISO 8601 UTC time; a response's comment on its last
    row."""
    uid = unit_ids(org.n_units)
    order = np.random.default_rng(99).permutation(survey.n_responses)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.shape[0])
    rows = np.argsort(rank[survey.answer_response], kind="stable")
    resp = survey.answer_response[rows]
    last_row = np.ones(resp.size, dtype=bool)
    last_row[:-1] = resp[1:] != resp[:-1]
    item_names = [[i for i, _ in items] for _, items, _ in INSTRUMENTS]
    inst_names = [name for name, _, _ in INSTRUMENTS]
    stamps = [
        (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for s in survey.response_submitted.tolist()
    ]
    r_id = [f"s{i:07d}" for i in range(survey.n_responses)]
    camp = survey.response_campaign.tolist()
    inst = survey.response_instrument.tolist()
    rater = survey.response_rater.tolist()
    ratee = survey.response_rated.tolist()
    comment = survey.response_comment.tolist()
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
        w.writerows(
            (
                r_id[r],
                CAMPAIGNS[camp[r]],
                inst_names[inst[r]],
                uid[rater[r]],
                uid[ratee[r]],
                stamps[r],
                item_names[inst[r]][i],
                "" if e != e else int(e),
                int(s),
                COMMENTS[comment[r]] if last and comment[r] >= 0 else "",
            )
            for r, i, e, s, last in zip(
                resp.tolist(),
                survey.answer_item[rows].tolist(),
                survey.answer_expectation[rows].tolist(),
                survey.answer_score[rows].tolist(),
                last_row.tolist(),
                strict=True,
            )
        )
    return path
