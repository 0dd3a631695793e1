"""Issue 14 item 4 over real HTTP: a client that retries a write with the same
``Idempotency-Key`` (a lost answer, a double click) gets the first answer again and the
change is stored once, for every capability that writes: Agree (a draft agreement),
Partner (a workspace entry, an action), Measure (a campaign), Request (a request, an
event, a thanks) and the Map (a result). The same key with another body is refused
with 422 and changes nothing. Against a real uvicorn server on loopback, on both
databases, with the demo organisation."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import demo_copy
from tests.test_relationship_access import Server, _serve_demo

REL = "/api/v1/relationships/payroll/assembly"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with demo_copy(request, request.param, tmp_path_factory.mktemp("replay")) as url:
        yield from _serve_demo(url)


def _call(server: Server, who: str, method: str, path: str, key: str, body: Any) -> Any:
    """One call with the caller's token and ``key`` as its Idempotency-Key."""
    headers = {"Authorization": f"Bearer {server.tokens[who]}", "Idempotency-Key": key}
    return httpx.request(method, server.url + path, headers=headers, json=body, timeout=60)


def _rows(server: Server, table: str) -> int:
    with server.vc.engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def _payroll_result(server: Server) -> str:
    """A result of payroll that assembly uses (the relationship of the demo)."""
    org = server.vc.read_map()
    payroll = {r.id for r in org.results if r.unit_id == "payroll"}
    return next(
        link.result_id
        for link in org.links
        if link.customer_id == "assembly" and link.result_id in payroll
    )


def _filed(server: Server) -> str:
    """A fresh request from assembly to payroll, for the steps that need one."""
    answer = server.call(
        "customer_member", "POST", "/api/v1/requests",
        json={"provider": "payroll", "title": f"replay {uuid.uuid4().hex[:6]}"},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _resolved(server: Server) -> str:
    request_id = _filed(server)
    for verb in ("ack", "start", "resolve"):
        answer = server.call(
            "provider_lead", "POST", f"/api/v1/requests/{request_id}/events", json={"verb": verb}
        )
        assert answer.status_code == 200, answer.text
    return request_id


# Each write: who, method, a path (built from the server), a body, another body, and
# the table whose rows count the change.
Write = tuple[str, str, Callable[[Server], str], Callable[[Server], dict[str, Any]], str]
WRITES: dict[str, tuple[Write, dict[str, Any]]] = {
    "agreement draft": (
        (
            "provider_lead", "POST", lambda s: "/api/v1/units/payroll/agreements",
            lambda s: {"result_id": _payroll_result(s), "customer_id": "assembly",
                       "targets": {"on_time_pct": 90}},
            "agreements",
        ),
        {"targets": {"on_time_pct": 80}},
    ),
    "workspace entry": (
        ("provider_lead", "POST", lambda s: f"{REL}/workspace",
         lambda s: {"kind": "need", "text": "Payslips two days earlier"}, "workspace_entries"),
        {"text": "Something else"},
    ),
    "action": (
        ("provider_lead", "POST", lambda s: f"{REL}/actions",
         lambda s: {"title": "Call weekly", "owner": "Payroll lead", "due_on": "2099-01-01",
                    "instrument": "service_factors"}, "actions"),
        {"title": "Call daily"},
    ),
    "campaign": (
        ("admin", "POST", lambda s: "/api/v1/campaigns",
         lambda s: {"id": f"replay-{uuid.uuid4().hex[:8]}", "instrument": "service_factors",
                    "relationships": [{"provider": "payroll", "customer": "assembly"}]},
         "campaigns"),
        {"name": "Another name"},
    ),
    "request": (
        ("customer_member", "POST", lambda s: "/api/v1/requests",
         lambda s: {"provider": "payroll", "title": "Payslip missing"}, "requests"),
        {"title": "Payslip wrong"},
    ),
    "request event": (
        ("provider_lead", "POST", lambda s: f"/api/v1/requests/{_filed(s)}/events",
         lambda s: {"verb": "ack"}, "request_events"),
        {"verb": "start"},
    ),
    "thanks": (
        ("customer_member", "POST", lambda s: f"/api/v1/requests/{_resolved(s)}/thanks",
         lambda s: {"note": "Quick and right"}, "request_events"),
        {"note": "Something else"},
    ),
    "result": (
        ("provider_lead", "POST", lambda s: "/api/v1/units/payroll/results",
         lambda s: {"id": f"replay-{uuid.uuid4().hex[:8]}", "name": "Expense claims paid",
                    "kind": "finished"}, "results"),
        {"name": "Expense claims checked"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("write", list(WRITES))
def test_a_retried_write_answers_the_first_answer_and_changes_once(
    server: Server, write: str
) -> None:
    (who, method, path_of, body_of, table), other = WRITES[write]
    path, body = path_of(server), body_of(server)
    key = f"replay-{uuid.uuid4()}"
    before = _rows(server, table)
    first = _call(server, who, method, path, key, body)
    assert first.status_code in (200, 201), first.text
    stored = _rows(server, table)
    assert stored > before
    again = _call(server, who, method, path, key, body)
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert _rows(server, table) == stored
    # The same key for another change is a client's bug: refused, nothing changed.
    changed = _call(server, who, method, path, key, {**body, **other})
    assert changed.status_code == 422, changed.text
    assert _rows(server, table) == stored
