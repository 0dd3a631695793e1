"""Survey responses: one anonymous questionnaire a customer unit returned about a
provider unit, and its answers.

A response knows its campaign, its instrument, the rating unit, the rated unit and
the day it was submitted. It never knows who answered, nor the time of day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # NumPy is imported where columns are built: the CLI loads this module
    from typing import TypeAlias

    import numpy as np
    import numpy.typing as npt

    IntArray: TypeAlias = npt.NDArray[np.int64]
    FloatArray: TypeAlias = npt.NDArray[np.float64]


#: The smallest group the product shows a number about (configurable 3–10).
THRESHOLD = 5
THRESHOLD_RANGE = (3, 10)
#: The smallest group whose comments are shown (configurable, at least the threshold).
COMMENT_THRESHOLD = 10
COMMENT_THRESHOLD_MAX = 50


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
    # The optional importance split (dimension -> points out of 100), where asked.
    importance: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ResponseColumns:
    """Many responses as columns: one entry per response, then one per answer and
    one per comment pointing at its response's position.

    The importer's form for millions of answers (an object per answer would cost
    more time and memory than the rest of the import). Items and dimensions are
    codes into ``items`` and ``dimensions``; a missing expectation is ``nan``."""

    ids: list[str]
    campaign: list[str]
    instrument: list[str]
    rater: list[str]
    rated: list[str]
    day: list[date]
    answer_response: IntArray
    answer_item: IntArray
    answer_dimension: IntArray
    items: list[str]
    dimensions: list[str]
    score: FloatArray
    expectation: FloatArray
    comment_response: IntArray
    comment_item: list[str]
    comment_text: list[str]
    # The importance splits, one entry per response and dimension (none from a bundle).
    split_response: IntArray
    split_dimension: list[str]
    split_points: FloatArray

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def of(cls, responses: Sequence[Response]) -> ResponseColumns:
        """The same responses as columns, in their order."""
        import numpy as np

        sizes = np.fromiter((len(r.answers) for r in responses), np.int64, len(responses))
        answers = [a for r in responses for a in r.answers]
        items: dict[str, int] = {}
        dimensions: dict[str, int] = {}
        n = len(answers)
        comments = [(i, item, text) for i, r in enumerate(responses) for item, text in r.comments]
        splits = [
            (i, d, float(v))
            for i, r in enumerate(responses)
            for d, v in sorted(r.importance.items())
        ]
        return cls(
            [r.id for r in responses],
            [r.campaign for r in responses],
            [r.instrument for r in responses],
            [r.rater_id for r in responses],
            [r.rated_id for r in responses],
            [r.submitted_on for r in responses],
            np.repeat(np.arange(len(responses), dtype=np.int64), sizes),
            np.fromiter((items.setdefault(a.item, len(items)) for a in answers), np.int64, n),
            np.fromiter(
                (dimensions.setdefault(a.dimension, len(dimensions)) for a in answers), np.int64, n
            ),
            list(items),
            list(dimensions),
            np.fromiter((a.score for a in answers), np.float64, n),
            np.array([a.expectation for a in answers], dtype=np.float64).reshape(n),
            np.fromiter((c[0] for c in comments), np.int64, len(comments)),
            [c[1] for c in comments],
            [c[2] for c in comments],
            np.fromiter((t[0] for t in splits), np.int64, len(splits)),
            [t[1] for t in splits],
            np.fromiter((t[2] for t in splits), np.float64, len(splits)),
        )

    def take(self, keep: npt.NDArray[np.bool_]) -> ResponseColumns:
        """Only the responses where ``keep`` is true, with their answers and comments."""
        import numpy as np

        kept = np.flatnonzero(keep).tolist()
        position = np.cumsum(keep, dtype=np.int64) - 1
        answers = keep[self.answer_response]
        comments = np.flatnonzero(keep[self.comment_response]).tolist()
        splits = np.flatnonzero(keep[self.split_response]).tolist()
        return ResponseColumns(
            [self.ids[i] for i in kept],
            [self.campaign[i] for i in kept],
            [self.instrument[i] for i in kept],
            [self.rater[i] for i in kept],
            [self.rated[i] for i in kept],
            [self.day[i] for i in kept],
            position[self.answer_response[answers]],
            self.answer_item[answers],
            self.answer_dimension[answers],
            self.items,
            self.dimensions,
            self.score[answers],
            self.expectation[answers],
            position[self.comment_response[comments]],
            [self.comment_item[i] for i in comments],
            [self.comment_text[i] for i in comments],
            position[self.split_response[splits]],
            [self.split_dimension[i] for i in splits],
            self.split_points[splits],
        )
