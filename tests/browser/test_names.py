"""Names instead of ids in a real browser (issue 17 items 3 and 4), at 390 px and
1366 px: a lead files a request by typing the provider's name ("Production
planning"), an unknown name is refused next to the field with what was typed kept,
and the dashboard's charts draw with the instrument's wording. Screenshots of both
pages at both widths go to ``SCREENSHOTS`` for a person to look at."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import test_layout as layout
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_layout import LAPTOP, PHONE, _overflow

pytestmark = pytest.mark.browser
open_as = layout.open_as  # the layout test's signed-in pages, one per role


@pytest.mark.parametrize("size", [PHONE, LAPTOP], ids=["390", "1366"])
def test_a_request_is_filed_by_the_providers_name(
    open_as: Any, base_url: str, size: dict[str, int]
) -> None:
    page = open_as("lead")
    page.set_viewport_size(size)
    page.goto(f"{base_url}/requests")
    assert page.locator("#provider-list option[value='Production planning']").count() == 1
    page.fill("#provider", "Nowhere at all")
    page.fill("#title", "Typed and kept")
    page.click("#new-request-form button[type=submit]")
    page.wait_for_selector("#provider-error")
    assert "No unit is called “Nowhere at all”" in page.inner_text("#provider-error")
    assert page.input_value("#provider") == "Nowhere at all"
    assert page.input_value("#title") == "Typed and kept"
    assert _overflow(page, size["width"]) is None
    page.screenshot(path=str(SCREENSHOTS / f"request-form-{size['width']}.png"), full_page=True)
    page.fill("#provider", "Production planning")
    page.click("#new-request-form button[type=submit]")
    page.wait_for_url("**/requests/*")
    assert "production planning" in page.inner_text("main").lower()


@pytest.mark.parametrize("size", [PHONE, LAPTOP], ids=["390", "1366"])
def test_the_dashboard_speaks_the_instruments_words(
    open_as: Any, base_url: str, size: dict[str, int]
) -> None:
    page = open_as("admin")
    page.set_viewport_size(size)
    page.goto(f"{base_url}/units/production-planning/dashboard")
    for name in ("trend", "quadrants", "heat"):
        page.wait_for_selector(f"#chart-{name}[data-rendered='true'] svg", timeout=20_000)
    trend = " ".join(page.locator("#chart-trend svg text").all_text_contents())
    assert "Overall score" in trend and "problem_solving" not in trend
    heat = page.locator("#chart-heat svg text").all_text_contents()
    assert "Maintenance" in heat and "maintenance" not in heat
    assert _overflow(page, size["width"]) is None
    page.screenshot(path=str(SCREENSHOTS / f"dashboard-{size['width']}.png"), full_page=True)
    assert page.problems == []
