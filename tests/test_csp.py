"""The Content-Security-Policy header: on every response of the app (pages, API,
static files, errors, redirects), the strict policy everywhere but the flow pages
(which also allow style attributes for their bars) and the API's documentation pages
(the vendored Swagger UI and ReDoc, and their own inline scripts by hash only); and
the templates hold no inline script, event handler or ``<style>`` for the policy to
refuse."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.builders import chain_map
from tests.signin import make_account, sign_in
from tests.test_access_matrix import app_routes
from valuechain import Valuechain
from valuechain.web import csp
from valuechain.web.app import create_app

TEMPLATES = Path(csp.__file__).parent / "templates"
STRICT = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


@pytest.fixture
def client(vc: Valuechain) -> Iterator[TestClient]:
    vc.write_map(chain_map())
    make_account(vc)
    with TestClient(create_app(vc)) as signed_in:
        sign_in(signed_in)
        yield signed_in


def test_the_strict_policy_is_the_one_documented() -> None:
    assert csp.STRICT == STRICT
    assert (
        STRICT.replace("style-src 'self';", "style-src 'self'; style-src-attr 'unsafe-inline';")
        == csp.FLOW
    )


def test_every_get_route_answers_with_the_policy(client: TestClient) -> None:
    missing = []
    for method, path in sorted(app_routes(client.app)):  # type: ignore[arg-type]
        if method != "GET":
            continue
        concrete = (
            path.replace("{unit_id}", "make").replace("{provider_id}", "make")
            .replace("{customer_id}", "pack").replace("{person_key}", "nobody")
        )  # fmt: skip
        concrete = re.sub(r"\{[a-z_]+\}", "nope", concrete)
        if concrete == "/static":
            concrete = "/static/css/valuechain.css"
        answer = client.get(concrete, follow_redirects=False)
        expected = (
            csp.docs_policy(answer.content)
            if csp.is_docs(concrete)
            else csp.FLOW
            if concrete.startswith("/flow")
            else STRICT
        )
        if answer.headers.get("content-security-policy") != expected:
            missing.append(f"{concrete} {answer.status_code}")
    assert missing == []


@pytest.mark.parametrize(
    "path", ["/no-such-page", "/api/v1/no-such-thing", "/api/v1/units/nope", "/signin"]
)
def test_errors_redirects_and_public_pages_carry_it_too(vc: Valuechain, path: str) -> None:
    vc.write_map(chain_map())
    make_account(vc)
    anonymous = TestClient(create_app(vc))
    for url in (path, "/map"):  # /map: a redirect to sign in
        answer = anonymous.get(url, follow_redirects=False)
        assert answer.headers["content-security-policy"] == STRICT, url


def _hash(script: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_the_docs_pages_allow_their_own_inline_scripts_only(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 200
    policy = answer.headers["content-security-policy"]
    directives = dict(d.split(" ", 1) for d in policy.split("; "))
    inline = re.findall(rb"<script>(.*?)</script>", answer.content, re.S)
    script_src = directives["script-src"].split()
    assert {_hash(s) for s in inline} <= set(script_src)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert script_src[0] == "'self'"
    assert len(script_src) == 1 + len(set(inline))
    # Nothing from another site: the assets are the app's vendored copies.
    assert "http" not in policy
    assert b"cdn.jsdelivr.net" not in answer.content and b"fonts.googleapis" not in answer.content
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"


def test_the_templates_hold_nothing_the_policy_refuses() -> None:
    found = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        name = template.relative_to(TEMPLATES).as_posix()
        text = template.read_text(encoding="utf-8")
        for script in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in script and 'type="application/json"' not in script:
                found.append(f"{name}: inline {script}")
        found += [f"{name}: handler {h}" for h in re.findall(r"\son[a-z]+\s*=", text)]
        found += [f"{name}: javascript: URL" for _ in re.findall(r"javascript:", text)]
        # The standalone report is a downloaded file (and the PDF's source), not a page.
        if "<style" in text and name != "report/standalone.html":
            found.append(f"{name}: <style>")
        # Style attributes only where the flow pages' policy allows them.
        if re.search(r"\sstyle\s*=", text) and not name.startswith("flow/"):
            found.append(f"{name}: style attribute")
    assert found == []
