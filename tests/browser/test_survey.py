"""Answering a survey in a real browser on a phone-sized screen, with the keyboard
only: open the single-use link, answer every question, fix the one left out from
the error summary, send, see the thank-you page, and find the link used up; the
admin's campaign page shows the group as suppressed (one answer is below the
threshold)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS, wait_until
from valuechain import Valuechain
from valuechain.domain.instrument import SERVICE_FACTORS
from valuechain.services import campaign

pytestmark = pytest.mark.browser
LINK = re.compile(r"(/s/[A-Za-z0-9_-]+)")
CHOSEN = 5  # every question is answered 5 on its 1–7 scale


def _active(page: Any) -> str:
    name: str = page.evaluate("document.activeElement.name || document.activeElement.id")
    return name


def _press_until(page: Any, name: str, limit: int = 40) -> None:
    for _ in range(limit):
        if _active(page) == name:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {name}, stuck at {_active(page)!r}")


def test_answer_a_survey_with_the_keyboard(
    anonymous_page: Any, page: Any, base_url: str, demo_vc: Valuechain, smtp_server: Any
) -> None:
    people = demo_vc.read_map().people
    units_with_people = {p.unit_id for p in people}
    provider, customer = next(
        pair for pair in campaign.default_relationships(demo_vc) if pair[1] in units_with_people
    )
    campaign.create_campaign(
        demo_vc,
        "browser-survey",
        name="Browser survey",
        instrument="service_factors",
        relationships=[(provider, customer)],
    )
    assert campaign.invite(demo_vc, "browser-survey", base=base_url) >= 1
    person = next(p for p in people if p.unit_id == customer)
    (mail,) = smtp_server.to(person.email)
    link = base_url + LINK.findall(mail.get_content())[0]

    survey = anonymous_page
    survey.goto(link)
    assert survey.locator("html").get_attribute("lang") == "en"
    assert survey.evaluate("document.documentElement.scrollWidth") <= 390
    rated = [i for i in SERVICE_FACTORS.items if i.scale is not None]
    # Answer every question but the last by keyboard: Tab into a radio group, arrow
    # keys move the choice (ArrowRight from the unchecked first radio checks 2).
    _press_until(survey, f"p-{rated[0].key}")
    for item in rated[:-1]:
        assert _active(survey) == f"p-{item.key}"
        for _ in range(CHOSEN - 1):
            survey.keyboard.press("ArrowRight")
        survey.keyboard.press("Tab")
    _press_until(survey, "comment")
    survey.keyboard.type("Answers within the hour, thank you.")
    survey.keyboard.press("Tab")
    survey.keyboard.press("Enter")

    # The one left out: the error summary takes focus and links to it; nothing typed is lost.
    summary = survey.locator("#error-summary")
    summary.wait_for()
    # survey.js moves the focus once the page has loaded: wait for it, not a moment.
    wait_until(survey, "document.activeElement.id === 'error-summary'")
    assert "Choose an answer from 1 to 7." in summary.inner_text()
    assert survey.locator("#comment").input_value() == "Answers within the hour, thank you."
    assert survey.locator("input[type=radio]:checked").count() == len(rated) - 1
    survey.screenshot(path=str(SCREENSHOTS / "survey-error-phone.png"), full_page=True)
    survey.keyboard.press("Tab")
    assert survey.evaluate("document.activeElement.getAttribute('href')") == (
        f"#p-{rated[-1].key}-1"
    )
    survey.keyboard.press("Enter")
    _press_until(survey, f"p-{rated[-1].key}")
    for _ in range(CHOSEN - 1):
        survey.keyboard.press("ArrowRight")
    _press_until(survey, "comment")
    survey.keyboard.press("Tab")
    survey.keyboard.press("Enter")

    survey.wait_for_url(f"{base_url}/survey/thanks")
    assert survey.locator("h1").inner_text() == "Thank you"
    survey.screenshot(path=str(SCREENSHOTS / "survey-thanks-phone.png"))

    # The link is used up.
    survey.goto(link)
    assert survey.locator("h1").inner_text() == "This link no longer works"
    assert re.findall(r"HTTP (\d+)", " ".join(survey.problems)) == ["422", "410"]

    # The admin's campaign page: one answer is below the threshold, so no rate.
    page.goto(f"{base_url}/campaigns/browser-survey")
    row = page.locator("table.data").first.locator("tbody tr").first
    assert "suppressed" in row.inner_text()

    # Until the campaign closes its answers are sealed: the dashboard shows the last
    # closed campaign. Closing publishes them, and the dashboard moves to the new
    # campaign, where the one answer is a group below the threshold: suppressed.
    # (Each page is left only when it is idle: an aborted favicon fetch is a problem.)
    page.wait_for_load_state("networkidle")
    page.goto(f"{base_url}/units/{provider}/dashboard")
    page.wait_for_load_state("networkidle")
    assert "latest campaign browser-survey" not in page.locator("main").inner_text()
    page.goto(f"{base_url}/campaigns/browser-survey")
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Close the campaign").click()
    page.wait_for_load_state("networkidle")
    page.goto(f"{base_url}/units/{provider}/dashboard")
    page.wait_for_load_state("networkidle")
    text = page.locator("main").inner_text()
    assert "latest campaign browser-survey" in text
    heat = page.locator("#table-heat tr", has_text=customer)
    assert heat.locator("[data-suppressed='true']").count() >= 1
    assert page.problems == []
