"""Builders shared by several test files: the data a test starts from, so test files
never import each other (a test module imported by another runs its fixtures' and
tests' definitions twice and couples unrelated files)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from valuechain.domain.link import Link, Relation
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.person import Person, Role
from valuechain.domain.result import Result, ResultKind
from valuechain.domain.unit import Unit, UnitKind

if TYPE_CHECKING:
    from valuechain.services.organisation import Valuechain


def chain_map() -> OrganisationMap:
    """A small value chain: steel -> make -> pack -> ship -> retail, with

    * planning in a cycle that still reaches the external customer
      (plan -> make -> pack -> ship -> plan),
    * a closed cycle with no external customer (ctrl <-> audit), so make's scrap report,
      used only by ctrl, is an orphan result,
    * two relations from one customer to one result (pack consumes and adds to parts),
    * a name that needs HTML escaping.
    """
    u = UnitKind
    units = [
        Unit("steel", "Steel mill", u.EXTERNAL_SUPPLIER),
        Unit("buy", "Purchasing", u.TEAM, parent_id="ops", headcount=4),
        Unit("make", "Machining", u.TEAM, parent_id="ops", headcount=30),
        Unit("pack", "Packing & <Boxes>", u.TEAM, parent_id="ops"),
        Unit("ship", "Shipping", u.DEPARTMENT),
        Unit("plan", "Planning", u.TEAM),
        Unit("ctrl", "Controlling", u.TEAM),
        Unit("audit", "Audit", u.TEAM),
        Unit("ops", "Operations", u.DEPARTMENT),
        Unit("retail", "Retail chains", u.EXTERNAL_CUSTOMER),
    ]
    k = ResultKind
    results = [
        Result("bars", "steel", "Steel bars", k.FINISHED),
        Result("orders", "buy", "Purchase orders", k.INTERMEDIATE),
        Result("parts", "make", "Machined parts", k.INTERMEDIATE),
        Result("scrap-report", "make", "Scrap report", k.BYPRODUCT),
        Result("boxes", "pack", "Packed boxes", k.INTERMEDIATE),
        Result("deliveries", "ship", "Deliveries", k.FINISHED),
        Result("forecast", "ship", "Shipping forecast", k.BYPRODUCT),
        Result("plan", "plan", "Production plan", k.INTERMEDIATE),
        Result("budget", "ctrl", "Budget", k.INTERMEDIATE),
        Result("findings", "audit", "Audit findings", k.BYPRODUCT),
    ]
    r = Relation
    links = [
        Link("orders", "steel", r.CONSUMES),
        Link("bars", "make", r.CONSUMES),
        Link("parts", "pack", r.CONSUMES),
        Link("parts", "pack", r.ADDS_TO),
        Link("scrap-report", "ctrl", r.CONSUMES),
        Link("boxes", "ship", r.CONSUMES),
        Link("deliveries", "retail", r.PAYS),
        Link("forecast", "plan", r.CONSUMES),
        Link("plan", "make", r.DEPENDS_ON),
        Link("budget", "audit", r.CONSUMES),
        Link("findings", "ctrl", r.DEPENDS_ON),
    ]
    return OrganisationMap(units=units, results=results, links=links)


def universal_map(teams: int = 120) -> OrganisationMap:
    """A universal service among ``teams`` teams: HR (``hr``) serves the first half
    directly; each of them serves one team of the second half, which pays the
    external customer ``ext``. So HR has ``teams // 2`` direct customers and
    ``teams // 2 + 1`` indirect ones (the second half and ``ext``): more than one
    page of each on its unit page."""
    half = teams // 2
    units = [
        Unit("hr", "Human resources", UnitKind.TEAM),
        Unit("ext", "Customers", UnitKind.EXTERNAL_CUSTOMER),
        *(Unit(f"t{i:03d}", f"Team {i:03d}", UnitKind.TEAM) for i in range(teams)),
    ]
    results = [
        Result("hiring", "hr", "Hiring", ResultKind.INTERMEDIATE),
        Result("payroll", "hr", "Payroll", ResultKind.INTERMEDIATE),
        *(Result(f"r{i:03d}", f"t{i:03d}", f"Work {i:03d}", ResultKind.INTERMEDIATE)
          for i in range(teams)),
    ]  # fmt: skip
    links = [
        *(Link("hiring", f"t{i:03d}", Relation.CONSUMES) for i in range(half)),
        *(Link("payroll", f"t{i:03d}", Relation.DEPENDS_ON) for i in range(0, half, 3)),
        *(Link(f"r{i:03d}", f"t{i + half:03d}", Relation.CONSUMES) for i in range(half)),
        *(Link(f"r{i:03d}", "ext", Relation.PAYS) for i in range(half, teams)),
    ]
    return OrganisationMap(units=units, results=results, links=links)


def customer_and_provider(
    org: OrganisationMap, *, provider_member: bool = False
) -> tuple[Person, str, Person | None]:
    """The first internal link of ``org`` (in id order) whose customer unit has a
    member, and with ``provider_member`` whose provider unit has one too: that
    customer member, the provider unit and the provider's member (if any)."""
    internal = {u.id for u in org.units if not u.kind.is_external}
    producer = {r.id: r.unit_id for r in org.results}
    members: dict[str, Person] = {}
    for p in sorted(org.people, key=lambda p: p.id):
        if p.role is Role.MEMBER:
            members.setdefault(p.unit_id, p)
    for link in sorted(org.links, key=lambda x: (x.result_id, x.customer_id)):
        provider = producer[link.result_id]
        if (
            provider in internal
            and link.customer_id in members
            and provider != link.customer_id
            and (provider in members or not provider_member)
        ):
            return members[link.customer_id], provider, members.get(provider)
    raise AssertionError("the organisation has no such pair of units")


def write_map_before_history(vc: Valuechain, org_map: OrganisationMap) -> None:
    """``org_map`` written into a database migrated to before ``0019_map_history``
    (a migration test's set-up): the map's rows only, as that schema holds them."""
    from valuechain.services.transaction import writing
    from valuechain.store import organisation as store

    with writing(vc) as conn:
        store.write_map(conn, vc.org_id, org_map, scope={})
