"""Notifications: the outbox written in the caller's transaction, drained to a real
SMTP server and a real webhook receiver on loopback, preferences respected, retries
with backoff, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.webhook_receiver import webhook_receiver
from valuechain import Valuechain
from valuechain.domain.notification import (
    KINDS,
    MAX_ATTEMPTS,
    Preference,
    Status,
    message_id,
    next_attempt,
)
from valuechain.domain.organisation import OrganisationMap
from valuechain.domain.person import Person, Role
from valuechain.domain.unit import Unit, UnitKind
from valuechain.services import notification
from valuechain.services.errors import NotFound, ValuechainError
from valuechain.services.mail import Mailer
from valuechain.store import notification as store


def people_map() -> OrganisationMap:
    return OrganisationMap(
        units=[Unit("pack", "Packing", UnitKind.TEAM), Unit("make", "Machining", UnitKind.TEAM)],
        people=[
            Person("ana", "Ana Lead", "ana@example.org", "pack", Role.LEAD),
            Person("bo", "Bo Member", "Bo@Example.org", "make", Role.MEMBER),
        ],
    )


@pytest.fixture
def org(vc: Valuechain) -> Valuechain:
    vc.write_map(people_map())
    return vc


def test_a_notification_is_emailed_with_a_stable_message_id(org: Valuechain, smtp_server) -> None:  # type: ignore[no-untyped-def]
    [row_id] = notification.notify(
        org,
        "ana",
        "sla_breach",
        "Request R-1\r\nBcc: x@evil",
        "Resolution took 9 h.",
        "/requests/R-1",
    )
    assert notification.outbox(org).counts == {"pending": 1, "sent": 0, "failed": 0}
    done = notification.drain(org.engine, org_id=org.org_id)
    assert (done.sent, done.failed_attempts) == (1, 0)
    [mail] = smtp_server.to("ana@example.org")
    assert mail["Subject"] == "Request R-1 Bcc: x@evil"  # one line, no injected header
    assert mail["Bcc"] is None
    assert mail["Message-ID"] == message_id(org.org_id, row_id)
    assert "Resolution took 9 h." in mail.get_content()
    assert "/requests/R-1" in mail.get_content()
    state = notification.outbox(org)
    assert state.counts == {"pending": 0, "sent": 1, "failed": 0}
    assert state.rows[0].sent_at is not None and state.rows[0].attempts == 1
    # Draining again sends nothing twice.
    assert notification.drain(org.engine, org_id=org.org_id).sent == 0
    assert len(smtp_server.to("ana@example.org")) == 1


def test_notify_writes_in_the_callers_transaction(org: Valuechain) -> None:
    class Undone(Exception):
        pass

    with pytest.raises(Undone), org.engine.begin() as conn:
        notification.notify(org, "ana", "thanks", "Thanks", "Bo thanked you.", conn=conn)
        raise Undone  # the change that caused it rolls back: so does the notification
    assert notification.outbox(org).counts["pending"] == 0
    with org.engine.begin() as conn:
        notification.notify(org, "ana", "thanks", "Thanks", "Bo thanked you.", conn=conn)
    assert notification.outbox(org).counts["pending"] == 1


def test_addresses_people_by_id_or_email(org: Valuechain) -> None:
    # An address of a person on the map follows that person (case-blind) ...
    notification.notify(org, "bo@example.org", "thanks", "Thanks", "x")
    # ... another address gets email only, and an unknown person id is an error.
    notification.notify(org, "outside@example.net", "report", "Report", "y")
    rows = notification.outbox(org).rows
    assert {(r.person_id, r.address) for r in rows} == {
        ("bo", "Bo@Example.org"),
        (None, "outside@example.net"),
    }
    with pytest.raises(NotFound, match="nobody"):
        notification.notify(org, "nobody", "thanks", "s", "b")
    with pytest.raises(ValuechainError, match="unknown notification kind"):
        notification.notify(org, "ana", "gossip", "s", "b")


def test_preferences_decide_the_channels(  # type: ignore[no-untyped-def]
    org: Valuechain, smtp_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The receiver is on loopback, which webhooks reach only when the operator lists it.
    monkeypatch.setenv("VALUECHAIN_WEBHOOK_HOSTS", "127.0.0.1")
    assert notification.preferences(org, "ana") == [Preference(k) for k in KINDS]
    with webhook_receiver() as hook:
        notification.set_webhook(org, hook.url)  # the organisation's channel
        notification.set_preferences(
            org,
            "ana",
            [
                Preference("thanks", email=False, webhook=True),
                Preference("report", email=False, webhook=False),
            ],
        )
        notification.notify(org, "ana", "thanks", "Bo says thanks", "For the early plan.", "/t/1")
        notification.notify(org, "ana", "report", "Monthly report", "ignored")
        notification.notify(org, "ana", "sla_breach", "Breach", "R-2 breached.")
        done = notification.drain(org.engine, org_id=org.org_id)
        assert (done.sent, done.failed_attempts) == (3, 0)  # thanks: hook; breach: both
        assert [m["Subject"] for m in smtp_server.to("ana@example.org")] == ["Breach"]
        assert hook.texts() == [
            "*Bo says thanks*\nFor the early plan.\n/t/1",
            "*Breach*\nR-2 breached.",
        ]
        headers = [h for h, _ in hook.posts]
        assert all(h["Idempotency-Key"].endswith("@valuechain.notification>") for h in headers)
        assert all(h["Content-Type"] == "application/json" for h in headers)
    chosen = {p.kind: p for p in notification.preferences(org, "ana")}
    assert chosen["report"] == Preference("report", email=False, webhook=False)
    assert chosen["survey_reminder"] == Preference("survey_reminder")
    with pytest.raises(ValuechainError, match="unknown notification kind"):
        notification.set_preferences(org, "ana", [Preference("gossip")])


def test_a_persons_own_webhook_wins_over_the_organisations(
    org: Valuechain, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The receiver is on loopback, which webhooks reach only when the operator lists it.
    monkeypatch.setenv("VALUECHAIN_WEBHOOK_HOSTS", "127.0.0.1")
    with webhook_receiver() as shared, webhook_receiver() as own:
        notification.set_webhook(org, shared.url)
        notification.set_webhook(org, own.url, person_id="bo")
        assert notification.webhook(org, "bo") == own.url
        assert notification.webhook(org) == shared.url
        notification.set_preferences(org, "ana", [Preference("thanks", email=False)])
        notification.set_preferences(org, "bo", [Preference("thanks", email=False)])
        notification.notify(org, "ana", "thanks", "For Ana", "a")
        notification.notify(org, "bo", "thanks", "For Bo", "b")
        notification.drain(org.engine, org_id=org.org_id)
        assert shared.texts() == ["*For Ana*\na"]
        assert own.texts() == ["*For Bo*\nb"]
    notification.set_webhook(org, None, person_id="bo")
    assert notification.webhook(org, "bo") is None
    with pytest.raises(ValuechainError, match="http"):
        notification.set_webhook(org, "ftp://example.org/hook")


def test_failed_attempts_back_off_and_then_give_up(
    org: Valuechain, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The receiver is on loopback, which webhooks reach only when the operator lists it.
    monkeypatch.setenv("VALUECHAIN_WEBHOOK_HOSTS", "127.0.0.1")
    with webhook_receiver() as hook:
        notification.set_webhook(org, hook.url)
        notification.set_preferences(org, "ana", [Preference("thanks", email=False)])
        [row_id] = notification.notify(org, "ana", "thanks", "T", "x")
        hook.refuse = 1
        before = datetime.now(UTC)
        done = notification.drain(org.engine, org_id=org.org_id)
        assert (done.sent, done.failed_attempts) == (0, 1)
        [row] = notification.outbox(org).rows
        assert row.status == "pending" and row.attempts == 1 and "503" in (row.last_error or "")
        # Not due again before its backoff: another drain leaves it alone.
        assert row.due_at >= before + timedelta(minutes=1)
        assert notification.drain(org.engine, org_id=org.org_id).failed_attempts == 0
        with org.engine.begin() as conn:  # the backoff passes
            conn.execute(
                store.OUTBOX.update()
                .where(store.OUTBOX.c.id == row_id)
                .values(due_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        assert notification.drain(org.engine, org_id=org.org_id).sent == 1
        assert hook.texts() == ["*T*\nx"]
    notification.set_webhook(org, None)
    # Mail without a server: every attempt fails until MAX_ATTEMPTS, then the row fails.
    [mail_id] = notification.notify(org, "bo", "report", "R", "y")

    def unreachable() -> Mailer:
        return Mailer("127.0.0.1", 9, timeout=2)  # the discard port: nobody listens

    for attempt in range(1, MAX_ATTEMPTS + 1):
        with org.engine.begin() as conn:
            conn.execute(
                store.OUTBOX.update()
                .where(store.OUTBOX.c.id == mail_id)
                .values(due_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        done = notification.drain(org.engine, mailer=unreachable, org_id=org.org_id)
        assert done.failed_attempts == 1
        assert done.given_up == (1 if attempt == MAX_ATTEMPTS else 0)
    failed = notification.outbox(org, Status.FAILED).rows
    assert [(r.id, r.attempts) for r in failed] == [(mail_id, MAX_ATTEMPTS)]
    assert notification.retry_failed(org) == 1
    assert notification.outbox(org).counts["failed"] == 0


def test_backoff_doubles_until_the_last_attempt() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    delays = [next_attempt(a, now) for a in range(1, MAX_ATTEMPTS + 1)]
    minutes = [(d - now).total_seconds() / 60 for d in delays if d is not None]
    assert minutes == [1, 2, 4, 8, 16, 32, 64]
    assert delays[-1] is None
    assert next_attempt(20, now) is None


def test_a_claimed_row_is_taken_by_one_worker_only(org: Valuechain, smtp_server) -> None:  # type: ignore[no-untyped-def]
    [row_id] = notification.notify(org, "ana", "thanks", "T", "x")
    now = datetime.now(UTC)
    with org.engine.begin() as conn:
        assert store.claim(conn, org.org_id, row_id, now, now + timedelta(minutes=5))
        assert not store.claim(conn, org.org_id, row_id, now, now + timedelta(minutes=5))
    # A worker holding the lease (or killed while holding it): nobody else sends it ...
    assert notification.drain(org.engine, org_id=org.org_id).sent == 0
    # ... until the lease ends; then it is sent (at-least-once, same message id).
    with org.engine.begin() as conn:
        conn.execute(
            store.OUTBOX.update()
            .where(store.OUTBOX.c.id == row_id)
            .values(due_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert notification.drain(org.engine, org_id=org.org_id).sent == 1
    assert [m["Message-ID"] for m in smtp_server.to("ana@example.org")] == [
        message_id(org.org_id, row_id)
    ]


def test_personal_webhooks_only_on_allowed_hosts(
    org: Valuechain, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VALUECHAIN_WEBHOOK_HOSTS", "hooks.slack.com, *.chat.example.org")
    notification.set_webhook(org, "https://hooks.slack.com/services/T/B/X", person_id="ana")
    notification.set_webhook(org, "https://team.chat.example.org/hook", person_id="ana")
    with pytest.raises(ValuechainError, match="not allowed"):
        notification.set_webhook(org, "http://10.0.0.5:8080/admin", person_id="ana")
    assert notification.webhook(org, "ana") == "https://team.chat.example.org/hook"
    # The organisation's webhook (set by admins) need not be on a listed host, but an
    # internal address only when the operator lists it.
    with pytest.raises(ValuechainError, match="internal address"):
        notification.set_webhook(org, "http://10.0.0.5:8080/hook")
    monkeypatch.setenv("VALUECHAIN_WEBHOOK_HOSTS", "hooks.slack.com, 10.0.0.5")
    notification.set_webhook(org, "http://10.0.0.5:8080/hook")


def test_sent_rows_are_purged_after_they_are_kept_long_enough(
    org: Valuechain, smtp_server: Any
) -> None:
    notification.notify(org, "ana", "report", "Old", "x")
    notification.notify(org, "bo", "report", "Pending", "y")
    with org.engine.begin() as conn:  # the second waits for a retry
        conn.execute(
            store.OUTBOX.update()
            .where(store.OUTBOX.c.subject == "Pending", store.OUTBOX.c.org_id == org.org_id)
            .values(due_at=datetime.now(UTC) + timedelta(hours=1))
        )
    notification.drain(org.engine, org_id=org.org_id)
    assert notification.purge_sent(org.engine, keep=timedelta(days=1)) == 0  # too recent
    assert notification.outbox(org).counts == {"pending": 1, "sent": 1, "failed": 0}
    notification.purge_sent(org.engine, keep=timedelta(0))
    assert notification.outbox(org).counts == {"pending": 1, "sent": 0, "failed": 0}
