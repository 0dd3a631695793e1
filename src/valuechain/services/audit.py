"""The audit log: who did what, when, from where. Append-only: this module offers
recording and reading and nothing else (see ``store.audit``)."""

from __future__ import annotations

import getpass
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from valuechain.domain.account import MAX_AUDIT_PAGE
from valuechain.services.organisation import Valuechain
from valuechain.services.transaction import reading, writing
from valuechain.store import audit as store
from valuechain.store.accounts import utc

# What is recorded here; report deliveries ("report_delivered") are recorded by
# services.report, data-rights exports and erasures by services.person.
SIGN_IN = "sign_in"
SIGN_OUT = "sign_out"
SETUP = "setup"
ACCOUNT_CREATED = "account_created"
ACCOUNT_CHANGED = "account_changed"
IMPORT = "import"
EXPORT = "export"
# Changes to what anyone may see: the anonymity thresholds and the campaigns.
THRESHOLD_CHANGED = "threshold_changed"
CAMPAIGN_CREATED = "campaign_created"
CAMPAIGN_INVITED = "campaign_invited"
CAMPAIGN_REMINDED = "campaign_reminded"
CAMPAIGN_CLOSED = "campaign_closed"

SUCCESS = "success"
REFUSED = "refused"
RATE_LIMITED = "rate_limited"
FAILED = "failed"

MAX_PAGE_SIZE = MAX_AUDIT_PAGE


@dataclass(frozen=True)
class Actor:
    """Who acts and from where: an account (``id`` and its email as ``label``), the
    command line (``cli:<user>``), or nobody known yet (a failed sign-in)."""

    id: str | None
    label: str | None
    address: str | None

    @classmethod
    def command_line(cls) -> Actor:
        """The person at the terminal, named by their operating-system user."""
        try:
            user = getpass.getuser()
        except (OSError, KeyError):  # no user name in containers without /etc/passwd
            user = "unknown"
        return cls(None, f"cli:{user}", "cli")


@dataclass(frozen=True)
class AuditEvent:
    """One line of the audit log."""

    id: str
    at: datetime
    actor_id: str | None
    actor: str | None
    action: str
    subject: str | None
    outcome: str
    address: str | None
    detail: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor_id": self.actor_id,
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "outcome": self.outcome,
            "address": self.address,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class AuditPage:
    """Events newest first, one page of them, and how many there are in all."""

    events: list[AuditEvent]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _event_id(now: datetime) -> str:
    # Microseconds since the epoch, zero-padded, so text order is time order across
    # processes; the random suffix keeps ids unique within one microsecond.
    micros = int(now.timestamp() * 1_000_000)
    return f"{micros:017d}-{secrets.token_hex(6)}"


def record(
    vc: Valuechain,
    action: str,
    actor: Actor,
    *,
    outcome: str = SUCCESS,
    subject: str | None = None,
    detail: str | None = None,
    conn: Connection | None = None,
) -> None:
    """Append one event; inside ``conn``'s transaction when given, so the event and
    the change it describes are committed together or not at all."""
    now = datetime.now(UTC)
    event = {
        "id": _event_id(now),
        "at": now,
        "actor_id": actor.id,
        "actor": actor.label,
        "action": action,
        "subject": subject[:1000] if subject else subject,
        "outcome": outcome,
        "address": actor.address[:64] if actor.address else actor.address,
        "detail": detail[:2000] if detail else detail,
    }
    if conn is not None:
        store.append(conn, vc.org_id, event)
        return
    with writing(vc) as own:
        store.append(own, vc.org_id, event)


def read_page(vc: Valuechain, page: int = 1, per_page: int = 50) -> AuditPage:
    """Page ``page`` (from 1) of the log, newest first, ``per_page`` events a page
    (at most :data:`MAX_PAGE_SIZE`)."""
    page = max(1, page)
    per_page = min(max(1, per_page), MAX_PAGE_SIZE)
    with reading(vc) as conn:
        total = store.count(conn, vc.org_id)
        rows = store.newest_first(conn, vc.org_id, (page - 1) * per_page, per_page)
    events = [
        AuditEvent(
            id=r.id,
            at=utc(r.at),
            actor_id=r.actor_id,
            actor=r.actor,
            action=r.action,
            subject=r.subject,
            outcome=r.outcome,
            address=r.address,
            detail=r.detail,
        )
        for r in rows
    ]
    return AuditPage(events, page, per_page, total)
