"""The organisation map in a real browser: a real uvicorn server on a free loopback
port serving the demo organisation, driven through headless Chromium by Playwright.

Chromium is the system one (/usr/bin/chromium); Playwright never downloads a browser.
The screenshots land in docs/screenshots/ for the README and reviews."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from valuechain import Valuechain
from valuechain.services.demo import ensure_demo
from valuechain.web.app import create_app

pytestmark = pytest.mark.browser

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
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def demo_vc(tmp_path_factory: pytest.TempPathFactory) -> Valuechain:
    """The demo organisation on a fresh SQLite file."""
    vc = Valuechain.open(f"sqlite:///{tmp_path_factory.mktemp('browser') / 'demo.db'}")
    assert ensure_demo(vc)
    return vc


@pytest.fixture(scope="module")
def base_url(demo_vc: Valuechain) -> Iterator[str]:
    """A real uvicorn server in a thread, listening on a free loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(demo_vc), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


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


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A page whose console errors, page errors and failed requests are recorded in
    ``page.problems``; every test ends by asserting there were none."""
    context = chromium.new_context(viewport={"width": 1440, "height": 1000})
    new_page = context.new_page()
    problems: list[str] = []
    new_page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    new_page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    new_page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    new_page.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )
    new_page.problems = problems
    yield new_page
    context.close()


def open_map(page: Any, base_url: str, hash_: str = "") -> None:
    page.goto(f"{base_url}/{hash_}")
    page.wait_for_selector("#cy[data-state=ready]", timeout=15_000)


def test_map_draws_every_unit_left_to_right(page: Any, base_url: str, demo_vc: Valuechain) -> None:
    open_map(page, base_url)
    units = demo_vc.overview()["units"]
    assert page.evaluate("window.valuechainMap.nodes().length") == len(units)
    assert page.evaluate("window.valuechainMap.edges().length") > 0
    # External suppliers in the first column, external customers in the last.
    xs: dict[str, float] = page.evaluate(
        "Object.fromEntries(window.valuechainMap.nodes().map(n => [n.id(), n.position('x')]))"
    )
    kinds = {u["id"]: u["kind"] for u in units}
    suppliers = [xs[u] for u, k in kinds.items() if k == "external_supplier"]
    customers = [xs[u] for u, k in kinds.items() if k == "external_customer"]
    assert max(suppliers) == min(xs.values())
    assert min(customers) == max(xs.values())
    # Units with orphan results carry the warning class.
    orphaned = sorted(u["id"] for u in units if u["orphan_results"])
    assert orphaned
    assert (
        sorted(page.evaluate("window.valuechainMap.nodes('.orphan').map(n => n.id())")) == orphaned
    )
    page.screenshot(path=str(SCREENSHOTS / "map.png"))
    assert page.problems == []


def test_clicking_a_unit_highlights_its_customers(
    page: Any, base_url: str, demo_vc: Valuechain
) -> None:
    open_map(page, base_url)
    unit = "production-planning"
    found = demo_vc.customers(unit)
    # A real mouse click at the node's place on the canvas.
    box = page.locator("#cy").bounding_box()
    spot = page.evaluate(f"window.valuechainMap.getElementById('{unit}').renderedPosition()")
    page.mouse.click(box["x"] + spot["x"], box["y"] + spot["y"])
    page.wait_for_selector(f"#cy[data-selected='{unit}']", timeout=5_000)

    classes = page.evaluate(
        "Object.fromEntries(window.valuechainMap.nodes().map(n => [n.id(), n.classes()]))"
    )
    assert "focus" in classes[unit]
    for row in found["direct"]:
        assert "direct" in classes[row["unit"]], row
    for row in found["indirect"]:
        assert "indirect" in classes[row["unit"]], row
    reached = {unit} | {r["unit"] for r in found["direct"]} | {r["unit"] for r in found["indirect"]}
    for other, cls in classes.items():
        assert ("faded" in cls) == (other not in reached), other
    # One highlighted path edge ends at every external customer reached.
    ends = page.evaluate("window.valuechainMap.edges('.path').map(e => e.target().id())")
    assert set(found["external"]) <= set(ends)

    panel = page.locator("#panel-body")
    assert panel.locator("h3", has_text=f"Direct customers ({len(found['direct'])})").count() == 1
    assert (
        panel.locator("h3", has_text=f"Indirect customers ({len(found['indirect'])})").count() == 1
    )
    for row in found["direct"]:
        assert panel.get_by_role("link", name=row["name"], exact=True).count() == 1
    assert page.locator("#unit-select").input_value() == unit
    page.screenshot(path=str(SCREENSHOTS / "map-selected.png"))

    panel.get_by_role("link", name="Open the unit page →").click()
    page.wait_for_url(f"{base_url}/units/{unit}")
    assert page.locator("h1").inner_text() == found["name"]
    assert page.problems == []


def test_keyboard_choice_relation_filter_and_orphans(
    page: Any, base_url: str, demo_vc: Valuechain
) -> None:
    orphaned = next(u for u in demo_vc.overview()["units"] if u["orphan_results"])
    open_map(page, base_url, f"#unit={orphaned['id']}")
    # The link from a unit page (#unit=ID) selects the unit on arrival.
    page.wait_for_selector(f"#cy[data-selected='{orphaned['id']}']", timeout=5_000)
    assert "Orphan results" in page.locator("#panel-body").text_content()

    page.locator("#unit-select").select_option("retail-chains")
    page.wait_for_selector("#cy[data-selected='retail-chains']", timeout=5_000)
    panel = page.locator("#panel-body")
    assert "An external customer: the chain ends here." in panel.text_content()
    page.get_by_role("button", name="Clear selection").click()
    assert page.evaluate("window.valuechainMap.elements('.faded').length") == 0

    visible = "window.valuechainMap.edges('[relation = \"pays\"]').filter(e => e.visible()).length"
    assert page.evaluate(visible) > 0
    page.get_by_label("pays for").uncheck()
    # Cytoscape may restyle on its next frame, so wait rather than read at once.
    page.wait_for_function(f"{visible} === 0", timeout=2_000)
    assert page.evaluate("window.valuechainMap.edges(':visible').length") > 0
    page.get_by_label("pays for").check()
    page.wait_for_function(f"{visible} > 0", timeout=2_000)
    assert page.problems == []


def test_units_search_updates_the_table_in_place(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/units")
    page.evaluate("window.notReloaded = true")
    page.get_by_label("Search by name or id").fill("logistics")
    page.wait_for_function(
        "document.querySelector('.result-count').textContent.includes('logistics')"
    )
    rows = page.locator("#unit-results tbody tr")
    names = rows.locator("th a").all_inner_texts()
    assert names and all("logistics" in name.lower() for name in names)
    assert page.evaluate("window.notReloaded") is True  # HTMX swapped, no page load
    assert page.url.endswith("/units?q=logistics&kind=")
    assert page.problems == []
