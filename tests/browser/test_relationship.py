"""Partner & Improve in a real browser: a provider lead and a customer lead each fill
their side of the workspace, an action is created from the largest disagreement, and
after a new campaign its verdict shows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from tests.browser.conftest import _watched_page
from tests.signin import make_account
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.domain.instrument import SERVICE_FACTORS
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.response import Answer, Response
from valuechain.edge.dependencies import SESSION_COOKIE
from valuechain.services import accounts

pytestmark = pytest.mark.browser
URL = "/relationships/production-planning/assembly"


@pytest.fixture
def lead_page(chromium: Any, demo_vc: Valuechain, base_url: str) -> Iterator[Any]:
    """Open pages signed in as the lead of a unit: ``lead_page(unit)``."""
    contexts: list[Any] = []
    leads = {p.unit_id: p for p in demo_vc.read_map().people if p.role.value == "lead"}

    def open_as(unit: str) -> Any:
        email = f"lead-{unit}@example.org"
        if accounts.account_by_email(demo_vc, email) is None:
            make_account(demo_vc, email, AccountRole.LEAD, person_id=leads[unit].id)
        account = accounts.account_by_email(demo_vc, email)
        assert account is not None
        started = accounts.start_session(demo_vc, account, address="browser test")
        context = chromium.new_context(viewport={"width": 1280, "height": 1000})
        context.add_cookies([{"name": SESSION_COOKIE, "value": started.token, "url": base_url}])
        contexts.append(context)
        return _watched_page(context)

    yield open_as
    for context in contexts:
        context.close()


def _next_campaign(vc: Valuechain) -> None:
    """2026-Q3: assembly rates production planning far better on every dimension."""
    responses = [
        Response(
            id=f"2026-q3-{i:03d}",
            campaign="2026-q3",
            instrument=SERVICE_FACTORS.key,
            rater_id="assembly",
            rated_id="production-planning",
            submitted_on=date(2026, 9, 7),
            answers=[
                Answer(item.key, item.dimension, float(6 + i % 2)) for item in SERVICE_FACTORS.items
            ],
        )
        for i in range(20)
    ]
    vc.write_map(OrganisationMap(responses=responses))


def test_both_sides_fill_in_and_an_action_gets_its_verdict(
    lead_page: Any, base_url: str, demo_vc: Valuechain
) -> None:
    provider = lead_page("production-planning")
    provider.goto(base_url + URL)
    side = provider.locator("[data-side=provider]")
    side.get_by_label("Kind").select_option("need")
    side.get_by_label("What Production planning wants the other side to know").fill(
        "Completed orders confirmed by Friday noon."
    )
    side.get_by_role("button", name="Add").click()
    entry = provider.locator("[data-side=provider] li", has_text="Friday noon")
    entry.wait_for()

    customer = lead_page("assembly")
    customer.goto(base_url + URL)
    theirs = customer.locator("[data-side=customer]")
    theirs.get_by_label("Kind").select_option("challenge")
    theirs.get_by_label("What Assembly wants the other side to know").fill(
        "The plan changes twice a week."
    )
    theirs.get_by_role("button", name="Add").click()
    customer.locator("[data-side=customer] li", has_text="twice a week").wait_for()
    marked = customer.locator("[data-side=provider] li", has_text="Friday noon")
    marked.locator("select").select_option("conflict")
    marked.get_by_role("button", name="Mark").click()
    customer.locator("[data-side=provider] li", has_text="Friday noon").locator(
        ".badge", has_text="conflict"
    ).wait_for()

    # The largest disagreement is highlighted; acting on it fills the action form.
    assert customer.locator("tr.largest-disagreement").count() == 1
    customer.get_by_role("link", name="Act on the largest disagreement").click()
    assert customer.get_by_label("What will be done").input_value().startswith("Close the gap")
    customer.get_by_label("Owner").fill("Assembly lead")
    customer.get_by_label("Due").fill("2026-12-31")
    customer.get_by_role("button", name="Create action").click()
    row = customer.locator("tr[data-action]", has_text="Close the gap")
    row.wait_for()
    assert row.locator(".verdict").inner_text() == "not measured yet"

    _next_campaign(demo_vc)
    customer.reload()
    verdict = customer.locator("tr[data-action]", has_text="Close the gap").locator(".verdict")
    assert verdict.inner_text() == "improved"
    assert provider.problems == [] and customer.problems == []
