"""Signing in and out in a real browser on a phone-sized screen: a wrong password
shows the error next to the form, the right one lands on the map, sign-out ends the
session; single sign-on through a real OpenID Connect provider."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS, serving
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, RunningProvider
from tests.signin import PASSWORD
from valuechain import Valuechain
from valuechain.services.sso import SsoSettings
from valuechain.web.app import create_app

pytestmark = pytest.mark.browser


def test_sign_in_wrong_password_then_right_then_sign_out(
    anonymous_page: Any, base_url: str
) -> None:
    page = anonymous_page
    page.goto(f"{base_url}/units")
    # Not signed in: the page sends us to the sign-in form, remembering where we were.
    page.wait_for_url(f"{base_url}/signin?next=%2Funits")
    assert page.locator("h1").inner_text() == "Sign in"

    page.get_by_label("Email address").fill("admin@example.org")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "The email address or the password is not right." in alert.inner_text()
    # The email stays filled in, the password does not.
    assert page.get_by_label("Email address").input_value() == "admin@example.org"
    assert page.get_by_label("Password").input_value() == ""
    assert page.get_by_label("Password").get_attribute("aria-invalid") == "true"
    # Fits a phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SCREENSHOTS / "signin-phone.png"))

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/units")
    page.get_by_role("button", name="Menu").click()  # folded on a phone
    page.get_by_role("link", name="Map", exact=True).click()
    page.wait_for_selector("#cy[data-state=ready]", timeout=15_000)
    header = page.locator(".account").inner_text()
    assert "Signed in as" in header and "admin" in header
    # The session cookie is not readable by scripts.
    assert "vc_session" not in page.evaluate("document.cookie")

    page.get_by_role("button", name="Menu").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base_url}/signin")
    page.goto(f"{base_url}/")
    page.wait_for_url(f"{base_url}/signin?next=%2F")
    # The only errors were the refused sign-in's 401 (Chromium also logs it).
    assert sorted(page.problems) == [
        f"HTTP 401: {base_url}/signin",
        "console error: Failed to load resource: the server responded with a status of 401 "
        "(Unauthorized)",
    ]


@pytest.fixture(scope="module")
def sso_url(demo_vc: Valuechain) -> Iterator[str]:
    """The demo organisation served with single sign-on through a real OpenID Connect
    provider (tests/oidc_provider.py) on another loopback port."""
    running = RunningProvider()
    running.provider.user = {"sub": "a-1", "email": "admin@example.org", "email_verified": True}
    settings = SsoSettings(running.provider.issuer, CLIENT_ID, CLIENT_SECRET, "Example ID")

    def make_app(url: str) -> Any:
        running.provider.client.redirect_uris = [f"{url}/signin/sso/callback"]
        return create_app(demo_vc, sso=settings)

    with serving(make_app) as url:
        yield url
    running.stop()


def test_single_sign_on_in_the_browser(anonymous_page: Any, sso_url: str) -> None:
    page = anonymous_page
    page.goto(f"{sso_url}/units")
    page.wait_for_url(f"{sso_url}/signin?next=%2Funits")
    page.get_by_role("link", name="Sign in with Example ID").click()
    # Off to the provider, which signs the user in at once, and back.
    page.wait_for_url(f"{sso_url}/units")
    assert "Signed in as" in page.locator(".account").inner_text()
    assert page.problems == []
