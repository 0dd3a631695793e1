"""Partner: the relationship workspace and action plans."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKeyConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from valuechain.store.tables.base import Base, one_of

# --- Partner & Improve: the relationship workspace and action plans -----------------

SIDES = ("provider", "customer")
WORKSPACE_KINDS = ("challenge", "need", "value")
ALIGNMENTS = ("aligned", "conflict")
ACTION_STATUSES = ("open", "in_progress", "done", "dropped")


class WorkspaceEntryRow(Base):
    """One side's challenge, need or value in a provider–customer relationship."""

    __tablename__ = "workspace_entries"
    __table_args__ = (
        ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),
        CheckConstraint(one_of("side", SIDES), name="side"),
        CheckConstraint(one_of("kind", WORKSPACE_KINDS), name="kind"),
        CheckConstraint(
            f"alignment IS NULL OR {one_of('alignment', ALIGNMENTS)}", name="alignment"
        ),
        Index("ix_workspace_entries_pair", "org_id", "provider_id", "customer_id"),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[str] = mapped_column(String(200))
    side: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(String(2000))
    # Set by the other side: how this entry relates to theirs (and to which one).
    alignment: Mapped[str | None] = mapped_column(String(10), nullable=True)
    counterpart_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    author_account_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ActionRow(Base):
    """An improvement action on a relationship, with the metric it should move."""

    __tablename__ = "actions"
    __table_args__ = (
        ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),
        CheckConstraint(one_of("status", ACTION_STATUSES), name="status"),
        Index("ix_actions_pair", "org_id", "provider_id", "customer_id"),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(500))
    owner: Mapped[str] = mapped_column(String(300))  # a person's name or e-mail
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="open")
    # The metric: the rated unit's score on an instrument (one dimension, or overall).
    metric_instrument: Mapped[str] = mapped_column(String(100))
    metric_dimension: Mapped[str | None] = mapped_column(String(200), nullable=True)
    metric_rated_id: Mapped[str] = mapped_column(String(200))
    baseline_campaign: Mapped[str | None] = mapped_column(String(200), nullable=True)
    source: Mapped[str] = mapped_column(String(2000), default="")
    author_account_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
