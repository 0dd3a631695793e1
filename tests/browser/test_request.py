"""Acceptance in a real browser: a member of a customer unit files a request, a member
of the provider unit answers and resolves it from the inbox, the requester thanks the
provider with a note, and the thanks shows on the provider's wall."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS, _watched_page
from tests.builders import customer_and_provider
from tests.signin import PASSWORD, make_account
from valuechain import Valuechain
from valuechain.domain.account import AccountRole

pytestmark = pytest.mark.browser


def _pair(vc: Valuechain) -> tuple[Any, Any]:
    """A member of a customer unit and a member of one of its internal providers."""
    customer, _, provider = customer_and_provider(vc.read_map(), provider_member=True)
    return customer, provider


@pytest.fixture
def people(demo_vc: Valuechain) -> Iterator[tuple[Any, Any]]:
    customer, provider = _pair(demo_vc)
    for person in (customer, provider):
        make_account(demo_vc, person.email, AccountRole.MEMBER, person_id=person.id)
    yield customer, provider


def _signed_in(chromium: Any, base_url: str, email: str) -> Any:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = _watched_page(context)
    page.goto(f"{base_url}/signin?next=%2Frequests")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/requests")
    return page


def test_file_answer_resolve_and_thank(
    chromium: Any, base_url: str, people: tuple[Any, Any]
) -> None:
    customer, provider = people
    asker = _signed_in(chromium, base_url, customer.email)
    asker.get_by_label("Ask unit").fill(provider.unit_id)
    asker.get_by_label("What do you need?").fill("Browser test: the March figures")
    asker.get_by_label("Details").fill("By Thursday noon, please.")
    asker.get_by_role("button", name="File request").click()
    asker.wait_for_selector("h1:has-text('Browser test: the March figures')")
    request_url = asker.url
    assert "/requests/r-" in request_url
    assert "new" in asker.locator(".lede").inner_text()

    answerer = _signed_in(chromium, base_url, provider.email)
    answerer.goto(f"{base_url}/units/{provider.unit_id}/inbox")
    # The inbox rows refresh themselves (live clocks).
    assert answerer.locator("#request-rows").get_attribute("hx-trigger") == "every 30s"
    answerer.get_by_role("link", name="Browser test: the March figures").click()
    answerer.wait_for_url(request_url)
    answerer.get_by_label("Note (optional)").fill("On it — Thursday is fine.")
    answerer.get_by_role("button", name="Acknowledge").click()
    answerer.wait_for_selector("#request-timeline li:has-text('On it')")
    answerer.get_by_label("Note (optional)").fill("Sent to your shared folder.")
    answerer.get_by_role("button", name="Resolve").click()
    answerer.wait_for_selector("#request-timeline li:has-text('resolve')")
    assert "resolved" in answerer.locator(".lede").inner_text()
    assert answerer.get_by_role("button", name="Say thank you").count() == 0

    asker.reload()
    asker.get_by_label("A note with your thanks").fill("Two days early — thank you!")
    asker.get_by_role("button", name="Say thank you").click()
    asker.wait_for_selector("#thanks-given")
    assert "Two days early" in asker.locator("#thanks-given").inner_text()
    asker.screenshot(path=str(SCREENSHOTS / "request.png"), full_page=True)

    answerer.goto(f"{base_url}/units/{provider.unit_id}/thanks")
    wall = answerer.locator("#thanks-wall")
    assert "Two days early — thank you!" in wall.inner_text()
    assert customer.name in wall.inner_text() or customer.email.split("@")[0] in wall.inner_text()
    answerer.screenshot(path=str(SCREENSHOTS / "thanks-wall.png"), full_page=True)
    assert asker.problems == [] and answerer.problems == []
    asker.context.close()
    answerer.context.close()
