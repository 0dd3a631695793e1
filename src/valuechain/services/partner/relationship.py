"""Relationships: the provider–customer pairs of the map (a customer unit using a
result of a provider unit), the unit of work of Partner & Improve."""

from __future__ import annotations

from dataclasses import dataclass

from valuechain.domain.unit import UnitKind
from valuechain.services.errors import NotFound
from valuechain.services.organisation import Valuechain

INTERNAL = frozenset({UnitKind.TEAM, UnitKind.DEPARTMENT})


@dataclass(frozen=True, order=True)
class Relationship:
    """A provider unit and one of its internal customer units."""

    provider: str
    customer: str


def relationships(vc: Valuechain) -> list[Relationship]:
    """Every internal provider–customer pair on the map, sorted."""
    org_map = vc.read_map()
    internal = {u.id for u in org_map.units if u.kind in INTERNAL}
    producer = {r.id: r.unit_id for r in org_map.results}
    pairs = {
        Relationship(producer[link.result_id], link.customer_id)
        for link in org_map.links
        if link.result_id in producer
        and producer[link.result_id] in internal
        and link.customer_id in internal
        and producer[link.result_id] != link.customer_id
    }
    return sorted(pairs)


def require(vc: Valuechain, provider: str, customer: str) -> Relationship:
    """The relationship, or :class:`NotFound` when ``customer`` uses no result of
    ``provider``."""
    direct = {row["unit"] for row in vc.customers(provider)["direct"]}
    if customer not in direct:
        raise NotFound(f"{customer!r} uses no result of {provider!r}: no such relationship")
    return Relationship(provider, customer)
