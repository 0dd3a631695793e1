"""The deployment's runtime surface: the probes (/healthz, /readyz), request ids in
JSON log lines, and the Prometheus metrics, through a real `valuechain serve` process
and through the app in this process, on both databases."""

from __future__ import annotations

import io
import json
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from fastapi import Depends, Request
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event

from tests.conftest import PG_ADMIN_URL, TEST_SECURITY, _pg_admin
from tests.signin import PASSWORD, make_account
from tests.test_api import chain_map
from tests.test_web import free_port, start_cli
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.edge.dependencies import SESSION_COOKIE, AccessRule
from valuechain.jobs.queue import make_huey
from valuechain.services import notification
from valuechain.settings import SettingsError
from valuechain.store.database import make_engine
from valuechain.web.app import create_app
from valuechain.web.logs import (
    JsonFormatter,
    RedactSurveyTokens,
    RequestIdFilter,
    current_request_id,
)

REDIS = "redis://127.0.0.1:6379/15"
LATENCY = "valuechain_http_request_duration_seconds"
CUSTOMERS = "/api/v1/units/{unit_id}/customers"


def redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(REDIS, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required under CI=true: {error}")
        pytest.skip(f"Redis not reachable: {error}")
    return client


@pytest.fixture
def queue_name() -> Iterator[str]:
    """A queue of this test's own in the Redis test database, removed afterwards."""
    client = redis_or_skip()
    name = f"probe-{uuid.uuid4().hex[:8]}"
    yield name
    client.delete(make_huey(REDIS, name).storage.queue_key)


def samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
    }


def test_a_served_app_answers_probes_tags_log_lines_and_counts_requests(
    tmp_path: Path, vc: Valuechain, queue_name: str
) -> None:
    vc.write_map(chain_map())
    make_account(vc)
    notification.notify(vc, "outside@example.net", "report", "Report", "A report is ready.")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VALUECHAIN_")}
    env |= {
        "VALUECHAIN_DATABASE_URL": vc.engine.url.render_as_string(hide_password=False),
        "VALUECHAIN_ORGANISATION": vc.organisation,
        "VALUECHAIN_QUEUE_URL": REDIS,
        "VALUECHAIN_QUEUE_NAME": queue_name,
        "VALUECHAIN_METRICS_PUBLIC": "true",
    }
    waiting = 3
    redis.Redis.from_url(REDIS).lpush(
        make_huey(REDIS, queue_name).storage.queue_key, *[b"task"] * waiting
    )
    args = ["serve", "--port", str(free_port()), "--log-format", "json"]
    process, url = start_cli(args, tmp_path, env)
    secret = uuid.uuid4().hex
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            health = client.get("/healthz")
            assert (health.status_code, health.json()) == (200, {"status": "ok"})
            assert len(health.headers["x-request-id"]) == 32
            ready = client.get("/readyz")
            assert ready.status_code == 200
            assert ready.json() == {"status": "ok", "checks": {"database": "ok", "queue": "ok"}}
            # A sane id is kept; one that could forge log lines is replaced.
            traced = client.get("/api/v1/units/make/customers", headers={"X-Request-ID": "t-1"})
            assert (traced.status_code, traced.headers["x-request-id"]) == (401, "t-1")
            forged = client.get(
                "/api/v1/units/ctrl/customers", headers={"X-Request-ID": 'x" level=ERROR'}
            )
            assert forged.status_code == 401
            assert forged.headers["x-request-id"] not in ('x" level=ERROR', "t-1")
            client.get(f"/s/{secret}")
            scraped = client.get("/metrics")
            assert scraped.headers["content-type"].startswith("text/plain")
    finally:
        process.terminate()
        log, _ = process.communicate(timeout=10)
    found = samples(scraped.text)
    assert found[("valuechain_queue_depth", frozenset())] == waiting
    pending = notification.outbox(vc).counts["pending"]
    assert pending > 0 and found[("valuechain_outbox_backlog", frozenset())] == pending
    counted = frozenset({("method", "GET"), ("route", CUSTOMERS), ("status", "401")})
    assert found[(f"{LATENCY}_count", counted)] == 2
    routes = {dict(labels).get("route") for name, labels in found if name.startswith(LATENCY)}
    assert {"/healthz", "/readyz", CUSTOMERS} <= routes
    assert not any("make" in str(r) or secret in str(r) for r in routes)
    # Every line is one JSON object; the access lines carry their request's id.
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert not any("color_message" in line for line in lines)  # no terminal escapes
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert access and all(line["request_id"] for line in access)
    [mine] = [line for line in access if line["request_id"] == "t-1"]
    assert (mine["method"], mine["path"], mine["status"]) == (
        "GET",
        "/api/v1/units/make/customers",
        401,
    )
    assert secret not in log and any(line["path"] == "/s/…" for line in access)


def test_a_log_line_written_while_handling_a_request_carries_its_id(vc: Valuechain) -> None:
    app = create_app(vc)

    @app.get("/logs-something", dependencies=[Depends(AccessRule.public(csrf=False))])
    def logs_something(request: Request) -> dict[str, str]:
        # A sync route: runs in a worker thread, which must see the request's id.
        logging.getLogger("valuechain.test").warning("handled")
        return {}

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("valuechain.test")
    logger.addHandler(handler)
    try:
        answer = TestClient(app).get("/logs-something", headers={"X-Request-ID": "abc-42"})
    finally:
        logger.removeHandler(handler)
    assert answer.headers["x-request-id"] == "abc-42"
    [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert (line["message"], line["request_id"], line["level"]) == ("handled", "abc-42", "WARNING")
    assert current_request_id.get() is None  # nothing leaks into this test's context


def test_json_lines_redact_survey_tokens_in_messages_and_traces() -> None:
    token = uuid.uuid4().hex
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(f"uvicorn.error.probe-{token[:6]}")
    logger.addFilter(RedactSurveyTokens())
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.info("%s - %s", "127.0.0.1", f"/api/v1/survey/{token}")
        try:
            raise ValueError(f"bad path /s/{token}")
        except ValueError:
            logger.exception("failed at /s/%s", token)
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert token not in written
    first, second = (json.loads(line) for line in written.splitlines())
    assert first["message"] == "127.0.0.1 - /api/v1/survey/…"
    assert "bad path /s/…" in second["exc_info"] and first["request_id"] is None


def test_healthz_reads_no_database_and_sets_no_cookie(vc: Valuechain) -> None:
    statements: list[str] = []
    app = create_app(vc)
    event.listen(vc.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    client = TestClient(app)
    client.cookies.set(SESSION_COOKIE, "some-session")
    answer = client.get("/healthz")
    assert (answer.status_code, answer.json(), statements) == (200, {"status": "ok"}, [])
    assert "set-cookie" not in answer.headers
    assert client.get("/readyz").status_code == 200 and len(statements) == 1


def test_readyz_names_an_unreachable_queue(vc: Valuechain, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VALUECHAIN_QUEUE_URL", f"redis://127.0.0.1:{free_port()}/0")
    answer = TestClient(create_app(vc)).get("/readyz")
    assert answer.status_code == 503
    assert answer.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "queue": "failed: ConnectionError"},
    }


@pytest.mark.postgres
def test_readyz_names_an_unreachable_database_and_metrics_still_answer(
    postgres_url: str,
) -> None:
    name = f"valuechain_gone_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}")
    vc = Valuechain(engine, "gone", create=True, security=TEST_SECURITY)
    client = TestClient(create_app(vc, metrics_public=True))
    assert client.get("/readyz").status_code == 200
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    vc.engine.dispose()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["database"].startswith("failed: ")
    assert client.get("/healthz").status_code == 200
    scraped = client.get("/metrics")
    assert scraped.status_code == 200
    names = {name for name, _ in samples(scraped.text)}
    assert f"{LATENCY}_count" in names and "valuechain_outbox_backlog" not in names


def test_metrics_public_takes_a_boolean(vc: Valuechain, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VALUECHAIN_METRICS_PUBLIC", "true")
    assert TestClient(create_app(vc)).get("/metrics").status_code == 200
    monkeypatch.setenv("VALUECHAIN_METRICS_PUBLIC", "sometimes")
    with pytest.raises(SettingsError, match="VALUECHAIN_METRICS_PUBLIC"):
        create_app(vc)


def test_metrics_are_for_admins_and_a_scraper_may_send_an_admins_token(vc: Valuechain) -> None:
    make_account(vc)
    make_account(vc, "viewer@example.org", AccountRole.VIEWER)
    client = TestClient(create_app(vc))
    assert client.get("/metrics", follow_redirects=False).status_code == 303

    def token(email: str) -> str:
        signed = client.post("/api/v1/session", json={"email": email, "password": PASSWORD})
        return str(signed.json()["token"])

    for email, status in (("admin@example.org", 200), ("viewer@example.org", 403)):
        bearer = {"Authorization": f"Bearer {token(email)}"}
        assert client.get("/metrics", headers=bearer).status_code == status
