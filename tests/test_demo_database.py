"""The demo writes only a database of its own, and signs nobody in anywhere else.

Real processes on loopback, on SQLite and PostgreSQL: `valuechain demo` pointed at a
database that holds another organisation refuses in one line, exits non-zero and
writes nothing (not even a migration); `valuechain serve` on the database the demo
made signs nobody in automatically and does not accept the demo admin's session;
anonymous page views of the demo share one session instead of writing a session and
an audit event each."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, func, select
from sqlalchemy.engine import Engine

from tests.builders import chain_map
from tests.conftest import TEST_SECURITY
from tests.signin import form_token
from tests.test_web import free_port, start_cli, stop
from valuechain import Valuechain
from valuechain.services import accounts, demo
from valuechain.services.demo import (
    DEMO_ADMIN_ID,
    DEMO_ORGANISATION,
    NotADemoDatabase,
    open_demo,
)
from valuechain.store.database import make_engine
from valuechain.web.app import create_app

CLI = [sys.executable, "-c", "from valuechain.cli.main import main; main()"]


def clean_env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VALUECHAIN_")}
    return {**env, "VALUECHAIN_DATABASE_URL": url, **extra}


def snapshot(engine: Engine) -> dict[str, Any]:
    """Every table's row count, and the migration the database is at."""
    tables = MetaData()
    tables.reflect(engine)
    with engine.connect() as conn:
        found: dict[str, Any] = {
            name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for name, t in tables.tables.items()
        }
        if "alembic_version" in tables.tables:
            found["head"] = conn.execute(select(tables.tables["alembic_version"])).all()
    return found


def count(engine: Engine, table: str) -> int:
    tables = MetaData()
    tables.reflect(engine, only=[table])
    with engine.connect() as conn:
        return int(
            conn.execute(select(func.count()).select_from(tables.tables[table])).scalar_one()
        )


def test_the_demo_refuses_a_database_with_another_organisation(
    vc: Valuechain, database_url: str, tmp_path: Path
) -> None:
    vc.write_map(chain_map())
    before = snapshot(vc.engine)
    process = subprocess.Popen(
        [*CLI, "demo", "--no-browser", "--port", str(free_port())],
        cwd=tmp_path,
        env=clean_env(database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = process.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail("the demo served a database that holds another organisation")
    assert process.returncode != 0
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert "refus" in lines[0] and "another organisation" in lines[0], output
    assert snapshot(vc.engine) == before  # nothing written, not even a migration


@pytest.fixture
def demo_vc(fresh_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Valuechain]:
    """A database made by the demo, with only the demo's map (all of its data takes a
    minute to write on a busy PostgreSQL): the same marker, the same rules."""
    monkeypatch.setattr(demo, "ensure_demo", lambda vc: vc.write_map(demo.demo_map()))
    vc, written = open_demo(fresh_url)
    assert written
    yield vc
    vc.engine.dispose()


def test_the_real_demo_shares_one_session_and_serve_signs_nobody_in(tmp_path: Path) -> None:
    """The whole story with real processes (SQLite: the demo's data is written in
    seconds there; PostgreSQL runs the same code in the tests below)."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    process, address = start_cli(
        ["demo", "--no-browser", "--port", str(free_port())], tmp_path, clean_env(url)
    )
    engine = make_engine(url, migrate=False, create=True)
    try:
        sessions, events = count(engine, "sessions"), count(engine, "audit_events")
        # 50 anonymous page views, no cookie kept between them (curl in a loop).
        for _ in range(50):
            home = httpx.get(address, timeout=10)
            assert "You are signed in as the demo admin" in home.text
        assert count(engine, "sessions") - sessions <= 1
        assert count(engine, "audit_events") - events <= 1
        cookie = home.cookies["vc_session"]
    finally:
        stop(process)
    serve_signs_nobody_in(url, tmp_path, cookie)
    engine.dispose()


def serve_signs_nobody_in(url: str, cwd: Path, demo_token: str) -> None:
    """`valuechain serve` on the demo's database: no automatic sign-in, and the demo
    admin's session ``demo_token`` (cookie or bearer) is no key either."""
    env = clean_env(url, VALUECHAIN_ORGANISATION=DEMO_ORGANISATION)
    serve, address = start_cli(["serve", "--port", str(free_port())], cwd, env)
    try:
        page = httpx.get(address, timeout=10, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/signin")
        assert httpx.get(f"{address}api/v1/units", timeout=10).status_code == 401
        with httpx.Client(cookies={"vc_session": demo_token}, timeout=10) as browser:
            assert browser.get(address, follow_redirects=False).status_code == 303
        bearer = {"Authorization": f"Bearer {demo_token}"}
        assert httpx.get(f"{address}api/v1/units", headers=bearer, timeout=10).status_code == 401
    finally:
        stop(serve)


def test_serve_on_the_demo_database_signs_nobody_in(
    demo_vc: Valuechain, fresh_url: str, tmp_path: Path
) -> None:
    admin = accounts.account_by_id(demo_vc, DEMO_ADMIN_ID)
    assert admin is not None
    started = accounts.start_session(demo_vc, admin, address="test")
    serve_signs_nobody_in(fresh_url, tmp_path, started.token)


def test_anonymous_demo_views_share_one_session(demo_vc: Valuechain) -> None:
    engine = demo_vc.engine
    sessions, events = count(engine, "sessions"), count(engine, "audit_events")
    with TestClient(create_app(demo_vc, demo_account_id=DEMO_ADMIN_ID)) as client:
        for _ in range(50):
            client.cookies.clear()  # a client that keeps no cookie
            home = client.get("/")
            assert "You are signed in as the demo admin" in home.text
        # A browser that keeps the cookie stays in that session.
        assert client.get("/").status_code == 200
        # Signing out ends the shared session; the next visitor gets a new one.
        page = client.get("/")
        token = home.cookies["vc_session"]
        assert client.cookies["vc_session"] == token
        client.post("/signout", data={"csrf_token": form_token(page.text)}, follow_redirects=False)
        assert accounts.session_account(demo_vc, token) is None
        client.cookies.clear()
        assert "You are signed in as the demo admin" in client.get("/").text
    assert count(engine, "sessions") - sessions <= 1
    assert count(engine, "audit_events") - events <= 3  # in, out, in again


def test_the_demo_reopens_its_own_database_only(demo_vc: Valuechain, fresh_url: str) -> None:
    assert demo_vc.organisation == DEMO_ORGANISATION
    again, written = open_demo(fresh_url)
    assert not written and accounts.account_by_id(again, DEMO_ADMIN_ID) is not None
    # Another organisation in it, and it is no demo database any more.
    Valuechain(again.engine, "real-org", security=TEST_SECURITY, create=True)
    with pytest.raises(NotADemoDatabase, match="another organisation"):
        open_demo(fresh_url)
    again.engine.dispose()


def test_automatic_sign_in_needs_the_demo_database(vc: Valuechain) -> None:
    vc.write_map(chain_map())
    with pytest.raises(NotADemoDatabase):
        create_app(vc, demo_account_id="anything")


def test_the_demo_admin_is_nobody_outside_the_demo(demo_vc: Valuechain) -> None:
    vc = demo_vc
    admin = accounts.account_by_id(vc, DEMO_ADMIN_ID)
    assert admin is not None
    started = accounts.start_session(vc, admin, address="test")
    headers = {"Authorization": f"Bearer {started.token}"}
    with TestClient(create_app(vc, demo_account_id=DEMO_ADMIN_ID)) as client:
        assert client.get("/api/v1/session", headers=headers).status_code == 200
    with TestClient(create_app(vc)) as client:
        assert client.get("/api/v1/session", headers=headers).status_code == 401


def test_see_the_demo_as_each_persona_in_one_click(demo_vc: Valuechain) -> None:
    """ "See it as" on every demo page signs in as that persona (made on first use,
    with the demo's prefix) and lands on their unit; their sessions count only in the
    demo's app, and outside the demo the route does not exist."""
    from tests.signin import form_token
    from valuechain.domain.account import DEMO_PERSONAS, is_demo_account

    with TestClient(create_app(demo_vc, demo_account_id=DEMO_ADMIN_ID)) as client:
        page = client.get("/")
        assert 'action="/signin/demo/as"' in page.text
        landed = {}
        for persona, (_, role, _) in DEMO_PERSONAS.items():
            answer = client.post(
                "/signin/demo/as",
                data={"csrf_token": form_token(page.text), "persona": persona},
                follow_redirects=False,
            )
            assert answer.status_code == 303
            landed[persona] = answer.headers["location"]
            page = client.get(landed[persona])
            assert page.status_code == 200
            me = client.get("/api/v1/session").json()
            assert me["role"] == role.value, persona
        assert landed == {"admin": "/", "lead": "/units/assembly", "member": "/units/assembly",
                          "viewer": "/"}  # fmt: skip
        assert "You see the demo as" in page.text  # the viewer, last
        # A member may not open the admin pages: the persona is really that role.
        client.post(
            "/signin/demo/as", data={"csrf_token": form_token(page.text), "persona": "member"}
        )
        assert client.get("/admin/accounts").status_code == 403
        unknown = client.post(
            "/signin/demo/as",
            data={"csrf_token": form_token(client.get("/").text), "persona": "root"},
        )
        assert unknown.status_code == 404
        token = client.cookies["vc_session"]
    member = accounts.session_account(demo_vc, token)
    assert member is not None and is_demo_account(member.id)
    with TestClient(create_app(demo_vc)) as outside:
        bearer = {"Authorization": f"Bearer {token}"}
        assert outside.get("/api/v1/session", headers=bearer).status_code == 401
        assert outside.post("/signin/demo/as", data={"persona": "lead"}).status_code in (403, 404)


def test_the_demo_outbox_shows_the_mail_it_would_send(
    demo_vc: Valuechain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a mail server the demo writes its mail to a folder (``file://``) and its
    outbox page shows each message with working survey links; no other app has it."""
    import re

    from valuechain.services import campaign

    folder = tmp_path / "mail"
    monkeypatch.setenv("VALUECHAIN_SMTP_URL", folder.as_uri())
    monkeypatch.setenv("VALUECHAIN_BASE_URL", "http://testserver")
    with TestClient(create_app(demo_vc, demo_account_id=DEMO_ADMIN_ID)) as client:
        assert "No mail yet" in client.get("/demo/outbox").text
        pair = next(iter(campaign.default_relationships(demo_vc)))
        campaign.create_campaign(
            demo_vc, "outbox-test", name="Outbox test", instrument="pulse",
            relationships=[pair],
        )  # fmt: skip
        sent = campaign.invite(demo_vc, "outbox-test")
        assert sent >= 1
        home = client.get("/")
        assert 'href="/demo/outbox"' in home.text
        page = client.get("/demo/outbox")
        assert page.status_code == 200
        links = re.findall(r'<a href="http://testserver(/s/[A-Za-z0-9_-]+)"', page.text)
        assert len(links) == sent
        survey = client.get(links[0])
        assert survey.status_code == 200 and "<form" in survey.text
    with TestClient(create_app(demo_vc)) as outside:
        admin = accounts.account_by_id(demo_vc, DEMO_ADMIN_ID)
        assert admin is not None
        assert outside.get("/demo/outbox", follow_redirects=False).status_code in (303, 404)
