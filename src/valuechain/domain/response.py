"""Survey responses: one anonymous questionnaire a customer unit returned about a
provider unit, and its answers.

A response knows its campaign, its instrument, the rating unit, the rated unit and
the day it was submitted. It never knows who answered, nor the time of day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class Answer:
    """One rated item: the perception ``score`` and, for instruments that ask it,
    the ``expectation``. ``dimension`` is the item's dimension in its instrument."""

    item: str
    dimension: str
    score: float
    expectation: float | None = None


@dataclass(slots=True)
class Response:
    """One submitted questionnaire."""

    id: str
    campaign: str
    instrument: str
    rater_id: str  # the rating (customer) unit
    rated_id: str  # the rated (provider) unit
    submitted_on: date
    answers: list[Answer] = field(default_factory=list)
    comments: list[tuple[str, str]] = field(default_factory=list)  # (item, text)
    # The optional importance split (dimension -> points out of 100), where asked.
    importance: dict[str, float] = field(default_factory=dict)
