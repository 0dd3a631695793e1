"""No API answer carries the internal ``org_id`` (the organisation's row number, which
says how many organisations a deployment holds and is nobody's business): not the
OpenAPI schema, and not one real answer of every operation the schema lists, called
as an admin and as a lead on the demo organisation, on both databases. State-changing
answers matter most: they are recorded for Idempotency-Key replays as they are sent."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import openpyxl
from fastapi.testclient import TestClient

from tests.signin import bearer, make_account
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.web.app import create_app

INTERNAL = "org_id"
REL = "/api/v1/relationships/payroll/assembly"


def keys(document: Any) -> Iterator[str]:
    """Every key of every object in a JSON document (or a schema)."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield key
            yield from keys(value)
    elif isinstance(document, list):
        for value in document:
            yield from keys(value)


def test_the_schema_names_no_internal_key(vc: Valuechain) -> None:
    schema = create_app(vc).openapi()
    assert INTERNAL not in set(keys(schema))


def _calls() -> list[tuple[str, str, str, str, dict[str, Any]]]:
    """(schema method, schema path, who, concrete path, request kwargs), in an order
    where each call finds what the earlier ones made."""
    action = {"title": "t", "owner": "o", "due_on": "2099-01-01", "instrument": "service_factors"}
    agreement = "/api/v1/units/payroll/agreements/payroll-assembly"
    unit = "/api/v1/units/{unit_id}"
    req = "/api/v1/requests/{request_id}"
    rel = "/api/v1/relationships/{provider_id}/{customer_id}"
    calls: list[tuple[str, str, str, str, dict[str, Any]]] = [
        ("GET", "/api/v1/map", "admin", "/api/v1/map", {}),
        ("GET", "/api/v1/map", "admin", "/api/v1/map?as_of=2099-01-01", {}),
        (
            "GET",
            "/api/v1/map/changes",
            "admin",
            "/api/v1/map/changes",
            {"params": {"from": "2000-01-01"}},
        ),
        ("GET", "/api/v1/map/departments", "admin", "/api/v1/map/departments", {}),
        ("GET", "/api/v1/units", "admin", "/api/v1/units", {}),
        ("GET", unit, "admin", "/api/v1/units/payroll", {}),
        ("GET", f"{unit}/customers", "admin", "/api/v1/units/payroll/customers", {}),
        ("GET", f"{unit}/scores", "admin", "/api/v1/units/payroll/scores", {}),
        ("GET", f"{unit}/drivers", "admin", "/api/v1/units/payroll/drivers", {}),
        ("GET", "/api/v1/flow", "admin", "/api/v1/flow", {}),
        ("GET", "/api/v1/session", "admin", "/api/v1/session", {}),
        ("GET", "/api/v1/accounts", "admin", "/api/v1/accounts", {}),
        ("GET", "/api/v1/audit", "admin", "/api/v1/audit", {}),
        ("GET", "/api/v1/reports/organisation", "admin", "/api/v1/reports/organisation", {}),
        ("GET", f"{unit}/report", "admin", "/api/v1/units/payroll/report", {}),
        ("GET", f"{rel}/report", "admin", f"{REL}/report", {}),
        ("GET", "/api/v1/relationships", "admin", "/api/v1/relationships", {}),
        ("GET", rel, "admin", REL, {}),
        ("POST", f"{rel}/workspace", "customer_lead", f"{REL}/workspace",
         {"json": {"kind": "need", "text": "Payslips by the 25th"}}),
        ("POST", f"{rel}/workspace/{{entry_id}}/mark", "lead", f"{REL}/workspace/{{entry}}/mark",
         {"json": {"alignment": "aligned"}}),
        ("POST", f"{rel}/actions", "lead", f"{REL}/actions", {"json": action}),
        ("POST", f"{rel}/actions/{{action_id}}/status", "lead",
         f"{REL}/actions/{{action}}/status", {"json": {"status": "in_progress"}}),
        ("GET", "/api/v1/campaigns", "admin", "/api/v1/campaigns", {}),
        ("POST", "/api/v1/campaigns", "admin", "/api/v1/campaigns",
         {"json": {"id": "keys", "instrument": "pulse",
                   "relationships": [{"provider": "payroll", "customer": "assembly"}]}}),
        ("GET", "/api/v1/campaigns/{campaign_id}", "admin", "/api/v1/campaigns/keys", {}),
        ("POST", "/api/v1/campaigns/{campaign_id}/invite", "admin",
         "/api/v1/campaigns/keys/invite", {}),
        ("POST", "/api/v1/campaigns/{campaign_id}/remind", "admin",
         "/api/v1/campaigns/keys/remind", {}),
        ("POST", "/api/v1/campaigns/{campaign_id}/close", "admin",
         "/api/v1/campaigns/keys/close", {}),
        ("GET", f"{unit}/campaigns", "admin", "/api/v1/units/payroll/campaigns", {}),
        # No mail server here, so no token was sent: an unknown token's answer.
        ("GET", "/api/v1/survey/{token}", "admin", "/api/v1/survey/no-such-token", {}),
        ("POST", "/api/v1/survey/{token}", "admin", "/api/v1/survey/no-such-token",
         {"json": {"answers": []}}),
        ("GET", f"{unit}/change", "admin", "/api/v1/units/payroll/change", {}),
        ("GET", f"{unit}/comments", "admin", "/api/v1/units/payroll/comments", {}),
        ("GET", "/api/v1/notifications/preferences", "lead", "/api/v1/notifications/preferences",
         {}),
        ("PUT", "/api/v1/notifications/preferences", "lead", "/api/v1/notifications/preferences",
         {"json": {"preferences": [{"kind": "thanks", "email": True, "webhook": False}]}}),
        ("GET", "/api/v1/notifications/outbox", "admin", "/api/v1/notifications/outbox", {}),
        ("POST", "/api/v1/notifications/outbox/retry", "admin",
         "/api/v1/notifications/outbox/retry", {}),
        ("GET", "/api/v1/notifications/webhook", "admin", "/api/v1/notifications/webhook", {}),
        ("PUT", "/api/v1/notifications/webhook", "admin", "/api/v1/notifications/webhook",
         {"json": {"url": None}}),
        ("GET", "/api/v1/connect", "admin", "/api/v1/connect", {}),
        ("GET", f"{unit}/connect", "admin", "/api/v1/units/payroll/connect", {}),
        ("GET", f"{unit}/agreements", "admin", "/api/v1/units/payroll/agreements", {}),
        ("POST", f"{unit}/agreements", "lead", "/api/v1/units/payroll/agreements",
         {"json": {"result_id": "payroll-run", "customer_id": "machining",
                   "targets": {"on_time_pct": 99}}}),
        ("GET", f"{unit}/agreements/{{agreement_id}}", "admin", agreement, {}),
        ("POST", f"{unit}/agreements/{{agreement_id}}/propose", "lead",
         "/api/v1/units/payroll/agreements/{agreement}/propose", {}),
        ("POST", f"{unit}/agreements/{{agreement_id}}/agree", "lead",
         "/api/v1/units/payroll/agreements/{agreement}/agree", {}),
        ("POST", f"{unit}/agreements/{{agreement_id}}/review", "lead",
         f"{agreement}/review", {}),
        ("POST", f"{unit}/agreements/{{agreement_id}}/commitments", "lead",
         f"{agreement}/commitments",
         {"json": {"due_at": "2026-11-30T09:00:00+00:00", "event": "delivered"}}),
        ("GET", "/api/v1/commitments", "admin", "/api/v1/commitments", {}),
        ("GET", f"{unit}/capacity", "admin", "/api/v1/units/payroll/capacity", {}),
        ("PUT", f"{unit}/capacity/shares", "lead", "/api/v1/units/payroll/capacity/shares",
         {"json": {"result_id": "payroll-run", "customer_id": "assembly", "share": 5}}),
        ("POST", f"{unit}/negotiations/{{negotiation_id}}", "lead",
         "/api/v1/units/payroll/negotiations/no-such-negotiation",
         {"json": {"settlement": "accepted"}}),
        ("GET", f"{unit}/watermelon", "admin", "/api/v1/units/payroll/watermelon", {}),
        ("GET", "/api/v1/requests", "customer_lead", "/api/v1/requests", {}),
        ("POST", "/api/v1/requests", "customer_lead", "/api/v1/requests",
         {"json": {"provider": "payroll", "title": "Payslip for a new colleague"}}),
        ("GET", req, "customer_lead", "/api/v1/requests/{request}", {}),
        ("POST", f"{req}/events", "lead", "/api/v1/requests/{request}/events",
         {"json": {"verb": "resolve", "note": "done"}}),
        ("POST", f"{req}/thanks", "customer_lead", "/api/v1/requests/{request}/thanks",
         {"json": {"note": "thanks"}}),
        ("POST", f"{req}/comments", "customer_lead", "/api/v1/requests/{request}/comments",
         {"json": {"body": "One more question"}}),
        ("POST", f"{req}/assignee", "lead", "/api/v1/requests/{request}/assignee",
         {"json": {"person": None}}),
        ("GET", "/api/v1/queue", "admin", "/api/v1/queue?open=false&q=payslip", {}),
        ("GET", f"{unit}/inbox", "lead", "/api/v1/units/payroll/inbox", {}),
        ("GET", f"{unit}/outbox", "customer_lead", "/api/v1/units/assembly/outbox", {}),
        ("GET", f"{unit}/thanks", "lead", "/api/v1/units/payroll/thanks", {}),
        ("GET", f"{unit}/sla", "admin", "/api/v1/units/payroll/sla", {}),
        ("GET", "/api/v1/sla", "admin", "/api/v1/sla", {}),
        ("GET", "/api/v1/export", "admin", "/api/v1/export", {}),
        ("GET", "/api/v1/people/{person_key}/export", "admin",
         "/api/v1/people/person-063/export", {}),
        ("DELETE", "/api/v1/people/{person_key}", "admin", "/api/v1/people/person-063", {}),
        ("POST", "/api/v1/session", "admin", "/api/v1/session",
         {"json": {"email": "admin@example.org", "password": "not the password"}}),
        ("DELETE", "/api/v1/session", "admin", "/api/v1/session", {}),
    ]  # fmt: skip
    # The map built together (map_edit): a result, links and their answers.
    res = f"{unit}/results"
    mine = "/api/v1/units/payroll"
    used = {"result_id": "pay-slips", "customer_id": "assembly", "relation": "consumes"}
    other = {**used, "relation": "depends_on"}
    person = {"id": "keys-person", "name": "Kim Keys", "email": "kim.keys@example.org",
              "unit_id": "keys", "role": "member"}  # fmt: skip
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("units.csv", "id,name,kind\n")
    # Before the last two calls, which sign the admin in wrongly and out.
    calls[-2:-2] = [
        ("POST", res, "lead", f"{mine}/results",
         {"json": {"id": "pay-slips", "name": "Pay slips", "kind": "intermediate"}}),
        ("PUT", f"{res}/{{result_id}}", "lead", f"{mine}/results/pay-slips",
         {"json": {"name": "Pay slips", "kind": "intermediate"}}),
        ("POST", f"{unit}/links", "lead", f"{mine}/links", {"json": used}),
        ("POST", f"{unit}/links/confirm", "admin", "/api/v1/units/assembly/links/confirm",
         {"json": used}),
        ("POST", f"{unit}/links", "lead", f"{mine}/links", {"json": other}),
        ("POST", f"{unit}/links/dispute", "admin", "/api/v1/units/assembly/links/dispute",
         {"json": {**other, "reason": "not us"}}),
        ("GET", "/api/v1/links", "admin", "/api/v1/links?state=disputed", {}),
        ("POST", f"{unit}/links/withdraw", "lead", f"{mine}/links/withdraw", {"json": other}),
        ("DELETE", f"{res}/{{result_id}}", "lead", f"{mine}/results/pay-slips", {}),
        # Suggested links: the demo's Payroll rated Assembly; Sales operations asks the
        # IT service desk, whose results are not linked to it.
        ("GET", f"{unit}/suggestions", "lead", f"{mine}/suggestions", {}),
        ("GET", "/api/v1/suggestions", "admin", "/api/v1/suggestions?limit=2", {}),
        ("POST", f"{unit}/suggestions/accept", "lead", f"{mine}/suggestions/accept",
         {"json": {"provider_id": "assembly", "customer_id": "payroll",
                   "result_id": "assembly-shift-log", "relation": "depends_on"}}),
        ("POST", f"{unit}/suggestions/dismiss", "admin",
         "/api/v1/units/sales-operations/suggestions/dismiss",
         {"json": {"provider_id": "it-service-desk", "customer_id": "sales-operations"}}),
        # The map's structure (map_structure): a unit and a person, made and undone.
        ("POST", "/api/v1/units", "admin", "/api/v1/units",
         {"json": {"id": "keys", "name": "Keys", "kind": "team", "parent_id": None}}),
        ("PUT", unit, "admin", "/api/v1/units/keys", {"json": {"name": "Keys", "kind": "team"}}),
        ("POST", "/api/v1/people", "admin", "/api/v1/people", {"json": person}),
        ("PUT", "/api/v1/people/{person_key}", "admin", "/api/v1/people/keys-person",
         {"json": {k: v for k, v in person.items() if k != "id"}}),
        ("POST", "/api/v1/people/{person_key}/leave", "admin",
         "/api/v1/people/keys-person/leave", {}),
        ("DELETE", unit, "admin", "/api/v1/units/keys", {}),
        ("POST", "/api/v1/import", "admin", "/api/v1/import",
         {"files": {"file": ("bundle.zip", bundle.getvalue(), "application/zip")}}),
    ]  # fmt: skip
    return calls


def _document(answer: httpx.Response) -> Any:
    """The answer as JSON; the export (a workbook) as its sheets' header rows."""
    if not answer.content:
        return None
    if answer.headers["content-type"].startswith(("application/json", "application/problem+json")):
        return answer.json()
    book = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True)
    headers = {
        sheet.title: next(sheet.iter_rows(max_row=1, values_only=True), ()) for sheet in book
    }
    return {str(h): None for row in headers.values() for h in row}


def test_no_answer_carries_the_internal_key(demo_vc: Valuechain) -> None:
    vc = demo_vc
    make_account(vc)
    make_account(vc, "lead@example.org", AccountRole.LEAD, person_id="person-062")  # payroll
    make_account(vc, "customer@example.org", AccountRole.LEAD, person_id="person-020")
    client = TestClient(create_app(vc))
    tokens = {
        "admin": bearer(client),
        "lead": bearer(client, "lead@example.org"),
        "customer_lead": bearer(client, "customer@example.org"),
    }
    schema = client.get("/openapi.json").json()
    operations = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    ids = {"entry": "?", "action": "?", "agreement": "?", "request": "?"}
    called: set[tuple[str, str]] = set()
    found: list[str] = []
    refused: set[tuple[str, str]] = set()
    for method, template, who, path, kwargs in _calls():
        path = path.format(**ids)  # ids made by earlier calls
        answer = client.request(
            method, path, headers={"Authorization": f"Bearer {tokens[who]}"}, **kwargs
        )
        called.add((method, template))
        if answer.status_code >= 300:
            refused.add((method, template))
        body = _document(answer)
        if INTERNAL in set(keys(body)):
            found.append(f"{method} {path}: {answer.status_code}")
        if answer.status_code < 300 and isinstance(body, dict):
            if template.endswith("/workspace"):
                ids["entry"] = body["id"]
            elif template.endswith("/actions"):
                ids["action"] = body["id"]
            elif template == "/api/v1/units/{unit_id}/agreements" and method == "POST":
                ids["agreement"] = body["id"]
            elif template == "/api/v1/requests" and method == "POST":
                ids["request"] = body["id"]
    assert operations == called, operations ^ called
    assert found == []
    # Real answers were walked: only these are problems (no mail server, no token,
    # nothing due, no negotiation, a wrong password).
    assert refused == {
        ("POST", "/api/v1/campaigns/{campaign_id}/invite"),
        ("POST", "/api/v1/campaigns/{campaign_id}/remind"),
        ("GET", "/api/v1/survey/{token}"),
        ("POST", "/api/v1/survey/{token}"),
        ("POST", "/api/v1/units/{unit_id}/agreements/{agreement_id}/commitments"),
        ("POST", "/api/v1/units/{unit_id}/negotiations/{negotiation_id}"),
        ("POST", "/api/v1/session"),
    }
