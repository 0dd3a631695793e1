"""The server-rendered pages on both databases: the map, the units index with its
HTMX search, a unit page, friendly 404 pages, static files."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.builders import chain_map
from tests.signin import PASSWORD, admin_client, make_account
from valuechain import Valuechain

HTMX = {"HX-Request": "true"}


@pytest.fixture
def client(vc: Valuechain) -> Iterator[TestClient]:
    """The web app over the chain map of ``tests/builders.py`` on a real database."""
    yield from admin_client(vc, chain_map())


def text_of(html: str) -> str:
    """The page's visible words, tags removed and whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_map_page_has_graph_legend_filter_and_fallback_table(client: TestClient) -> None:
    answer = client.get("/")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    html = answer.text
    assert '<main id="main"' in html and 'aria-label="Main"' in html
    assert '<a href="/" aria-current="page">Map</a>' in html
    assert 'data-map-url="/api/v1/map?limit=3000"' in html
    for script in ("cytoscape/cytoscape.min.js", "cytoscape-dagre/cytoscape-dagre.min.js"):
        assert f"/static/vendor/{script}" in html
    for relation in ("pays", "consumes", "adds_to", "depends_on"):
        assert f'name="relation" value="{relation}" checked' in html
    # The fallback table and the keyboard chooser list every unit, escaped.
    for unit in chain_map().units:
        assert f'href="/units/{unit.id}"' in html
        assert f'<option value="{unit.id}">' in html
    assert "Packing &amp; &lt;Boxes&gt;" in html and "<Boxes>" not in html
    assert "Has orphan results" in html
    assert client.get("/map").text == html


def test_units_index_searches(client: TestClient) -> None:
    page = client.get("/units")
    assert page.status_code == 200
    assert '<a href="/units" aria-current="page">Units</a>' in page.text
    assert 'hx-get="/units"' in page.text and 'role="search"' in page.text
    words = text_of(page.text)
    assert "10 units." in words
    assert "Machining make Team 2 1 3 ⚠ 1" in words

    found = client.get("/units", params={"q": "ship"})
    assert "Shipping" in found.text and "Machining" not in found.text
    assert "<html" in found.text  # a plain GET (no JavaScript) gets the whole page

    fragment = client.get("/units", params={"q": "ship"}, headers=HTMX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and fragment.text.lstrip().startswith(
        '<div id="unit-results"'
    )
    assert "Shipping" in fragment.text and "Machining" not in fragment.text
    assert fragment.headers["vary"] == "HX-Request"

    customers = client.get("/units", params={"kind": "external_customer"}, headers=HTMX)
    assert "Retail chains" in customers.text and "Steel mill" not in customers.text
    assert "No units match." in client.get("/units", params={"q": "zzz"}, headers=HTMX).text


def test_unit_page_shows_customers_paths_suppliers_and_orphans(client: TestClient) -> None:
    answer = client.get("/units/make")
    assert answer.status_code == 200
    words = text_of(answer.text)
    assert "<h1>Machining</h1>" in answer.text
    assert "Steps to the external customer 3" in words
    assert "Direct customers 2" in words and "Indirect customers 4" in words
    assert "Orphan results 1" in words
    assert "1 result with no path to an external customer: Scrap report" in words
    # Direct customers with relation and result names.
    assert "Packing &amp; &lt;Boxes&gt; consumes adds to Machined parts" in words
    # Indirect customers with their via path, and the path to the external customer.
    assert "Retail chains Packing &amp; &lt;Boxes&gt; → Shipping → Retail chains" in words
    assert "Machining → Packing &amp; &lt;Boxes&gt; → Shipping → Retail chains (3 steps)" in words
    # Suppliers: the providers it depends on.
    assert "Steel mill External supplier consumes Steel bars" in words
    assert "Planning Team depends on Production plan" in words
    assert 'href="/#unit=make"' in answer.text


def test_unit_pages_for_the_ends_of_the_chain(client: TestClient) -> None:
    retail = text_of(client.get("/units/retail").text)
    assert "This is an external customer: the chain ends here." in retail
    ctrl = text_of(client.get("/units/ctrl").text)
    assert "This unit's work reaches no external customer." in ctrl
    assert "Steps to the external customer No path" in ctrl


def test_unknown_unit_is_a_friendly_404_page(client: TestClient) -> None:
    answer = client.get("/units/nobody")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "no unit with id &#39;nobody&#39;" in answer.text
    assert 'href="/units"' in answer.text and "Traceback" not in answer.text
    other = client.get("/no/such/page")
    assert other.status_code == 404 and "There is no page at this address." in other.text


def test_static_files_are_served(client: TestClient) -> None:
    for path, kind in (
        ("/static/vendor/cytoscape/cytoscape.min.js", "javascript"),
        ("/static/vendor/cytoscape-dagre/cytoscape-dagre.min.js", "javascript"),
        ("/static/vendor/htmx/htmx.min.js", "javascript"),
        ("/static/js/map.js", "javascript"),
        ("/static/css/valuechain.css", "text/css"),
    ):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert kind in answer.headers["content-type"], path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_cli(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """Run ``valuechain ARGS`` and wait until it prints the address it serves."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from valuechain.cli.main import main; main()", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        found = re.search(r"running at (http://\S+/)", line)
        if found:
            return process, found.group(1)
    process.kill()
    raise AssertionError("the server did not start:\n" + "".join(seen))


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(timeout=10)


def test_demo_serves_the_demo_from_its_own_database(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VALUECHAIN_")}
    port = free_port()
    process, url = start_cli(["demo", "--no-browser", "--port", str(port)], tmp_path, env)
    try:
        assert url == f"http://127.0.0.1:{port}/"
        units = httpx.get(f"{url}api/v1/units", timeout=10).json()
        assert units["total"] > 20
        home = httpx.get(url, timeout=10)
        assert "Organisation map" in home.text
        # The demo signs its admin in by itself, and says so.
        assert "You are signed in as the demo admin" in text_of(home.text)
        assert "vc_session" in home.cookies
    finally:
        stop(process)
    # The demo never touches the default ./valuechain.db.
    assert (tmp_path / "valuechain-demo.db").exists()
    assert not (tmp_path / "valuechain.db").exists()


def test_serve_serves_the_configured_database(tmp_path: Path, vc: Valuechain) -> None:
    vc.write_map(chain_map())
    make_account(vc)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VALUECHAIN_")}
    env["VALUECHAIN_DATABASE_URL"] = str(vc.engine.url.render_as_string(hide_password=False))
    env["VALUECHAIN_ORGANISATION"] = vc.organisation
    port = free_port()
    process, url = start_cli(["serve", "--port", str(port)], tmp_path, env)
    try:
        assert httpx.get(f"{url}api/v1/units/make/customers", timeout=10).status_code == 401
        signed = httpx.post(
            f"{url}api/v1/session", json={"email": "admin@example.org", "password": PASSWORD}
        )
        headers = {"Authorization": f"Bearer {signed.json()['token']}"}
        answer = httpx.get(f"{url}api/v1/units/make/customers", headers=headers, timeout=10)
        assert answer.json() == vc.customers("make")
    finally:
        stop(process)
