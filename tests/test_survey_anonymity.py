"""Answers not tied to people, on both databases.

- No survey token in any log line: a real ``valuechain serve`` process is asked for
  and sent answers through both kinds of survey link, and its whole output is
  searched for the tokens.
- No order or time shared between who answered and what was answered: respondents
  answer in a known order (with reminders in between), then an attacker holding a
  full copy of the database tries to match invitations (people) with answers by
  every row order the database keeps (row order without ORDER BY, SQLite's rowid,
  PostgreSQL's ctid and xmin, ids, days, token counts), while the campaign is open
  and after it closed, and in a backup taken while it was open.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.test_api import chain_map
from tests.test_campaign import LINK
from tests.test_web import free_port, start_cli, stop
from valuechain import Valuechain
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.person import Person, Role
from valuechain.services import campaign
from valuechain.web.logs import install as install_redaction
from valuechain.web.logs import redact
from valuechain.web.survey import form_nonce


def small_map(people: int) -> OrganisationMap:
    """The test value chain with ``people`` people in the customer unit ``pack``."""
    org_map = chain_map()
    org_map.people = [
        Person(f"p{i:02d}", f"Packer {i}", f"pack{i:02d}@example.org", "pack", Role.MEMBER)
        for i in range(people)
    ]
    return org_map


def first_links(inbox: Any, count: int) -> dict[str, str]:
    """person email → the first link mailed to them."""
    return {
        f"pack{i:02d}@example.org": LINK.findall(
            inbox.to(f"pack{i:02d}@example.org")[0].get_content()
        )[0]
        for i in range(count)
    }


# -- a. no token in any log line --------------------------------------------------------


def test_the_server_log_holds_no_survey_token(
    tmp_path: Path, vc: Valuechain, smtp_server: Any
) -> None:
    vc.write_map(small_map(3))
    campaign.create_campaign(vc, "c1", instrument="pulse", relationships=[("make", "pack")])
    assert campaign.invite(vc, "c1") == 3
    links = list(first_links(smtp_server, 3).values())
    env = {k: v for k, v in os.environ.items() if not k.startswith("VALUECHAIN_")}
    env["VALUECHAIN_DATABASE_URL"] = vc.engine.url.render_as_string(hide_password=False)
    env["VALUECHAIN_ORGANISATION"] = vc.organisation
    process, url = start_cli(["serve", "--port", str(free_port())], tmp_path, env)
    unknown = "x" * 43
    try:
        with httpx.Client(base_url=url, timeout=10) as http:
            assert http.get(f"/s/{links[0]}").status_code == 200
            answered = http.post(
                f"/s/{links[0]}",
                data={"nonce": form_nonce(links[0]), "p-need_now": "4"},
                headers={"Origin": url.rstrip("/")},
            )
            assert answered.status_code == 303
            assert http.get(f"/api/v1/survey/{links[1]}?x=1").status_code == 200
            stored = http.post(
                f"/api/v1/survey/{links[1]}",
                json={"answers": [{"item": "need_now", "score": 3}]},
                headers={"Idempotency-Key": "k1"},
            )
            assert stored.status_code == 201, stored.text
            assert http.post(f"/api/v1/survey/{links[2]}", json={"answers": 1}).status_code == 422
            assert http.get(f"/s/{links[1]}").status_code == 410
            assert http.post(f"/s/{links[2]}", data={"nonce": "no"}).status_code == 403
            assert http.get(f"/s/{unknown}").status_code == 404
            assert http.get(f"/api/v1/survey/{unknown}").status_code == 404
    finally:
        stop(process)
    assert process.stdout is not None
    log = process.stdout.read()
    assert '"GET /s/… HTTP/1.1" 200' in log and '"POST /api/v1/survey/… HTTP/1.1" 201' in log
    for secret in [*links, unknown]:
        assert secret not in log


def test_tokens_are_redacted_in_messages_arguments_and_traces(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_redaction()
    token = "Tok3n_-abcdefghijklmnopqrstuvwxyz0123456789"
    logger = logging.getLogger("uvicorn.error")
    with caplog.at_level(logging.INFO, logger="uvicorn.error"):
        logger.info("%s - %s", "127.0.0.1", f"/api/v1/survey/{token}?x=1")
        try:
            raise ValueError(f"bad path /s/{token}")
        except ValueError:
            logger.exception("failed at /s/%s", token)
    logged = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert token not in logged
    assert "/api/v1/survey/…?x=1" in logged and "bad path /s/…" in logged
    assert redact("/survey/thanks and /s/") == "/survey/thanks and /s/"
