"""Signing in and out over HTTP on both databases: first-run setup, the sign-in form
and its errors, the 429 limit, cookies, CSRF, the API's bearer sessions and the demo."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.builders import chain_map
from tests.conftest import TEST_SECURITY
from tests.signin import PASSWORD, bearer, form_token, make_account, sign_in
from valuechain import Valuechain
from valuechain.services import audit, demo
from valuechain.services.demo import demo_map, ensure_demo, ensure_demo_admin, open_demo
from valuechain.services.security import SignInLimits
from valuechain.web.app import create_app


@pytest.fixture
def app_client(vc: Valuechain) -> Iterator[TestClient]:
    """The app over the chain map, nobody signed in, no account yet."""
    vc.write_map(chain_map())
    with TestClient(create_app(vc)) as client:
        yield client


def test_first_run_setup_creates_the_admin_once(app_client: TestClient, vc: Valuechain) -> None:
    # No account: every page leads to setup.
    assert app_client.get("/units").url.path == "/setup"
    page = app_client.get("/setup")
    assert page.status_code == 200
    for label in ("Your name", "Email address", "Password", "Password again"):
        assert f">{label}</label>" in page.text
    token = form_token(page.text)
    form = {"csrf_token": token, "name": "Ada", "email": "ada@example.org"}
    mismatch = app_client.post("/setup", data={**form, "password": PASSWORD, "password_again": "x"})
    assert mismatch.status_code == 422 and "The two passwords are not the same." in mismatch.text
    short = app_client.post("/setup", data={**form, "password": "short", "password_again": "short"})
    assert short.status_code == 422 and "A password needs at least 12 characters." in short.text
    # Without the form's CSRF token nothing is created.
    forged = TestClient(app_client.app).post(
        "/setup",
        data={**form, "csrf_token": "forged", "password": PASSWORD, "password_again": PASSWORD},
    )
    assert forged.status_code == 403
    done = app_client.post(
        "/setup",
        data={**form, "password": PASSWORD, "password_again": PASSWORD},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/"
    home = app_client.get("/")
    assert home.status_code == 200 and "Signed in as </span><strong>Ada</strong>" in home.text
    # Setup is closed now.
    assert app_client.get("/setup", follow_redirects=False).headers["location"] == "/signin"
    assert [e.action for e in audit.read_page(vc).events][::-1] == [audit.SETUP, audit.SIGN_IN]


def test_sign_in_form_errors_cookie_and_redirect(app_client: TestClient, vc: Valuechain) -> None:
    make_account(vc)
    away = app_client.get("/units?q=ship", follow_redirects=False)
    assert (
        away.status_code == 303 and away.headers["location"] == "/signin?next=%2Funits%3Fq%3Dship"
    )
    page = app_client.get(away.headers["location"])
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert (
        'for="email">Email address</label>' in page.text
        and 'autocomplete="current-password"' in page.text
    )
    token = form_token(page.text)
    wrong = app_client.post(
        "/signin",
        data={
            "email": "admin@example.org",
            "password": "nope",
            "csrf_token": token,
            "next": "/units?q=ship",
        },
    )
    assert wrong.status_code == 401
    assert (
        'role="alert"' in wrong.text
        and "The email address or the password is not right." in wrong.text
    )
    assert 'value="admin@example.org"' in wrong.text and "nope" not in wrong.text
    right = app_client.post(
        "/signin",
        data={
            "email": "admin@example.org",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/units?q=ship",
        },
        follow_redirects=False,
    )
    assert right.status_code == 303 and right.headers["location"] == "/units?q=ship"
    cookie = next(c for c in right.headers.get_list("set-cookie") if c.startswith("vc_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP here; see the HTTPS test
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"


def test_session_cookie_is_secure_over_https(vc: Valuechain) -> None:
    make_account(vc)
    with TestClient(create_app(vc), base_url="https://valuechain.example") as client:
        page = client.get("/signin")
        answer = client.post(
            "/signin",
            data={
                "email": "admin@example.org",
                "password": PASSWORD,
                "csrf_token": form_token(page.text),
            },
            follow_redirects=False,
        )
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("vc_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_next_never_leaves_the_site(app_client: TestClient, vc: Valuechain) -> None:
    make_account(vc)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        page = app_client.get("/signin")
        answer = app_client.post(
            "/signin",
            data={
                "email": "admin@example.org",
                "password": PASSWORD,
                "csrf_token": form_token(page.text),
                "next": target,
            },
            follow_redirects=False,
        )
        assert answer.headers["location"] == "/", target
        app_client.cookies.clear()


def test_too_many_failures_answer_429_with_retry_after(vc: Valuechain) -> None:
    minutes = timedelta(minutes=15)
    limits = SignInLimits(
        per_account=2, per_address=50, window=minutes, first_delay=minutes, account_cap=minutes
    )
    vc.security = replace(TEST_SECURITY, limits=limits)
    make_account(vc)
    with TestClient(create_app(vc)) as client:
        token = form_token(client.get("/signin").text)
        data = {"email": "admin@example.org", "password": "nope", "csrf_token": token}
        assert [client.post("/signin", data=data).status_code for _ in range(2)] == [401, 401]
        limited = client.post("/signin", data={**data, "password": PASSWORD})
        assert limited.status_code == 429
        assert 0 < int(limited.headers["retry-after"]) <= 900
        assert "Too many failed sign-in attempts. Please wait 15 minutes" in limited.text
        api = client.post(
            "/api/v1/session", json={"email": "admin@example.org", "password": PASSWORD}
        )
        assert api.status_code == 429 and api.headers["retry-after"]
        assert api.json()["retry_after"] == int(api.headers["retry-after"])


def test_csrf_is_required_on_state_changing_requests(
    app_client: TestClient, vc: Valuechain
) -> None:
    make_account(vc)
    sign_in(app_client)
    page = app_client.get("/")
    session_csrf = form_token(page.text)
    assert f'hx-headers=\'{{"X-CSRF-Token": "{session_csrf}"}}\'' in page.text
    assert app_client.post("/signout", follow_redirects=False).status_code == 403
    assert (
        app_client.post("/signout", data={"csrf_token": "nope"}, follow_redirects=False).status_code
        == 403
    )
    # A cookie-authenticated API call needs the header too.
    assert app_client.delete("/api/v1/session").status_code == 403
    assert app_client.get("/api/v1/session").status_code == 200
    out = app_client.post(
        "/signout", headers={"X-CSRF-Token": session_csrf}, follow_redirects=False
    )
    assert out.status_code == 303 and out.headers["location"] == "/signin"
    assert app_client.get("/api/v1/session").status_code == 401
    assert [e.action for e in audit.read_page(vc).events][:2] == [audit.SIGN_OUT, audit.SIGN_IN]


def test_signing_in_again_rotates_the_session(app_client: TestClient, vc: Valuechain) -> None:
    make_account(vc)
    sign_in(app_client)
    before = app_client.cookies["vc_session"]
    sign_in(app_client)
    after = app_client.cookies["vc_session"]
    assert before != after
    stale = TestClient(app_client.app, cookies={"vc_session": before})
    assert stale.get("/api/v1/session").status_code == 401


def test_each_api_sign_in_is_a_session_of_its_own(app_client: TestClient, vc: Valuechain) -> None:
    """A web sign-in ends the browser's own earlier session; an API sign-in ends no
    session: every token it hands out stays valid until it is signed out or expires,
    and a browser's sign-in leaves the API's tokens alone."""
    make_account(vc)
    first, second = bearer(app_client), bearer(app_client)
    assert first != second

    def valid(token: str) -> bool:
        answer = app_client.get("/api/v1/session", headers={"Authorization": f"Bearer {token}"})
        return answer.status_code == 200

    assert valid(first) and valid(second)
    # An API sign-in made by a browser that holds a session cookie leaves it alone.
    sign_in(app_client)
    cookie = app_client.cookies["vc_session"]
    third = bearer(app_client)
    assert app_client.get("/api/v1/session").status_code == 200
    sign_in(app_client)  # the browser's own session rotates ...
    assert (
        TestClient(app_client.app, cookies={"vc_session": cookie})
        .get("/api/v1/session")
        .status_code
        == 401
    )
    assert valid(first) and valid(second) and valid(third)  # ... the tokens do not
    # Signing one token out ends that session only.
    app_client.delete("/api/v1/session", headers={"Authorization": f"Bearer {first}"})
    assert not valid(first) and valid(second) and valid(third)


def test_htmx_requests_without_a_session_are_sent_to_sign_in(
    app_client: TestClient, vc: Valuechain
) -> None:
    make_account(vc)
    answer = app_client.get("/units?q=x", headers={"HX-Request": "true"}, follow_redirects=False)
    assert answer.status_code == 401
    assert answer.headers["hx-redirect"] == "/signin?next=%2Funits%3Fq%3Dx"


def test_api_sign_in_with_bearer_token(app_client: TestClient, vc: Valuechain) -> None:
    make_account(vc)
    unauthorised = app_client.get("/api/v1/map")
    assert unauthorised.status_code == 401
    assert unauthorised.headers["www-authenticate"] == "Bearer"
    assert unauthorised.json() == {
        "type": "about:blank",
        "title": "Not signed in",
        "status": 401,
        "detail": "Sign in to continue.",
    }
    wrong = app_client.post(
        "/api/v1/session", json={"email": "admin@example.org", "password": "nope"}
    )
    assert wrong.status_code == 401 and wrong.json()["detail"]
    token = bearer(app_client)
    headers = {"Authorization": f"Bearer {token}"}
    me = app_client.get("/api/v1/session", headers=headers).json()
    assert (me["email"], me["role"], me["demo"]) == ("admin@example.org", "admin", False)
    assert app_client.get("/api/v1/map", headers=headers).status_code == 200
    # A bearer request needs no CSRF token: no browser sends that header by itself.
    assert app_client.delete("/api/v1/session", headers=headers).status_code == 204
    assert app_client.get("/api/v1/map", headers=headers).status_code == 401


def test_demo_signs_its_admin_in_and_says_so(
    fresh_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The demo's map only: all of its data takes a minute to write on PostgreSQL.
    monkeypatch.setattr(demo, "ensure_demo", lambda vc: vc.write_map(demo_map()))
    vc, written = open_demo(fresh_url)
    assert written and not ensure_demo(vc)
    admin = ensure_demo_admin(vc)
    assert ensure_demo_admin(vc) == admin and not admin.has_password
    with TestClient(create_app(vc, demo_account_id=admin.id)) as client:
        home = client.get("/")
        assert home.status_code == 200
        assert f"You are signed in as the demo admin, {admin.name}" in home.text
        assert "vc_session" in client.cookies
        # The API answers reads without a session.
        assert TestClient(client.app).get("/api/v1/units").status_code == 200
        # After signing out the demo stops signing in automatically ...
        out = client.post(
            "/signout", data={"csrf_token": form_token(home.text)}, follow_redirects=False
        )
        assert out.status_code == 303
        assert client.get("/", follow_redirects=False).headers["location"] == "/signin?next=%2F"
        page = client.get("/signin")
        assert "Continue as the demo admin" in page.text
        # ... until asked to.
        back = client.post(
            "/signin/demo", data={"csrf_token": form_token(page.text)}, follow_redirects=False
        )
        assert back.status_code == 303
        assert "You are signed in as the demo admin" in client.get("/").text
    # No one can sign in to the demo admin with a password.
    with TestClient(create_app(vc)) as client:
        page = client.get("/signin")
        assert "Continue as the demo admin" not in page.text
        assert (
            client.post("/signin/demo", data={"csrf_token": form_token(page.text)}).status_code
            == 404
        )
    vc.engine.dispose()
