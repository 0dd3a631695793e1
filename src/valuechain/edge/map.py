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
    """One unit's results, customers, suppliers and paths to external customers (one
    use case: :meth:`Valuechain.unit_map`).

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
