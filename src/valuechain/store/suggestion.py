"""Link suggestions' SQL: the provider–customer pairs the data already shows (requests
filed, published survey ratings, agreements) with no link on the map between them.

One aggregate per source (``GROUP BY provider, customer`` over requests, over the
published relationship cells of the survey summaries, over agreements), their union
less the pairs that have a link in any state or were dismissed, counted and paged in
the database: nothing is looped over per request, response or link in Python."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    distinct,
    exists,
    func,
    literal,
    select,
    tuple_,
    union,
    union_all,
)

from valuechain.store.tables import (
    AgreementRow,
    AuditEventRow,
    CampaignRow,
    LinkRow,
    MeasureCellRow,
    OrganisationRow,
    RequestRow,
    ResultRow,
    UnitRow,
)

REQUESTS: Table = RequestRow.__table__  # type: ignore[assignment]
CELLS: Table = MeasureCellRow.__table__  # type: ignore[assignment]
CAMPAIGNS: Table = CampaignRow.__table__  # type: ignore[assignment]
AGREEMENTS: Table = AgreementRow.__table__  # type: ignore[assignment]
RESULTS: Table = ResultRow.__table__  # type: ignore[assignment]
LINKS: Table = LinkRow.__table__  # type: ignore[assignment]
UNITS: Table = UnitRow.__table__  # type: ignore[assignment]
AUDIT: Table = AuditEventRow.__table__  # type: ignore[assignment]
ORGANISATIONS: Table = OrganisationRow.__table__  # type: ignore[assignment]

#: The audit action that dismisses a suggestion; its subject names the pair.
DISMISSED = "suggestion_dismissed"
RELATIONSHIP_CUT = "relationship"  # the survey summaries' provider × customer cells


def dismissal_subject(provider: str, customer: str) -> str:
    """The audit subject of a dismissed pair, the same text :func:`_subject` builds in
    SQL, so a dismissal is found by equality (and stays readable in the audit log)."""
    return f"suggested link {provider} → {customer}"


def _subject(provider: ColumnElement[str], customer: ColumnElement[str]) -> ColumnElement[str]:
    return literal("suggested link ") + provider + literal(" → ") + customer


@dataclass(frozen=True, slots=True)
class PairEvidence:
    """One suggested pair: ``provider`` (B) has no result linked to ``customer`` (A)
    although A filed ``requests`` to B (first and last filed), rated B in
    ``campaigns`` published campaigns, or holds ``agreements`` on B's results."""

    provider: str
    customer: str
    requests: int
    first_request: datetime | None
    last_request: datetime | None
    campaigns: int
    agreements: int


@dataclass(frozen=True, slots=True)
class PairAgreement:
    """An agreement on one of the provider's results, naming the customer."""

    provider: str
    customer: str
    id: str
    state: str
    result_id: str


def _branches(
    provider: Any, customer: Any, unit_id: str | None, pair: tuple[str, str] | None
) -> list[list[ColumnElement[bool]]]:
    """The WHERE clauses of one source, each read through its own index: the whole
    organisation, or the unit as provider and the unit as customer (two branches,
    so neither needs an OR that would scan the organisation)."""
    extra: list[ColumnElement[bool]] = []
    if pair is not None:
        extra = [provider == pair[0], customer == pair[1]]
    if unit_id is None:
        return [[provider != customer, *extra]]
    # The unit with itself comes twice; the final query leaves every such pair out.
    return [[provider == unit_id, *extra], [customer == unit_id, *extra]]


def _candidates(
    org_id: int,
    today: date,
    unit_id: str | None,
    pair: tuple[str, str] | None,
    dialect: str = "sqlite",
) -> Select[Any]:
    """The suggested pairs with their evidence, unordered."""
    r, c, a, res = REQUESTS, CELLS, AGREEMENTS, RESULTS
    filed_parts = []
    for k, where in enumerate(_branches(r.c.provider_id, r.c.customer_id, unit_id, pair)):
        # The unit as customer: grouped by an expression (the provider id itself), so
        # that SQLite, which has no statistics, reads the customer's few requests
        # through the index by customer and sorts them, instead of walking the whole
        # organisation's requests in provider order to spare the sort.
        provider = func.coalesce(r.c.provider_id, "") if k == 1 else r.c.provider_id
        filed_parts.append(
            select(
                provider.label("provider"),
                r.c.customer_id.label("customer"),
                func.count().label("requests"),
                func.min(r.c.created_at).label("first_request"),
                func.max(r.c.created_at).label("last_request"),
            )
            .where(r.c.org_id == org_id, *where)
            .group_by(provider, r.c.customer_id)
        )
    filed = union_all(*filed_parts).cte("filed")
    # Only relationship cells that are published: shown (not suppressed), about at
    # least the threshold's respondents, of a closed campaign. A campaign counts, never
    # a respondent, and no score is read.
    threshold = (
        select(ORGANISATIONS.c.anonymity_threshold)
        .where(ORGANISATIONS.c.id == org_id)
        .scalar_subquery()
    )
    still_open = select(CAMPAIGNS.c.id).where(
        CAMPAIGNS.c.org_id == org_id,
        CAMPAIGNS.c.closes_on.is_not(None),
        CAMPAIGNS.c.closes_on >= today,
    )
    rated_parts = []
    for k, where in enumerate(_branches(c.c.provider, c.c.customer, unit_id, pair)):
        rated_key = func.coalesce(c.c.provider, "") if k == 1 else c.c.provider  # as above
        rated_parts.append(
            select(
                rated_key.label("provider"),
                c.c.customer.label("customer"),
                func.count(distinct(c.c.campaign)).label("campaigns"),
            )
            .where(
                c.c.org_id == org_id,
                c.c.cut == RELATIONSHIP_CUT,
                c.c.suppressed.is_(None),
                c.c.n >= threshold,
                c.c.campaign.not_in(still_open),
                *where,
            )
            .group_by(rated_key, c.c.customer)
        )
    rated = union_all(*rated_parts).cte("rated")
    agreed = union_all(
        *(
            select(
                res.c.unit_id.label("provider"),
                a.c.customer_id.label("customer"),
                func.count().label("agreements"),
            )
            .join(res, and_(res.c.org_id == a.c.org_id, res.c.id == a.c.result_id))
            .where(a.c.org_id == org_id, *where)
            .group_by(res.c.unit_id, a.c.customer_id)
            for where in _branches(res.c.unit_id, a.c.customer_id, unit_id, pair)
        )
    ).cte("agreed")
    pairs = union(
        select(filed.c.provider, filed.c.customer),
        select(rated.c.provider, rated.c.customer),
        select(agreed.c.provider, agreed.c.customer),
    ).cte("pairs")
    dismissed = (
        select(AUDIT.c.subject.label("subject"))
        .where(AUDIT.c.org_id == org_id, AUDIT.c.action == DISMISSED)
        .distinct()
        .cte("dismissed")
    )
    p, q = pairs.c.provider, pairs.c.customer

    def known(unit: Any) -> Any:
        return exists().where(UNITS.c.org_id == org_id, UNITS.c.id == unit)

    # Any link from any of the provider's results to the customer, in any state: the
    # provider's results through their index, then each one's links by key. SQLite,
    # without statistics, keeps that order only when the results are an IN list (as a
    # join it walks every link); PostgreSQL would hash every link for the IN list and
    # keeps the order as a join.
    if dialect == "sqlite":
        linked = exists().where(
            LINKS.c.org_id == org_id,
            LINKS.c.customer_id == q,
            LINKS.c.result_id.in_(
                select(RESULTS.c.id)
                .where(RESULTS.c.org_id == org_id, RESULTS.c.unit_id == p)
                .correlate_except(RESULTS)  # the pair is the outer query's
            ),
        )
    else:
        linked = exists().where(
            RESULTS.c.org_id == org_id,
            RESULTS.c.unit_id == p,
            LINKS.c.org_id == org_id,
            LINKS.c.result_id == RESULTS.c.id,
            LINKS.c.customer_id == q,
        )
    return (
        select(
            p.label("provider"),
            q.label("customer"),
            func.coalesce(filed.c.requests, 0).label("requests"),
            filed.c.first_request,
            filed.c.last_request,
            func.coalesce(rated.c.campaigns, 0).label("campaigns"),
            func.coalesce(agreed.c.agreements, 0).label("agreements"),
        )
        .select_from(
            pairs.outerjoin(filed, and_(filed.c.provider == p, filed.c.customer == q))
            .outerjoin(rated, and_(rated.c.provider == p, rated.c.customer == q))
            .outerjoin(agreed, and_(agreed.c.provider == p, agreed.c.customer == q))
            .outerjoin(dismissed, dismissed.c.subject == _subject(p, q))
        )
        .where(p != q, dismissed.c.subject.is_(None), known(p), known(q), ~linked)
    )


def _utc(at: datetime | None) -> datetime | None:
    # SQLite hands an aggregate of a time back without its zone; stored times are UTC.
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def _evidence(row: Any) -> PairEvidence:
    return PairEvidence(
        provider=row.provider,
        customer=row.customer,
        requests=int(row.requests),
        first_request=_utc(row.first_request),
        last_request=_utc(row.last_request),
        campaigns=int(row.campaigns),
        agreements=int(row.agreements),
    )


def suggested_pairs(
    conn: Connection,
    org_id: int,
    today: date,
    *,
    unit_id: str | None,
    offset: int,
    limit: int,
) -> tuple[int, list[PairEvidence]]:
    """How many pairs are suggested (those ``unit_id`` is a side of, or all with
    None) and one page of them: most requests first, then most campaigns, most
    agreements, provider and customer."""
    found = _candidates(org_id, today, unit_id, None, conn.dialect.name).subquery("found")
    page = conn.execute(
        select(found, func.count().over().label("total"))
        .order_by(
            found.c.requests.desc(),
            found.c.campaigns.desc(),
            found.c.agreements.desc(),
            found.c.provider,
            found.c.customer,
        )
        .offset(offset)
        .limit(limit)
    ).all()
    if page:
        total = int(page[0].total)
    else:  # past the end (or nothing at all): count without a page
        total = int(conn.execute(select(func.count()).select_from(found)).scalar_one())
    return total, [_evidence(row) for row in page]


def suggested_pair(
    conn: Connection, org_id: int, today: date, provider: str, customer: str
) -> PairEvidence | None:
    """The evidence for one pair while it is suggested, else None."""
    pair = (provider, customer)
    row = conn.execute(_candidates(org_id, today, provider, pair, conn.dialect.name)).first()
    return None if row is None else _evidence(row)


def agreements_of(
    conn: Connection, org_id: int, pairs: Sequence[tuple[str, str]]
) -> list[PairAgreement]:
    """The agreements on a provider's results with the customer, for these pairs (a
    page of suggestions), ordered by id."""
    if not pairs:
        return []
    a, res = AGREEMENTS, RESULTS
    rows = conn.execute(
        select(res.c.unit_id, a.c.customer_id, a.c.id, a.c.state, a.c.result_id)
        .join(res, and_(res.c.org_id == a.c.org_id, res.c.id == a.c.result_id))
        .where(
            a.c.org_id == org_id,
            tuple_(res.c.unit_id, a.c.customer_id).in_([tuple(p) for p in pairs]),
        )
        .order_by(a.c.id)
    )
    return [PairAgreement(*row) for row in rows]


def results_of_units(
    conn: Connection, org_id: int, unit_ids: Sequence[str]
) -> dict[str, list[tuple[str, str]]]:
    """Each unit's results as (id, name), ordered by name then id, for a page's units
    in one query."""
    found: dict[str, list[tuple[str, str]]] = {u: [] for u in unit_ids}
    if not unit_ids:
        return found
    rows = conn.execute(
        select(RESULTS.c.unit_id, RESULTS.c.id, RESULTS.c.name)
        .where(RESULTS.c.org_id == org_id, RESULTS.c.unit_id.in_(list(unit_ids)))
        .order_by(RESULTS.c.unit_id, RESULTS.c.name, RESULTS.c.id)
    )
    for unit, rid, name in rows:
        found[unit].append((rid, name))
    return found
