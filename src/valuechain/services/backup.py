"""Backup and restore of a whole Valuechain database (every organisation in it).

SQLite: the online backup API copies a consistent snapshot page by page while the app
keeps writing (WAL readers never block). PostgreSQL: ``pg_dump --format=custom`` and
``pg_restore --clean``, the server's own tools, so a backup restores with or without
Valuechain.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from valuechain.services import audit
from valuechain.services.errors import Conflict
from valuechain.services.organisation import Valuechain
from valuechain.services.transaction import reading, writing
from valuechain.store import organisation as store

BACKUP = "backup"
RESTORE = "restore"
PAGES_PER_STEP = 1024  # copy in steps so writers get the database between them


class BackupError(Conflict):
    """A backup or restore that could not be done; nothing was changed."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    bytes: int
    backend: str


def _sqlite_file(engine: Engine) -> Path:
    database = make_url(engine.url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    return Path(database)


def _libpq_url(engine: Engine) -> str:
    """The URL the PostgreSQL tools understand (no SQLAlchemy driver suffix)."""
    url = make_url(engine.url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} was not found; install the PostgreSQL client tools")
    return found


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()[-500:]}")


def backup(vc: Valuechain, path: Path | str, actor: audit.Actor | None = None) -> BackupResult:
    """Write a consistent copy of the whole database to ``path`` (a new file)."""
    target = Path(path)
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    backend = vc.engine.dialect.name
    if backend == "sqlite":
        source = sqlite3.connect(_sqlite_file(vc.engine))
        copy = sqlite3.connect(target)
        try:
            source.backup(copy, pages=PAGES_PER_STEP)
        finally:
            copy.close()
            source.close()
    else:
        _run(
            [
                _tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                f"--file={target}",
                _libpq_url(vc.engine),
            ]
        )
    result = BackupResult(target, target.stat().st_size, backend)
    audit.record(vc, BACKUP, actor or audit.Actor.command_line(), subject=str(target))
    return result


def restore(vc: Valuechain, path: Path | str, actor: audit.Actor | None = None) -> None:
    """Replace the whole database with the backup at ``path``. Every organisation in the
    database is replaced; app processes should be stopped while this runs."""
    source_path = Path(path)
    if not source_path.is_file():
        raise BackupError(f"no backup file at {source_path}")
    backend = vc.engine.dialect.name
    with reading(vc) as conn:
        before = store.map_versions(conn)
    vc.engine.dispose()
    if backend == "sqlite":
        try:
            source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
            source.execute("PRAGMA schema_version").fetchone()
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{source_path} is not a SQLite backup: {error}") from None
        live = sqlite3.connect(_sqlite_file(vc.engine))
        try:
            source.backup(live)
        finally:
            live.close()
            source.close()
    else:
        _run(
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={_libpq_url(vc.engine)}",
                str(source_path),
            ]
        )
    # Versions older than those cached by running processes would make them trust
    # their caches: move every version past what was there before the restore.
    with writing(vc) as conn:
        store.advance_map_versions(conn, before)
    vc.forget_cached_chain()
    audit.record(vc, RESTORE, actor or audit.Actor.command_line(), subject=str(source_path))
