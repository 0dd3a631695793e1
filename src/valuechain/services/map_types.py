"""The shapes the Map's structure use cases answer (``services.map_structure``),
declared once: mypy checks them from the service to the API, whose routes use them as
their response models.

``TypedDict`` comes from ``typing_extensions`` because Pydantic needs it there on
Python before 3.12.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict

from valuechain.domain.person import Role
from valuechain.domain.unit import UnitKind


class UnitRow(TypedDict):
    """A unit as a row of ``units.csv``."""

    id: str
    name: str
    kind: UnitKind
    parent_id: Annotated[str | None, Field(description="The unit it belongs to.")]
    headcount: Annotated[int | None, Field(description="People in the unit.")]


class UnitRemoved(TypedDict):
    """A unit taken off the map (nothing referred to it any more)."""

    removed: str


class PersonRow(TypedDict):
    """A person as a row of ``people.csv``."""

    id: str
    name: str
    email: str
    unit_id: Annotated[str, Field(description="The unit they belong to.")]
    role: Annotated[Role, Field(description="admin, lead or member on the map.")]


class PersonLeft(TypedDict):
    """A person who left the organisation: off the map, their accounts switched off."""

    left: str
    unit_id: str
    accounts_deactivated: Annotated[
        int, Field(description="Accounts linked to them, now unable to sign in.")
    ]
    sessions_ended: int
