"""Commitments: what a provider promised to deliver by when, and how each promise
ended — kept, exceeded (early by the agreement's margin), missed, or missed after an
early warning given before it was due."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr


class Outcome(StrEnum):
    """How a commitment ended (or that it has not yet)."""

    KEPT = "kept"
    EXCEEDED = "exceeded"
    MISSED = "missed"
    WARNED = "warned"  # missed, but the customer was told before it was due
    PENDING = "pending"  # not delivered and not yet due


class RecurrenceError(ValueError):
    """A recurrence rule that cannot be read."""


def due_dates(rule: str, first: datetime, until: datetime, timezone: str = "UTC") -> list[datetime]:
    """The due times of a recurring deliverable (an iCalendar RRULE such as
    ``FREQ=WEEKLY;BYDAY=MO;BYHOUR=10;BYMINUTE=0``) from ``first`` to ``until``,
    as aware datetimes in ``timezone``; "every Monday 10:00" stays 10:00 local time
    across daylight-saving changes (RFC 5545 semantics via dateutil)."""
    zone = ZoneInfo(timezone)
    # dateutil expands in wall time when dtstart is naive: that is what keeps 10:00 local.
    start = first.astimezone(zone).replace(tzinfo=None)
    end = until.astimezone(zone).replace(tzinfo=None)
    try:
        recurrence = rrulestr(rule, dtstart=start)
    except (ValueError, TypeError) as error:
        raise RecurrenceError(f"expected an iCalendar RRULE; {error}") from None
    return [moment.replace(tzinfo=zone) for moment in recurrence.between(start, end, inc=True)]


def check_rule(rule: str) -> None:
    """Raise :class:`RecurrenceError` unless ``rule`` is an RRULE dateutil can expand."""
    try:
        rrulestr(rule, dtstart=datetime(2000, 1, 3, 10, 0))
    except (ValueError, TypeError) as error:
        raise RecurrenceError(f"expected an iCalendar RRULE; {error}") from None
