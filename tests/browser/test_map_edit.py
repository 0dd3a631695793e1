"""Building the map in a real browser on the demo, on a phone-sized screen: Payroll's
lead adds a result and proposes two links to Customer service by typing its name;
Customer service's lead confirms one and disputes the other; the admin finds the
dispute under Admin ▸ Open links; the map data holds the confirmed link only and the
pages show each link's state."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS, _watched_page
from tests.signin import make_account
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.edge.dependencies import SESSION_COOKIE
from valuechain.services import accounts

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
# Demo people: the leads of payroll and of customer service.
LEADS = {"payroll": "person-062", "customer-service": "person-054"}
RESULT = "payroll-salary-statements"


@pytest.fixture
def open_as(chromium: Any, demo_vc: Valuechain, base_url: str) -> Iterator[Any]:
    """A phone-sized page signed in as the admin or the lead of a demo unit."""
    contexts: list[Any] = []

    def open_page(who: str) -> Any:
        email = "admin@example.org" if who == "admin" else f"map-edit-{who}@example.org"
        if accounts.account_by_email(demo_vc, email) is None:
            make_account(demo_vc, email, AccountRole.LEAD, person_id=LEADS[who])
        account = accounts.account_by_email(demo_vc, email)
        assert account is not None
        started = accounts.start_session(demo_vc, account, address="browser test")
        context = chromium.new_context(viewport=PHONE)
        context.add_cookies([{"name": SESSION_COOKIE, "value": started.token, "url": base_url}])
        contexts.append(context)
        return _watched_page(context)

    yield open_page
    for context in contexts:
        context.close()


def _fits(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _states(where: Any) -> list[str]:
    """The states of the links shown inside ``where``, sorted."""
    return sorted(where.locator("[data-state]").evaluate_all("e => e.map(x => x.dataset.state)"))


def _card(page: Any, result: str, relation: str) -> Any:
    """The card of the link to ``result`` with ``relation`` waiting for an answer."""
    found = page.locator(f"#waiting .link-card[data-relation={relation}]").filter(has_text=result)
    assert found.count() == 1, (result, relation)
    return found


def test_propose_confirm_dispute_and_the_admin_sees_the_dispute(
    open_as: Any, base_url: str
) -> None:
    # Payroll's lead: from the unit page to "our results", a new result, two links.
    payroll = open_as("payroll")
    payroll.goto(f"{base_url}/units/payroll")
    payroll.click("#results-link")
    payroll.wait_for_selector("h1:text('Our results and who uses them')")
    payroll.fill("#new-name", "Salary statements")
    payroll.select_option("#new-kind", "finished")
    payroll.fill("#new-capacity", "400")
    payroll.click("#new-result button[type=submit]")
    payroll.wait_for_selector("[data-result='Salary statements']")
    # A name that matches no unit is refused next to the field, with what was typed kept.
    payroll.select_option("#offer-result", label="Salary statements")
    payroll.fill("#offer-customer", "Customer servce")
    payroll.click("#offer-link button[type=submit]")
    payroll.wait_for_selector("#offer-customer-error")
    assert "No unit is called “Customer servce”" in payroll.inner_text("#offer-customer-error")
    assert payroll.input_value("#offer-customer") == "Customer servce"
    _fits(payroll)
    for relation in ("depends_on", "pays"):
        payroll.select_option("#offer-result", label="Salary statements")
        payroll.fill("#offer-customer", "Customer service")
        payroll.select_option("#offer-relation", relation)
        payroll.click("#offer-link button[type=submit]")
        payroll.wait_for_load_state("networkidle")
    card = payroll.locator("[data-result='Salary statements']")
    assert card.locator("[data-state=proposed]").count() == 2
    assert "Customer service" in card.inner_text()
    _fits(payroll)
    payroll.screenshot(path=str(SCREENSHOTS / "map-edit-results.png"), full_page=True)

    # Customer service's lead: both wait for an answer; one confirmed, one disputed.
    service = open_as("customer-service")
    service.goto(f"{base_url}/units/customer-service/results")
    _fits(service)
    service.screenshot(path=str(SCREENSHOTS / "map-edit-waiting.png"), full_page=True)
    _card(service, "Salary statements", "depends_on").locator("button[data-answer=confirm]").click()
    service.wait_for_load_state("networkidle")
    disputed = _card(service, "Salary statements", "pays")
    disputed.locator("input[name=reason]").fill("We never pay for salary statements")
    disputed.locator("button[data-answer=dispute]").click()
    service.wait_for_load_state("networkidle")
    # A disputed link stays on the answering side's list: it may still confirm it.
    assert "You disputed it" in _card(service, "Salary statements", "pays").inner_text()
    used = service.locator("#used li").filter(has_text="Salary statements")
    assert _states(used) == ["confirmed", "disputed"]

    # The admin: Admin ▸ Open links lists the dispute with both names and the reason.
    admin = open_as("admin")
    admin.goto(f"{base_url}/")
    admin.click("button.menu-toggle")
    admin.click(".site-nav__more summary")
    admin.click("a[href='/admin/links']")
    admin.wait_for_selector("h1:text('Open links')")
    dispute = admin.locator("#open-links .link-card[data-state=disputed]").filter(
        has_text="Salary statements"
    )
    text = dispute.inner_text()
    assert "Customer service" in text and "Payroll" in text
    assert "We never pay for salary statements" in text
    _fits(admin)
    admin.screenshot(path=str(SCREENSHOTS / "map-edit-open-links.png"), full_page=True)

    # The map data: the confirmed link is on the map, the disputed one is not, and
    # the list of open links names it as disputed.
    doc = admin.request.get(f"{base_url}/api/v1/map?limit=5000").json()
    links = {(x["result"], x["customer"], x["relation"]) for x in doc["links"]}
    assert (RESULT, "customer-service", "depends_on") in links
    assert (RESULT, "customer-service", "pays") not in links
    open_links = admin.request.get(f"{base_url}/api/v1/links").json()["links"]
    assert [(x["relation"], x["state"]) for x in open_links if x["result_id"] == RESULT] == [
        ("pays", "disputed")
    ]
    # Payroll's page now shows each state.
    payroll.goto(f"{base_url}/units/payroll/results")
    assert _states(payroll.locator("[data-result='Salary statements']")) == [
        "confirmed",
        "disputed",
    ]
    # The refused form answered 422 (the page shows it); nothing else went wrong.
    assert [p for p in payroll.problems if "422" not in p] == []
    for page in (service, admin):
        assert page.problems == []
