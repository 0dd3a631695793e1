"""Requests on both databases: filing, every state change as an event, the clocks on
business time (paused while waiting on the customer), idempotent changes, thanks and
the thanks wall, import of requests.csv and of a help-desk export, and the SLA."""

from __future__ import annotations

import statistics
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.builders import chain_map
from valuechain import Valuechain
from valuechain.analytics.clock import business_clock, elapsed
from valuechain.domain.access import Principal
from valuechain.domain.account import AccountRole
from valuechain.domain.calendar import DEFAULT, calendar
from valuechain.domain.request import Verb
from valuechain.services import idempotency, thanks
from valuechain.services import request as requests
from valuechain.services.errors import NotFound
from valuechain.services.idempotency import KeyReused
from valuechain.services.request import (
    Asker,
    ImportProblem,
    NotAllowed,
    RequestError,
    Terms,
)

# Monday 23 November 2026, 09:00 UTC.
MONDAY = datetime(2026, 11, 23, 9, tzinfo=UTC)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def principal(role: AccountRole, unit: str | None, account: str) -> Principal:
    return Principal(account, f"{account}@example.org", account.title(), role, unit)


REQUESTER = Asker.of(principal(AccountRole.MEMBER, "pack", "rita"))
PROVIDER = Asker.of(principal(AccountRole.MEMBER, "make", "max"))
STRANGER = Asker.of(principal(AccountRole.MEMBER, "audit", "sam"))
COLLEAGUE = Asker.of(principal(AccountRole.MEMBER, "pack", "pia"))  # not the requester
PACK_LEAD = Asker.of(principal(AccountRole.LEAD, "pack", "lena"))
CLI = Asker(None, "cli:test")


@pytest.fixture
def org(vc: Valuechain) -> Iterator[Valuechain]:
    vc.write_map(chain_map())
    yield vc


def file(vc: Valuechain, at: datetime = MONDAY, **kw: object) -> dict:  # type: ignore[type-arg]
    args = {"customer": "pack", "provider": "make", "title": "Need 40 parts by Friday"}
    args.update(kw)  # type: ignore[arg-type]
    return requests.new_request(vc, REQUESTER, now=at, **args)  # type: ignore[arg-type]


def test_a_request_moves_through_its_states_and_every_move_is_an_event(org: Valuechain) -> None:
    r = file(org, body="Drawing 7 rev B")
    assert r["state"] == "new" and r["requester"] == "Rita" and r["body"] == "Drawing 7 rev B"
    assert r["verbs"] == []  # the requester has nothing to do until it moves
    steps = [
        (PROVIDER, Verb.ACK, 1, "acknowledged"),
        (PROVIDER, Verb.START, 2, "in_progress"),
        (PROVIDER, Verb.WAIT, 3, "waiting"),
        (REQUESTER, Verb.START, 5, "in_progress"),  # the customer answers
        (PROVIDER, Verb.RESOLVE, 6, "resolved"),
        (REQUESTER, Verb.REOPEN, 7, "in_progress"),
        (PROVIDER, Verb.RESOLVE, 8, "resolved"),
        (REQUESTER, Verb.CLOSE, 8.5, "closed"),
    ]
    for asker, verb, after, state in steps:
        r = requests.change(
            org, asker, r["id"], verb, f"{verb.value} note", now=MONDAY + hours(after)
        )
        assert r["state"] == state
    timeline = r["timeline"]
    assert [e["verb"] for e in timeline] == ["new"] + [s[1].value for s in steps]
    assert [(e["from"], e["to"]) for e in timeline][:3] == [
        (None, "new"),
        ("new", "acknowledged"),
        ("acknowledged", "in_progress"),
    ]
    assert timeline[1]["actor"] == "Max" and timeline[1]["note"] == "ack note"
    # First response at the ack (1 h); resolution: 8 h elapsed, minus the wait (2 h)
    # and the time between the first resolution and the reopen (1 h).
    assert r["response_hours"] == 1.0
    assert r["resolution_hours"] == pytest.approx(8 - 2 - 1)


def test_moves_are_checked_against_the_state_and_the_side(org: Valuechain) -> None:
    r = file(org)
    with pytest.raises(RequestError, match="only the provider side"):
        requests.change(org, REQUESTER, r["id"], Verb.RESOLVE, now=MONDAY + hours(1))
    with pytest.raises(RequestError, match="cannot be moved with 'close'"):
        requests.change(org, PROVIDER, r["id"], Verb.CLOSE, now=MONDAY + hours(1))
    with pytest.raises(NotFound):  # a stranger does not even learn it exists
        requests.change(org, STRANGER, r["id"], Verb.ACK, now=MONDAY + hours(1))
    with pytest.raises(NotFound):
        requests.get(org, COLLEAGUE, r["id"])
    assert requests.get(org, PACK_LEAD, r["id"])["id"] == r["id"]
    with pytest.raises(NotAllowed):
        requests.new_request(org, PROVIDER, customer="pack", provider="make", title="x")
    with pytest.raises(NotFound, match="provider"):
        requests.new_request(org, REQUESTER, customer="pack", provider="nowhere", title="x")
    with pytest.raises(RequestError, match="title"):
        requests.new_request(org, REQUESTER, customer="pack", provider="make", title="  ")
    assert len(requests.get(org, CLI, r["id"])["timeline"]) == 1  # nothing stored


def once(vc: Valuechain, key: str, what: str, arguments: dict[str, Any], change: Any) -> dict:  # type: ignore[type-arg]
    """A change under the one idempotency mechanism, as the command line runs it."""
    return idempotency.run_once(
        vc,
        scope=idempotency.command_scope("test"),
        key=key,
        command=what,
        arguments=arguments,
        change=change,
    )


def test_a_repeated_change_with_the_same_key_stores_once(org: Valuechain) -> None:
    first = once(org, "k-new", "new", {"t": 1}, lambda: file(org))
    again = once(org, "k-new", "new", {"t": 1}, lambda: file(org, at=MONDAY + hours(1)))
    assert again["id"] == first["id"]
    with pytest.raises(KeyReused):
        once(org, "k-new", "new", {"t": 2}, lambda: file(org, title="Something else"))
    for _ in range(3):
        r = once(
            org, "k-ack", "ack", {"note": "on it"},
            lambda: requests.change(
                org, PROVIDER, first["id"], Verb.ACK, "on it", now=MONDAY + hours(2)
            ),
        )  # fmt: skip
    assert [e["verb"] for e in r["timeline"]] == ["new", "ack"]
    with pytest.raises(KeyReused):
        once(org, "k-ack", "ack", {"note": "other"}, lambda: file(org))
    listed = requests.listing(org, provider="make")
    assert [x["id"] for x in listed] == [first["id"]]


def test_one_key_sent_by_several_writers_at_once_files_and_moves_once(org: Valuechain) -> None:
    """Six threads send the same key at once (a client retrying over several
    connections): each change is stored once and every caller gets the stored request
    (the key's claim serialises them: the losers wait for the winner's commit and
    answer its stored result)."""
    threads = 6

    def at_once(call: Callable[[], dict[str, Any]]) -> list[dict[str, Any]]:
        barrier = threading.Barrier(threads)
        answers: list[dict[str, Any]] = []
        errors: list[BaseException] = []

        def run() -> None:
            barrier.wait()
            try:
                answers.append(call())
            except BaseException as error:  # reported below
                errors.append(error)

        workers = [threading.Thread(target=run) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert not errors, errors
        return answers

    filed = at_once(lambda: once(org, "k-race", "new", {}, lambda: file(org)))
    assert len({a["id"] for a in filed}) == 1
    moved = at_once(
        lambda: once(
            org,
            "k-race-ack",
            "ack",
            {},
            lambda: requests.change(org, PROVIDER, filed[0]["id"], Verb.ACK, "on it"),
        )
    )
    assert {tuple(e["verb"] for e in a["timeline"]) for a in moved} == {("new", "ack")}
    assert [x["id"] for x in requests.listing(org, provider="make")] == [filed[0]["id"]]


def test_clocks_use_the_agreement_calendar_and_targets(
    org: Valuechain, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Amsterdam 08:00-12:00 and 13:00-17:00; a response target of 2 h and resolution 6 h.
    cal = calendar("nl", "Europe/Amsterdam", "mon-fri 08:00-12:00 13:00-17:00")
    terms = {("make", "pack"): Terms(cal, response_hours=2, resolution_hours=6)}
    monkeypatch.setattr(requests, "terms_of", lambda vc: terms)
    friday = datetime(2026, 11, 27, 15, tzinfo=UTC)  # 16:00 in Amsterdam: 1 h left
    r = file(org, at=friday)
    # Monday 09:00 Amsterdam (08:00 UTC) = 1 + 1 = 2 business hours: met exactly.
    r = requests.change(org, PROVIDER, r["id"], Verb.ACK, now=datetime(2026, 11, 30, 8, tzinfo=UTC))
    assert r["response_hours"] == 2.0 and r["response_met"] is True
    # Monday 10:00 UTC = 11:00 local: 1 + 3 = 4 of 6 h used (67%): not near breach.
    r = requests.get(org, CLI, r["id"], now=datetime(2026, 11, 30, 10, tzinfo=UTC))
    assert r["resolution_hours"] == 4.0 and r["near_breach"] is False
    # 13:30 local: lunch 12-13 does not count, 1 + 4 + 0.5 = 5.5 of 6 h: near breach.
    later = datetime(2026, 11, 30, 12, 30, tzinfo=UTC)
    r = requests.get(org, CLI, r["id"], now=later)
    assert r["resolution_hours"] == 5.5 and r["near_breach"] is True
    assert r["resolution_met"] is None
    r = requests.change(org, PROVIDER, r["id"], Verb.RESOLVE, now=later + hours(2))
    assert r["resolution_hours"] == 7.5
    assert r["resolution_met"] is False and r["breached"] is True


def test_waiting_pauses_the_resolution_clock(org: Valuechain) -> None:
    r = file(org)
    requests.change(org, PROVIDER, r["id"], Verb.WAIT, "which drawing?", now=MONDAY + hours(1))
    waiting = requests.get(org, CLI, r["id"], now=MONDAY + hours(5))
    assert waiting["paused"] is True and waiting["resolution_hours"] == 1.0
    # Answered the next morning: the night is outside business hours anyway.
    r = requests.change(org, REQUESTER, r["id"], Verb.START, now=MONDAY + hours(25))
    assert r["resolution_hours"] == 1.0 and r["paused"] is False
    r = requests.get(org, CLI, r["id"], now=MONDAY + hours(27))
    assert r["resolution_hours"] == 3.0


def test_thanks_once_after_resolution_and_shown_on_the_providers_wall(org: Valuechain) -> None:
    r = file(org)
    with pytest.raises(RequestError, match="once it is resolved"):
        thanks.thank(org, REQUESTER, r["id"], "early")
    requests.change(org, PROVIDER, r["id"], Verb.RESOLVE, now=MONDAY + hours(3))
    with pytest.raises(RequestError, match="customer's side"):
        thanks.thank(org, PROVIDER, r["id"], "self-praise")
    done = once(
        org,
        "t1",
        "thank",
        {},
        lambda: thanks.thank(org, REQUESTER, r["id"], "Ahead of time, thanks!"),
    )
    again = once(
        org,
        "t1",
        "thank",
        {},
        lambda: thanks.thank(org, REQUESTER, r["id"], "Ahead of time, thanks!"),
    )
    assert done["thanked_at"] == again["thanked_at"] and done["thanks_note"].startswith("Ahead")
    with pytest.raises(RequestError, match="already"):
        thanks.thank(org, REQUESTER, r["id"], "twice")
    wall = thanks.wall(org, "make")
    assert [(w["request"], w["note"], w["by"], w["customer_name"]) for w in wall] == [
        (r["id"], "Ahead of time, thanks!", "Rita", "Packing & <Boxes>")
    ]
    assert thanks.wall(org, "pack") == []
    assert [e["verb"] for e in requests.get(org, CLI, r["id"])["timeline"]][-1] == "thank"


REQUESTS_CSV = (
    "id,customer_id,provider_id,created_at,first_response_at,resolved_at,priority,category,"
    "thanked\n"
    """q1,pack,make,2026-11-23T09:00:00+00:00,2026-11-23T10:00:00+00:00,2026-11-23T13:00:00+00:00,high,parts,1
q2,pack,make,2026-11-23T09:00:00+00:00,2026-11-23T15:00:00+00:00,2026-11-24T15:00:00+00:00,,,0
q3,pack,make,2026-11-24T09:00:00Z,2026-11-24T09:30:00Z,,,,0
q4,ctrl,make,2026-11-27T16:00:00Z,2026-11-30T09:30:00Z,2026-11-30T10:00:00Z,low,,1
"""
)


def test_import_of_requests_csv_becomes_requests_with_history_and_sla(
    org: Valuechain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "requests.csv"
    path.write_text(REQUESTS_CSV)
    assert requests.import_requests(org, path) == {"requests": 4, "replaced": 0, "events": 13}
    assert requests.import_requests(org, path)["replaced"] == 4  # by id, nothing doubled
    q1 = requests.get(org, CLI, "q1")
    assert [e["verb"] for e in q1["timeline"]] == ["new", "ack", "resolve", "thank"]
    assert q1["priority"] == "high" and q1["thanked_at"] == "2026-11-23T13:00:00+00:00"
    terms = {("make", "pack"): Terms(DEFAULT, response_hours=2, resolution_hours=8)}
    monkeypatch.setattr(requests, "terms_of", lambda vc: terms)
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)  # q3 open for 3 of 8 h
    doc = requests.sla(org, now=now)
    rows = {(r["provider"], r["customer"]): r for r in doc["relationships"]}
    assert set(rows) == {("make", "pack"), ("make", "ctrl")}
    pack = rows[("make", "pack")]
    # Response: q1 1 h, q2 6 h, q3 0.5 h against 2 h -> 2 of 3. Resolution: q1 4 h,
    # q2 8 + 6 = 14 h against 8 h -> 1 of 2 (q3 is still within target: undecided).
    assert pack["requests"] == 3
    assert pack["first_response_met_pct"] == pytest.approx(100 * 2 / 3, abs=0.05)
    assert pack["resolution_met_pct"] == 50.0
    assert pack["median_resolution_hours"] == statistics.median([4, 14])
    assert pack["thanked_pct"] == 50.0
    ctrl = rows[("make", "ctrl")]  # no agreement: no targets, still timed
    assert ctrl["first_response_met_pct"] is None and ctrl["median_resolution_hours"] == 2.0
    assert ctrl["thanked_pct"] == 100.0
    # The same numbers from the clock directly (reference: per-request elapsed).
    clock = business_clock(DEFAULT, datetime(2026, 11, 1).date(), datetime(2026, 12, 31).date())
    created = datetime(2026, 11, 27, 16, tzinfo=UTC).timestamp()
    resolved = datetime(2026, 11, 30, 10, tzinfo=UTC).timestamp()
    assert float(elapsed(clock, np.array([created]), np.array([resolved]))[0]) == 2 * 3600


def test_a_bad_requests_file_names_line_and_column_and_changes_nothing(
    org: Valuechain, tmp_path: Path
) -> None:
    path = tmp_path / "requests.csv"
    path.write_text(REQUESTS_CSV + "q5,pack,nowhere,2026-11-24T09:00:00Z,,,,,0\n")
    with pytest.raises(ImportProblem, match=r"line 6, column provider_id.*'nowhere'"):
        requests.import_requests(org, path)
    path.write_text(REQUESTS_CSV.replace("2026-11-24T09:30:00Z", "yesterday"))
    with pytest.raises(ImportProblem, match="line 4, column first_response_at"):
        requests.import_requests(org, path)
    path.write_text("id,customer_id,provider_id,created_at,colour\n")
    with pytest.raises(ImportProblem, match="column 'colour'"):
        requests.import_requests(org, path)
    assert requests.listing(org, provider="make") == []


ZENDESK_CSV = (
    "Id,Subject,Requester,Requester organization,Group,Priority,Type,Created at,"
    "First reply time,Solved at,Satisfaction Score,Tags\n"
    "101,Laptop for new hire,ann@example.org,pack,make,Normal,task,2026-11-23 09:00:00 UTC,"
    "2026-11-23 09:20:00 UTC,2026-11-23 11:00:00 UTC,Good,it\n"
    "102,VPN down,bob@example.org,ctrl,make,Urgent,incident,2026-11-23 10:00:00 UTC,,,,vpn\n"
)


def test_import_of_a_zendesk_export_through_its_column_mapping(
    org: Valuechain, tmp_path: Path
) -> None:
    path = tmp_path / "tickets.csv"
    path.write_text(ZENDESK_CSV)
    assert requests.import_requests(org, path, "zendesk")["requests"] == 2
    t = requests.get(org, CLI, "101")
    assert (t["title"], t["priority"], t["category"], t["state"]) == (
        "Laptop for new hire",
        "normal",
        "task",
        "resolved",
    )
    assert t["thanked_at"] is not None and t["response_hours"] == pytest.approx(1 / 3, abs=0.01)
    assert requests.get(org, CLI, "102")["state"] == "new"
    with pytest.raises(ImportProblem, match="format"):
        requests.import_requests(org, path, "jira")


def test_inbox_outbox_and_listing_access(org: Valuechain) -> None:
    a = file(org)
    requests.new_request(
        org, Asker.of(principal(AccountRole.MEMBER, "ctrl", "cy")), customer="ctrl",
        provider="make", title="Budget figures", now=MONDAY + hours(1),
    )  # fmt: skip
    inbox = requests.listing(org, provider="make", now=MONDAY + hours(2))
    assert [r["title"] for r in inbox] == ["Budget figures", a["title"]]
    assert inbox[1]["resolution_hours"] == 2.0 and inbox[1]["response_hours"] == 2.0
    assert [r["id"] for r in requests.listing(org, customer="pack")] == [a["id"]]
    assert [r["id"] for r in requests.listing(org, requester_id="rita")] == [a["id"]]
    member = principal(AccountRole.MEMBER, "pack", "pia")
    assert requests.outbox(org, member, "pack") == []  # a member sees their own only
    lead = principal(AccountRole.LEAD, "pack", "lena")
    assert [r["id"] for r in requests.outbox(org, lead, "pack")] == [a["id"]]


def test_clocks_follow_the_agreement_in_force(vc: Valuechain, tmp_path: Path) -> None:
    """With the example bundle and its agreements: pack → ship is agreed on the
    warehouse calendar (Amsterdam, Mon–Fri 06:00–22:00) with 2 h / 16 h targets."""
    import shutil

    from valuechain.services.bundle import import_bundle

    root = Path(__file__).resolve().parents[1] / "examples"
    bundle = tmp_path / "bundle"
    shutil.copytree(root / "bundle", bundle)
    for name in ("calendars.csv", "agreements.csv"):
        shutil.copy(root / "agree" / name, bundle / name)
    import_bundle(vc, bundle)
    from valuechain.services.agreement import terms as agreement_terms

    assert agreement_terms(vc)[("pack", "ship")].resolution_hours == 16
    ship = Asker(None, "cli:test")
    # Monday 05:00 UTC = 06:00 in Amsterdam: the warehouse day has begun.
    monday = datetime(2026, 11, 23, 5, tzinfo=UTC)
    r = requests.new_request(
        vc, ship, customer="ship", provider="pack", title="Pallets", now=monday
    )
    r = requests.get(vc, ship, r["id"], now=monday + hours(3))
    assert r["response_target_hours"] == 2 and r["resolution_target_hours"] == 16
    assert r["response_hours"] == 3.0 and r["response_met"] is False and r["breached"] is True
    # The default calendar (09:00-17:00 UTC) would have counted nothing before 09:00.
    doc = requests.sla(vc, now=monday + hours(3))
    row = next(x for x in doc["relationships"] if x["provider"] == "pack")
    assert row["first_response_met_pct"] == 0.0


def test_a_change_based_on_a_stale_read_is_refused_not_merged(org: Valuechain) -> None:
    """Two people answer at once: the second change was read before the first one
    landed, so it is refused (nothing half-applied) and the first one stands."""
    from valuechain.store import request as store

    r = file(org)
    with org.engine.connect() as conn:
        stale = store.get_request(conn, org.org_id, r["id"])
    assert stale is not None
    requests.change(org, PROVIDER, r["id"], Verb.ACK, now=MONDAY + hours(1))
    with org.engine.begin() as conn:
        applied = store.update_request(
            conn, org.org_id, r["id"], stale["events"], {"state": "resolved"}
        )
    assert applied is False
    after = requests.get(org, CLI, r["id"])
    assert after["state"] == "acknowledged" and len(after["timeline"]) == 2
