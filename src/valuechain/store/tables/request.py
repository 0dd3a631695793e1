"""Request: internal requests between units, their events and thanks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from valuechain.store.tables.base import Base, one_of

# -- request: internal requests between units, their events and thanks --------------
#
# A request row holds its current state and the instants its clocks need; every
# change of state is also an event row. Pauses (waiting on the customer, the time
# between a resolution and a reopen) are summed on the row in business seconds.

REQUEST_STATES = ("new", "acknowledged", "in_progress", "waiting", "resolved", "closed")


class RequestRow(Base):
    __tablename__ = "requests"
    __table_args__ = (
        ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),
        CheckConstraint(one_of("state", REQUEST_STATES), name="state"),
        # The SLA reads requests grouped by relationship in this order, the inbox and
        # outbox by unit, newest first.
        Index("ix_requests_org_relationship", "org_id", "provider_id", "customer_id"),
        Index("ix_requests_org_provider_created", "org_id", "provider_id", "created_at"),
        Index("ix_requests_org_customer_created", "org_id", "customer_id", "created_at"),
        # The organisation-wide queue (admins), newest first, "assigned to me" and "my
        # requests".
        Index("ix_requests_org_created", "org_id", "created_at"),
        Index("ix_requests_org_assignee_created", "org_id", "assignee_id", "created_at"),
        Index("ix_requests_org_requester_created", "org_id", "requester_id", "created_at"),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    # No foreign keys to units: a request's history outlives a re-import of the map.
    customer_id: Mapped[str] = mapped_column(String(200))
    provider_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300), default="", server_default="")
    body: Mapped[str] = mapped_column(String(8000), default="", server_default="")
    priority: Mapped[str | None] = mapped_column(String(32), nullable=True)
    category: Mapped[str | None] = mapped_column(String(100), nullable=True)
    requester_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # account
    requester: Mapped[str | None] = mapped_column(String(300), nullable=True)  # name
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Since when the clocks are paused (waiting on the customer), and the business
    # seconds of pauses already over.
    paused_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paused_seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    events: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    thanked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    thanks_note: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    thanked_by: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # Who of the provider unit works on it: a person's id on the map (no foreign key,
    # as the units: a re-import of the map must not cut the history).
    assignee_id: Mapped[str | None] = mapped_column(String(200), nullable=True)


class RequestEventRow(Base):
    __tablename__ = "request_events"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "request_id"],
            ["requests.org_id", "requests.id"],
            name="fk_request_events_request",
            ondelete="CASCADE",
        ),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str | None] = mapped_column(String(300), nullable=True)
    verb: Mapped[str] = mapped_column(String(16))  # new, ack, ..., thank, or import
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(4000), nullable=True)


class RequestCommentRow(Base):
    """One message of a request's conversation, by either side."""

    __tablename__ = "request_comments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "request_id"],
            ["requests.org_id", "requests.id"],
            name="fk_request_comments_request",
            ondelete="CASCADE",
        ),
        CheckConstraint(one_of("side", ("provider", "customer")), name="side"),
        Index("ix_request_comments_request_at", "org_id", "request_id", "at"),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    author_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # account
    author: Mapped[str] = mapped_column(String(300))  # name
    side: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(String(4000))
