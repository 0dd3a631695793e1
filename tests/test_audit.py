"""The audit log on both databases: what is recorded (sign-ins, account changes,
imports, exports) with who, when, what and from where; the admin page, the API and
`valuechain audit --json`; and that it is append-only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from tests.builders import chain_map
from tests.signin import PASSWORD, form_token, make_account, sign_in
from valuechain import Valuechain
from valuechain.cli.main import app as cli
from valuechain.services import accounts, audit
from valuechain.services.audit import Actor
from valuechain.store import audit as audit_store
from valuechain.web.app import create_app

SMALL = Path(__file__).resolve().parents[1] / "examples" / "bundle"


def cli_run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout


def test_cli_account_create_list_and_audit(
    vc: Valuechain, cli_env: dict[str, str], tmp_path: Path
) -> None:
    code, out = cli_run(
        "account", "create", "Boss@Example.org", "--role", "admin", "--name", "The Boss",
        stdin="short\n" + PASSWORD + "\nsomething else\n" + PASSWORD + "\n" + PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0, out
    assert "A password needs at least 12 characters." in out
    assert "The two passwords are not the same." in out
    assert "Created the admin account boss@example.org." in out
    code, out = cli_run("account", "list", "--json")
    listed = json.loads(out)["accounts"]
    assert [(a["email"], a["role"], a["name"], a["has_password"]) for a in listed] == [
        ("boss@example.org", "admin", "The Boss", True)
    ]
    assert "password_hash" not in listed[0]
    code, out = cli_run("account", "update", "boss@example.org", "--role", "viewer", "--disable")
    assert code == 0 and "boss@example.org: viewer, disabled." in out
    code, out = cli_run("account", "update", "boss@example.org", "--role", "admin", "--enable")
    assert code == 0 and "boss@example.org: admin, active." in out

    assert cli_run("import", str(SMALL))[0] == 0
    assert cli_run("import", str(tmp_path / "missing"))[0] == 2
    assert cli_run("export", str(tmp_path / "out.xlsx"))[0] == 0

    code, out = cli_run("audit", "--json")
    doc = json.loads(out)
    events = doc["events"]
    assert doc["total"] == len(events) == 6
    assert [(e["action"], e["outcome"]) for e in events] == [
        ("export", "success"),
        ("import", "failed"),
        ("import", "success"),
        ("account_changed", "success"),
        ("account_changed", "success"),
        ("account_created", "success"),
    ]
    assert all(e["actor"].startswith("cli:") and e["address"] == "cli" for e in events)
    assert events[0]["subject"] == str(tmp_path / "out.xlsx")
    assert "12 units" in events[2]["detail"]
    assert events[4]["detail"] == "role viewer, disabled, 0 sessions ended"
    assert events[5]["subject"] == "boss@example.org" and events[5]["detail"] == "role admin"
    code, out = cli_run("audit", "--per-page", "2", "--page", "3")
    assert code == 0 and "page 3 of 3, 6 events" in out


def test_web_sign_in_export_and_the_admin_page(vc: Valuechain) -> None:
    vc.write_map(chain_map())
    admin = make_account(vc)
    with TestClient(create_app(vc)) as client:
        page = client.get("/signin")
        client.post(
            "/signin",
            data={"email": "admin@example.org", "password": "wrong", "csrf_token": "x"},
        )  # refused before checking: no CSRF token, nothing recorded
        client.post(
            "/signin",
            data={
                "email": "admin@example.org",
                "password": "wrong",
                "csrf_token": form_token(page.text),
            },
        )
        sign_in(client)
        export = client.get("/api/v1/export")
        assert export.status_code == 200
        assert export.content[:2] == b"PK"  # a zip container: the .xlsx workbook
        assert "attachment" in export.headers["content-disposition"]

        found = client.get("/api/v1/audit").json()
        rows = [(e["action"], e["outcome"], e["actor"], e["address"]) for e in found["events"]]
        assert rows == [
            ("export", "success", "admin@example.org", "testclient"),
            ("sign_in", "success", "admin@example.org", "testclient"),
            ("sign_in", "refused", "admin@example.org", "testclient"),
            ("account_created", "success", "test", "test"),
        ]
        assert found["events"][1]["actor_id"] == admin.id
        assert found["events"][2]["detail"] == "wrong password"

        html = client.get("/admin/audit").text
        assert "<h1>Audit log</h1>" in html and "4 events." in html
        assert '<a href="/admin/audit" aria-current="page">Audit log</a>' in html
        assert "wrong password" in html and "testclient" in html


def test_admin_page_is_paged(vc: Valuechain) -> None:
    make_account(vc)
    for n in range(60):
        audit.record(vc, "test_event", Actor(None, f"robot {n}", "127.0.0.1"))
    with TestClient(create_app(vc)) as client:
        sign_in(client)
        first = client.get("/admin/audit").text
        assert "page 1 of 2" in first and 'href="/admin/audit?page=2"' in first
        assert "robot 59" in first and "robot 0<" not in first
        second = client.get("/admin/audit", params={"page": 2}).text
        assert "robot 0<" in second and 'href="/admin/audit?page=1"' in second
        assert client.get("/admin/audit", params={"page": 0}).status_code == 422


def test_the_store_offers_no_way_to_change_history() -> None:
    public = {name for name in vars(audit_store) if not name.startswith("_")}
    assert {"append", "count", "newest_first"} <= public
    assert not {n for n in public if any(w in n for w in ("update", "delete", "remove", "edit"))}
    assert not {n for n in vars(audit) if any(w in n for w in ("update", "delete", "remove"))}


def test_postgresql_refuses_update_delete_and_truncate(vc: Valuechain) -> None:
    if vc.engine.dialect.name != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL; SQLite relies on the service")
    make_account(vc)
    for statement in (
        "UPDATE audit_events SET actor = 'someone else' WHERE org_id = :org",
        "DELETE FROM audit_events WHERE org_id = :org",
        "TRUNCATE audit_events",
    ):
        with pytest.raises(DBAPIError, match="append-only"), vc.engine.begin() as conn:
            conn.execute(text(statement), {"org": vc.org_id})
    assert audit.read_page(vc).total == 1


def test_admin_accounts_page_creates_and_changes_accounts(vc: Valuechain) -> None:
    make_account(vc)
    with TestClient(create_app(vc)) as client:
        sign_in(client)
        page = client.get("/admin/accounts")
        assert page.status_code == 200 and "1 account" in page.text
        token = form_token(page.text)
        new = {"csrf_token": token, "email": "Viewer@Example.org", "role": "viewer"}
        short = client.post("/admin/accounts", data={**new, "password": "short"})
        assert short.status_code == 422
        assert "A password needs at least 12 characters." in short.text
        assert 'value="Viewer@Example.org"' in short.text  # the form keeps what was typed
        created = client.post("/admin/accounts", data={**new, "password": PASSWORD})
        assert created.status_code == 200 and "Created viewer@example.org." in created.text

        change = {"csrf_token": token, "email": "viewer@example.org", "role": "member"}
        saved = client.post("/admin/accounts/update", data=change)  # unchecked: disabled
        assert "Saved viewer@example.org." in saved.text
        viewer = accounts.account_by_email(vc, "viewer@example.org")
        assert viewer is not None and viewer.role.value == "member" and not viewer.active
        own = {
            "csrf_token": token,
            "email": "admin@example.org",
            "role": "viewer",
            "active": "true",
        }
        refused = client.post("/admin/accounts/update", data=own)
        assert refused.status_code == 422 and "cannot demote or disable your own" in refused.text
        found = client.get("/api/v1/audit").json()["events"]
        assert [(e["action"], e["actor"], e["detail"]) for e in found[:2]] == [
            ("account_changed", "admin@example.org", "role member, disabled, 0 sessions ended"),
            ("account_created", "admin@example.org", "role viewer"),
        ]
