"""The organisation map in a real browser: a real uvicorn server on a free loopback
port serving the demo organisation, driven through headless Chromium by Playwright
(fixtures in ``conftest.py``), signed in as an admin.

With VALUECHAIN_SCREENSHOTS=1 the screenshots land in docs/screenshots/ for the README."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS, wait_until
from valuechain import Valuechain

pytestmark = pytest.mark.browser


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
    wait_until(page, f"{visible} === 0", timeout=2)
    assert page.evaluate("window.valuechainMap.edges(':visible').length") > 0
    page.get_by_label("pays for").check()
    wait_until(page, f"{visible} > 0", timeout=2)
    assert page.problems == []


def test_units_search_updates_the_table_in_place(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/units")
    page.evaluate("window.notReloaded = true")
    page.get_by_label("Search by name or id").fill("logistics")
    wait_until(page, "document.querySelector('.result-count').textContent.includes('logistics')")
    rows = page.locator("#unit-results tbody tr")
    names = rows.locator("th a").all_inner_texts()
    assert names and all("logistics" in name.lower() for name in names)
    assert page.evaluate("window.notReloaded") is True  # HTMX swapped, no page load
    assert page.url.endswith("/units?q=logistics&kind=")
    assert page.problems == []
