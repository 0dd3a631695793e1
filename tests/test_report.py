"""Tell: reports find what is there, claim nothing on noise, and read the same as
JSON, HTML and PDF."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pypdfium2
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from typer.testing import CliRunner

from tests.report_data import write_bundle
from tests.signin import make_account, sign_in
from valuechain import Valuechain
from valuechain.analytics.finding import Kind
from valuechain.cli.main import app
from valuechain.services.bundle import import_bundle
from valuechain.services.report import report
from valuechain.store.database import make_engine
from valuechain.web.app import create_app
from valuechain.web.report import render_html, render_pdf


@pytest.fixture
def planted(vc: Valuechain, tmp_path: Path) -> Valuechain:
    import_bundle(vc, write_bundle(tmp_path / "bundle", seed=7, planted=True))
    return vc


def _kinds(vc: Valuechain, unit: str | None = None) -> dict[Kind, list[str]]:
    found: dict[Kind, list[str]] = {}
    for f in report(vc, unit, all_findings=True).findings:
        found.setdefault(f.candidate.kind, []).append(f.candidate.subject)
    return found


def test_every_planted_effect_is_found(planted: Valuechain) -> None:
    found = _kinds(planted)
    assert any(s.startswith("Machining") for s in found[Kind.DECLINE]), found
    assert found[Kind.DRIVER] == ["Quality · Value delivered"]
    assert found[Kind.GAP] == ["Planning · Reliability"]
    assert found[Kind.BOTTLENECK] == ["Machining"]
    assert Kind.RISE not in found


def test_a_units_report_is_about_that_unit(planted: Valuechain) -> None:
    doc = report(planted, "qa")
    assert doc.findings and all("qa" in f.candidate.units for f in doc.findings)
    assert [f.candidate.kind for f in doc.findings] == [Kind.DRIVER]


def test_pure_noise_rarely_claims_anything(tmp_path: Path) -> None:
    """Over many generated organisations without any effect, fewer than 5% of reports
    claim a change, gap or driver (Holm at 1% across every candidate of a report)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'noise.db'}", create=True)
    seeds, claims = 60, 0
    for seed in range(seeds):
        vc = Valuechain(engine, f"noise-{seed}", create=True)
        import_bundle(vc, write_bundle(tmp_path / f"b{seed}", seed, planted=False))
        doc = report(vc, all_findings=True)
        assert doc.tested > 30  # the candidates were there to be claimed
        claims += any(f.q is not None for f in doc.findings)
    engine.dispose()
    assert claims / seeds < 0.05


def test_nothing_passing_is_said_plainly(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'quiet.db'}", create=True)
    vc = Valuechain(engine, "quiet", create=True)
    import_bundle(vc, write_bundle(tmp_path / "b", 3, planted=False))
    doc = report(vc, "qa")
    assert doc.findings == []
    assert "Nothing stands out" in render_html(doc)
    engine.dispose()


def test_the_pdf_reads_and_renders(planted: Valuechain, tmp_path: Path) -> None:
    doc = report(planted)
    pdf = render_pdf(doc)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    flat = " ".join(text.split())
    assert "Machining is the bottleneck" in flat
    assert "Next step" in flat and "95% CI" in flat
    document = pypdfium2.PdfDocument(pdf)
    assert len(document) == 1  # the organisation report is one page
    image = np.asarray(document[0].render(scale=1).to_pil().convert("L"))
    assert image.shape[0] > image.shape[1] > 500  # A4 portrait
    ink = image < 128
    assert 0.01 < ink.mean() < 0.3  # text and charts on the page, not blank, not black
    # Charts are drawn: the coloured bottleneck bar is on the page.
    rgb = np.asarray(document[0].render(scale=1).to_pil().convert("RGB")).astype(int)
    red = (rgb[..., 0] > 170) & (rgb[..., 1] < 90) & (rgb[..., 2] < 80)
    assert red.sum() > 200


def test_cli_json_html_and_pdf(
    planted: Valuechain, cli_env: dict[str, str], tmp_path: Path
) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["report", "--format", "json"], env=cli_env)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert 1 <= len(doc["findings"]) <= 5
    for finding in doc["findings"]:
        assert {"kind", "subject", "sentence", "effect", "evidence"} <= finding.keys()
    html = tmp_path / "r.html"
    assert (
        runner.invoke(
            app, ["report", "--unit", "mach", "--format", "html", "-o", str(html)], env=cli_env
        ).exit_code
        == 0
    )
    assert "<svg" in html.read_text() and "Machining" in html.read_text()
    pdf = tmp_path / "r.pdf"
    assert (
        runner.invoke(app, ["report", "--format", "pdf", "-o", str(pdf)], env=cli_env).exit_code
        == 0
    )
    assert pdf.read_bytes().startswith(b"%PDF")
    missing = runner.invoke(app, ["report", "--format", "pdf"], env=cli_env)
    assert missing.exit_code != 0


def test_pages_and_api_follow_roles(planted: Valuechain) -> None:
    make_account(planted)
    with TestClient(create_app(planted)) as client:
        sign_in(client)
        page = client.get("/reports")
        assert page.status_code == 200 and "Download PDF" in page.text
        pdf = client.get("/units/mach/report.pdf")
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        api = client.get("/api/v1/units/mach/report", params={"all": "true"})
        assert api.status_code == 200
        assert {f["kind"] for f in api.json()["findings"]} >= {"decline", "bottleneck"}


def test_a_relationships_report_is_about_its_two_units(
    planted: Valuechain, cli_env: dict[str, str]
) -> None:
    doc = report(planted, relationship=("mach", "asm"))
    assert doc.findings and all(set(f.candidate.units) <= {"mach", "asm"} for f in doc.findings)
    assert "Machining and Assembly" in doc.title
    result = CliRunner().invoke(
        app, ["report", "--relationship", "mach:asm", "--format", "json"], env=cli_env
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["title"] == doc.title
    bad = CliRunner().invoke(app, ["report", "--relationship", "mach"], env=cli_env)
    assert bad.exit_code != 0


def test_report_json_is_the_api_document(planted: Valuechain, cli_env: dict[str, str]) -> None:
    """`valuechain report --json` prints one JSON document, the same as the API's
    report route returns (for the organisation and for a unit)."""
    runner = CliRunner()
    make_account(planted)
    with TestClient(create_app(planted)) as client:
        sign_in(client)
        for args, route in (
            ([], "/api/v1/reports/organisation"),
            (["--unit", "mach"], "/api/v1/units/mach/report"),
        ):
            result = runner.invoke(app, ["report", *args, "--json"], env=cli_env)
            assert result.exit_code == 0, result.output
            api = client.get(route)
            assert api.status_code == 200
            printed, served = json.loads(result.stdout), api.json()
            # The same document but for the second it was generated in.
            moments = [datetime.fromisoformat(d.pop("generated")) for d in (printed, served)]
            assert abs(moments[1] - moments[0]) < timedelta(seconds=60)
            assert printed == served
    wrong = runner.invoke(app, ["report", "--json", "--format", "pdf"], env=cli_env)
    assert wrong.exit_code != 0
