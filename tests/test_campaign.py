"""Campaigns on both databases: default relationships, single-use invitations mailed
over a real SMTP server, anonymous storage, one response per link (also under
concurrent submits), idempotent API submits, reminders to non-responders only, and
response rates that never show a small group."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import inspect, select

from tests.builders import chain_map
from valuechain import Valuechain
from valuechain.domain.campaign import (
    RATE_BAND,
    CampaignState,
    band_edges,
    rate_band,
    token_hash,
)
from valuechain.domain.instrument import INTERNAL_SERVQUAL, RECOMMEND, SERVICE_FACTORS
from valuechain.domain.person import Person, Role
from valuechain.services import campaign, idempotency, measure
from valuechain.services.campaign import (
    InvalidAnswers,
    LinkSpent,
    LinkUnknown,
    Submission,
)
from valuechain.services.errors import NotFound, ValuechainError
from valuechain.services.idempotency import KeyReused
from valuechain.store.campaign import INVITATIONS, SEALED, TOKENS
from valuechain.store.measure import ANSWERS, COMMENTS, RESPONSES

LINK = re.compile(r"/s/([A-Za-z0-9_-]+)")
PACKERS = [f"pack{i}@example.org" for i in range(7)]
CONTROLLERS = [f"ctrl{i}@example.org" for i in range(3)]


def people() -> list[Person]:
    found = [
        Person(f"p-pack{i}", f"Packer {i}", email, "pack", Role.MEMBER)
        for i, email in enumerate(PACKERS)
    ]
    found += [
        Person(f"p-ctrl{i}", f"Controller {i}", email, "ctrl", Role.MEMBER)
        for i, email in enumerate(CONTROLLERS)
    ]
    return found


@pytest.fixture
def org(vc: Valuechain) -> Valuechain:
    org_map = chain_map()
    org_map.people = people()
    vc.write_map(org_map)
    return vc


def mine(vc: Valuechain, table: Any, *columns: Any) -> Any:
    """SELECT ``columns`` (default: all) of ``table`` for this test's organisation only."""
    return select(*(columns or (table,))).where(table.c.org_id == vc.org_id)


def tokens_in(inbox: Any, address: str) -> list[str]:
    return [LINK.findall(m.get_content())[0] for m in inbox.to(address)]


def full_answers(instrument: Any = SERVICE_FACTORS, score: int = 5) -> Submission:
    return Submission(
        scores={
            i.key: (float(score), float(score + 1) if i.expectation else None)
            for i in instrument.items
            if i.scale is not None
        },
        comment="Quick and friendly.",
    )


@pytest.fixture
def running(org: Valuechain, smtp_server: Any) -> Iterator[tuple[Valuechain, Any]]:
    """A service_factors campaign make → pack and make → ctrl, invitations sent."""
    campaign.create_campaign(
        org,
        "c1",
        name="Spring survey",
        instrument="service_factors",
        relationships=[("make", "pack"), ("make", "ctrl")],
    )
    assert campaign.invite(org, "c1", base="https://vc.example.org") == 10
    yield org, smtp_server


def test_default_relationships_are_every_internal_customer_of_every_provider(
    org: Valuechain,
) -> None:
    assert campaign.default_relationships(org) == [
        ("audit", "ctrl"),
        ("ctrl", "audit"),
        ("make", "ctrl"),
        ("make", "pack"),
        ("pack", "ship"),
        ("plan", "make"),
        ("ship", "plan"),
    ]
    made = campaign.create_campaign(org, "all", instrument="pulse")
    assert made["state"] == "draft" and made["relationships"] == 7
    assert campaign.list_campaigns(org)[0]["id"] == "all"


def test_create_checks_its_input(org: Valuechain) -> None:
    with pytest.raises(ValuechainError, match="no instrument"):
        campaign.create_campaign(org, "x", instrument="nope")
    with pytest.raises(NotFound, match="ghost"):
        campaign.create_campaign(org, "x", instrument="pulse", relationships=[("ghost", "pack")])
    with pytest.raises(ValuechainError, match="before it opens"):
        campaign.create_campaign(
            org, "x", instrument="pulse", opens_on=date(2026, 5, 2), closes_on=date(2026, 5, 1)
        )
    campaign.create_campaign(org, "x", instrument="pulse")
    with pytest.raises(ValuechainError, match="already a campaign"):
        campaign.create_campaign(org, "x", instrument="pulse")


def test_invitations_are_mailed_once_per_person_and_only_hashes_are_stored(
    running: tuple[Valuechain, Any],
) -> None:
    vc, inbox = running
    for address in PACKERS + CONTROLLERS:
        (message,) = inbox.to(address)
        assert message["From"] == "Valuechain <valuechain@example.org>"
        assert "Machining" in message["Subject"]
        assert "https://vc.example.org/s/" in message.get_content()
    token = tokens_in(inbox, PACKERS[0])[0]
    assert len(token) >= 43  # 256 bits, URL-safe base64
    with vc.engine.connect() as conn:
        hashes = set(conn.execute(mine(vc, TOKENS, TOKENS.c.token_hash)).scalars())
        assert token_hash(token) in hashes and token not in hashes
        assert (
            conn.execute(mine(vc, INVITATIONS, INVITATIONS.c.spent)).scalars().all() == [False] * 10
        )
    assert campaign.list_campaigns(vc)[0]["state"] == "open"
    # Inviting again only reaches people who have no invitation yet.
    assert campaign.invite(vc, "c1") == 0


def test_a_response_is_stored_without_its_respondent(running: tuple[Valuechain, Any]) -> None:
    vc, inbox = running
    token = tokens_in(inbox, PACKERS[0])[0]
    form = campaign.open_link(vc, token)
    assert (form.provider_name, form.customer_name) == ("Machining", "Packing & <Boxes>")
    result = campaign.submit(vc, token, full_answers())
    assert result == {
        "status": "stored",
        "campaign": "c1",
        "provider": "make",
        "submitted_on": campaign.today().isoformat(),
    }
    # Sealed while the campaign is open: no score can move by one answer.
    with vc.engine.connect() as conn:
        assert conn.execute(mine(vc, RESPONSES)).all() == []
        assert len(conn.execute(mine(vc, SEALED, SEALED.c.id)).all()) == 1
    assert measure.scores(vc, measure.By.PROVIDER, campaign="c1")["cells"] == []
    campaign.close_campaign(vc, "c1")
    with vc.engine.connect() as conn:
        assert conn.execute(mine(vc, SEALED)).all() == []
        columns = {c["name"] for c in inspect(conn).get_columns("responses")}
        assert columns == {
            "org_id",
            "id",
            "campaign_id",
            "instrument",
            "rater_id",
            "rated_id",
            "submitted_on",
            # Bookkeeping of the measure summaries: sealed responses arrive together
            # when the campaign closes, so it tells nothing about one respondent.
            "summarised",
        }
        (row,) = conn.execute(mine(vc, RESPONSES)).all()
        assert (row.campaign_id, row.rater_id, row.rated_id) == ("c1", "pack", "make")
        invitation_ids = set(conn.execute(mine(vc, INVITATIONS, INVITATIONS.c.id)).scalars())
        assert row.id not in invitation_ids
        answers = conn.execute(mine(vc, ANSWERS, ANSWERS.c.item, ANSWERS.c.score)).all()
        assert len(answers) == len(SERVICE_FACTORS.items)
        assert conn.execute(mine(vc, COMMENTS, COMMENTS.c.text)).scalars().all() == [
            "Quick and friendly."
        ]
        # The invitation says it is spent, and nothing else: no date, no response.
        spent = conn.execute(mine(vc, INVITATIONS, INVITATIONS.c.spent)).scalars().all()
        assert sorted(spent) == [False] * 9 + [True]
        columns = {c["name"] for c in inspect(conn).get_columns("invitations")}
        assert not {"spent_on", "response_id", "submitted_on"} & columns


def test_a_link_works_once(running: tuple[Valuechain, Any]) -> None:
    vc, inbox = running
    token = tokens_in(inbox, PACKERS[1])[0]
    campaign.submit(vc, token, full_answers())
    with pytest.raises(LinkSpent):
        campaign.submit(vc, token, full_answers(score=2))
    with pytest.raises(LinkSpent):
        campaign.open_link(vc, token)
    with pytest.raises(LinkUnknown):
        campaign.open_link(vc, "not-a-token")
    with vc.engine.connect() as conn:
        assert len(conn.execute(mine(vc, SEALED, SEALED.c.id)).all()) == 1


def survey_rows(vc: Valuechain) -> tuple[int, int, int]:
    """Sealed responses, published responses, spent invitations of this organisation."""
    with vc.engine.connect() as conn:
        return (
            len(conn.execute(mine(vc, SEALED, SEALED.c.id)).all()),
            len(conn.execute(mine(vc, RESPONSES, RESPONSES.c.id)).all()),
            len(
                conn.execute(
                    mine(vc, INVITATIONS, INVITATIONS.c.id).where(INVITATIONS.c.spent)
                ).all()
            ),
        )


def test_no_answer_is_taken_after_the_campaign_closes(running: tuple[Valuechain, Any]) -> None:
    """Answers after close would move published numbers by one respondent: the link
    refuses them (410 on the web and the API) and nothing is stored or spent."""
    vc, inbox = running
    for i in range(5):
        campaign.submit(vc, tokens_in(inbox, PACKERS[i])[0], full_answers())
    campaign.close_campaign(vc, "c1")
    assert survey_rows(vc) == (0, 5, 5)
    late = tokens_in(inbox, PACKERS[5])[0]
    with pytest.raises(LinkSpent, match="not open for answers"):
        campaign.open_link(vc, late)
    with pytest.raises(LinkSpent, match="not open for answers"):
        campaign.submit(vc, late, full_answers(score=1))
    assert survey_rows(vc) == (0, 5, 5)


def test_an_answer_racing_the_close_is_refused_not_sealed_forever(
    running: tuple[Valuechain, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The link was opened while the campaign was open, the campaign closed before
    the answer was stored: the store refuses it (the campaign's row is locked
    against the close), rather than sealing it into a closed campaign where it would
    never be published although the respondent was thanked."""
    vc, inbox = running
    token = tokens_in(inbox, PACKERS[6])[0]
    opened = campaign.open_link(vc, token)
    campaign.close_campaign(vc, "c1")
    monkeypatch.setattr(campaign, "open_link", lambda _vc, _token: opened)
    with pytest.raises(LinkSpent, match="not open for answers"):
        campaign.submit(vc, token, full_answers())
    assert survey_rows(vc) == (0, 0, 0)


def test_concurrent_submits_of_one_link_store_once(running: tuple[Valuechain, Any]) -> None:
    vc, inbox = running
    token = tokens_in(inbox, PACKERS[2])[0]
    threads = 8
    barrier = threading.Barrier(threads)
    outcomes: list[str] = []
    lock = threading.Lock()

    def answer(score: int) -> None:
        barrier.wait()
        try:
            campaign.submit(vc, token, full_answers(score=score))
            outcome = "stored"
        except LinkSpent:
            outcome = "spent"
        with lock:
            outcomes.append(outcome)

    workers = [threading.Thread(target=answer, args=(1 + i % 7,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sorted(outcomes) == ["spent"] * (threads - 1) + ["stored"]
    with vc.engine.connect() as conn:
        assert len(conn.execute(mine(vc, SEALED, SEALED.c.id)).all()) == 1
    campaign.close_campaign(vc, "c1")
    with vc.engine.connect() as conn:
        assert len(conn.execute(mine(vc, RESPONSES, RESPONSES.c.id)).all()) == 1
        assert len(conn.execute(mine(vc, ANSWERS, ANSWERS.c.item)).all()) == len(
            SERVICE_FACTORS.items
        )


def survey_once(vc: Valuechain, token: str, submission: Any, key: str) -> dict[str, Any]:
    """A survey submit under the one idempotency mechanism, scoped to the link."""
    return idempotency.run_once(
        vc,
        scope=idempotency.link_scope(token),
        key=key,
        command="survey",
        arguments={"answers": repr(submission)},
        change=lambda: campaign.submit(vc, token, submission),
        secret=token.encode(),
    )


def test_concurrent_submits_with_one_idempotency_key_agree(
    running: tuple[Valuechain, Any],
) -> None:
    vc, inbox = running
    token = tokens_in(inbox, PACKERS[3])[0]
    barrier = threading.Barrier(4)
    results: list[dict[str, Any]] = []

    def answer() -> None:
        barrier.wait()
        results.append(survey_once(vc, token, full_answers(), "k-1"))

    workers = [threading.Thread(target=answer) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(results) == 4
    assert all(r == results[0] for r in results)
    with vc.engine.connect() as conn:
        assert len(conn.execute(mine(vc, SEALED, SEALED.c.id)).all()) == 1


def test_idempotency_key_replays_and_refuses_a_changed_body(
    running: tuple[Valuechain, Any],
) -> None:
    vc, inbox = running
    token = tokens_in(inbox, PACKERS[4])[0]
    first = survey_once(vc, token, full_answers(), "abc")
    again = survey_once(vc, token, full_answers(), "abc")
    assert again == first and first["status"] == "stored"
    with pytest.raises(KeyReused):
        survey_once(vc, token, full_answers(score=3), "abc")
    with pytest.raises(LinkSpent):
        survey_once(vc, token, full_answers(), "another")
    with vc.engine.connect() as conn:
        assert len(conn.execute(mine(vc, SEALED, SEALED.c.id)).all()) == 1


def test_invalid_answers_leave_the_link_unspent(running: tuple[Valuechain, Any]) -> None:
    vc, inbox = running
    token = tokens_in(inbox, PACKERS[5])[0]
    partial = full_answers()
    del partial.scores["courtesy_1"]
    partial.scores["overall_1"] = (9.0, None)  # off the 1–7 scale
    with pytest.raises(InvalidAnswers) as caught:
        campaign.submit(vc, token, partial)
    assert caught.value.problems == {
        "p-courtesy_1": "Choose an answer from 1 to 7.",
        "p-overall_1": "Choose a whole number from 1 to 7.",
    }
    assert campaign.open_link(vc, token).provider_id == "make"
    campaign.submit(vc, token, full_answers())


def test_servqual_answers_need_expectations_and_a_valid_importance_split(
    org: Valuechain, smtp_server: Any
) -> None:
    campaign.create_campaign(
        org, "sq", instrument="internal_servqual", relationships=[("make", "ctrl")]
    )
    assert campaign.invite(org, "sq") == 3
    token = tokens_in(smtp_server, CONTROLLERS[0])[0]
    answers = full_answers(INTERNAL_SERVQUAL)
    answers.scores["empathy_1"] = (4.0, None)
    answers.importance = {d.key: 10.0 for d in INTERNAL_SERVQUAL.drivers}
    with pytest.raises(InvalidAnswers) as caught:
        campaign.submit(org, token, answers)
    assert caught.value.problems == {
        "e-empathy_1": "Choose what you expect from 1 to 7.",
        "importance": "Points must add up to 100, got 50.",
    }
    answers = full_answers(INTERNAL_SERVQUAL)
    answers.importance = {"tangibles": 10, "reliability": 40, "responsiveness": 20}
    answers.importance |= {"assurance": 10, "empathy": 20}
    campaign.submit(org, token, answers)
    campaign.close_campaign(org, "sq")
    from valuechain.store.campaign import IMPORTANCE

    with org.engine.connect() as conn:
        points = dict(
            conn.execute(mine(org, IMPORTANCE, IMPORTANCE.c.dimension, IMPORTANCE.c.points)).all()
        )
        gaps = (
            conn.execute(mine(org, ANSWERS, ANSWERS.c.score - ANSWERS.c.expectation))
            .scalars()
            .all()
        )
    assert points["reliability"] == 40 and sum(points.values()) == 100
    assert set(gaps) == {-1.0}


def test_reminders_go_to_non_responders_only_with_a_fresh_link(
    running: tuple[Valuechain, Any],
) -> None:
    vc, inbox = running
    answered = tokens_in(inbox, PACKERS[0])[0]
    campaign.submit(vc, answered, full_answers())
    assert campaign.send_reminders(vc, "c1", base="https://vc.example.org") == 9
    assert len(inbox.to(PACKERS[0])) == 1  # the invitation only
    first, fresh = tokens_in(inbox, PACKERS[1])
    assert first != fresh and inbox.to(PACKERS[1])[1]["Subject"].startswith("Reminder: ")
    # Either link of an invitation spends it; then the other is dead too.
    campaign.submit(vc, fresh, full_answers())
    with pytest.raises(LinkSpent):
        campaign.open_link(vc, first)
    assert campaign.send_reminders(vc, "c1") == 8
    # Every invitation holds a token per run (a spent one a dummy), so the count of
    # tokens does not say when it was answered; no reminder date or count is kept.
    with vc.engine.connect() as conn:
        held = conn.execute(mine(vc, TOKENS, TOKENS.c.invitation_id)).scalars().all()
    assert sorted(Counter(held).values()) == [3] * 10
    assert not {"reminders", "reminded_on"} & {c.name for c in INVITATIONS.columns}


def test_closing_stops_the_links_and_reminders(running: tuple[Valuechain, Any]) -> None:
    vc, inbox = running
    token = tokens_in(inbox, CONTROLLERS[0])[0]
    assert campaign.close_campaign(vc, "c1")["state"] == "closed"
    with pytest.raises(LinkSpent, match="not open"):
        campaign.open_link(vc, token)
    with pytest.raises(ValuechainError, match="closed"):
        campaign.send_reminders(vc, "c1")
    with pytest.raises(ValuechainError, match="already closed"):
        campaign.close_campaign(vc, "c1")
    # Never opened again: its published numbers could otherwise move by a few answers.
    with pytest.raises(ValuechainError, match="is closed"):
        campaign.invite(vc, "c1")


def test_a_campaign_past_its_close_date_takes_no_answers(org: Valuechain, smtp_server: Any) -> None:
    yesterday = campaign.today() - timedelta(days=1)
    campaign.create_campaign(
        org, "late", instrument="recommend", relationships=[("make", "ctrl")], closes_on=yesterday
    )
    campaign.invite(org, "late")
    token = tokens_in(smtp_server, CONTROLLERS[1])[0]
    with pytest.raises(LinkSpent):
        campaign.submit(org, token, full_answers(RECOMMEND))


def test_response_rates_are_banded_and_small_groups_suppressed(
    running: tuple[Valuechain, Any],
) -> None:
    vc, inbox = running
    for address in PACKERS[:4]:
        campaign.submit(vc, tokens_in(inbox, address)[0], full_answers())
    for address in CONTROLLERS[:3]:
        campaign.submit(vc, tokens_in(inbox, address)[0], full_answers())
    found = campaign.status(vc, "c1")
    groups = {g["customer"]: g for g in found["groups"]}
    # Threshold 5: a group needs 11 invited (5 on each side of an edge) for any band;
    # 7 and 3 show nothing, and so neither do the provider and the total (7 of 10).
    assert groups["pack"]["suppressed"] and groups["pack"]["rate"] == "suppressed"
    assert groups["pack"]["invited"] == 7 and groups["pack"]["rate_low"] is None
    assert groups["ctrl"]["suppressed"] and found["total"]["suppressed"]
    assert found["providers"][0]["suppressed"]
    measure.set_threshold(vc, 3)
    found = campaign.status(vc, "c1")
    groups = {g["customer"]: g for g in found["groups"]}
    # Threshold 3: 7 invited have one edge, at 4 (50%); 3 invited none. The total is
    # what the two bands imply (4 to 10 of 10), never its own count.
    assert groups["pack"]["rate"] == "50–100%" and groups["ctrl"]["suppressed"]
    assert found["total"] == {
        "invited": 10,
        "rate_low": 0.4,
        "rate_high": 1.0,
        "rate": "40–100%",
        "suppressed": False,
    }
    assert "responded" not in str(found)
    mine = campaign.status(vc, "c1", unit="ctrl")
    assert [g["customer"] for g in mine["groups"]] == ["ctrl"]
    assert [c["id"] for c in campaign.campaigns_of_unit(vc, "pack")] == ["c1"]
    assert campaign.campaigns_of_unit(vc, "audit") == []


def test_answers_reach_the_protected_scores(running: tuple[Valuechain, Any]) -> None:
    vc, inbox = running
    # One answers 6 and four 5: five identical answers would tell each one's answer,
    # and such a cell is hidden (docs/measure.md, unanimous cells).
    for k, address in enumerate(PACKERS[:5]):
        campaign.submit(vc, tokens_in(inbox, address)[0], full_answers(score=5 if k else 6))
    campaign.close_campaign(vc, "c1")
    cells = measure.scores(vc, measure.By.RELATIONSHIP, campaign="c1")["cells"]
    pack = next(c for c in cells if c["customer"] == "pack")
    assert pack["n"] == 5 and pack["mean"] == pytest.approx(5.2)


@given(
    invited=st.integers(0, 500),
    share=st.floats(0, 1),
    threshold=st.integers(3, 10),
)
def test_a_band_holds_the_true_rate_and_never_a_small_group(
    invited: int, share: float, threshold: int
) -> None:
    responded = int(invited * share)
    band = rate_band(invited, responded, threshold)
    if band.suppressed:
        assert band.low is None and band.high is None
        assert invited < 2 * threshold + 1 or not band_edges(invited, threshold)
        return
    assert band.low is not None and band.high is not None
    assert band.low <= responded / invited <= band.high
    assert round(band.low * 100) % RATE_BAND == 0 and round(band.high * 100) % RATE_BAND == 0
    # The counts the band admits: a band that admits a count below the threshold
    # also admits the threshold; likewise at the top; never a single count.
    admitted = [k for k in range(invited + 1) if rate_band(invited, k, threshold) == band]
    assert admitted == list(range(band.fewest, band.most + 1)) and len(admitted) >= 2
    if band.fewest < threshold:
        assert band.most >= threshold
    if invited - band.most < threshold:
        assert invited - band.fewest >= threshold


def test_state_moves_forward_only() -> None:
    from valuechain.domain.campaign import can_move

    assert can_move(CampaignState.DRAFT, CampaignState.OPEN)
    assert can_move(CampaignState.OPEN, CampaignState.CLOSED)
    assert not can_move(CampaignState.CLOSED, CampaignState.OPEN)
    assert not can_move(CampaignState.OPEN, CampaignState.DRAFT)
    with pytest.raises(ValueError):
        rate_band(3, 4, 5)


def test_replacing_the_organisation_removes_its_campaigns(
    running: tuple[Valuechain, Any],
) -> None:
    vc, inbox = running
    campaign.submit(vc, tokens_in(inbox, PACKERS[0])[0], full_answers())
    org_map = chain_map()
    org_map.people = people()
    vc.write_map(org_map, replace=True)
    assert campaign.list_campaigns(vc) == []
    with vc.engine.connect() as conn:
        for table in (INVITATIONS, TOKENS, RESPONSES, SEALED):
            assert conn.execute(mine(vc, table)).all() == []
    with pytest.raises(LinkUnknown):
        campaign.open_link(vc, tokens_in(inbox, PACKERS[1])[0])
