"""Every page each role can click its way to, on a phone and on a laptop, and
accessible.

A crawl per role starts at the home page and follows the links the pages show (as a
user clicking would, never a typed URL), visiting a few pages of every route. Each
page must answer (no link leads to a page the role may not see), must not scroll
sideways at 390 px or 1366 px, at 1366 px the header is one row, and axe-core finds
no serious or critical WCAG 2.1 AA violation. ``SCREENSHOTS=DIR`` (``make
screenshots``) also saves every page at both widths, per role. The crawl also
proves the everyday pages are reachable: a lead reaches their unit's report, a
relationship page and the inbox by clicking."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import _watched_page
from tests.signin import make_account
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.edge.dependencies import SESSION_COOKIE
from valuechain.services import accounts
from valuechain.web.app import ROUTERS

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
ROLES: dict[str, tuple[AccountRole, str | None]] = {
    "admin": (AccountRole.ADMIN, None),
    "lead": (AccountRole.LEAD, "person-062"),  # the lead of payroll
    "member": (AccountRole.MEMBER, "person-063"),  # a member of payroll
    "viewer": (AccountRole.VIEWER, None),
}
# Pages of one route visited per role: enough to see a route's variants (one's own
# unit and another) without visiting every unit.
PER_ROUTE = 2
# Not pages: downloads, the API reference, signing out, survey links.
SKIP = re.compile(r"^/(static/|docs|openapi\.json|redoc|signout|s/|api/)|\.(pdf|csv|json)$")
# axe-core, vendored for the tests only (tests/browser/vendor/axe-core/VERSION).
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA rules; a page fails on a serious or critical violation.
AXE_RUN = """async () => {
  const found = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    resultTypes: ["violations"],
  });
  return found.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.id} (${v.impact}): `
      + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "));
}"""
ROUTES = [route for router in ROUTERS for route in router.routes if hasattr(route, "path_regex")]


def _route_of(path: str) -> str:
    """The route template a path belongs to (``/units/{unit_id}``), the unit of the
    per-route budget."""
    for route in ROUTES:
        if "GET" in getattr(route, "methods", ()) and route.path_regex.match(path):
            return str(route.path)
    return path


@pytest.fixture
def open_as(chromium: Any, demo_vc: Valuechain, base_url: str) -> Iterator[Any]:
    contexts: list[Any] = []

    def open_page(who: str) -> Any:
        role, person = ROLES[who]
        email = f"layout-{who}@example.org"
        if accounts.account_by_email(demo_vc, email) is None:
            make_account(demo_vc, email, role, person_id=person)
        account = accounts.account_by_email(demo_vc, email)
        assert account is not None
        started = accounts.start_session(demo_vc, account, address="browser test")
        # The page's policy would refuse the injected axe-core (tests/browser/test_csp.py
        # checks the policy itself).
        context = chromium.new_context(viewport=PHONE, bypass_csp=True)
        context.add_cookies([{"name": SESSION_COOKIE, "value": started.token, "url": base_url}])
        contexts.append(context)
        return _watched_page(context)

    yield open_page
    for context in contexts:
        context.close()


def _links(page: Any) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all(
        "a[href]:not([download])", "els => els.map(e => e.getAttribute('href'))"
    )
    paths = []
    for href in hrefs:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            continue
        if SKIP.search(parts.path):
            continue
        paths.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return paths


def _overflow(page: Any, width: int) -> str | None:
    """What sticks out sideways at ``width``: the widest elements beyond the viewport."""
    scroll = page.evaluate("document.documentElement.scrollWidth")
    if scroll <= width:
        return None
    culprits = page.evaluate(
        """(w) => [...document.querySelectorAll('body *')]
             .filter(e => e.getBoundingClientRect().right > w + 1)
             .filter(e => !e.closest('.table-scroll, .chart-scroll, .cy'))
             .slice(0, 5)
             .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                       + ' ' + Math.round(e.getBoundingClientRect().right) + 'px')""",
        width,
    )
    return f"{scroll} px wide ({', '.join(culprits)})"


def _accessibility(page: Any) -> list[str]:
    """The serious and critical WCAG 2.1 AA violations axe-core finds on the page."""
    page.add_script_tag(path=str(AXE))
    found: list[str] = page.evaluate(AXE_RUN)
    return found


def _shoot(page: Any, shots: Path | None, path: str, width: int) -> None:
    """A full-page screenshot of ``path`` at ``width`` into ``shots`` (``make
    screenshots``), named after the path."""
    if shots is not None:
        name = re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-") or "home"
        page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)


def crawl(
    page: Any, base_url: str, start: str, prefer: str | None, shots: Path | None = None
) -> tuple[list[str], dict[str, list[str]]]:
    """Visit what the role can click to from ``start``; the problems found, by path.
    Paths naming ``prefer`` (the role's own unit) are visited first. Returns the
    paths visited and the problems found on each; with ``shots``, a screenshot of
    each page at both widths is written there."""
    queue: list[tuple[str, str]] = [(start, "(start)")]
    seen = {start}
    per_route: Counter[str] = Counter()
    problems: dict[str, list[str]] = {}
    visited: list[str] = []
    while queue:
        path, parent = queue.pop(0)
        route = _route_of(urlsplit(path).path)
        if per_route[route] >= PER_ROUTE:
            continue
        per_route[route] += 1
        page.set_viewport_size(PHONE)
        answer = page.goto(base_url + path)
        visited.append(path)
        if answer is None or answer.status >= 400:
            problems[path] = [f"HTTP {answer and answer.status}, linked from {parent}"]
            continue
        page.wait_for_load_state("networkidle")
        found = []
        if (wide := _overflow(page, PHONE["width"])) is not None:
            found.append(f"at 390 px: {wide}")
        _shoot(page, shots, path, PHONE["width"])
        page.set_viewport_size(LAPTOP)
        if (wide := _overflow(page, LAPTOP["width"])) is not None:
            found.append(f"at 1366 px: {wide}")
        _shoot(page, shots, path, LAPTOP["width"])
        header = page.locator(".site-header__inner").bounding_box()
        if header is not None and header["height"] > 64:
            found.append(f"at 1366 px the header is {header['height']:.0f} px high")
        found += _accessibility(page)
        if found:
            problems[path] = found
        for link in _links(page):
            if link not in seen:
                seen.add(link)
                queue.append((link, path))
        if prefer is not None:
            queue.sort(key=lambda item: prefer not in item[0])
    return visited, problems


@pytest.mark.parametrize("who", list(ROLES))
def test_every_page_a_role_can_click_to_fits_and_answers(
    open_as: Any, base_url: str, demo_vc: Valuechain, who: str
) -> None:
    page = open_as(who)
    own = next((p.unit_id for p in demo_vc.read_map().people if p.id == ROLES[who][1]), None)
    shots = None
    if os.environ.get("SCREENSHOTS"):  # `make screenshots`
        shots = Path(os.environ["SCREENSHOTS"]) / who
        shots.mkdir(parents=True, exist_ok=True)
    visited, found = crawl(page, base_url, "/", own, shots)
    if os.environ.get("LAYOUT_REPORT"):
        with open(os.environ["LAYOUT_REPORT"], "a") as out:
            out.write(f"## {who}\n" + "".join(f"{k}: {v}\n" for k, v in found.items()))
            out.write("visited: " + " ".join(visited) + "\n")
    assert found == {}
    if who == "lead":
        # The everyday pages of a lead are a click away, not a typed URL.
        assert f"/units/{own}/report" in visited
        assert f"/units/{own}/inbox" in visited
        assert any(v.startswith("/relationships/") for v in visited)
    if who == "member":
        assert f"/units/{own}/inbox" in visited
    assert [p for p in page.problems if not p.startswith("HTTP 4")] == []
