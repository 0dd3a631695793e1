"""Scores, gaps, reliability, change and NPS against SciPy, statsmodels and pingouin
(to 1e-6 on random data), and the edge cases that give nan with a reason."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from valuechain.analytics.change import Correction, adjust_p, welch_change
from valuechain.analytics.nps import histogram, net_promoter
from valuechain.analytics.reliability import alpha_of, cronbach_alpha
from valuechain.analytics.score import (
    CrossProducts,
    Moments,
    Reason,
    dimension_scores,
    gap_interval,
    mean_interval,
    mean_of,
    servqual_totals,
)

SEEDS = range(8)


def likert(
    rng: np.random.Generator, shape: tuple[int, ...], low: int = 1, high: int = 7
) -> np.ndarray:
    return rng.integers(low, high + 1, size=shape).astype(np.float64)


def correlated_items(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    latent = rng.normal(size=(n, 1))
    raw = 4 + 1.2 * latent + rng.normal(size=(n, k))
    return np.clip(np.round(raw), 1, 7)


# --- means ------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_mean_interval_matches_scipy_t_interval(seed: int) -> None:
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, 6, size=300)
    values = likert(rng, (300,))
    values[rng.random(300) < 0.1] = np.nan
    result = mean_interval(Moments.by_group(values, groups, 6))
    for g in range(6):
        x = values[(groups == g) & ~np.isnan(values)]
        low, high = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
        assert result.n[g] == len(x)
        assert result.mean[g] == pytest.approx(x.mean(), abs=1e-9)
        assert result.sd[g] == pytest.approx(x.std(ddof=1), abs=1e-9)
        assert result.ci_low[g] == pytest.approx(low, abs=1e-6)
        assert result.ci_high[g] == pytest.approx(high, abs=1e-6)
        assert result.reason[g] is None


def test_moments_add_up_across_partial_aggregates() -> None:
    rng = np.random.default_rng(1)
    x = likert(rng, (50,))
    whole = Moments.from_values(x)
    parts = Moments.from_values(x[:20]) + Moments.from_values(x[20:])
    np.testing.assert_allclose(
        [parts.n, parts.total, parts.total_sq], [whole.n, whole.total, whole.total_sq]
    )


def test_mean_edge_cases_are_nan_with_a_reason() -> None:
    result = mean_interval(Moments.of([0, 1, 4], [0, 5, 12], [0, 25, 36]))
    assert np.isnan(result.mean[0]) and result.reason[0] is Reason.NO_ANSWERS
    assert (
        result.mean[1] == 5 and np.isnan(result.ci_low[1]) and result.reason[1] is Reason.ONE_ANSWER
    )
    assert result.ci_low[2] == result.ci_high[2] == 3 and result.reason[2] is Reason.NO_VARIANCE
    missing = mean_of([np.nan, np.nan])
    assert missing.n[0] == 0 and missing.reason[0] is Reason.NO_ANSWERS


def test_dimension_scores_average_the_answered_items() -> None:
    answers = np.array([[1, 3, 7, np.nan], [np.nan, np.nan, 2, 4]])
    scores = dimension_scores(answers, [0, 0, 1, 1])
    np.testing.assert_allclose(scores, [[2, 7], [np.nan, 3]])


# --- gaps -------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_gap_matches_scipy_paired_t(seed: int) -> None:
    rng = np.random.default_rng(seed)
    expectation = likert(rng, (80, 4), 4, 7)
    perception = likert(rng, (80, 4))
    result = gap_interval(perception, expectation)
    for j in range(4):
        reference = stats.ttest_rel(perception[:, j], expectation[:, j])
        ci = reference.confidence_interval(0.95)
        assert result.mean[j] == pytest.approx(
            (perception[:, j] - expectation[:, j]).mean(), abs=1e-9
        )
        assert result.ci_low[j] == pytest.approx(ci.low, abs=1e-6)
        assert result.ci_high[j] == pytest.approx(ci.high, abs=1e-6)


def test_gap_counts_only_complete_pairs() -> None:
    p = np.array([[5.0], [6.0], [np.nan], [4.0]])
    e = np.array([[6.0], [np.nan], [7.0], [6.0]])
    result = gap_interval(p, e)
    assert result.n[0] == 2 and result.mean[0] == pytest.approx(-1.5)


def test_servqual_totals_unweighted_and_importance_weighted() -> None:
    rng = np.random.default_rng(3)
    gaps = rng.normal(-1, 1, size=(40, 5))
    points = rng.dirichlet(np.ones(5), size=40) * 100
    points[0] = np.nan  # no split: out of the weighted total only
    gaps[1, 2] = np.nan  # incomplete: out of both
    totals = servqual_totals(gaps, points)
    keep = np.ones(40, dtype=bool)
    keep[1] = False
    unweighted = gaps[keep].mean(axis=1)
    assert totals.unweighted.n[0] == 39
    assert totals.unweighted.mean[0] == pytest.approx(unweighted.mean(), abs=1e-9)
    keep[0] = False
    weighted = (gaps[keep] * points[keep] / 100).sum(axis=1)
    reference = stats.ttest_1samp(weighted, 0).confidence_interval(0.95)
    assert totals.weighted.n[0] == 38
    assert totals.weighted.mean[0] == pytest.approx(weighted.mean(), abs=1e-9)
    assert totals.weighted.ci_low[0] == pytest.approx(reference.low, abs=1e-6)
    assert servqual_totals(gaps).weighted.reason[0] is Reason.NO_ANSWERS


# --- reliability ------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_cronbach_alpha_matches_pingouin(seed: int) -> None:
    pg = pytest.importorskip("pingouin")
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(seed)
    k = 2 + seed % 3
    answers = correlated_items(rng, 30 + 10 * seed, k)
    ours = alpha_of(answers)
    alpha, (low, high) = pg.cronbach_alpha(pd.DataFrame(answers))
    assert ours.alpha == pytest.approx(alpha, abs=1e-6)
    # pingouin rounds its interval to three decimals.
    assert ours.ci_low == pytest.approx(low, abs=5e-4 + 1e-9)
    assert ours.ci_high == pytest.approx(high, abs=5e-4 + 1e-9)
    # Missing answers: both drop incomplete respondents (listwise). pingouin keeps the
    # original n in the Feldt degrees of freedom, so only alpha is compared here.
    answers[rng.random(answers.shape) < 0.05] = np.nan
    listwise, _ = pg.cronbach_alpha(pd.DataFrame(answers), nan_policy="listwise")
    assert alpha_of(answers).alpha == pytest.approx(listwise, abs=1e-6)
    assert alpha_of(answers).n == int((~np.isnan(answers).any(axis=1)).sum())


@pytest.mark.parametrize("seed", SEEDS)
def test_feldt_interval_to_1e6(seed: int) -> None:
    rng = np.random.default_rng(seed)
    answers = correlated_items(rng, 60, 4)
    ours = alpha_of(answers)
    cov = np.cov(answers, rowvar=False)
    k, n = 4, 60
    alpha = k / (k - 1) * (1 - np.trace(cov) / cov.sum())
    low = 1 - (1 - alpha) * stats.f.ppf(0.975, n - 1, (n - 1) * (k - 1))
    high = 1 - (1 - alpha) * stats.f.ppf(0.025, n - 1, (n - 1) * (k - 1))
    assert (ours.alpha, ours.ci_low, ours.ci_high) == pytest.approx((alpha, low, high), abs=1e-6)


def test_alpha_from_cross_products_adds_up() -> None:
    rng = np.random.default_rng(5)
    answers = correlated_items(rng, 90, 3)
    pooled = CrossProducts.from_answers(answers[:40]) + CrossProducts.from_answers(answers[40:])
    assert cronbach_alpha(pooled).alpha == pytest.approx(alpha_of(answers).alpha, abs=1e-12)


def test_alpha_edge_cases() -> None:
    assert alpha_of(np.ones((10, 1))).reason is Reason.TOO_FEW_ITEMS
    assert alpha_of([[1.0, 2.0]]).reason is Reason.TOO_FEW_RESPONSES
    assert alpha_of([[1.0, np.nan], [np.nan, 2.0]]).reason is Reason.NO_ANSWERS
    constant = alpha_of(np.full((10, 3), 4.0))
    assert np.isnan(constant.alpha) and constant.reason is Reason.NO_VARIANCE


# --- change over time -------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_welch_change_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    before = [likert(rng, (int(rng.integers(5, 60)),)) for _ in range(4)]
    after = [
        np.clip(x[: max(3, len(x) - 7)] + rng.integers(-1, 2, size=max(3, len(x) - 7)), 1, 7)
        for x in before
    ]
    m_before = Moments.of(*zip(*[(len(x), x.sum(), (x * x).sum()) for x in before], strict=True))
    m_after = Moments.of(*zip(*[(len(x), x.sum(), (x * x).sum()) for x in after], strict=True))
    change = welch_change(m_before, m_after)
    for i in range(4):
        reference = stats.ttest_ind(after[i], before[i], equal_var=False)
        ci = reference.confidence_interval(0.95)
        assert change.t[i] == pytest.approx(reference.statistic, abs=1e-6)
        assert change.p[i] == pytest.approx(reference.pvalue, abs=1e-6)
        assert change.df[i] == pytest.approx(reference.df, abs=1e-6)
        assert change.ci_low[i] == pytest.approx(ci.low, abs=1e-6)
        assert change.ci_high[i] == pytest.approx(ci.high, abs=1e-6)
        assert change.difference[i] == pytest.approx(after[i].mean() - before[i].mean(), abs=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_hedges_g_matches_pingouin(seed: int) -> None:
    pg = pytest.importorskip("pingouin")
    rng = np.random.default_rng(seed)
    before, after = likert(rng, (25,)), likert(rng, (31,), 2, 7)
    change = welch_change(Moments.from_values(before[:, None]), Moments.from_values(after[:, None]))
    reference = pg.compute_effsize(after, before, paired=False, eftype="hedges")
    assert change.hedges_g[0] == pytest.approx(reference, abs=1e-6)


def test_welch_edge_cases() -> None:
    before = Moments.of([0, 1, 3, 5], [0, 4, 12, 20], [0, 16, 48, 80])
    after = Moments.of([4, 4, 3, 5], [16, 16, 12, 25], [66, 66, 48, 125])
    change = welch_change(before, after)
    assert change.reason == (
        Reason.NO_ANSWERS,
        Reason.ONE_ANSWER,
        Reason.NO_VARIANCE,
        Reason.NO_VARIANCE,
    )
    assert np.isnan(change.difference[0]) and change.difference[1] == 0
    assert np.isnan(change.p).all()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    ("ours", "theirs"), [(Correction.HOLM, "holm"), (Correction.BENJAMINI_HOCHBERG, "fdr_bh")]
)
def test_p_adjustment_matches_statsmodels(seed: int, ours: Correction, theirs: str) -> None:
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    rng = np.random.default_rng(seed)
    p = rng.random(25) ** 3
    p[3] = p[7]  # a tie
    _, reference, _, _ = multitest.multipletests(p, method=theirs)
    np.testing.assert_allclose(adjust_p(p, ours), reference, atol=1e-12)
    with_gaps = np.insert(p, [0, 5], np.nan)
    adjusted = adjust_p(with_gaps, ours)
    assert np.isnan(adjusted[[0, 6]]).all()
    np.testing.assert_allclose(np.delete(adjusted, [0, 6]), reference, atol=1e-12)
    assert adjust_p([np.nan]).shape == (1,)


# --- recommend / NPS --------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_net_promoter_matches_the_recoded_mean(seed: int) -> None:
    rng = np.random.default_rng(seed)
    answers = rng.integers(0, 11, size=int(rng.integers(10, 400)))
    recoded = np.where(answers >= 9, 1.0, np.where(answers <= 6, -1.0, 0.0))
    result = net_promoter(histogram(answers))
    z = stats.norm.ppf(0.975)
    half = z * recoded.std(ddof=0) / np.sqrt(len(answers)) * 100
    assert result.nps == pytest.approx(100 * recoded.mean(), abs=1e-9)
    assert result.ci_low == pytest.approx(100 * recoded.mean() - half, abs=1e-6)
    assert result.ci_high == pytest.approx(100 * recoded.mean() + half, abs=1e-6)
    assert result.promoters == pytest.approx((answers >= 9).mean())
    assert result.detractors == pytest.approx((answers <= 6).mean())


def test_net_promoter_is_vectorised_and_handles_edges() -> None:
    counts = np.zeros((3, 11))
    counts[1, 10] = 1
    counts[2, 9] = 4
    result = net_promoter(counts)
    assert result.reason == (Reason.NO_ANSWERS, Reason.ONE_ANSWER, Reason.NO_VARIANCE)
    assert np.isnan(result.nps[0]) and result.nps[1] == result.nps[2] == 100
    with pytest.raises(ValueError):
        net_promoter(np.zeros(10))
    assert histogram([0, 10, 10, np.nan, 11, 3.5]).tolist() == [1] + [0] * 9 + [2]
