"""Answer counts of the recommend (0–10) question, for the net promoter score: one
GROUP BY over the answers of one instrument in one campaign."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, func, select

from valuechain.store.measure import ANSWERS, RESPONSES


def answer_counts(
    conn: Connection, org_id: int, instrument: str, dimension: str, campaign: str
) -> list[tuple[Any, ...]]:
    """Rows (provider, customer, answer, respondents) of one instrument's dimension
    in one campaign."""
    a, r = ANSWERS, RESPONSES
    stmt = (
        select(r.c.rated_id, r.c.rater_id, a.c.score, func.count(func.distinct(r.c.id)))
        .select_from(a.join(r, and_(r.c.org_id == a.c.org_id, r.c.id == a.c.response_id)))
        .where(
            a.c.org_id == org_id,
            r.c.instrument == instrument,
            r.c.campaign_id == campaign,
            a.c.dimension == dimension,
        )
        .group_by(r.c.rated_id, r.c.rater_id, a.c.score)
    )
    return [tuple(row) for row in conn.execute(stmt)]
