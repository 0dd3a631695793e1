"""Campaign storage: campaigns, their relationships (groups), single-use invitations,
and spending an invitation atomically with the response it becomes.

The spend runs in the transaction that stores the response (sealed until the campaign
closes, see :func:`seal_response`): it first locks the invitation's group (its
``campaign_groups`` row), so submits of one group take turns (of two concurrent
submits of the same link exactly one finds it unspent; the loser inserts nothing),
then rewrites every invitation of the group in one ``UPDATE`` that sets the owner's
``spent``. Nothing stored says who answered when, or which answer is whose:

- every invitation of the group is rewritten by each spend, so on PostgreSQL they
  all carry the same ``xmin`` and keep their row order (one ``UPDATE`` writes the new
  versions in the order it reads the old); on SQLite the update is in place;
- invitations keep no reminder date or count, and a reminder run gives every
  invitation of the campaign one more token (a dummy for a spent one), so the number
  of tokens does not say when an invitation was spent;
- the sealed responses do follow the submissions in row order (and on PostgreSQL
  each carries its own ``xmin``), but with no order on the people's side there is
  nothing to line them up with; :func:`unseal` moves them into the response tables
  in random order with fresh ids.

A copy of the database therefore shows who has answered (reminders need that), but
no order, id or time that lines them up with the answers.
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table, and_, case, delete, func, insert, or_, select, update

from valuechain.domain.campaign import Campaign, CampaignState, time_order
from valuechain.domain.person import ERASED_DOMAIN
from valuechain.domain.response import Answer, Response
from valuechain.store.measure import ANSWERS, CAMPAIGNS, COMMENTS, IMPORTANCE, RESPONSES
from valuechain.store.organisation import PEOPLE
from valuechain.store.tables import (
    CampaignGroupRow,
    InvitationRow,
    InvitationTokenRow,
    SealedResponseRow,
)

GROUPS: Table = CampaignGroupRow.__table__  # type: ignore[assignment]
INVITATIONS: Table = InvitationRow.__table__  # type: ignore[assignment]
TOKENS: Table = InvitationTokenRow.__table__  # type: ignore[assignment]
SEALED: Table = SealedResponseRow.__table__  # type: ignore[assignment]


# A campaign's own columns, without the answer span only ordering reads (a database
# migrated up to an older revision lacks it).
_COLUMNS = tuple(
    CAMPAIGNS.c[name] for name in ("id", "name", "instrument", "opens_on", "closes_on", "state")
)


def _campaign(row: Any) -> Campaign:
    return Campaign(
        id=row.id,
        name=row.name,
        instrument=row.instrument,
        opens_on=row.opens_on,
        closes_on=row.closes_on,
        state=CampaignState(row.state),
    )


def read_campaign(conn: Connection, org_id: int, campaign_id: str) -> Campaign | None:
    row = conn.execute(
        select(*_COLUMNS).where(CAMPAIGNS.c.org_id == org_id, CAMPAIGNS.c.id == campaign_id)
    ).first()
    return None if row is None else _campaign(row)


def read_campaigns(conn: Connection, org_id: int) -> list[Campaign]:
    """Every campaign, oldest first (``domain.campaign.time_order``)."""
    rows = conn.execute(select(CAMPAIGNS).where(CAMPAIGNS.c.org_id == org_id)).all()
    at = {row.id: row for row in rows}
    order = time_order(
        [r.id for r in rows],
        [r.closes_on for r in rows],
        [r.opens_on for r in rows],
        [r.first_answer_on for r in rows],
        [r.last_answer_on for r in rows],
    )
    return [_campaign(at[c]) for c in order]


def insert_campaign(
    conn: Connection, org_id: int, campaign: Campaign, groups: Iterable[tuple[str, str]]
) -> None:
    """Store a new campaign and the (provider, customer) relationships it covers."""
    conn.execute(
        insert(CAMPAIGNS),
        [
            {
                "org_id": org_id,
                "id": campaign.id,
                "name": campaign.name,
                "instrument": campaign.instrument,
                "opens_on": campaign.opens_on,
                "closes_on": campaign.closes_on,
                "state": campaign.state.value,
            }
        ],
    )
    rows = [
        {"org_id": org_id, "campaign_id": campaign.id, "provider_id": p, "customer_id": c}
        for p, c in sorted(set(groups))
    ]
    if rows:
        conn.execute(insert(GROUPS), rows)


def set_state(
    conn: Connection, org_id: int, campaign_id: str, state: CampaignState, *, was: CampaignState
) -> bool:
    """Move the campaign from ``was`` to ``state``; false when it was not in ``was``."""
    result = conn.execute(
        update(CAMPAIGNS)
        .where(
            CAMPAIGNS.c.org_id == org_id,
            CAMPAIGNS.c.id == campaign_id,
            CAMPAIGNS.c.state == was.value,
        )
        .values(state=state.value)
    )
    return result.rowcount == 1


@dataclass(frozen=True, slots=True)
class Invitee:
    """A person to invite: who, to rate which provider, for which customer unit."""

    person_id: str
    email: str
    name: str
    provider_id: str
    customer_id: str


def uninvited(conn: Connection, org_id: int, campaign_id: str) -> list[Invitee]:
    """Every person of a customer unit of the campaign who has no invitation yet for
    a provider their unit rates (one per person and provider), in one query; never an
    erased person."""
    g, p, i = GROUPS, PEOPLE, INVITATIONS
    stmt = (
        select(p.c.id, p.c.email, p.c.name, g.c.provider_id, g.c.customer_id)
        .select_from(
            g.join(p, and_(p.c.org_id == g.c.org_id, p.c.unit_id == g.c.customer_id)).outerjoin(
                i,
                and_(
                    i.c.org_id == g.c.org_id,
                    i.c.campaign_id == g.c.campaign_id,
                    i.c.provider_id == g.c.provider_id,
                    i.c.person_id == p.c.id,
                ),
            )
        )
        .where(
            g.c.org_id == org_id,
            g.c.campaign_id == campaign_id,
            i.c.id.is_(None),
            # An erased person stays on the map under a pseudonym; inviting them would
            # mail nobody and count one more invitee in the rates.
            p.c.email.not_like(f"%@{ERASED_DOMAIN}"),
        )
        .order_by(g.c.provider_id, g.c.customer_id, p.c.id)
    )
    return [Invitee(*row) for row in conn.execute(stmt)]


def insert_invitations(
    conn: Connection,
    org_id: int,
    campaign_id: str,
    invitees: Sequence[Invitee],
    hashes: Sequence[str],
    today: date,
) -> list[str]:
    """One invitation per invitee with its first token hash; returns their ids."""
    ids = [secrets.token_hex(16) for _ in invitees]
    if not invitees:
        return ids
    conn.execute(
        insert(INVITATIONS),
        [
            {
                "org_id": org_id,
                "id": iid,
                "campaign_id": campaign_id,
                "provider_id": who.provider_id,
                "customer_id": who.customer_id,
                "person_id": who.person_id,
                "invited_on": today,
            }
            for iid, who in zip(ids, invitees, strict=True)
        ],
    )
    add_tokens(conn, org_id, ids, hashes)
    return ids


def add_tokens(
    conn: Connection, org_id: int, invitation_ids: Sequence[str], hashes: Sequence[str]
) -> None:
    """Give each invitation one more token (a reminder's fresh link, or a dummy),
    inserted in invitation id order (random), whatever order they are given in."""
    if invitation_ids:
        pairs = sorted(zip(invitation_ids, hashes, strict=True))
        conn.execute(
            insert(TOKENS),
            [{"org_id": org_id, "token_hash": h, "invitation_id": iid} for iid, h in pairs],
        )


def unspent(conn: Connection, org_id: int, campaign_id: str) -> list[tuple[str, Invitee]]:
    """(invitation id, invitee) of every invitation not spent yet, with the person's
    current email; invitations of people no longer on the map are left out."""
    i, p = INVITATIONS, PEOPLE
    stmt = (
        select(i.c.id, p.c.id, p.c.email, p.c.name, i.c.provider_id, i.c.customer_id)
        .select_from(i.join(p, and_(p.c.org_id == i.c.org_id, p.c.id == i.c.person_id)))
        .where(i.c.org_id == org_id, i.c.campaign_id == campaign_id, i.c.spent.is_(False))
        .order_by(i.c.provider_id, i.c.customer_id, p.c.id)
    )
    return [(row[0], Invitee(*row[1:])) for row in conn.execute(stmt)]


def invitation_ids(conn: Connection, org_id: int, campaign_id: str) -> list[str]:
    """The ids of every invitation of the campaign, spent or not."""
    i = INVITATIONS
    stmt = select(i.c.id).where(i.c.org_id == org_id, i.c.campaign_id == campaign_id)
    return list(conn.execute(stmt).scalars())


@dataclass(frozen=True, slots=True)
class Link:
    """What a token opens: the invitation's campaign and relationship, and whether it
    has been spent. Never the person."""

    campaign_id: str
    provider_id: str
    customer_id: str
    spent: bool


def find_link(conn: Connection, org_id: int, hashed: str) -> Link | None:
    i, t = INVITATIONS, TOKENS
    row = conn.execute(
        select(i.c.campaign_id, i.c.provider_id, i.c.customer_id, i.c.spent)
        .select_from(t.join(i, and_(i.c.org_id == t.c.org_id, i.c.id == t.c.invitation_id)))
        .where(t.c.org_id == org_id, t.c.token_hash == hashed)
    ).first()
    if row is None:
        return None
    return Link(row[0], row[1], row[2], bool(row[3]))


def spend(conn: Connection, org_id: int, hashed: str, link: Link) -> bool:
    """Mark the invitation behind ``hashed`` (of ``link``'s group) spent, if it is not
    yet; true when this call spent it. Must run in the transaction that stores the
    response, as its first statement (on SQLite it takes the write lock there)."""
    g, i = GROUPS, INVITATIONS
    in_group = and_(
        g.c.org_id == org_id,
        g.c.campaign_id == link.campaign_id,
        g.c.provider_id == link.provider_id,
        g.c.customer_id == link.customer_id,
    )
    # The group's lock: submits of one group take turns, so the read below is the
    # latest committed state (PostgreSQL reads afresh per statement after the wait).
    conn.execute(update(g).where(in_group).values(provider_id=g.c.provider_id))
    owner = conn.execute(
        select(i.c.id, i.c.spent)
        .select_from(
            TOKENS.join(i, and_(i.c.org_id == TOKENS.c.org_id, i.c.id == TOKENS.c.invitation_id))
        )
        .where(TOKENS.c.org_id == org_id, TOKENS.c.token_hash == hashed)
    ).first()
    if owner is None or owner.spent:
        return False
    # One statement rewrites the whole group: no row of it moves relative to another
    # and all share one transaction id, so nothing says whose spend came last.
    conn.execute(
        update(i)
        .where(
            i.c.org_id == org_id,
            i.c.campaign_id == link.campaign_id,
            i.c.provider_id == link.provider_id,
            i.c.customer_id == link.customer_id,
        )
        .values(spent=or_(i.c.spent, i.c.id == owner.id))
    )
    return True


def still_answering(conn: Connection, org_id: int, campaign_id: str, today: date) -> bool:
    """Whether the campaign still takes answers, its row share-locked until the
    caller's transaction ends: a close waits for an answer being stored (and then
    publishes it with the others), and an answer waits for a close being committed
    (and is then refused), so no answer is sealed into a closed campaign."""
    row = conn.execute(
        select(*_COLUMNS)
        .where(CAMPAIGNS.c.org_id == org_id, CAMPAIGNS.c.id == campaign_id)
        .with_for_update(read=True)
    ).first()
    return row is not None and _campaign(row).accepts_answers(today)


def insert_response(
    conn: Connection, org_id: int, response: Response, importance: dict[str, float]
) -> None:
    """Store one response (answers, comments, importance points)."""
    conn.execute(
        insert(RESPONSES),
        [
            {
                "org_id": org_id,
                "id": response.id,
                "campaign_id": response.campaign,
                "instrument": response.instrument,
                "rater_id": response.rater_id,
                "rated_id": response.rated_id,
                "submitted_on": response.submitted_on,
            }
        ],
    )
    if response.answers:
        conn.execute(
            insert(ANSWERS),
            [
                {
                    "org_id": org_id,
                    "response_id": response.id,
                    "item": a.item,
                    "dimension": a.dimension,
                    "expectation": a.expectation,
                    "score": a.score,
                }
                for a in response.answers
            ],
        )
    if response.comments:
        conn.execute(
            insert(COMMENTS),
            [
                {"org_id": org_id, "response_id": response.id, "item": item, "text": text}
                for item, text in response.comments
            ],
        )
    if importance:
        conn.execute(
            insert(IMPORTANCE),
            [
                {"org_id": org_id, "response_id": response.id, "dimension": d, "points": v}
                for d, v in sorted(importance.items())
            ],
        )


def _sealed_payload(response: Response, importance: dict[str, float]) -> str:
    return json.dumps(
        {
            "instrument": response.instrument,
            "rater_id": response.rater_id,
            "rated_id": response.rated_id,
            "submitted_on": response.submitted_on.isoformat(),
            "answers": [[a.item, a.dimension, a.score, a.expectation] for a in response.answers],
            "comments": [list(c) for c in response.comments],
            "importance": importance,
        }
    )


def seal_response(
    conn: Connection, org_id: int, response: Response, importance: dict[str, float]
) -> None:
    """Hold a response to an open campaign apart until the campaign closes. Its row
    order follows the submissions; the spent invitations keep none (see the module
    documentation), so the order lines nothing up with people."""
    conn.execute(
        insert(SEALED),
        [
            {
                "org_id": org_id,
                "id": response.id,
                "campaign_id": response.campaign,
                "payload": _sealed_payload(response, importance),
            }
        ],
    )


def unseal(conn: Connection, org_id: int, campaign_id: str) -> int:
    """Move the campaign's sealed responses into the response tables (inside the
    caller's transaction, the one that closes the campaign), in random order and with
    fresh ids; returns how many."""
    payloads = list(
        conn.execute(
            select(SEALED.c.payload).where(
                SEALED.c.org_id == org_id, SEALED.c.campaign_id == campaign_id
            )
        ).scalars()
    )
    random.SystemRandom().shuffle(payloads)
    for raw in payloads:
        data = json.loads(raw)
        response = Response(
            id=secrets.token_hex(16),
            campaign=campaign_id,
            instrument=data["instrument"],
            rater_id=data["rater_id"],
            rated_id=data["rated_id"],
            submitted_on=date.fromisoformat(data["submitted_on"]),
            answers=[Answer(i, d, sc, e) for i, d, sc, e in data["answers"]],
            comments=[(item, text) for item, text in data["comments"]],
        )
        insert_response(conn, org_id, response, data["importance"])
    conn.execute(
        delete(SEALED).where(SEALED.c.org_id == org_id, SEALED.c.campaign_id == campaign_id)
    )
    return len(payloads)


def holds_responses(conn: Connection, org_id: int) -> bool:
    """Whether any response is stored, published or sealed (one indexed row each)."""
    return any(
        conn.execute(select(table.c.id).where(table.c.org_id == org_id).limit(1)).first()
        is not None
        for table in (RESPONSES, SEALED)
    )


def stored_responses(
    conn: Connection, org_id: int, ids: Sequence[str], batch: int = 5_000
) -> dict[str, str]:
    """Which of ``ids`` are stored, published or sealed, with their campaign."""
    found: dict[str, str] = {}
    for table in (RESPONSES, SEALED):
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            rows = conn.execute(
                select(table.c.id, table.c.campaign_id).where(
                    table.c.org_id == org_id, table.c.id.in_(chunk)
                )
            )
            found.update((rid, campaign) for rid, campaign in rows)
    return found


def group_counts(
    conn: Connection, org_id: int, campaign_id: str
) -> list[tuple[str, str, int, int]]:
    """(provider, customer, invited, responded) per group of the campaign, in one
    GROUP BY over the invitations (groups nobody was invited to count 0)."""
    return every_group_count(conn, org_id, campaign_id).get(campaign_id, [])


def every_group_count(
    conn: Connection, org_id: int, campaign_id: str | None = None
) -> dict[str, list[tuple[str, str, int, int]]]:
    """:func:`group_counts` of every campaign (or only ``campaign_id``), by campaign,
    in one GROUP BY."""
    i, g = INVITATIONS, GROUPS
    where = [g.c.org_id == org_id]
    if campaign_id is not None:
        where.append(g.c.campaign_id == campaign_id)
    stmt = (
        select(
            g.c.campaign_id,
            g.c.provider_id,
            g.c.customer_id,
            func.count(i.c.id),
            func.coalesce(func.sum(case((i.c.spent.is_(True), 1), else_=0)), 0),
        )
        .select_from(
            g.outerjoin(
                i,
                and_(
                    i.c.org_id == g.c.org_id,
                    i.c.campaign_id == g.c.campaign_id,
                    i.c.provider_id == g.c.provider_id,
                    i.c.customer_id == g.c.customer_id,
                ),
            )
        )
        .where(*where)
        .group_by(g.c.campaign_id, g.c.provider_id, g.c.customer_id)
        .order_by(g.c.campaign_id, g.c.provider_id, g.c.customer_id)
    )
    found: dict[str, list[tuple[str, str, int, int]]] = {}
    for campaign, p, c, n, k in conn.execute(stmt):
        found.setdefault(campaign, []).append((p, c, int(n), int(k)))
    return found
