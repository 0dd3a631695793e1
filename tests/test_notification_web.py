"""Notification settings through the web page, the JSON API and the command line:
a person changes their own choices, and what they chose is what the drain sends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.signin import bearer, form_token, make_account, sign_in
from tests.test_notification import people_map
from tests.webhook_receiver import webhook_receiver
from valuechain import Valuechain
from valuechain.cli.main import app as cli
from valuechain.domain.account import AccountRole
from valuechain.domain.notification import KINDS, Preference
from valuechain.services import notification
from valuechain.web.app import create_app


@pytest.fixture
def client(vc: Valuechain) -> Iterator[TestClient]:
    vc.write_map(people_map())
    make_account(vc, "ana@example.org", AccountRole.MEMBER, person_id="ana")
    make_account(vc, "admin@example.org", AccountRole.ADMIN)
    with TestClient(create_app(vc)) as c:
        yield c


def test_a_person_edits_their_own_choices_on_the_settings_page(
    vc: Valuechain, client: TestClient, smtp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The receiver is on loopback, which webhooks reach only when the operator lists it.
    monkeypatch.setenv("VALUECHAIN_WEBHOOK_HOSTS", "127.0.0.1")
    sign_in(client, "ana@example.org")
    page = client.get("/settings/notifications")
    assert page.status_code == 200
    for label in KINDS.values():
        assert label in page.text
    assert page.text.count("checked") == 2 * len(KINDS)  # everything on at first
    # Untick email for thanks and the webhook for everything; set an own webhook.
    with webhook_receiver() as hook:
        form = {"csrf_token": form_token(page.text), "webhook_url": hook.url}
        for kind in KINDS:
            if kind != "thanks":
                form[f"email:{kind}"] = "on"
        form["webhook:thanks"] = "on"
        saved = client.post("/settings/notifications", data=form, follow_redirects=False)
        assert saved.status_code == 303
        again = client.get(saved.headers["location"])
        assert "Saved." in again.text and hook.url in again.text
        chosen = {p.kind: p for p in notification.preferences(vc, "ana")}
        assert chosen["thanks"] == Preference("thanks", email=False, webhook=True)
        assert chosen["sla_breach"] == Preference("sla_breach", email=True, webhook=False)
        # ... and the drain follows the choices.
        notification.notify(vc, "ana", "thanks", "Thanks from Bo", "For the plan.")
        notification.notify(vc, "ana", "sla_breach", "R-9 breached", "x")
        notification.drain(vc.engine, org_id=vc.org_id)
        assert [m["Subject"] for m in smtp_server.to("ana@example.org")] == ["R-9 breached"]
        assert hook.texts() == ["*Thanks from Bo*\nFor the plan."]
    bad = client.post(
        "/settings/notifications",
        data={"csrf_token": form_token(page.text), "webhook_url": "ftp://nope"},
    )
    assert bad.status_code == 422 and "expected an http" in bad.text


def test_an_account_without_a_person_is_told_so(client: TestClient) -> None:
    sign_in(client, "admin@example.org")
    page = client.get("/settings/notifications")
    assert page.status_code == 200 and "not linked to a person" in page.text


def test_the_api_reads_and_changes_own_preferences(vc: Valuechain, client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {bearer(client, 'ana@example.org')}"}
    got = client.get("/api/v1/notifications/preferences", headers=headers).json()
    assert got["person"] == "ana" and got["webhook_url"] is None
    assert [p["kind"] for p in got["preferences"]] == list(KINDS)
    put = client.put(
        "/api/v1/notifications/preferences",
        headers=headers,
        json={
            "preferences": [{"kind": "report", "email": False, "webhook": False}],
            "webhook_url": "https://hooks.example.org/ana",
        },
    )
    assert put.status_code == 200
    body = put.json()
    assert body["webhook_url"] == "https://hooks.example.org/ana"
    report = next(p for p in body["preferences"] if p["kind"] == "report")
    assert (report["email"], report["webhook"]) == (False, False)
    assert notification.preferences(vc, "ana")[list(KINDS).index("report")] == Preference(
        "report", email=False, webhook=False
    )
    wrong = client.put(
        "/api/v1/notifications/preferences",
        headers=headers,
        json={"preferences": [{"kind": "gossip", "email": True, "webhook": True}]},
    )
    assert wrong.status_code == 422 and "unknown notification kind" in wrong.json()["detail"]


def test_admins_see_the_outbox_and_set_the_organisation_webhook(
    vc: Valuechain, client: TestClient
) -> None:
    headers = {"Authorization": f"Bearer {bearer(client, 'admin@example.org')}"}
    notification.notify(vc, "ana", "report", "March report", "x")
    outbox = client.get("/api/v1/notifications/outbox", headers=headers).json()
    assert outbox["counts"] == {"pending": 1, "sent": 0, "failed": 0}
    assert outbox["rows"][0]["subject"] == "March report"
    put = client.put(
        "/api/v1/notifications/webhook", headers=headers, json={"url": "https://chat/hook"}
    )
    assert put.json() == {"url": "https://chat/hook"}
    assert client.get("/api/v1/notifications/webhook", headers=headers).json() == put.json()
    assert client.post("/api/v1/notifications/outbox/retry", headers=headers).json() == {
        "retried": 0
    }
    sign_in(client, "admin@example.org")
    page = client.get("/admin/outbox")
    assert page.status_code == 200 and "March report" in page.text and "1 pending" in page.text


def test_the_command_line_sets_preferences_and_webhooks(
    vc: Valuechain, cli_env: dict[str, str]
) -> None:
    vc.write_map(people_map())
    runner = CliRunner()

    def run(*args: str) -> Any:
        result = runner.invoke(cli, ["notify", *args, "--json"], env=cli_env)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    found = run("preferences", "bo", "--kind", "thanks", "--no-webhook")
    thanks = next(p for p in found["preferences"] if p["kind"] == "thanks")
    assert (thanks["email"], thanks["webhook"]) == (True, False)
    found = run("preferences", "bo", "--no-email")  # every kind
    assert all(not p["email"] for p in found["preferences"])
    assert run("webhook", "https://chat.example.org/org") == {
        "person": None,
        "url": "https://chat.example.org/org",
    }
    assert run("webhook", "--person", "bo", "https://chat.example.org/bo")["url"].endswith("/bo")
    assert run("webhook", "--person", "bo", "--clear")["url"] is None
    assert run("outbox")["counts"] == {"pending": 0, "sent": 0, "failed": 0}
    bad = runner.invoke(cli, ["notify", "preferences", "nobody", "--no-email"], env=cli_env)
    assert bad.exit_code != 0
