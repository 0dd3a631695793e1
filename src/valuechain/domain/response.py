"""Survey responses: one anonymous questionnaire a customer unit returned about a
provider unit, and its answers.

A response knows its campaign, its instrument, the rating unit, the rated unit and
the day it was submitted. It never knows who answered, nor the time of day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


# The two choices below live here, with no statistics or storage imported, so the
# command line can offer them as options without loading either.
class By(StrEnum):
    """The cuts of ``scores``."""

    PROVIDER = "provider"
    RELATIONSHIP = "relationship"
    DIMENSION = "dimension"
    RELATIONSHIP_DIMENSION = "relationship_dimension"


class Correction(StrEnum):
    """How p-values are adjusted when many cells are compared at once."""

    HOLM = "holm"  # family-wise error rate (Holm 1979)
    BENJAMINI_HOCHBERG = "bh"  # false discovery rate (Benjamini & Hochberg 1995)


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
