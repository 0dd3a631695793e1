"""A unit's page as a lead clicks to it: "Who helps you succeed" beside "Whom you help
succeed", on a phone (390 px) and a laptop (1366 px), without scrolling sideways."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_layout import LAPTOP, PHONE, _overflow, open_as  # noqa: F401

pytestmark = pytest.mark.browser


def test_the_unit_page_shows_the_hero_and_the_sidekick(open_as: Any, base_url: str) -> None:  # noqa: F811
    page = open_as("admin")
    for name, size in (("phone", PHONE), ("laptop", LAPTOP)):
        page.set_viewport_size(size)
        page.goto(f"{base_url}/units/assembly")
        helped_by = page.locator("#helped-by")
        helps = page.locator("#helps")
        assert helped_by.locator("h2").inner_text() == "Who helps you succeed"
        assert helps.locator("h2").inner_text() == "Whom you help succeed"
        assert "Payroll" in helped_by.inner_text() and "Packing" in helps.inner_text()
        assert helped_by.locator("[data-score]").count() >= 2
        assert _overflow(page, size["width"]) is None
        left, right = helped_by.bounding_box(), helps.bounding_box()
        if name == "laptop":  # beside each other
            assert abs(left["y"] - right["y"]) < 2 and left["x"] < right["x"]
        else:  # one above the other
            assert left["y"] < right["y"]
        page.screenshot(path=str(SCREENSHOTS / f"unit-hero-{name}.png"), full_page=False)
        helped_by.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / f"unit-hero-{name}-sections.png"))
