"""A user's mistake on the command line is one line saying what is wrong and what to
do, exit code 2, no traceback and nothing written (issue 17 item 8)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from valuechain.cli.main import app


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout + result.stderr


@pytest.mark.parametrize("command", ["demo", "serve"])
def test_a_port_in_use_is_one_line_and_nothing_is_written(
    command: str, busy_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VALUECHAIN_DATABASE_URL", raising=False)
    if command == "serve":  # serve needs a database: an empty organisation will do
        monkeypatch.setenv("VALUECHAIN_DATABASE_URL", f"sqlite:///{tmp_path / 'org.db'}")
        assert _run("import", str(Path(__file__).parents[1] / "examples" / "bundle"))[0] == 0
    before = sorted(p.name for p in tmp_path.iterdir())
    extra = ["--no-browser"] if command == "demo" else []
    code, out = _run(command, "--port", str(busy_port), *extra)
    assert code == 2
    assert f"port {busy_port} on 127.0.0.1 is in use" in out
    assert f"--port {busy_port + 1}" in out and "Traceback" not in out
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no demo database


@pytest.mark.parametrize("port", ["0", "65536", "http"])
def test_a_port_that_is_no_port_is_refused(port: str) -> None:
    code, out = _run("demo", "--port", port, "--no-browser")
    assert code == 2 and "--port" in out and "Traceback" not in out
