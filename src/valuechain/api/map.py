"""Capability 1, the Map, as JSON: the whole map, units, one unit, a unit's customers.

Response models document the contract in the OpenAPI schema. ``/units/{id}/customers``
is exactly the ``valuechain customers --json`` document (extra keys allowed). The
functions :func:`unit_rows` and :func:`unit_detail` are also what the web pages show,
so a page and its JSON never disagree.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from valuechain.api.dependencies import CurrentValuechain, allow
from valuechain.domain.access import Action
from valuechain.domain.link import Relation
from valuechain.domain.result import ResultKind
from valuechain.domain.unit import UnitKind
from valuechain.services.errors import NotFound
from valuechain.services.organisation import Valuechain

# The map is organisation-wide knowledge: every signed-in role may read it.
router = APIRouter(tags=["map"], dependencies=[allow(Action.VIEW_MAP)])


# -- response models -----------------------------------------------------------------


class Problem(BaseModel):
    """An error the caller can fix, e.g. an unknown unit id."""

    detail: str


class Unprocessable(BaseModel):
    """A ``422``: a message from the service (a string, or a message per field), or
    the request's schema violations as FastAPI lists them (``loc``, ``msg``, ``type``)."""

    detail: str | dict[str, str] | list[dict[str, Any]]


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


class DirectCustomer(BaseModel):
    """A unit linked to one or more of the unit's results."""

    unit: str
    name: str | None = None
    relations: list[Relation]
    results: list[str] = Field(description="Ids of the unit's results this customer uses.")


class IndirectCustomer(BaseModel):
    """A customer of a customer (and so on), with one shortest path to it."""

    unit: str
    name: str | None = None
    via: list[str] = Field(description="Intermediate unit ids, nearest first.")


class Customers(BaseModel):
    """Who depends on a unit's work (``valuechain customers UNIT --json``)."""

    unit: str
    name: str | None = None
    depth: int | None = Field(
        default=None,
        description="Steps to the nearest external customer; null when there is no path.",
    )
    direct: list[DirectCustomer]
    indirect: list[IndirectCustomer]
    external: list[str] = Field(description="Ids of the external customers reached.")
    orphan_results: list[str] = Field(
        description="Ids of the unit's results with no path to any external customer."
    )


class UnitRow(BaseModel):
    """One line of the units index."""

    id: str
    name: str
    kind: UnitKind
    direct_count: int
    external_count: int
    depth: int | None
    result_count: int
    orphan_count: int


class UnitsPage(BaseModel):
    """Units matching a search, in map order; ``total`` counts all matches."""

    total: int
    units: list[UnitRow]


class UnitRef(BaseModel):
    """A unit named by id, with what a reader needs to recognise it."""

    id: str
    name: str
    kind: UnitKind


class UnitResult(BaseModel):
    """A result the unit produces."""

    id: str
    name: str
    kind: ResultKind
    orphan: bool


class Supplier(BaseModel):
    """A provider whose results the unit pays for, consumes, adds to or depends on."""

    unit: str
    name: str
    kind: UnitKind
    relations: list[Relation]
    results: list[str] = Field(description="Ids of the provider's results the unit uses.")


class PathToExternal(BaseModel):
    """One shortest path from the unit to an external customer it reaches."""

    external: str
    path: list[str] = Field(description="Unit ids from the unit itself to the external customer.")


class UnitDetail(BaseModel):
    """Everything the Map knows about one unit."""

    id: str
    name: str
    kind: UnitKind
    parent_id: str | None
    headcount: int | None
    depth: int | None
    results: list[UnitResult]
    customers: Customers
    suppliers: list[Supplier]
    paths: list[PathToExternal]
    units: dict[str, UnitRef] = Field(
        description="Every unit named above, by id, so ids can be shown with names."
    )
    result_names: dict[str, str] = Field(description="The name of every result named above, by id.")


# -- queries shared with the web pages ----------------------------------------------


def unit_rows(
    vc: Valuechain, q: str = "", kind: UnitKind | None = None, limit: int | None = None
) -> UnitsPage:
    """Units whose id or name contains ``q`` (case-insensitive) and, if given, of
    ``kind``; at most ``limit`` rows, with the number of all matches."""
    needle = q.strip().casefold()
    rows = [
        UnitRow(
            id=u["id"],
            name=u["name"],
            kind=u["kind"],
            direct_count=len(u["direct"]),
            external_count=len(u["external"]),
            depth=u["depth"],
            result_count=len(u["results"]),
            orphan_count=len(u["orphan_results"]),
        )
        for u in vc.unit_summaries()
        if (not needle or needle in u["id"].casefold() or needle in u["name"].casefold())
        and (kind is None or u["kind"] == kind.value)
    ]
    return UnitsPage(total=len(rows), units=rows if limit is None else rows[:limit])


def unit_detail(vc: Valuechain, unit_id: str) -> UnitDetail:
    """One unit's results, customers, suppliers and paths to external customers.

    Raises :class:`NotFound` for an unknown id."""
    view = vc.unit_map(unit_id)
    found, unit = view["customers"], view["unit"]
    suppliers = [Supplier.model_validate(s) for s in unit["suppliers"]]
    via = {row["unit"]: row["via"] for row in found["indirect"]}
    paths = [
        PathToExternal(external=e, path=[unit_id, *via.get(e, []), e]) for e in found["external"]
    ]
    return UnitDetail(
        id=unit["id"],
        name=unit["name"],
        kind=unit["kind"],
        parent_id=unit["parent_id"],
        headcount=unit["headcount"],
        depth=unit["depth"],
        results=[UnitResult.model_validate(r) for r in unit["results"]],
        customers=Customers.model_validate(found),
        suppliers=suppliers,
        paths=paths,
        units={uid: UnitRef.model_validate(ref) for uid, ref in sorted(view["units"].items())},
        result_names=view["result_names"],
    )


def _not_found(error: NotFound) -> HTTPException:
    return HTTPException(status_code=404, detail=str(error))


NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such unit"}
}


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
    try:
        return unit_detail(vc, unit_id)
    except NotFound as error:
        raise _not_found(error) from None


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
    try:
        return vc.customers(unit_id)
    except NotFound as error:
        raise _not_found(error) from None
