"""Shared fixtures: every database test runs on a real SQLite file and on the real
PostgreSQL server (a throwaway database created for the session and dropped after)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest

from valuechain import Valuechain
from valuechain.services.security import TEST_HASHING, Security
from valuechain.store.database import make_engine

# Production password hashing costs ~0.1 s a hash; tests make hundreds of them.
TEST_SECURITY = Security(hashing=TEST_HASHING)

PG_ADMIN_URL = os.environ.get("VALUECHAIN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


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
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of a real database: a new SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'valuechain.db'}"
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
    yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def organisation() -> str:
    """A new organisation key per test, so tests sharing a database never collide."""
    return f"org-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def vc(database_url: str, organisation: str) -> Iterator[Valuechain]:
    """An empty organisation on a real database (with cheap password hashing)."""
    engine = make_engine(database_url, create=True)
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
