"""Storage on both databases: migrations, organisation keys, map write and read."""

from __future__ import annotations

from sqlalchemy import inspect

from valuechain import Valuechain
from valuechain.domain.link import Link, Relation
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.person import Person, Role
from valuechain.domain.result import Result, ResultKind
from valuechain.domain.unit import Unit, UnitKind
from valuechain.store.database import database_url, is_current, make_engine


def small_map() -> OrganisationMap:
    return OrganisationMap(
        units=[
            Unit("ops", "Operations", UnitKind.DEPARTMENT, headcount=40),
            Unit("pack", "Packing", UnitKind.TEAM, parent_id="ops", headcount=12),
            Unit("ship", "Shipping", UnitKind.TEAM, parent_id="ops"),
            Unit("retail", "Retail chains", UnitKind.EXTERNAL_CUSTOMER),
        ],
        results=[
            Result("boxes", "pack", "Packed boxes", ResultKind.FINISHED, 100.0, 1.5),
            Result("loads", "ship", "Truck loads", ResultKind.FINISHED, 20.0, 80.0, 900.0),
            Result("scrap", "pack", "Scrap report", ResultKind.BYPRODUCT),
        ],
        links=[
            Link("boxes", "ship", Relation.CONSUMES, 90.0),
            Link("loads", "retail", Relation.PAYS, 18.0),
        ],
        people=[Person("p1", "Ana Lima", "ana@example.org", "pack", Role.LEAD)],
    )


def test_migrations_create_every_table_with_an_organisation_key(database_url: str) -> None:
    engine = make_engine(database_url, create=True)
    assert is_current(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"units", "results", "links", "people", "organisations"} <= tables
    for table in tables - {"organisations", "alembic_version"}:
        assert "org_id" in {c["name"] for c in inspect(engine).get_columns(table)}, table
    engine.dispose()


def test_write_then_read_gives_the_same_map(vc: Valuechain) -> None:
    vc.write_map(small_map())
    assert vc.read_map() == OrganisationMap(
        units=sorted(small_map().units, key=lambda u: u.id),
        results=sorted(small_map().results, key=lambda r: r.id),
        links=sorted(small_map().links, key=lambda link: link.key),
        people=small_map().people,
    )


def test_organisations_are_isolated(vc: Valuechain) -> None:
    vc.write_map(small_map())
    other = Valuechain(vc.engine, vc.organisation + "-other", create=True)
    assert other.counts() == {"units": 0, "results": 0, "links": 0, "people": 0}
    assert vc.counts() == {"units": 4, "results": 3, "links": 2, "people": 1}


def test_write_by_id_replaces_known_and_keeps_the_rest(vc: Valuechain) -> None:
    vc.write_map(small_map())
    vc.write_map(
        OrganisationMap(units=[Unit("pack", "Packing & labelling", UnitKind.TEAM, "ops", 14)])
    )
    units = {u.id: u for u in vc.read_map().units}
    assert units["pack"].name == "Packing & labelling"
    assert len(units) == 4
    vc.write_map(OrganisationMap(units=[Unit("solo", "Solo", UnitKind.TEAM)]), replace=True)
    assert vc.counts() == {"units": 1, "results": 0, "links": 0, "people": 0}


def test_cached_chain_follows_writes_from_another_process(vc: Valuechain) -> None:
    vc.write_map(small_map())
    assert vc.customers("pack")["external"] == ["retail"]
    # A second handle stands in for another app process writing to the same database.
    Valuechain(vc.engine, vc.organisation, create=True).write_map(
        OrganisationMap(links=[Link("scrap", "retail", Relation.DEPENDS_ON)])
    )
    assert vc.customers("pack")["orphan_results"] == []


def test_postgres_urls_use_psycopg3() -> None:
    assert database_url("postgresql://u@h/db").startswith("postgresql+psycopg://")
    assert database_url("postgres://u@h/db").startswith("postgresql+psycopg://")
