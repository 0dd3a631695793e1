"""Tell in a real browser: a unit's report on screen, and its PDF downloaded, read and
rendered."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2
import pytest
from pypdf import PdfReader

pytestmark = pytest.mark.browser


def test_a_units_report_and_its_pdf(page: Any, base_url: str, tmp_path: Path) -> None:
    page.goto(f"{base_url}/units/production-planning/report")
    heading = page.locator("h1")
    assert "Production planning" in heading.inner_text()
    findings = page.locator("section.finding")
    assert findings.count() >= 1
    first = findings.first.locator("h2").inner_text()
    assert "Production planning" in first and "95% CI" in first
    assert page.locator("section.finding svg").count() >= 1  # the chart is drawn
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert target.name == "valuechain-report-production-planning.pdf"
    pdf = target.read_bytes()
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)
    assert " ".join(first.split()) in text
    rendered = pypdfium2.PdfDocument(pdf)[0].render(scale=1).to_pil().convert("L")
    pixels = np.asarray(rendered)
    assert 0.01 < (pixels < 128).mean() < 0.3  # a page with text and a chart on it
    assert page.problems == []
