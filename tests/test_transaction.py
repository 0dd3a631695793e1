"""The unit of work: one connection per use case, joined by every call inside, a write
lock taken up front on SQLite, and a refusal to write inside a reading unit."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from valuechain.services.transaction import WriteInReadUnit, in_unit, reading, writing
from valuechain.store.database import make_engine


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = make_engine(database_url, migrate=False, create=True)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS uow_probe (x INTEGER)"))
        conn.execute(text("DELETE FROM uow_probe"))
    return engine


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM uow_probe")).scalar_one())


def test_calls_inside_a_unit_share_its_connection_and_commit_together(engine: Engine) -> None:
    assert not in_unit(engine)
    with writing(engine) as outer:
        outer.execute(text("INSERT INTO uow_probe VALUES (1)"))
        with reading(engine) as inner_read, writing(engine) as inner_write:
            assert inner_read is outer and inner_write is outer
            inner_write.execute(text("INSERT INTO uow_probe VALUES (2)"))
        assert in_unit(engine)
        assert _count(engine) == 0  # nothing visible outside before the unit commits
    assert not in_unit(engine)
    assert _count(engine) == 2


def test_an_error_anywhere_in_the_unit_rolls_all_of_it_back(engine: Engine) -> None:
    with pytest.raises(ZeroDivisionError), writing(engine) as conn:
        conn.execute(text("INSERT INTO uow_probe VALUES (1)"))
        with writing(engine) as inner:
            inner.execute(text("INSERT INTO uow_probe VALUES (2)"))
        raise ZeroDivisionError
    assert _count(engine) == 0


def test_a_write_inside_a_reading_unit_is_refused(engine: Engine) -> None:
    with reading(engine), pytest.raises(WriteInReadUnit), writing(engine):
        pass  # pragma: no cover - never entered


def test_a_durable_unit_commits_at_full_safety_and_restores_the_default(
    tmp_path: Path,
) -> None:
    """``synchronous`` is a SQLite setting; PostgreSQL commits durably by default."""
    engine = make_engine(f"sqlite:///{tmp_path / 'durable.db'}", migrate=False, create=True)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE uow_probe (x INTEGER)"))
    with writing(engine, durable=True) as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        conn.execute(text("INSERT INTO uow_probe VALUES (1)"))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    assert _count(engine) == 1


def test_two_writers_take_turns_instead_of_failing(engine: Engine) -> None:
    """The second writer waits for the first (BEGIN IMMEDIATE on SQLite, row-free
    serialisation by the lock); neither fails with "database is locked"."""
    order: list[str] = []
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with writing(engine) as conn:
                order.append("second")
                n = conn.execute(text("SELECT count(*) FROM uow_probe")).scalar_one()
                conn.execute(text("INSERT INTO uow_probe VALUES (:n)"), {"n": n + 1})
        except BaseException as error:  # reported below, the thread must not swallow it
            errors.append(error)

    with writing(engine) as conn:
        n = conn.execute(text("SELECT count(*) FROM uow_probe")).scalar_one()
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.3)
        if engine.dialect.name == "sqlite":
            assert order == []  # still waiting for the write lock
        order.append("first")
        conn.execute(text("INSERT INTO uow_probe VALUES (:n)"), {"n": n + 1})
    thread.join(timeout=20)
    assert not errors
    assert _count(engine) == 2
    assert (
        order == ["first", "second"]
        if engine.dialect.name == "sqlite"
        else sorted(order) == ["first", "second"]
    )
