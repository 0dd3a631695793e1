"""The demo organisation's agreements: business calendars, service agreements in
every state, a year of commitments (December 2025 to November 2026) and capacity
shares. Tables plus one small generator; the same seed always gives the same log.

The story the app should find:

* **production planning → assembly** keeps its weekly plan (Monday 07:00) and often
  delivers it on Friday (exceeded), and when it slips in spring it says so days ahead:
  high trust although not every plan is on time;
* **production planning → machining** misses as often, but by surprise: lower trust,
  and its review date has passed, so it is **under review** on both sides;
* **payroll → assembly** is late three times a year without warning, so it misses its
  100% on-time target, yet assembly rates payroll well: the watermelon check flags
  *targets missed, customer happy*;
* the IT service desk's agreement with customer service is **proposed** (the desk
  agreed, customer service not yet) and quality assurance's with packing is a **draft**;
* assembly's demand on machined housings (520 a week) is above its share (500), and
  packing's on assembled pumps (520) above its share (450, all assembly can make):
  both open a **negotiation** instead of silently overloading the provider.
"""

# ruff: noqa: E501

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from valuechain.domain.agreement import (
    Agreement,
    AgreementState,
    CalendarSpec,
    Commitment,
    Metric,
)
from valuechain.domain.commitment import due_dates
from valuechain.services.capacity import open_negotiations
from valuechain.services.organisation import Valuechain
from valuechain.services.transaction import writing
from valuechain.store import capacity as capacity_store

CALENDARS: tuple[CalendarSpec, ...] = (
    CalendarSpec("plant", "Europe/Amsterdam", "mon-fri 06:00-22:00; sat 06:00-14:00", "NL"),
    CalendarSpec(
        "office", "Europe/Amsterdam", "mon-fri 08:30-12:30 13:15-17:15", "NL 2026-12-24 2026-12-31"
    ),
)

AGREED_AT = datetime(2025, 11, 17, 10, tzinfo=UTC)
ON, RESP, RESO, QUAL = (
    Metric.ON_TIME_PCT,
    Metric.RESPONSE_HOURS,
    Metric.RESOLUTION_HOURS,
    Metric.QUALITY_PCT,
)
A, U, P, D = (
    AgreementState.AGREED,
    AgreementState.UNDER_REVIEW,
    AgreementState.PROPOSED,
    AgreementState.DRAFT,
)

# id, result, customer, targets, calendar, review on, channel, cadence, state, obligations, exceed margin (h), RRULE
AgreementRow = tuple[
    str,
    str,
    str,
    dict[Metric, float],
    str | None,
    str | None,
    str,
    str,
    AgreementState,
    tuple[str, ...],
    float | None,
    str | None,
]
AGREEMENTS: tuple[AgreementRow, ...] = (
    ("plan-assembly", "production-plan", "assembly", {ON: 95, RESP: 4}, "plant", "2027-01-15", "Teams #weekly-plan", "weekly stand-up, Thursday",
     A, ("Order changes by Thursday 12:00", "Line capacity changes announced a week ahead"), 24, "FREQ=WEEKLY;BYDAY=MO;BYHOUR=7;BYMINUTE=0"),
    ("plan-machining", "production-plan", "machining", {ON: 95, RESP: 4}, "plant", "2026-11-01", "Teams #weekly-plan", "weekly stand-up, Thursday",
     U, ("Machine downtime announced by Wednesday", "Tooling shortages reported the same day"), 24, "FREQ=WEEKLY;BYDAY=MO;BYHOUR=7;BYMINUTE=0"),
    ("housings-assembly", "machined-housings", "assembly", {ON: 98, QUAL: 99.5}, "plant", "2027-03-01", "andon board", "daily shift handover",
     A, ("Kanban cards returned by 14:00", "Quality holds flagged within 2 hours"), 4, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=14;BYMINUTE=0"),
    ("payroll-assembly", "payroll-run", "assembly", {ON: 100}, "office", "2027-06-30", "email to payroll@", "quarterly review",
     A, ("Hours approved by the 20th", "New starters reported a week before they start"), None, "FREQ=MONTHLY;BYMONTHDAY=25;BYHOUR=12;BYMINUTE=0"),
    ("desk-assembly", "resolved-incidents", "assembly", {RESP: 2, RESO: 16}, "office", "2026-12-01", "service desk portal", "monthly service review",
     A, ("Incidents filed in the portal, not by phone", "A contact on shift for every ticket"), None, None),
    ("desk-customer-service", "resolved-incidents", "customer-service", {RESP: 1, RESO: 8}, "office", "2027-02-01", "service desk portal", "monthly service review",
     P, ("Priority set by the team lead",), None, None),
    ("qa-packing", "inspection-release", "packing", {QUAL: 99, ON: 97}, "plant", None, "Teams #quality", "weekly",
     D, ("Samples ready at the line by 10:00",), None, None),
    # What the external customer asks: the yardstick for entitlement (assembly asks
    # machining for 98% on time while the installers it works for need 95%).
    ("pumps-installers", "delivered-pumps", "installers", {ON: 95}, "plant", None, "key account manager", "quarterly business review",
     A, ("Orders placed by Friday for the week after",), None, None),
)  # fmt: skip

# Per agreement with a recurring deliverable: chances of each ending, by season.
# (exceeded, warned, missed) — the rest is kept.
ODDS: dict[str, tuple[float, float, float]] = {
    "plan-assembly": (0.30, 0.08, 0.02),
    "plan-machining": (0.10, 0.01, 0.10),
    "housings-assembly": (0.05, 0.02, 0.02),
    "payroll-assembly": (0.00, 0.00, 0.25),
}
SPRING = (4, 5, 6)  # production planning slips in spring (the Q2 survey story)
YEAR = (datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC))

# Capacity shares: (result, customer, items a week).
SHARES: tuple[tuple[str, str, float], ...] = (
    ("machined-housings", "assembly", 500),
    ("machined-housings", "quality-assurance", 60),
    ("assembled-pumps", "packing", 450),
    ("assembled-pumps", "quality-assurance", 520),
    ("resolved-incidents", "assembly", 25),
    ("resolved-incidents", "customer-service", 25),
    ("resolved-incidents", "business-applications", 30),
)


def demo_calendars() -> list[CalendarSpec]:
    return list(CALENDARS)


def demo_agreements() -> list[Agreement]:
    """The agreements; those in force carry both leads' consent of November 2025."""
    found = []
    for (
        aid,
        result,
        customer,
        targets,
        cal,
        review,
        channel,
        cadence,
        state,
        duties,
        margin,
        rule,
    ) in AGREEMENTS:
        agreed = state in (AgreementState.AGREED,)
        found.append(
            Agreement(
                aid,
                result,
                customer,
                targets={m: float(v) for m, v in targets.items()},
                calendar=cal,
                review_on=None if review is None else date.fromisoformat(review),
                channel=channel,
                cadence=cadence,
                state=state,
                obligations=duties,
                exceed_margin_hours=margin,
                deliverable_rrule=rule,
                provider_agreed_by="demo: provider lead" if agreed or state is P else None,
                provider_agreed_at=AGREED_AT if agreed or state is P else None,
                customer_agreed_by="demo: customer lead" if agreed else None,
                customer_agreed_at=AGREED_AT if agreed else None,
            )
        )
    return found


def demo_commitments(seed: int = 7) -> list[Commitment]:
    """A year of due items with deliveries, early deliveries, warnings and misses."""
    rng = random.Random(seed)
    zones = {c.name: c.timezone for c in CALENDARS}
    log: list[Commitment] = []
    for aid, _result, _customer, _t, cal, *_rest, rule in AGREEMENTS:
        if rule is None or aid not in ODDS:
            continue
        exceeded, warned, missed = ODDS[aid]
        for due in due_dates(rule, YEAR[0], YEAR[1], zones[cal or "plant"]):
            due = due.astimezone(UTC)
            slip = 2.5 if aid.startswith("plan-") and due.month in SPRING else 1.0
            draw = rng.random()
            if draw < warned * slip:
                told = due - timedelta(hours=rng.uniform(8, 72))
                log.append(Commitment(aid, due, due + timedelta(hours=rng.uniform(2, 30)), told))
            elif draw < (warned + missed) * slip:
                log.append(Commitment(aid, due, due + timedelta(hours=rng.uniform(1, 48))))
            elif draw < (warned + missed) * slip + exceeded:
                margin = next(r[10] for r in AGREEMENTS if r[0] == aid) or 0
                early = margin + rng.uniform(2, 30)
                log.append(Commitment(aid, due, due - timedelta(hours=early)))
            else:
                log.append(Commitment(aid, due, due - timedelta(minutes=rng.uniform(5, 180))))
    return log


def write_demo_capacity(vc: Valuechain) -> None:
    """Store the demo's capacity shares and open the negotiations they call for (as
    of 2 November 2026, so the demo is the same every time)."""
    with writing(vc) as conn:
        for result, customer, share in SHARES:
            capacity_store.set_share(conn, vc.org_id, result, customer, share)
    open_negotiations(vc, now=datetime(2026, 11, 2, 8, tzinfo=UTC))
