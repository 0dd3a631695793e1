"""Service agreements: their terms for the request clocks, and their life (draft ->
proposed -> agreed by both leads -> under review -> agreed again).

The provider of an agreement is the producer of its result; the customer is the unit
it names. See ``docs/agree.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import cast

from valuechain.domain.agreement import (
    IN_FORCE,
    Agreement,
    AgreementState,
    CalendarSpec,
    Metric,
    Side,
    TransitionError,
    review_due,
    start_review,
    target_problem,
)
from valuechain.domain.agreement import agree as domain_agree
from valuechain.domain.agreement import propose as domain_propose
from valuechain.domain.calendar import DEFAULT, Calendar, calendar
from valuechain.services import agreement_types as agree_types
from valuechain.services import audit
from valuechain.services.audit import Actor
from valuechain.services.errors import Conflict, NotFound
from valuechain.services.organisation import Valuechain
from valuechain.services.transaction import reading, writing
from valuechain.store import agreement as agreement_store
from valuechain.store import calendar as calendar_store


@dataclass(frozen=True)
class Terms:
    """What a provider has agreed with one customer: the clock's calendar and targets
    (``None``: no target for that metric)."""

    calendar: Calendar
    response_hours: float | None
    resolution_hours: float | None
    on_time_pct: float | None
    quality_pct: float | None
    agreement_id: str


def parse_calendar(spec: CalendarSpec) -> Calendar:
    """A stored calendar as the clock's :class:`Calendar` (it was checked on import)."""
    return calendar(spec.name, spec.timezone, spec.hours, spec.holidays or "")


def calendars(vc: Valuechain) -> dict[str, Calendar]:
    """Every stored calendar by name."""
    with reading(vc) as conn:
        return {
            spec.name: parse_calendar(spec)
            for spec in calendar_store.read_calendars(conn, vc.org_id)
        }


def calendar_of(agreement: Agreement, known: dict[str, Calendar]) -> Calendar:
    """The agreement's calendar; without one, Monday to Friday 09:00-17:00 UTC."""
    return DEFAULT if agreement.calendar is None else known[agreement.calendar]


def terms(vc: Valuechain) -> dict[tuple[str, str], Terms]:
    """The terms in force per (provider unit id, customer unit id): from agreements
    that are agreed or under review (their terms stay in force while reviewed). When
    one pair has several such agreements (on different results), the one with the
    smallest id gives the terms."""
    with reading(vc) as conn:  # one connection for the calendars and the agreements
        known = calendars(vc)
        agreements = agreement_store.read_agreements(conn, vc.org_id, states=IN_FORCE)
    found: dict[tuple[str, str], Terms] = {}
    for a in agreements:  # ordered by id: the first one per pair wins
        assert a.provider_id is not None
        key = (a.provider_id, a.customer_id)
        if key in found:
            continue
        found[key] = Terms(
            calendar=calendar_of(a, known),
            response_hours=a.target(Metric.RESPONSE_HOURS),
            resolution_hours=a.target(Metric.RESOLUTION_HOURS),
            on_time_pct=a.target(Metric.ON_TIME_PCT),
            quality_pct=a.target(Metric.QUALITY_PCT),
            agreement_id=a.id,
        )
    return found


def as_json(a: Agreement) -> agree_types.Agreement:
    """An agreement as plain data (the API and the CLI share it)."""
    return {
        "id": a.id,
        # Read from the store, an agreement always names its result's producer.
        "provider": cast(str, a.provider_id),
        "customer": a.customer_id,
        "result": a.result_id,
        "state": a.state.value,
        "targets": {m.value: a.targets[m] for m in Metric if m in a.targets},
        "calendar": a.calendar,
        "review_on": None if a.review_on is None else a.review_on.isoformat(),
        "channel": a.channel,
        "cadence": a.cadence,
        "obligations": list(a.obligations),
        "exceed_margin_hours": a.exceed_margin_hours,
        "deliverable_rrule": a.deliverable_rrule,
        "provider_agreed_by": a.provider_agreed_by,
        "provider_agreed_at": None
        if a.provider_agreed_at is None
        else a.provider_agreed_at.isoformat(),
        "customer_agreed_by": a.customer_agreed_by,
        "customer_agreed_at": None
        if a.customer_agreed_at is None
        else a.customer_agreed_at.isoformat(),
    }


# -- the agreement's life ------------------------------------------------------------


def agreements_of(vc: Valuechain, unit_id: str | None = None) -> list[Agreement]:
    """Every agreement (with its provider), or those ``unit_id`` is a side of, by id."""
    with reading(vc) as conn:
        return agreement_store.read_agreements(conn, vc.org_id, unit_id=unit_id)


def agreement(vc: Valuechain, agreement_id: str, unit_id: str | None = None) -> Agreement:
    """One agreement; with ``unit_id`` only when that unit is one of its sides (so a
    path ``/units/{unit}/agreements/{id}`` cannot reach another unit's agreement)."""
    with reading(vc) as conn:
        found = agreement_store.read_agreements(conn, vc.org_id, agreement_id=agreement_id)
    if not found or (
        unit_id is not None and unit_id not in (found[0].provider_id, found[0].customer_id)
    ):
        where = "" if unit_id is None else f" of unit {unit_id!r}"
        raise NotFound(f"no agreement {agreement_id!r}{where}")
    return found[0]


def side_of(agreement: Agreement, unit_id: str) -> Side:
    """Which side of ``agreement`` unit ``unit_id`` is (its lead acts for that side)."""
    if unit_id == agreement.provider_id:
        return Side.PROVIDER
    if unit_id == agreement.customer_id:
        return Side.CUSTOMER
    raise NotFound(f"unit {unit_id!r} is no side of agreement {agreement.id!r}")


def _step(
    vc: Valuechain,
    agreement_id: str,
    unit_id: str,
    actor: Actor,
    action: str,
    change: Callable[[Agreement, Side], None],
) -> Agreement:
    """Apply one step of the agreement's life for ``unit_id``'s side and store it,
    with its audit event, in one transaction. A refused step raises
    :class:`AgreementStepRefused` and changes nothing."""
    with writing(vc) as conn:
        found = agreement_store.read_agreements(conn, vc.org_id, agreement_id=agreement_id)
        if not found:
            raise NotFound(f"no agreement {agreement_id!r}")
        current = found[0]
        side = side_of(current, unit_id)
        try:
            change(current, side)
        except TransitionError as error:
            raise AgreementStepRefused(str(error)) from None
        agreement_store.save_state(conn, vc.org_id, current)
        audit.record(
            vc,
            action,
            actor,
            subject=f"agreement {agreement_id}",
            detail=f"{side.value} side ({unit_id}); now {current.state.value}",
            conn=conn,
        )
    return current


class AgreementStepRefused(Conflict):
    """A step the agreement's life does not allow now (e.g. agreeing to a draft)."""


AGREEMENT_PROPOSED = "agreement_proposed"
AGREEMENT_AGREED = "agreement_agreed"
AGREEMENT_REVIEW = "agreement_review"


def propose(vc: Valuechain, agreement_id: str, unit_id: str, actor: Actor) -> Agreement:
    """A lead of either side puts a draft (or an agreement under review with new
    terms) to both leads."""
    return _step(
        vc, agreement_id, unit_id, actor, AGREEMENT_PROPOSED, lambda a, _side: domain_propose(a)
    )


def agree(
    vc: Valuechain, agreement_id: str, unit_id: str, actor: Actor, *, at: datetime | None = None
) -> Agreement:
    """``unit_id``'s lead agrees; the agreement is agreed once both sides have."""
    moment = at or datetime.now(UTC)
    who = actor.label or "unknown"
    return _step(
        vc,
        agreement_id,
        unit_id,
        actor,
        AGREEMENT_AGREED,
        lambda a, side: domain_agree(a, side, who, moment),
    )


def review(vc: Valuechain, agreement_id: str, unit_id: str, actor: Actor) -> Agreement:
    """A lead of either side asks to review an agreement in force."""
    return _step(
        vc, agreement_id, unit_id, actor, AGREEMENT_REVIEW, lambda a, _side: start_review(a)
    )


def start_due_reviews(vc: Valuechain, today: date, actor: Actor | None = None) -> list[str]:
    """Put every agreed agreement whose review date has come under review (a job;
    idempotent: an agreement already under review is left alone). Returns their ids."""
    who = actor or Actor(None, "valuechain:review-dates", None)
    started: list[str] = []
    with writing(vc) as conn:
        for a in agreement_store.read_agreements(conn, vc.org_id, states=[AgreementState.AGREED]):
            if review_due(a, today):
                start_review(a)
                agreement_store.save_state(conn, vc.org_id, a)
                audit.record(
                    vc,
                    AGREEMENT_REVIEW,
                    who,
                    subject=f"agreement {a.id}",
                    detail=f"review date {a.review_on} reached",
                    conn=conn,
                )
                started.append(a.id)
    return started


def reviews_due_of(agreements: list[Agreement], today: date) -> list[Agreement]:
    """Those of ``agreements`` under review or whose review date has come."""
    return [a for a in agreements if a.state is AgreementState.UNDER_REVIEW or review_due(a, today)]


def reviews_due(vc: Valuechain, unit_id: str, today: date) -> list[Agreement]:
    """The agreements of ``unit_id`` (either side) under review or whose review date
    has come: they show up on both sides."""
    return reviews_due_of(agreements_of(vc, unit_id), today)


AGREEMENT_DRAFTED = "agreement_drafted"
PERCENT_METRICS = frozenset({Metric.ON_TIME_PCT, Metric.QUALITY_PCT})


def draft(
    vc: Valuechain,
    unit_id: str,
    actor: Actor,
    *,
    result_id: str,
    customer_id: str,
    targets: dict[Metric, float],
    obligations: tuple[str, ...] = (),
    calendar: str | None = None,
    review_on: date | None = None,
    channel: str | None = None,
    cadence: str | None = None,
) -> Agreement:
    """A new agreement in state *draft*, written by a lead of either side: the producer
    of ``result_id`` (the provider) or ``customer_id``, who must use that result on the
    map. Then either lead proposes it and both agree (:func:`propose`, :func:`agree`)."""
    with writing(vc):
        chain = vc.chain()
        position = chain.result_pos.get(result_id)
        if position is None:
            raise NotFound(f"no result {result_id!r}")
        provider = chain.columns.unit_ids[int(chain.graph.result_unit[position])]
        if unit_id not in (provider, customer_id):
            raise AgreementStepRefused(
                f"{unit_id!r} is neither the provider ({provider}) nor the customer ({customer_id})"
            )
        users = {
            row["unit"] for row in vc.customers(provider)["direct"] if result_id in row["results"]
        }
        if customer_id not in users:
            raise AgreementStepRefused(f"{customer_id!r} does not use {result_id!r} on the map")
        if not targets:
            raise AgreementStepRefused("an agreement needs at least one target")
        for metric, value in targets.items():
            if (problem := target_problem(metric, value)) is not None:
                raise AgreementStepRefused(f"{metric.value}: {problem}")
        if calendar is not None and calendar not in calendars(vc):
            raise AgreementStepRefused(f"no calendar named {calendar!r}")
        with writing(vc) as conn:
            taken = agreement_store.agreement_ids(conn, vc.org_id)
            number = 1
            while f"{result_id}-{customer_id}-{number}" in taken:
                number += 1
            made = Agreement(
                id=f"{result_id}-{customer_id}-{number}",
                result_id=result_id,
                customer_id=customer_id,
                targets=dict(targets),
                calendar=calendar,
                review_on=review_on,
                channel=channel or None,
                cadence=cadence or None,
                state=AgreementState.DRAFT,
                obligations=tuple(o.strip() for o in obligations if o.strip()),
                provider_id=provider,
            )
            agreement_store.write_agreements(conn, vc.org_id, [made])
            audit.record(
                vc, AGREEMENT_DRAFTED, actor, subject=f"agreement {made.id}",
                detail=f"drafted by the {'provider' if unit_id == provider else 'customer'} side",
                conn=conn,
            )  # fmt: skip
        return made
