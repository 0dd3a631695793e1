"""Reading survey comments with what confidentiality needs: the group of every
response about a provider (campaign, instrument, rating unit) and the comments."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, select

from valuechain.store.measure import COMMENTS, RESPONSES


def provider_responses(conn: Connection, org_id: int, provider: str) -> list[tuple[Any, ...]]:
    """Rows (response id, instrument, campaign, customer) of every response about
    ``provider``: the members of its comment groups."""
    r = RESPONSES
    stmt = select(r.c.id, r.c.instrument, r.c.campaign_id, r.c.rater_id).where(
        r.c.org_id == org_id, r.c.rated_id == provider
    )
    return [tuple(row) for row in conn.execute(stmt)]


def provider_comments(conn: Connection, org_id: int, provider: str) -> list[tuple[Any, ...]]:
    """Rows (response id, submitted day, text) of every comment about ``provider``."""
    r, c = RESPONSES, COMMENTS
    stmt = (
        select(c.c.response_id, r.c.submitted_on, c.c.text)
        .select_from(c.join(r, and_(r.c.org_id == c.c.org_id, r.c.id == c.c.response_id)))
        .where(c.c.org_id == org_id, r.c.rated_id == provider)
    )
    return [tuple(row) for row in conn.execute(stmt)]
