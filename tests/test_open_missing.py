"""Opening what does not exist is an error, unless a command makes it on purpose.

A command pointed at a mistyped database path or organisation says so in one line and
writes nothing: no file, no folder, no organisation, no migration. ``valuechain
import``, ``valuechain demo``, ``valuechain account create`` and ``valuechain
restore`` make the database and the organisation they are pointed at.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from tests.conftest import TEST_SECURITY
from tests.signin import PASSWORD
from valuechain import Valuechain
from valuechain.cli.main import app as cli
from valuechain.services.errors import NotFound
from valuechain.store import organisation as org_store
from valuechain.store.database import MissingDatabase, make_engine

SRC = Path(__file__).resolve().parents[1] / "src"
SMALL = Path(__file__).resolve().parents[1] / "examples" / "bundle"
# The console script, run in a fresh interpreter on this checkout's sources.
MAIN = "import sys; from valuechain.cli.main import main; sys.argv[0] = 'valuechain'; main()"

# One invocation of every command that reads or changes an existing organisation,
# with arguments that pass the command line's own checks.
COMMANDS: list[list[str]] = [
    ["audit"],
    ["commitments"],
    ["watermelon"],
    ["capacity", "u1"],
    ["backup", "{tmp}/backup.db"],
    ["export", "{tmp}/out"],
    ["change"],
    ["connect"],
    ["lineofsight", "u1"],
    ["flow"],
    ["customers", "u1"],
    ["map"],
    ["scores"],
    ["reliability"],
    ["drivers"],
    ["threshold"],
    ["health"],
    ["workspace", "u1", "u2"],
    ["report"],
    ["retention"],
    ["sla"],
    ["account", "update", "a@example.org", "--disable"],
    ["account", "list"],
    ["agreement", "list"],
    ["agreement", "show", "a1"],
    ["agreement", "propose", "a1", "--unit", "u1"],
    ["agreement", "agree", "a1", "--unit", "u1"],
    ["agreement", "review", "a1", "--unit", "u1"],
    ["agreement", "due", "--until", "2026-01-01"],
    ["campaign", "create", "c1", "--instrument", "pulse"],
    ["campaign", "invite", "c1"],
    ["campaign", "remind", "c1"],
    ["campaign", "close", "c1"],
    ["campaign", "list"],
    ["campaign", "status", "c1"],
    ["notify", "preferences", "p1"],
    ["notify", "webhook"],
    ["notify", "outbox"],
    ["notify", "drain"],
    ["action", "list"],
    ["action", "status", "u1", "u2", "x1", "done"],
    ["person", "export", "p1"],
    ["person", "erase", "p1", "--yes"],
    ["request", "new", "--from", "u1", "--to", "u2", "--title", "t"],
    ["request", "list"],
    ["request", "show", "r1"],
    ["request", "ack", "r1"],
    ["request", "start", "r1"],
    ["request", "wait", "r1"],
    ["request", "resolve", "r1"],
    ["request", "close", "r1"],
    ["request", "reopen", "r1"],
    ["request", "thank", "r1"],
    ["request", "import", "{tmp}/requests.csv"],
]


def _run(args: list[str], tmp: Path, env: dict[str, str]) -> BaseException | None:
    """The exception a CLI invocation ended with (``None``: it succeeded)."""
    argv = [a.replace("{tmp}", str(tmp)) for a in args]
    result = CliRunner().invoke(cli, argv, env=env, input="")
    return result.exception


def _files(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


def test_make_engine_refuses_a_missing_file_and_creates_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'not' / 'there.db'}"
    with pytest.raises(MissingDatabase, match=r"no database file .*there\.db"):
        make_engine(url)
    with pytest.raises(MissingDatabase):
        make_engine(url, migrate=False)
    assert _files(tmp_path) == set()
    engine = make_engine(url, create=True)
    try:
        assert (tmp_path / "not" / "there.db").is_file()
        assert "organisations" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    make_engine(url).dispose()  # now it exists: opened as before


def test_in_memory_sqlite_needs_no_file() -> None:
    engine = make_engine("sqlite://")
    try:
        assert "organisations" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_open_refuses_a_missing_database(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no database file"):
        Valuechain.open(f"sqlite:///{tmp_path / 'sub' / 'x.db'}", "acme")
    assert _files(tmp_path) == set()
    vc = Valuechain.open(f"sqlite:///{tmp_path / 'sub' / 'x.db'}", "acme", create=True)
    try:
        assert vc.read_map().units == []
    finally:
        vc.engine.dispose()


def test_open_refuses_an_unknown_organisation(database_url: str, tmp_path: Path) -> None:
    # The database exists (with another organisation in it); this one does not.
    first = Valuechain.open(database_url, "known", create=True, security=TEST_SECURITY)
    first.engine.dispose()
    with pytest.raises(NotFound, match="no organisation 'nobody'"):
        Valuechain.open(database_url, "nobody")
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert not org_store.has_organisation(conn, "nobody")
            assert org_store.has_organisation(conn, "known")
        with pytest.raises(NotFound, match="no organisation 'nobody'"):
            Valuechain(engine, "nobody")
        made = Valuechain(engine, "nobody", create=True)
        assert Valuechain(engine, "nobody").org_id == made.org_id
    finally:
        engine.dispose()


def test_open_writes_nothing_to_an_empty_database_for_an_unknown_organisation(
    tmp_path: Path,
) -> None:
    # An empty file (say, touched by a script) is not migrated by a refused open.
    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(NotFound, match="no organisation 'default'"):
        Valuechain.open(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}", migrate=False)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_every_command_refuses_a_missing_database(args: list[str], tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "requests.csv").touch()
    missing = tmp_path / "nowhere" / "valuechain.db"
    env = {"VALUECHAIN_DATABASE_URL": f"sqlite:///{missing}", "VALUECHAIN_ORGANISATION": "acme"}
    before = _files(work)
    error = _run(args, work, env)
    assert isinstance(error, NotFound), error
    assert "no database file" in str(error)
    assert not missing.parent.exists()
    assert _files(work) == before


def test_every_command_refuses_an_unknown_organisation(vc: Valuechain, tmp_path: Path) -> None:
    url = vc.engine.url.render_as_string(hide_password=False)
    env = {"VALUECHAIN_DATABASE_URL": url, "VALUECHAIN_ORGANISATION": vc.organisation + "-typo"}
    (tmp_path / "requests.csv").touch()
    for args in COMMANDS:
        error = _run(args, tmp_path, env)
        assert isinstance(error, NotFound), (args, error)
        assert f"no organisation '{vc.organisation}-typo'" in str(error), args
    with vc.engine.connect() as conn:
        assert not org_store.has_organisation(conn, vc.organisation + "-typo")


def test_import_and_account_create_make_the_database_on_purpose(tmp_path: Path) -> None:
    for args, given in (
        (["import", str(SMALL)], ""),
        (["account", "create", "boss@example.org", "--role", "admin"], f"{PASSWORD}\n" * 2),
    ):
        path = tmp_path / args[0] / "new.db"
        env = {"VALUECHAIN_DATABASE_URL": f"sqlite:///{path}", "VALUECHAIN_ORGANISATION": "new"}
        result = CliRunner().invoke(cli, args, env=env, input=given)
        assert result.exit_code == 0, (result.stdout, result.exception)
        engine = make_engine(f"sqlite:///{path}")
        try:
            with engine.connect() as conn:
                assert org_store.has_organisation(conn, "new")
        finally:
            engine.dispose()


def _process(code: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {
        **os.environ,
        **env,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, *code], capture_output=True, text=True, env=full, timeout=120
    )


@pytest.mark.parametrize(
    "code",
    [
        ["-c", MAIN, "map"],
        ["-c", MAIN, "worker"],
    ],
    ids=["map", "worker"],
)
def test_a_process_pointed_at_a_missing_database_says_one_line(
    code: list[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "valuechain.db"
    done = _process(
        code,
        {
            "VALUECHAIN_DATABASE_URL": f"sqlite:///{missing}",
            "VALUECHAIN_QUEUE_URL": f"sqlite:///{tmp_path / 'queue' / 'q.db'}",
        },
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: no database file"), done.stderr
    assert not missing.parent.exists()
    assert not (tmp_path / "queue").exists()


SERVING = [
    ["-c", MAIN, "serve", "--port", "1"],
    ["-c", "from valuechain.web.asgi import create; create()"],
]


@pytest.mark.parametrize("code", SERVING, ids=["serve", "asgi"])
def test_serving_a_database_of_other_organisations_refuses_a_mistyped_one(
    code: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "served.db"
    Valuechain.open(f"sqlite:///{path}", "acme", create=True).engine.dispose()
    done = _process(
        code,
        {"VALUECHAIN_DATABASE_URL": f"sqlite:///{path}", "VALUECHAIN_ORGANISATION": "acne"},
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: ") and "acne" in lines[0], done.stderr
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert not org_store.has_organisation(conn, "acne")
    finally:
        engine.dispose()


def test_serving_a_fresh_deployment_makes_it_ready_for_its_first_admin(tmp_path: Path) -> None:
    """A missing file or a database without any organisation is a first start: serving
    makes the organisation so /setup can create its first admin."""
    path = tmp_path / "new" / "served.db"
    vc = Valuechain.serve(f"sqlite:///{path}", "acme")
    try:
        assert path.exists()
        with vc.engine.connect() as conn:
            assert org_store.has_organisation(conn, "acme")
    finally:
        vc.engine.dispose()
