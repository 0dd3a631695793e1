"""Map: organisations, units, their results, the links to customers, and people."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from valuechain.store.tables.base import SQLITE_CLUSTERED, Base, one_of

UNIT_KINDS = ("team", "department", "external_customer", "external_supplier")
RESULT_KINDS = ("finished", "intermediate", "byproduct")
RELATIONS = ("pays", "consumes", "adds_to", "depends_on")
LINK_STATES = ("confirmed", "proposed", "disputed")
ROLES = ("admin", "lead", "member")


class OrganisationRow(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Bumped by every write to the map, so processes know when cached graphs are stale.
    map_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Measure: the smallest group of respondents any number is shown about (3–10).
    anonymity_threshold: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    # Measure: the smallest group whose comments are shown (never below the above).
    comment_threshold: Mapped[int] = mapped_column(Integer, server_default="10")
    # Trust: raw survey comments older than this many days are purged (None: kept).
    comment_retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)


class UnitRow(Base):
    __tablename__ = "units"
    __table_args__ = (
        ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),
        # Deferred so a bundle may list a child before its parent.
        ForeignKeyConstraint(
            ["org_id", "parent_id"],
            ["units.org_id", "units.id"],
            name="fk_units_parent",
            deferrable=True,
            initially="DEFERRED",
        ),
        CheckConstraint(one_of("kind", UNIT_KINDS), name="kind"),
        Index("ix_units_org_parent", "org_id", "parent_id"),
        SQLITE_CLUSTERED,
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    headcount: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ResultRow(Base):
    __tablename__ = "results"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "unit_id"],
            ["units.org_id", "units.id"],
            name="fk_results_unit",
            deferrable=True,
            initially="DEFERRED",
        ),
        CheckConstraint(one_of("kind", RESULT_KINDS), name="kind"),
        Index("ix_results_org_unit", "org_id", "unit_id"),
        SQLITE_CLUSTERED,
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(32))
    capacity: Mapped[float | None] = mapped_column(Float, nullable=True)
    cost_per_item: Mapped[float | None] = mapped_column(Float, nullable=True)
    revenue_per_item: Mapped[float | None] = mapped_column(Float, nullable=True)


class LinkRow(Base):
    __tablename__ = "links"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "result_id"],
            ["results.org_id", "results.id"],
            name="fk_links_result",
            deferrable=True,
            initially="DEFERRED",
        ),
        ForeignKeyConstraint(
            ["org_id", "customer_id"],
            ["units.org_id", "units.id"],
            name="fk_links_customer",
            deferrable=True,
            initially="DEFERRED",
        ),
        CheckConstraint(one_of("relation", RELATIONS), name="relation"),
        CheckConstraint(one_of("state", LINK_STATES), name="state"),
        # No index by customer yet: every reader loads the graph whole, and the index
        # cost a sixth of a million-link import. Add it with the first query by customer.
        SQLITE_CLUSTERED,
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    result_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    relation: Mapped[str] = mapped_column(String(32), primary_key=True)
    demand: Mapped[float | None] = mapped_column(Float, nullable=True)
    # Flow: items of the result one item of the customer needs (an assembly input).
    per_item: Mapped[float | None] = mapped_column(Float, nullable=True)
    # Two-sided confirmation (docs/map.md): only confirmed links are on the map the
    # analyses read; a bundle's links are confirmed.
    state: Mapped[str] = mapped_column(String(16), default="confirmed", server_default="confirmed")
    proposed_side: Mapped[str | None] = mapped_column(String(200), nullable=True)
    proposed_by: Mapped[str | None] = mapped_column(String(320), nullable=True)
    proposed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(320), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(2000), nullable=True)


class PersonRow(Base):
    __tablename__ = "people"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "unit_id"],
            ["units.org_id", "units.id"],
            name="fk_people_unit",
            deferrable=True,
            initially="DEFERRED",
        ),
        CheckConstraint(one_of("role", ROLES), name="role"),
        UniqueConstraint("org_id", "email", name="uq_people_org_email"),
        Index("ix_people_org_unit", "org_id", "unit_id"),
        SQLITE_CLUSTERED,
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str] = mapped_column(String(320))
    unit_id: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))


# -- the map's history (docs/map.md, "History") -------------------------------------------
#
# One row per version of a unit, result or link, valid from ``valid_from`` until
# ``valid_to`` (NULL: still current). A removal is a version of its own with ``removed``
# set, so who removed it and when are the removal row's ``changed_by`` and
# ``valid_from``. Rows are only ever added and closed (``valid_to`` set once), in the
# transaction that changed the map. ``seq`` orders the versions of one key.

CHANGE_SOURCES = ("import", "api", "page", "demo", "migration")


def _history_args(table: str, key: tuple[str, ...]) -> tuple[Any, ...]:
    return (
        ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),
        CheckConstraint(one_of("source", CHANGE_SOURCES), name="source"),
        # Every read and write finds a key's versions, the open one last.
        Index(f"ix_{table}_key", "org_id", *key, "seq"),
    )


class UnitHistoryRow(Base):
    __tablename__ = "unit_history"
    __table_args__ = _history_args("unit_history", ("id",))

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(Integer)
    id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    headcount: Mapped[int | None] = mapped_column(Integer, nullable=True)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    changed_by: Mapped[str | None] = mapped_column(String(320), nullable=True)
    source: Mapped[str] = mapped_column(String(16))


class ResultHistoryRow(Base):
    __tablename__ = "result_history"
    __table_args__ = _history_args("result_history", ("id",))

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(Integer)
    id: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(32))
    capacity: Mapped[float | None] = mapped_column(Float, nullable=True)
    cost_per_item: Mapped[float | None] = mapped_column(Float, nullable=True)
    revenue_per_item: Mapped[float | None] = mapped_column(Float, nullable=True)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    changed_by: Mapped[str | None] = mapped_column(String(320), nullable=True)
    source: Mapped[str] = mapped_column(String(16))


class LinkHistoryRow(Base):
    __tablename__ = "link_history"
    __table_args__ = _history_args("link_history", ("result_id", "customer_id", "relation"))

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(Integer)
    result_id: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[str] = mapped_column(String(200))
    relation: Mapped[str] = mapped_column(String(32))
    demand: Mapped[float | None] = mapped_column(Float, nullable=True)
    per_item: Mapped[float | None] = mapped_column(Float, nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    changed_by: Mapped[str | None] = mapped_column(String(320), nullable=True)
    source: Mapped[str] = mapped_column(String(16))
