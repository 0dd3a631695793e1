"""The relationship health formula: a weighted mean of the known components."""

from __future__ import annotations

import math

import numpy as np
import pytest

from valuechain.analytics.health import (
    COMPONENTS,
    WEIGHTS,
    capacity_fit,
    health,
    largest_disagreement,
    rescale,
)

nan = math.nan


def test_weights_sum_to_one_and_match_the_components() -> None:
    assert len(WEIGHTS) == len(COMPONENTS)
    assert WEIGHTS.sum() == pytest.approx(1.0)


def test_all_known_is_the_weighted_mean_on_0_100() -> None:
    parts = [0.8, 0.6, 0.9, 0.75, 0.5, 1.0]
    expected = 100 * sum(p * w for p, w in zip(parts, WEIGHTS, strict=True))
    result = health([parts])
    assert result.score[0] == pytest.approx(expected)
    assert result.coverage[0] == pytest.approx(1.0)


def test_unknown_components_are_left_out_not_counted_as_zero() -> None:
    # Only the customer's view (0.8, weight .25) and trust (0.4, weight .20) are known.
    result = health([[0.8, nan, nan, 0.4, nan, nan]])
    assert result.score[0] == pytest.approx(100 * (0.25 * 0.8 + 0.20 * 0.4) / 0.45)
    assert result.coverage[0] == pytest.approx(0.45)


def test_one_known_component_gives_no_score() -> None:
    result = health([[0.9, nan, nan, nan, nan, nan], [nan] * 6])
    assert np.isnan(result.score).all()
    assert result.coverage.tolist() == pytest.approx([0.25, 0.0])


def test_rescale_and_capacity_fit() -> None:
    assert rescale([1.0, 4.0, 7.0], 1, 7).tolist() == [0.0, 0.5, 1.0]
    assert capacity_fit([10, 20, 5], [20, 10, nan]).tolist()[:2] == [1.0, 0.5]
    assert math.isnan(capacity_fit([5], [nan])[0])


def test_largest_disagreement() -> None:
    assert largest_disagreement([0.9, 0.5, 0.2], [0.8, 0.9, nan]) == 1
    assert largest_disagreement([nan], [0.3]) is None
