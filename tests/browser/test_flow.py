"""The Flow page in a real browser: the bottleneck is called out, and moving the
what-if slider recomputes the throughput and the bottleneck in place (HTMX)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS, _watched_page, serving
from tests.conftest import TEST_SECURITY
from tests.signin import make_account
from tests.test_flow import seed_example
from valuechain import Valuechain
from valuechain.edge.dependencies import SESSION_COOKIE
from valuechain.services import accounts
from valuechain.web.app import create_app

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


@pytest.fixture(scope="module")
def unknown_capacity_url(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Valuechain]]:
    """A real server for an organisation where one stage states no capacity (the
    seed's example with shipping's capacity left out: capacity is optional)."""
    example = seed_example()
    results = [replace(r, capacity=None) if r.id == "sent" else r for r in example.results]
    path = tmp_path_factory.mktemp("unknown-capacity") / "org.db"
    vc = Valuechain.open(f"sqlite:///{path}", "org", create=True, security=TEST_SECURITY)
    vc.write_map(replace(example, results=results))
    make_account(vc)
    with serving(lambda _url: create_app(vc)) as url:
        yield url, vc


@pytest.mark.parametrize(("width", "height"), [(1366, 900), (390, 844)])
def test_flow_page_with_an_unknown_capacity(
    chromium: Any, unknown_capacity_url: tuple[str, Valuechain], width: int, height: int
) -> None:
    url, vc = unknown_capacity_url
    context = chromium.new_context(
        viewport={"width": width, "height": height}, is_mobile=width < 500
    )
    try:
        account = accounts.account_by_email(vc, "admin@example.org")
        assert account is not None
        started = accounts.start_session(vc, account, address="browser test")
        context.add_cookies([{"name": SESSION_COOKIE, "value": started.token, "url": url}])
        page = _watched_page(context)
        answer = page.goto(f"{url}/flow")
        assert answer is not None and answer.status == 200  # was 500
        assert "Welding is the bottleneck" in page.inner_text("#flow-story")
        # The stage without a capacity is listed as unlimited, after the limited ones.
        rows = page.locator(".flow-table tbody tr")
        assert rows.count() == 3
        assert "unlimited" in rows.nth(2).inner_text() and "sent" in rows.nth(2).inner_text()
        page.wait_for_selector("#what-if-bottleneck", timeout=10_000)
        # Nothing wider than the screen: the page scrolls only down.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(
            path=str(SCREENSHOTS / f"flow-unknown-capacity-{width}.png"), full_page=True
        )
        assert page.problems == []
    finally:
        context.close()
