"""Engines for the embedded default (SQLite) and production (PostgreSQL), with
migrations applied on first use."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, literal, select, text
from sqlalchemy.engine import make_url

from valuechain.settings import settings

if TYPE_CHECKING:
    from alembic.config import Config

CACHE_KIB = 65_536
MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(url: str | None = None) -> str:
    """The URL to use: the argument, else ``VALUECHAIN_DATABASE_URL`` (default: a SQLite
    file in the working folder). ``postgresql://`` is routed to the psycopg 3 driver."""
    raw = url or settings().database_url
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers proceed while one writer commits; NORMAL is durable across
    # application crashes in WAL mode (FULL is set per write where a crash test needs it).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 64 MiB page cache: bulk imports touch B-trees far larger than the 2 MiB default.
    cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    cursor.close()


@contextmanager
def durable(conn: Connection) -> Iterator[None]:
    """On SQLite, commit what runs inside with ``PRAGMA synchronous=FULL``, so an
    acknowledged write survives a power loss too (the connection's default, NORMAL in
    WAL mode, survives a process crash but may lose the last commits on power loss;
    see https://www.sqlite.org/pragma.html#pragma_synchronous). A no-op elsewhere:
    PostgreSQL commits with ``synchronous_commit`` on, its default. Use it around the
    transaction of every write the product acknowledges (survey answers, idempotent
    changes)."""
    if conn.dialect.name != "sqlite":
        yield
        return
    # Straight to the driver: SQLite refuses to change the safety level inside a
    # transaction, and a statement through SQLAlchemy would begin one.
    raw = conn.connection.driver_connection
    assert raw is not None
    raw.execute("PRAGMA synchronous=FULL")
    try:
        yield
    finally:
        raw.execute("PRAGMA synchronous=NORMAL")


# The execution option that makes SQLite take the write lock when a transaction begins.
IMMEDIATE = {"sqlite_begin_immediate": True}


def _sqlite_begin(conn: Connection) -> None:
    # pysqlite begins a transaction lazily, at the first write, as BEGIN DEFERRED: a
    # transaction that read first then fails to upgrade its lock ("database is locked")
    # when another writer is ahead, and busy_timeout cannot help. A write transaction
    # opened with the IMMEDIATE option takes the lock up front and waits for it instead.
    # https://www.sqlite.org/lang_transaction.html#deferred_immediate_and_exclusive_transactions
    if conn.get_execution_options().get("sqlite_begin_immediate"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class MissingDatabase(LookupError):
    """A database file that does not exist, opened without ``create``."""


def sqlite_file(url: str | None = None) -> Path | None:
    """The file a SQLite ``url`` names (the default URL included); ``None`` for another
    database or an in-memory one."""
    parsed = make_url(database_url(url))
    if parsed.get_backend_name() != "sqlite":
        return None
    name = parsed.database
    if not name or name == ":memory:" or name.startswith("file:") or parsed.query.get("uri"):
        return None
    return Path(name)


def make_engine(url: str | None = None, *, migrate: bool = True, create: bool = False) -> Engine:
    """Create an engine for ``url`` and bring its schema to the newest migration.

    A SQLite file that does not exist is made (with its folders) only with ``create``;
    without, :class:`MissingDatabase` is raised and nothing is written. A command
    pointed at a mistyped path must not leave an empty database behind."""
    resolved = database_url(url)
    parsed = make_url(resolved)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_file(resolved)
        if path is not None and not path.exists():
            if not create:
                raise MissingDatabase(
                    f"no database file {path} (check VALUECHAIN_DATABASE_URL; only an "
                    "import, the demo or a new account makes a new one)"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(resolved, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        engine = create_engine(resolved, pool_pre_ping=True)
    if migrate:
        upgrade(engine)
    return engine


def _alembic_config() -> Config:
    from alembic.config import Config  # here: alembic is a slow import, see is_current

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def is_current(engine: Engine) -> bool:
    """True when the database is at every newest migration (all heads)."""
    # Imported here: alembic is slow to import and is only needed once a database opens.
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(_alembic_config()).get_heads())
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads()) == heads


def upgrade(engine: Engine) -> None:
    """Apply pending migrations; concurrent first starts on PostgreSQL are serialised."""
    from alembic import command  # here: alembic is a slow import, see is_current

    if is_current(engine):
        return
    cfg = _alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(7263)"))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


@dataclass(frozen=True)
class Contents:
    """What a database holds: whether each table has rows (Alembic's bookkeeping left
    out), the organisations' slugs, and the (slug, account id) pairs asked about."""

    rows: dict[str, bool]
    organisations: list[str]
    accounts: set[tuple[str, str]]


def contents(engine: Engine, accounts: Iterable[tuple[str, str]] = ()) -> Contents:
    """What the database at ``engine`` holds, read without changing anything (no
    migration runs); ``accounts``: the (organisation slug, account id) pairs to look
    for. A database without tables holds nothing."""
    tables = MetaData()
    tables.reflect(engine)
    found: set[tuple[str, str]] = set()
    with engine.connect() as conn:
        # Whether a row exists, not how many: a big database answers as fast.
        rows = {
            name: conn.execute(select(literal(1)).select_from(table).limit(1)).first() is not None
            for name, table in tables.tables.items()
            if name != "alembic_version"
        }
        organisations = tables.tables.get("organisations")
        slugs: list[str] = []
        if organisations is not None:
            slugs = [str(s) for s in conn.execute(select(organisations.c.slug)).scalars()]
        people = tables.tables.get("accounts")
        if organisations is not None and people is not None:
            for slug, account_id in accounts:
                hit = conn.execute(
                    select(people.c.id)
                    .join(organisations, organisations.c.id == people.c.org_id)
                    .where(organisations.c.slug == slug, people.c.id == account_id)
                ).first()
                if hit is not None:
                    found.add((slug, account_id))
    return Contents(rows, slugs, found)


def ping(engine: Engine) -> None:
    """Run one trivial query on ``engine``; raises whatever the driver raises when the
    database cannot be reached (the readiness probe, ``web/probe.py``)."""
    with engine.connect() as conn:
        conn.execute(select(literal(1)))
