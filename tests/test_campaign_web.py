"""The answer form, the survey JSON endpoint and the campaign pages and API, through
the real app on both databases."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.builders import chain_map
from tests.signin import bearer, make_account, sign_in
from tests.test_campaign import PACKERS, full_answers, people, tokens_in
from valuechain import Valuechain
from valuechain.domain.account import AccountRole
from valuechain.domain.instrument import INTERNAL_SERVQUAL, SERVICE_FACTORS
from valuechain.services import campaign, measure
from valuechain.store.campaign import SEALED
from valuechain.store.measure import RESPONSES
from valuechain.web.app import create_app
from valuechain.web.survey import form_nonce

LABEL_FOR = re.compile(r'<label[^>]*for="([^"]+)"')
CONTROL_ID = re.compile(r'<(?:input|textarea|select)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"')


@pytest.fixture
def app_vc(vc: Valuechain, smtp_server: Any) -> Iterator[tuple[TestClient, Valuechain, Any]]:
    org_map = chain_map()
    org_map.people = people()
    vc.write_map(org_map)
    make_account(vc)
    campaign.create_campaign(
        vc, "sf", instrument="service_factors", relationships=[("make", "pack")]
    )
    campaign.invite(vc, "sf")
    with TestClient(create_app(vc)) as client:
        yield client, vc, smtp_server


def responses(vc: Valuechain) -> int:
    """Responses stored: sealed while their campaign is open, published after."""
    with vc.engine.connect() as conn:
        return sum(
            int(
                conn.execute(
                    select(func.count()).select_from(table).where(table.c.org_id == vc.org_id)
                ).scalar_one()
            )
            for table in (RESPONSES, SEALED)
        )


def form_data(token: str, instrument: Any = SERVICE_FACTORS, score: int = 6) -> dict[str, str]:
    data = {"nonce": form_nonce(token), "comment": "Thanks for the fast turnaround."}
    for item in instrument.items:
        if item.scale is None:
            continue
        data[f"p-{item.key}"] = str(score)
        if item.expectation:
            data[f"e-{item.key}"] = str(score)
    return data


def test_the_form_is_accessible(app_vc: tuple[TestClient, Valuechain, Any]) -> None:
    client, _, inbox = app_vc
    token = tokens_in(inbox, PACKERS[0])[0]
    page = client.get(f"/s/{token}")
    assert page.status_code == 200
    html = page.text
    assert '<html lang="en">' in html and 'name="viewport"' in html
    assert "vc_session" not in page.headers.get("set-cookie", "")
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["cache-control"] == "no-store"
    # Every control has a label; every dimension is a fieldset with a legend.
    assert set(CONTROL_ID.findall(html)) <= set(LABEL_FOR.findall(html))
    for dimension in SERVICE_FACTORS.dimensions:
        assert f"<h2>{dimension.label}</h2></legend>" in html
    assert html.count('type="radio"') == 7 * len(SERVICE_FACTORS.items)
    assert "How is Machining doing for Packing &amp; &lt;Boxes&gt;?" in html


def test_errors_keep_what_was_typed_and_a_good_submit_stores_once(
    app_vc: tuple[TestClient, Valuechain, Any],
) -> None:
    client, vc, inbox = app_vc
    token = tokens_in(inbox, PACKERS[1])[0]
    data = form_data(token)
    del data["p-courtesy_2"]
    data["p-overall_1"] = "12"
    answer = client.post(f"/s/{token}", data=data)
    assert answer.status_code == 422
    html = answer.text
    assert 'class="error-summary" role="alert"' in html
    # Each problem in the summary names its question (the item's own words).
    assert re.search(
        r'href="#p-courtesy_2-1">“[^<”]*treats our requests with respect[^<”]*”: '
        r"Choose an answer from 1 to 7\.",
        html,
    )
    assert re.search(r'href="#p-overall_1-1">“[^<”]+”: Choose a whole number from 1 to 7\.', html)
    assert 'id="p-courtesy_1-6" name="p-courtesy_1" value="6"\n        checked' in html
    assert "Thanks for the fast turnaround.</textarea>" in html
    assert responses(vc) == 0
    done = client.post(f"/s/{token}", data=form_data(token), follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/survey/thanks"
    assert "Thank you" in client.get("/survey/thanks").text
    again = client.post(f"/s/{token}", data=form_data(token))
    assert again.status_code == 410 and "used already" in again.text
    assert client.get(f"/s/{token}").status_code == 410
    assert client.get("/s/unknown-token").status_code == 404
    assert responses(vc) == 1


def test_cross_site_posts_are_refused(app_vc: tuple[TestClient, Valuechain, Any]) -> None:
    client, vc, inbox = app_vc
    token = tokens_in(inbox, PACKERS[2])[0]
    evil = client.post(
        f"/s/{token}", data=form_data(token), headers={"Origin": "https://evil.example"}
    )
    assert evil.status_code == 403
    opaque = client.post(f"/s/{token}", data=form_data(token), headers={"Origin": "null"})
    assert opaque.status_code == 403
    no_nonce = {**form_data(token), "nonce": "guessed"}
    assert client.post(f"/s/{token}", data=no_nonce).status_code == 403
    assert responses(vc) == 0
    same_site = client.post(
        f"/s/{token}",
        data=form_data(token),
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert same_site.status_code == 303


def test_servqual_form_asks_expectation_and_perception(
    app_vc: tuple[TestClient, Valuechain, Any],
) -> None:
    client, vc, inbox = app_vc
    campaign.create_campaign(
        vc, "sq", instrument="internal_servqual", relationships=[("make", "pack")]
    )
    campaign.invite(vc, "sq")
    token = tokens_in(inbox, PACKERS[0])[1]
    html = client.get(f"/s/{token}").text
    assert html.count('type="radio"') == 2 * 7 * len(INTERNAL_SERVQUAL.items)
    assert "What an excellent internal provider would do" in html
    assert 'name="i-tangibles"' in html
    data = form_data(token, INTERNAL_SERVQUAL)
    data |= {"i-tangibles": "50", "i-reliability": "10"}
    bad = client.post(f"/s/{token}", data=data)
    assert bad.status_code == 422 and 'href="#i-tangibles">Give every aspect' in bad.text
    assert 'value="50"' in bad.text
    data |= {"i-responsiveness": "10", "i-assurance": "10", "i-empathy": "20"}
    assert client.post(f"/s/{token}", data=data, follow_redirects=False).status_code == 303


def test_json_survey_is_idempotent_by_key(app_vc: tuple[TestClient, Valuechain, Any]) -> None:
    client, vc, inbox = app_vc
    token = tokens_in(inbox, PACKERS[3])[0]
    questions = client.get(f"/api/v1/survey/{token}").json()
    assert questions["provider_name"] == "Machining"
    assert len(questions["items"]) == len(SERVICE_FACTORS.items)
    body = {
        "answers": [{"item": k, "score": s} for k, (s, _) in full_answers().scores.items()],
        "comment": "ok",
    }
    first = client.post(f"/api/v1/survey/{token}", json=body, headers={"Idempotency-Key": "x1"})
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    assert "id" not in first.json()
    again = client.post(f"/api/v1/survey/{token}", json=body, headers={"Idempotency-Key": "x1"})
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    changed = {**body, "comment": "changed my mind"}
    conflict = client.post(
        f"/api/v1/survey/{token}", json=changed, headers={"Idempotency-Key": "x1"}
    )
    assert conflict.status_code == 422
    assert client.post(f"/api/v1/survey/{token}", json=body).status_code == 410
    # A cross-site page can post text/plain without a preflight: not accepted as JSON.
    other = tokens_in(inbox, PACKERS[5])[0]
    plain = client.post(
        f"/api/v1/survey/{other}",
        content=json.dumps(body),
        headers={"Content-Type": "text/plain"},
    )
    assert plain.status_code == 422
    assert client.post("/api/v1/survey/nope", json=body).status_code == 404
    invalid = client.post(f"/api/v1/survey/{tokens_in(inbox, PACKERS[4])[0]}", json={"answers": []})
    assert invalid.status_code == 422 and "p-courtesy_1" in invalid.json()["detail"]
    assert responses(vc) == 1


def test_admin_api_and_pages_run_a_campaign(app_vc: tuple[TestClient, Valuechain, Any]) -> None:
    client, vc, inbox = app_vc
    auth = {"Authorization": f"Bearer {bearer(client)}"}
    made = client.post(
        "/api/v1/campaigns",
        json={
            "id": "q3",
            "instrument": "recommend",
            "relationships": [{"provider": "make", "customer": "ctrl"}],
        },
        headers=auth,
    )
    assert made.status_code == 201 and made.json()["state"] == "draft"
    assert client.post("/api/v1/campaigns/q3/invite", headers=auth).json() == {"sent": 3}
    assert client.post("/api/v1/campaigns/q3/remind", headers=auth).json() == {
        "campaign": "q3",
        "reminded": True,
    }
    status = client.get("/api/v1/campaigns/q3", headers=auth).json()
    assert status["state"] == "open" and status["groups"][0]["rate"] == "suppressed"
    assert [c["id"] for c in client.get("/api/v1/campaigns", headers=auth).json()] == ["q3", "sf"]
    assert client.post("/api/v1/campaigns/q3/close", headers=auth).json()["state"] == "closed"
    assert client.post("/api/v1/campaigns/q3/close", headers=auth).status_code == 409
    assert client.get("/api/v1/campaigns/none", headers=auth).status_code == 404
    for address in PACKERS[:5]:
        token = tokens_in(inbox, address)[0]
        client.post(f"/s/{token}", data=form_data(token))
    sign_in(client)
    measure.set_threshold(vc, 3)  # 7 invited show a band only below threshold 5
    page = client.get("/campaigns/sf")
    assert page.status_code == 200 and "50–100%" in page.text  # 5 of 7
    assert 'hx-trigger="every 15s"' in page.text
    assert "50–100%" in client.get("/campaigns/sf/rates").text
    listed = client.get("/campaigns")
    assert listed.status_code == 200
    rows = re.findall(
        r'<tr><th scope="row"><a href="/campaigns/([^"]+)">.*?</tr>', listed.text, re.S
    )
    assert rows == ["sf", "q3"]  # newest first: sf is still open, q3 closed
    sf_row = re.search(r'<a href="/campaigns/sf">.*?</tr>', listed.text, re.S)
    assert sf_row is not None
    # The instrument's name, the answered share as a band, no count of answers.
    assert "Internal service factors" in sf_row.group(0) or "service factors" in sf_row.group(0)
    assert "50–100%" in sf_row.group(0) and ">5<" not in sf_row.group(0)
    q3_row = re.search(r'<a href="/campaigns/q3">.*?</tr>', listed.text, re.S)
    assert q3_row is not None and 'href="/campaigns/q3#results"' in q3_row.group(0)
    results = client.get("/campaigns/q3").text
    assert 'id="results"' in results and "/units/make/dashboard?instrument=recommend" in results
    created = client.post(
        "/campaigns",
        data={"id": "web1", "instrument": "pulse", "csrf_token": _csrf(client)},
        follow_redirects=False,
    )
    assert created.status_code == 303 and created.headers["location"] == "/campaigns/web1"
    closed = client.post(
        "/campaigns/web1/close", data={"csrf_token": _csrf(client)}, follow_redirects=False
    )
    assert closed.status_code == 303 and "done=Campaign" in closed.headers["location"]


def _csrf(client: TestClient) -> str:
    from tests.signin import form_token

    return form_token(client.get("/campaigns").text)


def test_a_lead_sees_the_rates_of_their_own_unit_only(
    app_vc: tuple[TestClient, Valuechain, Any],
) -> None:
    client, vc, _ = app_vc
    org_map = chain_map()
    from valuechain.domain.person import Person, Role

    org_map.people = [*people(), Person("lead", "Lee", "lee@example.org", "make", Role.LEAD)]
    vc.write_map(org_map)
    make_account(vc, "lee@example.org", AccountRole.LEAD, person_id="lead")
    auth = {"Authorization": f"Bearer {bearer(client, 'lee@example.org')}"}
    own = client.get("/api/v1/units/make/campaigns", headers=auth)
    assert own.status_code == 200
    assert [c["id"] for c in own.json()["campaigns"]] == ["sf"]
    # pack is a direct customer of make: a relationship, but not the lead's own unit.
    assert client.get("/api/v1/units/pack/campaigns", headers=auth).status_code == 403
    assert client.get("/api/v1/campaigns/sf", headers=auth).status_code == 403
    assert client.post("/api/v1/campaigns/sf/close", headers=auth).status_code == 403
    sign_in(client, "lee@example.org")
    # The unit's page links its response rates for its lead, not the related unit's.
    home = client.get("/units/make")
    assert 'href="/units/make/campaigns"' in home.text and 'href="/campaigns"' not in home.text
    assert 'href="/units/pack/campaigns"' not in client.get("/units/pack").text
    page = client.get("/units/make/campaigns")
    assert page.status_code == 200 and "Response rate per relationship" in page.text
    assert "hx-get" not in page.text  # the admin-only fragment is not polled from here
    assert client.get("/units/pack/campaigns").status_code == 403
