"""The notification outbox, preferences and webhooks: their SQL and nothing else.

Claiming is a conditional UPDATE (``... WHERE status = 'pending' AND due_at <= now``)
that moves ``due_at`` to the end of a lease: of two workers that read the same due
row, exactly one updates it (PostgreSQL re-checks the WHERE after the other's
commit; SQLite has one writer at a time), so a row is in one worker's hands at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, func, insert, select, update

from valuechain.domain.notification import Preference, Status
from valuechain.store.organisation import PEOPLE
from valuechain.store.tables import (
    NotificationOutboxRow,
    NotificationPreferenceRow,
    NotificationWebhookRow,
)

OUTBOX: Table = NotificationOutboxRow.__table__  # type: ignore[assignment]
PREFERENCES: Table = NotificationPreferenceRow.__table__  # type: ignore[assignment]
WEBHOOKS: Table = NotificationWebhookRow.__table__  # type: ignore[assignment]
ORGANISATION_WEBHOOK = ""  # the person id under which the organisation's webhook is kept


# -- people and choices -------------------------------------------------------------


def person(conn: Connection, org_id: int, person_id: str) -> Any | None:
    """The person's id, name and email, or ``None``."""
    return conn.execute(
        select(PEOPLE.c.id, PEOPLE.c.name, PEOPLE.c.email).where(
            PEOPLE.c.org_id == org_id, PEOPLE.c.id == person_id
        )
    ).first()


def person_by_email(conn: Connection, org_id: int, email: str) -> Any | None:
    """The person with this email address (compared without case), or ``None``."""
    return conn.execute(
        select(PEOPLE.c.id, PEOPLE.c.name, PEOPLE.c.email).where(
            PEOPLE.c.org_id == org_id, func.lower(PEOPLE.c.email) == email.lower()
        )
    ).first()


def preferences(conn: Connection, org_id: int, person_id: str) -> dict[str, Preference]:
    """The kinds the person has made a choice about (the rest are on)."""
    rows = conn.execute(
        select(PREFERENCES.c.kind, PREFERENCES.c.email, PREFERENCES.c.webhook).where(
            PREFERENCES.c.org_id == org_id, PREFERENCES.c.person_id == person_id
        )
    )
    return {r.kind: Preference(r.kind, bool(r.email), bool(r.webhook)) for r in rows}


def save_preferences(
    conn: Connection, org_id: int, person_id: str, choices: Iterable[Preference]
) -> None:
    """Replace the person's choices for the given kinds."""
    chosen = list(choices)
    if not chosen:
        return
    conn.execute(
        delete(PREFERENCES).where(
            PREFERENCES.c.org_id == org_id,
            PREFERENCES.c.person_id == person_id,
            PREFERENCES.c.kind.in_([c.kind for c in chosen]),
        )
    )
    conn.execute(
        insert(PREFERENCES),
        [
            {
                "org_id": org_id,
                "person_id": person_id,
                "kind": c.kind,
                "email": c.email,
                "webhook": c.webhook,
            }
            for c in chosen
        ],
    )


def webhook(conn: Connection, org_id: int, person_id: str) -> str | None:
    """The webhook URL kept under ``person_id`` exactly (``""`` for the organisation's)."""
    found = conn.execute(
        select(WEBHOOKS.c.url).where(WEBHOOKS.c.org_id == org_id, WEBHOOKS.c.person_id == person_id)
    ).scalar_one_or_none()
    return str(found) if found is not None else None


def webhook_for(conn: Connection, org_id: int, person_id: str | None) -> str | None:
    """The URL a notification to ``person_id`` is posted to: their own webhook, else
    the organisation's, else ``None``."""
    if person_id:
        own = webhook(conn, org_id, person_id)
        if own is not None:
            return own
    return webhook(conn, org_id, ORGANISATION_WEBHOOK)


def set_webhook(conn: Connection, org_id: int, person_id: str, url: str | None) -> None:
    """Keep ``url`` under ``person_id`` (``""``: the organisation's); ``None`` removes it."""
    conn.execute(
        delete(WEBHOOKS).where(WEBHOOKS.c.org_id == org_id, WEBHOOKS.c.person_id == person_id)
    )
    if url is not None:
        conn.execute(insert(WEBHOOKS).values(org_id=org_id, person_id=person_id, url=url))


# -- the outbox ----------------------------------------------------------------------


def add(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert outbox rows (in the caller's transaction)."""
    if rows:
        conn.execute(insert(OUTBOX), list(rows))


def due(conn: Connection, now: datetime, limit: int, org_id: int | None = None) -> list[Any]:
    """Pending rows whose time has come, oldest first, across organisations (or of
    one)."""
    stmt = select(OUTBOX).where(OUTBOX.c.status == Status.PENDING.value, OUTBOX.c.due_at <= now)
    if org_id is not None:
        stmt = stmt.where(OUTBOX.c.org_id == org_id)
    return list(conn.execute(stmt.order_by(OUTBOX.c.due_at, OUTBOX.c.id).limit(limit)))


def claim(conn: Connection, org_id: int, row_id: str, now: datetime, until: datetime) -> bool:
    """Take the row for one attempt until ``until``; ``False`` if another worker has it
    or it is no longer due."""
    done = conn.execute(
        update(OUTBOX)
        .where(
            OUTBOX.c.org_id == org_id,
            OUTBOX.c.id == row_id,
            OUTBOX.c.status == Status.PENDING.value,
            OUTBOX.c.due_at <= now,
        )
        .values(due_at=until, attempts=OUTBOX.c.attempts + 1)
    )
    return done.rowcount == 1


def release(conn: Connection, org_id: int, row_id: str, now: datetime) -> None:
    """Give back a claimed row that was not tried: due now, the claim not counted."""
    conn.execute(
        update(OUTBOX)
        .where(
            OUTBOX.c.org_id == org_id,
            OUTBOX.c.id == row_id,
            OUTBOX.c.status == Status.PENDING.value,
        )
        .values(due_at=now, attempts=OUTBOX.c.attempts - 1)
    )


def mark_sent(conn: Connection, org_id: int, row_id: str, now: datetime) -> None:
    conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.org_id == org_id, OUTBOX.c.id == row_id)
        .values(status=Status.SENT.value, sent_at=now, last_error=None)
    )


def mark_attempt_failed(
    conn: Connection, org_id: int, row_id: str, error: str, retry_at: datetime | None
) -> None:
    """Record a failed attempt: due again at ``retry_at``, or failed for good."""
    values: dict[str, Any] = {"last_error": error[:2000]}
    if retry_at is None:
        values["status"] = Status.FAILED.value
    else:
        values["due_at"] = retry_at
    conn.execute(
        update(OUTBOX)
        .where(
            OUTBOX.c.org_id == org_id,
            OUTBOX.c.id == row_id,
            OUTBOX.c.status == Status.PENDING.value,
        )
        .values(**values)
    )


def retry(conn: Connection, org_id: int, row_ids: Sequence[str] | None, now: datetime) -> int:
    """Make failed rows (all, or these) pending again, due now, attempts from zero."""
    where = [OUTBOX.c.org_id == org_id, OUTBOX.c.status == Status.FAILED.value]
    if row_ids is not None:
        where.append(OUTBOX.c.id.in_(list(row_ids)))
    done = conn.execute(
        update(OUTBOX)
        .where(and_(*where))
        .values(status=Status.PENDING.value, due_at=now, attempts=0)
    )
    return int(done.rowcount)


def counts(conn: Connection, org_id: int) -> dict[str, int]:
    """Rows per status."""
    found = {s.value: 0 for s in Status}
    for status, n in conn.execute(
        select(OUTBOX.c.status, func.count())
        .where(OUTBOX.c.org_id == org_id)
        .group_by(OUTBOX.c.status)
    ):
        found[status] = int(n)
    return found


def rows(conn: Connection, org_id: int, status: str | None, limit: int) -> list[Any]:
    """The newest rows (of one status, or all)."""
    stmt = select(OUTBOX).where(OUTBOX.c.org_id == org_id)
    if status is not None:
        stmt = stmt.where(OUTBOX.c.status == status)
    return list(conn.execute(stmt.order_by(OUTBOX.c.id.desc()).limit(limit)))


def row(conn: Connection, org_id: int, row_id: str) -> Any | None:
    return conn.execute(
        select(OUTBOX).where(OUTBOX.c.org_id == org_id, OUTBOX.c.id == row_id)
    ).first()


def purge_sent(conn: Connection, before: datetime) -> int:
    """Delete rows sent before ``before`` (every organisation); returns how many."""
    done = conn.execute(
        delete(OUTBOX).where(OUTBOX.c.status == Status.SENT.value, OUTBOX.c.sent_at < before)
    )
    return int(done.rowcount)


def queued_before(conn: Connection, org_id: int, kind: str, subject: str) -> bool:
    """Whether a notification of ``kind`` with this exact subject was ever queued: how
    an alert job that runs every few minutes sends each alert once."""
    stmt = (
        select(OUTBOX.c.id)
        .where(OUTBOX.c.org_id == org_id, OUTBOX.c.kind == kind, OUTBOX.c.subject == subject)
        .limit(1)
    )
    return conn.execute(stmt).first() is not None
