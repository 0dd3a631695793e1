"""The organisation map in a real browser: a real uvicorn server on a free loopback
port serving the demo organisation, driven through headless Chromium by Playwright
(fixtures in ``conftest.py``), signed in as an admin.

With VALUECHAIN_SCREENSHOTS=1 the screenshots land in docs/screenshots/ for the README."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
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


# -- reading the map: search, focus, grouping, colour, the URL, export, link states -----

VISIBLE = "window.valuechainMap.nodes(':visible').filter(n => !n.isParent()).map(n => n.id())"


def neighbours(vc: Valuechain, unit: str, steps: int) -> set[str]:
    """Units within ``steps`` links downstream or upstream of ``unit`` (a reference
    walk over the overview, which the page's focus must match)."""
    doc = vc.overview()
    producer = {r["id"]: r["unit"] for r in doc["results"]}
    down: dict[str, set[str]] = {}
    up: dict[str, set[str]] = {}
    for link in doc["links"]:
        a, b = producer[link["result"]], link["customer"]
        if a != b:
            down.setdefault(a, set()).add(b)
            up.setdefault(b, set()).add(a)
    found = {unit}
    for edges in (down, up):
        frontier = {unit}
        for _ in range(steps):
            frontier = {n for f in frontier for n in edges.get(f, set())}
            found |= frontier
    return found


def test_search_centres_and_highlights_a_unit(page: Any, base_url: str) -> None:
    open_map(page, base_url)
    names = page.evaluate(
        "Array.from(document.querySelectorAll('#map-units option')).map(o => o.value)"
    )
    assert "Production planning" in names  # the autocomplete offers names
    page.locator("#map-search").fill("Production planning")
    page.locator("#map-search").press("Enter")
    page.wait_for_selector("#cy[data-selected='production-planning']", timeout=5_000)
    assert "focus" in page.evaluate(
        "window.valuechainMap.getElementById('production-planning').classes()"
    )
    # Centred: the unit sits in the middle of the canvas.
    spot = page.evaluate(
        "window.valuechainMap.getElementById('production-planning').renderedPosition()"
    )
    size = page.evaluate("[window.valuechainMap.width(), window.valuechainMap.height()]")
    wait_until(
        page,
        "(() => { const p = window.valuechainMap.getElementById('production-planning')"
        ".renderedPosition(); return p.x > 0 && p.y > 0 && "
        f"p.x < {size[0]} && p.y < {size[1]}; }})()",
    )
    assert spot is not None
    assert "unit=production-planning" in page.url
    assert page.problems == []


def test_focus_narrows_to_the_neighbourhood(page: Any, base_url: str, demo_vc: Valuechain) -> None:
    unit = "production-planning"
    open_map(page, base_url, f"#unit={unit}")
    page.wait_for_selector(f"#cy[data-selected='{unit}']", timeout=5_000)
    total = len(page.evaluate(VISIBLE))
    page.get_by_label("Only the neighbourhood of the chosen unit").check()
    page.wait_for_selector(f"#cy[data-focus='{unit}']", timeout=5_000)
    one = set(page.evaluate(VISIBLE))
    assert one == neighbours(demo_vc, unit, 1)
    page.locator("#map-steps").fill("2")
    page.locator("#map-steps").dispatch_event("change")
    wait_until(page, f"{VISIBLE}.length > {len(one)}")
    two = set(page.evaluate(VISIBLE))
    assert two == neighbours(demo_vc, unit, 2)
    assert one < two and len(two) < total
    assert "focus=production-planning" in page.url and "n=2" in page.url
    page.get_by_label("Only the neighbourhood of the chosen unit").uncheck()
    wait_until(page, f"{VISIBLE}.length === {total}")
    assert page.problems == []


def test_grouping_by_department_collapses_and_expands(
    page: Any, base_url: str, demo_vc: Valuechain
) -> None:
    open_map(page, base_url)
    page.get_by_label("Group by department").check()
    wait_until(page, "window.valuechainMap.nodes(':parent').length > 0")
    # Operations holds supply chain, manufacturing, ... and their teams.
    inside = set(
        page.evaluate(
            "window.valuechainMap.getElementById('g:operations').descendants().map(n => n.id())"
        )
    )
    units = {u["id"]: u for u in demo_vc.overview()["units"]}
    assert {"operations", "supply-chain", "procurement", "machining"} <= inside
    assert all(units[u]["kind"] in ("team", "department") for u in inside)
    assert "group=1" in page.url

    # A tap on the department's box (its empty space: where that is depends on the
    # layout, so the tap is sent to the box itself) folds it.
    box = page.locator("#cy").bounding_box()
    page.evaluate("window.valuechainMap.getElementById('g:operations').emit('tap')")
    wait_until(page, "window.valuechainMap.getElementById('procurement').empty()")
    group = "window.valuechainMap.getElementById('g:operations')"
    assert page.evaluate(f"{group}.isParent()") is False
    assert page.evaluate(f"{group}.connectedEdges().length") > 0  # links now end at the box
    assert "collapse=operations" in page.url
    # Clicked again, it unfolds.
    spot = page.evaluate(f"{group}.renderedPosition()")
    page.mouse.click(box["x"] + spot["x"], box["y"] + spot["y"])
    wait_until(page, "window.valuechainMap.getElementById('procurement').nonempty()")
    assert page.evaluate(f"{group}.isParent()") is True
    page.get_by_label("Group by department").uncheck()
    wait_until(page, "window.valuechainMap.nodes(':parent').length === 0")
    assert page.evaluate("window.valuechainMap.nodes().length") == len(units)
    assert page.problems == []


def test_colour_by_a_measure(page: Any, base_url: str, demo_vc: Valuechain) -> None:
    open_map(page, base_url)
    page.locator("#map-colour").select_option("headcount")
    assert page.locator("#map-colour-legend").is_visible()
    grey = set(page.evaluate("window.valuechainMap.nodes('.not-shown').map(n => n.id())"))
    units = demo_vc.overview()["units"]
    heads = {u["id"]: demo_vc.unit(u["id"])["headcount"] for u in units}
    # A unit without a value is grey, "not shown"; the others get a shade by value.
    assert grey == {u for u, h in heads.items() if h is None}
    shades = page.evaluate(
        "Object.fromEntries(window.valuechainMap.nodes('.unit').map(n =>"
        " [n.id(), n.style('background-color')]))"
    )
    biggest = max((h, u) for u, h in heads.items() if h is not None)[1]
    smallest = min((h, u) for u, h in heads.items() if h is not None)[1]
    assert shades[biggest] != shades[smallest]
    assert "colour=headcount" in page.url
    assert page.problems == []


def test_the_url_restores_the_view(page: Any, base_url: str, chromium: Any) -> None:
    unit = "assembly"
    open_map(page, base_url, f"#unit={unit}")
    page.wait_for_selector(f"#cy[data-selected='{unit}']", timeout=5_000)
    page.locator("#map-colour").select_option("direct")
    page.get_by_label("Group by department").check()
    page.get_by_label("Only the neighbourhood of the chosen unit").check()
    page.locator("#map-steps").fill("2")
    page.locator("#map-steps").dispatch_event("change")
    wait_until(page, "location.hash.includes('n=2')")
    shared = page.url
    seen = sorted(page.evaluate(VISIBLE))

    other = page.context.new_page()
    other.goto(shared)
    other.wait_for_selector("#cy[data-restored=true]", timeout=15_000)
    assert other.get_attribute("#cy", "data-selected") == unit
    assert other.get_attribute("#cy", "data-focus") == unit
    assert other.locator("#map-colour").input_value() == "direct"
    assert other.locator("#map-group").is_checked()
    assert other.locator("#map-steps").input_value() == "2"
    assert sorted(other.evaluate(VISIBLE)) == seen
    assert other.evaluate("window.valuechainMap.nodes(':parent').length") > 0
    assert other.url == shared
    other.close()
    assert page.problems == []


def test_export_png_and_svg(page: Any, base_url: str) -> None:
    open_map(page, base_url)
    with page.expect_download() as png:
        page.get_by_role("button", name="PNG").click()
    assert png.value.suggested_filename == "organisation-map.png"
    data = Path(png.value.path()).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    with page.expect_download() as svg:
        page.get_by_role("button", name="SVG").click()
    assert svg.value.suggested_filename == "organisation-map.svg"
    text = Path(svg.value.path()).read_text(encoding="utf-8")
    import xml.etree.ElementTree as ET

    drawing = ET.fromstring(text)  # well-formed
    ns = "{http://www.w3.org/2000/svg}"
    assert drawing.tag == f"{ns}svg"
    groups = drawing.findall(f"{ns}g")
    nodes = [g for g in groups if g.get("class") == "node"]
    assert len(nodes) == page.evaluate("window.valuechainMap.nodes().length")
    assert {g.findtext(f"{ns}title") for g in nodes} >= {"Production planning", "Assembly"}
    assert page.problems == []


def test_department_level_expands_on_demand(page: Any, base_url: str, demo_vc: Valuechain) -> None:
    from valuechain.services import map_view

    page.goto(f"{base_url}/map?level=department")
    page.wait_for_selector("#cy[data-state=ready]", timeout=15_000)
    assert page.get_attribute("#cy", "data-level") == "department"
    doc = map_view.department_map(demo_vc)
    drawn = page.evaluate("window.valuechainMap.nodes('.department-node').map(n => n.id())")
    assert sorted(drawn) == sorted("g:" + d["id"] for d in doc["departments"])
    label = page.evaluate("window.valuechainMap.getElementById('g:operations').data('label')")
    operations = next(d for d in doc["departments"] if d["id"] == "operations")
    assert label == f"Operations ({operations['units']} units)"
    # A real click draws the department's units inside it.
    box = page.locator("#cy").bounding_box()
    spot = page.evaluate("window.valuechainMap.getElementById('g:operations').renderedPosition()")
    page.mouse.click(box["x"] + spot["x"], box["y"] + spot["y"])
    page.wait_for_selector("#cy[data-expanded='operations']", timeout=10_000)
    inside = page.evaluate(
        "window.valuechainMap.getElementById('g:operations').children().map(n => n.id())"
    )
    assert len(inside) == operations["units"] and "procurement" in inside
    assert "expand=operations" in page.url
    # A unit inside is chosen as on the unit-level map.
    spot = page.evaluate("window.valuechainMap.getElementById('procurement').renderedPosition()")
    page.mouse.click(box["x"] + spot["x"], box["y"] + spot["y"])
    page.wait_for_selector("#cy[data-selected='procurement']", timeout=5_000)
    assert page.problems == []


@pytest.fixture
def open_links(demo_vc: Valuechain) -> Iterator[tuple[tuple[str, str], tuple[str, str]]]:
    """A proposed and a disputed link (by leads, not admins): (provider, customer) each."""
    from valuechain.services import map_edit
    from valuechain.services.audit import Actor

    doc = demo_vc.overview()
    result = {
        u: next(r["id"] for r in doc["results"] if r["unit"] == u) for u in ("packing", "payroll")
    }
    actor = Actor.command_line()
    proposed = {
        "result_id": result["packing"],
        "customer_id": "analytics",
        "relation": "depends_on",
    }
    disputed = {"result_id": result["payroll"], "customer_id": "marketing", "relation": "consumes"}
    map_edit.propose_link(demo_vc, "analytics", proposed, actor, admin=False)
    map_edit.propose_link(demo_vc, "marketing", disputed, actor, admin=False)
    key = (disputed["result_id"], "marketing", "consumes")
    map_edit.answer_link(
        demo_vc, "payroll", key, actor, admin=False, confirm=False, reason="not us"
    )
    yield ("packing", "analytics"), ("payroll", "marketing")
    for fields, side in ((proposed, "analytics"), (disputed, "marketing")):
        k = (str(fields["result_id"]), str(fields["customer_id"]), str(fields["relation"]))
        map_edit.withdraw_link(demo_vc, side, k, actor, admin=True)


def test_link_states_are_drawn_with_their_style(
    page: Any, base_url: str, open_links: tuple[tuple[str, str], tuple[str, str]]
) -> None:
    open_map(page, base_url)
    wait_until(page, "document.getElementById('cy').hasAttribute('data-open-links')")
    (p_from, p_to), (d_from, d_to) = open_links
    cy = "window.valuechainMap"
    edge = cy + ".getElementById('{}').edgesTo(" + cy + ".getElementById('{}'))"
    proposed = edge.format(p_from, p_to) + ".filter('.state-proposed')"
    disputed = edge.format(d_from, d_to) + ".filter('.state-disputed')"
    assert page.evaluate(f"{proposed}.length") == 1
    assert page.evaluate(f"{disputed}.length") == 1
    assert page.evaluate(f"{proposed}.style('line-style')") == "dashed"
    assert page.evaluate(f"{disputed}.style('line-style')") == "dashed"
    assert page.evaluate(f"{disputed}.style('line-color')") == "rgb(220,38,38)"
    confirmed = "window.valuechainMap.edges('.state-confirmed')"
    assert page.evaluate(f"{confirmed}.length") > 0
    assert page.evaluate(f"{confirmed}.every(e => e.style('line-style') === 'solid')")
    legend = page.get_by_label("Link states")
    assert legend.get_by_text("Proposed", exact=False).count() == 1
    assert legend.get_by_text("Disputed", exact=True).count() == 1
    assert page.problems == []
