"""Units: teams, departments, and the organisation's external customers and suppliers."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class UnitKind(StrEnum):
    """What a unit is; only external customers end a value chain."""

    TEAM = "team"
    DEPARTMENT = "department"
    EXTERNAL_CUSTOMER = "external_customer"
    EXTERNAL_SUPPLIER = "external_supplier"

    @property
    def is_external(self) -> bool:
        return self in (UnitKind.EXTERNAL_CUSTOMER, UnitKind.EXTERNAL_SUPPLIER)


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit of the organisation (or outside it) that produces or receives results."""

    id: str
    name: str
    kind: UnitKind
    parent_id: str | None = None
    headcount: int | None = None
