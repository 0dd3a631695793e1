"""The Agree pages in a real browser on the demo: an agreement proposed by the IT
service desk is agreed by customer service with one click, the agreement page shows
both sides' obligations and the commitment timeline, and the capacity page shows the
negotiation that demand above a share opened."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser


def test_agree_for_the_customer_and_read_the_timeline(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/units/customer-service/agreements/desk-customer-service")
    assert page.inner_text("[data-testid=state]") == "proposed"
    assert "Priority set by the team lead" in page.inner_text("#main")
    page.click("button:has-text('Agree for the customer')")
    page.wait_for_selector("[data-testid=state]:text('agreed')", timeout=10_000)
    assert "admin@example.org" in page.inner_text("#main")

    page.goto(f"{base_url}/units/assembly/agreements/plan-assembly")
    text = page.inner_text("#main")
    assert "Order changes by Thursday 12:00" in text and "Delivered on time" in text
    assert page.locator(".timeline__item").count() == 51
    assert page.locator(".timeline__item.outcome--warned").count() >= 1
    page.screenshot(path=str(SCREENSHOTS / "agreement.png"), full_page=True)

    page.goto(f"{base_url}/units/assembly/agreements")
    assert "Targets against satisfaction" in page.inner_text("#main")
    assert "targets missed, customer happy" in page.inner_text("#main")

    page.goto(f"{base_url}/units/assembly/capacity")
    main = page.inner_text("#main")
    assert "above share" in main and "Settle" in main
    assert page.problems == []
