"""Browser fixtures: a real uvicorn server on a free loopback port serving the demo
organisation, and headless Chromium driven by Playwright.

Chromium is the system one (/usr/bin/chromium); Playwright never downloads a browser."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.conftest import DEMO_ORGANISATION, TEST_SECURITY
from tests.signin import make_account
from valuechain import Valuechain
from valuechain.edge.dependencies import SESSION_COOKIE
from valuechain.services import accounts
from valuechain.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Screenshots go to docs/screenshots/ only when asked (VALUECHAIN_SCREENSHOTS=1, to
# refresh the README's pictures); otherwise a test run leaves the checkout unchanged.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("VALUECHAIN_SCREENSHOTS") == "1"
    else Path(tempfile.mkdtemp(prefix="valuechain-screenshots-"))
)


@pytest.fixture(scope="module")
def demo_vc(tmp_path_factory: pytest.TempPathFactory, sqlite_demo_template: Path) -> Valuechain:
    """The demo organisation on a fresh SQLite file (a copy of the session's demo
    database: writing the demo takes seconds)."""
    path = tmp_path_factory.mktemp("browser") / "demo.db"
    shutil.copyfile(sqlite_demo_template, path)
    vc = Valuechain.open(f"sqlite:///{path}", DEMO_ORGANISATION, security=TEST_SECURITY)
    make_account(vc)
    return vc


@contextmanager
def serving(make_app: Callable[[str], Any]) -> Iterator[str]:
    """Serve ``make_app(base_url)`` with uvicorn in a thread on a free loopback port
    (the app learns its own address first, e.g. for a single sign-on redirect)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(make_app(url), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def base_url(demo_vc: Valuechain) -> Iterator[str]:
    """A real uvicorn server serving the demo organisation (signing in is needed)."""
    with serving(lambda _url: create_app(demo_vc)) as url:
        yield url


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is required under CI=true")
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def wait_until(page: Any, expression: str, timeout: float = 5.0) -> None:
    """Poll ``expression`` in the page until it is true. Playwright's
    ``wait_for_function`` compiles its predicate with ``eval`` inside the page, which
    the pages' Content-Security-Policy refuses; ``evaluate`` is not subject to it."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"never true: {expression}"
        time.sleep(0.05)


def _watched_page(context: Any) -> Any:
    """A page whose console errors, page errors, failed requests and HTTP errors are
    recorded in ``page.problems``."""
    new_page = context.new_page()
    problems: list[str] = []
    new_page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    new_page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    # A load the browser itself cancels because the page moved on (a favicon fetch cut
    # short by a form submission) is ERR_ABORTED; a server that drops or refuses the
    # connection gives another error, which is recorded.
    new_page.on(
        "requestfailed",
        lambda r: (
            problems.append(f"request failed: {r.url} ({r.failure})")
            if r.failure != "net::ERR_ABORTED"
            else None
        ),
    )
    new_page.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )
    new_page.problems = problems
    return new_page


@pytest.fixture
def page(chromium: Any, demo_vc: Valuechain, base_url: str) -> Iterator[Any]:
    """A page signed in as an admin (a session started in the service, its cookie
    given to the browser); every test ends by asserting ``page.problems`` is empty."""
    context = chromium.new_context(viewport={"width": 1440, "height": 1000})
    account = accounts.account_by_email(demo_vc, "admin@example.org")
    assert account is not None
    started = accounts.start_session(demo_vc, account, address="browser test")
    context.add_cookies([{"name": SESSION_COOKIE, "value": started.token, "url": base_url}])
    yield _watched_page(context)
    context.close()


@pytest.fixture
def anonymous_page(chromium: Any) -> Iterator[Any]:
    """A page of a fresh browser with no session, on a phone-sized screen."""
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    yield _watched_page(context)
    context.close()
