"""`valuechain backup` and `restore` on both databases, with writers running during
the backup: the copy is consistent and a restore brings back exactly what was saved."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import PG_ADMIN_URL, TEST_SECURITY, _pg_admin
from valuechain import Valuechain
from valuechain.cli.main import app
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.unit import Unit, UnitKind
from valuechain.services import audit
from valuechain.services.backup import BackupError, backup, restore
from valuechain.services.demo import demo_map
from valuechain.store.database import make_engine


@pytest.fixture(params=["sqlite", "postgresql"])
def own_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own: a restore replaces every organisation in it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'live.db'}"
        return
    request.getfixturevalue("postgres_url")  # skip or fail exactly as the other tests do
    name = f"valuechain_backup_{uuid.uuid4().hex[:10]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_under_load_then_restore_gives_back_the_saved_organisation(
    own_url: str, tmp_path: Path
) -> None:
    engine = make_engine(own_url, create=True)
    vc = Valuechain(engine, "acme", security=TEST_SECURITY, create=True)
    vc.write_map(demo_map())
    saved = vc.read_map()
    busy = Valuechain(engine, "busy", security=TEST_SECURITY, create=True)
    stop = threading.Event()
    written: list[int] = []

    def keep_writing() -> None:
        # Another organisation keeps committing one unit at a time during the backup.
        i = 0
        while not stop.is_set():
            busy.write_map(OrganisationMap(units=[Unit(f"u{i:05d}", f"Unit {i}", UnitKind.TEAM)]))
            written.append(i)
            i += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while len(written) < 5:
            stop.wait(0.01)
        result = backup(vc, tmp_path / "valuechain.backup")
    finally:
        stop.set()
        writer.join()
    assert result.bytes > 0 and len(written) >= 5

    vc.write_map(OrganisationMap(units=[Unit("solo", "Solo", UnitKind.TEAM)]), replace=True)
    restore(vc, result.path)

    assert vc.read_map() == saved
    # The busy organisation comes back as a prefix of what was written: no torn write.
    ids = sorted(u.id for u in busy.read_map().units)
    assert ids == [f"u{i:05d}" for i in range(len(ids))]
    assert 0 < len(ids) <= len(written)
    actions = [e.action for e in audit.read_page(vc).events]
    assert "restore" in actions
    engine.dispose()


def test_bad_paths_are_clear_errors(own_url: str, tmp_path: Path) -> None:
    vc = Valuechain(make_engine(own_url, create=True), "acme", security=TEST_SECURITY, create=True)
    (tmp_path / "taken").write_text("x")
    with pytest.raises(BackupError, match="already exists"):
        backup(vc, tmp_path / "taken")
    with pytest.raises(BackupError, match="no backup file"):
        restore(vc, tmp_path / "missing")
    vc.engine.dispose()


def test_cli_backup_and_restore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("VALUECHAIN_DATABASE_URL", url)
    vc = Valuechain(make_engine(url, create=True), "default", security=TEST_SECURITY, create=True)
    vc.write_map(demo_map())
    runner = CliRunner()
    out = runner.invoke(app, ["backup", str(tmp_path / "b.db")])
    assert out.exit_code == 0, out.output
    assert "Backed up the sqlite database" in out.stdout
    vc.write_map(OrganisationMap(), replace=True)
    refused = runner.invoke(app, ["restore", str(tmp_path / "b.db")], input="n\n")
    assert refused.exit_code != 0 and vc.counts()["units"] == 0
    out = runner.invoke(app, ["restore", str(tmp_path / "b.db"), "--yes"])
    assert out.exit_code == 0, out.output
    assert vc.counts()["units"] == len(demo_map().units)
    vc.engine.dispose()
