"""Links: a customer unit's relation to a result (pays for, consumes, adds to, depends on)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Relation(StrEnum):
    """The four ways a unit is a customer of a result."""

    PAYS = "pays"
    CONSUMES = "consumes"
    ADDS_TO = "adds_to"
    DEPENDS_ON = "depends_on"


class LinkState(StrEnum):
    """Whether both sides of a link agree it exists (docs/map.md, "Building the map
    together"): every analysis counts confirmed links only."""

    CONFIRMED = "confirmed"  # imported, created by an admin, or confirmed by the other side
    PROPOSED = "proposed"  # declared by one side's lead, waiting for the other's
    DISPUTED = "disputed"  # the other side said "not us", with a reason


@dataclass(frozen=True, slots=True)
class Link:
    """``customer_id`` has ``relation`` to ``result_id``; demand is items per week.
    ``per_item`` (consumes links only) makes the customer an assembly: each item it
    makes needs that many items of the result (see docs/flow.md)."""

    result_id: str
    customer_id: str
    relation: Relation
    demand: float | None = None
    per_item: float | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """Links have no id of their own: this triple identifies one."""
        return (self.result_id, self.customer_id, self.relation.value)
