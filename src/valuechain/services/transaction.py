"""One unit of work per use case: one connection and one transaction, shared by every
service function the use case calls.

A use case (a service function an edge calls) opens its unit with :func:`writing` when
it may change anything, else with :func:`reading`; every service and store call inside
joins the same connection through the same two functions, so a use case never holds
one connection while it waits for a second from the pool, and its reads and writes
commit or roll back together. Connections never leave the service layer: edges call
services, never these functions.

Rules (checked, not only documented):

* A unit opened for reading cannot be joined for writing (:class:`WriteInReadUnit`):
  on SQLite a read transaction that later writes can fail to take the write lock, so
  a use case that writes must say so when it starts.
* A :func:`writing` unit on SQLite begins with ``BEGIN IMMEDIATE`` (it waits for the
  write lock up front, see :data:`valuechain.store.database.IMMEDIATE`); with
  ``durable=True`` it commits with ``synchronous=FULL`` (``store.database.durable``).
* Units are per database (engine) and per context (thread or task): two requests
  served at once never share one.
* On SQLite the writing units of one process also take turns on a lock of their own
  before ``BEGIN IMMEDIATE``: SQLite's busy handler polls with growing sleeps and is
  not first come, first served, so under many writers an unlucky one waited past the
  busy timeout ("database is locked", 3 of 1,000 writes by 20 clients); threads
  blocked on a lock are woken as soon as it is free.

Written here rather than taken from a library: SQLAlchemy's ``Session`` is the ORM's
unit of work, and the product uses SQLAlchemy Core connections throughout.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from threading import Lock
from typing import Protocol
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine

from valuechain.store.database import IMMEDIATE, durable


class OnDatabase(Protocol):
    """Anything that names its database, as the entry object ``Valuechain`` does (a
    protocol, so this module needs nothing from the services it serves)."""

    @property
    def engine(self) -> Engine: ...


class WriteInReadUnit(RuntimeError):
    """A write was asked for inside a use case that opened its unit for reading (a
    programming error: open the use case with :func:`writing`)."""


@dataclass(frozen=True)
class _Unit:
    engine: Engine
    conn: Connection
    writes: bool


_current: ContextVar[_Unit | None] = ContextVar("valuechain_unit_of_work", default=None)

# One lock per SQLite database (engine) for this process's writing units. Bounded: a
# unit that waited this long goes on to BEGIN IMMEDIATE and its busy timeout.
_WRITERS: WeakKeyDictionary[Engine, Lock] = WeakKeyDictionary()
_WRITERS_LOCK = Lock()
WRITER_WAIT_S = 60.0


@contextmanager
def _turn(engine: Engine) -> Iterator[None]:
    """This process's turn to write to ``engine`` (SQLite only; PostgreSQL locks rows)."""
    if engine.dialect.name != "sqlite":
        yield
        return
    with _WRITERS_LOCK:
        lock = _WRITERS.setdefault(engine, Lock())
    acquired = lock.acquire(timeout=WRITER_WAIT_S)
    try:
        yield
    finally:
        if acquired:
            lock.release()


def _engine(source: OnDatabase | Engine) -> Engine:
    return source if isinstance(source, Engine) else source.engine


def _joined(engine: Engine) -> _Unit | None:
    unit = _current.get()
    return unit if unit is not None and unit.engine is engine else None


def in_unit(source: OnDatabase | Engine) -> bool:
    """Whether the calling code runs inside a unit of work on this database."""
    return _joined(_engine(source)) is not None


@contextmanager
def _open(engine: Engine, *, writes: bool, durably: bool) -> Iterator[Connection]:
    with _turn(engine) if writes else nullcontext(), engine.connect() as conn:
        if writes:
            conn.execution_options(**IMMEDIATE)
        with durable(conn) if durably else nullcontext():
            token = _current.set(_Unit(engine, conn, writes))
            try:
                with conn.begin():
                    yield conn
            finally:
                _current.reset(token)


@contextmanager
def reading(source: OnDatabase | Engine) -> Iterator[Connection]:
    """The use case's connection: the unit already open on this database (reading or
    writing), else a new reading unit for the block."""
    engine = _engine(source)
    unit = _joined(engine)
    if unit is not None:
        yield unit.conn
        return
    with _open(engine, writes=False, durably=False) as conn:
        yield conn


@contextmanager
def writing(source: OnDatabase | Engine, *, durable: bool = False) -> Iterator[Connection]:
    """The use case's connection for a change: the writing unit already open on this
    database, else a new one (committed when the outermost block ends, rolled back if
    it raises). ``durable``: commit with ``synchronous=FULL`` on SQLite (acknowledged
    writes: survey answers, requests, idempotent changes); a joined unit keeps the
    durability its opener chose. Raises :class:`WriteInReadUnit` inside a reading
    unit."""
    engine = _engine(source)
    unit = _joined(engine)
    if unit is not None:
        if not unit.writes:
            raise WriteInReadUnit(
                "this use case opened its unit of work for reading; open it with writing()"
            )
        yield unit.conn
        return
    with _open(engine, writes=True, durably=durable) as conn:
        yield conn
