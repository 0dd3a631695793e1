"""Alerts the task queue sends: requests near or past their agreement's targets,
agreements whose review date has come, and commitments coming due. Each alert is
queued once (its kind and subject identify it), to the leads of the units concerned,
through the notification outbox (so each person's choices apply)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from valuechain.services import agreement, commitment, notification
from valuechain.services import request as request_service
from valuechain.services.organisation import Valuechain
from valuechain.services.transaction import writing
from valuechain.store import notification as notification_store
from valuechain.store import request as request_store

#: How far ahead recurring deliverables are turned into due commitments.
COMMITMENT_HORIZON = timedelta(days=14)
OPEN_LIMIT = 100_000


def _leads(vc: Valuechain) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for person in vc.read_map().people:
        if person.role.value == "lead":
            found.setdefault(person.unit_id, []).append(person.id)
    return found


def _queue_once(
    vc: Valuechain, people: list[str], kind: str, subject: str, body: str, link: str
) -> int:
    with writing(vc) as conn:
        if notification_store.queued_before(conn, vc.org_id, kind, subject):
            return 0
        return sum(
            len(notification.notify(vc, person, kind, subject, body, link)) for person in people
        )


def sla_alerts(vc: Valuechain, now: datetime | None = None) -> int:
    """Tell the provider's leads about every open request that breached a target or
    used 75% of one (business hours on the agreement's calendar), once per state."""
    with writing(vc) as conn:
        rows = request_store.list_requests(conn, vc.org_id, open_only=True, limit=OPEN_LIMIT)
        return _queue_sla_alerts(vc, rows, now)


def _queue_sla_alerts(vc: Valuechain, rows: list[dict[str, Any]], now: datetime | None) -> int:
    leads = _leads(vc)
    queued = 0
    for row in request_service.with_clocks(vc, rows, now):
        if row["breached"]:
            kind, state = "sla_breach", "breached its target"
        elif row["near_breach"]:
            kind, state = "sla_near_breach", "is close to its target"
        else:
            continue
        subject = f"Request {row['id']} {state}: {row['title']}"
        body = (
            f'The request "{row["title"]}" from {row["customer_id"]} to {row["provider_id"]} '
            f"{state} (first response {row['response_hours']} of "
            f"{row['response_target_hours']} business hours, resolution "
            f"{row['resolution_hours']} of {row['resolution_target_hours']})."
        )
        queued += _queue_once(
            vc, leads.get(row["provider_id"], []), kind, subject, body, f"/requests/{row['id']}"
        )
    return queued


def review_reminders(vc: Valuechain, now: datetime | None = None) -> int:
    """Start the reviews whose date has come and tell both sides' leads, in one unit:
    a review is started with its reminders or not at all."""
    with writing(vc):
        return _remind(vc, (now or datetime.now(UTC)).date())


def _remind(vc: Valuechain, today: date) -> int:
    started = set(agreement.start_due_reviews(vc, today))
    leads = _leads(vc)
    queued = 0
    for a in agreement.agreements_of(vc):
        if a.id not in started:
            continue
        people = leads.get(a.provider_id or "", []) + leads.get(a.customer_id, [])
        subject = f"Agreement {a.id} is due for review"
        body = (
            f"The agreement between {a.provider_id} and {a.customer_id} reached its review "
            f"date ({a.review_on}). Meet, compare targets with actuals, and agree again."
        )
        queued += _queue_once(vc, people, "review_reminder", subject, body, "/")
    return queued


def commitments_due(vc: Valuechain, now: datetime | None = None) -> int:
    """Turn recurring deliverables into due commitments for the next two weeks
    (idempotent: an agreement and due time are stored once)."""
    return commitment.generate_due(vc, (now or datetime.now(UTC)) + COMMITMENT_HORIZON)
