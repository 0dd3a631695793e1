"""Changes to what anyone can see are in the audit log (the anonymity thresholds and
every campaign action, through the CLI and through the API on a real server), and
`valuechain campaign invite` with the mail server down or failing part-way says so
in one line and a rerun sends exactly the invitations that were not sent. Both
databases; mail over real SMTP servers on loopback."""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from tests.browser.conftest import serving
from tests.builders import chain_map
from tests.conftest import _Inbox
from tests.signin import PASSWORD, make_account
from tests.test_campaign import PACKERS, full_answers, people, tokens_in
from valuechain import Valuechain
from valuechain.cli.main import app, main
from valuechain.domain.instrument import PULSE
from valuechain.services import audit, campaign
from valuechain.web.app import create_app


def run(*args: str) -> Any:
    out = CliRunner().invoke(app, list(args))
    assert out.exit_code == 0, out.output
    return out


def events(vc: Valuechain) -> list[Any]:
    """The audit log, oldest first."""
    return list(reversed(audit.read_page(vc, 1, 200).events))


def about(vc: Valuechain, *actions: str) -> list[tuple[str, str | None, str, str | None]]:
    return [(e.action, e.subject, e.outcome, e.detail) for e in events(vc) if e.action in actions]


@pytest.fixture
def org(vc: Valuechain) -> Valuechain:
    org_map = chain_map()
    org_map.people = people()
    vc.write_map(org_map)
    return vc


CAMPAIGN_ACTIONS = (
    audit.CAMPAIGN_CREATED,
    audit.CAMPAIGN_INVITED,
    audit.CAMPAIGN_REMINDED,
    audit.CAMPAIGN_CLOSED,
)


def test_threshold_changes_are_audited_from_the_cli(
    org: Valuechain, cli_env: dict[str, str]
) -> None:
    run("threshold", "--numbers", "4", "--comments", "12")
    refused = CliRunner().invoke(app, ["threshold", "--numbers", "2"])
    assert refused.exit_code != 0
    found = about(org, audit.THRESHOLD_CHANGED)
    assert found[:2] == [
        (audit.THRESHOLD_CHANGED, "numbers", "success", "5 to 4"),
        (audit.THRESHOLD_CHANGED, "comments", "success", "10 to 12"),
    ]
    assert found[2][:3] == (audit.THRESHOLD_CHANGED, "numbers", "refused")
    assert all(
        e.actor and e.actor.startswith("cli:") and e.address == "cli"
        for e in events(org)
        if e.action == audit.THRESHOLD_CHANGED
    )


def test_campaign_actions_are_audited_from_the_cli(
    org: Valuechain, cli_env: dict[str, str], smtp_server: Any
) -> None:
    run("campaign", "create", "c9", "--instrument", "pulse", "--relationship", "make:pack")
    run("campaign", "invite", "c9")
    campaign.submit(org, tokens_in(smtp_server, PACKERS[0])[0], full_answers(PULSE))
    run("campaign", "remind", "c9")
    run("campaign", "close", "c9")
    assert CliRunner().invoke(app, ["campaign", "close", "c9"]).exit_code != 0
    assert about(org, *CAMPAIGN_ACTIONS) == [
        (audit.CAMPAIGN_CREATED, "c9", "success", "pulse, 1 relationships"),
        (audit.CAMPAIGN_INVITED, "c9", "success", "7 invitations sent"),
        (audit.CAMPAIGN_REMINDED, "c9", "success", None),
        (audit.CAMPAIGN_CLOSED, "c9", "success", None),
        (audit.CAMPAIGN_CLOSED, "c9", "refused", "campaign 'c9' is already closed"),
    ]
    assert {e.actor[:4] for e in events(org) if e.action in CAMPAIGN_ACTIONS if e.actor} == {"cli:"}


@pytest.fixture
def admin_api(org: Valuechain) -> Iterator[httpx.Client]:
    """An admin's bearer-token client of the app on a real server on loopback."""
    make_account(org)
    with serving(lambda _url: create_app(org)) as url:
        token = httpx.post(
            f"{url}/api/v1/session", json={"email": "admin@example.org", "password": PASSWORD}
        ).json()["token"]
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client:
            yield client


def test_campaign_actions_are_audited_from_the_api(
    org: Valuechain, admin_api: httpx.Client, smtp_server: Any
) -> None:
    ctrl = [{"provider": "make", "customer": "ctrl"}]
    body = {"id": "q3", "instrument": "pulse", "relationships": ctrl}
    assert admin_api.post("/api/v1/campaigns", json=body).status_code == 201
    assert admin_api.post("/api/v1/campaigns", json=body).status_code == 409
    assert admin_api.post("/api/v1/campaigns/q3/invite").json() == {"sent": 3}
    assert admin_api.post("/api/v1/campaigns/q3/remind").json()["reminded"]
    assert admin_api.post("/api/v1/campaigns/q3/close").status_code == 200
    assert admin_api.post("/api/v1/campaigns/q3/remind").status_code == 409
    log = admin_api.get("/api/v1/audit").json()["events"]
    mine = [e for e in reversed(log) if e["action"] in CAMPAIGN_ACTIONS]
    assert [(e["action"], e["outcome"], e["detail"]) for e in mine] == [
        (audit.CAMPAIGN_CREATED, "success", "pulse, 1 relationships"),
        (audit.CAMPAIGN_CREATED, "refused", "there is already a campaign 'q3'"),
        (audit.CAMPAIGN_INVITED, "success", "3 invitations sent"),
        (audit.CAMPAIGN_REMINDED, "success", None),
        (audit.CAMPAIGN_CLOSED, "success", None),
        (audit.CAMPAIGN_REMINDED, "refused", "campaign 'q3' is closed, not open"),
    ]
    assert {(e["actor"], e["address"], e["subject"]) for e in mine} == {
        ("admin@example.org", "127.0.0.1", "q3")
    }


# -- the mail server down -------------------------------------------------------------


def _nothing_listening() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: connections are refused


class _Refusing(_Inbox):
    """An inbox whose server refuses every message after the first ``accept``."""

    def __init__(self, accept: int) -> None:
        super().__init__()
        self.accept = accept

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if len(self.messages) >= self.accept:
            return "554 Transaction failed"
        return await super().handle_DATA(server, session, envelope)


def _cli(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sys, "argv", ["valuechain", *argv])
    with pytest.raises(SystemExit) as stopped:
        main()
    return int(stopped.value.code or 0)


def test_invite_with_the_mail_server_down_says_so_and_a_rerun_sends_them(
    org: Valuechain,
    cli_env: dict[str, str],
    smtp_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    down = f"smtp://127.0.0.1:{_nothing_listening()}"
    good = os.environ["VALUECHAIN_SMTP_URL"]
    campaign.create_campaign(org, "c1", instrument="pulse", relationships=[("make", "pack")])
    monkeypatch.setenv("VALUECHAIN_SMTP_URL", down)
    assert _cli(["campaign", "invite", "c1"], monkeypatch) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "the mail server failed after 0 of 7 invitations" in err
    monkeypatch.setenv("VALUECHAIN_SMTP_URL", good)
    run_out = CliRunner().invoke(app, ["campaign", "invite", "c1", "--json"])
    assert json.loads(run_out.stdout) == {"campaign": "c1", "sent": 7}
    assert all(len(smtp_server.to(address)) == 1 for address in PACKERS)
    for address in PACKERS:  # every link mailed works
        assert campaign.open_link(org, tokens_in(smtp_server, address)[0]).customer_id == "pack"
    assert [(a, o) for a, _, o, _ in about(org, audit.CAMPAIGN_INVITED)] == [
        (audit.CAMPAIGN_INVITED, "failed"),
        (audit.CAMPAIGN_INVITED, "success"),
    ]


def test_a_mail_server_failing_part_way_is_made_good_by_a_rerun(
    org: Valuechain,
    cli_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inbox = _Refusing(accept=3)
    server = Controller(inbox, hostname="127.0.0.1", port=_nothing_listening())
    server.start()
    try:
        monkeypatch.setenv("VALUECHAIN_SMTP_URL", f"smtp://127.0.0.1:{server.port}")
        campaign.create_campaign(org, "c1", instrument="pulse", relationships=[("make", "pack")])
        assert _cli(["campaign", "invite", "c1"], monkeypatch) != 0
        err = capsys.readouterr().err
        assert "the mail server failed after 3 of 7 invitations" in err, err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
        inbox.accept = 100
        assert _cli(["campaign", "invite", "c1"], monkeypatch) == 0
        assert "Sent 4 invitations" in capsys.readouterr().out
    finally:
        server.stop()
    # Everyone has exactly one delivered mail, and its link works.
    assert sorted(r for rcpts, _ in inbox.messages for r in rcpts) == sorted(PACKERS)
    for address in PACKERS:
        assert campaign.open_link(org, tokens_in(inbox, address)[0]).customer_id == "pack"


# -- reminders tell nobody how many have not answered ----------------------------------


def test_reminding_does_not_count_who_has_not_answered(
    org: Valuechain, admin_api: httpx.Client, cli_env: dict[str, str], smtp_server: Any
) -> None:
    """How many reminders went out is how many have not answered: the exact count the
    bands hide (all 7 answered but 2 would say so outright)."""
    campaign.create_campaign(org, "c1", instrument="pulse", relationships=[("make", "pack")])
    campaign.invite(org, "c1")
    for address in PACKERS[:5]:
        campaign.submit(org, tokens_in(smtp_server, address)[0], full_answers(PULSE))
    before = len(smtp_server.messages)
    answer = admin_api.post("/api/v1/campaigns/c1/remind")
    assert answer.status_code == 200 and answer.json() == {"campaign": "c1", "reminded": True}
    out = run("campaign", "remind", "c1", "--json").stdout
    assert json.loads(out) == {"campaign": "c1", "reminded": True}
    assert not any(ch.isdigit() for ch in run("campaign", "remind", "c1").stdout.replace("c1", ""))
    assert len(smtp_server.messages) - before == 6  # they did go out: 2 people, 3 runs
