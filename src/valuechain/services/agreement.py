"""Service agreements: their terms for the request clocks, and their life (draft ->
proposed -> agreed by both leads -> under review -> agreed again).

The provider of an agreement is the producer of its result; the customer is the unit
it names. See ``docs/agree.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from valuechain.domain.agreement import IN_FORCE, Agreement, CalendarSpec, Metric
from valuechain.domain.calendar import DEFAULT, Calendar, calendar
from valuechain.services.organisation import Valuechain
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
    with vc.engine.connect() as conn:
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
    known = calendars(vc)
    with vc.engine.connect() as conn:
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
