"""The access matrix: every route of the app (pages, API, schema, static files) x
every role (and nobody signed in) x the role's own unit and another unit, each cell
with the status it must answer, on both databases.

The routes are enumerated from the app itself, so a new route without a row in
:data:`EXPECTED` fails here (and the app refuses to start without an access rule)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from tests.signin import make_account
from tests.test_api import chain_map
from valuechain import Valuechain
from valuechain.api.dependencies import CSRF_HEADER, PRESESSION_COOKIE, SESSION_COOKIE
from valuechain.domain.access import Action
from valuechain.domain.account import AccountRole
from valuechain.domain.person import Person, Role
from valuechain.services import accounts
from valuechain.services.access import may
from valuechain.web.app import RouteWithoutAccessRule, check_access_rules, create_app

OWN, OTHER = "make", "audit"  # make's relationships: pack, ctrl (customers), steel, plan
ROLES = ("admin", "lead", "member", "viewer", "anonymous")
ADMIN_ONLY = {"admin": 200, "lead": 403, "member": 403, "viewer": 403}


def signed_in(ok: int, anonymous: int) -> dict[str, int]:
    return {role: (anonymous if role == "anonymous" else ok) for role in ROLES}


def admin_only(anonymous: int) -> dict[str, int]:
    return {**ADMIN_ONLY, "anonymous": anonymous}


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def unit_results(ok: int) -> dict[str, int | tuple[int, int]]:
    """view_unit_results: admins every unit, a lead their own (``OTHER`` is no
    relationship of it), nobody else."""
    return {"admin": ok, "lead": (ok, 403), "member": 403, "viewer": 403, "anonymous": 401}


# (method, path) -> status per role. The same for the own and the other unit: the map
# is organisation-wide knowledge (docs/access.md); unit-scoped results arrive later
# and are checked against the policy in test_scoped_actions_follow_relationships.
EXPECTED: dict[tuple[str, str], dict[str, int | tuple[int, int]]] = {
    # Pages: nobody signed in is sent to /signin (303).
    ("GET", "/"): signed_in(200, 303),
    ("GET", "/map"): signed_in(200, 303),
    ("GET", "/units"): signed_in(200, 303),
    ("GET", "/units/{unit_id}"): signed_in(200, 303),
    ("GET", "/flow"): signed_in(200, 303),
    ("GET", "/flow/what-if"): signed_in(200, 303),
    ("GET", "/admin/audit"): admin_only(303),
    ("GET", "/admin/accounts"): admin_only(303),
    ("POST", "/admin/accounts"): {**admin_only(303), "admin": 303},  # created, back to the list
    ("POST", "/admin/accounts/update"): {**admin_only(303), "admin": 303},
    ("GET", "/signin"): signed_in(303, 200),  # a signed-in visitor goes on
    ("POST", "/signin"): everyone(401),  # posted with a wrong password
    ("POST", "/signin/demo"): everyone(404),  # not a demo
    ("GET", "/signin/sso"): everyone(404),  # no single sign-on configured
    ("GET", "/signin/sso/callback"): everyone(404),
    ("POST", "/signout"): everyone(303),  # to /signin, signed in or not
    ("GET", "/setup"): everyone(303),  # accounts exist: setup is closed
    ("POST", "/setup"): everyone(303),
    # API: nobody signed in gets 401.
    ("GET", "/api/v1/map"): signed_in(200, 401),
    ("GET", "/api/v1/units"): signed_in(200, 401),
    ("GET", "/api/v1/units/{unit_id}"): signed_in(200, 401),
    ("GET", "/api/v1/units/{unit_id}/customers"): signed_in(200, 401),
    ("GET", "/api/v1/flow"): signed_in(200, 401),
    # Unit-scoped results: (own unit, other unit) where they differ.
    ("GET", "/api/v1/units/{unit_id}/scores"): unit_results(200),
    ("GET", "/api/v1/units/{unit_id}/drivers"): unit_results(404),  # no responses yet
    ("GET", "/api/v1/session"): signed_in(200, 401),
    ("POST", "/api/v1/session"): everyone(401),  # posted with a wrong password
    ("DELETE", "/api/v1/session"): signed_in(204, 401),
    ("GET", "/api/v1/accounts"): admin_only(401),
    ("GET", "/api/v1/audit"): admin_only(401),
    ("GET", "/api/v1/export"): admin_only(401),
    # Data rights: admins only; "{person_key}" names nobody, so an admin gets 404.
    ("GET", "/api/v1/people/{person_key}/export"): {**admin_only(401), "admin": 404},
    ("DELETE", "/api/v1/people/{person_key}"): {**admin_only(401), "admin": 404},
    # Public: the schema and its documentation describe endpoints, hold no data.
    ("GET", "/openapi.json"): everyone(200),
    ("GET", "/docs"): everyone(200),
    ("GET", "/docs/oauth2-redirect"): everyone(200),
    ("GET", "/redoc"): everyone(200),
    ("GET", "/static"): everyone(200),
}

# What each state-changing request sends (besides the CSRF token).
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/signin"): {"data": {"email": "admin@example.org", "password": "not it"}},
    ("POST", "/setup"): {
        "data": {
            "email": "late@example.org",
            "password": "another long password",
            "password_again": "another long password",
        }
    },
    ("POST", "/api/v1/session"): {"json": {"email": "admin@example.org", "password": "not it"}},
    ("POST", "/admin/accounts"): {
        "data": {"email": "new@example.org", "password": "a long first password", "role": "viewer"}
    },
    ("POST", "/admin/accounts/update"): {
        "data": {"email": "viewer@example.org", "role": "viewer", "active": "true"}
    },
}
STATIC_FILE = "/static/css/valuechain.css"


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app answers, HEAD and OPTIONS aside."""
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute | Route):
            found.update((m, route.path) for m in route.methods or () if m != "HEAD")
        elif isinstance(route.original_route, Mount):
            found.add(("GET", route.path))
    return found


@dataclass
class World:
    vc: Valuechain
    app: FastAPI
    principals: dict[str, str]  # role -> account email


@pytest.fixture
def world(vc: Valuechain) -> Iterator[World]:
    org = chain_map()
    org.people = [
        Person("p-lead", "Lea Lead", "lead@example.org", OWN, Role.LEAD),
        Person("p-member", "Max Member", "member@example.org", OWN, Role.MEMBER),
    ]
    vc.write_map(org)
    make_account(vc, "admin@example.org", AccountRole.ADMIN)
    make_account(vc, "lead@example.org", AccountRole.LEAD, person_id="p-lead")
    make_account(vc, "member@example.org", AccountRole.MEMBER, person_id="p-member")
    make_account(vc, "viewer@example.org", AccountRole.VIEWER)
    app = create_app(vc)
    yield World(vc, app, {r: f"{r}@example.org" for r in ROLES if r != "anonymous"})


def _client(world: World, role: str) -> tuple[TestClient, str]:
    """A client with a fresh session for ``role`` (none for anonymous) and the CSRF
    token a browser holding it would send."""
    client = TestClient(world.app)
    if role == "anonymous":
        client.cookies.set(PRESESSION_COOKIE, "presession-token")
        return client, "presession-token"
    account = accounts.account_by_email(world.vc, world.principals[role])
    assert account is not None
    started = accounts.start_session(world.vc, account, address="matrix")
    client.cookies.set(SESSION_COOKIE, started.token)
    return client, started.csrf_token


def _call(world: World, role: str, method: str, path: str) -> Any:
    client, csrf = _client(world, role)
    kwargs: dict[str, Any] = dict(BODIES.get((method, path), {}))
    if method != "GET":
        if "data" in kwargs:
            kwargs["data"] = {**kwargs["data"], "csrf_token": csrf}
        else:
            kwargs["headers"] = {CSRF_HEADER: csrf}
    url = STATIC_FILE if path == "/static" else path
    return client.request(method, url, follow_redirects=False, **kwargs)


def test_every_route_has_a_row_and_every_openapi_path_is_a_route(world: World) -> None:
    routes = app_routes(world.app)
    assert routes == set(EXPECTED), (
        f"routes without a row: {sorted(routes - set(EXPECTED))}; "
        f"rows without a route: {sorted(set(EXPECTED) - routes)}"
    )
    schema = TestClient(world.app).get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method in operations:
            assert (method.upper(), path) in routes


@pytest.mark.parametrize("role", ROLES)
def test_matrix(world: World, role: str) -> None:
    failures: list[str] = []
    for (method, path), statuses in sorted(EXPECTED.items()):
        units = (OWN, OTHER) if "{unit_id}" in path else (None,)
        for unit in units:
            concrete = path.replace("{unit_id}", unit) if unit else path
            answer = _call(world, role, method, concrete)
            expected = statuses[role]
            if isinstance(expected, tuple):
                expected = expected[0 if unit == OWN else 1]
            if answer.status_code != expected:
                failures.append(f"{role} {method} {concrete}: {answer.status_code} != {expected}")
            elif role == "anonymous" and expected == 303 and path != "/setup":
                assert answer.headers["location"].startswith("/signin"), concrete
            elif expected == 403 and path.startswith("/api/"):
                assert answer.json() == {"detail": "Your account is not allowed to see or do this."}
    assert failures == []


def test_a_route_without_an_access_rule_stops_the_app(world: World) -> None:
    @world.app.get("/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    with pytest.raises(RouteWithoutAccessRule, match="/forgotten"):
        check_access_rules(world.app)


def test_an_included_router_without_an_access_rule_stops_the_app(world: World) -> None:
    extra = APIRouter(prefix="/api/v1")

    @extra.get("/later")
    def later() -> dict[str, str]:
        return {}

    world.app.include_router(extra)
    with pytest.raises(RouteWithoutAccessRule, match="/api/v1/later"):
        check_access_rules(world.app)


def test_scoped_actions_follow_relationships(world: World) -> None:
    """Unit-scoped results (arriving with Measure and Agree) through the one layer:
    a lead sees their unit and its relationships, a member their unit's summary."""
    vc = world.vc
    principal: dict[str, Any] = {}
    for role in ROLES[:-1]:
        account = accounts.account_by_email(vc, world.principals[role])
        assert account is not None
        principal[role] = accounts.principal(account)
    assert principal["lead"].unit_id == OWN and principal["viewer"].unit_id is None
    cases: list[tuple[str, Action, str, bool]] = []
    for unit, lead_sees in (
        (OWN, True),
        ("pack", True),  # a direct customer
        ("ctrl", True),  # a direct customer
        ("steel", True),  # a supplier
        ("plan", True),  # a supplier
        ("ship", False),  # an indirect customer is not a relationship
        (OTHER, False),
    ):
        for action in (Action.VIEW_UNIT_SUMMARY, Action.VIEW_UNIT_RESULTS):
            cases.append(("admin", action, unit, True))
            cases.append(("lead", action, unit, lead_sees))
            cases.append(("viewer", action, unit, False))
        cases.append(("member", Action.VIEW_UNIT_SUMMARY, unit, unit == OWN))
        cases.append(("member", Action.VIEW_UNIT_RESULTS, unit, False))
    wrong = [c for c in cases if may(vc, principal[c[0]], c[1], c[2]) is not c[3]]
    assert wrong == []
    admin_actions: list[Callable[[], bool]] = [
        lambda a=a, r=r: may(vc, principal[r], a) is (r == "admin")  # type: ignore[misc]
        for a in (Action.IMPORT, Action.EXPORT, Action.MANAGE_ACCOUNTS, Action.VIEW_AUDIT)
        for r in ROLES[:-1]
    ]
    assert all(check() for check in admin_actions)
