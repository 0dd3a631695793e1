"""Query-count baselines per route (NetBox style): every main page and API route is
requested through the real app on the demo data, on SQLite and on PostgreSQL, and the
connections it takes from the pool and the statements it runs are counted (SQLAlchemy
events "checkout" and "before_cursor_execute"). ``tests/query_counts.json`` holds the
baselines: a route whose count rises above its baseline fails; one whose count falls
fails too, with the command that lowers the baseline, so the figures only go down.

Update the file after a change that lowers (or, deliberately, raises) a count::

    UPDATE_QUERY_COUNTS=1 pytest tests/test_query_counts.py
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, event

from tests.builders import customer_and_provider
from tests.conftest import TEST_SECURITY
from tests.signin import form_token, make_account, sign_in
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.domain.person import Person
from valuechain.services.demo import ensure_demo
from valuechain.web.app import create_app

BASELINES = Path(__file__).with_name("query_counts.json")
UPDATE = os.environ.get("UPDATE_QUERY_COUNTS") == "1"
UNIT = "payroll"
PROVIDER, CUSTOMER = "production-planning", "assembly"

# What this module measured, written to BASELINES at the end when UPDATE is set.
_measured: dict[str, dict[str, dict[str, int]]] = {}


@dataclass
class Counter:
    """Connections checked out and statements executed on one engine while armed."""

    connections: int = 0
    statements: int = 0
    armed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def checkout(self, *_: Any) -> None:
        if self.armed:
            with self.lock:
                self.connections += 1

    def execute(self, *_: Any) -> None:
        if self.armed:
            with self.lock:
                self.statements += 1

    def measure(self, call: Callable[[], Response]) -> tuple[Response, int, int]:
        """``call``'s answer and the connections and statements it took."""
        self.connections = self.statements = 0
        self.armed = True
        try:
            answer = call()
        finally:
            self.armed = False
        return answer, self.connections, self.statements


@dataclass
class Site:
    """The demo organisation served by the app, with an admin and a member signed in."""

    database: str
    vc: Valuechain
    counter: Counter
    admin: TestClient
    member: TestClient
    provider_of_member: str


def _pair(vc: Valuechain) -> tuple[Person, str]:
    """A member of an internal customer unit, and one of its internal providers."""
    member, provider, _ = customer_and_provider(vc.read_map())
    return member, provider


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('counts') / 'demo.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    vc = Valuechain.open(url, f"counts-{uuid.uuid4().hex[:8]}", security=TEST_SECURITY, create=True)
    assert ensure_demo(vc)
    make_account(vc)
    person, provider = _pair(vc)
    make_account(vc, person.email, AccountRole.MEMBER, person_id=person.id)
    counter = Counter()
    engine: Engine = vc.engine
    event.listen(engine, "checkout", counter.checkout)
    event.listen(engine, "before_cursor_execute", counter.execute)
    app = create_app(vc)
    with TestClient(app) as admin, TestClient(app) as member:
        sign_in(admin)
        sign_in(member, person.email)
        yield Site(request.param, vc, counter, admin, member, provider)
    event.remove(engine, "checkout", counter.checkout)
    event.remove(engine, "before_cursor_execute", counter.execute)
    vc.engine.dispose()


def _get(path: str, *, member: bool = False) -> Callable[[Site], Callable[[], Response]]:
    def request(site: Site) -> Callable[[], Response]:
        client = site.member if member else site.admin
        return lambda: client.get(path, follow_redirects=False)

    return request


ROUTES: dict[str, Callable[[Site], Callable[[], Response]]] = {
    "GET /": _get("/"),
    "GET /map": _get("/map"),
    "GET /units": _get("/units"),
    "GET /units/{unit}": _get(f"/units/{UNIT}"),
    "GET /units/{unit}/dashboard": _get(f"/units/{UNIT}/dashboard"),
    "GET /units/{unit}/agreements": _get(f"/units/{UNIT}/agreements"),
    "GET /units/{unit}/connect": _get(f"/units/{UNIT}/connect"),
    "GET /units/{unit}/history": _get(f"/units/{UNIT}/history"),
    "GET /units/{unit}/inbox": _get(f"/units/{UNIT}/inbox"),
    "GET /units/{unit}/results": _get(f"/units/{UNIT}/results"),
    "GET /relationships": _get("/relationships"),
    "GET /relationships/{provider}/{customer}": _get(f"/relationships/{PROVIDER}/{CUSTOMER}"),
    "GET /requests": _get("/requests", member=True),
    "GET /flow": _get("/flow"),
    "GET /campaigns": _get("/campaigns"),
    "GET /admin/accounts": _get("/admin/accounts"),
    "GET /admin/audit": _get("/admin/audit"),
    "GET /admin/import": _get("/admin/import"),
    "GET /admin/links": _get("/admin/links"),
    "GET /api/v1/map": _get("/api/v1/map"),
    "GET /api/v1/map?as_of": _get("/api/v1/map?as_of=2099-01-01"),
    "GET /api/v1/map/changes": _get("/api/v1/map/changes?from=2000-01-01"),
    "GET /api/v1/units/{unit}": _get(f"/api/v1/units/{UNIT}"),
    "GET /api/v1/units/{unit}/scores": _get(f"/api/v1/units/{UNIT}/scores"),
    "GET /api/v1/units/{unit}/agreements": _get(f"/api/v1/units/{UNIT}/agreements"),
    "GET /api/v1/relationships/{provider}/{customer}": _get(
        f"/api/v1/relationships/{PROVIDER}/{CUSTOMER}"
    ),
    "GET /api/v1/requests": _get("/api/v1/requests", member=True),
}


def _check(site: Site, route: str, connections: int, statements: int) -> None:
    """Record the counts, and compare them with the baseline unless updating."""
    _measured.setdefault(route, {})[site.database] = {
        "connections": connections,
        "statements": statements,
    }
    if UPDATE:
        return
    baselines: dict[str, dict[str, dict[str, int]]] = json.loads(BASELINES.read_text("utf-8"))
    baseline = baselines.get(route, {}).get(site.database)
    assert baseline is not None, f"no baseline for {route} on {site.database}: {__doc__}"
    measured = {"connections": connections, "statements": statements}
    assert measured == baseline, (
        f"{route} on {site.database}: measured {measured}, baseline {baseline}. "
        + (
            "A count rose: find the extra connection or query."
            if connections > baseline["connections"] or statements > baseline["statements"]
            else "A count fell: lower the baseline with UPDATE_QUERY_COUNTS=1."
        )
    )


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_route_takes_no_more_connections_and_statements_than_its_baseline(
    site: Site, route: str
) -> None:
    call = ROUTES[route](site)
    # The first call fills the per-process caches (the map until its version changes);
    # the baseline is the steady state every later request pays.
    assert call().status_code == 200
    answer, connections, statements = site.counter.measure(call)
    assert answer.status_code == 200, answer.text
    _check(site, route, connections, statements)


def test_filing_a_request_from_the_form_and_following_the_redirect(site: Site) -> None:
    form = site.member.get("/requests")
    data = {
        "provider": site.provider_of_member,
        "title": "Counted request",
        "body": "Counting queries.",
        "csrf_token": form_token(form.text),
        "idempotency_key": uuid.uuid4().hex,
    }
    answer, connections, statements = site.counter.measure(
        lambda: site.member.post("/requests", data=data, follow_redirects=False)
    )
    assert answer.status_code == 303, answer.text
    _check(site, "POST /requests", connections, statements)
    location = answer.headers["location"]
    page, connections, statements = site.counter.measure(lambda: site.member.get(location))
    assert page.status_code == 200, page.text
    _check(site, "GET /requests/{id} (after filing)", connections, statements)


@pytest.fixture(scope="module", autouse=True)
def _write_baselines() -> Iterator[None]:
    yield
    if UPDATE and _measured:
        found = json.loads(BASELINES.read_text("utf-8")) if BASELINES.exists() else {}
        for route, per_database in _measured.items():
            found.setdefault(route, {}).update(per_database)
        BASELINES.write_text(json.dumps(found, indent=2, sort_keys=True) + "\n", "utf-8")
