"""Erasing a person who was invited to a survey, on both databases: their invitations
are exported (never whether they answered), erasure cuts the invitations' link to
them, and no survey number changes: response rates, responses and the count of
invitations stay as they were; the erased person is neither reminded nor invited again."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from tests.test_campaign import PACKERS, full_answers, mine, org, running, tokens_in
from valuechain import Valuechain
from valuechain.services import campaign, person
from valuechain.services.audit import Actor
from valuechain.store.campaign import INVITATIONS, SEALED

__all__ = ["org", "running"]  # the fixtures, imported for their use below

ACTOR = Actor(None, "test", None)


def survey_state(vc: Valuechain) -> dict[str, Any]:
    with vc.engine.connect() as conn:
        invitations = conn.execute(
            select(func.count()).select_from(INVITATIONS).where(INVITATIONS.c.org_id == vc.org_id)
        ).scalar_one()
        sealed = sorted(conn.execute(mine(vc, SEALED, SEALED.c.payload)).scalars())
    return {"status": campaign.status(vc, "c1"), "invitations": invitations, "sealed": sealed}


def test_erasure_cuts_invitations_and_changes_no_survey_number(
    running: tuple[Valuechain, Any],
) -> None:
    vc, inbox = running
    # p-pack0 answers; p-pack1 does not.
    campaign.submit(vc, tokens_in(inbox, PACKERS[0])[0], full_answers())
    exported = person.export_person(vc, "p-pack0", ACTOR)
    (invitation,) = exported["invitations"]
    assert (invitation["campaign_id"], invitation["provider_id"]) == ("c1", "make")
    assert "spent" not in json.dumps(exported["invitations"])
    before = survey_state(vc)

    for key in ("p-pack0", "p-pack1"):
        found = person.erase_person(vc, key, ACTOR)
        assert found["changed"]["invitations"] == 1
    with vc.engine.connect() as conn:
        linked = conn.execute(
            mine(vc, INVITATIONS, INVITATIONS.c.person_id).where(
                INVITATIONS.c.person_id.in_(["p-pack0", "p-pack1"])
            )
        ).all()
    assert linked == []
    assert person.export_person(vc, "p-pack1", ACTOR)["invitations"] == []
    assert survey_state(vc) == before

    # Not invited again (which would change the rates), not reminded.
    assert campaign.invite(vc, "c1") == 0
    mailed = len(inbox.messages)
    assert campaign.send_reminders(vc, "c1") == 8  # 10 invited, 1 answered, 1 erased
    erased = [r for rcpts, _ in inbox.messages[mailed:] for r in rcpts if "erased" in r]
    assert erased == []
    assert survey_state(vc)["status"] == before["status"]
