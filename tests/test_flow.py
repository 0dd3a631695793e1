"""Flow over the stored map (`valuechain flow`) on both databases: the demo's story,
the seed's worked example, what-ifs, money, bad specs and the JSON contract."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import pytest
from typer.testing import CliRunner

from valuechain import Valuechain
from valuechain.cli.main import app, main
from valuechain.domain.link import Link, Relation
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.result import Result, ResultKind
from valuechain.domain.unit import Unit, UnitKind
from valuechain.services.errors import NotFound
from valuechain.services.flow import InvalidWhatIf, flow

CONSUMES, PAYS, ADDS, DEPENDS = (
    Relation.CONSUMES,
    Relation.PAYS,
    Relation.ADDS_TO,
    Relation.DEPENDS_ON,
)
TEAM, CUSTOMER = UnitKind.TEAM, UnitKind.EXTERNAL_CUSTOMER
INT, FIN, BYP = ResultKind.INTERMEDIATE, ResultKind.FINISHED, ResultKind.BYPRODUCT


def seed_example() -> OrganisationMap:
    """The seed's worked example: a bottleneck of 100 a week, the next step 110,
    the external customer asking 200; plus a side result that carries nothing."""
    return OrganisationMap(
        units=[
            Unit("cut", "Cutting", TEAM),
            Unit("weld", "Welding", TEAM),
            Unit("ship", "Shipping", TEAM),
            Unit("qa", "Quality", TEAM),
            Unit("buyer", "Buyer", CUSTOMER),
        ],
        results=[
            Result("parts", "cut", "Cut parts", INT, 300.0, 2.0),
            Result("frames", "weld", "Welded frames", INT, 100.0, 10.0),
            Result("sent", "ship", "Shipped frames", FIN, 110.0, 1.0, 50.0),
            Result("weld-log", "weld", "Weld log", BYP, 5.0, 1.0),
            Result("checks", "qa", "Checks", INT, 1000.0, 0.5),
        ],
        links=[
            Link("parts", "weld", CONSUMES, 200.0),
            Link("frames", "ship", CONSUMES, 200.0),
            Link("frames", "qa", ADDS, 200.0),
            Link("sent", "buyer", PAYS, 200.0),
            Link("weld-log", "qa", CONSUMES, 5.0),
            Link("checks", "ship", DEPENDS, 200.0),
        ],
    )


def _stage(doc: dict[str, Any], result_id: str) -> dict[str, Any]:
    return next(s for s in doc["stages"] if s["id"] == result_id)


def _no_inf_nan(value: Any) -> None:
    if isinstance(value, float):
        assert math.isfinite(value)
    elif isinstance(value, dict):
        for v in value.values():
            _no_inf_nan(v)
    elif isinstance(value, list):
        for v in value:
            _no_inf_nan(v)


def test_seed_worked_example(vc: Valuechain) -> None:
    vc.write_map(seed_example())
    doc = flow(vc)
    assert doc["throughput"] == 100 and doc["bottleneck"] == "frames"
    # adds_to, depends_on and byproducts carry no items; only the chain takes part.
    assert {s["id"] for s in doc["stages"]} == {"parts", "frames", "sent"}
    assert _stage(doc, "frames")["utilization"] == 1.0
    assert _stage(doc, "frames")["inventory_growth"] == 100  # 200 arrive, 100 processed
    assert doc["money"] == {"revenue": 5000.0, "variable_cost": 1300.0, "throughput": 3700.0}

    raised = flow(vc, ["frames=+20%"])
    assert raised["throughput"] == 110 and raised["bottleneck"] == "sent"
    what_if = raised["what_if"]
    assert what_if["throughput_change"] == 10 and what_if["new_bottleneck"] == "sent"
    growth = {g["id"]: g["growth"] for g in what_if["inventory_growth"]}
    # 10 a week pile up in front of the new bottleneck; the supply still pushes 200.
    assert growth == {"sent": 10.0, "frames": 80.0}
    assert what_if["wasted_capacity"] == [
        {"id": "frames", "added_capacity": 20.0, "used": 10.0, "wasted": 10.0}
    ]
    assert what_if["money"]["delta"] == {
        "revenue": 500.0,
        "variable_cost": 130.0,
        "throughput": 370.0,
    }

    not_bottleneck = flow(vc, ["sent=+20%"])["what_if"]
    assert not_bottleneck["throughput_change"] == 0 and not_bottleneck["new_bottleneck"] is None
    assert not_bottleneck["wasted_capacity"][0]["wasted"] == pytest.approx(22.0)


def test_cost_saving_that_loses_output_is_no_saving(vc: Valuechain) -> None:
    vc.write_map(seed_example())
    # Save 10% of the bottleneck's cost per item but lose 5% of its capacity.
    delta = flow(vc, ["frames=-10%cost", "frames=-5%"])["what_if"]["money"]["delta"]
    assert delta["variable_cost"] < 0 and delta["revenue"] == pytest.approx(-250.0)
    assert delta["throughput"] < 0


def test_demo_story(demo_vc: Valuechain) -> None:
    vc = demo_vc
    doc = flow(vc)
    _no_inf_nan(doc)
    assert doc["bottleneck"] == "assembled-pumps" and doc["bottlenecks"] == ["assembled-pumps"]
    pumps = next(d for d in doc["deliveries"] if d["id"] == "delivered-pumps")
    assert pumps == {
        "id": "delivered-pumps",
        "name": "Delivered pumps",
        "customers": ["installers", "oem-partners", "retail-chains"],
        "demand": 520.0,
        "delivered": 450.0,
    }
    assembly = _stage(doc, "assembled-pumps")
    assert assembly["capacity"] == 450 and assembly["demand"] == 520
    assert assembly["inventory_growth"] == 70 and assembly["unit_name"] == "Assembly"
    assert doc["summary"].startswith("Assembly is the bottleneck")
    assert "450 of 520 delivered pumps" in doc["summary"]

    raised = flow(vc, ["assembled-pumps=+20%"])
    pumps_after = next(d for d in raised["deliveries"] if d["id"] == "delivered-pumps")
    assert pumps_after["delivered"] == pytest.approx(450 * 1.1)  # +10%, not +20%
    assert raised["what_if"]["new_bottleneck"] == "packed-pumps"
    assert raised["what_if"]["throughput_change"] == 45
    growth = {g["id"]: g["growth"] for g in raised["what_if"]["inventory_growth"]}
    assert growth == {"packed-pumps": 25.0}  # 520 arrive, 495 processed
    assert raised["what_if"]["money"]["delta"]["throughput"] > 0

    elsewhere = flow(vc, ["machined-housings=+20%"])["what_if"]
    assert elsewhere["throughput_change"] == 0 and elsewhere["new_bottleneck"] is None


def test_bad_what_if_specs(vc: Valuechain) -> None:
    vc.write_map(seed_example())
    for spec in ("frames", "frames=20%", "frames=+20", "frames=+x%", "=+20%", "frames=+20%speed"):
        with pytest.raises(InvalidWhatIf, match="cannot read"):
            flow(vc, [spec])
    with pytest.raises(NotFound, match="no result with id 'nope'"):
        flow(vc, ["nope=+20%"])
    with pytest.raises(InvalidWhatIf, match="carries no items"):
        flow(vc, ["checks=+20%"])
    with pytest.raises(InvalidWhatIf, match="between"):
        flow(vc, ["frames=-150%"])


def test_empty_organisation(vc: Valuechain) -> None:
    doc = flow(vc)
    assert doc["throughput"] == 0 and doc["bottleneck"] is None and doc["stages"] == []
    assert "No result carries items" in doc["summary"]


def test_cli_json_contract(vc: Valuechain, cli_env: dict[str, str]) -> None:
    vc.write_map(seed_example())
    out = CliRunner().invoke(app, ["flow", "--json", "--what-if", "frames=+20%"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)  # exactly one document, no Infinity/NaN
    assert {"throughput", "bottleneck", "stages", "money"} <= doc.keys()
    for stage in doc["stages"]:
        assert {"id", "capacity", "demand", "utilization", "inventory_growth"} <= stage.keys()
    assert doc["throughput"] == 110 and doc["what_if"]["throughput_before"] == 100


def test_cli_table(vc: Valuechain, cli_env: dict[str, str]) -> None:
    vc.write_map(seed_example())
    out = CliRunner().invoke(app, ["flow", "--what-if", "frames=+20%"], env={"COLUMNS": "140"})
    assert out.exit_code == 0, out.output
    assert "Welding" in out.stdout and "▶" in out.stdout
    assert "the bottleneck moves from frames to sent" in out.stdout
    assert "Shipping is the bottleneck" in out.stdout


@pytest.mark.parametrize("spec", ["frames=2x", "missing=+20%"])
def test_cli_bad_spec_is_exit_2_without_traceback(
    vc: Valuechain,
    cli_env: dict[str, str],
    spec: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    vc.write_map(seed_example())
    monkeypatch.setattr(sys, "argv", ["valuechain", "flow", "--what-if", spec])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "Error:" in err and "Traceback" not in err and spec.split("=")[0] in err


# -- assembly: per_item on consumes links ----------------------------------------------


def steel_mill() -> OrganisationMap:
    """Ore (100 a week) and coke (60 a week) both go into pig iron: one of each."""
    return OrganisationMap(
        units=[
            Unit("mine", "Ore yard", TEAM),
            Unit("ovens", "Coke ovens", TEAM),
            Unit("furnace", "Blast furnace", TEAM),
            Unit("foundry", "Foundries", CUSTOMER),
        ],
        results=[
            Result("ore", "mine", "Sintered ore", INT, capacity=100.0),
            Result("coke", "ovens", "Coke", INT, capacity=60.0),
            Result("iron", "furnace", "Pig iron", FIN, capacity=200.0, revenue_per_item=80.0),
        ],
        links=[
            Link("ore", "furnace", CONSUMES, per_item=1.0),
            Link("coke", "furnace", CONSUMES, per_item=1.0),
            Link("iron", "foundry", PAYS, 150.0),
        ],
    )


def test_an_assembly_on_the_stored_map(vc: Valuechain) -> None:
    vc.write_map(steel_mill())
    doc = flow(vc)
    assert doc["throughput"] == 60.0 and doc["bottleneck"] == "coke"
    stage = {s["id"]: s for s in doc["stages"]}
    assert stage["iron"]["inventory_growth"] == 40.0  # ore waiting for coke
    assert stage["iron"]["assembly"] and not stage["coke"]["assembly"]
    assert flow(vc, ["coke=+20%"])["throughput"] == 72.0
    assert flow(vc, ["ore=+20%"])["throughput"] == 60.0
    assert {link.per_item for link in vc.read_map().links} == {1.0, None}


def test_per_item_only_on_consumes_links(vc: Valuechain, tmp_path: Any) -> None:
    from valuechain.services.bundle import BundleError, export_bundle, import_bundle

    vc.write_map(steel_mill())
    folder = tmp_path / "mill"
    export_bundle(vc, folder)
    text = (folder / "links.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "result_id,customer_id,relation,demand,per_item"
    assert "coke,furnace,consumes,,1.0" in text
    (folder / "links.csv").write_text(text + "iron,foundry,depends_on,,2\n", encoding="utf-8")
    with pytest.raises(BundleError) as raised:
        import_bundle(vc, folder)
    (problem,) = raised.value.problems
    assert (problem.file, problem.line, problem.column) == ("links.csv", 5, "per_item")
    assert problem.found == "2 on a depends_on link"


def test_cli_table_of_an_unbounded_chain(vc: Valuechain, cli_env: dict[str, str]) -> None:
    from tests.test_flow_truth import unbounded_map

    vc.write_map(unbounded_map())
    out = CliRunner().invoke(app, ["flow"], env={"COLUMNS": "140"})
    assert out.exit_code == 0, out.output
    assert "Throughput unbounded: flour → boxes" in out.stdout
    assert "revenue" not in out.stdout
