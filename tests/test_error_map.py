"""The one error map: every error kind answers its status, as problem+json under the
API prefix and as the error page elsewhere; no route maps errors by hand."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import valuechain.services
from tests.signin import bearer, make_account, sign_in
from tests.test_api import chain_map
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.domain.request import TransitionError
from valuechain.edge.errors import DOMAIN_KINDS, PROBLEM_JSON, install
from valuechain.services.errors import (
    KINDS,
    Conflict,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    NotSignedIn,
    TooMany,
    Upstream,
    ValuechainError,
)
from valuechain.web.app import create_app
from valuechain.web.templating import templates

SRC = Path(valuechain.services.__file__).parents[1]
EDGES = ("api", "web", "edge")


class Throttled(TooMany):
    def __init__(self) -> None:
        self.retry_after = 7
        super().__init__("wait a little")


#: One error of every kind, raised by the test app's routes.
RAISED: dict[str, Exception] = {
    "invalid": Invalid("the date is not a date"),
    "forbidden": Forbidden("not for you"),
    "missing": NotFound("no unit with id 'x'"),
    "conflict": Conflict("already closed"),
    "gone": Gone("the link was used"),
    "throttled": Throttled(),
    "upstream": Upstream("the mail server refused"),
    "plain": ValuechainError("something else"),
    "domain": TransitionError("cannot close a new request"),
}
STATUS = {
    "invalid": 422,
    "forbidden": 403,
    "missing": 404,
    "conflict": 409,
    "gone": 410,
    "throttled": 429,
    "upstream": 502,
    "plain": 400,
    "domain": 409,
}


@pytest.fixture(scope="module")
def raising() -> Iterator[TestClient]:
    """An app with only the error handlers and routes that raise each error."""
    app = FastAPI()
    install(app, api_prefix="/api/v1", templates=templates)

    @app.get("/api/v1/raise/{name}")
    @app.get("/raise/{name}")
    def raise_it(name: str) -> None:
        raise RAISED[name]

    @app.get("/api/v1/signed-out")
    @app.get("/signed-out")
    def signed_out() -> None:
        raise NotSignedIn()

    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize("name", sorted(RAISED))
def test_every_kind_answers_problem_json(raising: TestClient, name: str) -> None:
    answer = raising.get(f"/api/v1/raise/{name}")
    assert answer.status_code == STATUS[name]
    assert answer.headers["content-type"] == PROBLEM_JSON
    doc = answer.json()
    assert doc["type"] == "about:blank" and doc["status"] == STATUS[name]
    assert doc["detail"] == str(RAISED[name]) and doc["title"]


@pytest.mark.parametrize("name", sorted(RAISED))
def test_every_kind_answers_the_error_page(raising: TestClient, name: str) -> None:
    answer = raising.get(f"/raise/{name}")
    assert answer.status_code == STATUS[name]
    assert answer.headers["content-type"].startswith("text/html")
    assert str(STATUS[name]) in answer.text
    assert re.sub("'", "&#39;", str(RAISED[name])) in answer.text
    fragment = raising.get(f"/raise/{name}", headers={"HX-Request": "true"})
    assert fragment.status_code == STATUS[name] and "<html" not in fragment.text


def test_too_many_carries_retry_after(raising: TestClient) -> None:
    answer = raising.get("/api/v1/raise/throttled")
    assert answer.headers["retry-after"] == "7" and answer.json()["retry_after"] == 7
    assert raising.get("/raise/throttled").headers["retry-after"] == "7"


def test_not_signed_in_is_401_for_the_api_and_the_sign_in_page_for_pages(
    raising: TestClient,
) -> None:
    api = raising.get("/api/v1/signed-out")
    assert api.status_code == 401 and api.headers["www-authenticate"] == "Bearer"
    assert api.json()["title"] == NotSignedIn.title
    page = raising.get("/signed-out?a=1", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/signin?next=%2Fsigned-out%3Fa%3D1"
    htmx = raising.get("/signed-out", headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and htmx.headers["hx-redirect"].startswith("/signin")


def _service_errors() -> list[type[ValuechainError]]:
    for module in pkgutil.iter_modules(valuechain.services.__path__):
        importlib.import_module(f"valuechain.services.{module.name}")
    found: list[type[ValuechainError]] = []
    todo = list(ValuechainError.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return [c for c in found if c.__module__.startswith("valuechain.")]


def test_every_error_class_is_of_one_kind() -> None:
    errors = _service_errors()
    assert len(errors) > 30
    for cls in errors:
        kinds = [kind for kind in KINDS if issubclass(cls, kind)]
        assert kinds, f"{cls.__module__}.{cls.__name__} is of no kind"
        # A class of two kinds (a Conflict among Invalid capacity errors) answers
        # the kind named first in its bases.
        assert cls.status in {kind.status for kind in kinds}
    statuses = [kind.status for kind in KINDS]
    assert len(set(statuses)) == len(statuses)
    for domain_error, kind in DOMAIN_KINDS.items():
        assert issubclass(domain_error, ValueError) and kind in KINDS


def test_no_route_maps_a_service_error_by_hand() -> None:
    """Routes raise; the handlers answer (tests the edge modules' source)."""
    banned = re.compile(
        r"\bexcept\s*\(?[^:]*\b(NotFound|ValuechainError)\b|raise HTTPException\(|"
        r"def problems\(|def _refused\(|def _problem\("
    )
    offenders = [
        f"{path.relative_to(SRC)}:{n}: {line.strip()}"
        for edge in EDGES
        for path in sorted((SRC / edge).rglob("*.py"))
        # The ASGI factory is the process's entry, not a route: it turns a refused
        # start into one line on stderr and an exit status, as the CLI does.
        if path != SRC / "web" / "asgi.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if banned.search(line)
    ]
    assert offenders == []


@pytest.fixture
def app_client(vc: Valuechain) -> Iterator[TestClient]:
    vc.write_map(chain_map())
    make_account(vc)
    make_account(vc, "member@example.org", AccountRole.MEMBER)
    with TestClient(create_app(vc)) as client:
        yield client


def test_statuses_through_the_app(app_client: TestClient) -> None:
    """The real routes: 401, 403, 404, 409 and 422 from services, via both edges."""
    signed_out = app_client.get("/api/v1/map")
    assert signed_out.status_code == 401 and signed_out.json()["status"] == 401
    admin = {"Authorization": f"Bearer {bearer(app_client)}"}
    member = {"Authorization": f"Bearer {bearer(app_client, 'member@example.org')}"}

    forbidden = app_client.get("/api/v1/notifications/outbox", headers=member)
    assert forbidden.status_code == 403 and forbidden.json()["title"] == "Not allowed"
    missing = app_client.get("/api/v1/units/nobody", headers=admin)
    assert missing.status_code == 404 and missing.json()["title"] == "Not found"

    campaign = {"id": "q1", "instrument": "pulse"}
    backwards = {**campaign, "opens_on": str(date(2026, 2, 1)), "closes_on": "2026-01-01"}
    invalid = app_client.post("/api/v1/campaigns", json=backwards, headers=admin)
    assert invalid.status_code == 422, invalid.text
    assert invalid.json()["title"] == "Invalid input" and "before" in invalid.json()["detail"]
    made = app_client.post("/api/v1/campaigns", json=campaign, headers=admin)
    assert made.status_code == 201, made.text
    again = app_client.post("/api/v1/campaigns", json=campaign, headers=admin)
    assert again.status_code == 409 and "already" in again.json()["detail"]

    sign_in(app_client)
    page = app_client.get("/units/nobody")
    assert page.status_code == 404 and "no unit with id" in page.text
    assert app_client.get("/campaigns/nothing").status_code == 404
