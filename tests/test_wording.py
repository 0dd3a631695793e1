"""Words instead of jargon (issue 17 item 4): English possessives of unit names and
agreement targets as a reader says them."""

from __future__ import annotations

import pytest

from valuechain.domain.agreement import Metric, target_words
from valuechain.domain.text import possessive


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Business applications", "Business applications'"),
        ("Assembly", "Assembly's"),
        ("Production planning", "Production planning's"),
        ("IT OPERATIONS", "IT OPERATIONS'"),
    ],
)
def test_possessive(name: str, expected: str) -> None:
    assert possessive(name) == expected


def test_targets_read_as_words() -> None:
    assert target_words(Metric.ON_TIME_PCT, 98.0) == "98% on time"
    assert target_words(Metric.QUALITY_PCT, 99.5) == "99.5% right first time"
    assert target_words(Metric.RESPONSE_HOURS, 4) == "a first response within 4 business hours"
    assert target_words(Metric.RESOLUTION_HOURS, 16) == "resolution within 16 business hours"
