"""Acceptance in a real browser: a member of a customer unit files a request, a member
of the provider unit answers and resolves it from the inbox, the requester thanks the
provider with a note, and the thanks shows on the provider's wall. The queue: the
provider's member filters the inbox to requests at risk, assigns one to themself,
comments with an @mention, and the person mentioned sees it on their requests page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS, _watched_page
from tests.builders import customer_and_provider
from tests.signin import PASSWORD, make_account
from valuechain import Valuechain
from valuechain.analytics.clock import business_clock, elapsed
from valuechain.domain.access import Principal
from valuechain.domain.account import AccountRole
from valuechain.domain.request import Verb
from valuechain.services import accounts, agreement
from valuechain.services import request as requests

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


# -- the queue: at-risk filter, assignee, a comment with an @mention -----------------

PROVIDER, CUSTOMER = "it-service-desk", "assembly"  # the demo agrees 2 h / 16 h on them


def _member(vc: Valuechain, unit: str) -> Any:
    found = next(p for p in sorted(vc.read_map().people, key=lambda p: p.id) if
                 p.unit_id == unit and p.role.value == "member")  # fmt: skip
    if accounts.account_by_email(vc, found.email) is None:
        make_account(vc, found.email, AccountRole.MEMBER, person_id=found.id)
    return found


def _at_risk_request(vc: Valuechain, customer: Any, provider: Any) -> str:
    """A request filed so long ago (in business hours on the agreement's calendar)
    that 13 of its 16 resolution hours are used now: at risk, not breached (its first
    response came within a minute)."""
    terms = agreement.terms(vc)[(PROVIDER, CUSTOMER)]
    assert terms.resolution_hours == 16
    now = datetime.now(UTC)
    first, last = (now - timedelta(days=40)).date(), (now + timedelta(days=2)).date()
    clock = business_clock(terms.calendar, first, last)
    filed = now
    while elapsed(clock, filed.timestamp(), now.timestamp()) < 13 * 3600:
        filed -= timedelta(minutes=10)
    asker = requests.Asker(_principal(vc, customer), customer.name)
    r = requests.new_request(vc, asker, customer=CUSTOMER, provider=PROVIDER,
                             title="Browser queue: a VPN token", now=filed)  # fmt: skip
    answerer = requests.Asker(_principal(vc, provider), provider.name)
    requests.change(vc, answerer, r["id"], Verb.ACK, now=filed + timedelta(minutes=1))
    return r["id"]


def _principal(vc: Valuechain, person: Any) -> Principal:
    account = accounts.account_by_email(vc, person.email)
    assert account is not None
    return Principal(account.id, person.email, person.name, AccountRole.MEMBER, person.unit_id)


def test_filter_at_risk_assign_and_mention(
    chromium: Any, base_url: str, demo_vc: Valuechain
) -> None:
    provider, customer = _member(demo_vc, PROVIDER), _member(demo_vc, CUSTOMER)
    request_id = _at_risk_request(demo_vc, customer, provider)

    worker = _signed_in(chromium, base_url, provider.email)
    worker.goto(f"{base_url}/units/{PROVIDER}/inbox")
    worker.get_by_text("More filters").click()  # the rarer filters fold away
    worker.get_by_label("Clock").select_option("at_risk")
    worker.get_by_role("button", name="Filter").click()
    worker.wait_for_url("**clock=at_risk**")
    # A filter that is set keeps the fold open and says so.
    assert worker.locator("details.queue-filters__more[open] > summary").inner_text() == (
        "More filters (1 set)"
    )
    rows = worker.locator("#request-rows tr")
    assert rows.count() == 1
    assert "at risk" in rows.first.inner_text()  # in words, not colour alone
    # The live refresh keeps the filters.
    assert "clock=at_risk" in (worker.locator("#request-rows").get_attribute("hx-get") or "")
    worker.get_by_role("link", name="Browser queue: a VPN token").click()
    worker.wait_for_url(f"{base_url}/requests/{request_id}")
    assert "at risk" in worker.locator("#clock-state").inner_text()

    worker.get_by_label("Assign to").fill(provider.name)
    worker.get_by_role("button", name="Assign").click()
    worker.wait_for_selector(f"#assignee:has-text('{provider.name}')")
    assert worker.locator("#request-timeline li").filter(has_text="assigned to").count() == 1

    worker.get_by_label("Add a comment").fill(f"@{customer.name} which laptop is it for?")
    worker.get_by_role("button", name="Comment").click()
    worker.wait_for_selector("#request-timeline li:has-text('which laptop')")
    # One entry per line: every entry of the timeline starts below the one before it.
    tops = worker.locator("#request-timeline > li").evaluate_all(
        "items => items.map(i => i.getBoundingClientRect().top)"
    )
    assert tops == sorted(tops) and len(set(tops)) == len(tops)
    worker.goto(f"{base_url}/units/{PROVIDER}/inbox?assignee=mine")
    assert "Browser queue: a VPN token" in worker.locator("#request-rows").inner_text()

    asker = _signed_in(chromium, base_url, customer.email)
    mentions = asker.locator("#mentions")
    assert "mentioned you on “Browser queue: a VPN token”" in mentions.inner_text()
    assert "which laptop is it for?" in mentions.inner_text()
    mentions.get_by_role("link", name="Browser queue: a VPN token", exact=False).first.click()
    asker.wait_for_url(f"{base_url}/requests/{request_id}")
    asker.screenshot(path=str(SCREENSHOTS / "request-conversation.png"), full_page=True)
    assert worker.problems == [] and asker.problems == []
    worker.context.close()
    asker.context.close()
