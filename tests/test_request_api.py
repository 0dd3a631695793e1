"""Requests through the JSON API and the pages, on both databases: a customer member
files, the provider answers, the customer thanks; Idempotency-Key replays store once
and a changed body answers 422; boxes and walls follow the access policy; the CLI's
`sla --json` and `request` verbs print one JSON document."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.builders import chain_map
from tests.signin import bearer, form_token, make_account, sign_in
from valuechain import Valuechain
from valuechain.cli.main import app as cli
from valuechain.domain.account import AccountRole
from valuechain.domain.person import Person, Role
from valuechain.web.app import create_app


@pytest.fixture
def app_vc(vc: Valuechain) -> Iterator[Valuechain]:
    org = chain_map()
    org.people = [
        Person("p-rita", "Rita Requester", "rita@example.org", "pack", Role.MEMBER),
        Person("p-pia", "Pia Packer", "pia@example.org", "pack", Role.MEMBER),
        Person("p-lena", "Lena Lead", "lena@example.org", "pack", Role.LEAD),
        Person("p-max", "Max Machinist", "max@example.org", "make", Role.MEMBER),
    ]
    vc.write_map(org)
    for email, role, person in (
        ("rita@example.org", AccountRole.MEMBER, "p-rita"),
        ("pia@example.org", AccountRole.MEMBER, "p-pia"),
        ("lena@example.org", AccountRole.LEAD, "p-lena"),
        ("max@example.org", AccountRole.MEMBER, "p-max"),
    ):
        make_account(vc, email, role, person_id=person)
    make_account(vc, "admin@example.org", AccountRole.ADMIN)
    yield vc


def api(vc: Valuechain, email: str) -> TestClient:
    client = TestClient(create_app(vc))
    client.headers["Authorization"] = f"Bearer {bearer(client, email)}"
    return client


def test_file_answer_resolve_and_thank_through_the_api(app_vc: Valuechain) -> None:
    rita, max_, pia = (api(app_vc, f"{n}@example.org") for n in ("rita", "max", "pia"))
    filed = rita.post(
        "/api/v1/requests",
        json={"provider": "make", "title": "40 parts by Friday", "priority": "high"},
        headers={"Idempotency-Key": "file-1"},
    )
    assert filed.status_code == 201, filed.text
    r = filed.json()
    assert (r["customer_id"], r["state"], r["requester"]) == ("pack", "new", "rita")
    again = rita.post(
        "/api/v1/requests",
        json={"provider": "make", "title": "40 parts by Friday", "priority": "high"},
        headers={"Idempotency-Key": "file-1"},
    )
    assert again.status_code == 201 and again.json()["id"] == r["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    changed = rita.post(
        "/api/v1/requests",
        json={"provider": "make", "title": "Other"},
        headers={"Idempotency-Key": "file-1"},
    )
    assert changed.status_code == 422
    inbox = max_.get("/api/v1/units/make/inbox").json()
    assert [x["id"] for x in inbox] == [r["id"]]
    assert inbox[0]["response_hours"] is not None and inbox[0]["breached"] is False
    for verb in ("ack", "start", "resolve"):
        for _ in range(2):  # a retried call with the same key stores once
            answer = max_.post(
                f"/api/v1/requests/{r['id']}/events",
                json={"verb": verb, "note": f"{verb}!"},
                headers={"Idempotency-Key": f"{r['id']}-{verb}"},
            )
            assert answer.status_code == 200, answer.text
    assert [e["verb"] for e in answer.json()["timeline"]] == ["new", "ack", "start", "resolve"]
    wrong = max_.post(f"/api/v1/requests/{r['id']}/events", json={"verb": "resolve"})
    assert wrong.status_code == 409 and "resolved" in wrong.json()["detail"]
    assert pia.get(f"/api/v1/requests/{r['id']}").status_code == 404  # a colleague's
    assert pia.post(f"/api/v1/requests/{r['id']}/thanks", json={}).status_code == 404
    assert max_.post(f"/api/v1/requests/{r['id']}/thanks", json={}).status_code == 409
    thanked = rita.post(f"/api/v1/requests/{r['id']}/thanks", json={"note": "Early!"})
    assert thanked.status_code == 200 and thanked.json()["thanks_note"] == "Early!"
    wall = max_.get("/api/v1/units/make/thanks").json()
    assert [(w["note"], w["by"], w["customer"]) for w in wall] == [("Early!", "rita", "pack")]
    assert rita.get("/api/v1/units/make/thanks").status_code == 403  # not her team's wall
    mine = rita.get("/api/v1/requests").json()
    assert [x["id"] for x in mine] == [r["id"]] and mine[0]["state"] == "resolved"
    assert pia.get("/api/v1/units/pack/outbox").json() == []  # members see their own
    lead = api(app_vc, "lena@example.org")
    assert [x["id"] for x in lead.get("/api/v1/units/pack/outbox").json()] == [r["id"]]
    sla = lead.get("/api/v1/units/pack/sla").json()["relationships"]
    assert [(s["provider"], s["customer"], s["requests"], s["thanked_pct"]) for s in sla] == [
        ("make", "pack", 1, 100.0)
    ]
    assert lead.get("/api/v1/sla").status_code == 403
    admin = api(app_vc, "admin@example.org")
    assert admin.get("/api/v1/sla").json()["relationships"] == sla


def test_pages_file_answer_and_thank_with_forms(app_vc: Valuechain) -> None:
    rita, max_ = TestClient(create_app(app_vc)), TestClient(create_app(app_vc))
    sign_in(rita, "rita@example.org")
    sign_in(max_, "max@example.org")
    page = rita.get("/requests")
    assert page.status_code == 200 and "New request" in page.text
    token = form_token(page.text)
    form = {"provider": "make", "title": "Drawings <rev B>", "csrf_token": token,
            "idempotency_key": "form-1"}  # fmt: skip
    filed = rita.post("/requests", data=form, follow_redirects=False)
    assert filed.status_code == 303
    again = rita.post("/requests", data=form, follow_redirects=False)  # double submit
    assert again.headers["location"] == filed.headers["location"]
    url = filed.headers["location"]
    inbox = max_.get("/units/make/inbox")
    assert (
        inbox.text.count("Drawings &lt;rev B&gt;") == 1 and 'hx-trigger="every 30s"' in inbox.text
    )
    rows = max_.get("/units/make/inbox", headers={"HX-Request": "true"})
    assert rows.text.lstrip().startswith("<tbody") or "<tbody" in rows.text[:400]
    page = max_.get(url)
    assert "Acknowledge" in page.text and "Say thank you" not in page.text
    token = form_token(page.text)
    for verb in ("ack", "resolve"):
        answer = max_.post(
            f"{url}/events", data={"verb": verb, "note": "done", "csrf_token": token},
            follow_redirects=False,
        )  # fmt: skip
        assert answer.status_code == 303
    stale = max_.post(f"{url}/events", data={"verb": "ack", "csrf_token": token})
    assert stale.status_code == 409 and "cannot be moved" in stale.text
    page = rita.get(url)
    assert "Say thank you" in page.text
    thanked = rita.post(
        f"{url}/thanks",
        data={"note": "Saved our week", "csrf_token": form_token(page.text)},
        follow_redirects=False,
    )
    assert thanked.status_code == 303
    wall = max_.get("/units/make/thanks")
    assert "Saved our week" in wall.text and "rita" in wall.text
    assert rita.get("/units/make/thanks").status_code == 403


def test_cli_request_verbs_and_sla_json(
    app_vc: Valuechain, cli_env: dict[str, str], tmp_path: Path
) -> None:
    runner = CliRunner()

    def run(*args: str) -> dict:  # type: ignore[type-arg]
        result = runner.invoke(cli, [*args, "--json"], env=cli_env)
        assert result.exit_code == 0, result.output
        found: dict = json.loads(result.stdout)  # type: ignore[type-arg]
        return found

    r = run("request", "new", "--from", "pack", "--to", "make", "--title", "Budget",
            "--idempotency-key", "cli-1")  # fmt: skip
    assert run("request", "new", "--from", "pack", "--to", "make", "--title", "Budget",
               "--idempotency-key", "cli-1")["id"] == r["id"]  # fmt: skip
    for verb in ("ack", "wait", "start", "resolve", "close"):
        r = run("request", verb, r["id"], "--note", verb)
    assert r["state"] == "closed" and len(r["timeline"]) == 6
    r = run("request", "thank", r["id"], "--note", "ta")
    assert r["thanked_by"].startswith("cli:")
    listed = run("request", "list", "--inbox", "make")
    assert [x["id"] for x in listed["requests"]] == [r["id"]]
    doc = run("sla")
    assert set(doc) == {"relationships"}
    row = doc["relationships"][0]
    assert {"provider", "customer", "requests", "first_response_met_pct", "resolution_met_pct",
            "median_resolution_hours", "thanked_pct"} <= row.keys()  # fmt: skip
    assert (row["provider"], row["customer"], row["requests"]) == ("make", "pack", 1)
    path = tmp_path / "requests.csv"
    path.write_text(
        "id,customer_id,provider_id,created_at,resolved_at,thanked\n"
        "x1,ctrl,make,2026-11-23T09:00:00Z,2026-11-23T12:00:00Z,1\n"
    )
    assert run("request", "import", str(path)) == {"requests": 1, "replaced": 0, "events": 3}
    bad = runner.invoke(cli, ["request", "resolve", "nope"], env=cli_env)
    assert bad.exit_code != 0
