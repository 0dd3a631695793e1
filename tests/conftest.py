"""Shared fixtures: every database test runs on a real SQLite file and on the real
PostgreSQL server (a throwaway database created for the session and dropped after).

Migrating a database takes Alembic ~0.4 s, so it happens once per session and kind:
each SQLite test gets a copy of a file migrated once, and the PostgreSQL tests share
one database migrated once (each test works in its own organisation). Tests of the
migrations themselves start from ``fresh_url``, an empty database. Writing the demo
takes seconds (a minute on a busy PostgreSQL), so ``demo_vc`` is a copy of a database
the demo was written to once per session."""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
from sqlalchemy import Engine

from valuechain import Valuechain
from valuechain.services.demo import ensure_demo
from valuechain.services.organisation import DEFAULT_ORGANISATION
from valuechain.services.security import TEST_HASHING, Security
from valuechain.store.database import make_engine

# Production password hashing costs ~0.1 s a hash; tests make hundreds of them.
TEST_SECURITY = Security(hashing=TEST_HASHING)

PG_ADMIN_URL = os.environ.get("VALUECHAIN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_BASE_URL = PG_ADMIN_URL.rsplit("/", 1)[0]
# The organisation the demo is written to in ``demo_vc``'s databases (the one a bare
# ``Valuechain.open(url)`` opens, as the demo command does).
DEMO_ORGANISATION = DEFAULT_ORGANISATION


def _pg_admin():  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session; missing server = skip,
    except under CI=true where it is a failure."""
    try:
        admin = _pg_admin()
    except Exception as error:  # the server is down or unreachable
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true: {error}")
        pytest.skip(f"PostgreSQL not reachable: {error}")
    name = f"valuechain_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_BASE_URL}/{name}"
    make_engine(url).dispose()  # migrated once here, not by every test's engine
    yield url
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the newest schema, once per session, to be copied."""
    path = tmp_path_factory.mktemp("template") / "valuechain.db"
    _checkpointed(make_engine(f"sqlite:///{path}", create=True))
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of a real, migrated database: a new SQLite file (a copy of the session's
    template), or the session's PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "valuechain.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database (a file, or a new PostgreSQL database)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    try:
        admin = _pg_admin()
    except Exception as error:  # the server is down
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true: {error}")
        pytest.skip(f"PostgreSQL not reachable: {error}")
    name = f"valuechain_fresh_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{PG_BASE_URL}/{name}"
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _checkpointed(engine: Engine) -> None:
    """Close ``engine`` with every SQLite write in the main file, ready to be copied."""
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_demo_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file holding the demo organisation, once per session."""
    path = tmp_path_factory.mktemp("demo-template") / "valuechain.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}", migrate=False)
    assert ensure_demo(Valuechain(engine, DEMO_ORGANISATION, create=True, security=TEST_SECURITY))
    _checkpointed(engine)
    return path


@pytest.fixture(scope="session")
def postgres_demo_template(postgres_url: str) -> Iterator[str]:
    """The name of a PostgreSQL database holding the demo organisation, written once
    per session; nobody connects to it after, so it can be a ``TEMPLATE``."""
    name = f"valuechain_demo_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(f"{PG_BASE_URL}/{name}")
    assert ensure_demo(Valuechain(engine, DEMO_ORGANISATION, create=True, security=TEST_SECURITY))
    engine.dispose()
    yield name
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def demo_copy(request: pytest.FixtureRequest, kind: str, folder: Path) -> Iterator[str]:
    """The URL of a new database of its own (a file in ``folder`` for SQLite) holding
    the demo organisation (``DEMO_ORGANISATION``) as ``ensure_demo`` writes it: a copy
    of the session's demo database of ``kind``, so its user may change anything."""
    if kind == "sqlite":
        path = folder / "demo.db"
        shutil.copyfile(request.getfixturevalue("sqlite_demo_template"), path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("postgres_demo_template")
    name = f"valuechain_democopy_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield f"{PG_BASE_URL}/{name}"
    finally:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def demo_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new database holding the demo organisation (see ``demo_copy``)."""
    with demo_copy(request, request.param, tmp_path) as url:
        yield url


@pytest.fixture
def demo_vc(demo_url: str) -> Iterator[Valuechain]:
    """The demo organisation on a database of its own (see ``demo_url``), as
    ``ensure_demo(vc)`` on an empty ``vc`` leaves it (with cheap password hashing)."""
    engine = make_engine(demo_url, migrate=False)
    yield Valuechain(engine, DEMO_ORGANISATION, security=TEST_SECURITY)
    engine.dispose()


@pytest.fixture
def organisation() -> str:
    """A new organisation key per test, so tests sharing a database never collide."""
    return f"org-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def vc(database_url: str, organisation: str) -> Iterator[Valuechain]:
    """An empty organisation on a real database (with cheap password hashing)."""
    # ``database_url`` is migrated already: skip Alembic's check of every migration file.
    engine = make_engine(database_url, migrate=False, create=True)
    yield Valuechain(engine, organisation, create=True, security=TEST_SECURITY)
    engine.dispose()


@pytest.fixture
def cli_env(
    database_url: str, organisation: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """Environment for running the CLI against the test database and organisation."""
    monkeypatch.setenv("VALUECHAIN_DATABASE_URL", database_url)
    monkeypatch.setenv("VALUECHAIN_ORGANISATION", organisation)
    return {"VALUECHAIN_DATABASE_URL": database_url, "VALUECHAIN_ORGANISATION": organisation}


@pytest.fixture
def demo_cli_env(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for running the CLI against ``demo_vc``'s database and organisation."""
    monkeypatch.setenv("VALUECHAIN_DATABASE_URL", demo_url)
    monkeypatch.setenv("VALUECHAIN_ORGANISATION", DEMO_ORGANISATION)
    return {"VALUECHAIN_DATABASE_URL": demo_url, "VALUECHAIN_ORGANISATION": DEMO_ORGANISATION}


class _Inbox:
    """What a loopback SMTP server received: ``(envelope recipients, message)``."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        message = message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        """The messages delivered to ``address``."""
        return [m for rcpts, m in self.messages if address in rcpts]


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Inbox]:
    """A real SMTP server (aiosmtpd) on a free loopback port; VALUECHAIN_SMTP_URL points
    at it for the test."""
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    monkeypatch.setenv("VALUECHAIN_SMTP_URL", f"smtp://127.0.0.1:{controller.port}")
    monkeypatch.setenv("VALUECHAIN_MAIL_FROM", "Valuechain <valuechain@example.org>")
    try:
        yield inbox
    finally:
        controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
