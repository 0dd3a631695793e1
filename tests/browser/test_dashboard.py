"""The provider dashboard in a real browser: from the unit page to the dashboard of
the demo's production planning, every Vega-Lite chart draws (vendored vega,
vega-lite and vega-embed) with no console error, the heat map shows the small
maintenance group as suppressed, and the planted decline is flagged."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

CHARTS = ("dimensions", "heat", "trend", "drivers", "quadrants")


def test_dashboard_draws_its_charts_and_hides_small_groups(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/units/production-planning")
    # The unit page loads its line of sight after it shows; leaving before that
    # finished would abort the request (a browser problem the test would report).
    page.wait_for_selector("#line-of-sight :not(p.muted)", timeout=20_000)
    page.click("#dashboard-link")
    page.wait_for_url("**/units/production-planning/dashboard")
    for name in CHARTS:
        page.wait_for_selector(f"#chart-{name}[data-rendered='true'] svg", timeout=20_000)
    # The heat map draws the suppressed relationship as a grey cell saying so ...
    heat_text = page.locator("#chart-heat svg text").all_text_contents()
    assert "hidden" in heat_text
    # ... and its table row says suppressed with no number.
    row = page.locator("#table-heat tr", has_text="maintenance")
    assert row.locator("[data-suppressed='true']").count() >= 1
    assert "n=" not in row.inner_text()
    # The planted fall in value is called significant.
    change = page.locator("#table-change tr.row--significant", has_text="Value delivered")
    assert change.count() == 1
    assert page.locator("#themes li").count() >= 1
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)
    assert page.problems == []
