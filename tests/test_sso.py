"""Single sign-on over OpenID Connect against a real provider (Authlib's server
components, tests/oidc_provider.py) listening on loopback, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, RunningProvider
from tests.signin import make_account
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.services import audit
from valuechain.services.sso import SsoSettings
from valuechain.web.app import create_app

APP = "http://testserver"


@pytest.fixture(scope="module")
def running() -> Iterator[RunningProvider]:
    provider = RunningProvider()
    provider.provider.client.redirect_uris = [f"{APP}/signin/sso/callback"]
    yield provider
    provider.stop()


@pytest.fixture
def client(vc: Valuechain, running: RunningProvider) -> Iterator[TestClient]:
    running.provider.user = {
        "sub": "u-1",
        "email": "Lead@Example.org",
        "email_verified": True,
        "name": "Lea Lead",
    }
    settings = SsoSettings(running.provider.issuer, CLIENT_ID, CLIENT_SECRET, "Example ID")
    with TestClient(create_app(vc, sso=settings), base_url=APP) as test_client:
        yield test_client


def to_provider_and_back(client: TestClient, next_: str = "/units") -> httpx.Response:
    """Follow the flow as a browser would: Valuechain → provider → Valuechain."""
    leave = client.get("/signin/sso", params={"next": next_}, follow_redirects=False)
    assert leave.status_code == 303, leave.text
    query = parse_qs(urlsplit(leave.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    at_provider = httpx.get(leave.headers["location"], follow_redirects=False)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["location"])
    assert f"{back.scheme}://{back.netloc}" == APP
    return client.get(f"{back.path}?{back.query}", follow_redirects=False)


def test_sso_signs_in_the_matching_account(client: TestClient, vc: Valuechain) -> None:
    lead = make_account(vc, "lead@example.org", AccountRole.LEAD)
    page = client.get("/signin").text
    assert 'href="/signin/sso?next=%2F">Sign in with Example ID</a>' in page
    arrived = to_provider_and_back(client)
    assert arrived.status_code == 303 and arrived.headers["location"] == "/units"
    me = client.get("/api/v1/session").json()
    assert (me["account_id"], me["role"]) == (lead.id, "lead")
    event = audit.read_page(vc).events[0]
    assert (event.action, event.outcome, event.actor) == ("sign_in", "success", "lead@example.org")
    assert event.detail == "single sign-on (" + client.app.state.sso.settings.issuer + ")"  # type: ignore[attr-defined]


def test_no_account_no_entry(client: TestClient, vc: Valuechain) -> None:
    arrived = to_provider_and_back(client)
    assert arrived.status_code == 401
    assert "There is no Valuechain account for lead@example.org." in arrived.text
    assert client.get("/api/v1/session").status_code == 401
    assert audit.read_page(vc).events[0].outcome == "refused"


_MISSING = object()


@pytest.mark.parametrize(
    "verified",
    [_MISSING, False, "false", "true", 1, None],
    ids=["missing", "false", "string-false", "string-true", "one", "null"],
)
def test_an_email_not_verified_as_json_true_is_refused(
    client: TestClient, vc: Valuechain, running: RunningProvider, verified: object
) -> None:
    """Only ``"email_verified": true`` (the JSON boolean) lets the email sign in, even
    as the admin it names: no claim, a string, a number or null is refused."""
    make_account(vc, "lead@example.org", AccountRole.ADMIN)
    assert running.provider.user is not None
    if verified is _MISSING:
        del running.provider.user["email_verified"]
    else:
        running.provider.user["email_verified"] = verified
    arrived = to_provider_and_back(client)
    assert arrived.status_code == 401, arrived.text
    assert "has not verified Lead@Example.org" in arrived.text
    assert client.get("/api/v1/session").status_code == 401
    event = audit.read_page(vc).events[0]
    assert (event.action, event.outcome) == ("sign_in", "refused")
    assert event.detail is not None and "email not verified" in event.detail


def test_a_verified_email_signs_in(
    client: TestClient, vc: Valuechain, running: RunningProvider
) -> None:
    make_account(vc, "lead@example.org", AccountRole.ADMIN)
    assert running.provider.user is not None and running.provider.user["email_verified"] is True
    assert to_provider_and_back(client).status_code == 303
    assert client.get("/api/v1/session").json()["role"] == "admin"


def _leave_and_get_code(client: TestClient) -> tuple[str, str]:
    """Go to the provider and return the callback path and query it sends back."""
    leave = client.get("/signin/sso", follow_redirects=False)
    at_provider = httpx.get(leave.headers["location"], follow_redirects=False)
    back = urlsplit(at_provider.headers["location"])
    return back.path, back.query


def test_forged_state_and_replayed_nonce_are_refused(client: TestClient, vc: Valuechain) -> None:
    make_account(vc, "lead@example.org", AccountRole.LEAD)
    # The right state but a cookie holding another nonce: the ID token does not match.
    path, query = _leave_and_get_code(client)
    cookie = next(c for c in client.cookies.jar if c.name == "vc_sso")
    assert cookie.value is not None
    state, _nonce, verifier, target = cookie.value.split(".", 3)
    cookie.value = f"{state}.other-nonce.{verifier}.{target}"
    replayed = client.get(f"{path}?{query}")
    assert replayed.status_code == 401 and "ID token is not valid" in replayed.text
    # A callback whose state is not the one this browser left with.
    path, query = _leave_and_get_code(client)
    code = parse_qs(query)["code"][0]
    forged = client.get(path, params={"code": code, "state": "forged"})
    assert forged.status_code == 401 and "expired or was not started here" in forged.text
    # The failed callback ends the attempt: the real one no longer works either.
    assert client.get(f"{path}?{query}").status_code == 401
    assert client.get("/api/v1/session").status_code == 401


def test_provider_declines(client: TestClient, running: RunningProvider) -> None:
    running.provider.user = None
    leave = client.get("/signin/sso", follow_redirects=False)
    at_provider = httpx.get(leave.headers["location"], follow_redirects=False)
    back = urlsplit(at_provider.headers["location"])
    assert "error=access_denied" in back.query
    arrived = client.get(f"{back.path}?{back.query}")
    assert arrived.status_code == 401 and "did not sign you in (access_denied)" in arrived.text


def test_unreachable_provider_is_a_clear_message(vc: Valuechain) -> None:
    settings = SsoSettings("http://127.0.0.1:9", CLIENT_ID, CLIENT_SECRET)
    with TestClient(create_app(vc, sso=settings)) as client:
        answer = client.get("/signin/sso")
    assert answer.status_code == 502
    assert "The sign-in service at http://127.0.0.1:9 did not answer" in answer.text
