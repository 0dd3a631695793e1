"""Storing survey data (custom instruments, campaigns, responses) in bulk (COPY on
PostgreSQL, prepared ``executemany`` batches on SQLite), and the per-provider
summaries every survey number is read from: the protected cells with their moments
(count, sum, sum of squares) and the respondent-level blocks (driver scores, item
cross-products), recomputed by ``services.measure.refresh`` for the providers whose
responses changed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from itertools import chain, islice, repeat
from typing import Any

import numpy as np
from sqlalchemy import (
    Connection,
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from valuechain.domain.campaign import time_order
from valuechain.domain.instrument import DEFAULT_SCALE, Dimension, Instrument, Item, Scale
from valuechain.domain.response import Response, ResponseColumns
from valuechain.store.organisation import ORGANISATIONS
from valuechain.store.tables import (
    AnswerRow,
    CampaignRow,
    CommentRow,
    ImportanceRow,
    InstrumentItemRow,
    InstrumentRow,
    MeasureBlockRow,
    MeasureCellRow,
    MeasureOpenCampaignRow,
    ResponseRow,
)

INSTRUMENTS: Table = InstrumentRow.__table__  # type: ignore[assignment]
ITEMS: Table = InstrumentItemRow.__table__  # type: ignore[assignment]
CAMPAIGNS: Table = CampaignRow.__table__  # type: ignore[assignment]
RESPONSES: Table = ResponseRow.__table__  # type: ignore[assignment]
ANSWERS: Table = AnswerRow.__table__  # type: ignore[assignment]
COMMENTS: Table = CommentRow.__table__  # type: ignore[assignment]
IMPORTANCE: Table = ImportanceRow.__table__  # type: ignore[assignment]
CELLS: Table = MeasureCellRow.__table__  # type: ignore[assignment]
BLOCKS: Table = MeasureBlockRow.__table__  # type: ignore[assignment]
OPEN_CAMPAIGNS: Table = MeasureOpenCampaignRow.__table__  # type: ignore[assignment]
SUMMARY_TABLES: tuple[Table, ...] = (CELLS, BLOCKS)

#: Children first: the order in which an organisation's survey data is deleted.
SURVEY_TABLES: tuple[Table, ...] = (
    IMPORTANCE,
    COMMENTS,
    ANSWERS,
    RESPONSES,
    CAMPAIGNS,
    ITEMS,
    INSTRUMENTS,
)
BATCH = 5_000


def delete_survey(conn: Connection, org_id: int) -> None:
    """Remove every instrument, campaign and response of the organisation."""
    for table in (*SUMMARY_TABLES, OPEN_CAMPAIGNS, *SURVEY_TABLES):
        conn.execute(delete(table).where(table.c.org_id == org_id))


def write_survey(
    conn: Connection,
    org_id: int,
    instruments: Sequence[Instrument],
    responses: ResponseColumns | Sequence[Response],
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
    if not isinstance(responses, ResponseColumns):
        responses = ResponseColumns.of(responses)
    if not len(responses):
        return
    known = set(conn.execute(select(CAMPAIGNS.c.id).where(CAMPAIGNS.c.org_id == org_id)).scalars())
    campaigns: dict[str, set[str]] = {}
    for pair in set(zip(responses.campaign, responses.instrument, strict=True)):
        campaigns.setdefault(pair[0], set()).add(pair[1])
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
    ids = responses.ids
    moved: set[str] = set()
    stored = conn.execute(
        select(RESPONSES.c.id).where(RESPONSES.c.org_id == org_id).limit(1)
    ).first()
    for start in range(0, len(ids) if stored is not None else 0, BATCH):
        chunk = ids[start : start + BATCH]
        # A replaced response leaves its old provider's summary stale.
        moved.update(
            conn.execute(
                select(RESPONSES.c.rated_id)
                .where(RESPONSES.c.org_id == org_id, RESPONSES.c.id.in_(chunk))
                .distinct()
            ).scalars()
        )
        # Answers, comments and importance points go with their response (ON DELETE
        # CASCADE).
        for table in (IMPORTANCE, COMMENTS, ANSWERS):
            conn.execute(
                delete(table).where(table.c.org_id == org_id, table.c.response_id.in_(chunk))
            )
        conn.execute(
            delete(RESPONSES).where(RESPONSES.c.org_id == org_id, RESPONSES.c.id.in_(chunk))
        )
    if moved:
        forget_summaries(conn, org_id, sorted(moved))
    # Rows go in in key order: SQLite then appends to each B-tree (and checks each
    # foreign key against pages it has just read) instead of splitting pages all over
    # the file, several times faster at ten million answers.
    order = sorted(range(len(ids)), key=ids.__getitem__)
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids), dtype=np.int64)
    days: list[Any] = responses.day
    if conn.dialect.name == "sqlite":
        days = [d.isoformat() for d in responses.day]
    bulk_insert(
        conn,
        RESPONSES,
        ("org_id", "id", "campaign_id", "instrument", "rater_id", "rated_id", "submitted_on"),
        (
            (
                org_id,
                ids[i],
                responses.campaign[i],
                responses.instrument[i],
                responses.rater[i],
                responses.rated[i],
                days[i],
            )
            for i in order
        ),
    )
    items, dimensions = responses.items, responses.dimensions
    item_rank = np.empty(len(items), dtype=np.int64)
    item_rank[sorted(range(len(items)), key=items.__getitem__)] = np.arange(len(items))
    answers = np.argsort(
        rank[responses.answer_response] * max(len(items), 1) + item_rank[responses.answer_item],
        kind="stable",
    )

    def answer_rows() -> Iterator[tuple[Any, ...]]:
        # A million at a time: Python lists of ten million numbers would double the
        # import's memory.
        for start in range(0, answers.shape[0], 1 << 20):
            part = answers[start : start + (1 << 20)]
            # None, not nan, for an expectation not asked: the column stays NULL.
            expectations = [None if e != e else e for e in responses.expectation[part].tolist()]
            yield from zip(
                repeat(org_id),
                map(ids.__getitem__, responses.answer_response[part].tolist()),
                map(items.__getitem__, responses.answer_item[part].tolist()),
                map(dimensions.__getitem__, responses.answer_dimension[part].tolist()),
                expectations,
                responses.score[part].tolist(),
            )

    bulk_insert(
        conn,
        ANSWERS,
        ("org_id", "response_id", "item", "dimension", "expectation", "score"),
        answer_rows(),
    )
    comments = sorted(
        range(len(responses.comment_item)),
        key=lambda c: (ids[responses.comment_response[c]], responses.comment_item[c]),
    )
    bulk_insert(
        conn,
        COMMENTS,
        ("org_id", "response_id", "item", "text"),
        (
            (
                org_id,
                ids[responses.comment_response[c]],
                responses.comment_item[c],
                responses.comment_text[c],
            )
            for c in comments
        ),
    )
    bulk_insert(
        conn,
        IMPORTANCE,
        ("org_id", "response_id", "dimension", "points"),
        (
            (org_id, ids[responses.split_response[k]], responses.split_dimension[k], points)
            for k, points in enumerate(responses.split_points.tolist())
        ),
    )


def bulk_insert(
    conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> int:
    """Insert plain tuples fast inside the caller's transaction: COPY on PostgreSQL,
    prepared ``executemany`` batches elsewhere (no per-row SQLAlchemy work). Values
    must already be in the driver's types. Returns the number of rows."""
    count = 0
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    # Many rows per statement: a quarter less time than one row per statement at ten
    # million answers (fewer statement steps); 999 is the oldest SQLite's parameter cap.
    per = max(1, 999 // len(columns))
    one = f"({', '.join('?' for _ in columns)})"
    head = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
    many = head + ", ".join([one] * per)
    iterator = iter(rows)
    while batch := list(islice(iterator, per * 300)):
        full = len(batch) - len(batch) % per
        if full:
            conn.exec_driver_sql(
                many,
                [tuple(chain.from_iterable(batch[i : i + per])) for i in range(0, full, per)],
            )
        if full < len(batch):
            conn.exec_driver_sql(head + one, batch[full:])
        count += len(batch)
    return count


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
    """The organisation's campaigns in time order (:func:`time_order`), never by the
    string order of their ids."""
    c = CAMPAIGNS.c
    rows = conn.execute(
        select(c.id, c.closes_on, c.opens_on, c.first_answer_on, c.last_answer_on).where(
            c.org_id == org_id
        )
    ).all()
    return time_order(*(list(column) for column in zip(*rows, strict=True))) if rows else []


def widen_campaign_days(conn: Connection, org_id: int) -> None:
    """Widen each campaign's first and last answer day to its responses not yet
    summarised (read through the index of unsummarised responses)."""
    r, c = RESPONSES.c, CAMPAIGNS.c
    spans = conn.execute(
        select(r.campaign_id, func.min(r.submitted_on), func.max(r.submitted_on))
        .where(r.org_id == org_id, r.summarised.is_(False))
        .group_by(r.campaign_id)
    ).all()
    for campaign, first, last in spans:
        conn.execute(
            update(CAMPAIGNS)
            .where(c.org_id == org_id, c.id == campaign)
            .values(
                first_answer_on=case(
                    (or_(c.first_answer_on.is_(None), c.first_answer_on > first), first),
                    else_=c.first_answer_on,
                ),
                last_answer_on=case(
                    (or_(c.last_answer_on.is_(None), c.last_answer_on < last), last),
                    else_=c.last_answer_on,
                ),
            )
        )


def has_responses(conn: Connection, org_id: int) -> bool:
    """Whether any response is published (sealed ones are not)."""
    found = conn.execute(select(RESPONSES.c.id).where(RESPONSES.c.org_id == org_id).limit(1))
    return found.first() is not None


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


# -- summaries ------------------------------------------------------------------------
#
# Whole-organisation questions never read the 10 million answers: every protected
# cell and the respondent-level blocks of each provider live in ``measure_cells`` and
# ``measure_blocks``. ``responses.summarised`` is False for a response not yet in its
# provider's summary (every insert starts False), so the providers to recompute are
# one index range away.

NONE = ""  # the key part of a summary row that does not apply ("no customer")


def lock_summaries(conn: Connection, org_id: int) -> None:
    """Serialise summary refreshes of one organisation (PostgreSQL row lock; SQLite
    writers are serialised by the database)."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            select(ORGANISATIONS.c.id).where(ORGANISATIONS.c.id == org_id).with_for_update()
        )


def stale_providers(conn: Connection, org_id: int) -> list[str]:
    """The providers with a response that is not yet in their summary."""
    r = RESPONSES
    return list(
        conn.execute(
            select(r.c.rated_id)
            .where(r.c.org_id == org_id, r.c.summarised.is_(False))
            .distinct()
            .order_by(r.c.rated_id)
        ).scalars()
    )


def mark_summarised(conn: Connection, org_id: int, providers: Sequence[str]) -> None:
    """Mark every response about these providers as part of their summary."""
    r = RESPONSES
    for start in range(0, len(providers), BATCH):
        chunk = list(providers[start : start + BATCH])
        conn.execute(
            update(r)
            .where(r.c.org_id == org_id, r.c.rated_id.in_(chunk), r.c.summarised.is_(False))
            .values(summarised=True)
        )


def forget_summaries(conn: Connection, org_id: int, providers: Sequence[str] | None) -> None:
    """Drop the summaries of these providers (all when None) and mark their responses
    for a new summary."""
    r = RESPONSES
    if providers is None:
        for table in SUMMARY_TABLES:
            conn.execute(delete(table).where(table.c.org_id == org_id))
        conn.execute(update(r).where(r.c.org_id == org_id).values(summarised=False))
        return
    for start in range(0, len(providers), BATCH):
        chunk = list(providers[start : start + BATCH])
        for table in SUMMARY_TABLES:
            conn.execute(delete(table).where(table.c.org_id == org_id, table.c.provider.in_(chunk)))
        conn.execute(
            update(r).where(r.c.org_id == org_id, r.c.rated_id.in_(chunk)).values(summarised=False)
        )


def response_counts(conn: Connection, org_id: int, providers: Sequence[str]) -> dict[str, int]:
    """How many responses each of these providers has."""
    r = RESPONSES
    out: dict[str, int] = {}
    for start in range(0, len(providers), BATCH):
        chunk = list(providers[start : start + BATCH])
        out.update(
            (p, int(n))
            for p, n in conn.execute(
                select(r.c.rated_id, func.count())
                .where(r.c.org_id == org_id, r.c.rated_id.in_(chunk))
                .group_by(r.c.rated_id)
            )
        )
    return out


def provider_responses(
    conn: Connection, org_id: int, providers: Sequence[str]
) -> list[tuple[Any, ...]]:
    """Rows (response id, instrument, campaign, provider, customer) of the responses
    about these providers."""
    r = RESPONSES
    stmt = select(r.c.id, r.c.instrument, r.c.campaign_id, r.c.rated_id, r.c.rater_id).where(
        r.c.org_id == org_id, r.c.rated_id.in_(list(providers))
    )
    return _fetch(conn, stmt)


def provider_answers(
    conn: Connection, org_id: int, providers: Sequence[str]
) -> list[tuple[Any, ...]]:
    """Rows (response id, item, dimension, score, expectation) of every answer about
    these providers, through the driver (no per-row SQLAlchemy work)."""
    a, r = ANSWERS, RESPONSES
    stmt = (
        select(a.c.response_id, a.c.item, a.c.dimension, a.c.score, a.c.expectation)
        .select_from(a.join(r, and_(r.c.org_id == a.c.org_id, r.c.id == a.c.response_id)))
        .where(r.c.org_id == org_id, r.c.rated_id.in_(list(providers)))
    )
    return _fetch(conn, stmt)


def provider_importance(
    conn: Connection, org_id: int, providers: Sequence[str]
) -> list[tuple[Any, ...]]:
    """Rows (response id, dimension, points) of every importance split about these
    providers."""
    i, r = IMPORTANCE, RESPONSES
    stmt = (
        select(i.c.response_id, i.c.dimension, i.c.points)
        .select_from(i.join(r, and_(r.c.org_id == i.c.org_id, r.c.id == i.c.response_id)))
        .where(r.c.org_id == org_id, r.c.rated_id.in_(list(providers)))
    )
    return _fetch(conn, stmt)


def _fetch(conn: Connection, stmt: Any) -> list[tuple[Any, ...]]:
    compiled = stmt.compile(conn, compile_kwargs={"render_postcompile": True})
    cursor = conn.exec_driver_sql(str(compiled), compiled_parameters(compiled, conn))
    return cursor.fetchall()  # type: ignore[return-value]


def compiled_parameters(compiled: Any, conn: Connection) -> Any:
    """The bound parameters of a compiled statement in the driver's paramstyle."""
    params = compiled.construct_params()
    if compiled.positional:
        return tuple(params[name] for name in compiled.positiontup)
    return params


def write_summaries(
    conn: Connection,
    org_id: int,
    providers: Sequence[str],
    cells: Iterable[tuple[Any, ...]],
    blocks: Iterable[tuple[Any, ...]],
) -> None:
    """Replace the summaries of these providers. ``cells`` rows: (cut, campaign,
    instrument, provider, customer, dimension, n, total, total_sq, gap_n, gap_total,
    gap_sq, suppressed); ``blocks`` rows: (kind, instrument, provider, dimension, n,
    data)."""
    for start in range(0, len(providers), BATCH):
        chunk = list(providers[start : start + BATCH])
        for table in SUMMARY_TABLES:
            conn.execute(delete(table).where(table.c.org_id == org_id, table.c.provider.in_(chunk)))
    bulk_insert(conn, CELLS, ("org_id", *CELL_COLUMNS), ((org_id, *row) for row in cells))
    bulk_insert(conn, BLOCKS, ("org_id", *BLOCK_COLUMNS), ((org_id, *row) for row in blocks))


CELL_COLUMNS = (
    "cut",
    "campaign",
    "instrument",
    "provider",
    "customer",
    "dimension",
    "n",
    "total",
    "total_sq",
    "gap_n",
    "gap_total",
    "gap_sq",
    "suppressed",
)
BLOCK_COLUMNS = ("kind", "instrument", "provider", "dimension", "n", "data")


def read_cells(
    conn: Connection,
    org_id: int,
    cut: str,
    *,
    campaign: str | None = None,
    instrument: str | None = None,
    provider: str | None = None,
) -> list[tuple[Any, ...]]:
    """Summary cells of one cut (rows in ``CELL_COLUMNS`` order), optionally of one
    campaign, instrument or provider (an index range, not a scan, for a provider)."""
    c = CELLS
    stmt = select(*(c.c[name] for name in CELL_COLUMNS)).where(c.c.org_id == org_id)
    if provider is not None:
        stmt = stmt.where(c.c.provider == provider)
    stmt = stmt.where(c.c.cut == cut)
    if campaign is not None:
        stmt = stmt.where(c.c.campaign == campaign)
    if instrument is not None:
        stmt = stmt.where(c.c.instrument == instrument)
    return _fetch(conn, stmt)


def has_cells(
    conn: Connection, org_id: int, cut: str, instrument: str, provider: str | None = None
) -> bool:
    """Whether any summary cell of this cut and instrument (and provider) exists."""
    c = CELLS
    stmt = select(literal(1)).where(c.c.org_id == org_id)
    if provider is not None:
        stmt = stmt.where(c.c.provider == provider)
    stmt = stmt.where(c.c.cut == cut, c.c.instrument == instrument).limit(1)
    return conn.execute(stmt).first() is not None


def read_blocks(
    conn: Connection,
    org_id: int,
    kind: str,
    *,
    instrument: str | None = None,
    provider: str | None = None,
) -> list[tuple[Any, ...]]:
    """Summary blocks (instrument, provider, dimension, n, data) of one kind, ordered
    by instrument, provider and dimension."""
    b = BLOCKS
    stmt = select(b.c.instrument, b.c.provider, b.c.dimension, b.c.n, b.c.data).where(
        b.c.org_id == org_id
    )
    if provider is not None:
        stmt = stmt.where(b.c.provider == provider)
    stmt = stmt.where(b.c.kind == kind)
    if instrument is not None:
        stmt = stmt.where(b.c.instrument == instrument)
    stmt = stmt.order_by(b.c.instrument, b.c.provider, b.c.dimension)
    return _fetch(conn, stmt)


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
    """Set the threshold; every protected cell is decided again (all summaries are
    marked stale)."""
    old = read_threshold(conn, org_id)
    conn.execute(
        update(ORGANISATIONS)
        .where(ORGANISATIONS.c.id == org_id)
        .values(anonymity_threshold=threshold)
    )
    if old != threshold:
        forget_summaries(conn, org_id, None)


def read_comment_threshold(conn: Connection, org_id: int) -> int:
    """The organisation's comment threshold as stored (callers never use it below the
    threshold for numbers)."""
    return int(
        conn.execute(
            select(ORGANISATIONS.c.comment_threshold).where(ORGANISATIONS.c.id == org_id)
        ).scalar_one()
    )


def write_comment_threshold(conn: Connection, org_id: int, threshold: int) -> None:
    """Set the comment threshold (comments are decided on every question, so no
    summary goes stale)."""
    conn.execute(
        update(ORGANISATIONS)
        .where(ORGANISATIONS.c.id == org_id)
        .values(comment_threshold=threshold)
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


def summarised_open_campaigns(conn: Connection, org_id: int) -> set[str]:
    """trust: the campaigns that were open when the summaries were last refreshed."""
    t = OPEN_CAMPAIGNS
    return set(conn.execute(select(t.c.campaign).where(t.c.org_id == org_id)).scalars())


def write_open_campaigns(conn: Connection, org_id: int, before: set[str], now: set[str]) -> None:
    """trust: record the campaigns open now, and mark the responses of every campaign
    that opened or closed since ``before`` for a new summary (the decision about a
    provider leaves an open campaign's respondents out)."""
    t, r = OPEN_CAMPAIGNS, RESPONSES
    changed = sorted(before ^ now)
    if not changed:
        return
    conn.execute(delete(t).where(t.c.org_id == org_id))
    if now:
        conn.execute(insert(t), [{"org_id": org_id, "campaign": c} for c in sorted(now)])
    for start in range(0, len(changed), BATCH):
        chunk = changed[start : start + BATCH]
        conn.execute(
            update(r)
            .where(r.c.org_id == org_id, r.c.campaign_id.in_(chunk))
            .values(summarised=False)
        )
