"""CLI tables in an 80-column terminal (issue 17 item 4): cells fold what does not fit
instead of cutting names with an ellipsis, and health reads in names and words.
Real processes on the demo database, ``COLUMNS=80``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from valuechain.services.demo import demo_map

SRC = Path(__file__).resolve().parents[1] / "src"
# Table layout does not depend on the database kind: SQLite only, to stay quick.
pytestmark = pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", "from valuechain.cli.main import main; main()", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={
            **os.environ,
            **env,
            "COLUMNS": "80",
            "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
        },
    )
    return done.stdout


def _column(table: str, index: int) -> str:
    """The text of column ``index`` of a Rich table's body, every line of it joined
    without spaces (a folded cell continues on the next line)."""
    return "".join(
        line.split("│")[1 + index].strip() for line in table.splitlines() if line.startswith("│")
    ).replace(" ", "")


def test_map_at_80_columns_shows_every_whole_name(demo_cli_env: dict[str, str]) -> None:
    out = _run(demo_cli_env, "map")
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= 80
    names = _column(out, 1)
    for unit in demo_map().units:
        assert unit.name.replace(" ", "") in names, unit.name


def test_health_at_80_columns_names_units_and_parts(demo_cli_env: dict[str, str]) -> None:
    out = _run(demo_cli_env, "health")
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= 80
    providers = _column(out, 0)
    assert "Productionplanning" in providers and "production-planning" not in providers
    assert "view" not in out and "SLA" not in out
