"""`valuechain import` and `valuechain export` through the command line, on both
databases: exit codes, the summary, and problems on stderr without a traceback."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from valuechain import Valuechain
from valuechain.cli.main import app, main

SMALL = Path(__file__).resolve().parents[1] / "examples" / "bundle"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_import_prints_a_summary(vc: Valuechain, cli_env: dict[str, str]) -> None:
    code, out, err = run("import", str(SMALL))
    assert code == 0, err
    assert "Imported" in out and "by id" in out
    assert "units" in out and "12" in out and "links" in out
    assert vc.counts() == {"units": 12, "results": 9, "links": 10, "people": 5}
    code, out, _ = run("import", str(SMALL))
    assert code == 0
    # The second time every unit, result and person is an update.
    unit_row = next(line for line in out.splitlines() if "units" in line and "12" in line)
    assert unit_row.split("│")[2:5] == ["   12 ", "      12 ", "     0 "]


def test_import_replace(vc: Valuechain, cli_env: dict[str, str], tmp_path: Path) -> None:
    run("import", str(SMALL))
    (tmp_path / "units.csv").write_text("id,name,kind\nsolo,Solo,team\n")
    code, out, _ = run("import", str(tmp_path), "--replace")
    assert code == 0 and "replacing the whole organisation" in out
    assert vc.counts() == {"units": 1, "results": 0, "links": 0, "people": 0}


def test_bad_bundle_lists_every_problem_and_exits_2(
    vc: Valuechain, cli_env: dict[str, str], tmp_path: Path
) -> None:
    bundle = tmp_path / "bad"
    shutil.copytree(SMALL, bundle)
    with (bundle / "units.csv").open("a") as out:
        out.write("x1,X,tem,,\n")
    with (bundle / "links.csv").open("a") as out:
        out.write("boxes,nobody,pays,\n")
    (bundle / "budget.csv").write_text("year,amount\n")
    code, out, err = run("import", str(bundle))
    assert code == 2 and out == ""
    assert "nothing was changed. 3 problems:" in err
    assert "budget.csv: expected one of units.csv" in err
    assert (
        "units.csv line 14, column kind: expected one of team, department, "
        "external_customer, external_supplier; found 'tem'"
    ) in err
    assert "links.csv line 12, column customer_id: expected the id of a unit" in err
    assert "Traceback" not in err
    assert vc.counts()["units"] == 0


def test_missing_path_is_a_message(vc: Valuechain, cli_env: dict[str, str], tmp_path: Path) -> None:
    code, _, err = run("import", str(tmp_path / "nope"))
    assert code == 2
    assert "nothing at that path" in err and "Traceback" not in err


def test_export_then_import_elsewhere(
    vc: Valuechain, cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("import", str(SMALL))
    for target in ("csv", "book.xlsx"):
        code, out, _ = run("export", str(tmp_path / target))
        assert code == 0 and "Exported 12 units, 9 results, 10 links and 5 people" in out
        monkeypatch.setenv("VALUECHAIN_ORGANISATION", f"{vc.organisation}-{target}")
        code, _, err = run("import", str(tmp_path / target))
        assert code == 0, err
        copy = Valuechain(vc.engine, f"{vc.organisation}-{target}", create=True)
        assert copy.read_map() == vc.read_map()
        monkeypatch.setenv("VALUECHAIN_ORGANISATION", vc.organisation)
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == [
        "links.csv",
        "people.csv",
        "results.csv",
        "units.csv",
    ]


def test_export_over_a_file_is_a_message_with_exit_2(
    vc: Valuechain,
    cli_env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "taken").write_text("x")
    monkeypatch.setattr(sys, "argv", ["valuechain", "export", str(tmp_path / "taken")])
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code == 2
    err = " ".join(capsys.readouterr().err.split())  # the console wraps long lines
    assert "is a file; export needs a folder" in err and "Traceback" not in err


def test_a_failed_first_import_leaves_no_database_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Nothing was changed" holds for a new user's first import too: the database file
    the import made is gone again (a retry with the right path starts clean)."""
    target = tmp_path / "data" / "valuechain.db"
    monkeypatch.setenv("VALUECHAIN_DATABASE_URL", f"sqlite:///{target}")
    code, _, err = run("import", str(tmp_path / "no-such-bundle"))
    assert code == 2 and "nothing was changed" in err
    assert sorted(p.name for p in target.parent.iterdir()) == []
    code, _, err = run("import", str(SMALL))
    assert code == 0, err
    assert target.exists()
