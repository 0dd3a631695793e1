"""Requests, their events and thanks: the SQL behind the Request capability.

Times are stored in UTC. The SLA reads every request of the organisation as columns
in one ordered pass (times converted to epoch seconds by the database), so a million
requests are read without building a Python object per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    and_,
    insert,
    or_,
    select,
    text,
    tuple_,
    update,
)

from valuechain.domain.request import OPEN_STATES, RequestRecord
from valuechain.store.accounts import ACCOUNTS
from valuechain.store.notification import OUTBOX
from valuechain.store.organisation import PEOPLE
from valuechain.store.tables import RequestCommentRow, RequestEventRow, RequestRow

REQUESTS: Table = RequestRow.__table__  # type: ignore[assignment]
EVENTS: Table = RequestEventRow.__table__  # type: ignore[assignment]
COMMENTS: Table = RequestCommentRow.__table__  # type: ignore[assignment]

FloatArray = npt.NDArray[np.float64]


def utc(moment: datetime | None) -> datetime | None:
    """``moment`` as an aware UTC time (SQLite hands back the naive UTC we stored)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _stored(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


_TIMES = ("created_at", "first_response_at", "resolved_at", "paused_since", "thanked_at")


def _request(row: Any) -> dict[str, Any]:
    found = dict(row._mapping)
    for name in _TIMES:
        if name in found:
            found[name] = utc(found[name])
    return found


def insert_request(conn: Connection, org_id: int, values: Mapping[str, Any]) -> None:
    """Store a new request row (``values`` are its columns without ``org_id``)."""
    row = {k: (_stored(v) if k in _TIMES else v) for k, v in values.items()}
    conn.execute(insert(REQUESTS).values(org_id=org_id, **row))


def get_request(conn: Connection, org_id: int, request_id: str) -> dict[str, Any] | None:
    """One request row with its assignee's name (``assignee``) from the map."""
    people = PEOPLE.alias("assignee")
    found = conn.execute(
        select(REQUESTS, people.c.name.label("assignee"))
        .select_from(
            REQUESTS.outerjoin(
                people,
                and_(people.c.org_id == REQUESTS.c.org_id, people.c.id == REQUESTS.c.assignee_id),
            )
        )
        .where(REQUESTS.c.org_id == org_id, REQUESTS.c.id == request_id)
    ).first()
    return None if found is None else _request(found)


def update_request(
    conn: Connection, org_id: int, request_id: str, expected_events: int, values: Mapping[str, Any]
) -> bool:
    """Apply ``values`` when the request still has ``expected_events`` events (no one
    changed it since it was read); False when someone did."""
    row = {k: (_stored(v) if k in _TIMES else v) for k, v in values.items()}
    done = conn.execute(
        update(REQUESTS)
        .where(
            REQUESTS.c.org_id == org_id,
            REQUESTS.c.id == request_id,
            REQUESTS.c.events == expected_events,
        )
        .values(events=expected_events + 1, **row)
    )
    return done.rowcount == 1


def add_event(conn: Connection, org_id: int, values: Mapping[str, Any]) -> None:
    conn.execute(insert(EVENTS).values(org_id=org_id, **{**values, "at": _stored(values["at"])}))


def add_events(conn: Connection, org_id: int, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        conn.execute(
            insert(EVENTS), [{"org_id": org_id, **r, "at": _stored(r["at"])} for r in rows]
        )


def insert_requests(conn: Connection, org_id: int, rows: Sequence[Mapping[str, Any]]) -> None:
    """Bulk insert of request rows (an import)."""
    if rows:
        conn.execute(
            insert(REQUESTS),
            [
                {"org_id": org_id, **{k: (_stored(v) if k in _TIMES else v) for k, v in r.items()}}
                for r in rows
            ],
        )


def existing_ids(conn: Connection, org_id: int, ids: Iterable[str]) -> set[str]:
    wanted = list(ids)
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(
            conn.execute(
                select(REQUESTS.c.id).where(REQUESTS.c.org_id == org_id, REQUESTS.c.id.in_(chunk))
            ).scalars()
        )
    return found


def delete_requests(conn: Connection, org_id: int, ids: Iterable[str]) -> None:
    """Remove requests (and by cascade their events) before an import replaces them."""
    wanted = list(ids)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        conn.execute(
            EVENTS.delete().where(EVENTS.c.org_id == org_id, EVENTS.c.request_id.in_(chunk))
        )
        conn.execute(
            COMMENTS.delete().where(COMMENTS.c.org_id == org_id, COMMENTS.c.request_id.in_(chunk))
        )
        conn.execute(REQUESTS.delete().where(REQUESTS.c.org_id == org_id, REQUESTS.c.id.in_(chunk)))


def events_of(conn: Connection, org_id: int, request_id: str) -> list[dict[str, Any]]:
    """A request's timeline, oldest first."""
    rows = conn.execute(
        select(EVENTS)
        .where(EVENTS.c.org_id == org_id, EVENTS.c.request_id == request_id)
        .order_by(EVENTS.c.seq)
    )
    return [{**dict(r._mapping), "at": utc(r.at)} for r in rows]


LIST_COLUMNS = (
    "id",
    "customer_id",
    "provider_id",
    "title",
    "priority",
    "category",
    "requester_id",
    "requester",
    "state",
    "created_at",
    "first_response_at",
    "resolved_at",
    "paused_since",
    "paused_seconds",
    "thanked_at",
    "assignee_id",
)


@dataclass(frozen=True)
class Query:
    """Which requests a list holds; every field narrows it (None: any). ``pairs`` and
    ``created_before`` are the SQL side of the clock filters: only relationships with
    a target, only requests old enough to have used the share of it asked for."""

    provider: str | None = None
    customer: str | None = None
    requester_id: str | None = None
    either_unit: str | None = None
    open_only: bool = False
    states: tuple[str, ...] = ()
    priority: str | None = None
    category: str | None = None
    text: str | None = None
    assignee_id: str | None = None
    unassigned: bool = False
    pairs: tuple[tuple[str, str], ...] | None = None
    created_before: datetime | None = None


MAX_PAIRS = 1000  # beyond this many relationships the pair filter is left to Python


def _contains(column: Any, words: str, dialect: str) -> ColumnElement[bool]:
    """``column`` holds ``text``, any case. SQLite's LIKE ignores the case of ASCII
    letters itself; lower() on both sides (``ilike``) would cost five times as much
    on a scan of a million rows. PostgreSQL has ILIKE."""
    if dialect == "sqlite":
        return column.contains(words, autoescape=True)  # type: ignore[no-any-return]
    return column.icontains(words, autoescape=True)  # type: ignore[no-any-return]


def _where(org_id: int, q: Query, dialect: str = "postgresql") -> list[ColumnElement[bool]]:
    c = REQUESTS.c
    where: list[ColumnElement[bool]] = [c.org_id == org_id]
    for column, value in (
        (c.provider_id, q.provider),
        (c.customer_id, q.customer),
        (c.requester_id, q.requester_id),
        (c.priority, q.priority),
        (c.category, q.category),
        (c.assignee_id, q.assignee_id),
    ):
        if value is not None:
            where.append(column == value)
    if q.either_unit is not None:
        where.append(or_(c.provider_id == q.either_unit, c.customer_id == q.either_unit))
    if q.states:
        where.append(c.state.in_(q.states))
    if q.open_only:
        # Named states, not "not resolved or closed", so an index on state can serve.
        where.append(c.state.in_(OPEN_STATES))
    if q.unassigned:
        where.append(c.assignee_id.is_(None))
    if q.text:
        where.append(or_(_contains(c.title, q.text, dialect), _contains(c.body, q.text, dialect)))
    if q.pairs is not None and len(q.pairs) <= MAX_PAIRS:
        if not q.pairs:
            where.append(c.id.is_(None))  # no relationship has a target: nothing
        else:
            where.append(tuple_(c.provider_id, c.customer_id).in_(q.pairs))
    if q.created_before is not None:
        where.append(c.created_at <= _stored(q.created_before))
    return where


def list_requests(
    conn: Connection,
    org_id: int,
    query: Query | None = None,
    *,
    limit: int = 50,
    offset: int = 0,
    **narrow: Any,
) -> list[dict[str, Any]]:
    """Requests newest first that match ``query`` (or the :class:`Query` fields given
    as keywords), with the assignee's name (``assignee``) from the map: one indexed
    query, the filters in SQL."""
    q = query if query is not None else Query(**narrow)
    people = PEOPLE.alias("assignee")
    dialect = conn.dialect.name
    narrowed = any(
        v is not None
        for v in (q.provider, q.customer, q.requester_id, q.either_unit, q.assignee_id)
    )
    newest: Any = REQUESTS.c.created_at.desc()
    if q.text and not narrowed and dialect == "sqlite":
        # Words searched over the whole organisation: read the table in its own order
        # and sort the matches (1 s for a million rows), not every row through the
        # newest-first index with one lookup each (15-36 s). SQLite's unary plus keeps
        # an index from serving the order.
        newest = text("+requests.created_at DESC")
    stmt = (
        select(*(REQUESTS.c[name] for name in LIST_COLUMNS), people.c.name.label("assignee"))
        .select_from(
            REQUESTS.outerjoin(
                people,
                and_(people.c.org_id == REQUESTS.c.org_id, people.c.id == REQUESTS.c.assignee_id),
            )
        )
        .where(and_(*_where(org_id, q, dialect)))
        .order_by(newest, REQUESTS.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_request(r) for r in conn.execute(stmt)]


def categories(conn: Connection, org_id: int, *, provider: str | None = None,
               customer: str | None = None) -> list[str]:  # fmt: skip
    """The categories requests to ``provider`` (or from ``customer``) carry, for a
    filter's choices (over one unit's index range, never the whole table)."""
    where = [REQUESTS.c.org_id == org_id, REQUESTS.c.category.is_not(None)]
    if provider is not None:
        where.append(REQUESTS.c.provider_id == provider)
    if customer is not None:
        where.append(REQUESTS.c.customer_id == customer)
    found = conn.execute(
        select(REQUESTS.c.category)
        .where(*where)
        .distinct()
        .order_by(REQUESTS.c.category)
        .limit(200)
    ).scalars()
    return [str(v) for v in found]


# -- who works on it, and the conversation ------------------------------------------


def people_of(conn: Connection, org_id: int, units: Sequence[str]) -> list[dict[str, Any]]:
    """The people of ``units`` on the map (id, name, email, unit), by name."""
    rows = conn.execute(
        select(PEOPLE.c.id, PEOPLE.c.name, PEOPLE.c.email, PEOPLE.c.unit_id)
        .where(PEOPLE.c.org_id == org_id, PEOPLE.c.unit_id.in_(list(units)))
        .order_by(PEOPLE.c.name, PEOPLE.c.id)
    )
    return [dict(r._mapping) for r in rows]


def person_of_account(conn: Connection, org_id: int, account_id: str) -> str | None:
    """The map person an account is linked to, if any."""
    found: str | None = conn.execute(
        select(ACCOUNTS.c.person_id).where(ACCOUNTS.c.org_id == org_id, ACCOUNTS.c.id == account_id)
    ).scalar()
    return found


def mentions_of(conn: Connection, org_id: int, person_id: str, limit: int = 20) -> list[Any]:
    """The latest mentions of a person in requests' conversations: the notifications
    queued for them (one per message, whatever the channels), newest first."""
    rows = conn.execute(
        select(OUTBOX.c.subject, OUTBOX.c.body, OUTBOX.c.link, OUTBOX.c.created_at)
        .where(
            OUTBOX.c.org_id == org_id,
            OUTBOX.c.person_id == person_id,
            OUTBOX.c.kind == "request_mention",
        )
        .order_by(OUTBOX.c.created_at.desc(), OUTBOX.c.id)
        .limit(limit * 2)
    )
    seen: set[tuple[str, str | None]] = set()
    found: list[Any] = []
    for r in rows:
        key = (r.body, r.link)
        if key not in seen:
            seen.add(key)
            found.append({**dict(r._mapping), "created_at": utc(r.created_at)})
    return found[:limit]


def add_comment(conn: Connection, org_id: int, values: Mapping[str, Any]) -> None:
    conn.execute(insert(COMMENTS).values(org_id=org_id, **{**values, "at": _stored(values["at"])}))


def comments_of(conn: Connection, org_id: int, request_id: str) -> list[dict[str, Any]]:
    """A request's conversation, oldest first."""
    rows = conn.execute(
        select(COMMENTS.c.id, COMMENTS.c.at, COMMENTS.c.author, COMMENTS.c.side, COMMENTS.c.body)
        .where(COMMENTS.c.org_id == org_id, COMMENTS.c.request_id == request_id)
        .order_by(COMMENTS.c.at, COMMENTS.c.id)
    )
    return [{**dict(r._mapping), "at": utc(r.at)} for r in rows]


def thanks_for(
    conn: Connection, org_id: int, provider: str, limit: int = 100
) -> list[dict[str, Any]]:
    """The thanks a providing unit received, newest first."""
    rows = conn.execute(
        select(
            REQUESTS.c.id,
            REQUESTS.c.title,
            REQUESTS.c.customer_id,
            REQUESTS.c.thanked_at,
            REQUESTS.c.thanks_note,
            REQUESTS.c.thanked_by,
        )
        .where(
            REQUESTS.c.org_id == org_id,
            REQUESTS.c.provider_id == provider,
            REQUESTS.c.thanked_at.is_not(None),
        )
        .order_by(REQUESTS.c.thanked_at.desc())
        .limit(limit)
    )
    return [_request(r) for r in rows]


# -- the SLA: every request as columns --------------------------------------------


@dataclass(frozen=True)
class RequestColumns:
    """Every request of an organisation, ordered by (provider, customer); the
    relationships with the number of requests each, in the same order. Times are
    epoch seconds, ``nan`` where not yet."""

    providers: list[str]
    customers: list[str]
    counts: npt.NDArray[np.int64]
    created: FloatArray
    first_response: FloatArray
    resolved: FloatArray
    paused_since: FloatArray
    paused_seconds: FloatArray
    thanked: FloatArray


def _epoch(conn: Connection, column: str) -> str:
    """Epoch seconds of a stored time, computed by the database; -1 for NULL."""
    if conn.dialect.name == "sqlite":
        return f"coalesce((julianday({column}) - 2440587.5) * 86400.0, -1.0)"
    return f"coalesce(extract(epoch from {column})::float8, -1.0)"


CHUNK = 100_000  # rows turned into numbers at a time (bounds the peak memory)


def request_columns(conn: Connection, org_id: int, unit: str | None = None) -> RequestColumns:
    """Every request as numbers, in relationship order, plus the relationships with
    their counts: two queries over the relationship index in one snapshot (a
    PostgreSQL repeatable-read transaction, a SQLite read transaction), so no Python
    object is made per request but its numbers. With ``unit``, only the requests it
    made or was asked."""
    postgres = conn.dialect.name == "postgresql"
    where = "where org_id = %s" + (
        " and (provider_id = %s or customer_id = %s)" if unit is not None else ""
    )
    params = (org_id,) if unit is None else (org_id, unit, unit)
    groups_sql = (
        f"select provider_id, customer_id, count(*) from requests {where} "
        "group by provider_id, customer_id order by provider_id, customer_id"
    )
    rows_sql = (
        f"select {_epoch(conn, 'created_at')}, {_epoch(conn, 'first_response_at')}, "
        f"{_epoch(conn, 'resolved_at')}, {_epoch(conn, 'paused_since')}, paused_seconds, "
        f"case when thanked_at is null then 0.0 else 1.0 end from requests {where} "
        "order by provider_id, customer_id"
    )
    if not postgres:
        groups_sql, rows_sql = groups_sql.replace("%s", "?"), rows_sql.replace("%s", "?")
    raw = conn.connection.driver_connection
    assert raw is not None
    began = False
    if postgres and raw.info.transaction_status.name == "IDLE":
        # The unit's first statement: one snapshot for both queries. A transaction
        # that has read already keeps its level (a writing one holds what it wrote).
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    cursor = raw.cursor()
    try:
        if not postgres and not raw.in_transaction:
            cursor.execute("begin")  # one snapshot for both queries (WAL)
            began = True
        cursor.execute(groups_sql, params)
        groups = cursor.fetchall()
        cursor.execute(rows_sql, params)
        chunks: list[np.ndarray] = []
        while batch := cursor.fetchmany(CHUNK):
            flat = np.fromiter(chain.from_iterable(batch), dtype=np.float64, count=6 * len(batch))
            chunks.append(flat.reshape(-1, 6))
        if began:
            raw.rollback()  # the read transaction begun here only, never the unit's
    finally:
        cursor.close()
    numbers = np.concatenate(chunks) if chunks else np.zeros((0, 6))
    counts = np.fromiter((g[2] for g in groups), dtype=np.int64, count=len(groups))
    assert int(counts.sum()) == numbers.shape[0], "the two reads saw different requests"
    times = numbers[:, :4]
    times[times < 0] = np.nan
    return RequestColumns(
        providers=[g[0] for g in groups],
        customers=[g[1] for g in groups],
        counts=counts,
        created=numbers[:, 0],
        first_response=numbers[:, 1],
        resolved=numbers[:, 2],
        paused_since=numbers[:, 3],
        paused_seconds=numbers[:, 4],
        thanked=numbers[:, 5],
    )


# -- requests.csv: history as records ----------------------------------------------

BATCH = 5000


def delete_all(conn: Connection, org_id: int) -> None:
    """Remove every request and event of the organisation (an import with replace)."""
    conn.execute(EVENTS.delete().where(EVENTS.c.org_id == org_id))
    conn.execute(COMMENTS.delete().where(COMMENTS.c.org_id == org_id))
    conn.execute(REQUESTS.delete().where(REQUESTS.c.org_id == org_id))


def history(record: RequestRecord, actor: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A request row and its events from a record: filed, acknowledged (the first
    response, unless it is the resolution itself), resolved, thanked."""
    steps: list[tuple[datetime, str, str | None, str]] = [(record.created_at, "new", None, "new")]
    state = "new"
    first, resolved = record.first_response_at, record.resolved_at
    if first is not None and first != resolved:
        steps.append((first, "ack", state, "acknowledged"))
        state = "acknowledged"
    if resolved is not None:
        steps.append((resolved, "resolve", state, "resolved"))
        state = "resolved"
    thanked = resolved if record.thanked and resolved is not None else None
    if thanked is not None:
        steps.append((thanked, "thank", state, state))
    row = {
        "id": record.id,
        "customer_id": record.customer_id,
        "provider_id": record.provider_id,
        "title": record.title,
        "body": "",
        "priority": None if record.priority is None else record.priority.value,
        "category": record.category,
        "requester_id": None,
        "requester": None,
        "state": state,
        "created_at": record.created_at,
        "first_response_at": first or resolved,
        "resolved_at": resolved,
        "paused_since": None,
        "paused_seconds": 0.0,
        "events": len(steps),
        "thanked_at": thanked,
        "thanks_note": None,
        "thanked_by": None,
    }
    events = [
        {
            "request_id": record.id,
            "seq": seq,
            "at": at,
            "actor": actor,
            "verb": verb,
            "from_state": before,
            "to_state": after,
            "note": None,
        }
        for seq, (at, verb, before, after) in enumerate(steps, start=1)
    ]
    return row, events


def write_records(
    conn: Connection, org_id: int, records: Sequence[RequestRecord], actor: str = "import"
) -> tuple[int, int]:
    """Store imported requests by id: a known id is replaced with its history, a new
    one added. Returns (requests replaced, events written)."""
    if not records:
        return 0, 0
    replaced = existing_ids(conn, org_id, (r.id for r in records))
    delete_requests(conn, org_id, replaced)
    written = 0
    for start in range(0, len(records), BATCH):
        rows: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for record in records[start : start + BATCH]:
            row, its_events = history(record, actor)
            rows.append(row)
            events.extend(its_events)
        insert_requests(conn, org_id, rows)
        add_events(conn, org_id, events)
        written += len(events)
    return len(replaced), written


def records_as_rows(engine: Engine, org_id: int) -> list[list[Any]]:
    """Every request as a ``requests.csv`` row, by id (for export)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                REQUESTS.c.id,
                REQUESTS.c.customer_id,
                REQUESTS.c.provider_id,
                REQUESTS.c.created_at,
                REQUESTS.c.first_response_at,
                REQUESTS.c.resolved_at,
                REQUESTS.c.priority,
                REQUESTS.c.category,
                REQUESTS.c.thanked_at,
            )
            .where(REQUESTS.c.org_id == org_id)
            .order_by(REQUESTS.c.id)
        ).all()

    def iso(moment: datetime | None) -> str | None:
        found = utc(moment)
        return None if found is None else found.isoformat()

    return [
        [
            r.id,
            r.customer_id,
            r.provider_id,
            iso(r.created_at),
            iso(r.first_response_at),
            iso(r.resolved_at),
            r.priority,
            r.category,
            0 if r.thanked_at is None else 1,
        ]
        for r in rows
    ]
