"""Uploading a bundle through the admin page in Chromium: the Admin menu leads to
it, a broken bundle shows its problems by file, line and column and changes nothing,
a good one shows what would change and is imported with one button."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.test_bundle_upload import SMALL, zipped
from valuechain import Valuechain
from valuechain.services import audit

pytestmark = pytest.mark.browser


def choose(page: Any, name: str, data: bytes) -> None:
    page.set_input_files(
        "#bundle-file", files=[{"name": name, "mimeType": "application/zip", "buffer": data}]
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Preview").click()


def test_upload_previews_then_imports(
    page: Any, base_url: str, demo_vc: Valuechain, tmp_path: Path
) -> None:
    before = demo_vc.counts()
    page.goto(f"{base_url}/")
    page.locator("summary", has_text="Admin").click()
    page.get_by_role("link", name="Upload a bundle").click()
    page.wait_for_url(f"{base_url}/admin/import")

    broken = tmp_path / "broken"
    shutil.copytree(SMALL, broken)
    units = (broken / "units.csv").read_text().replace(",department,", ",dept,", 1)
    (broken / "units.csv").write_text(units)
    choose(page, "broken.zip", zipped(broken, "broken/"))
    problem = page.locator("#import-problems tbody tr").first
    assert problem.locator("td").all_inner_texts()[:3] == ["units.csv", "2", "kind"]
    assert "nothing was changed" in page.get_by_role("alert").inner_text()
    assert page.get_by_role("button", name="Import").count() == 0
    assert demo_vc.counts() == before

    choose(page, "bundle.zip", zipped(SMALL))
    units_row = page.locator("#import-changes tbody tr", has_text="units")
    added, changed, unchanged, removed = map(int, units_row.locator("td").all_inner_texts())
    # The demo holds two of the example's unit ids already, with other values.
    assert (added, changed, unchanged, removed) == (10, 2, 0, 0)
    assert demo_vc.counts() == before  # a preview writes nothing
    with page.expect_navigation():
        page.get_by_role("button", name="Import bundle.zip").click()
    assert "Imported bundle.zip" in page.get_by_role("status").inner_text()
    assert demo_vc.counts()["units"] == before["units"] + added
    event = audit.read_page(demo_vc, 1, 1).events[0]
    assert (event.action, event.subject, event.actor) == (
        audit.IMPORT,
        "upload:bundle.zip",
        "admin@example.org",
    )
    assert page.problems == []
