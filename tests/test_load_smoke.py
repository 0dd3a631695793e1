"""A smoke test of the load test (bench/load.py with bench/locustfile.py): 3 simulated
people for 10 s against a real server on a fresh SQLite demo, so the locustfile
cannot rot. It measures nothing; the figures are in docs/benchmarks.md."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from bench.load import _free_port, _wait, arguments, run

from valuechain import Valuechain

KINDS = ("page: ", "api: ", "survey: ", "request: ")


def test_the_load_test_runs_without_errors() -> None:
    result = run(arguments(["--database", "sqlite", "--users", "3", "--duration", "10"]))
    kinds = {k["name"]: k for k in result["kinds"]}
    total = kinds.pop("Aggregated")
    assert result["survey_links"] > 0
    assert kinds["api: sign in"]["requests"] == 3
    assert total["requests"] > 3
    assert total["failures"] == 0, result["failures"]
    assert result["tracebacks"] == {"server": 0}, result["first_tracebacks"]
    assert all(name.startswith(KINDS) for name in kinds)
    memory = result["memory_mib"]["server"]
    assert 0 < memory["start"] <= memory["peak"]


def test_serve_with_workers_survives_processes_that_start_slowly(tmp_path: Path) -> None:
    """Every process of ``serve --workers 2`` takes 7 s to start (a sitecustomize that
    sleeps, as a busy machine's imports did in the load test): the server must still
    come up, not kill and restart its processes forever (uvicorn's 5 s default)."""
    slow = tmp_path / "slow"
    slow.mkdir()
    (slow / "sitecustomize.py").write_text("import time\ntime.sleep(7)\n", encoding="utf-8")
    port = _free_port()
    url = f"sqlite:///{tmp_path / 'slow.db'}"
    Valuechain.open(url, create=True).engine.dispose()  # serve opens, never creates
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(slow), os.environ.get("PYTHONPATH", "")]),
        "VALUECHAIN_DATABASE_URL": url,
    }
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "valuechain"), "serve", "--port", str(port),
             "--workers", "2"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            _wait(f"http://127.0.0.1:{port}/", server, log, timeout=90)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
    assert "died" not in log.read_text(encoding="utf-8")
