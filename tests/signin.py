"""Signing in from tests: accounts with known passwords and signed-in clients."""

from __future__ import annotations

import re
from collections.abc import Iterator

from fastapi.testclient import TestClient

from valuechain import Valuechain
from valuechain.domain.account import Account, AccountRole
from valuechain.domain.organisation import OrganisationMap
from valuechain.services import accounts
from valuechain.services.audit import Actor
from valuechain.web.app import create_app

PASSWORD = "correct horse battery staple"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_account(
    vc: Valuechain,
    email: str = "admin@example.org",
    role: AccountRole = AccountRole.ADMIN,
    *,
    person_id: str | None = None,
    password: str = PASSWORD,
) -> Account:
    """An account with ``password`` (the test suite's cheap hashing applies)."""
    return accounts.create_account(
        vc, email, password, role, Actor(None, "test", "test"), person_id=person_id
    )


def form_token(html: str) -> str:
    """The CSRF token in a page's form."""
    found = CSRF_FIELD.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def sign_in(client: TestClient, email: str = "admin@example.org", password: str = PASSWORD) -> None:
    """Sign ``client`` in through the sign-in form, as a browser does."""
    page = client.get("/signin")
    answer = client.post(
        "/signin",
        data={"email": email, "password": password, "csrf_token": form_token(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def bearer(client: TestClient, email: str = "admin@example.org", password: str = PASSWORD) -> str:
    """A session token from the API's sign-in."""
    answer = client.post("/api/v1/session", json={"email": email, "password": password})
    assert answer.status_code == 201, answer.text
    token: str = answer.json()["token"]
    return token


def admin_client(vc: Valuechain, org_map: OrganisationMap) -> Iterator[TestClient]:
    """The web app over ``org_map`` with an admin signed in (body of a client fixture)."""
    vc.write_map(org_map)
    make_account(vc)
    with TestClient(create_app(vc)) as client:
        sign_in(client)
        yield client
