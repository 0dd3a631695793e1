"""The Content-Security-Policy in a real browser: the main pages of each role, and a
survey link sent back with a problem, load and run (charts drawn, htmx working)
without one violation reported on the console or as a ``securitypolicyviolation``
event."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import _watched_page, wait_until
from tests.signin import make_account
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.edge.dependencies import SESSION_COOKIE
from valuechain.services import accounts, campaign

pytestmark = pytest.mark.browser
LINK = re.compile(r"(/s/[A-Za-z0-9_-]+)")
# Collects violations the page itself sees (e.g. a blocked style attribute).
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""
COMMON = ["/", "/map", "/units", "/units/payroll", "/flow"]
PAGES: dict[str, tuple[AccountRole, str | None, list[str]]] = {
    "admin": (
        AccountRole.ADMIN,
        None,
        [*COMMON, "/units/payroll/dashboard", "/relationships", "/relationships/payroll/assembly",
         "/reports", "/units/payroll/report", "/units/payroll/agreements", "/admin/accounts",
         "/admin/audit", "/campaigns", "/units/payroll/connect", "/requests"],
    ),
    "lead": (
        AccountRole.LEAD,
        "person-062",  # payroll
        [*COMMON, "/units/payroll/dashboard", "/relationships/payroll/assembly",
         "/units/payroll/agreements", "/units/payroll/inbox", "/requests",
         "/settings/notifications"],
    ),
    "member": (
        AccountRole.MEMBER,
        "person-063",
        [*COMMON, "/relationships/payroll/assembly", "/units/payroll/agreements", "/requests"],
    ),
    "viewer": (AccountRole.VIEWER, None, COMMON),
}  # fmt: skip


def _violations(page: Any) -> list[str]:
    console = [p for p in page.problems if "Content Security Policy" in p]
    seen: list[str] = page.evaluate("window.__violations || []")
    return console + seen


@pytest.fixture
def open_as(chromium: Any, demo_vc: Valuechain, base_url: str) -> Iterator[Any]:
    contexts: list[Any] = []

    def open_page(who: str) -> Any:
        role, person, _ = PAGES[who]
        email = f"csp-{who}@example.org"
        if accounts.account_by_email(demo_vc, email) is None:
            make_account(demo_vc, email, role, person_id=person)
        account = accounts.account_by_email(demo_vc, email)
        assert account is not None
        started = accounts.start_session(demo_vc, account, address="browser test")
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        context.add_cookies([{"name": SESSION_COOKIE, "value": started.token, "url": base_url}])
        context.add_init_script(LISTEN)
        contexts.append(context)
        return _watched_page(context)

    yield open_page
    for context in contexts:
        context.close()


@pytest.mark.parametrize("who", list(PAGES))
def test_the_main_pages_run_under_the_policy(open_as: Any, base_url: str, who: str) -> None:
    page = open_as(who)
    found: list[str] = []
    for path in PAGES[who][2]:
        answer = page.goto(base_url + path)
        assert answer is not None and answer.status == 200, path
        assert "default-src 'self'" in answer.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        if path.endswith("/dashboard"):  # Vega draws its charts under the policy
            page.wait_for_selector("[data-chart][data-rendered]")
            assert page.locator("[data-rendered='error']").count() == 0
        if path == "/flow":  # htmx loads the what-if fragment under the policy
            page.locator("#capacity").fill("40")
            page.wait_for_selector("#what-if-result :is(table, p, figure)")
            assert page.locator("#capacity-out").text_content() == "+40%"
        found += [f"{path}: {v}" for v in _violations(page)]
    assert found == []
    # No script failed either (a refused eval shows as a page error). Chromium's own
    # request for /favicon.ico on one page is no concern of the policy.
    assert [p for p in page.problems if p.startswith("page error")] == []


def test_a_survey_sent_back_runs_under_the_policy(
    chromium: Any, base_url: str, demo_vc: Valuechain, smtp_server: Any
) -> None:
    people = demo_vc.read_map().people
    with_people = {p.unit_id for p in people}
    provider, customer = next(
        pair for pair in campaign.default_relationships(demo_vc) if pair[1] in with_people
    )
    campaign.create_campaign(
        demo_vc, "csp-survey", name="CSP survey", instrument="service_factors",
        relationships=[(provider, customer)],
    )  # fmt: skip
    assert campaign.invite(demo_vc, "csp-survey", base=base_url) >= 1
    person = next(p for p in people if p.unit_id == customer)
    (mail,) = smtp_server.to(person.email)
    context = chromium.new_context()
    context.add_init_script(LISTEN)
    page = _watched_page(context)
    try:
        page.goto(base_url + LINK.findall(mail.get_content())[0])
        page.locator("button[type=submit]").last.click()  # nothing answered: sent back
        page.wait_for_selector("#error-summary")
        # The summary takes the focus (survey.js, no inline script).
        wait_until(page, "document.activeElement.id === 'error-summary'")
        assert _violations(page) == []
        assert [p for p in page.problems if "422" not in p] == []
    finally:
        context.close()


@pytest.mark.parametrize(
    ("path", "drawn"),
    [("/docs", ".opblock-summary-path"), ("/redoc", "[data-section-id^='tag/'], .menu-content li")],
)
def test_the_api_docs_work_offline_under_their_policy(
    chromium: Any, base_url: str, path: str, drawn: str
) -> None:
    """Swagger UI and ReDoc render the schema with every request to another site
    refused: their assets are the app's own (vendored), so the docs work offline."""
    context = chromium.new_context()
    context.add_init_script(LISTEN)
    outside: list[str] = []

    def refuse_outside(route: Any) -> None:
        outside.append(route.request.url)
        route.abort()

    context.route(
        lambda url: not url.startswith(base_url) and not url.startswith(("data:", "blob:")),
        refuse_outside,
    )
    page = _watched_page(context)
    try:
        answer = page.goto(base_url + path)
        assert answer is not None and answer.status == 200
        page.wait_for_selector(drawn, timeout=20_000)
        assert page.locator(drawn).count() > 5
        assert outside == []
        assert _violations(page) == []
        assert [p for p in page.problems if p.startswith("page error")] == []
    finally:
        context.close()
