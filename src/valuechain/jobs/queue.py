"""Which task queue the jobs run on: huey with SQLite storage by default (no server,
a file next to the database), Redis in production (several worker machines).

``VALUECHAIN_QUEUE_URL`` chooses: ``sqlite:///path/to/queue.db`` or
``redis://host:port/db``. Without it the queue is the file ``<database>-queue.db``
beside a SQLite database, or ``./valuechain-queue.db`` for PostgreSQL.
``VALUECHAIN_QUEUE_NAME`` (default ``valuechain``) names the queue, so several
deployments can share one Redis server.
"""

from __future__ import annotations

from pathlib import Path

from huey import Huey, RedisHuey, SqliteHuey
from sqlalchemy.engine import make_url

from valuechain.services.errors import ValuechainError
from valuechain.settings import settings
from valuechain.store.database import database_url

FALLBACK_FILE = "valuechain-queue.db"


def queue_url(db_url: str | None = None) -> str:
    """The queue for the database at ``db_url`` (default: the configured database)."""
    explicit = settings().queue_url
    if explicit:
        return explicit
    parsed = make_url(database_url(db_url))
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(str(parsed.database)).expanduser().resolve()
        return f"sqlite:///{path.with_name(path.stem + '-queue.db')}"
    return f"sqlite:///{Path(FALLBACK_FILE).resolve()}"


def make_huey(url: str, name: str | None = None) -> Huey:
    """A huey instance over the storage ``url`` names (see the module docstring).

    Results of tasks are not kept (the jobs' effects are in the database), so the
    queue never fills up with results nobody reads."""
    name = name or settings().queue_name
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :]).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(path), results=False, utc=True)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=url, results=False, utc=True)
    raise ValuechainError(
        f"queue URL {url!r}: expected sqlite:///path/to/queue.db or redis://host:port/db"
    )
