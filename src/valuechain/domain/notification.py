"""Notifications: what a person can be told about, over which channels, and the
retry rule of the outbox. Pure: no I/O (see ``services.notification``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Channel(StrEnum):
    """How a notification reaches a person."""

    EMAIL = "email"
    WEBHOOK = "webhook"  # a Slack-compatible incoming webhook: POST {"text": ...}


class Status(StrEnum):
    """Where an outbox row stands."""

    PENDING = "pending"  # waiting for its first attempt or for its next retry
    SENT = "sent"
    FAILED = "failed"  # gave up after MAX_ATTEMPTS


# What a person can choose to receive, with the label the settings page shows. Other
# capabilities append their kinds here (one line each).
KINDS: dict[str, str] = {
    "survey_reminder": "Survey reminders",
    "commitment_due": "Commitments coming due",
    "sla_near_breach": "Requests about to breach their agreement",
    "sla_breach": "Requests that breached their agreement",
    "review_reminder": "Agreement reviews due",
    "action_overdue": "Overdue improvement actions (time to regroup)",
    "request_update": "Changes to my requests",
    "thanks": "Thanks received",
    "report": "Scheduled reports",
    "map_link": "Links between my unit and others, proposed or answered",
    "map_result": "Changes to results my unit uses",
    "map_unit": "Changes to my unit on the map, and people joining or leaving it",
    "request_mention": "Mentions of me in the conversation on a request",
}

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class Preference:
    """One person's choice for one kind. Everything is on until the person says no."""

    kind: str
    email: bool = True
    webhook: bool = True

    def allows(self, channel: Channel) -> bool:
        return self.email if channel is Channel.EMAIL else self.webhook


def next_attempt(attempts: int, now: datetime) -> datetime | None:
    """When to try again after ``attempts`` failed attempts: exponential backoff
    (1, 2, 4, ... minutes, at most 6 hours), or ``None`` to give up after
    :data:`MAX_ATTEMPTS`."""
    if attempts >= MAX_ATTEMPTS:
        return None
    delay: timedelta = FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return now + min(delay, LONGEST_RETRY)


def message_id(org_id: int, row_id: str) -> str:
    """The stable id of one outbox row's message: the ``Message-ID`` header of its
    email and the ``Idempotency-Key`` of its webhook call, the same on every retry, so
    a receiver can drop the duplicate that at-least-once delivery may produce."""
    return f"<{row_id}.{org_id}@valuechain.notification>"
