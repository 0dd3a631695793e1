"""What the Map's pages and its JSON both show: the units index and one unit, as
Pydantic models (the API's response models), so a page and its JSON never disagree."""

from __future__ import annotations

from pydantic import BaseModel, Field

from valuechain.domain.link import Relation
from valuechain.domain.result import ResultKind
from valuechain.domain.unit import UnitKind
from valuechain.services.organisation import Valuechain


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
    offset: int = Field(default=0, description="Position of the first unit shown.")
    units: list[UnitRow]
    next: str | None = Field(
        default=None, description="The URL of the next page; null on the last page."
    )


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
    direct_total: int = Field(description="All direct customers; `customers.direct` is one page.")
    indirect_total: int = Field(
        description="All indirect customers; `customers.indirect` is one page."
    )
    customers_page: int = Field(description="The page of both customer lists shown, from 1.")
    customers_pages: int = Field(description="Pages of the longer customer list.")
    customers_per_page: int
    suppliers: list[Supplier]
    paths: list[PathToExternal]
    units: dict[str, UnitRef] = Field(
        description="Every unit named above, by id, so ids can be shown with names."
    )
    result_names: dict[str, str] = Field(description="The name of every result named above, by id.")


def unit_rows(
    vc: Valuechain,
    q: str = "",
    kind: UnitKind | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> UnitsPage:
    """Units whose id or name contains ``q`` (case-insensitive) and, if given, of
    ``kind``; at most ``limit`` rows from ``offset``, with the number of all matches
    (:meth:`Valuechain.unit_index`)."""
    total, rows = vc.unit_index(q, None if kind is None else kind.value, offset, limit)
    return UnitsPage(total=total, offset=offset, units=[UnitRow.model_validate(r) for r in rows])


#: Customers per page of a unit's direct and of its indirect customers: HR serving
#: every unit of a 20,000-unit organisation would otherwise be megabytes of rows.
CUSTOMERS_PER_PAGE = 50


def unit_detail(
    vc: Valuechain, unit_id: str, page: int = 1, per_page: int = CUSTOMERS_PER_PAGE
) -> UnitDetail:
    """One unit's results, suppliers, paths to external customers and page ``page``
    (from 1) of its direct and of its indirect customers, ``per_page`` rows of each,
    with their totals (one use case: :meth:`Valuechain.unit_map`). A page past the
    end shows the last one.

    Raises :class:`NotFound` for an unknown id."""
    start = (max(page, 1) - 1) * per_page
    view = vc.unit_map(unit_id, (start, start + per_page))
    longest = max(view["direct_total"], view["indirect_total"])
    pages = max(1, -(-longest // per_page))
    if page > pages:
        return unit_detail(vc, unit_id, pages, per_page)
    found, unit = view["customers"], view["unit"]
    suppliers = [Supplier.model_validate(s) for s in unit["suppliers"]]
    via = view["external_via"]
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
        direct_total=view["direct_total"],
        indirect_total=view["indirect_total"],
        customers_page=max(page, 1),
        customers_pages=pages,
        customers_per_page=per_page,
        suppliers=suppliers,
        paths=paths,
        units={uid: UnitRef.model_validate(ref) for uid, ref in sorted(view["units"].items())},
        result_names=view["result_names"],
    )
