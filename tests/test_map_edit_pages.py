"""The map-editing pages (web/map_edit.py) through the real app on both databases:
a unit's lead adds a result by name and proposes links by name, the other side's
lead confirms, disputes or corrects, the admin's page lists the open links; a
refused form keeps what was typed and says why next to the field; members, viewers
and the leads of other units get no forms and 403 on every step."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.builders import chain_map
from tests.signin import make_account
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.domain.agreement import Metric
from valuechain.domain.person import Person, Role
from valuechain.edge.dependencies import SESSION_COOKIE
from valuechain.services import accounts, map_edit
from valuechain.services import agreement as agreements
from valuechain.services.audit import Actor
from valuechain.web.app import create_app
from valuechain.web.map_edit import slot_of

# make produces "Machined parts" (parts) and "Scrap report"; ship is no customer of make.
PEOPLE = {
    "make": ("p-make", Role.LEAD),
    "ship": ("p-ship", Role.LEAD),
    "member": ("p-member", Role.MEMBER),
}
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A signed-in client that sends forms as the page's own form would."""

    def __init__(self, client: TestClient, csrf: str) -> None:
        self.client, self.csrf = client, csrf

    def get(self, path: str) -> str:
        answer = self.client.get(path)
        assert answer.status_code == 200, answer.text
        return answer.text

    def post(self, path: str, **data: str) -> tuple[int, str]:
        answer = self.client.post(
            path, data={**data, "csrf_token": self.csrf}, follow_redirects=False
        )
        return answer.status_code, answer.text


@pytest.fixture
def site(vc: Valuechain) -> Iterator[dict[str, Browser]]:
    org = chain_map()
    org.people = [
        Person(pid, f"Person {pid}", f"{pid}@example.org", "make" if who == "member" else who, role)
        for who, (pid, role) in PEOPLE.items()
    ]
    vc.write_map(org)
    make_account(vc, "admin@example.org", AccountRole.ADMIN)
    make_account(vc, "viewer@example.org", AccountRole.VIEWER)
    for pid, role in PEOPLE.values():
        kind = AccountRole.LEAD if role is Role.LEAD else AccountRole.MEMBER
        make_account(vc, f"{pid}@example.org", kind, person_id=pid)
    app = create_app(vc)
    browsers = {}
    emails = {"admin": "admin@example.org", "viewer": "viewer@example.org"}
    emails |= {who: f"{pid}@example.org" for who, (pid, _) in PEOPLE.items()}
    clients = []
    for who, email in emails.items():
        account = accounts.account_by_email(vc, email)
        assert account is not None
        started = accounts.start_session(vc, account, address="test")
        client = TestClient(app)
        client.cookies.set(SESSION_COOKIE, started.token)
        clients.append(client)
        browsers[who] = Browser(client, started.csrf_token)
    yield browsers
    for client in clients:
        client.close()


def _states(vc: Valuechain, unit: str) -> dict[tuple[str, str, str], str]:
    found = map_edit.unit_links(vc, unit)
    every = [x for links in found.provided.values() for x in links] + found.used
    return {(x.result_id, x.customer_id, x.relation): x.state for x in every}


def test_a_lead_builds_results_and_links_by_name_and_the_other_side_answers(
    vc: Valuechain, site: dict[str, Browser]
) -> None:
    make, ship, admin = site["make"], site["ship"], site["admin"]
    # The unit page links to the editing page for its own lead only.
    assert 'href="/units/make/results"' in make.get("/units/make")
    assert 'href="/units/ship/results"' not in make.get("/units/ship")
    page = make.get("/units/make/results")
    assert "Machined parts" in page and "Our results and who uses them" in page
    # The customer field suggests the other units by name.
    assert '<option value="Shipping">' in page and '<option value="Machining">' not in page
    # A result by name: its id is made from the unit and the name.
    status, _ = make.post(
        "/units/make/results",
        name="Fixtures", kind="finished", capacity="12", cost_per_item="3.5",
    )  # fmt: skip
    assert status == 303
    assert vc.result_names(["make-fixtures"]) == {"make-fixtures": "Fixtures"}
    # Two customer links proposed by the customer's name, not its id.
    for relation in ("consumes", "pays"):
        status, text = make.post(
            "/units/make/links",
            side="provider", result="make-fixtures", customer="Shipping", relation=relation,
        )  # fmt: skip
        assert status == 303, text
    assert _states(vc, "make")[("make-fixtures", "ship", "consumes")] == "proposed"
    # The customer's lead sees both waiting, confirms one and disputes the other.
    waiting = ship.get("/units/ship/results")
    assert waiting.count("Yes, we use this") == 2 and "Fixtures" in waiting
    status, _ = ship.post(
        "/units/ship/links/confirm",
        result_id="make-fixtures", customer_id="ship", relation="consumes",
    )  # fmt: skip
    assert status == 303
    status, _ = ship.post(
        "/units/ship/links/dispute",
        result_id="make-fixtures", customer_id="ship", relation="pays", reason="we never pay",
    )  # fmt: skip
    assert status == 303
    assert _states(vc, "ship") == {
        **_states(vc, "ship"),
        ("make-fixtures", "ship", "consumes"): "confirmed",
        ("make-fixtures", "ship", "pays"): "disputed",
    }
    # Only the confirmed link is on the map the analyses read.
    keys = {link.key for link in vc.read_map().links}
    assert ("make-fixtures", "ship", "consumes") in keys
    assert ("make-fixtures", "ship", "pays") not in keys
    # The admin's page lists the dispute with both names and the reason.
    listing = admin.get("/admin/links")
    assert "we never pay" in listing and "Shipping" in listing and "Machining" in listing
    assert 'href="/admin/links"' in listing  # in the Admin menu
    # The proposer withdraws the disputed one.
    status, _ = make.post(
        "/units/make/links/withdraw",
        result_id="make-fixtures", customer_id="ship", relation="pays",
    )  # fmt: skip
    assert status == 303
    assert ("make-fixtures", "ship", "pays") not in _states(vc, "make")
    assert "we never pay" not in admin.get("/admin/links")


def test_the_customer_declares_a_use_and_the_provider_corrects_the_relation(
    vc: Valuechain, site: dict[str, Browser]
) -> None:
    make, ship, admin = site["make"], site["ship"], site["admin"]
    # "We depend on your Scrap report": provider and result picked by name.
    status, text = ship.post(
        "/units/ship/links",
        side="customer", provider="machining", result="scrap report", relation="depends_on",
    )  # fmt: skip
    assert status == 303, text
    key = ("scrap-report", "ship", "depends_on")
    assert _states(vc, "ship")[key] == "proposed"
    # The proposer cannot answer its own proposal: no answer buttons for it.
    assert "Yes, they use it" not in ship.get("/units/ship/results")
    assert "Yes, they use it" in make.get("/units/make/results")
    # The provider corrects the relation: the original is disputed with the reason,
    # the corrected one waits for the customer.
    status, _ = make.post(
        "/units/make/links/correct",
        result_id=key[0], customer_id=key[1], relation=key[2], new_relation="adds_to",
    )  # fmt: skip
    assert status == 303
    states = _states(vc, "ship")
    assert states[key] == "disputed"
    assert states[("scrap-report", "ship", "adds_to")] == "proposed"
    listing = admin.get("/admin/links")
    assert "the relation is adds_to, not depends_on" in listing
    # Disputes first, then the proposals waiting for an answer.
    assert listing.index('data-state="disputed"') < listing.index('data-state="proposed"')
    # The admin confirms the correction for the customer, from the admin page.
    status, _ = admin.post(
        "/units/ship/links/confirm",
        result_id="scrap-report", customer_id="ship", relation="adds_to", back="admin",
    )  # fmt: skip
    assert status == 303
    assert _states(vc, "ship")[("scrap-report", "ship", "adds_to")] == "confirmed"


def test_a_refused_form_keeps_what_was_typed_and_says_why_next_to_the_field(
    vc: Valuechain, site: dict[str, Browser]
) -> None:
    make = site["make"]
    status, page = make.post("/units/make/results", name="Gauges", kind="finished", capacity="lots")
    assert status == 422
    assert 'id="new-capacity-error"' in page and 'value="lots"' in page
    assert 'value="Gauges"' in page
    status, page = make.post(
        "/units/make/links", side="provider", result="parts", customer="Nobody", relation="pays"
    )
    assert status == 422
    assert 'id="offer-customer-error"' in page and "No unit is called “Nobody”" in page
    assert 'value="Nobody"' in page
    status, page = make.post(
        "/units/make/links", side="customer", provider="Shipping", result="Bananas",
        relation="depends_on",
    )  # fmt: skip
    assert status == 422 and 'id="use-result-error"' in page and 'value="Bananas"' in page
    # A dispute without a reason: said next to that link's reason field.
    site["ship"].post(
        "/units/ship/links", side="customer", provider="Machining", result="Machined parts",
        relation="depends_on",
    )  # fmt: skip
    key = ("parts", "ship", "depends_on")
    status, page = make.post(
        "/units/make/links/dispute", result_id=key[0], customer_id=key[1], relation=key[2]
    )
    assert status == 422 and f'id="{slot_of(key)}-reason-error"' in page
    # A link that exists already is refused in words, the form kept.
    status, page = make.post(
        "/units/make/links", side="provider", result="parts", customer="Packing & <Boxes>",
        relation="consumes",
    )  # fmt: skip
    assert status == 409 and "exists already" in page and "Packing &amp; &lt;Boxes&gt;" in page


@pytest.mark.parametrize("who", ["member", "viewer", "ship"])
def test_others_get_no_forms_and_403_on_every_step(
    vc: Valuechain, site: dict[str, Browser], who: str
) -> None:
    browser = site[who]
    assert 'href="/units/make/results"' not in browser.get("/units/make")
    assert browser.client.get("/units/make/results").status_code == 403
    assert browser.client.get("/admin/links").status_code == 403
    key = {"result_id": "parts", "customer_id": "pack", "relation": "consumes"}
    steps = [
        ("/units/make/results", {"name": "X", "kind": "finished"}),
        ("/units/make/results/parts", {"name": "X", "kind": "finished"}),
        ("/units/make/results/parts/remove", {}),
        ("/units/make/links", {"side": "provider", "result": "parts", "customer": "Audit",
                               "relation": "pays"}),
        *((f"/units/make/links/{a}", key) for a in ("confirm", "dispute", "withdraw", "correct")),
    ]  # fmt: skip
    for path, data in steps:
        status, _ = browser.post(path, **data)
        assert status == 403, path
    assert vc.result_names(["parts"]) == {"parts": "Machined parts"}
    assert ("parts", "pack", "consumes") in {link.key for link in vc.read_map().links}


def test_a_result_is_changed_and_removed_and_one_in_use_is_refused_in_words(
    vc: Valuechain, site: dict[str, Browser]
) -> None:
    make = site["make"]
    status, _ = make.post(
        "/units/make/results/scrap-report", name="Scrap and rework report", kind="byproduct",
        capacity="2",
    )  # fmt: skip
    assert status == 303
    assert vc.result_names(["scrap-report"]) == {"scrap-report": "Scrap and rework report"}
    status, page = make.post(
        "/units/make/results/scrap-report", name="Scrap and rework report", kind="great"
    )
    assert status == 422 and 'id="edit-scrap-report-kind-error"' in page
    assert "Expected one of finished, intermediate, byproduct" in page
    # An agreement refers to parts: removing it is refused, said inside its form.
    agreements.draft(
        vc, "make", Actor(None, "test", "test"), result_id="parts", customer_id="pack",
        targets={Metric.ON_TIME_PCT: 95.0},
    )  # fmt: skip
    status, page = make.post("/units/make/results/parts/remove")
    assert status == 409 and 'id="edit-parts-form-error"' in page and "still referred to" in page
    assert vc.result_names(["parts"]) == {"parts": "Machined parts"}
    # The scrap report goes, with its links.
    status, _ = make.post("/units/make/results/scrap-report/remove")
    assert status == 303 and vc.result_names(["scrap-report"]) == {}
    assert "Scrap and rework report" not in make.get("/units/make/results")


def test_long_lists_show_open_links_first_and_say_how_many_are_left_out(
    vc: Valuechain, site: dict[str, Browser], monkeypatch: pytest.MonkeyPatch
) -> None:
    # make's parts has two confirmed customers (pack consumes and adds to it).
    site["ship"].post(
        "/units/ship/links", side="customer", provider="Machining", result="Machined parts",
        relation="depends_on",
    )  # fmt: skip
    site["ship"].post(
        "/units/ship/links", side="customer", provider="Machining", result="Scrap report",
        relation="depends_on",
    )  # fmt: skip
    monkeypatch.setattr("valuechain.web.map_edit.LINKS_SHOWN", 1)
    page = site["make"].get("/units/make/results")
    card = page[page.index('data-result="Machined parts"') :].split("</details>")[0]
    # The open link is the one shown; the two confirmed ones are counted.
    assert 'data-state="proposed"' in card and 'data-state="confirmed"' not in card
    assert "2 more not shown." in card
    listing = site["admin"].get("/admin/links")
    assert listing.count('class="link-card"') == 1
    assert "0 disputed · 2 waiting for an answer; the first 1 are shown." in listing
