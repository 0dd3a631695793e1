"""The map's history: one row per version of a unit, result or link, with the
interval it was valid in, who changed it and through what (docs/map.md, "History").

Writes are set-based SQL in the caller's transaction, right after the map tables
changed: :func:`record` compares the live rows in a scope with their open versions
and adds a version for each row that is new or differs, a removal version for each
row that is gone, and closes the versions they replace. Reads are interval
predicates: a version is valid at ``t`` when ``valid_from <= t < valid_to`` (an
open version has no ``valid_to``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    DateTime,
    String,
    Table,
    and_,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from valuechain.store.tables import (
    AccountRow,
    LinkHistoryRow,
    LinkRow,
    PersonRow,
    ResultHistoryRow,
    ResultRow,
    UnitHistoryRow,
    UnitRow,
)

UNIT_HISTORY: Table = UnitHistoryRow.__table__  # type: ignore[assignment]
RESULT_HISTORY: Table = ResultHistoryRow.__table__  # type: ignore[assignment]
LINK_HISTORY: Table = LinkHistoryRow.__table__  # type: ignore[assignment]
UNITS: Table = UnitRow.__table__  # type: ignore[assignment]
RESULTS: Table = ResultRow.__table__  # type: ignore[assignment]
LINKS: Table = LinkRow.__table__  # type: ignore[assignment]
PEOPLE: Table = PersonRow.__table__  # type: ignore[assignment]
ACCOUNTS: Table = AccountRow.__table__  # type: ignore[assignment]

#: A predicate on a map table's or its history's columns (they share their names).
Where = Callable[[Table], ColumnElement[bool]]


@dataclass(frozen=True)
class Kind:
    """One map table and its history: the key and the columns a version keeps."""

    name: str
    live: Table
    history: Table
    key: tuple[str, ...]
    values: tuple[str, ...]


UNIT = Kind("unit", UNITS, UNIT_HISTORY, ("id",), ("name", "kind", "parent_id", "headcount"))
RESULT = Kind(
    "result",
    RESULTS,
    RESULT_HISTORY,
    ("id",),
    ("unit_id", "name", "kind", "capacity", "cost_per_item", "revenue_per_item"),
)
LINK = Kind(
    "link",
    LINKS,
    LINK_HISTORY,
    ("result_id", "customer_id", "relation"),
    ("demand", "per_item", "state"),
)
KINDS: tuple[Kind, ...] = (UNIT, RESULT, LINK)


def everything(table: Table) -> ColumnElement[bool]:
    """The scope of a whole organisation (an import)."""
    return true()


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC (SQLite gives back naive UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# -- writing --------------------------------------------------------------------------


def record(
    conn: Connection,
    org_id: int,
    scope: Mapping[str, Where],
    *,
    by: str | None,
    source: str,
    removals: bool = True,
    now: datetime | None = None,
) -> None:
    """Bring the history of the rows in ``scope`` (per kind name; a kind not named is
    not looked at) in step with the map tables, as changed by ``by`` through
    ``source``. ``removals`` false: the caller removed nothing (an import by id), so
    no removal is looked for."""
    moment = utc(now or datetime.now(UTC))
    for kind in KINDS:
        where = scope.get(kind.name)
        if where is not None:
            _record(conn, org_id, kind, where, moment, by, source, removals)


def _record(
    conn: Connection,
    org_id: int,
    kind: Kind,
    where: Where,
    now: datetime,
    by: str | None,
    source: str,
    removals: bool,
) -> None:
    live, hist = kind.live, kind.history
    stamp = (
        literal(now, DateTime(timezone=True)),
        literal(by, String(320)),
        literal(source, String(16)),
    )
    columns = ["org_id", *kind.key, *kind.values, "removed", "valid_from", "changed_by", "source"]
    started = (
        conn.execute(select(hist.c.seq).where(hist.c.org_id == org_id).limit(1)).first() is not None
    )
    # Versions with a seq above this one are the ones this call adds.
    floor = int(conn.execute(select(func.coalesce(func.max(hist.c.seq), 0))).scalar_one())
    is_open = hist.c.valid_to.is_(None)
    if started and removals:
        gone = select(
            hist.c.org_id,
            *[hist.c[c] for c in (*kind.key, *kind.values)],
            true(),
            *stamp,
        ).where(
            hist.c.org_id == org_id,
            is_open,
            ~hist.c.removed,
            where(hist),
            ~exists().where(live.c.org_id == org_id, *[live.c[k] == hist.c[k] for k in kind.key]),
        )
        conn.execute(insert(hist).from_select(columns, gone))
    new = select(
        live.c.org_id, *[live.c[c] for c in (*kind.key, *kind.values)], false(), *stamp
    ).where(live.c.org_id == org_id, where(live))
    if started:
        # A row whose open version holds the same values has not changed.
        new = new.where(
            ~exists().where(
                hist.c.org_id == org_id,
                *[hist.c[k] == live.c[k] for k in kind.key],
                is_open,
                ~hist.c.removed,
                *[hist.c[v].is_not_distinct_from(live.c[v]) for v in kind.values],
            )
        )
    conn.execute(insert(hist).from_select(columns, new))
    if started:
        newer = hist.alias("newer")
        conn.execute(
            update(hist)
            .where(
                hist.c.org_id == org_id,
                is_open,
                hist.c.seq <= floor,
                where(hist),
                exists().where(
                    newer.c.org_id == org_id,
                    *[newer.c[k] == hist.c[k] for k in kind.key],
                    newer.c.seq > floor,
                ),
            )
            .values(valid_to=now)
        )


def backfill(conn: Connection, org_id: int, since: datetime) -> None:
    """Take the organisation's current map as valid since ``since`` (the migration)."""
    record(
        conn,
        org_id,
        dict.fromkeys((k.name for k in KINDS), everything),
        by=None,
        source="migration",
        now=since,
    )


# -- reading --------------------------------------------------------------------------


def valid_at(hist: Table | Any, moment: datetime) -> ColumnElement[bool]:
    """Versions (removals included) valid at ``moment``: ``valid_from <= t < valid_to``."""
    return and_(
        hist.c.valid_from <= moment, or_(hist.c.valid_to.is_(None), hist.c.valid_to > moment)
    )


@dataclass(frozen=True)
class Change:
    """A difference between two moments: ``change`` is ``appeared``, ``went_away`` or
    ``changed``; ``before``/``after`` the values then (None: not on the map);
    ``by``, ``at`` and ``source`` name the last change between the two moments."""

    kind: str
    key: tuple[str, ...]
    change: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    by: str | None
    at: datetime
    source: str


def _live(alias: Any) -> ColumnElement[bool]:
    return and_(alias.c.seq.is_not(None), ~alias.c.removed)


def changes_between(
    conn: Connection,
    org_id: int,
    kind: Kind,
    start: datetime,
    stop: datetime,
    offset: int,
    limit: int,
) -> tuple[int, list[Change]]:
    """The rows of ``kind`` that differ between ``start`` and ``stop``, ordered by key:
    how many there are and those from ``offset`` to ``offset + limit``. One query:
    the versions valid at each moment, joined in full by key."""
    hist = kind.history
    start, stop = utc(start), utc(stop)
    then = select(hist).where(hist.c.org_id == org_id, valid_at(hist, start)).subquery("then")
    now = select(hist).where(hist.c.org_id == org_id, valid_at(hist, stop)).subquery("now")
    joined = then.join(now, and_(*[then.c[k] == now.c[k] for k in kind.key]), full=True)
    was, is_ = _live(then), _live(now)
    differs = or_(
        and_(is_, ~was),
        and_(was, ~is_),
        and_(was, is_, or_(*[then.c[v].is_distinct_from(now.c[v]) for v in kind.values])),
    )
    keys = [func.coalesce(then.c[k], now.c[k]).label(k) for k in kind.key]
    total = int(conn.execute(select(func.count()).select_from(joined).where(differs)).scalar_one())
    rows = conn.execute(
        select(
            *keys,
            was.label("was"),
            is_.label("is_"),
            *[then.c[v].label(f"then_{v}") for v in kind.values],
            *[now.c[v].label(f"now_{v}") for v in kind.values],
            now.c.changed_by,
            now.c.valid_from,
            now.c.source,
        )
        .select_from(joined)
        .where(differs)
        .order_by(*keys)
        .offset(offset)
        .limit(limit)
    ).all()
    found = []
    for row in rows:
        m = row._mapping
        was_on, is_on = bool(m["was"]), bool(m["is_"])
        found.append(
            Change(
                kind=kind.name,
                key=tuple(m[k] for k in kind.key),
                change="changed" if was_on and is_on else "appeared" if is_on else "went_away",
                before={v: m[f"then_{v}"] for v in kind.values} if was_on else None,
                after={v: m[f"now_{v}"] for v in kind.values} if is_on else None,
                by=m["changed_by"],
                at=utc(m["valid_from"]),
                source=m["source"],
            )
        )
    return total, found


@dataclass(frozen=True)
class Version:
    """One version in a unit's history: ``change`` is ``added``, ``changed`` or
    ``removed``; ``fields`` the values that differ from the version before."""

    kind: str
    key: tuple[str, ...]
    change: str
    values: dict[str, Any]
    fields: tuple[str, ...]
    by: str | None
    at: datetime
    source: str


def _versions(conn: Connection, kind: Kind, org_id: int, keys: Any) -> list[Version]:
    """Every version of the keys ``keys`` selects, each with the one before it
    (a window over the key's versions in ``seq`` order)."""
    hist = kind.history
    part = [hist.c[k] for k in kind.key]
    lagged = (
        select(
            hist,
            func.lag(hist.c.seq).over(partition_by=part, order_by=hist.c.seq).label("prev_seq"),
            func.lag(hist.c.removed)
            .over(partition_by=part, order_by=hist.c.seq)
            .label("prev_removed"),
            *[
                func.lag(hist.c[v]).over(partition_by=part, order_by=hist.c.seq).label(f"prev_{v}")
                for v in kind.values
            ],
        )
        .where(hist.c.org_id == org_id, keys)
        .subquery()
    )
    versions = []
    for row in conn.execute(select(lagged)):
        m = row._mapping
        first = m["prev_seq"] is None or bool(m["prev_removed"])
        change = "removed" if m["removed"] else "added" if first else "changed"
        fields = (
            tuple(v for v in kind.values if m[v] != m[f"prev_{v}"]) if change == "changed" else ()
        )
        if change == "changed" and not fields:
            continue  # the same values again (cannot happen through record)
        if m["source"] == "migration" and change == "added":
            fields = ()
        versions.append(
            Version(
                kind=kind.name,
                key=tuple(m[k] for k in kind.key),
                change=change,
                values={v: m[v] for v in kind.values},
                fields=fields,
                by=m["changed_by"],
                at=utc(m["valid_from"]),
                source=m["source"],
            )
        )
    return versions


def unit_versions(conn: Connection, org_id: int, unit_id: str) -> list[Version]:
    """Every version of the results the unit ever produced and of the links to them
    or from the unit as a customer, newest first."""
    r, k = RESULT_HISTORY, LINK_HISTORY
    ever = select(r.c.id).where(r.c.org_id == org_id, r.c.unit_id == unit_id).distinct()
    results = _versions(conn, RESULT, org_id, r.c.id.in_(ever.scalar_subquery()))
    links = _versions(
        conn,
        LINK,
        org_id,
        or_(k.c.result_id.in_(ever.scalar_subquery()), k.c.customer_id == unit_id),
    )
    return sorted([*results, *links], key=lambda v: v.at, reverse=True)


def names_of_labels(conn: Connection, org_id: int, labels: Sequence[str]) -> dict[str, str]:
    """The name behind each label that is an account's or a person's email."""
    wanted = sorted({label for label in labels if "@" in label})
    if not wanted:
        return {}
    # The name of the person on the map with that email, else the account's own name.
    found: dict[str, str] = {}
    for table in (PEOPLE, ACCOUNTS):
        rows = conn.execute(
            select(table.c.email, table.c.name).where(
                table.c.org_id == org_id, table.c.email.in_(wanted)
            )
        )
        for email, name in rows:
            if name and email not in found:
                found[email] = name
    return found


def change_moments(conn: Connection, org_id: int) -> list[datetime]:
    """Every moment the organisation's map changed, in order (the first: when its
    history begins); between two of them the map is the same."""
    moments = {
        utc(m)
        for m in conn.execute(
            union(
                *(
                    select(t.c.valid_from).where(t.c.org_id == org_id).distinct()
                    for t in (UNIT_HISTORY, RESULT_HISTORY, LINK_HISTORY)
                )
            )
        ).scalars()
    }
    return sorted(moments)
