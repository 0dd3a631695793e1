"""The findings engine: only evidence that passes its test, false discoveries controlled
across every candidate of a report, ranked by line of sight."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from valuechain.analytics.finding import (
    ALPHA,
    EXACT,
    LIMIT,
    NO_SIGHT,
    Candidate,
    Kind,
    change_sentence,
    select,
    sight_weight,
)


def _candidate(p: float | None, strength: float = 1.0, sight: float = 1.0, name: str = "x"):  # type: ignore[no-untyped-def]
    return Candidate(
        kind=Kind.DECLINE,
        subject=name,
        sentence=f"{name} changed.",
        next_step="Ask why.",
        effect=-strength,
        strength=strength,
        test="Welch t test" if p is not None else EXACT,
        p=p,
        sight=sight,
    )


def test_selection_is_holm_across_all_candidates() -> None:
    p = [0.001, 0.006, 0.009, 0.04, 0.3, 0.8]
    reject, q, _, _ = multipletests(p, alpha=ALPHA, method="holm")
    assert 0 < sum(reject) < len(p)
    found = select([_candidate(v, name=str(i)) for i, v in enumerate(p)], limit=10)
    assert sorted(int(f.candidate.subject) for f in found) == [i for i, r in enumerate(reject) if r]
    by_name = {f.candidate.subject: f.q for f in found}
    for i, r in enumerate(reject):
        if r:
            assert by_name[str(i)] == pytest.approx(q[i], abs=1e-12)


def test_exact_facts_pass_and_ranking_weights_line_of_sight() -> None:
    far = _candidate(0.0001, strength=2.0, sight=sight_weight(3), name="far")
    near = _candidate(0.0001, strength=1.0, sight=sight_weight(0), name="near")
    fact = _candidate(None, strength=0.5, sight=1.0, name="bottleneck")
    found = select([far, near, fact])
    assert [f.candidate.subject for f in found] == ["near", "bottleneck", "far"]
    assert found[1].q is None


def test_at_most_limit_findings_and_none_when_nothing_passes() -> None:
    many = [_candidate(1e-6, strength=float(i), name=str(i)) for i in range(12)]
    assert len(select(many)) == LIMIT
    assert select([_candidate(0.2), _candidate(0.5)]) == []


def test_sight_weight_halves_per_step() -> None:
    assert [sight_weight(s) for s in (0, 1, 2)] == [1.0, 0.5, 0.25]
    assert sight_weight(None) == NO_SIGHT
    assert sight_weight(20) == NO_SIGHT


def test_on_pure_noise_few_reports_claim_anything() -> None:
    """Twenty Welch comparisons per report on noise: Holm keeps the chance that a report
    claims any change under alpha."""
    rng = np.random.default_rng(11)
    reports, claimed = 300, 0
    for _ in range(reports):
        candidates = []
        for cell in range(20):
            a, b = rng.normal(4, 1, 25), rng.normal(4, 1, 25)
            candidates.append(
                _candidate(float(stats.ttest_ind(a, b, equal_var=False).pvalue), name=str(cell))
            )
        claimed += bool(select(candidates))
    assert claimed / reports < 0.05


def test_the_change_sentence_reads_like_the_example() -> None:
    text = change_sentence("Packing", "Logistics", None, 5.1, 4.0, -1.6, -0.6, "Q1", "Q2")
    assert text == (
        "Packing's score from Logistics fell from 5.1 to 4.0 (−1.1, 95% CI −1.6 to −0.6) "
        "between Q1 and Q2."
    )
    assert "rose" in change_sentence("A", None, "empathy", 3.0, 3.5, 0.1, 0.9, "May", "June")
    assert not math.isnan(sight_weight(1))
