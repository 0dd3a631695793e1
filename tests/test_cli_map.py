"""`valuechain customers` and `valuechain map` on both databases."""

from __future__ import annotations

import json
import sys

import pytest
from typer.testing import CliRunner

from tests.test_store import small_map
from valuechain import Valuechain
from valuechain.cli.main import app, main


def test_customers_json_contract(vc: Valuechain, cli_env: dict[str, str]) -> None:
    vc.write_map(small_map())
    out = CliRunner().invoke(app, ["customers", "pack", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert {"unit", "direct", "indirect", "external", "orphan_results"} <= doc.keys()
    assert doc["unit"] == "pack"
    assert doc["direct"] == [
        {"unit": "ship", "name": "Shipping", "relations": ["consumes"], "results": ["boxes"]}
    ]
    assert doc["indirect"] == [{"unit": "retail", "name": "Retail chains", "via": ["ship"]}]
    assert doc["external"] == ["retail"]
    assert doc["orphan_results"] == ["scrap"]


def test_customers_human_table(vc: Valuechain, cli_env: dict[str, str]) -> None:
    vc.write_map(small_map())
    out = CliRunner().invoke(app, ["customers", "pack"])
    assert out.exit_code == 0
    assert "Direct customers" in out.stdout and "Shipping" in out.stdout
    assert "ship → " not in out.stdout and "Retail chains" in out.stdout
    assert "scrap" in out.stdout


def test_map_json_has_facts_per_unit(vc: Valuechain, cli_env: dict[str, str]) -> None:
    vc.write_map(small_map())
    out = CliRunner().invoke(app, ["map", "--json"])
    assert out.exit_code == 0
    units = {u["id"]: u for u in json.loads(out.stdout)["units"]}
    assert units["pack"]["depth"] == 2 and units["ship"]["depth"] == 1
    assert units["retail"]["depth"] == 0 and units["ops"]["depth"] is None
    assert units["pack"]["external"] == ["retail"]
    assert units["pack"]["orphan_results"] == ["scrap"]


def test_unknown_unit_is_a_message_not_a_traceback(
    vc: Valuechain,
    cli_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "argv", ["valuechain", "customers", "nobody"])
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "no unit with id 'nobody'" in err and "Traceback" not in err
