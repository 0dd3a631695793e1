"""The Flow page in a real browser: the bottleneck is called out, and moving the
what-if slider recomputes the throughput and the bottleneck in place (HTMX)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser


def test_flow_page_and_a_what_if_slider(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/flow")
    assert "Assembly is the bottleneck" in page.inner_text("#flow-story")
    assert page.locator(".flow-bar--bottleneck").first.get_attribute("data-stage") == (
        "assembled-pumps"
    )
    # The what-if area loads with +20% at the bottleneck: packing takes over.
    page.wait_for_selector("#what-if-bottleneck[data-bottleneck='packed-pumps']", timeout=10_000)
    assert page.inner_text("#what-if-throughput") == "645"

    # Slide the capacity back to zero: nothing changes, the form says so.
    page.fill("#capacity", "0")
    page.dispatch_event("#capacity", "input")
    page.wait_for_selector("#what-if-result :text('Move the capacity slider')", timeout=10_000)

    # A non-bottleneck stage raised by 40% gains nothing and the bottleneck stays.
    page.select_option("#stage", "machined-housings")
    page.fill("#capacity", "40")
    page.dispatch_event("#capacity", "input")
    page.wait_for_selector("#what-if-bottleneck[data-bottleneck='assembled-pumps']", timeout=10_000)
    assert page.inner_text("#what-if-throughput") == "600"
    assert "cannot be used" in page.inner_text("#what-if-result")
    page.screenshot(path=str(SCREENSHOTS / "flow.png"), full_page=True)
    assert page.problems == []
