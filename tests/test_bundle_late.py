"""Late answers: an import may not add responses to a campaign that is already
stored, nor replace a stored response, on either check (row-wise for a workbook,
column-wise for CSV) and either database. Otherwise a lead reading a cell before
and after the import (n = 7, then n = 8) would learn the newcomer's answers from
n · mean of the two readings (issue 13, docs/measure.md "Over time")."""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from valuechain import Valuechain
from valuechain.cli.main import app
from valuechain.domain.bundle import SCHEMA, StoredIds, check_bundle
from valuechain.domain.instrument import SERVICE_FACTORS
from valuechain.services import campaign as campaigns
from valuechain.services import measure
from valuechain.services.bundle import BundleError, import_bundle
from valuechain.store import measure as measure_store

UNITS = [("ops", "Operations", "team"), ("c1", "Customer one", "team")]
ITEMS = [i.key for i in SERVICE_FACTORS.items]
COLUMNS = list(SCHEMA["responses"].column_names)


def response_rows(ids: list[str], campaign: str) -> list[list[str]]:
    """Every item of ``service_factors`` answered, c1 rating ops, per response id."""
    rows = []
    for rid in ids:
        pick = random.Random(rid)
        for item in ITEMS:
            score = str(pick.randint(1, 7))
            rows.append(
                [rid, campaign, "service_factors", "c1", "ops", "2026-03-02", item, "", score, ""]
            )
    return rows


def write_bundle(path: Path, rows: list[list[str]], *, workbook: bool) -> Path:
    """A bundle of units.csv and responses.csv, as CSV files or one workbook."""
    tables = {
        "units": (["id", "name", "kind"], [list(u) for u in UNITS]),
        "responses": (COLUMNS, rows),
    }
    if workbook:
        book = Workbook(write_only=True)
        for name, (header, body) in tables.items():
            sheet = book.create_sheet(name)
            sheet.append(header)
            for row in body:
                sheet.append(row)
        target = path.with_suffix(".xlsx")
        book.save(target)
        return target
    path.mkdir(parents=True)
    for name, (header, body) in tables.items():
        with (path / f"{name}.csv").open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            writer.writerows(body)
    return path


def relationship_n(vc: Valuechain, campaign: str) -> int | None:
    found = measure.scores(vc, "relationship", campaign=campaign, provider="ops")
    n: int | None = next(c["n"] for c in found["cells"] if c["customer"] == "c1")
    return n


def survey_state(vc: Valuechain) -> dict[str, int]:
    with vc.engine.connect() as conn:
        return measure_store.count_survey(conn, vc.org_id)


def ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


@pytest.mark.parametrize("workbook", [False, True], ids=["columns", "rows"])
def test_one_late_answer_to_a_read_campaign_is_refused_and_changes_nothing(
    vc: Valuechain, tmp_path: Path, workbook: bool
) -> None:
    import_bundle(
        vc,
        write_bundle(tmp_path / "first", response_rows(ids("a", 7), "2026-q1"), workbook=workbook),
    )
    assert relationship_n(vc, "2026-q1") == 7
    before = survey_state(vc)
    late = write_bundle(tmp_path / "late", response_rows(["late"], "2026-q1"), workbook=workbook)
    with pytest.raises(BundleError) as refused:
        import_bundle(vc, late)
    message = str(refused.value)
    assert (
        "column campaign" in message and "'2026-q1', a campaign already stored (closed)" in message
    )
    assert "name a new campaign" in message and "line 2" in message
    assert survey_state(vc) == before
    assert relationship_n(vc, "2026-q1") == 7


@pytest.mark.parametrize("workbook", [False, True], ids=["columns", "rows"])
def test_an_incremental_import_into_an_imported_campaign_is_refused(
    vc: Valuechain, tmp_path: Path, workbook: bool
) -> None:
    """Two more respondents (n 20 → 22) would give their mean exactly; and the
    refusal names the campaign once, however many rows name it."""
    import_bundle(
        vc, write_bundle(tmp_path / "a", response_rows(ids("h", 20), "hist"), workbook=workbook)
    )
    assert relationship_n(vc, "hist") == 20
    more = write_bundle(tmp_path / "b", response_rows(ids("x", 2), "hist"), workbook=workbook)
    with pytest.raises(BundleError) as refused:
        import_bundle(vc, more)
    assert len(refused.value.problems) == 1
    assert relationship_n(vc, "hist") == 20
    # The same answers as a new campaign are welcome (and shown only when the
    # protection allows: here 2 respondents, hidden).
    fresh = write_bundle(tmp_path / "c", response_rows(ids("x", 2), "hist-2"), workbook=workbook)
    import_bundle(vc, fresh)
    assert relationship_n(vc, "hist") == 20
    assert relationship_n(vc, "hist-2") is None


@pytest.mark.parametrize("workbook", [False, True], ids=["columns", "rows"])
def test_a_stored_response_is_never_replaced_nor_moved(
    vc: Valuechain, tmp_path: Path, workbook: bool
) -> None:
    """Re-importing a stored id under a new campaign would take it out of the old
    campaign's cells (n 7 → 6): refused, naming the id and its campaign."""
    import_bundle(
        vc, write_bundle(tmp_path / "a", response_rows(ids("a", 7), "2026-q1"), workbook=workbook)
    )
    before = survey_state(vc)
    moved = write_bundle(
        tmp_path / "b", response_rows(["a3", *ids("n", 5)], "2026-q2"), workbook=workbook
    )
    with pytest.raises(BundleError) as refused:
        import_bundle(vc, moved)
    message = str(refused.value)
    assert "column response_id" in message and "'a3' (campaign '2026-q1') already stored" in message
    assert survey_state(vc) == before
    assert relationship_n(vc, "2026-q1") == 7


def test_responses_to_a_draft_or_open_campaign_are_refused_too(
    vc: Valuechain, tmp_path: Path
) -> None:
    """A campaign run with invitations gets its answers through its links, sealed
    until it closes; an import would put answers next to them outside the seal."""
    import_bundle(vc, write_bundle(tmp_path / "map", [], workbook=False))
    campaigns.create_campaign(
        vc,
        "live",
        instrument="service_factors",
        relationships=[("ops", "c1")],
        closes_on=date.today() + timedelta(days=7),
    )
    with pytest.raises(BundleError, match=r"'live', a campaign already stored \(draft\)"):
        import_bundle(
            vc, write_bundle(tmp_path / "a", response_rows(ids("a", 6), "live"), workbook=False)
        )
    with vc.engine.begin() as conn:
        from valuechain.domain.campaign import CampaignState
        from valuechain.store import campaign as campaign_store

        campaign_store.set_state(
            conn, vc.org_id, "live", CampaignState.OPEN, was=CampaignState.DRAFT
        )
    with pytest.raises(BundleError, match=r"'live', a campaign already stored \(open\)"):
        import_bundle(
            vc, write_bundle(tmp_path / "b", response_rows(ids("a", 6), "live"), workbook=True)
        )
    assert survey_state(vc)["responses"] == 0


def test_replace_starts_the_organisation_over(vc: Valuechain, tmp_path: Path) -> None:
    import_bundle(
        vc, write_bundle(tmp_path / "a", response_rows(ids("a", 7), "2026-q1"), workbook=False)
    )
    again = write_bundle(tmp_path / "b", response_rows(ids("a", 9), "2026-q1"), workbook=False)
    import_bundle(vc, again, replace=True)
    assert relationship_n(vc, "2026-q1") == 9


def test_the_column_check_sends_a_stored_campaign_to_the_row_check() -> None:
    """Both checks give the same verdict: the column-wise check does not accept what
    the row check refuses (it hands the file over, which then locates the problem)."""
    rows = [COLUMNS, *response_rows(["r1"], "old")]
    files = {"units.csv": [["id", "name", "kind"], *map(list, UNITS)], "responses.csv": rows}
    stored = StoredIds(campaigns={"old": "closed"})
    import numpy as np

    from valuechain.domain.bundle_columns import EncodedColumn, EncodedTable

    def columns(name: str) -> EncodedTable | None:
        body = files[name][1:]
        cols = []
        for j in range(len(COLUMNS)):
            values = sorted({r[j] for r in body})
            cols.append(
                EncodedColumn(np.array([values.index(r[j]) for r in body], dtype=np.int64), values)
            )
        return EncodedTable(COLUMNS, cols, len(body))

    check = check_bundle(
        files, lambda name: enumerate(files[name], start=1), stored=stored, columns=columns
    )
    assert not check.ok
    assert [(p.line, p.column) for p in check.problems] == [(2, "campaign")]
    fine = check_bundle(files, lambda name: enumerate(files[name], start=1), columns=columns)
    assert fine.ok and fine.org_map is not None and fine.org_map.response_columns is not None


def test_the_command_refuses_a_late_import_with_exit_2(
    vc: Valuechain, cli_env: dict[str, str], tmp_path: Path
) -> None:
    first = write_bundle(tmp_path / "a", response_rows(ids("a", 7), "2026-q1"), workbook=False)
    result = CliRunner().invoke(app, ["import", str(first)])
    assert result.exit_code == 0, result.stderr
    late = write_bundle(tmp_path / "b", response_rows(["late"], "2026-q1"), workbook=False)
    result = CliRunner().invoke(app, ["import", str(late)])
    assert result.exit_code == 2
    assert "'2026-q1', a campaign already stored (closed)" in result.stderr
    assert "nothing was changed" in result.stderr
    assert relationship_n(vc, "2026-q1") == 7
