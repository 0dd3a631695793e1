"""Capability 1, the Map: its structure through the API, units and the people on the
map (docs/map.md, "Changing units and people through the API").

Admins add, change and remove units (``manage_units``) and people
(``manage_people``); a unit's own lead may rename it (``name_unit``: a change of its
kind, parent or headcount is then 403). Bodies are rows of ``units.csv`` and
``people.csv``, checked by the importer's rules: a 422 names the column in ``errors``
as ``valuechain import`` would. A person *leaves* with ``POST
/people/{person_key}/leave``; ``DELETE /people/{person_key}`` stays the data-rights
erasure (``api/person``). Every write honours the ``Idempotency-Key`` header.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from pydantic.config import JsonDict

from valuechain.domain.access import Action, Principal
from valuechain.domain.account import AccountRole
from valuechain.domain.bundle import MAX_COUNT
from valuechain.domain.person import Role
from valuechain.domain.unit import UnitKind
from valuechain.edge.dependencies import AccessRule, CurrentValuechain, client_address
from valuechain.edge.errors import Problem
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.services import map_structure
from valuechain.services.audit import Actor
from valuechain.services.map_types import PersonLeft, PersonRow, UnitRemoved, UnitRow

router = APIRouter(route_class=IdempotentRoute, tags=["map"])

# What the schema says is documentation (the importer decides, its answer is a 422
# naming the column), as in api/map_edit.
_C = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f"
CELL: JsonDict = {"pattern": f"^[^{_C}]*[^\\s{_C}][^{_C}]*$"}
# An optional cell may be empty (or only spaces, which a bundle reads as empty).
OPTIONAL_CELL: JsonDict = {"pattern": f"^[^{_C}]*$"}

ManagingUnits = Annotated[Principal, Depends(AccessRule(Action.MANAGE_UNITS))]
NamingUnit = Annotated[Principal, Depends(AccessRule(Action.NAME_UNIT, unit_param="unit_id"))]
ManagingPeople = Annotated[Principal, Depends(AccessRule(Action.MANAGE_PEOPLE))]
REFUSED: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such unit or person, or no unit it names"},
    409: {"model": Problem, "description": "The id or email is taken, or the unit is in use"},
}


class UnitFields(BaseModel):
    """A unit's columns as in ``units.csv`` (its id is in the path)."""

    name: str = Field(max_length=300, json_schema_extra=CELL)
    kind: str = Field(
        max_length=50,
        description="team, department, external_customer or external_supplier",
        json_schema_extra={"enum": [k.value for k in UnitKind]},
    )
    parent_id: str | None = Field(
        default=None,
        max_length=200,
        description="The unit it belongs to (no cycle of parents); null or empty: none.",
        json_schema_extra=OPTIONAL_CELL,
    )
    headcount: int | None = Field(
        default=None, ge=0, le=MAX_COUNT, description="People in the unit."
    )


class NewUnit(UnitFields):
    id: str = Field(max_length=200, description="Unique among the units.", json_schema_extra=CELL)


class PersonFields(BaseModel):
    """A person's columns as in ``people.csv`` (their id is in the path)."""

    name: str = Field(max_length=300, json_schema_extra=CELL)
    email: str = Field(
        max_length=320, description="No other person's email.", json_schema_extra=CELL
    )
    unit_id: str = Field(
        max_length=200, description="The unit they belong to.", json_schema_extra=CELL
    )
    role: str = Field(
        max_length=50,
        description="admin, lead or member",
        json_schema_extra={"enum": [r.value for r in Role]},
    )


class NewPerson(PersonFields):
    id: str = Field(max_length=200, description="Unique among the people.", json_schema_extra=CELL)


def _actor(principal: Principal, request: Request) -> Actor:
    return Actor(principal.account_id, principal.email, client_address(request))


@router.post(
    "/units",
    response_model=UnitRow,
    status_code=201,
    responses=REFUSED,
    summary="Add a unit",
)
def post_unit(
    body: NewUnit, vc: CurrentValuechain, principal: ManagingUnits, request: Request
) -> UnitRow:
    """Checked as a row of ``units.csv``; 409 when the id is taken."""
    return map_structure.create_unit(vc, body.model_dump(), _actor(principal, request))


@router.put(
    "/units/{unit_id}",
    response_model=UnitRow,
    responses=REFUSED,
    summary="Change a unit",
)
def put_unit(
    unit_id: str, body: UnitFields, vc: CurrentValuechain, principal: NamingUnit, request: Request
) -> UnitRow:
    """All columns at once, checked as a row of ``units.csv`` (a parent making a cycle
    is a 422). The unit's own lead may change its name only (403 otherwise)."""
    return map_structure.change_unit(
        vc, unit_id, body.model_dump(), _actor(principal, request),
        admin=principal.role is AccountRole.ADMIN,
    )  # fmt: skip


@router.delete(
    "/units/{unit_id}",
    response_model=UnitRemoved,
    responses=REFUSED,
    summary="Remove a unit nothing refers to",
)
def delete_unit(
    unit_id: str, vc: CurrentValuechain, principal: ManagingUnits, request: Request
) -> UnitRemoved:
    """409, naming what refers to it, while results, links, people, units below it,
    agreements, requests, campaigns, responses or outcomes do."""
    return map_structure.remove_unit(vc, unit_id, _actor(principal, request))


@router.post(
    "/people",
    response_model=PersonRow,
    status_code=201,
    responses=REFUSED,
    summary="Add a person to the map",
)
def post_person(
    body: NewPerson, vc: CurrentValuechain, principal: ManagingPeople, request: Request
) -> PersonRow:
    """Checked as a row of ``people.csv``; 409 when the id is taken."""
    return map_structure.save_person(vc, body.model_dump(), _actor(principal, request))


@router.put(
    "/people/{person_key}",
    response_model=PersonRow,
    responses=REFUSED,
    summary="Change a person on the map",
)
def put_person(
    person_key: str,
    body: PersonFields,
    vc: CurrentValuechain,
    principal: ManagingPeople,
    request: Request,
) -> PersonRow:
    """``person_key`` is the person's id on the map; all columns at once, checked as a
    row of ``people.csv`` (another person's email is a 422)."""
    return map_structure.save_person(
        vc, body.model_dump(), _actor(principal, request), person_id=person_key
    )


@router.post(
    "/people/{person_key}/leave",
    response_model=PersonLeft,
    responses=REFUSED,
    summary="A person leaves the organisation",
)
def post_leave(
    person_key: str, vc: CurrentValuechain, principal: ManagingPeople, request: Request
) -> PersonLeft:
    """Off the map, their accounts disabled and signed out; what they left behind
    stays. Not the erasure (``DELETE /people/{person_key}``)."""
    return map_structure.leave(vc, person_key, _actor(principal, request))
