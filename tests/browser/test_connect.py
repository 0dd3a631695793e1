"""The unit page's line of sight in a real browser: the section loads in place (HTMX)
with each relationship's external customers and, for an admin, whether its scores
move with the external customers' outcomes."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_line_of_sight_on_the_unit_page(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/units/production-planning")
    section = "#line-of-sight table"
    page.wait_for_selector(section, timeout=15_000)
    text = page.inner_text("#line-of-sight")
    assert "Assembly" in text and "Retail chains" in text  # names, not ids
    # Assembly's monthly rating of planning moves with the customers' satisfaction.
    assert "Satisfaction: r = 0.67" in text and "24 months" in text
    # The quarterly-only relationships say why they have no r.
    assert "no scores in months with outcomes" in text
    assert page.problems == []
