"""The shapes the Measure capability's reading use cases answer (``services.measure``,
``services.change``, ``services.comment``), declared once: mypy checks them from the
service to the API, whose routes use them as their response models (a key a result
holds beyond these, such as a driver analysis' ``reason``, is left out of an answer).

A key a cut leaves out (a relationship cell's ``customer`` in a provider cut, a gap
where the instrument asks no expectation) is ``NotRequired`` here and answered as
``null`` by the API, as its models did before.

``TypedDict`` comes from ``typing_extensions`` because Pydantic needs it there on
Python before 3.12.
"""

from __future__ import annotations

from typing import Annotated, Literal, NotRequired

from pydantic import Field
from typing_extensions import TypedDict

from valuechain.analytics.change import Correction
from valuechain.domain.response import By

# A key a cut or a suppressed cell leaves out: absent from the service's dict, ``null``
# on the wire.
Absent = Field(default=None)


class ScoreCell(TypedDict):
    """One cell of a cut; a suppressed cell keeps its keys and has no numbers."""

    instrument: str
    provider: str
    customer: NotRequired[Annotated[str | None, Absent]]
    dimension: NotRequired[Annotated[str | None, Absent]]
    n: Annotated[int | None, Field(description="Respondents; null when suppressed.")]
    mean: float | None
    ci_low: Annotated[float | None, Field(description="95% t interval of the mean.")]
    ci_high: float | None
    gap: NotRequired[
        Annotated[float | None, Field(default=None, description="Mean P − E, where asked.")]
    ]
    gap_ci_low: NotRequired[Annotated[float | None, Absent]]
    gap_ci_high: NotRequired[Annotated[float | None, Absent]]
    nps: NotRequired[
        Annotated[float | None, Field(default=None, description="Net promoter score (recommend).")]
    ]
    nps_ci_low: NotRequired[
        Annotated[float | None, Field(default=None, description="Wald 95% interval of the NPS.")]
    ]
    nps_ci_high: NotRequired[Annotated[float | None, Absent]]
    promoters: NotRequired[Annotated[float | None, Absent]]
    detractors: NotRequired[Annotated[float | None, Absent]]
    suppressed: bool


class TotalDimension(TypedDict):
    dimension: str
    gap: Annotated[float | None, Field(description="Mean P − E; null when suppressed.")]
    importance: Annotated[
        float | None,
        Field(description="Mean importance points (of 100) of the respondents who gave a split."),
    ]


class ServqualTotal(TypedDict):
    """A provider's SERVQUAL total gap in the campaign, unweighted and weighted by the
    mean importance split (one cut only: per provider and campaign)."""

    instrument: str
    provider: str
    dimensions: list[TotalDimension]
    importance_n: Annotated[int | None, Field(description="Respondents who gave a split.")]
    importance_suppressed: bool
    total_gap: Annotated[float | None, Field(description="Mean of the dimension gaps.")]
    weighted_total_gap: Annotated[
        float | None, Field(description="Σ (mean points / 100) × dimension gap.")
    ]


class ServqualTotals(TypedDict):
    """:func:`valuechain.services.measure.servqual_totals`: one campaign's totals."""

    threshold: int
    campaign: str | None
    totals: list[ServqualTotal]


class Scores(TypedDict):
    """The ``valuechain scores --json`` document for one provider."""

    threshold: int
    by: By
    campaign: str | None
    cells: list[ScoreCell]
    servqual_totals: NotRequired[Annotated[list[ServqualTotal], Field(default=[])]]


class Driver(TypedDict):
    dimension: str
    weight: NotRequired[Annotated[float | None, Absent]]
    share: NotRequired[Annotated[float | None, Absent]]
    ci_low: NotRequired[Annotated[float | None, Absent]]
    ci_high: NotRequired[Annotated[float | None, Absent]]
    performance: NotRequired[Annotated[float | None, Absent]]
    quadrant: NotRequired[Annotated[str | None, Absent]]
    p_important: NotRequired[
        Annotated[
            float | None,
            Field(
                default=None,
                description="One-sided bootstrap p-value that its weight exceeds the others' "
                "mean (uncorrected).",
            ),
        ]
    ]
    p_below: NotRequired[
        Annotated[
            float | None,
            Field(
                default=None,
                description="One-sided paired t p-value that it scores below the others' mean "
                "(uncorrected).",
            ),
        ]
    ]


class Drivers(TypedDict):
    """The ``valuechain drivers --provider UNIT --json`` document."""

    threshold: int
    instrument: str
    provider: str | None
    outcome: str
    n: int | None
    r2: float | None
    drivers: list[Driver]
    suppressed: bool


class DriverAnalysis(Drivers):
    """:class:`Drivers` with why R² or a weight is missing where the analysis says so
    (the CLI shows it; the API answers the :class:`Drivers` part)."""

    reason: NotRequired[str | None]


class Reliability(TypedDict):
    """One scale's Cronbach's alpha (and McDonald's omega where asked for)."""

    instrument: str
    dimension: str
    items: int
    n: int | None
    alpha: float | None
    ci_low: float | None
    ci_high: float | None
    reason: NotRequired[str | None]
    suppressed: bool
    omega: NotRequired[float | None]
    omega_reason: NotRequired[str | None]


class ReliabilityDocument(TypedDict):
    """The ``valuechain reliability --json`` document."""

    threshold: int
    scales: list[Reliability]


class ChangeCell(TypedDict):
    """One compared cell; a suppressed cell keeps its keys and has no numbers."""

    by: str
    instrument: str
    provider: str
    customer: NotRequired[Annotated[str | None, Absent]]
    dimension: NotRequired[Annotated[str | None, Absent]]
    n_before: NotRequired[Annotated[int | None, Absent]]
    n_after: NotRequired[Annotated[int | None, Absent]]
    mean_before: NotRequired[Annotated[float | None, Absent]]
    mean_after: NotRequired[Annotated[float | None, Absent]]
    difference: NotRequired[
        Annotated[float | None, Field(default=None, description="after − before")]
    ]
    ci_low: NotRequired[
        Annotated[float | None, Field(default=None, description="95% Welch interval.")]
    ]
    ci_high: NotRequired[Annotated[float | None, Absent]]
    t: NotRequired[Annotated[float | None, Absent]]
    df: NotRequired[Annotated[float | None, Absent]]
    p: NotRequired[Annotated[float | None, Absent]]
    p_adjusted: NotRequired[
        Annotated[float | None, Field(default=None, description="Across every cell compared.")]
    ]
    hedges_g: NotRequired[Annotated[float | None, Absent]]
    significant: NotRequired[Annotated[bool | None, Absent]]
    status: Annotated[
        Literal["compared", "suppressed", "not measured"],
        Field(
            description="Why a cell has no numbers: suppressed by the threshold rule, or not "
            "measured (a campaign has no answers for it)."
        ),
    ]
    suppressed: bool


class ComparedCell(ChangeCell):
    """:class:`ChangeCell` with why a compared cell's test is missing where it is (the
    API answers the :class:`ChangeCell` part)."""

    reason: NotRequired[str | None]


# ``from`` is a keyword, so these are declared in the functional form.
ChangeDocument = TypedDict(
    "ChangeDocument",
    {
        "threshold": int,
        "from": str,
        "to": str,
        "correction": Correction,
        "compared": int,
        "alpha": float,
        "cells": list[ChangeCell],
    },
)

#: The ``valuechain change --json`` document (:func:`valuechain.services.change.change`):
#: :class:`ChangeDocument` whose compared cells also say why a test is missing.
Change = TypedDict(
    "Change",
    {
        "threshold": int,
        "from": str,
        "to": str,
        "correction": Correction,
        "compared": int,
        "alpha": float,
        "cells": list[ComparedCell],
    },
)


class Comment(TypedDict):
    text: str
    day: str


class CommentGroup(TypedDict):
    """All the provider's customers (``customer`` null) or one customer unit."""

    instrument: str
    customer: str | None
    comments: list[Comment] | None
    suppressed: bool


class Theme(TypedDict):
    terms: list[str]
    weights: list[float]
    comments: int


class Comments(TypedDict):
    threshold: int
    provider: str
    campaign: str | None
    groups: list[CommentGroup]
    themes: list[Theme]
