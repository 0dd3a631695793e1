"""A smoke test of the load test (bench/load.py with bench/locustfile.py): 3 simulated
people for 10 s against a real server on a fresh SQLite demo, so the locustfile
cannot rot. It measures nothing; the figures are in docs/benchmarks.md."""

from __future__ import annotations

from bench.load import arguments, run

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
