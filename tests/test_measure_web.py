"""The provider dashboard page on the demo organisation (both databases): a lead
sees their own unit's dashboard with every section and suppressed cells rendered
as such; another unit's member and an unrelated lead are refused."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.signin import make_account, sign_in
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.domain.person import Role
from valuechain.services.dashboard import dashboard
from valuechain.services.demo import demo_map
from valuechain.web.app import create_app
from valuechain.web.measure import charts

PROVIDER = "production-planning"


def _person(unit: str, role: Role) -> str:
    return next(p.id for p in demo_map().people if p.unit_id == unit and p.role is role)


def _inline_values(spec: dict[str, object]) -> list[dict[str, object]]:
    """The rows a chart spec carries (its one named dataset)."""
    datasets = spec["datasets"]
    assert isinstance(datasets, dict) and set(datasets) == {"rows"}
    rows = datasets["rows"]
    assert isinstance(rows, list)
    return rows


@pytest.fixture
def demo(demo_vc: Valuechain) -> Valuechain:
    return demo_vc


def _client(vc: Valuechain, email: str, role: AccountRole, person: str) -> Iterator[TestClient]:
    make_account(vc, email, role, person_id=person)
    with TestClient(create_app(vc)) as client:
        sign_in(client, email)
        yield client


@pytest.fixture
def lead(demo: Valuechain) -> Iterator[TestClient]:
    yield from _client(demo, "lead@example.org", AccountRole.LEAD, _person(PROVIDER, Role.LEAD))


def test_a_lead_sees_their_dashboard(lead: TestClient) -> None:
    page = lead.get(f"/units/{PROVIDER}/dashboard")
    assert page.status_code == 200
    html = page.text
    for section in (
        "table-dimensions",
        "table-heat",
        "table-trend",
        "table-change",
        "table-drivers",
        "themes",
    ):
        assert f'id="{section}"' in html, section
    for chart in ("dimensions", "heat", "trend", "drivers", "quadrants"):
        assert f'id="spec-{chart}"' in html, chart
    # The comparison names its cuts in words, not the cut's key.
    change = re.search(r'id="table-change".*?</table>', html, re.S)
    assert change is not None and "One dimension" in change.group(0)
    assert not re.search(r'<th scope="row">(relationship|dimension|provider)\b', change.group(0))
    # The maintenance row of the heat map: every cell suppressed, no number.
    row = re.search(r"<tr><th scope=\"row\"><a href=\"/units/maintenance\">.*?</tr>", html, re.S)
    assert row is not None
    assert row.group(0).count('data-suppressed="true"') == 6
    assert "n=" not in row.group(0)
    # The unit page links to it; the lead may also see a customer's dashboard.
    assert f'href="/units/{PROVIDER}/dashboard"' in lead.get(f"/units/{PROVIDER}").text
    assert lead.get("/units/assembly/dashboard").status_code == 200
    assert lead.get("/units/nobody/dashboard").status_code in (403, 404)


def test_other_units_are_refused(demo: Valuechain) -> None:
    member = _person("payroll", Role.MEMBER)
    for client in _client(demo, "member@example.org", AccountRole.MEMBER, member):
        assert client.get(f"/units/{PROVIDER}/dashboard").status_code == 403
        assert client.get("/units/payroll/dashboard").status_code == 403  # results need a lead
    other = _person("payroll", Role.LEAD)
    for client in _client(demo, "other@example.org", AccountRole.LEAD, other):
        assert client.get(f"/units/{PROVIDER}/dashboard").status_code == 403
        assert client.get("/units/payroll/dashboard").status_code == 200


def test_the_document_shows_no_number_of_a_suppressed_cell(demo: Valuechain) -> None:
    doc = dashboard(demo, PROVIDER)
    assert doc["campaign"] == "2026-q2" and doc["campaigns"] == ["2026-q1", "2026-q2"]
    rows = doc["dimensions"] + doc["heat"] + doc["relationships"] + doc["trend"]
    for row in rows:
        if row["suppressed"]:
            assert row["n"] is None and row["mean"] is None
        else:
            assert row["n"] >= doc["threshold"]
    hidden = {r["customer"] for r in doc["heat"] if r["suppressed"]}
    assert "maintenance" in hidden
    # The charts carry only published values; suppressed heat cells carry no mean.
    specs = charts(doc, validate=True)  # every spec is valid Vega-Lite
    assert set(specs) == {"dimensions", "heat", "trend", "drivers", "quadrants"}
    found = _inline_values(specs["heat"])
    assert found and len(found) == len(doc["heat"])
    for value in found:
        assert value["suppressed"] is (value["mean"] is None)
        assert value["suppressed"] is (value["n"] is None)
    assert specs["heat"]["$schema"].startswith("https://vega.github.io/schema/vega-lite/v6")


def test_a_unit_without_responses_says_so(demo: Valuechain) -> None:
    for client in _client(
        demo, "admin@example.org", AccountRole.ADMIN, _person("payroll", Role.LEAD)
    ):
        page = client.get("/units/machining/dashboard")
        assert page.status_code == 200 and 'id="no-responses"' in page.text


def _fields(spec: object) -> set[str]:
    """Every field a chart spec encodes (colour, axes, tooltips), at any depth."""
    found: set[str] = set()
    if isinstance(spec, dict):
        if isinstance(spec.get("field"), str):
            found.add(spec["field"])
        for key, value in spec.items():
            if key != "datasets":
                found |= _fields(value)
    elif isinstance(spec, list):
        for value in spec:
            found |= _fields(value)
    return found


def test_charts_speak_the_instruments_words_and_name_customers(demo: Valuechain) -> None:
    """The legends and axes say what the tables say ("Ability to solve problems"), not
    the keys (``problem_solving``); the heat map's rows are unit names."""
    doc = dashboard(demo, PROVIDER)
    specs = charts(doc, validate=True)
    labels = set(doc["labels"].values())
    trend = _inline_values(specs["trend"])
    assert {r["label"] for r in trend} == labels | {"Overall score"}
    assert "series" not in _fields(specs["trend"]) and "label" in _fields(specs["trend"])
    for name in ("drivers", "quadrants"):
        assert "dimension" not in _fields(specs[name]), name
        assert {r["label"] for r in _inline_values(specs[name])} <= labels
    assert "customer" not in _fields(specs["heat"])
    names = {r["name"] for r in _inline_values(specs["heat"])}
    assert "Maintenance" in names and "maintenance" not in names
    # The quadrant chart carries no text marks that could overlap.
    assert "text" not in str(specs["quadrants"]["layer"])
