"""outcomes.csv on both databases: import, export round trip, update by id,
replace, and where each problem is reported (file, line, column, expected)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook

from valuechain import Valuechain
from valuechain.domain.outcome import Outcome
from valuechain.services.bundle import BundleError, export_bundle, import_bundle
from valuechain.store.outcome import read_outcomes

ROOT = Path(__file__).resolve().parents[1] / "examples"
SMALL, CONNECT = ROOT / "bundle", ROOT / "connect"
HEADER = "unit_id,period,metric,value\n"


def stored(vc: Valuechain) -> list[Outcome]:
    with vc.engine.connect() as conn:
        return read_outcomes(conn, vc.org_id)


def with_outcomes(tmp_path: Path, rows: str) -> Path:
    """The example map bundle with an outcomes.csv of ``rows``."""
    target = tmp_path / "bundle"
    shutil.copytree(SMALL, target)
    (target / "outcomes.csv").write_text(HEADER + rows, encoding="utf-8")
    return target


def problems(vc: Valuechain, bundle: Path) -> list[tuple[str, int | None, str | None, str]]:
    with pytest.raises(BundleError) as raised:
        import_bundle(vc, bundle)
    return [(p.file, p.line, p.column, p.expected) for p in raised.value.problems]


def test_example_outcomes_import_after_the_map_and_round_trip(
    vc: Valuechain, tmp_path: Path
) -> None:
    import_bundle(vc, SMALL)
    summary = import_bundle(vc, CONNECT)
    assert summary.rows["outcomes"] == 8
    got = stored(vc)
    assert len(got) == 8
    assert Outcome("webshop", "2026-02", "revenue", 190500.0) in got
    exported = tmp_path / "out"
    counts = export_bundle(vc, exported)
    assert counts["outcomes"] == 8
    lines = (exported / "outcomes.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == HEADER.strip()
    # Importing the export into an empty organisation gives the same outcomes.
    other = Valuechain(vc.engine, vc.organisation + "-copy", create=True)
    import_bundle(other, exported)
    assert stored(other) == got


def test_update_by_key_and_replace(vc: Valuechain, tmp_path: Path) -> None:
    import_bundle(vc, SMALL)
    import_bundle(vc, CONNECT)
    bundle = tmp_path / "more"
    bundle.mkdir()
    shutil.copy(CONNECT / "units.csv", bundle)  # every bundle has units
    (bundle / "outcomes.csv").write_text(
        HEADER + "retail,2026-01,satisfaction,6.9\nretail,2026-03,satisfaction,7.1\n",
        encoding="utf-8",
    )
    import_bundle(vc, bundle)  # by key: one value replaced, one added, none removed
    got = {(o.unit_id, o.period, o.metric): o.value for o in stored(vc)}
    assert len(got) == 9
    assert got[("retail", "2026-01", "satisfaction")] == 6.9
    assert got[("retail", "2026-03", "satisfaction")] == 7.1
    import_bundle(vc, SMALL, replace=True)  # the organisation without outcomes
    assert stored(vc) == []


def test_problems_are_located(vc: Valuechain, tmp_path: Path) -> None:
    bundle = with_outcomes(
        tmp_path,
        "retail,2026-01,satisfaction,7.5\n"  # line 2: fine
        "pack,2026-01,satisfaction,7\n"  # line 3: a team, not an external customer
        "retail,2026-13,satisfaction,7\n"  # line 4: no month 13
        "retail,2026-01,satisfaction,7.9\n"  # line 5: the same key again
        "ghost,2026-01,satisfaction,7\n"  # line 6: unknown unit
        "webshop,2026-02,revenue,lots\n"  # line 7: not a number
        "webshop,2026-02,,1\n",  # line 8: empty metric
    )
    found = problems(vc, bundle)
    assert found == [
        ("outcomes.csv", 3, "unit_id", "an external customer"),
        ("outcomes.csv", 4, "period", "a month written YYYY-MM"),
        ("outcomes.csv", 5, "metric", "one row per unit_id, period and metric"),
        (
            "outcomes.csv",
            6,
            "unit_id",
            "the id of a unit in units.csv or already stored",
        ),
        ("outcomes.csv", 7, "value", "a number"),
        ("outcomes.csv", 8, "metric", "a value"),
    ]
    assert stored(vc) == []  # all or nothing


def test_stored_units_are_checked_too(vc: Valuechain, tmp_path: Path) -> None:
    import_bundle(vc, SMALL)
    bundle = tmp_path / "later"
    bundle.mkdir()
    shutil.copy(CONNECT / "units.csv", bundle)  # retail and webshop; plan is stored
    (bundle / "outcomes.csv").write_text(
        HEADER + "webshop,2026-04,satisfaction,8\nplan,2026-04,satisfaction,8\n",
        encoding="utf-8",
    )
    assert problems(vc, bundle) == [("outcomes.csv", 3, "unit_id", "an external customer")]


def test_outcomes_sheet_of_a_workbook(vc: Valuechain, tmp_path: Path) -> None:
    book = Workbook()
    units = book.active
    assert units is not None
    units.title = "units"
    units.append(["id", "name", "kind"])
    units.append(["shop", "Shop customers", "external_customer"])
    sheet = book.create_sheet("outcomes")
    sheet.append(["unit_id", "period", "metric", "value"])
    sheet.append(["shop", "2025-11", "complaints", 3])
    path = tmp_path / "bundle.xlsx"
    book.save(path)
    import_bundle(vc, path)
    assert stored(vc) == [Outcome("shop", "2025-11", "complaints", 3.0)]
