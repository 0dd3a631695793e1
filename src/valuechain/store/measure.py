"""Storing survey data (custom instruments, campaigns, responses) and aggregating
it in the database: one GROUP BY pass gives the count, sum and sum of squares of
every finest cell (instrument × campaign × provider × customer × dimension), which
add up to any coarser cell."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from itertools import islice
from typing import Any

from sqlalchemy import (
    Connection,
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)

from valuechain.domain.instrument import DEFAULT_SCALE, Dimension, Instrument, Item, Scale
from valuechain.domain.response import Response
from valuechain.store.organisation import ORGANISATIONS
from valuechain.store.tables import (
    AnswerRow,
    CampaignRow,
    CommentRow,
    InstrumentItemRow,
    InstrumentRow,
    ResponseRow,
)

INSTRUMENTS: Table = InstrumentRow.__table__  # type: ignore[assignment]
ITEMS: Table = InstrumentItemRow.__table__  # type: ignore[assignment]
CAMPAIGNS: Table = CampaignRow.__table__  # type: ignore[assignment]
RESPONSES: Table = ResponseRow.__table__  # type: ignore[assignment]
ANSWERS: Table = AnswerRow.__table__  # type: ignore[assignment]
COMMENTS: Table = CommentRow.__table__  # type: ignore[assignment]

#: Children first: the order in which an organisation's survey data is deleted.
SURVEY_TABLES: tuple[Table, ...] = (COMMENTS, ANSWERS, RESPONSES, CAMPAIGNS, ITEMS, INSTRUMENTS)
BATCH = 5_000


def _batches(rows: Iterable[dict[str, Any]], size: int = BATCH) -> Iterable[list[dict[str, Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def delete_survey(conn: Connection, org_id: int) -> None:
    """Remove every instrument, campaign and response of the organisation."""
    for table in SURVEY_TABLES:
        conn.execute(delete(table).where(table.c.org_id == org_id))


def write_survey(
    conn: Connection,
    org_id: int,
    instruments: Sequence[Instrument],
    responses: Sequence[Response],
) -> None:
    """Store custom instruments (replacing stored ones with the same key, items and
    all) and responses (replacing stored ones with the same id), inside the caller's
    transaction. Campaigns named by the responses are created when missing."""
    for instrument in instruments:
        conn.execute(
            delete(INSTRUMENTS).where(
                INSTRUMENTS.c.org_id == org_id, INSTRUMENTS.c.key == instrument.key
            )
        )
        conn.execute(
            insert(INSTRUMENTS),
            [{"org_id": org_id, "key": instrument.key, "name": instrument.name}],
        )
        conn.execute(
            insert(ITEMS),
            [
                {
                    "org_id": org_id,
                    "instrument": instrument.key,
                    "item": item.key,
                    "position": position,
                    "dimension": item.dimension,
                    "text": item.text,
                    "scale_min": None if item.scale is None else item.scale.low,
                    "scale_max": None if item.scale is None else item.scale.high,
                }
                for position, item in enumerate(instrument.items)
            ],
        )
    if not responses:
        return
    known = set(conn.execute(select(CAMPAIGNS.c.id).where(CAMPAIGNS.c.org_id == org_id)).scalars())
    campaigns: dict[str, set[str]] = {}
    for r in responses:
        campaigns.setdefault(r.campaign, set()).add(r.instrument)
    new = [
        {
            "org_id": org_id,
            "id": c,
            "name": c,
            "instrument": next(iter(used)) if len(used) == 1 else None,
        }
        for c, used in sorted(campaigns.items())
        if c not in known
    ]
    if new:
        conn.execute(insert(CAMPAIGNS), new)
    ids = [r.id for r in responses]
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        # Answers and comments go with their response (ON DELETE CASCADE).
        for table in (COMMENTS, ANSWERS):
            conn.execute(
                delete(table).where(table.c.org_id == org_id, table.c.response_id.in_(chunk))
            )
        conn.execute(
            delete(RESPONSES).where(RESPONSES.c.org_id == org_id, RESPONSES.c.id.in_(chunk))
        )
    for batch in _batches(
        {
            "org_id": org_id,
            "id": r.id,
            "campaign_id": r.campaign,
            "instrument": r.instrument,
            "rater_id": r.rater_id,
            "rated_id": r.rated_id,
            "submitted_on": r.submitted_on,
        }
        for r in responses
    ):
        conn.execute(insert(RESPONSES), batch)
    for batch in _batches(
        {
            "org_id": org_id,
            "response_id": r.id,
            "item": a.item,
            "dimension": a.dimension,
            "expectation": a.expectation,
            "score": a.score,
        }
        for r in responses
        for a in r.answers
    ):
        conn.execute(insert(ANSWERS), batch)
    for batch in _batches(
        {"org_id": org_id, "response_id": r.id, "item": item, "text": text}
        for r in responses
        for item, text in r.comments
    ):
        conn.execute(insert(COMMENTS), batch)


def read_instruments(conn: Connection, org_id: int) -> dict[str, Instrument]:
    """The organisation's custom instruments, items in their stored order."""
    names: dict[str, str] = {
        key: name
        for key, name in conn.execute(
            select(INSTRUMENTS.c.key, INSTRUMENTS.c.name).where(INSTRUMENTS.c.org_id == org_id)
        )
    }
    rows = conn.execute(
        select(ITEMS).where(ITEMS.c.org_id == org_id).order_by(ITEMS.c.instrument, ITEMS.c.position)
    ).all()
    found: dict[str, dict[str, list[Item]]] = {}
    for r in rows:
        scale = (
            Scale(r.scale_min, r.scale_max)
            if r.scale_min is not None and r.scale_max is not None
            else DEFAULT_SCALE
        )
        found.setdefault(r.instrument, {}).setdefault(r.dimension, []).append(
            Item(r.item, r.dimension, r.text, scale)
        )
    return {
        key: Instrument(
            key=key,
            name=names.get(key, key),
            dimensions=tuple(
                Dimension(d, d.replace("_", " ").capitalize(), tuple(items))
                for d, items in dims.items()
            ),
        )
        for key, dims in found.items()
    }


def item_rows(conn: Connection, org_id: int) -> list[tuple[Any, ...]]:
    """The custom instruments' items as items.csv rows (instrument, item, dimension,
    text, scale_min, scale_max), in the order they were imported."""
    return [
        tuple(row)
        for row in conn.execute(
            select(
                ITEMS.c.instrument,
                ITEMS.c.item,
                ITEMS.c.dimension,
                ITEMS.c.text,
                ITEMS.c.scale_min,
                ITEMS.c.scale_max,
            )
            .where(ITEMS.c.org_id == org_id)
            .order_by(ITEMS.c.instrument, ITEMS.c.position)
        )
    ]


def campaign_ids(conn: Connection, org_id: int) -> list[str]:
    """The organisation's campaigns, by id."""
    return list(
        conn.execute(
            select(CAMPAIGNS.c.id).where(CAMPAIGNS.c.org_id == org_id).order_by(CAMPAIGNS.c.id)
        ).scalars()
    )


def count_survey(conn: Connection, org_id: int) -> dict[str, int]:
    """How many responses, answers and comments the organisation holds."""
    return {
        t.name: int(
            conn.execute(
                select(func.count()).select_from(t).where(t.c.org_id == org_id)
            ).scalar_one()
        )
        for t in (RESPONSES, ANSWERS, COMMENTS)
    }


# -- aggregation ----------------------------------------------------------------------


def _respondent_dimensions(org_id: int) -> Any:
    """Each response's score per dimension (the mean of its answered items) and its
    gap P − E (the mean over items answered twice; NULL when none)."""
    a = ANSWERS
    return (
        select(
            a.c.response_id,
            a.c.dimension,
            func.avg(a.c.score).label("s"),
            func.avg(a.c.score - a.c.expectation).label("g"),
        )
        .where(a.c.org_id == org_id)
        .group_by(a.c.response_id, a.c.dimension)
        .subquery("rd")
    )


def _keys() -> list[Any]:
    r = RESPONSES
    return [r.c.instrument, r.c.campaign_id, r.c.rated_id, r.c.rater_id]


def _moments(x: Any, g: Any) -> list[Any]:
    return [
        func.count(x),
        func.sum(x),
        func.sum(x * x),
        func.count(g),
        func.sum(g),
        func.sum(g * g),
    ]


def dimension_moments(conn: Connection, org_id: int) -> list[tuple[Any, ...]]:
    """Rows (instrument, campaign, provider, customer, dimension, n, Σx, Σx², n_gap,
    Σgap, Σgap²) over respondents' dimension scores, in one GROUP BY."""
    rd = _respondent_dimensions(org_id)
    r = RESPONSES
    keys = [*_keys(), rd.c.dimension]
    stmt = (
        select(*keys, *_moments(rd.c.s, rd.c.g))
        .select_from(rd.join(r, and_(r.c.org_id == org_id, r.c.id == rd.c.response_id)))
        .group_by(*keys)
    )
    return [tuple(row) for row in conn.execute(stmt)]


def _respondent_scores(org_id: int, with_outcome: Sequence[str], outcome: str) -> Any:
    """Each response's overall score: its outcome dimension where the instrument has
    one, else the mean of its dimension scores; its total gap (the mean of its
    dimension gaps) only when every dimension it answered has one."""
    rd = _respondent_dimensions(org_id)
    r = RESPONSES
    outcome_score = func.max(case((rd.c.dimension == outcome, rd.c.s)))
    score = (
        case((r.c.instrument.in_(list(with_outcome)), outcome_score), else_=func.avg(rd.c.s))
        if with_outcome
        else func.avg(rd.c.s)
    )
    gap = case((func.count(rd.c.g) == func.count(), func.avg(rd.c.g)), else_=literal(None))
    return (
        select(r.c.id.label("response_id"), *_keys(), score.label("x"), gap.label("g"))
        .select_from(rd.join(r, and_(r.c.org_id == org_id, r.c.id == rd.c.response_id)))
        .group_by(r.c.id, *_keys())
        .subquery("rs")
    )


def score_moments(
    conn: Connection, org_id: int, with_outcome: Sequence[str], outcome: str
) -> list[tuple[Any, ...]]:
    """Rows (instrument, campaign, provider, customer, n, Σx, Σx², n_gap, Σgap,
    Σgap²) over respondents' overall scores."""
    rs = _respondent_scores(org_id, with_outcome, outcome)
    keys = [rs.c.instrument, rs.c.campaign_id, rs.c.rated_id, rs.c.rater_id]
    stmt = select(*keys, *_moments(rs.c.x, rs.c.g)).where(rs.c.x.is_not(None)).group_by(*keys)
    return [tuple(row) for row in conn.execute(stmt)]


def score_members(
    conn: Connection, org_id: int, with_outcome: Sequence[str], outcome: str
) -> list[tuple[Any, ...]]:
    """Rows (response id, instrument, campaign, provider, customer) of every response
    with an overall score: who is in which cell, for confidentiality."""
    rs = _respondent_scores(org_id, with_outcome, outcome)
    stmt = select(
        rs.c.response_id, rs.c.instrument, rs.c.campaign_id, rs.c.rated_id, rs.c.rater_id
    ).where(rs.c.x.is_not(None))
    return [tuple(row) for row in conn.execute(stmt)]


def dimension_members(conn: Connection, org_id: int) -> list[tuple[Any, ...]]:
    """Rows (response id, instrument, campaign, provider, customer, dimension, score)
    of every response's dimension scores."""
    rd = _respondent_dimensions(org_id)
    r = RESPONSES
    stmt = select(rd.c.response_id, *_keys(), rd.c.dimension, rd.c.s).select_from(
        rd.join(r, and_(r.c.org_id == org_id, r.c.id == rd.c.response_id))
    )
    return [tuple(row) for row in conn.execute(stmt)]


def item_answers(conn: Connection, org_id: int, instrument: str) -> list[tuple[Any, ...]]:
    """Rows (response id, item, score) of one instrument, for reliability."""
    a, r = ANSWERS, RESPONSES
    stmt = (
        select(a.c.response_id, a.c.item, a.c.score)
        .select_from(a.join(r, and_(r.c.org_id == a.c.org_id, r.c.id == a.c.response_id)))
        .where(a.c.org_id == org_id, r.c.instrument == instrument)
    )
    return [tuple(row) for row in conn.execute(stmt)]


def instruments_used(conn: Connection, org_id: int) -> list[str]:
    """The instruments the stored responses use."""
    r = RESPONSES
    return list(
        conn.execute(
            select(r.c.instrument).where(r.c.org_id == org_id).distinct().order_by(r.c.instrument)
        ).scalars()
    )


def read_threshold(conn: Connection, org_id: int) -> int:
    """The organisation's anonymity threshold."""
    return int(
        conn.execute(
            select(ORGANISATIONS.c.anonymity_threshold).where(ORGANISATIONS.c.id == org_id)
        ).scalar_one()
    )


def write_threshold(conn: Connection, org_id: int, threshold: int) -> None:
    conn.execute(
        update(ORGANISATIONS)
        .where(ORGANISATIONS.c.id == org_id)
        .values(anonymity_threshold=threshold)
    )


# -- trust: campaigns still open ------------------------------------------------------


def open_campaigns(conn: Connection, org_id: int, today: date) -> set[str]:
    """Campaigns whose closing day is today or later (results are withheld until a
    campaign closes; a campaign without a closing day is history and closed)."""
    stmt = select(CAMPAIGNS.c.id).where(
        CAMPAIGNS.c.org_id == org_id,
        CAMPAIGNS.c.closes_on.is_not(None),
        CAMPAIGNS.c.closes_on >= today,
    )
    return set(conn.execute(stmt).scalars())
