"""Capability 7, Connect: what the external customers get, month by month.

An outcome is one number about one external customer in one calendar month: its
satisfaction, its complaints, the revenue it brought (any metric the organisation
tracks). Internal service matters only through these numbers (seed ``002``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PERIOD = re.compile(r"^(?P<year>\d{4})-(?P<month>0[1-9]|1[0-2])$")

#: Metrics where more is worse (the others: more is better). Used only to word
#: findings; correlations are reported with their sign as measured.
LOWER_IS_BETTER = frozenset({"complaints", "churn", "returns"})


@dataclass(frozen=True, slots=True)
class Outcome:
    """``value`` of ``metric`` for external customer ``unit_id`` in ``period`` (YYYY-MM)."""

    unit_id: str
    period: str
    metric: str
    value: float


def is_period(text: str) -> bool:
    """Whether ``text`` is a calendar month written ``YYYY-MM``."""
    return PERIOD.match(text) is not None
