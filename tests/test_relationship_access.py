"""Relationship routes under attack, against a real server on loopback: each role, with
nothing but its own bearer token, asks every ``/relationships/...`` page and
``/api/v1/relationships/...`` endpoint of the demo organisation.

- A relationship that is not on the map (Payroll uses no result of Production
  planning) answers 404 to every role, admins included, before anything is read.
- A member of either side sees the relationship's page without one survey number
  (scores, topic means, differences, the health that blends them, action before/after)
  and no service levels; its report (JSON, page, PDF) is refused.
- The two sides' leads and admins see the numbers; a lead of another unit, even one
  related to a side, and a viewer are refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.browser.conftest import serving
from tests.conftest import DEMO_ORGANISATION, TEST_SECURITY, demo_copy
from tests.signin import PASSWORD, make_account
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.services.errors import NotFound
from valuechain.services.report import report
from valuechain.web import partner as partner_pages
from valuechain.web import report as report_pages
from valuechain.web.app import create_app

REAL = ("payroll", "assembly")  # payroll's payroll run is used by assembly
MISSING = ("production-planning", "payroll")  # payroll uses nothing of planning
# Who asks: role -> (account role, demo person or None).
WHO: dict[str, tuple[AccountRole, str | None]] = {
    "admin": (AccountRole.ADMIN, None),
    "provider_lead": (AccountRole.LEAD, "person-062"),  # payroll
    "provider_member": (AccountRole.MEMBER, "person-063"),  # payroll
    "customer_lead": (AccountRole.LEAD, "person-020"),  # assembly
    "customer_member": (AccountRole.MEMBER, "person-021"),  # assembly
    "planning_lead": (AccountRole.LEAD, "person-013"),  # production planning
    "other_lead": (AccountRole.LEAD, "person-022"),  # packing: a customer of assembly
    "viewer": (AccountRole.VIEWER, None),
}
MEMBERS = ("provider_member", "customer_member")
SIDE_LEADS = ("provider_lead", "customer_lead")


@dataclass
class Server:
    url: str
    tokens: dict[str, str]
    vc: Valuechain

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return httpx.request(
            method, self.url + path, headers=headers, timeout=60, follow_redirects=False, **kwargs
        )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with demo_copy(request, request.param, tmp_path_factory.mktemp("rel")) as url:
        yield from _serve_demo(url)


def _serve_demo(url: str) -> Iterator[Server]:
    vc = Valuechain.open(url, DEMO_ORGANISATION, security=TEST_SECURITY)
    for who, (role, person) in WHO.items():
        make_account(vc, f"{who}@example.org", role, person_id=person)
    with serving(lambda _url: create_app(vc)) as base:
        tokens = {}
        for who in WHO:
            answer = httpx.post(
                f"{base}/api/v1/session",
                json={"email": f"{who}@example.org", "password": PASSWORD},
            )
            assert answer.status_code == 201, answer.text
            tokens[who] = answer.json()["token"]
        yield Server(base, tokens, vc)
    vc.engine.dispose()


def routes(provider: str, customer: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Every relationship route of the app, for one pair, with a body that would do."""
    rel = f"/relationships/{provider}/{customer}"
    action = {"title": "t", "owner": "o", "due_on": "2099-01-01", "instrument": "service_factors"}
    return [
        ("GET", f"/api/v1{rel}", {}),
        ("GET", f"/api/v1{rel}/report", {}),
        ("POST", f"/api/v1{rel}/workspace", {"json": {"kind": "need", "text": "x"}}),
        ("POST", f"/api/v1{rel}/workspace/nope/mark", {"json": {"alignment": None}}),
        ("POST", f"/api/v1{rel}/actions", {"json": action}),
        ("POST", f"/api/v1{rel}/actions/nope/status", {"json": {"status": "done"}}),
        ("GET", rel, {}),
        ("GET", f"{rel}/report", {}),
        ("GET", f"{rel}/report.pdf", {}),
        ("POST", f"{rel}/workspace", {"data": {"kind": "need", "text": "x"}}),
        ("POST", f"{rel}/workspace/nope/mark", {"data": {"alignment": "aligned"}}),
        ("POST", f"{rel}/actions", {"data": {**action, "metric": "service_factors"}}),
        ("POST", f"{rel}/actions/nope/status", {"data": {"status": "done"}}),
    ]


def test_every_relationship_route_is_in_the_attack(server: Server) -> None:
    """The routes above are all the app's relationship routes (the facilitator's list
    aside), so a new one cannot escape these tests."""
    app_paths = {
        (method, path)
        for path, ops in httpx.get(server.url + "/openapi.json").json()["paths"].items()
        for method in (m.upper() for m in ops)
        if path.startswith("/api/v1/relationships/")
    }
    attacked = {
        (m, p.replace("payroll/assembly", "{provider_id}/{customer_id}"))
        for m, p, _ in routes(*REAL)
    }
    generic = {
        (m, re.sub(r"/nope/", "/{entry_id}/" if "workspace" in p else "/{action_id}/", p))
        for m, p in attacked
    }
    assert app_paths <= generic
    pages = {
        (method, route.path)
        for module in (partner_pages, report_pages)
        for route in module.router.routes
        for method in getattr(route, "methods", ())
        if route.path.startswith("/relationships/")  # type: ignore[attr-defined]
    }
    assert pages <= generic


@pytest.mark.parametrize("who", list(WHO))
def test_a_relationship_not_on_the_map_is_not_found_for_every_role(
    server: Server, who: str
) -> None:
    unknown_units = [
        (method, path.replace(f"{MISSING[0]}/{MISSING[1]}", pair), kwargs)
        for pair in ("payroll/no-such-unit", "no-such-unit/payroll")
        for method, path, kwargs in routes(*MISSING)[:2]
    ]
    wrong = [
        f"{method} {path}: {answer.status_code}"
        for method, path, kwargs in routes(*MISSING) + unknown_units
        if (answer := server.call(who, method, path, **kwargs)).status_code != 404
    ]
    assert wrong == []


def _both_sides_table(html: str) -> str:
    found = re.search(r'<table class="data both-sides">.*?</table>', html, re.S)
    assert found, "the page has no both-sides table"
    return found.group(0)


def _actions_table(html: str) -> str:
    found = re.search(r'<section aria-labelledby="actions-heading".*?</table>', html, re.S)
    assert found, "the page has no actions table"
    return found.group(0)


NUMBER = re.compile(r"\d\.\d\d")


def test_admins_see_the_numbers(server: Server) -> None:
    """The baseline the attack compares with: the demo's relationship has numbers."""
    doc = server.call("admin", "GET", "/api/v1/relationships/payroll/assembly").json()
    assert doc["health"]["customer_view"] is not None and doc["health"]["health"] is not None
    assert all(t["customers_rate_provider"] for t in doc["topics"])
    assert any(a["result"]["before"] for a in doc["actions"])
    page = server.call("admin", "GET", "/relationships/payroll/assembly").text
    assert NUMBER.search(_both_sides_table(page)) and NUMBER.search(_actions_table(page))
    assert 'class="health-score"' in page


@pytest.mark.parametrize("who", MEMBERS)
def test_members_see_no_survey_numbers(server: Server, who: str) -> None:
    doc = server.call(who, "GET", "/api/v1/relationships/payroll/assembly")
    assert doc.status_code == 200
    body = doc.json()
    health = body["health"]
    for key in ("customer_view", "provider_view", "health", "coverage", "sla_met_pct"):
        assert health[key] is None, key
    for key in ("customer_view", "provider_view", "sla", "thanks"):
        assert health["components"][key] is None, key
    assert body["largest_disagreement"] is None
    for topic in body["topics"]:
        assert topic["customers_rate_provider"] is None
        assert topic["providers_rate_customer"] is None
        assert topic["difference"] is None
    assert body["actions"] and all(a["result"] is None for a in body["actions"])
    assert body["shown"] == {
        "provider_results": False,
        "customer_results": False,
        "service_levels": False,
        "summary": True,
    }
    page = server.call(who, "GET", "/relationships/payroll/assembly")
    assert page.status_code == 200
    assert not NUMBER.search(_both_sides_table(page.text))
    assert not NUMBER.search(_actions_table(page.text))
    assert 'class="health-score"' not in page.text
    assert "/relationships/payroll/assembly/report" not in page.text  # no dead link
    for path in (
        "/api/v1/relationships/payroll/assembly/report",
        "/relationships/payroll/assembly/report",
        "/relationships/payroll/assembly/report.pdf",
    ):
        assert server.call(who, "GET", path).status_code == 403, path


@pytest.mark.parametrize("who", SIDE_LEADS)
def test_the_two_sides_leads_see_the_numbers(server: Server, who: str) -> None:
    body = server.call(who, "GET", "/api/v1/relationships/payroll/assembly").json()
    assert body["health"]["health"] is not None
    assert all(t["customers_rate_provider"] for t in body["topics"])
    assert any(a["result"] and a["result"]["before"] for a in body["actions"])
    assert set(body["shown"].values()) == {True}
    report_doc = server.call(who, "GET", "/api/v1/relationships/payroll/assembly/report")
    assert report_doc.status_code == 200
    assert all({"payroll"} <= set(f["units"]) for f in report_doc.json()["findings"])


@pytest.mark.parametrize("who", ["other_lead", "planning_lead", "viewer"])
def test_others_are_refused_on_a_real_relationship(server: Server, who: str) -> None:
    wrong = [
        f"{method} {path}: {answer.status_code}"
        for method, path, kwargs in routes(*REAL)
        if (answer := server.call(who, method, path, **kwargs)).status_code != 403
    ]
    assert wrong == []


def test_the_report_service_refuses_a_relationship_not_on_the_map(server: Server) -> None:
    """The command line's ``valuechain report --relationship`` too."""
    with pytest.raises(NotFound, match="no such relationship"):
        report(server.vc, relationship=MISSING)
