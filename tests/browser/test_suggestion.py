"""A suggested link from request data, end to end in real Chromium against a real
uvicorn server on the demo: Sales operations files requests to the IT service desk,
whose results are not linked to it. Its lead finds the suggestion from the unit page,
reads the evidence, picks the desk's result by name and proposes the link; the desk's
lead confirms it through the API. The suggestion is then gone for both, and the link
is confirmed on the map."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import SCREENSHOTS, _watched_page
from tests.signin import make_account
from valuechain import Valuechain
from valuechain.api import PREFIX
from valuechain.domain.account import AccountRole
from valuechain.edge.dependencies import SESSION_COOKIE
from valuechain.services import accounts

pytestmark = pytest.mark.browser
CUSTOMER, PROVIDER = "sales-operations", "it-service-desk"
LEADS = {CUSTOMER: "person-049", PROVIDER: "person-075"}
KEY = {"result_id": "resolved-incidents", "customer_id": CUSTOMER, "relation": "consumes"}


def _session(vc: Valuechain, unit: str) -> str:
    email = f"suggest-{unit}@example.org"
    if accounts.account_by_email(vc, email) is None:
        make_account(vc, email, AccountRole.LEAD, person_id=LEADS[unit])
    account = accounts.account_by_email(vc, email)
    assert account is not None
    return accounts.start_session(vc, account, address="browser test").token


@pytest.fixture
def lead_page(chromium: Any, demo_vc: Valuechain, base_url: str) -> Iterator[Any]:
    """A page signed in as the lead of Sales operations."""
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    token = _session(demo_vc, CUSTOMER)
    context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": base_url}])
    yield _watched_page(context)
    context.close()


def test_a_lead_accepts_and_the_other_lead_confirms(
    lead_page: Any, demo_vc: Valuechain, base_url: str
) -> None:
    page = lead_page
    page.goto(f"{base_url}/units/{CUSTOMER}")
    page.click("#suggestions-link")
    page.wait_for_url(f"{base_url}/units/{CUSTOMER}/suggestions")
    item = page.locator(f'li.suggestion[data-provider="{PROVIDER}"]')
    evidence = item.locator(".suggestion-evidence").inner_text()
    assert evidence.startswith("Sales operations filed ")
    assert "requests to IT service desk between " in evidence
    assert evidence.endswith("no result of IT service desk is linked to Sales operations.")
    # Names, not ids, in the picker.
    page.screenshot(path=str(SCREENSHOTS / "suggestions.png"), full_page=True)
    options = item.locator("select[name=result_id] option").all_inner_texts()
    assert options == ["Resolved IT incidents"]
    item.locator("select[name=result_id]").select_option(label="Resolved IT incidents")
    item.locator("select[name=relation]").select_option(label="consumes")
    item.get_by_role("button", name="Propose the link").click()
    page.wait_for_url(f"{base_url}/units/{CUSTOMER}/suggestions")
    assert page.locator(f'li.suggestion[data-provider="{PROVIDER}"]').count() == 0

    desk = httpx.Client(
        base_url=base_url + PREFIX,
        headers={"Authorization": f"Bearer {_session(demo_vc, PROVIDER)}"},
        timeout=10,
    )
    with desk:
        waiting = desk.get("/links", params={"state": "proposed"}).json()["links"]
        mine = [x for x in waiting if x["customer_id"] == CUSTOMER]
        assert [(x["result_id"], x["proposed_side"]) for x in mine] == [
            ("resolved-incidents", CUSTOMER)
        ]
        confirmed = desk.post(f"/units/{PROVIDER}/links/confirm", json=KEY)
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["state"] == "confirmed"
        after = desk.get(f"/units/{PROVIDER}/suggestions").json()
        assert (PROVIDER, CUSTOMER) not in {
            (s["provider"], s["customer"]) for s in after["suggestions"]
        }
    assert ("resolved-incidents", CUSTOMER, "consumes") in {
        link.key for link in demo_vc.read_map().links
    }
    page.reload()
    assert page.locator(f'li.suggestion[data-provider="{PROVIDER}"]').count() == 0
    assert page.problems == []
