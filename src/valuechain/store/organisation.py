"""Reading and writing one organisation's map (units, results, links, people)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from operator import itemgetter
from typing import Any

import numpy as np
from sqlalchemy import Connection, Select, Table, delete, func, insert, inspect, select, update

from valuechain.domain.link import Link, LinkState, Relation
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.person import Person, Role
from valuechain.domain.result import Result, ResultKind
from valuechain.domain.unit import Unit, UnitKind
from valuechain.store import history
from valuechain.store.database import CACHE_KIB
from valuechain.store.tables import LinkRow, OrganisationRow, PersonRow, ResultRow, UnitRow

UNITS: Table = UnitRow.__table__  # type: ignore[assignment]
RESULTS: Table = ResultRow.__table__  # type: ignore[assignment]
LINKS: Table = LinkRow.__table__  # type: ignore[assignment]
PEOPLE: Table = PersonRow.__table__  # type: ignore[assignment]
ORGANISATIONS: Table = OrganisationRow.__table__  # type: ignore[assignment]
# Analyses read confirmed links only; proposed and disputed ones wait for both sides.
CONFIRMED_ONLY = LINKS.c.state == LinkState.CONFIRMED.value

# Children before parents when deleting, parents first when inserting.
MAP_TABLES: tuple[Table, ...] = (UNITS, RESULTS, LINKS, PEOPLE)
BATCH = 20_000
BY_ID = itemgetter(0)
BY_KEY = itemgetter(0)  # result id: nearly sorted for a fraction of a full-key sort
BIG_WRITE = 100_000
BIG_WRITE_CACHE_KIB = 1_048_576


def organisation_id(conn: Connection, slug: str, *, create: bool = False) -> int | None:
    """The id of organisation ``slug``, creating it when asked; ``None`` when it does
    not exist and ``create`` is false."""
    found = conn.execute(select(ORGANISATIONS.c.id).where(ORGANISATIONS.c.slug == slug)).scalar()
    if found is not None or not create:
        return found
    created = conn.execute(insert(ORGANISATIONS).values(slug=slug, name=slug))
    return int(created.inserted_primary_key[0])  # type: ignore[index]


def has_organisation(conn: Connection, slug: str) -> bool:
    """Whether the database holds organisation ``slug`` (``False`` for a database
    without tables yet); reads only, so it may run before any migration."""
    if not inspect(conn).has_table(ORGANISATIONS.name):
        return False
    return organisation_id(conn, slug, create=False) is not None


def map_version(conn: Connection, org_id: int) -> int:
    """A counter that changes whenever the organisation's map is written."""
    return int(
        conn.execute(
            select(ORGANISATIONS.c.map_version).where(ORGANISATIONS.c.id == org_id)
        ).scalar_one()
    )


# Row tuples follow the table's column order after ``org_id``; the hot write path
# hands them to the driver's executemany without per-row SQLAlchemy processing.
def map_versions(conn: Connection) -> dict[str, int]:
    """Every organisation's map version, by slug."""
    rows = conn.execute(select(ORGANISATIONS.c.slug, ORGANISATIONS.c.map_version))
    return {slug: int(version) for slug, version in rows}


def advance_map_versions(conn: Connection, floor: dict[str, int]) -> None:
    """Set each organisation's map version above both its own and ``floor[slug]``,
    so every process's cached graph is seen as stale (used after a restore)."""
    for slug, version in map_versions(conn).items():
        newer = max(version, floor.get(slug, 0)) + 1
        conn.execute(
            update(ORGANISATIONS).where(ORGANISATIONS.c.slug == slug).values(map_version=newer)
        )


def _unit_row(u: Unit) -> tuple[Any, ...]:
    return (u.id, u.name, u.kind.value, u.parent_id, u.headcount)


def _result_row(r: Result) -> tuple[Any, ...]:
    return (r.id, r.unit_id, r.name, r.kind.value, r.capacity, r.cost_per_item, r.revenue_per_item)


def _link_row(link: Link) -> tuple[Any, ...]:
    return (
        link.result_id,
        link.customer_id,
        link.relation.value,
        link.demand,
        link.per_item,
        CONFIRMED,
    )


def _person_row(p: Person) -> tuple[Any, ...]:
    return (p.id, p.name, p.email, p.unit_id, p.role.value)


#: The link columns a bundle writes (after ``org_id``): a bundle's link is confirmed;
#: who proposed or answered it before stays as it was.
LINK_WIDTH = 6
CONFIRMED = LinkState.CONFIRMED.value


def _upsert_sql(conn: Connection, table: Table, width: int | None = None) -> str:
    """``INSERT … ON CONFLICT (primary key) DO UPDATE`` in the driver's paramstyle;
    SQLite and PostgreSQL share this syntax. ``width``: only the first columns after
    ``org_id`` are written (the rest keep their value, or their default when new)."""
    quote = conn.dialect.identifier_preparer.quote
    columns = [c.name for c in table.columns]
    if width is not None:
        columns = columns[: width + 1]
    keys = [c.name for c in table.primary_key.columns]
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in columns if c not in keys)
    action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    return (
        f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, columns))}) "
        f"VALUES ({', '.join([marker] * len(columns))}) "
        f"ON CONFLICT ({', '.join(map(quote, keys))}) {action}"
    )


def _upsert(conn: Connection, table: Table, org_id: int, rows: Iterable[tuple[Any, ...]]) -> int:
    """Insert rows, replacing any with the same primary key, in batches."""
    sql = _upsert_sql(conn, table, LINK_WIDTH if table is LINKS else None)
    total = 0
    iterator = iter(rows)
    while batch := [(org_id, *row) for row in islice(iterator, BATCH)]:
        conn.exec_driver_sql(sql, batch)
        total += len(batch)
    return total


@dataclass(frozen=True)
class WriteCounts:
    units: int
    results: int
    links: int
    people: int


def write_map(
    conn: Connection,
    org_id: int,
    org_map: OrganisationMap,
    *,
    replace: bool = False,
    by: str | None = None,
    source: str = "import",
    scope: Mapping[str, history.Where] | None = None,
) -> WriteCounts:
    """Write a map inside the caller's transaction: by id (replace known rows, add new
    ones, remove nothing), or with ``replace`` the whole organisation. The history
    records the change as made by ``by`` through ``source``, looking at the rows in
    ``scope`` (default: the whole organisation; :func:`history.record`)."""
    conn.execute(
        update(ORGANISATIONS)
        .where(ORGANISATIONS.c.id == org_id)
        .values(map_version=ORGANISATIONS.c.map_version + 1)
    )
    if replace:
        for table in reversed(MAP_TABLES):
            conn.execute(delete(table).where(table.c.org_id == org_id))
    big = len(org_map.links) + len(org_map.results) > BIG_WRITE
    if big and conn.dialect.name == "sqlite":
        # One transaction of a million rows dirties more pages than the default cache
        # holds; spilling them mid-transaction triples the import time.
        conn.exec_driver_sql(f"PRAGMA cache_size=-{BIG_WRITE_CACHE_KIB}")
    # Rows in primary-key order turn B-tree inserts from random into appends: on
    # SQLite that halves the write of a million links that arrive in file order.
    counts = WriteCounts(
        units=_upsert(conn, UNITS, org_id, sorted(map(_unit_row, org_map.units), key=BY_ID)),
        results=_upsert(
            conn, RESULTS, org_id, sorted(map(_result_row, org_map.results), key=BY_ID)
        ),
        links=_upsert(conn, LINKS, org_id, sorted(map(_link_row, org_map.links), key=BY_KEY)),
        # People keep the caller's order: it decides who gives up an email first.
        people=_upsert(conn, PEOPLE, org_id, map(_person_row, org_map.people)),
    )
    history.record(
        conn,
        org_id,
        dict.fromkeys((k.name for k in history.KINDS), history.everything)
        if scope is None
        else scope,
        by=by,
        source=source,
        removals=replace,
    )
    if big and conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KIB}")
    return counts


def _rows(conn: Connection, table: Table, org_id: int) -> Sequence[Any]:
    cols = [c for c in table.columns if c.name != "org_id"]
    pk = [c for c in table.primary_key.columns if c.name != "org_id"]
    stmt = select(*cols).where(table.c.org_id == org_id).order_by(*pk)
    if table is LINKS:
        stmt = stmt.where(CONFIRMED_ONLY)
    return conn.execute(stmt).all()


def _to_unit(r: Any) -> Unit:
    return Unit(r.id, r.name, UnitKind(r.kind), r.parent_id, r.headcount)


def _to_result(r: Any) -> Result:
    return Result(
        r.id, r.unit_id, r.name, ResultKind(r.kind), r.capacity, r.cost_per_item, r.revenue_per_item
    )


def read_map(conn: Connection, org_id: int) -> OrganisationMap:
    """The whole map of one organisation as domain objects, ordered by id; its links
    are the confirmed ones only (what every analysis counts, docs/map.md)."""
    return OrganisationMap(
        units=[_to_unit(r) for r in _rows(conn, UNITS, org_id)],
        results=[_to_result(r) for r in _rows(conn, RESULTS, org_id)],
        links=[
            Link(r.result_id, r.customer_id, Relation(r.relation), r.demand, r.per_item)
            for r in _rows(conn, LINKS, org_id)
        ],
        people=[
            Person(r.id, r.name, r.email, r.unit_id, Role(r.role))
            for r in _rows(conn, PEOPLE, org_id)
        ],
    )


def read_unit(conn: Connection, org_id: int, unit_id: str) -> Unit | None:
    """One unit, or None."""
    row = conn.execute(
        select(UNITS.c.id, UNITS.c.name, UNITS.c.kind, UNITS.c.parent_id, UNITS.c.headcount).where(
            UNITS.c.org_id == org_id, UNITS.c.id == unit_id
        )
    ).first()
    return None if row is None else _to_unit(row)


def read_results_of(conn: Connection, org_id: int, unit_id: str) -> list[Result]:
    """The results one unit produces, ordered by id."""
    rows = conn.execute(
        select(*[c for c in RESULTS.columns if c.name != "org_id"])
        .where(RESULTS.c.org_id == org_id, RESULTS.c.unit_id == unit_id)
        .order_by(RESULTS.c.id)
    ).all()
    return [_to_result(r) for r in rows]


def known_ids(conn: Connection, org_id: int) -> dict[str, set[str]]:
    """Ids already stored per table (what a bundle may refer to without listing)."""
    return {
        "units": set(conn.execute(select(UNITS.c.id).where(UNITS.c.org_id == org_id)).scalars()),
        "results": set(
            conn.execute(select(RESULTS.c.id).where(RESULTS.c.org_id == org_id)).scalars()
        ),
        "people": set(conn.execute(select(PEOPLE.c.id).where(PEOPLE.c.org_id == org_id)).scalars()),
    }


def unit_parents(conn: Connection, org_id: int) -> dict[str, str]:
    """Each stored unit that has a parent, mapped to it (an import checks that it
    makes no cycle with them)."""
    rows = conn.execute(
        select(UNITS.c.id, UNITS.c.parent_id).where(
            UNITS.c.org_id == org_id, UNITS.c.parent_id.is_not(None)
        )
    )
    return {uid: parent for uid, parent in rows}


def known_emails(conn: Connection, org_id: int) -> dict[str, str]:
    """The person id holding each stored email address."""
    rows = conn.execute(select(PEOPLE.c.email, PEOPLE.c.id).where(PEOPLE.c.org_id == org_id))
    return {email: pid for email, pid in rows}


def count_rows(conn: Connection, org_id: int) -> dict[str, int]:
    """How many units, results, links and people the organisation holds."""
    return {
        t.name: int(
            conn.execute(
                select(func.count()).select_from(t).where(t.c.org_id == org_id)
            ).scalar_one()
        )
        for t in MAP_TABLES
    }


@dataclass(frozen=True)
class GraphColumns:
    """The map as parallel arrays, for analytics over big organisations."""

    unit_ids: list[str]
    unit_names: list[str]
    unit_kinds: list[str]
    result_ids: list[str]
    result_names: list[str]
    result_unit: np.ndarray
    link_result: np.ndarray
    link_customer: np.ndarray
    link_relation: list[str]
    #: Each unit's ``parent_id`` (None at a root) and headcount (None when not given).
    unit_parents: list[str | None] = field(default_factory=list)
    unit_headcounts: list[int | None] = field(default_factory=list)


def _columns(conn: Connection, stmt: Select[Any], width: int) -> list[tuple[Any, ...]]:
    """Run a SELECT on the raw driver cursor and return its columns (not rows):
    a million rows skip SQLAlchemy's per-row objects."""
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return list(zip(*rows, strict=True)) if rows else [() for _ in range(width)]


def _positions(index: dict[str, int], ids: Sequence[str]) -> np.ndarray:
    return np.fromiter(map(index.__getitem__, ids), dtype=np.int64, count=len(ids))


def read_graph_columns(conn: Connection, org_id: int) -> GraphColumns:
    """Units, results and links as columns with ids resolved to positions."""
    unit_ids, unit_names, unit_kinds, unit_parents, unit_headcounts = _columns(
        conn,
        select(UNITS.c.id, UNITS.c.name, UNITS.c.kind, UNITS.c.parent_id, UNITS.c.headcount)
        .where(UNITS.c.org_id == org_id)
        .order_by(UNITS.c.id),
        5,
    )
    result_ids, result_names, result_units = _columns(
        conn,
        select(RESULTS.c.id, RESULTS.c.name, RESULTS.c.unit_id)
        .where(RESULTS.c.org_id == org_id)
        .order_by(RESULTS.c.id),
        3,
    )
    link_results, link_customers, link_relations = _columns(
        conn,
        select(LINKS.c.result_id, LINKS.c.customer_id, LINKS.c.relation)
        .where(LINKS.c.org_id == org_id, CONFIRMED_ONLY)
        .order_by(LINKS.c.result_id, LINKS.c.customer_id, LINKS.c.relation),
        3,
    )
    unit_pos = {uid: i for i, uid in enumerate(unit_ids)}
    result_pos = {rid: i for i, rid in enumerate(result_ids)}
    return GraphColumns(
        unit_ids=list(unit_ids),
        unit_names=list(unit_names),
        unit_kinds=list(unit_kinds),
        result_ids=list(result_ids),
        result_names=list(result_names),
        result_unit=_positions(unit_pos, result_units),
        link_result=_positions(result_pos, link_results),
        link_customer=_positions(unit_pos, link_customers),
        link_relation=list(link_relations),
        unit_parents=list(unit_parents),
        unit_headcounts=list(unit_headcounts),
    )


def read_graph_columns_as_of(conn: Connection, org_id: int, moment: datetime) -> GraphColumns:
    """The map as it was at ``moment`` as :class:`GraphColumns` (confirmed links only),
    the same shape :func:`store.organisation.read_graph_columns` gives for today."""
    moment = history.utc(moment)
    u, r, k = history.UNIT_HISTORY, history.RESULT_HISTORY, history.LINK_HISTORY
    units = conn.execute(
        select(u.c.id, u.c.name, u.c.kind, u.c.parent_id, u.c.headcount)
        .where(u.c.org_id == org_id, history.valid_at(u, moment), ~u.c.removed)
        .order_by(u.c.id)
    ).all()
    results = conn.execute(
        select(r.c.id, r.c.name, r.c.unit_id)
        .where(r.c.org_id == org_id, history.valid_at(r, moment), ~r.c.removed)
        .order_by(r.c.id)
    ).all()
    links = conn.execute(
        select(k.c.result_id, k.c.customer_id, k.c.relation)
        .where(
            k.c.org_id == org_id,
            history.valid_at(k, moment),
            ~k.c.removed,
            k.c.state == LinkState.CONFIRMED.value,
        )
        .order_by(k.c.result_id, k.c.customer_id, k.c.relation)
    ).all()
    unit_pos = {row.id: i for i, row in enumerate(units)}
    # Every version of one moment was written by one consistent map; the filters only
    # guard against a row that names something the moment does not hold.
    results = [row for row in results if row.unit_id in unit_pos]
    result_pos = {row.id: i for i, row in enumerate(results)}
    links = [row for row in links if row.result_id in result_pos and row.customer_id in unit_pos]
    return GraphColumns(
        unit_ids=[row.id for row in units],
        unit_names=[row.name for row in units],
        unit_kinds=[row.kind for row in units],
        result_ids=[row.id for row in results],
        result_names=[row.name for row in results],
        result_unit=_positions(unit_pos, [row.unit_id for row in results]),
        link_result=_positions(result_pos, [row.result_id for row in links]),
        link_customer=_positions(unit_pos, [row.customer_id for row in links]),
        link_relation=[row.relation for row in links],
        unit_parents=[row.parent_id for row in units],
        unit_headcounts=[row.headcount for row in units],
    )


@dataclass(frozen=True)
class FlowColumns:
    """What the flow model needs beyond :class:`GraphColumns`: per result (ordered by
    id) its kind, capacity, cost and revenue per item (``nan``: not given), and per link
    (in :func:`read_graph_columns` order) its weekly demand (``nan``: not given)."""

    result_kind: list[str]
    capacity: np.ndarray
    cost_per_item: np.ndarray
    revenue_per_item: np.ndarray
    link_demand: np.ndarray
    link_per_item: np.ndarray  # nan: an additive input


def _floats(values: Sequence[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


def read_flow_columns(conn: Connection, org_id: int) -> FlowColumns:
    """Capacities, money per item and demands as arrays, one SELECT per table."""
    kinds, capacity, cost, revenue = _columns(
        conn,
        select(
            RESULTS.c.kind, RESULTS.c.capacity, RESULTS.c.cost_per_item, RESULTS.c.revenue_per_item
        )
        .where(RESULTS.c.org_id == org_id)
        .order_by(RESULTS.c.id),
        4,
    )
    demand, per_item = _columns(
        conn,
        select(LINKS.c.demand, LINKS.c.per_item)
        .where(LINKS.c.org_id == org_id, CONFIRMED_ONLY)
        .order_by(LINKS.c.result_id, LINKS.c.customer_id, LINKS.c.relation),
        2,
    )
    return FlowColumns(
        result_kind=list(kinds),
        capacity=_floats(capacity),
        cost_per_item=_floats(cost),
        revenue_per_item=_floats(revenue),
        link_demand=_floats(demand),
        link_per_item=_floats(per_item),
    )


# -- one result or link at a time (the API's writes, docs/map.md) ------------------------


def bump_map_version(conn: Connection, org_id: int) -> None:
    """Mark the map as changed, so every process rebuilds its cached graph."""
    conn.execute(
        update(ORGANISATIONS)
        .where(ORGANISATIONS.c.id == org_id)
        .values(map_version=ORGANISATIONS.c.map_version + 1)
    )


def read_result(conn: Connection, org_id: int, result_id: str) -> Result | None:
    """One result, or None."""
    row = conn.execute(
        select(*[c for c in RESULTS.columns if c.name != "org_id"]).where(
            RESULTS.c.org_id == org_id, RESULTS.c.id == result_id
        )
    ).first()
    return None if row is None else _to_result(row)


def result_references(conn: Connection, org_id: int, result_id: str) -> dict[str, int]:
    """Rows of tables other than ``links`` that refer to a result (agreements, shares…),
    per table: found through the foreign keys, so a new table is never missed."""
    found: dict[str, int] = {}
    for table in RESULTS.metadata.sorted_tables:
        if table is LINKS:
            continue
        for fk in table.foreign_key_constraints:
            if fk.referred_table is not RESULTS:
                continue
            local = [c for c in fk.columns if c.name != "org_id"]
            if len(local) != 1:
                continue
            count = conn.execute(
                select(func.count())
                .select_from(table)
                .where(table.c.org_id == org_id, local[0] == result_id)
            ).scalar_one()
            if count:
                found[table.name] = found.get(table.name, 0) + int(count)
    return found


def delete_result(
    conn: Connection, org_id: int, result_id: str, *, by: str | None, source: str = "api"
) -> int:
    """Remove a result and every link to it (any state); returns the links removed."""
    links = conn.execute(
        delete(LINKS).where(LINKS.c.org_id == org_id, LINKS.c.result_id == result_id)
    ).rowcount
    conn.execute(delete(RESULTS).where(RESULTS.c.org_id == org_id, RESULTS.c.id == result_id))
    bump_map_version(conn, org_id)
    history.record(conn, org_id, result_scope(result_id), by=by, source=source)
    return int(links)


def result_scope(result_id: str) -> dict[str, history.Where]:
    """The history scope of one result and the links to it."""
    return {
        "result": lambda t: t.c.id == result_id,
        "link": lambda t: t.c.result_id == result_id,
    }


def link_scope(key: tuple[str, str, str]) -> dict[str, history.Where]:
    """The history scope of one link."""
    result_id, customer_id, relation = key
    return {
        "link": lambda t: (
            (t.c.result_id == result_id)
            & (t.c.customer_id == customer_id)
            & (t.c.relation == relation)
        )
    }


@dataclass(frozen=True)
class StoredLink:
    """A link with its state: ``provider`` is the unit producing its result; the
    ``proposed_*`` fields say which side declared it, who and when; the ``answered_*``
    fields who confirmed or disputed it, and ``reason`` why a dispute."""

    result_id: str
    customer_id: str
    relation: str
    demand: float | None
    per_item: float | None
    state: str
    provider: str
    proposed_side: str | None
    proposed_by: str | None
    proposed_at: datetime | None
    answered_by: str | None
    answered_at: datetime | None
    reason: str | None


_LINK_COLUMNS = [c for c in LINKS.columns if c.name != "org_id"]


def _link_select() -> Select[Any]:
    return select(*_LINK_COLUMNS, RESULTS.c.unit_id.label("provider")).join(
        RESULTS, (RESULTS.c.org_id == LINKS.c.org_id) & (RESULTS.c.id == LINKS.c.result_id)
    )


def _stored_link(row: Any) -> StoredLink:
    return StoredLink(**row._mapping)


def _link_key(org_id: int, key: tuple[str, str, str]) -> Any:
    result_id, customer_id, relation = key
    return (
        (LINKS.c.org_id == org_id)
        & (LINKS.c.result_id == result_id)
        & (LINKS.c.customer_id == customer_id)
        & (LINKS.c.relation == relation)
    )


def read_link(conn: Connection, org_id: int, key: tuple[str, str, str]) -> StoredLink | None:
    """One link in any state, by (result, customer, relation), or None."""
    row = conn.execute(_link_select().where(_link_key(org_id, key))).first()
    return None if row is None else _stored_link(row)


def links_in_states(
    conn: Connection, org_id: int, states: Sequence[str], unit_id: str | None = None
) -> list[StoredLink]:
    """Links in the given states, ordered by key; with ``unit_id`` only those it is a
    side of (producer of the result, or customer)."""
    stmt = _link_select().where(LINKS.c.org_id == org_id, LINKS.c.state.in_(list(states)))
    if unit_id is not None:
        stmt = stmt.where((RESULTS.c.unit_id == unit_id) | (LINKS.c.customer_id == unit_id))
    stmt = stmt.order_by(LINKS.c.result_id, LINKS.c.customer_id, LINKS.c.relation)
    return [_stored_link(r) for r in conn.execute(stmt)]


def customers_of_result(conn: Connection, org_id: int, result_id: str) -> list[str]:
    """The units linked to a result in any state, ordered by id."""
    return list(
        conn.execute(
            select(LINKS.c.customer_id)
            .where(LINKS.c.org_id == org_id, LINKS.c.result_id == result_id)
            .distinct()
            .order_by(LINKS.c.customer_id)
        ).scalars()
    )


def insert_link(
    conn: Connection, org_id: int, values: dict[str, Any], *, by: str | None, source: str = "api"
) -> None:
    """Add one link (its state and who proposed it in ``values``)."""
    conn.execute(insert(LINKS).values(org_id=org_id, **values))
    bump_map_version(conn, org_id)
    key = (values["result_id"], values["customer_id"], values["relation"])
    history.record(conn, org_id, link_scope(key), by=by, source=source)


def update_link(
    conn: Connection,
    org_id: int,
    key: tuple[str, str, str],
    values: dict[str, Any],
    *,
    by: str | None,
    source: str = "api",
) -> None:
    """Change one link's state and who answered it."""
    conn.execute(update(LINKS).where(_link_key(org_id, key)).values(**values))
    bump_map_version(conn, org_id)
    history.record(conn, org_id, link_scope(key), by=by, source=source)


def delete_link(
    conn: Connection, org_id: int, key: tuple[str, str, str], *, by: str | None, source: str = "api"
) -> None:
    """Remove one link."""
    conn.execute(delete(LINKS).where(_link_key(org_id, key)))
    bump_map_version(conn, org_id)
    history.record(conn, org_id, link_scope(key), by=by, source=source)


def leads_of(conn: Connection, org_id: int, unit_ids: Sequence[str]) -> list[str]:
    """The ids of the leads of the given units, ordered by id."""
    return list(
        conn.execute(
            select(PEOPLE.c.id)
            .where(
                PEOPLE.c.org_id == org_id,
                PEOPLE.c.unit_id.in_(list(unit_ids)),
                PEOPLE.c.role == Role.LEAD.value,
            )
            .order_by(PEOPLE.c.id)
        ).scalars()
    )


# -- the map's structure: units and people (services.map_structure) ---------------------

#: Columns that name a unit without a foreign key (a request's or a survey's history
#: outlives a re-import of the map): a unit they name is still in use. Columns with a
#: foreign key to ``units`` are found through it (:func:`unit_references`).
#: Tables that name units but never keep one in use: the map's own history holds every
#: version, a removed unit's too.
UNIT_HISTORY_TABLES = frozenset({"unit_history", "result_history", "link_history"})
UNIT_COLUMNS_WITHOUT_KEYS: dict[str, tuple[str, ...]] = {
    "requests": ("customer_id", "provider_id"),
    "campaign_groups": ("provider_id", "customer_id"),
    "invitations": ("provider_id", "customer_id"),
    "workspace_entries": ("provider_id", "customer_id"),
    "actions": ("provider_id", "customer_id"),
    "measure_cells": ("provider", "customer"),
    "measure_blocks": ("provider",),
}


def _count_where(
    conn: Connection, table: Table, org_id: int, columns: Sequence[Any], value: str
) -> int:
    condition = columns[0] == value
    for column in columns[1:]:
        condition = condition | (column == value)
    return int(
        conn.execute(
            select(func.count()).select_from(table).where(table.c.org_id == org_id, condition)
        ).scalar_one()
    )


def unit_references(conn: Connection, org_id: int, unit_id: str) -> dict[str, int]:
    """Rows of every table that name the unit (its results, links to it, its people,
    units below it, agreements, requests, campaigns, responses…), per table: the
    foreign keys to ``units`` and :data:`UNIT_COLUMNS_WITHOUT_KEYS`, so a new table
    with a key is never missed."""
    columns: dict[str, list[Any]] = {}
    for table in UNITS.metadata.sorted_tables:
        for fk in table.foreign_key_constraints:
            if fk.referred_table is not UNITS:
                continue
            local = [c for c in fk.columns if c.name != "org_id"]
            if len(local) == 1:
                columns.setdefault(table.name, []).append(local[0])
    for name, names in UNIT_COLUMNS_WITHOUT_KEYS.items():
        table = UNITS.metadata.tables[name]
        columns.setdefault(name, []).extend(table.c[n] for n in names)
    found: dict[str, int] = {}
    for name, cols in sorted(columns.items()):
        count = _count_where(conn, UNITS.metadata.tables[name], org_id, cols, unit_id)
        if count:
            found[name] = count
    return found


def delete_unit(
    conn: Connection, org_id: int, unit_id: str, *, by: str | None = None, source: str = "api"
) -> None:
    """Remove a unit nothing refers to any more (the caller checked); its history
    records the removal."""
    conn.execute(delete(UNITS).where(UNITS.c.org_id == org_id, UNITS.c.id == unit_id))
    bump_map_version(conn, org_id)
    history.record(conn, org_id, unit_scope(unit_id), by=by, source=source)


def unit_scope(unit_id: str) -> dict[str, history.Where]:
    """The history scope of one unit (not its results or links)."""
    return {"unit": lambda t: t.c.id == unit_id}


def read_person(conn: Connection, org_id: int, person_id: str) -> Person | None:
    """One person on the map, or None."""
    row = conn.execute(
        select(PEOPLE.c.id, PEOPLE.c.name, PEOPLE.c.email, PEOPLE.c.unit_id, PEOPLE.c.role).where(
            PEOPLE.c.org_id == org_id, PEOPLE.c.id == person_id
        )
    ).first()
    return None if row is None else Person(row.id, row.name, row.email, row.unit_id, Role(row.role))


def delete_person(conn: Connection, org_id: int, person_id: str) -> None:
    """Remove a person's row from the map."""
    conn.execute(delete(PEOPLE).where(PEOPLE.c.org_id == org_id, PEOPLE.c.id == person_id))
    bump_map_version(conn, org_id)


def existing_units(conn: Connection, org_id: int, unit_ids: Iterable[str]) -> set[str]:
    """Those of ``unit_ids`` that are stored."""
    ids = sorted(set(unit_ids))
    return set(
        conn.execute(
            select(UNITS.c.id).where(UNITS.c.org_id == org_id, UNITS.c.id.in_(ids))
        ).scalars()
    )


def parent_chain(conn: Connection, org_id: int, unit_id: str) -> dict[str, str]:
    """The stored parents from ``unit_id`` upwards (unit -> parent), in one recursive
    query: what a new parent of a unit must not lead back to. A stored cycle ends the
    walk where it repeats."""
    start = (
        select(UNITS.c.id, UNITS.c.parent_id)
        .where(UNITS.c.org_id == org_id, UNITS.c.id == unit_id, UNITS.c.parent_id.is_not(None))
        .cte("chain", recursive=True)
    )
    step = select(UNITS.c.id, UNITS.c.parent_id).where(
        UNITS.c.org_id == org_id, UNITS.c.id == start.c.parent_id, UNITS.c.parent_id.is_not(None)
    )
    chain = start.union(step)
    return {uid: parent for uid, parent in conn.execute(select(chain.c.id, chain.c.parent_id))}


def existing_person(conn: Connection, org_id: int, person_id: str) -> set[str]:
    """``{person_id}`` when that person is stored, else empty."""
    found = conn.execute(
        select(PEOPLE.c.id).where(PEOPLE.c.org_id == org_id, PEOPLE.c.id == person_id)
    ).scalar()
    return set() if found is None else {found}


def email_owner(conn: Connection, org_id: int, email: str) -> dict[str, str]:
    """``{email: person id}`` for the stored person holding exactly ``email``, if any."""
    rows = conn.execute(
        select(PEOPLE.c.email, PEOPLE.c.id).where(
            PEOPLE.c.org_id == org_id, PEOPLE.c.email == email
        )
    )
    return {found: pid for found, pid in rows}
