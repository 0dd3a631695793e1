"""The request queue on both databases: filters (open only by default, state,
priority, customer, category, words, assignee, at risk and breached on the business
calendar at the 75 % edge), paging, the assignee's rules, and the conversation with
@mentions that notify the people mentioned; the catalogue, and the pages' filters in
their URL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.builders import chain_map
from tests.signin import form_token, make_account, sign_in
from valuechain import Valuechain
from valuechain.domain.access import Principal
from valuechain.domain.account import AccountRole
from valuechain.domain.calendar import calendar
from valuechain.domain.person import Person, Role
from valuechain.domain.request import Assignment, ClockState, Priority, RequestState, Verb
from valuechain.services import request as requests
from valuechain.services.errors import NotFound
from valuechain.services.request import Asker, InvalidRequest, NotAllowed, QueueFilter, Terms
from valuechain.store.notification import OUTBOX
from valuechain.web.app import create_app

# Monday 23 November 2026, 09:00 UTC.
MONDAY = datetime(2026, 11, 23, 9, tzinfo=UTC)
PEOPLE = [
    Person("p-max", "Max Weber", "max@example.org", "make", Role.MEMBER),
    Person("p-mia", "Mia Weber", "mia@example.org", "make", Role.MEMBER),
    Person("p-lea", "Lea Lead", "lea@example.org", "make", Role.LEAD),
    Person("p-rita", "Rita Ask", "rita@example.org", "pack", Role.MEMBER),
    Person("p-sam", "Sam Else", "sam@example.org", "audit", Role.MEMBER),
]


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


@pytest.fixture
def org(vc: Valuechain) -> Iterator[dict[str, Asker]]:
    """The chain map with people, and accounts linked to them: Max and Mia of the
    provider ``make``, Rita of the customer ``pack``, Sam of ``audit`` (neither side)."""
    vc.write_map(replace(chain_map(), people=PEOPLE))
    askers: dict[str, Asker] = {}
    for person in PEOPLE:
        role = AccountRole.LEAD if person.role is Role.LEAD else AccountRole.MEMBER
        account = make_account(vc, person.email, role, person_id=person.id)
        p = Principal(account.id, person.email, person.name, role, person.unit_id)
        askers[person.id] = Asker.of(p)
    yield askers


def file(vc: Valuechain, asker: Asker, at: datetime = MONDAY, **kw: object) -> str:
    args: dict[str, object] = {"customer": "pack", "provider": "make", "title": "Parts"}
    args.update(kw)
    found = requests.new_request(vc, asker, now=at, **args)  # type: ignore[arg-type]
    return found["id"]


def ids(page: requests.Page) -> list[str]:
    return [r["id"] for r in page.rows]


def test_filters_run_in_the_query_and_default_to_open_requests(
    vc: Valuechain, org: dict[str, Asker]
) -> None:
    rita, max_ = org["p-rita"], org["p-max"]
    urgent = file(vc, rita, title="Urgent drawing", priority="urgent", category="drawings")
    later = file(vc, rita, MONDAY + hours(1), title="Fixture 12%_x", body="the old jig")
    done = file(vc, rita, MONDAY + hours(2), title="Done already")
    requests.change(vc, max_, done, Verb.RESOLVE, now=MONDAY + hours(3))
    other = file(vc, org["p-sam"], MONDAY + hours(2.5), customer="audit", title="Audit asks")
    admin = Principal("admin", "a@example.org", "Admin", AccountRole.ADMIN, None)
    member = max_.principal
    assert member is not None
    at = MONDAY + hours(4)

    def inbox(**kw: object) -> list[str]:
        wanted = QueueFilter(**kw)  # type: ignore[arg-type]
        return ids(requests.queue(vc, member, "inbox", "make", wanted, now=at))

    assert inbox() == [other, later, urgent]  # newest first, open only
    assert inbox(open_only=False) == [other, done, later, urgent]
    assert inbox(open_only=False, state=RequestState.RESOLVED) == [done]
    assert inbox(priority=Priority.URGENT) == [urgent]
    assert inbox(category="drawings") == [urgent]
    assert inbox(customer="audit") == [other]
    # Words in the title or the description, any case; % and _ are plain characters.
    assert inbox(text="JIG") == [later]
    assert inbox(text="12%_") == [later]
    assert inbox(text="2%") == [later]
    assert inbox(text="zzz") == []
    # The outbox of pack (its lead or admin sees all; Rita, a member, her own).
    assert ids(
        requests.queue(vc, admin, "outbox", "pack", QueueFilter(open_only=False), now=at)
    ) == [
        done,
        later,
        urgent,
    ]
    assert ids(requests.queue(vc, admin, "all", None, QueueFilter(), now=at)) == [
        other,
        later,
        urgent,
    ]
    rita_p = rita.principal
    assert rita_p is not None
    assert ids(requests.queue(vc, rita_p, "mine", None, QueueFilter(), now=at)) == [later, urgent]
    # Pages: one at a time, and whether another follows.
    first = requests.queue(vc, admin, "all", None, QueueFilter(), limit=2, now=at)
    second = requests.queue(vc, admin, "all", None, QueueFilter(), limit=2, offset=2, now=at)
    assert (ids(first), first.more) == ([other, later], True)
    assert (ids(second), second.more) == ([urgent], False)


def test_the_assignee_is_a_person_of_the_provider_set_by_its_side(
    vc: Valuechain, org: dict[str, Asker]
) -> None:
    rita, max_, sam = org["p-rita"], org["p-max"], org["p-sam"]
    first = file(vc, rita)
    second = file(vc, rita, MONDAY + hours(1))
    assert [p["name"] for p in requests.assignable(vc, first)] == [
        "Lea Lead",
        "Max Weber",
        "Mia Weber",
    ]
    r = requests.assign(vc, max_, first, "p-max", now=MONDAY + hours(1))
    assert (r["assignee_id"], r["assignee"]) == ("p-max", "Max Weber")
    assert r["timeline"][-1]["verb"] == "assign"
    assert r["timeline"][-1]["note"] == "assigned to Max Weber"
    # Changed by the lead, to a colleague; then cleared.
    r = requests.assign(vc, org["p-lea"], first, "p-mia", now=MONDAY + hours(2))
    assert r["assignee"] == "Mia Weber"
    with pytest.raises(NotAllowed):
        requests.assign(vc, rita, first, "p-max")  # the customer's side
    with pytest.raises(NotFound):
        requests.assign(vc, sam, first, "p-sam")  # neither side: the id tells nothing
    with pytest.raises(InvalidRequest):
        requests.assign(vc, max_, first, "p-rita")  # not of the provider unit
    member = max_.principal
    assert member is not None
    mia = org["p-mia"].principal
    assert mia is not None

    def inbox(who: Principal, assignment: Assignment) -> list[str]:
        wanted = QueueFilter(assignment=assignment)
        return ids(requests.queue(vc, who, "inbox", "make", wanted, now=MONDAY + hours(3)))

    assert inbox(mia, Assignment.MINE) == [first]
    assert inbox(member, Assignment.MINE) == []
    assert inbox(member, Assignment.UNASSIGNED) == [second]
    listed = requests.queue(vc, member, "inbox", "make", QueueFilter(), now=MONDAY + hours(3))
    assert [r["assignee"] for r in listed.rows] == [None, "Mia Weber"]
    r = requests.assign(vc, max_, first, None, now=MONDAY + hours(4))
    assert r["assignee"] is None and r["timeline"][-1]["note"] == "unassigned"
    assert inbox(member, Assignment.UNASSIGNED) == [second, first]


def test_a_comment_with_mentions_notifies_the_people_it_names(
    vc: Valuechain, org: dict[str, Asker]
) -> None:
    rita, max_ = org["p-rita"], org["p-max"]
    r_id = file(vc, rita, title="Drawing 7")
    r = requests.comment(
        vc, max_, r_id, "Which revision, @Rita Ask? @mia weber can help. @Sam Else", now=MONDAY
    )
    # Sam is of neither unit: a mention of him notifies nobody.
    assert [(c["author"], c["side"]) for c in r["comments"]] == [("Max Weber", "provider")]
    r = requests.comment(vc, rita, r_id, "Rev B, @Max Weber.", now=MONDAY + hours(1))
    assert [c["side"] for c in r["comments"]] == ["provider", "customer"]
    assert r["comments"][1]["body"] == "Rev B, @Max Weber."
    with vc.engine.connect() as conn:
        queued = conn.execute(
            select(OUTBOX.c.person_id, OUTBOX.c.subject, OUTBOX.c.link).where(
                OUTBOX.c.org_id == vc.org_id, OUTBOX.c.kind == "request_mention"
            )
        ).all()
    people = {row.person_id for row in queued}
    assert people == {"p-rita", "p-mia", "p-max"}
    assert {row.link for row in queued} == {f"/requests/{r_id}"}
    assert any("Max Weber mentioned you" in row.subject for row in queued)
    rita_p = rita.principal
    assert rita_p is not None
    seen = requests.mentions(vc, rita_p)
    assert [m["link"] for m in seen] == [f"/requests/{r_id}"]
    with pytest.raises(NotFound):
        requests.comment(vc, org["p-sam"], r_id, "let me in")
    with pytest.raises(InvalidRequest):
        requests.comment(vc, rita, r_id, "   ")


@pytest.mark.parametrize(
    ("minutes", "clock"),
    [(269, ClockState.ON_TRACK), (270, ClockState.AT_RISK), (360, ClockState.AT_RISK),
     (361, ClockState.BREACHED)],
)  # fmt: skip
def test_clock_states_at_the_75_percent_edge_on_the_business_calendar(
    vc: Valuechain, org: dict[str, Asker], monkeypatch: pytest.MonkeyPatch, minutes: int,
    clock: ClockState,
) -> None:  # fmt: skip
    # Amsterdam 08:00-12:00 and 13:00-17:00; resolution within 6 h: at risk from 4.5 h.
    cal = calendar("nl", "Europe/Amsterdam", "mon-fri 08:00-12:00 13:00-17:00")
    terms = {("make", "pack"): Terms(cal, response_hours=None, resolution_hours=6)}
    monkeypatch.setattr(requests, "terms_of", lambda vc: terms)
    rita, max_ = org["p-rita"], org["p-max"]
    friday = datetime(2026, 11, 27, 15, tzinfo=UTC)  # 16:00 in Amsterdam: 1 h that day
    r_id = file(vc, rita, at=friday)
    # Filed without a target elsewhere: never at risk, never breached.
    file(vc, org["p-sam"], at=friday, customer="audit")
    # Monday from 08:00 local (07:00 UTC); lunch 12-13 local does not count.
    business_left = minutes - 60
    wall = business_left if business_left <= 240 else business_left + 60
    now = datetime(2026, 11, 30, 7, tzinfo=UTC) + timedelta(minutes=wall)
    found = requests.get(vc, rita, r_id, now=now)
    assert found["resolution_hours"] == round(minutes / 60, 2)
    assert found["clock"] == clock
    member = max_.principal
    assert member is not None

    def inbox(wanted: ClockState) -> list[str]:
        return ids(requests.queue(vc, member, "inbox", "make", QueueFilter(clock=wanted), now=now))

    assert inbox(ClockState.AT_RISK) == ([r_id] if clock is ClockState.AT_RISK else [])
    assert inbox(ClockState.BREACHED) == ([r_id] if clock is ClockState.BREACHED else [])
    # Waiting on the customer pauses the clock: the state stays where it was.
    if clock is ClockState.ON_TRACK:
        requests.change(vc, max_, r_id, Verb.WAIT, now=now)
        paused = requests.get(vc, rita, r_id, now=now + hours(3))
        assert paused["clock"] == ClockState.ON_TRACK and paused["paused"] is True


def test_a_resolved_request_is_met_or_breached_and_no_agreement_has_no_target(
    vc: Valuechain, org: dict[str, Asker], monkeypatch: pytest.MonkeyPatch
) -> None:
    rita, max_ = org["p-rita"], org["p-max"]
    quick = file(vc, rita)
    r = requests.change(vc, max_, quick, Verb.RESOLVE, now=MONDAY + hours(1))
    assert r["clock"] == ClockState.NO_TARGET
    terms = {("make", "pack"): Terms(response_hours=2, resolution_hours=4)}
    monkeypatch.setattr(requests, "terms_of", lambda vc: terms)
    assert requests.get(vc, rita, quick, now=MONDAY + hours(9))["clock"] == ClockState.MET
    slow = file(vc, rita)
    requests.change(vc, max_, slow, Verb.RESOLVE, now=MONDAY + hours(6))
    member = max_.principal
    assert member is not None
    done = QueueFilter(open_only=False, clock=ClockState.BREACHED)
    page = requests.queue(vc, member, "inbox", "make", done, now=MONDAY + hours(9))
    assert ids(page) == [slow]
    with pytest.raises(InvalidRequest):
        requests.queue(vc, member, "inbox", "make", QueueFilter(clock=ClockState.MET))


def test_the_catalogue_lists_what_a_unit_can_ask_with_the_agreed_targets(
    vc: Valuechain, org: dict[str, Asker], monkeypatch: pytest.MonkeyPatch
) -> None:
    terms = {("make", "pack"): Terms(response_hours=2, resolution_hours=16)}
    monkeypatch.setattr(requests, "terms_of", lambda vc: terms)
    entries = requests.catalogue(vc, "pack")
    assert [(e["provider"], e["result"]) for e in entries] == [("make", "parts")]
    assert entries[0]["result_name"] == "Machined parts"
    assert (entries[0]["response_target_hours"], entries[0]["resolution_target_hours"]) == (2, 16)
    # make asks steel (an external supplier) nothing, and plan without an agreement.
    assert [
        (e["provider"], e["response_target_hours"]) for e in requests.catalogue(vc, "make")
    ] == [("plan", None)]


def test_the_pages_filter_by_their_url_and_file_from_the_catalogue(
    vc: Valuechain, org: dict[str, Asker], monkeypatch: pytest.MonkeyPatch
) -> None:
    terms = {("make", "pack"): Terms(response_hours=2, resolution_hours=16)}
    monkeypatch.setattr(requests, "terms_of", lambda vc: terms)
    rita = org["p-rita"]
    file(vc, rita, datetime.now(UTC) - hours(1), title="Open drawing")
    old = file(vc, rita, datetime.now(UTC) - hours(2), title="Finished drawing")
    requests.change(vc, org["p-max"], old, Verb.RESOLVE)
    with TestClient(create_app(vc)) as client:
        sign_in(client, "max@example.org")
        inbox = client.get("/units/make/inbox")
        assert "Open drawing" in inbox.text and "Finished drawing" not in inbox.text
        assert "on track" in inbox.text  # the clock column says it in words
        both = client.get("/units/make/inbox?open=0&q=drawing&customer=Packing+%26+%3CBoxes%3E")
        assert "Open drawing" in both.text and "Finished drawing" in both.text
        # The live refresh fetches the same URL, filters and all.
        assert 'hx-get="/units/make/inbox?open=0&amp;q=drawing' in both.text
        rows = client.get("/units/make/inbox?open=0", headers={"HX-Request": "true"})
        assert rows.text.lstrip().startswith("<tbody") and "Finished drawing" in rows.text
        unknown = client.get("/units/make/inbox?customer=Nowhere")
        assert "No unit is called “Nowhere”" in unknown.text
        assert client.get("/requests/all").status_code == 403  # admins only
    with TestClient(create_app(vc)) as client:
        sign_in(client, "rita@example.org")
        page = client.get("/requests")
        assert 'id="catalogue"' in page.text and "Machined parts" in page.text
        started = client.get("/requests?ask=make&about=parts")
        assert 'value="Machining"' in started.text and 'value="Machined parts: "' in started.text
        answer = client.post(
            "/requests",
            data={"csrf_token": form_token(started.text), "provider": "Machining",
                  "title": "Machined parts: 40 more", "category": "Machined parts"},
            follow_redirects=False,
        )  # fmt: skip
        assert answer.status_code == 303, answer.text
    member = org["p-max"].principal
    assert member is not None
    wanted = QueueFilter(category="Machined parts")
    found = requests.queue(vc, member, "inbox", "make", wanted)
    assert [r["title"] for r in found.rows] == ["Machined parts: 40 more"]
