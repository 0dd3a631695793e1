"""Tell: notifications' outbox, preferences and webhooks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from valuechain.store.tables.base import Base, one_of

# -- notifications: the outbox, preferences, webhooks ------------------------------
#
# A notification is written to the outbox in the transaction of the change that
# caused it; a job sends it and marks it sent (services.notification). One row per
# channel, so a failing webhook never makes an email go out twice.

CHANNELS = ("email", "webhook")
OUTBOX_STATUSES = ("pending", "sent", "failed")


class NotificationOutboxRow(Base):
    __tablename__ = "notification_outbox"
    __table_args__ = (
        ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),
        CheckConstraint(one_of("channel", CHANNELS), name="channel"),
        CheckConstraint(one_of("status", OUTBOX_STATUSES), name="status"),
        # The drain asks "what is due?" across organisations: pending rows by due time.
        Index("ix_notification_outbox_status_due", "status", "due_at"),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Time-ordered text (UTC microseconds, then random digits).
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The email address; for a webhook the URL is looked up when sending.
    address: Mapped[str | None] = mapped_column(String(320), nullable=True)
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(String(10000))
    link: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The earliest time a worker may (re)try: creation, a retry's backoff, or the end
    # of the lease a worker took when it started sending.
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(2000), nullable=True)


class NotificationPreferenceRow(Base):
    __tablename__ = "notification_preferences"
    __table_args__ = (ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),)

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No foreign key to people: a re-import with --replace rewrites people, and a
    # person's choices must survive that (like accounts).
    person_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean)
    webhook: Mapped[bool] = mapped_column(Boolean)


class NotificationWebhookRow(Base):
    __tablename__ = "notification_webhooks"
    __table_args__ = (ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),)

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A person's own webhook, or "" for the organisation's (used by everyone without one).
    person_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
