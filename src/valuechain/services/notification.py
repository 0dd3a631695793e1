"""Notifications through an outbox: :func:`notify` writes, :func:`drain` sends.

:func:`notify` inserts one outbox row per channel the person wants (email, and the
Slack-compatible webhook when one is configured) in the caller's transaction, so a
notification exists exactly when the change that caused it committed (the
transactional outbox pattern). :func:`drain`, run by the task queue
(``valuechain.jobs``), claims due rows with a lease, sends them and marks each one
sent in its own small transaction right after it was accepted.

Delivery is at-least-once: a worker killed between a send and its mark leaves that
one row to be sent again after its lease ends, so at most the message in flight is
duplicated. Each row's message id (the email's ``Message-ID``, the webhook's
``Idempotency-Key`` header) is the same on every attempt, so receivers can drop the
duplicate. A failed attempt is retried with exponential backoff
(``domain.notification.next_attempt``) and marked failed after the last attempt.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import Field
from sqlalchemy import Connection, Engine

from valuechain.domain.notification import (
    KINDS,
    Channel,
    Preference,
    Status,
    message_id,
    next_attempt,
)
from valuechain.services import accounts
from valuechain.services.errors import Conflict, Invalid, NotFound, ValuechainError
from valuechain.services.mail import Mail, Mailer
from valuechain.services.organisation import Valuechain
from valuechain.services.report_types import Preferences
from valuechain.services.transaction import reading, writing
from valuechain.settings import settings
from valuechain.store import notification as store
from valuechain.store.accounts import utc

BATCH = 50
WEBHOOK_TIMEOUT = 10.0


class NotificationError(Invalid):
    """A notification or a choice about them that cannot be accepted."""


def _now() -> datetime:
    return datetime.now(UTC)


def _row_id(now: datetime) -> str:
    # Time-ordered like audit events; the random suffix keeps ids unique.
    return f"{int(now.timestamp() * 1_000_000):017d}-{secrets.token_hex(6)}"


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise NotificationError(
            f"unknown notification kind {kind!r}; expected one of {', '.join(KINDS)}"
        )


def _check_url(url: str, *, personal: bool = False) -> str:
    """A webhook URL, checked. Its host must not be, nor resolve to, an internal
    address (loopback, private, link-local, …; :mod:`valuechain.services.outbound`)
    unless ``VALUECHAIN_WEBHOOK_HOSTS`` (comma-separated, ``*.example.org`` for
    subdomains) lists it; a person's own webhook must moreover be on a listed host
    when that is set."""
    # Imported here: httpx is slow to import and needed only when a URL is set.
    import httpx

    from valuechain.services import outbound

    url = url.strip()
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        port = parts.port
    except ValueError:  # e.g. an unbalanced "[" in the host, a port out of range
        hostname = port = None
    if hostname is None or parts.scheme not in ("http", "https"):
        raise NotificationError(f"webhook {url!r}: expected an http:// or https:// URL")
    try:
        # The host the worker's HTTP client will read, which must be the same one.
        client_host = httpx.URL(url).host
    except httpx.InvalidURL as error:
        raise NotificationError(f"webhook {url!r}: {error}") from None
    allowed = outbound.allowed_hosts()
    host = hostname.lower()
    if (
        personal
        and allowed
        and not (outbound.is_listed(host, allowed) and outbound.is_listed(client_host, allowed))
    ):
        raise NotificationError(
            f"webhook host {host!r} is not allowed; allowed: {', '.join(allowed)}"
        )
    default_port = 443 if parts.scheme == "https" else 80
    try:
        for name in dict.fromkeys((host, client_host.lower())):
            outbound.check_host(name, port or default_port, allowed)
    except outbound.AddressRefused as error:
        raise NotificationError(str(error)) from None
    return url


# -- writing ---------------------------------------------------------------------------


def notify(
    vc: Valuechain,
    to: str,
    kind: str,
    subject: str,
    body: str,
    link: str | None = None,
    *,
    conn: Connection | None = None,
) -> list[str]:
    """Queue a notification for a person (their id) or an email address, as the
    person chose for ``kind``; returns the outbox row ids (none when they opted out).

    With ``conn`` the rows are written in the caller's transaction and commit or roll
    back with the change that caused them; without it, in a transaction of their own.
    An email address that belongs to a person on the map follows that person's
    choices; another address gets email only."""
    _check_kind(kind)
    if conn is None:
        with writing(vc) as own:
            return notify(vc, to, kind, subject, body, link, conn=own)
    org_id = vc.org_id
    if "@" in to:
        found = store.person_by_email(conn, org_id, to.strip())
        person_id, address = (found.id, found.email) if found else (None, to.strip())
    else:
        found = store.person(conn, org_id, to)
        if found is None:
            raise NotFound(f"no person with id {to!r}")
        person_id, address = found.id, found.email
    choice = (
        store.preferences(conn, org_id, person_id).get(kind, Preference(kind))
        if person_id
        else Preference(kind, webhook=False)
    )
    channels = []
    if choice.email and address:
        channels.append(Channel.EMAIL)
    if choice.webhook and person_id and store.webhook_for(conn, org_id, person_id):
        channels.append(Channel.WEBHOOK)
    now = _now()
    rows = [
        {
            "org_id": org_id,
            "id": _row_id(now),
            "channel": channel.value,
            "person_id": person_id,
            "address": address if channel is Channel.EMAIL else None,
            "kind": kind,
            # One line: a line break in a mail header is refused (header injection).
            "subject": " ".join(subject.split())[:500],
            "body": body[:10000],
            "link": link,
            "created_at": now,
            "status": Status.PENDING.value,
            "attempts": 0,
            "due_at": now,
        }
        for channel in channels
    ]
    store.add(conn, rows)
    return [str(r["id"]) for r in rows]


# -- choices ---------------------------------------------------------------------------


def preferences(vc: Valuechain, person_id: str) -> list[Preference]:
    """The person's choice for every kind, in :data:`KINDS` order (on unless changed)."""
    with reading(vc) as conn:
        if store.person(conn, vc.org_id, person_id) is None:
            raise NotFound(f"no person with id {person_id!r}")
        chosen = store.preferences(conn, vc.org_id, person_id)
    return [chosen.get(kind, Preference(kind)) for kind in KINDS]


def set_preferences(vc: Valuechain, person_id: str, choices: Sequence[Preference]) -> None:
    """Store the person's choices for the kinds given (others keep theirs)."""
    for choice in choices:
        _check_kind(choice.kind)
    with writing(vc) as conn:
        if store.person(conn, vc.org_id, person_id) is None:
            raise NotFound(f"no person with id {person_id!r}")
        store.save_preferences(conn, vc.org_id, person_id, choices)


def choices(vc: Valuechain, person_id: str) -> Preferences:
    """The person's choice for every kind (:func:`preferences`, each with its label)
    and their own webhook (:func:`webhook`), read in one unit of work."""
    with reading(vc):
        return {
            "person": person_id,
            "preferences": [
                {"kind": p.kind, "label": KINDS[p.kind], "email": p.email, "webhook": p.webhook}
                for p in preferences(vc, person_id)
            ],
            "webhook_url": webhook(vc, person_id),
        }


def webhook(vc: Valuechain, person_id: str | None = None) -> str | None:
    """The person's own webhook URL, or with no person the organisation's."""
    with reading(vc) as conn:
        return store.webhook(conn, vc.org_id, person_id or store.ORGANISATION_WEBHOOK)


def set_webhook(vc: Valuechain, url: str | None, person_id: str | None = None) -> None:
    """Set (or with ``None`` remove) a person's own webhook, or the organisation's."""
    checked = _check_url(url, personal=bool(person_id)) if url else None
    with writing(vc) as conn:
        if person_id and store.person(conn, vc.org_id, person_id) is None:
            raise NotFound(f"no person with id {person_id!r}")
        store.set_webhook(conn, vc.org_id, person_id or store.ORGANISATION_WEBHOOK, checked)


# -- the outbox for admins -------------------------------------------------------------


@dataclass(frozen=True)
class OutboxRow:
    """One notification on one channel and where its delivery stands."""

    id: str
    channel: str
    person_id: str | None
    address: str | None
    kind: str
    subject: str
    status: str
    attempts: int
    created_at: datetime
    due_at: Annotated[datetime, Field(description="When a pending row is tried (again).")]
    sent_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class Outbox:
    """Rows per status and the newest rows."""

    counts: dict[str, int]
    rows: list[OutboxRow]


def outbox(vc: Valuechain, status: Status | None = None, limit: int = 100) -> Outbox:
    """The outbox state: how many rows are pending, sent and failed, and the newest
    ``limit`` rows (of ``status``, or all) with attempts, next try and last error."""
    with reading(vc) as conn:
        counts = store.counts(conn, vc.org_id)
        found = store.rows(conn, vc.org_id, status.value if status else None, limit)
    return Outbox(
        counts=counts,
        rows=[
            OutboxRow(
                id=r.id,
                channel=r.channel,
                person_id=r.person_id,
                address=r.address,
                kind=r.kind,
                subject=r.subject,
                status=r.status,
                attempts=r.attempts,
                created_at=utc(r.created_at),
                due_at=utc(r.due_at),
                sent_at=utc(r.sent_at) if r.sent_at else None,
                last_error=r.last_error,
            )
            for r in found
        ],
    )


def retry_failed(vc: Valuechain, row_ids: Sequence[str] | None = None) -> int:
    """Give failed rows (all, or these) a fresh set of attempts, due now."""
    with writing(vc) as conn:
        return store.retry(conn, vc.org_id, row_ids, _now())


# -- sending ---------------------------------------------------------------------------


@dataclass
class DrainResult:
    """What one drain did: rows sent, attempts that failed, rows given up on."""

    sent: int = 0
    failed_attempts: int = 0
    given_up: int = 0
    errors: list[str] = field(default_factory=list)


def lease_from_environment() -> timedelta:
    """``VALUECHAIN_OUTBOX_LEASE`` (``valuechain.settings``) as a duration: how long a
    worker holds a row it is sending before another may try it (longer than a batch
    takes to send; a killed worker's row is resent when it ends)."""
    return settings().outbox_lease_time


def _mail_text(row: Any) -> str:
    text = str(row.body)
    if row.link:
        text += f"\n\n{row.link}"
    return text + (
        f"\n\n--\nYou receive this as '{KINDS.get(row.kind, row.kind)}' from Valuechain; "
        "choose what you receive under Settings > Notifications."
    )


def _webhook_text(row: Any) -> str:
    text: str = f"*{row.subject}*\n{row.body}"
    return text + (f"\n{row.link}" if row.link else "")


def _claim(
    engine: Engine,
    lease: timedelta,
    limit: int,
    *,
    only: tuple[int, str] | None = None,
    org_id: int | None = None,
) -> list[Any]:
    now = _now()
    with writing(engine) as conn:
        if only is not None:
            one = store.row(conn, *only)
            candidates = [one] if one is not None else []
        else:
            candidates = store.due(conn, now, limit, org_id)
        # claim() re-checks status and due time, so a row taken meanwhile is skipped.
        return [r for r in candidates if store.claim(conn, r.org_id, r.id, now, now + lease)]


def _sent(engine: Engine, row: Any) -> None:
    with writing(engine) as conn:
        store.mark_sent(conn, row.org_id, row.id, _now())


def _failed(engine: Engine, row: Any, error: str, result: DrainResult) -> None:
    retry_at = next_attempt(row.attempts + 1, _now())  # +1: the claim counted this one
    with writing(engine) as conn:
        store.mark_attempt_failed(conn, row.org_id, row.id, error, retry_at)
    result.failed_attempts += 1
    result.given_up += retry_at is None
    result.errors.append(f"{row.id}: {error}")


def _release(engine: Engine, rows: Sequence[Any]) -> None:
    """Hand back rows claimed but not tried (their attempt does not count)."""
    now = _now()
    with writing(engine) as conn:
        for row in rows:
            store.release(conn, row.org_id, row.id, now)


def _send_mail(
    engine: Engine, rows: Sequence[Any], mailer: Callable[[], Mailer], result: DrainResult
) -> None:
    if not rows:
        return
    try:
        sender = mailer()
    except ValuechainError as error:
        for row in rows:
            _failed(engine, row, str(error), result)
        return
    by_id = {message_id(r.org_id, r.id): r for r in rows}
    mails = [
        Mail(r.address, r.subject, _mail_text(r), message_id=message_id(r.org_id, r.id))
        for r in rows
    ]
    done: list[Any] = []

    def accepted(mail: Mail) -> None:
        row = by_id[mail.message_id or ""]
        _sent(engine, row)
        done.append(row)
        result.sent += 1

    try:
        sender.send(mails, on_sent=accepted)
    except Exception as error:  # refused, unreachable, timed out: retry later
        untried = rows[len(done) :]
        if done:
            # The server took messages on this connection, so it is this message's
            # problem (a refused recipient): the rest go in the next round.
            _failed(engine, untried[0], f"{type(error).__name__}: {error}", result)
            _release(engine, untried[1:])
        else:
            for row in untried:
                _failed(engine, row, f"{type(error).__name__}: {error}", result)


def _send_webhooks(engine: Engine, rows: Sequence[Any], result: DrainResult) -> None:
    if not rows:
        return
    # Here, not at module level: httpx is a slow import only webhook delivery needs.
    import httpx

    from valuechain.services.outbound import CheckedTransport

    # Every post goes through the checked transport: the host is resolved once, every
    # address checked, and the connection made to a checked one (no DNS rebinding).
    # Redirects are not followed, so a receiver cannot send the worker elsewhere.
    with httpx.Client(
        timeout=WEBHOOK_TIMEOUT,
        transport=CheckedTransport(),
        follow_redirects=False,
        trust_env=False,
    ) as client:
        for row in rows:
            with reading(engine) as conn:
                url = store.webhook_for(conn, row.org_id, row.person_id)
            if url is None:
                _failed(engine, row, "no webhook configured any more", result)
                continue
            try:
                answer = client.post(
                    url,
                    json={"text": _webhook_text(row)},
                    headers={"Idempotency-Key": message_id(row.org_id, row.id)},
                )
                answer.raise_for_status()
            except (httpx.HTTPError, httpx.InvalidURL) as error:
                _failed(engine, row, f"{type(error).__name__}: {error}", result)
                continue
            _sent(engine, row)
            result.sent += 1


def _send(
    engine: Engine, claimed: Sequence[Any], mailer: Callable[[], Mailer], result: DrainResult
) -> None:
    _send_mail(engine, [r for r in claimed if r.channel == Channel.EMAIL.value], mailer, result)
    _send_webhooks(engine, [r for r in claimed if r.channel == Channel.WEBHOOK.value], result)


def deliver(
    engine: Engine,
    org_id: int,
    row_id: str,
    *,
    mailer: Callable[[], Mailer] = Mailer.from_environment,
    lease: timedelta | None = None,
) -> DrainResult:
    """Send one outbox row now if it is still pending and due (else do nothing): the
    job a caller queues right after its transaction committed, so a notification goes
    out in seconds rather than at the next drain. Idempotent."""
    result = DrainResult()
    claimed = _claim(engine, lease or lease_from_environment(), 1, only=(org_id, row_id))
    _send(engine, claimed, mailer, result)
    return result


def drain(
    engine: Engine,
    *,
    mailer: Callable[[], Mailer] = Mailer.from_environment,
    lease: timedelta | None = None,
    batch: int = BATCH,
    limit: int | None = None,
    org_id: int | None = None,
) -> DrainResult:
    """Send every due outbox row of every organisation in the database (or of
    ``org_id``), a batch at a time (one SMTP connection per batch), until none is due
    (or ``limit`` rows were tried). Safe to run in several workers at once: each row
    is claimed by one."""
    result = DrainResult()
    lease = lease or lease_from_environment()
    tried = 0
    while limit is None or tried < limit:
        size = batch if limit is None else min(batch, limit - tried)
        claimed = _claim(engine, lease, size, org_id=org_id)
        if not claimed:
            break
        tried += len(claimed)
        _send(engine, claimed, mailer, result)
    return result


def purge_sent(engine: Engine, keep: timedelta | None = None) -> int:
    """Delete outbox rows sent longer ago than ``keep`` (default:
    ``VALUECHAIN_OUTBOX_KEEP_DAYS``) in every organisation; pending and failed rows stay."""
    if keep is None:
        keep = settings().outbox_keep_time
    with writing(engine) as conn:
        return store.purge_sent(conn, _now() - keep)


# -- whose choices -----------------------------------------------------------------------


class NoPerson(Conflict, NotificationError):
    """The signed-in account is not linked to a person of the map."""

    def __init__(self) -> None:
        super().__init__(
            "Your account is not linked to a person on the map, and notifications go to "
            "people; ask an admin to link it (valuechain account update --person)."
        )


def person_of_account(vc: Valuechain, account_id: str) -> str:
    """The id of the person an account belongs to; :class:`NoPerson` if none (or the
    person is no longer on the map)."""
    account = accounts.account_by_id(vc, account_id)
    if account is None or account.person_id is None:
        raise NoPerson()
    with reading(vc) as conn:
        if store.person(conn, vc.org_id, account.person_id) is None:
            raise NoPerson()
    return account.person_id
