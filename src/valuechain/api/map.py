"""Capability 1, the Map, as JSON: the whole map, units, one unit, a unit's customers.

Response models document the contract in the OpenAPI schema. ``/units/{id}/customers``
is exactly the ``valuechain customers --json`` document (extra keys allowed). The
functions :func:`unit_rows` and :func:`unit_detail` are also what the web pages show,
so a page and its JSON never disagree.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from valuechain.domain.access import Action
from valuechain.domain.link import Relation
from valuechain.domain.unit import UnitKind
from valuechain.edge.dependencies import CurrentValuechain, allow
from valuechain.edge.errors import NOT_FOUND
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.edge.map import (
    Customers,
    UnitDetail,
    UnitsPage,
    unit_detail,
    unit_rows,
)

# The map is organisation-wide knowledge: every signed-in role may read it.
router = APIRouter(route_class=IdempotentRoute, tags=["map"], dependencies=[allow(Action.VIEW_MAP)])


# -- response models -----------------------------------------------------------------


class MapUnit(BaseModel):
    """One unit of the map with its derived facts."""

    id: str
    name: str
    kind: UnitKind
    direct: list[str] = Field(description="Ids of the direct customer units.")
    external: list[str] = Field(description="Ids of the external customers it reaches.")
    depth: int | None = Field(
        description="Steps to the nearest external customer; null when there is no path."
    )
    results: list[str] = Field(description="Ids of the results the unit produces.")
    orphan_results: list[str] = Field(
        description="Ids of its results with no path to any external customer."
    )


class MapResult(BaseModel):
    """A result and whether it is an orphan (no path to an external customer)."""

    id: str
    name: str
    unit: str = Field(description="Id of the producing unit.")
    orphan: bool


class MapLink(BaseModel):
    """``customer`` has ``relation`` to ``result``."""

    result: str
    customer: str
    relation: Relation


class OrganisationMapOut(BaseModel):
    """The whole organisation map (``valuechain map --json``)."""

    units: list[MapUnit]
    results: list[MapResult]
    links: list[MapLink]


# -- endpoints -------------------------------------------------------------------------


@router.get("/map", response_model=OrganisationMapOut, summary="The whole organisation map")
def get_map(vc: CurrentValuechain) -> dict[str, Any]:
    """Units with derived facts (direct and external customers, depth, orphan
    results), results and links: the ``valuechain map --json`` document."""
    return vc.overview()


@router.get("/units", response_model=UnitsPage, summary="Search the units")
def list_units(
    vc: CurrentValuechain,
    q: Annotated[str, Query(description="Part of a unit's id or name.")] = "",
    kind: Annotated[UnitKind | None, Query(description="Only units of this kind.")] = None,
    limit: Annotated[int | None, Query(ge=1, description="At most this many units.")] = None,
) -> UnitsPage:
    """Units with their counts of direct customers, external customers reached,
    results and orphan results, and their depth."""
    return unit_rows(vc, q, kind, limit)


@router.get("/units/{unit_id}", response_model=UnitDetail, responses=NOT_FOUND, summary="One unit")
def get_unit(unit_id: str, vc: CurrentValuechain) -> UnitDetail:
    """The unit's results, direct and indirect customers, suppliers, and its
    shortest path to every external customer it reaches."""
    return unit_detail(vc, unit_id)


@router.get(
    "/units/{unit_id}/customers",
    response_model=Customers,
    responses=NOT_FOUND,
    summary="A unit's customers",
)
def get_customers(unit_id: str, vc: CurrentValuechain) -> dict[str, Any]:
    """Direct customers with relations and results, indirect customers with one
    shortest ``via`` path each, external customers reached and orphan results: the
    ``valuechain customers UNIT --json`` document."""
    return vc.customers(unit_id)
