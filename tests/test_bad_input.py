"""Input that is not text or not a number is refused with 422 and the usual problem
body, never a 500: NaN and infinities in JSON, NUL characters and lone surrogates in
JSON, forms, path and query parameters. Against a real server on loopback, signed in
as a unit lead (the attacker has one role's rights), on both databases (PostgreSQL
refuses NUL in text, which was the 500 there)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.browser.conftest import serving
from tests.signin import PASSWORD, form_token, make_account
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.domain.text import text_problem, value_problem
from valuechain.services.bundle import import_bundle
from valuechain.web.app import create_app

ROOT = Path(__file__).resolve().parents[1] / "examples"
JSON = {"content-type": "application/json"}


@pytest.fixture
def lead(vc: Valuechain, tmp_path: Path) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """A bearer-token API client and a signed-in browser-like client, both the lead
    of ``pack`` (customer of ``plan``, provider of ``ship``)."""
    bundle = tmp_path / "bundle"
    shutil.copytree(ROOT / "bundle", bundle)
    for name in ("calendars.csv", "agreements.csv", "commitments.csv"):
        shutil.copy(ROOT / "agree" / name, bundle / name)
    shutil.copy(ROOT / "request" / "requests.csv", bundle / "requests.csv")
    import_bundle(vc, bundle)
    make_account(vc, "bram@example.org", AccountRole.LEAD, person_id="p02")
    with (
        serving(lambda _url: create_app(vc)) as url,
        httpx.Client(base_url=url, timeout=10) as api,
        httpx.Client(base_url=url, timeout=10) as browser,
    ):
        token = api.post(
            "/api/v1/session", json={"email": "bram@example.org", "password": PASSWORD}
        ).json()["token"]
        api.headers["Authorization"] = f"Bearer {token}"
        page = browser.get("/signin")
        signed = browser.post(
            "/signin",
            data={
                "email": "bram@example.org",
                "password": PASSWORD,
                "csrf_token": form_token(page.text),
            },
        )
        assert signed.status_code == 303, signed.text
        yield api, browser


def refused(answer: httpx.Response, what: str) -> None:
    assert answer.status_code == 422, (answer.status_code, answer.text)
    detail = answer.json()["detail"]
    assert isinstance(detail, str) and what in detail, detail


SHARE = b'{"result_id": "boxes", "customer_id": "ship", "share": %s}'


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_a_share_that_is_no_finite_number_is_refused(
    lead: tuple[httpx.Client, httpx.Client], number: bytes
) -> None:
    api, _ = lead
    answer = api.put("/api/v1/units/pack/capacity/shares", content=SHARE % number, headers=JSON)
    if number == b"1e999":  # JSON, but no finite float
        refused(answer, "a finite number")
    else:  # not JSON at all (RFC 8259 has no NaN or Infinity)
        assert answer.status_code == 400, (answer.status_code, answer.text)
        assert "not JSON numbers" in answer.json()["detail"]
    fine = api.put("/api/v1/units/pack/capacity/shares", content=SHARE % b"5", headers=JSON)
    assert fine.status_code == 200, fine.text


def test_a_lone_surrogate_in_workspace_text_is_refused(
    lead: tuple[httpx.Client, httpx.Client],
) -> None:
    api, _ = lead
    path = "/api/v1/relationships/plan/pack/workspace"
    body = b'{"kind": "need", "text": "weekly plan \\ud800 by Friday"}'
    refused(api.post(path, content=body, headers=JSON), "a lone surrogate")
    fine = api.post(path, json={"kind": "need", "text": "weekly plan by Friday"})
    assert fine.status_code == 201, fine.text


def test_nul_in_a_request_title_or_id_is_refused(lead: tuple[httpx.Client, httpx.Client]) -> None:
    api, _ = lead
    refused(api.post("/api/v1/requests", json={"provider": "plan", "title": "a\x00b"}), "NUL")
    refused(api.get("/api/v1/requests/req-1%00"), "NUL")
    answer = api.post(
        "/api/v1/requests/req-1%00/events", json={"verb": "ack"}, headers={"Idempotency-Key": "k1"}
    )
    refused(answer, "NUL")
    refused(api.get("/api/v1/units", params={"q": "pa\x00ck"}), "NUL")
    assert api.get("/api/v1/requests/req-1").status_code == 200


def test_nul_in_a_form_field_is_refused(lead: tuple[httpx.Client, httpx.Client]) -> None:
    _, browser = lead
    page = browser.get("/relationships/plan/pack")
    assert page.status_code == 200, page.text
    form = {"kind": "need", "text": "a\x00b", "csrf_token": form_token(page.text)}
    # Pages get the guard's message as plain text (docs/api.md).
    for answer in (
        browser.post("/relationships/plan/pack/workspace", data=form),
        browser.get("/requests/req-1%00"),
    ):
        assert answer.status_code == 422, (answer.status_code, answer.text)
        assert "a NUL character" in answer.text, answer.text


@pytest.mark.parametrize("share", ["nan", "inf", "-inf"])
def test_the_capacity_page_refuses_a_share_that_is_no_finite_number(
    lead: tuple[httpx.Client, httpx.Client], share: str
) -> None:
    """A form sends text: the page reads it as a number and the service refuses
    anything not finite (422, invalid input: the page again with the message)."""
    _, browser = lead
    page = browser.get("/units/pack/capacity")
    assert page.status_code == 200, page.text
    form = {
        "result_id": "boxes",
        "customer_id": "ship",
        "share": share,
        "csrf_token": form_token(page.text),
    }
    answer = browser.post("/units/pack/capacity/shares", data=form)
    assert answer.status_code == 422 and "0 or more" in answer.text


def test_the_checks() -> None:
    assert text_problem("plain\ttext\n") is None
    assert text_problem("a\x00") == "a NUL character"
    assert text_problem("a\udfff") == "a lone surrogate"
    assert value_problem({"a": [1, 2.5, "x", {"b": None}]}, "the body") is None
    assert "the body.a[1]" in (value_problem({"a": [1, float("nan")]}, "the body") or "")
    assert "a key" in (value_problem({"\x00": 1}, "the body") or "")
