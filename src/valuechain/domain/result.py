"""Results: what a unit's work produces (finished, intermediate, byproduct)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ResultKind(StrEnum):
    """Finished products, intermediate products (plans, designs), byproducts (reports)."""

    FINISHED = "finished"
    INTERMEDIATE = "intermediate"
    BYPRODUCT = "byproduct"


@dataclass(frozen=True, slots=True)
class Result:
    """A result produced by one unit; capacity is items per week."""

    id: str
    unit_id: str
    name: str
    kind: ResultKind
    capacity: float | None = None
    cost_per_item: float | None = None
    revenue_per_item: float | None = None
