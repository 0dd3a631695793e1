"""Notification settings in a real browser: a member switches a kind off, saves, and
the choice is stored; the admin's outbox page lists what is on its way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS, _watched_page
from tests.signin import make_account
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.domain.notification import KINDS, Preference
from valuechain.edge.dependencies import SESSION_COOKIE
from valuechain.services import accounts, notification

pytestmark = pytest.mark.browser


@pytest.fixture
def member_page(chromium: Any, demo_vc: Valuechain, base_url: str) -> Iterator[tuple[Any, str]]:
    """A phone-sized page signed in as a member linked to a person of the demo map."""
    person = demo_vc.read_map().people[0]
    email = f"browser-{person.id}@example.org"
    account = accounts.account_by_email(demo_vc, email) or make_account(
        demo_vc, email, AccountRole.MEMBER, person_id=person.id
    )
    started = accounts.start_session(demo_vc, account, address="browser test")
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    context.add_cookies([{"name": SESSION_COOKIE, "value": started.token, "url": base_url}])
    yield _watched_page(context), person.id
    context.close()


def test_a_member_turns_a_kind_off_and_saves(
    member_page: tuple[Any, str], demo_vc: Valuechain, base_url: str
) -> None:
    page, person = member_page
    page.goto(f"{base_url}/")
    # On a phone the menu is folded behind its button.
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="Notifications").click()
    page.wait_for_url(f"{base_url}/settings/notifications")
    thanks_by_email = page.get_by_label(f"{KINDS['thanks']} by email")
    assert thanks_by_email.is_checked()
    thanks_by_email.uncheck()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{base_url}/settings/notifications?done=1")
    assert "Saved." in page.get_by_role("status").inner_text()
    assert not page.get_by_label(f"{KINDS['thanks']} by email").is_checked()
    assert page.get_by_label(f"{KINDS['report']} by email").is_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SCREENSHOTS / "notifications-phone.png"), full_page=True)
    chosen = {p.kind: p for p in notification.preferences(demo_vc, person)}
    assert chosen["thanks"] == Preference("thanks", email=False, webhook=True)
    assert page.problems == []


def test_the_admin_sees_the_outbox(page: Any, demo_vc: Valuechain, base_url: str) -> None:
    person = demo_vc.read_map().people[1]
    notification.notify(demo_vc, person.id, "report", "Browser test report", "x")
    page.goto(f"{base_url}/")
    page.locator(".site-nav__more summary").click()  # the "Admin" menu
    page.get_by_role("link", name="Outbox").click()
    page.wait_for_url(f"{base_url}/admin/outbox")
    assert "Browser test report" in page.locator("table").inner_text()
    page.get_by_role("link", name="pending").first.click()
    page.wait_for_url(f"{base_url}/admin/outbox?status=pending")
    assert "Browser test report" in page.locator("table").inner_text()
    assert page.problems == []
