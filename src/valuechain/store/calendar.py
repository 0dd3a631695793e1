"""Business calendars of one organisation (the text of ``calendars.csv``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from valuechain.domain.agreement import CalendarSpec
from valuechain.store.tables import CalendarRow

CALENDARS: Table = CalendarRow.__table__  # type: ignore[assignment]


def utc(moment: datetime | None) -> datetime | None:
    """``moment`` as an aware UTC time (SQLite hands back the naive UTC we stored)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def upsert(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], *, ignore: bool = False
) -> int:
    """``INSERT … ON CONFLICT (primary key) DO UPDATE`` (or ``DO NOTHING`` with
    ``ignore``) through SQLAlchemy, so times are bound the same way they are read.
    Returns how many rows were inserted or updated."""
    if not rows:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    keys = [c.name for c in table.primary_key.columns]
    total = 0
    for start in range(0, len(rows), 5_000):
        stmt = dialect.insert(table)
        if ignore:
            stmt = stmt.on_conflict_do_nothing(index_elements=keys)
        else:
            stmt = stmt.on_conflict_do_update(
                index_elements=keys,
                set_={c: stmt.excluded[c] for c in rows[0] if c not in keys},
            )
        total += conn.execute(stmt, rows[start : start + 5_000]).rowcount
    return total


def write_calendars(conn: Connection, org_id: int, calendars: Iterable[CalendarSpec]) -> int:
    """Insert calendars, replacing stored ones with the same name."""
    return upsert(
        conn,
        CALENDARS,
        [
            {
                "org_id": org_id,
                "name": c.name,
                "timezone": c.timezone,
                "hours": c.hours,
                "holidays": c.holidays,
            }
            for c in calendars
        ],
    )


def read_calendars(conn: Connection, org_id: int) -> list[CalendarSpec]:
    """Every calendar of the organisation, by name."""
    rows = conn.execute(
        select(CALENDARS.c.name, CALENDARS.c.timezone, CALENDARS.c.hours, CALENDARS.c.holidays)
        .where(CALENDARS.c.org_id == org_id)
        .order_by(CALENDARS.c.name)
    )
    return [CalendarSpec(*row) for row in rows]


def calendar_names(conn: Connection, org_id: int) -> set[str]:
    return set(conn.execute(select(CALENDARS.c.name).where(CALENDARS.c.org_id == org_id)).scalars())


def delete_calendars(conn: Connection, org_id: int) -> None:
    conn.execute(delete(CALENDARS).where(CALENDARS.c.org_id == org_id))
