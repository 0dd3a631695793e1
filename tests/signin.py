"""Signing in from tests: accounts with known passwords and signed-in clients."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from valuechain import Valuechain
from valuechain.domain.account import Account, AccountRole
from valuechain.services import accounts
from valuechain.services.audit import Actor

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
