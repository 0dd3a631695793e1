"""Agree: business calendars, service agreements, commitments, capacity shares."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from valuechain.store.tables.base import Base, one_of

# -- agree: business calendars, service agreements, commitments, capacity shares ---
#
# An agreement is one row with a column per target (``agreements.csv`` has one row
# per metric). Times are stored in UTC. The provider is the producer of the result.

AGREEMENT_STATES = ("draft", "proposed", "agreed", "under_review")
NEGOTIATION_STATES = ("open", "accepted", "rescheduled", "share_changed")


class CalendarRow(Base):
    __tablename__ = "calendars"
    __table_args__ = (ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),)

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(100))
    hours: Mapped[str] = mapped_column(String(1000))
    holidays: Mapped[str | None] = mapped_column(String(4000), nullable=True)


class AgreementRow(Base):
    __tablename__ = "agreements"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "result_id"],
            ["results.org_id", "results.id"],
            name="fk_agreements_result",
            deferrable=True,
            initially="DEFERRED",
        ),
        ForeignKeyConstraint(
            ["org_id", "customer_id"],
            ["units.org_id", "units.id"],
            name="fk_agreements_customer",
            deferrable=True,
            initially="DEFERRED",
        ),
        ForeignKeyConstraint(
            ["org_id", "calendar"],
            ["calendars.org_id", "calendars.name"],
            name="fk_agreements_calendar",
            deferrable=True,
            initially="DEFERRED",
        ),
        CheckConstraint(one_of("state", AGREEMENT_STATES), name="state"),
        Index("ix_agreements_org_result", "org_id", "result_id"),
        Index("ix_agreements_org_customer", "org_id", "customer_id"),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    result_id: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[str] = mapped_column(String(200))
    calendar: Mapped[str | None] = mapped_column(String(200), nullable=True)
    review_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    channel: Mapped[str | None] = mapped_column(String(300), nullable=True)
    cadence: Mapped[str | None] = mapped_column(String(300), nullable=True)
    on_time_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    response_hours: Mapped[float | None] = mapped_column(Float, nullable=True)
    resolution_hours: Mapped[float | None] = mapped_column(Float, nullable=True)
    quality_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    # The customer's obligations, one per line ("inputs by Thursday 12:00").
    obligations: Mapped[str | None] = mapped_column(String(4000), nullable=True)
    # A deliverable this many hours early counts as exceeded (None: never).
    exceed_margin_hours: Mapped[float | None] = mapped_column(Float, nullable=True)
    # Recurring deliverables as an iCalendar RRULE, in the calendar's time zone.
    deliverable_rrule: Mapped[str | None] = mapped_column(String(500), nullable=True)
    provider_agreed_by: Mapped[str | None] = mapped_column(String(400), nullable=True)
    provider_agreed_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    customer_agreed_by: Mapped[str | None] = mapped_column(String(400), nullable=True)
    customer_agreed_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )


class CommitmentRow(Base):
    __tablename__ = "commitments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "agreement_id"],
            ["agreements.org_id", "agreements.id"],
            name="fk_commitments_agreement",
            ondelete="CASCADE",
            deferrable=True,
            initially="DEFERRED",
        ),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    # One item per agreement and due time: generating due items is idempotent.
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    warned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CapacityShareRow(Base):
    __tablename__ = "capacity_shares"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "result_id"],
            ["results.org_id", "results.id"],
            name="fk_capacity_shares_result",
            ondelete="CASCADE",
            deferrable=True,
            initially="DEFERRED",
        ),
        ForeignKeyConstraint(
            ["org_id", "customer_id"],
            ["units.org_id", "units.id"],
            name="fk_capacity_shares_customer",
            ondelete="CASCADE",
            deferrable=True,
            initially="DEFERRED",
        ),
        CheckConstraint("share >= 0", name="share"),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    result_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    share: Mapped[float] = mapped_column(Float)  # items per week agreed for this customer


class NegotiationRow(Base):
    __tablename__ = "negotiations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "result_id"],
            ["results.org_id", "results.id"],
            name="fk_negotiations_result",
            ondelete="CASCADE",
            deferrable=True,
            initially="DEFERRED",
        ),
        ForeignKeyConstraint(
            ["org_id", "customer_id"],
            ["units.org_id", "units.id"],
            name="fk_negotiations_customer",
            ondelete="CASCADE",
            deferrable=True,
            initially="DEFERRED",
        ),
        CheckConstraint(one_of("state", NEGOTIATION_STATES), name="state"),
        Index("ix_negotiations_org_result", "org_id", "result_id", "customer_id"),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    result_id: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    demand: Mapped[float] = mapped_column(Float)  # items per week when opened
    share: Mapped[float] = mapped_column(Float)  # the share then agreed
    state: Mapped[str] = mapped_column(String(16))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(400), nullable=True)
    note: Mapped[str | None] = mapped_column(String(2000), nullable=True)
