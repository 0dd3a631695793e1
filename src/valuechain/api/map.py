"""Capability 1, the Map, as JSON: the whole map, units, one unit, a unit's customers.

Response models document the contract in the OpenAPI schema. ``/units/{id}/customers``
is exactly the ``valuechain customers --json`` document (extra keys allowed). The
functions :func:`unit_rows` and :func:`unit_detail` are also what the web pages show,
so a page and its JSON never disagree.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from valuechain.domain.access import Action
from valuechain.domain.link import Relation
from valuechain.domain.unit import UnitKind
from valuechain.edge.dependencies import CurrentValuechain, allow
from valuechain.edge.errors import NOT_FOUND
from valuechain.edge.idempotency import IdempotentRoute
from valuechain.edge.map import (
    CUSTOMERS_PER_PAGE,
    Customers,
    UnitDetail,
    UnitsPage,
    unit_detail,
    unit_rows,
)
from valuechain.edge.paging import next_link
from valuechain.services import history, map_view

# The map is organisation-wide knowledge: every signed-in role may read it.


def _iso_text(value: object) -> object:
    """Only ISO 8601 text is a moment here (Pydantic would also read a number as a
    Unix time, which the schema's ``date``/``date-time`` formats do not allow)."""
    if not isinstance(value, str) or not ISO_DATE.match(value):
        raise ValueError("expected a date (2026-03-01) or an ISO 8601 date and time")
    return value


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: A moment in a query: a date (its end, UTC) or an ISO 8601 date and time.
Moment = Annotated[date | datetime, BeforeValidator(_iso_text)]

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
    parent: str | None = Field(default=None, description="Id of the unit it is part of.")
    headcount: int | None = None


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


class MapTotals(BaseModel):
    """How many units, results and links the whole map holds."""

    units: int
    results: int
    links: int


class OrganisationMapOut(BaseModel):
    """One page of the organisation map: the units at ``offset`` to ``offset +
    limit`` in map order, the results they produce and the links to those results.
    Following ``next`` to its end yields every unit, result and link exactly once;
    a map no longer than ``limit`` is the whole ``valuechain map --json`` document."""

    units: list[MapUnit]
    results: list[MapResult]
    links: list[MapLink]
    total: MapTotals
    offset: int
    limit: int
    next: str | None = Field(description="The URL of the next page; null on the last page.")
    as_of: datetime | None = Field(
        default=None, description="The moment the map is shown as of; null: today's map."
    )
    departments: dict[str, str] | None = Field(
        default=None,
        description="With `department`: the department of every unit its links name.",
    )
    producers: dict[str, str] | None = Field(
        default=None,
        description="With `department`: the producing unit of each linked result made "
        "outside the page.",
    )


class MapChange(BaseModel):
    """A unit, result or link that appeared, went away or changed between two moments.
    Its key is ``id`` (a unit or result) or ``result_id``, ``customer_id`` and
    ``relation`` (a link); ``before`` and ``after`` are its values at either moment
    (null: not on the map then); ``changed_by`` (the name of the person or account
    with that email, else the email or ``cli:<user>``), ``changed_at`` and ``source`` tell
    the last change between the two moments."""

    id: str | None = None
    result_id: str | None = None
    customer_id: str | None = None
    relation: Relation | None = None
    change: Literal["appeared", "went_away", "changed"]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    changed_by: str | None
    changed_at: datetime
    source: str = Field(description="import, api, page, demo or migration.")


class MapChangeTotals(BaseModel):
    """How many units, results and links differ between the two moments."""

    units: int
    results: int
    links: int


class MapChangesOut(BaseModel):
    """What differs between the map at ``from`` and at ``to``: each kind ordered by
    key, rows ``offset`` to ``offset + limit`` of each; following ``next`` to its end
    yields every difference exactly once."""

    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(alias="from")
    to: datetime
    units: list[MapChange]
    results: list[MapChange]
    links: list[MapChange]
    total: MapChangeTotals
    offset: int
    limit: int
    next: str | None = Field(description="The URL of the next page; null on the last page.")


class MapDepartment(BaseModel):
    """A top department (the root of a `part of` tree), or the parentless external
    customers or suppliers as one group (ids `~external_customer`,
    `~external_supplier`)."""

    id: str
    name: str
    kind: UnitKind
    units: int = Field(description="Units in the department, itself included.")
    headcount: int | None = Field(description="Sum of the headcounts given; null when none.")
    depth: int | None = Field(description="Its units' nearest step to an external customer.")
    orphan_results: int


class DepartmentEdge(BaseModel):
    """``links`` links by which units of ``target`` use results of ``source``'s units."""

    source: str
    target: str
    relation: Relation
    links: int


class DepartmentTotals(BaseModel):
    """How many departments, units and aggregated edges the whole map holds."""

    departments: int
    units: int
    edges: int


class DepartmentMapOut(BaseModel):
    """One page of the map at department level: departments in order of their first
    unit, and the aggregated links from them to other departments."""

    departments: list[MapDepartment]
    edges: list[DepartmentEdge]
    total: DepartmentTotals
    offset: int
    limit: int
    next: str | None


#: Units per page of ``/map`` by default and at most. A page's size is about its
#: units times the external customers each reaches, plus their links: 1,000 units
#: stay around a few MB even when every unit reaches a hundred external customers.
MAP_LIMIT, MAP_LIMIT_MAX = 1000, 5000
#: Rows per page of ``/units`` by default and at most (a row is a few counts).
UNITS_LIMIT, UNITS_LIMIT_MAX = 1000, 10_000
#: Departments per page of ``/map/departments`` by default and at most.
DEPARTMENTS_LIMIT_MAX = 5000
#: At most this many direct and indirect customers per page of ``/units/{id}``.
CUSTOMERS_LIMIT_MAX = 5000


# -- endpoints -------------------------------------------------------------------------


@router.get(
    "/map",
    response_model=OrganisationMapOut,
    responses=NOT_FOUND,
    summary="The organisation map, a page",
)
def get_map(
    request: Request,
    vc: CurrentValuechain,
    limit: Annotated[
        int, Query(ge=1, le=MAP_LIMIT_MAX, description="At most this many units per page.")
    ] = MAP_LIMIT,
    offset: Annotated[int, Query(ge=0, description="Position of the page's first unit.")] = 0,
    as_of: Annotated[
        Moment | None,
        Query(
            description="The map as it was at this moment: a date (its end, UTC) or an "
            "ISO 8601 date and time (UTC unless it has an offset); omitted: today's map."
        ),
    ] = None,
    department: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Only the units of this department (an id from "
            "`/map/departments`), with the links from them to units elsewhere too.",
        ),
    ] = None,
) -> dict[str, Any]:
    """Units with derived facts (direct and external customers, depth, orphan
    results), the results they produce and the links to those results, one page of
    units at a time, with the map's totals and the ``next`` page; with ``as_of`` the
    map as it was then, from its history (docs/map.md, "History"); with
    ``department`` one department's units (docs/map.md, "Reading the map")."""
    when = None if as_of is None else history.moment(as_of.isoformat())
    if department is not None:
        past = None if when is None else history.chain_as_of(vc, when)
        doc = map_view.department_page(vc, department, offset, limit, chain=past)
    elif when is not None:
        doc = history.map_as_of(vc, when, offset, offset + limit)
    else:
        doc = map_view.unit_page(vc, offset, offset + limit)
    return {
        **doc,
        "offset": offset,
        "limit": limit,
        "next": next_link(request, offset, limit, doc["total"]["units"]),
        "as_of": when,
    }


@router.get(
    "/map/changes",
    response_model=MapChangesOut,
    response_model_by_alias=True,
    summary="What changed on the map between two moments",
)
def get_map_changes(
    request: Request,
    vc: CurrentValuechain,
    from_: Annotated[
        Moment,
        Query(
            alias="from",
            description="One moment: a date (its end, UTC) or a date and time.",
        ),
    ],
    to: Annotated[
        Moment | None,
        Query(description="The other moment, the same way; omitted: now."),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAP_LIMIT_MAX, description="At most this many rows of each kind.")
    ] = MAP_LIMIT,
    offset: Annotated[int, Query(ge=0, description="Position of the first row of each kind.")] = 0,
) -> dict[str, Any]:
    """The units, results and links that appeared, went away or changed between
    ``from`` and ``to`` (the earlier of the two first), with who made the last change
    and when (computed in SQL from the map's history)."""
    start = history.moment(from_.isoformat(), name="from")
    stop = datetime.now(UTC) if to is None else history.moment(to.isoformat(), name="to")
    start, stop = min(start, stop), max(start, stop)
    doc = history.changes(vc, start, stop, offset, limit)
    longest = max(doc["total"].values())
    return {
        **doc,
        "offset": offset,
        "limit": limit,
        "next": next_link(request, offset, limit, longest),
    }


@router.get(
    "/map/departments",
    response_model=DepartmentMapOut,
    summary="The organisation map at department level, a page",
)
def get_department_map(
    request: Request,
    vc: CurrentValuechain,
    limit: Annotated[
        int, Query(ge=1, le=DEPARTMENTS_LIMIT_MAX, description="At most this many departments.")
    ] = DEPARTMENTS_LIMIT_MAX,
    offset: Annotated[int, Query(ge=0, description="Position of the first department.")] = 0,
) -> dict[str, Any]:
    """One node per top department with its units, headcount, depth and orphan
    results, and the links between departments aggregated per relation
    (``links`` counts them); a department's units are ``/map?department=ID``."""
    doc = map_view.department_map(vc, offset, limit)
    return {
        **doc,
        "offset": offset,
        "limit": limit,
        "next": next_link(request, offset, limit, doc["total"]["departments"]),
    }


@router.get("/units", response_model=UnitsPage, summary="Search the units")
def list_units(
    request: Request,
    vc: CurrentValuechain,
    q: Annotated[str, Query(description="Part of a unit's id or name.")] = "",
    kind: Annotated[UnitKind | None, Query(description="Only units of this kind.")] = None,
    limit: Annotated[
        int, Query(ge=1, le=UNITS_LIMIT_MAX, description="At most this many units.")
    ] = UNITS_LIMIT,
    offset: Annotated[int, Query(ge=0, description="Position of the first unit shown.")] = 0,
) -> UnitsPage:
    """Units with their counts of direct customers, external customers reached,
    results and orphan results, and their depth; one page at a time, ``total``
    counting every match and ``next`` the following page."""
    page = unit_rows(vc, q, kind, limit, offset)
    page.next = next_link(request, offset, limit, page.total)
    return page


@router.get("/units/{unit_id}", response_model=UnitDetail, responses=NOT_FOUND, summary="One unit")
def get_unit(
    unit_id: str,
    vc: CurrentValuechain,
    customers_page: Annotated[
        int, Query(ge=1, le=1_000_000, description="Page of the customer lists, from 1.")
    ] = 1,
    customers_limit: Annotated[
        int,
        Query(
            ge=1,
            le=CUSTOMERS_LIMIT_MAX,
            description="Direct and indirect customers per page, each.",
        ),
    ] = CUSTOMERS_PER_PAGE,
) -> UnitDetail:
    """The unit's results, one page of its direct and of its indirect customers
    with their totals, suppliers, and its shortest path to every external customer
    it reaches."""
    return unit_detail(vc, unit_id, customers_page, customers_limit)


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
