"""Tables. Every row carries ``org_id`` so one deployment holds many organisations
and tables can later be distributed (sharded) by it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

UNIT_KINDS = ("team", "department", "external_customer", "external_supplier")
RESULT_KINDS = ("finished", "intermediate", "byproduct")
RELATIONS = ("pays", "consumes", "adds_to", "depends_on")
ROLES = ("admin", "lead", "member")
ACCOUNT_ROLES = ("admin", "lead", "member", "viewer")


# Map tables are keyed by text ids; clustering rows by that key on SQLite (WITHOUT
# ROWID) saves one B-tree per table and a third of the bulk-import time.
SQLITE_CLUSTERED = {"sqlite_with_rowid": False}


def _one_of(column: str, values: tuple[str, ...]) -> str:
    # An OR chain, not IN (...): SQLite evaluates a CHECK with an IN list through an
    # ephemeral table per row, which cost 3.7 s per million inserted links.
    return " OR ".join(f"{column} = '{v}'" for v in values)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class OrganisationRow(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Bumped by every write to the map, so processes know when cached graphs are stale.
    map_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Measure: the smallest group of respondents any number is shown about (3–10).
    anonymity_threshold: Mapped[int] = mapped_column(Integer, default=5, server_default="5")


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
        CheckConstraint(_one_of("kind", UNIT_KINDS), name="kind"),
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
        CheckConstraint(_one_of("kind", RESULT_KINDS), name="kind"),
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
        CheckConstraint(_one_of("relation", RELATIONS), name="relation"),
        # No index by customer yet: every reader loads the graph whole, and the index
        # cost a sixth of a million-link import. Add it with the first query by customer.
        SQLITE_CLUSTERED,
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    result_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    relation: Mapped[str] = mapped_column(String(32), primary_key=True)
    demand: Mapped[float | None] = mapped_column(Float, nullable=True)


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
        CheckConstraint(_one_of("role", ROLES), name="role"),
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


# -- trust: accounts, sessions, sign-in limits, audit log --------------------------
#
# Times are stored in UTC. Ids are random text (accounts, failures) or time-ordered
# text (audit events), so every table can be keyed by (org_id, id) like the map.


class AccountRow(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),
        CheckConstraint(_one_of("role", ACCOUNT_ROLES), name="role"),
        UniqueConstraint("org_id", "email", name="uq_accounts_org_email"),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Stored normalised (trimmed, case-folded); see domain.account.normalise_email.
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16))
    # No foreign key: a re-import with --replace rewrites people, and an account must
    # survive that; the link is resolved by id when the account signs in.
    person_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # argon2id in PHC string form; NULL for an account that cannot sign in with a
    # password (the demo admin, later single sign-on accounts).
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SessionRow(Base):
    __tablename__ = "sessions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "account_id"],
            ["accounts.org_id", "accounts.id"],
            name="fk_sessions_account",
            ondelete="CASCADE",
        ),
        Index("ix_sessions_org_account", "org_id", "account_id"),
        Index("ix_sessions_org_expires", "org_id", "expires_at"),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # SHA-256 of the 256-bit token in the cookie: a copy of the table signs no one in.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(300), nullable=True)


class SignInFailureRow(Base):
    __tablename__ = "sign_in_failures"
    __table_args__ = (
        ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),
        Index("ix_sign_in_failures_org_key_at", "org_id", "key", "at"),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # "account:<email>" or "address:<ip>": one table serves both limits.
    key: Mapped[str] = mapped_column(String(400))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEventRow(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        # No cascade: deleting an organisation must not silently erase its audit trail.
        ForeignKeyConstraint(["org_id"], ["organisations.id"]),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Time-ordered: the UTC time in microseconds, then random digits (see store.audit).
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Who: the account's id and email at the time (the email stays readable after the
    # account is gone), or "cli:<os user>" for the command line; None when unknown.
    actor_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    actor: Mapped[str | None] = mapped_column(String(400), nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    # What it was done to: an account's email, a bundle path, ...
    subject: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    outcome: Mapped[str] = mapped_column(String(32))
    # From where: the client address, or "cli".
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(2000), nullable=True)


# -- measure: custom instruments, campaigns, anonymous responses -------------------
#
# Built-in instruments live in code (domain.instrument); only custom ones (items.csv)
# are stored. A response row holds no person id and no time finer than the day: the
# rating unit, the rated unit, the campaign and the date are all it knows of its
# origin. Answers carry their item's dimension so that scores aggregate in one
# GROUP BY without joining the instrument definitions.


class InstrumentRow(Base):
    __tablename__ = "instruments"
    __table_args__ = (ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),)

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))


class InstrumentItemRow(Base):
    __tablename__ = "instrument_items"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "instrument"],
            ["instruments.org_id", "instruments.key"],
            name="fk_instrument_items_instrument",
            ondelete="CASCADE",
        ),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instrument: Mapped[str] = mapped_column(String(100), primary_key=True)
    item: Mapped[str] = mapped_column(String(200), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)  # the order of items.csv
    dimension: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(String(2000))
    scale_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    scale_max: Mapped[int | None] = mapped_column(Integer, nullable=True)


class CampaignRow(Base):
    __tablename__ = "campaigns"
    __table_args__ = (ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),)

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    instrument: Mapped[str | None] = mapped_column(String(100), nullable=True)
    opens_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    closes_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class ResponseRow(Base):
    __tablename__ = "responses"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "campaign_id"],
            ["campaigns.org_id", "campaigns.id"],
            name="fk_responses_campaign",
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["org_id", "rater_id"],
            ["units.org_id", "units.id"],
            name="fk_responses_rater",
            deferrable=True,
            initially="DEFERRED",
        ),
        ForeignKeyConstraint(
            ["org_id", "rated_id"],
            ["units.org_id", "units.id"],
            name="fk_responses_rated",
            deferrable=True,
            initially="DEFERRED",
        ),
        Index("ix_responses_org_rated", "org_id", "rated_id"),
        # Finds the providers whose summaries (measure_cells, measure_blocks) are stale.
        Index("ix_responses_org_unsummarised", "org_id", "summarised", "rated_id"),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Anonymous: given by the import or drawn at random when a link is spent.
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(200))
    instrument: Mapped[str] = mapped_column(String(100))
    rater_id: Mapped[str] = mapped_column(String(200))  # the rating (customer) unit
    rated_id: Mapped[str] = mapped_column(String(200))  # the rated (provider) unit
    submitted_on: Mapped[date] = mapped_column(Date)  # the day only, never a time
    # False until the response is in its provider's summary (any writer's insert
    # leaves it False, so no write path can leave a summary stale).
    summarised: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class AnswerRow(Base):
    __tablename__ = "answers"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "response_id"],
            ["responses.org_id", "responses.id"],
            name="fk_answers_response",
            ondelete="CASCADE",
        ),
        SQLITE_CLUSTERED,
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    item: Mapped[str] = mapped_column(String(200), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(200))
    expectation: Mapped[float | None] = mapped_column(Float, nullable=True)
    score: Mapped[float] = mapped_column(Float)


class CommentRow(Base):
    __tablename__ = "comments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "response_id"],
            ["responses.org_id", "responses.id"],
            name="fk_comments_response",
            ondelete="CASCADE",
        ),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    item: Mapped[str] = mapped_column(String(200), primary_key=True)
    text: Mapped[str] = mapped_column(String(4000))


class MeasureCellRow(Base):
    """One protected survey cell (a provider, relationship, provider × dimension per
    campaign, or a provider's driver analysis): its moments and whether it is shown.
    Kept up to date per provider by ``services.measure.refresh``; ``""`` is "none"."""

    __tablename__ = "measure_cells"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name="fk_measure_cells_org", ondelete="CASCADE"
        ),
        Index("ix_measure_cells_org_provider", "org_id", "provider"),
        SQLITE_CLUSTERED,
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cut: Mapped[str] = mapped_column(String(20), primary_key=True)
    campaign: Mapped[str] = mapped_column(String(200), primary_key=True)
    instrument: Mapped[str] = mapped_column(String(100), primary_key=True)
    provider: Mapped[str] = mapped_column(String(200), primary_key=True)
    customer: Mapped[str] = mapped_column(String(200), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(200), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    total: Mapped[float] = mapped_column(Float)
    total_sq: Mapped[float] = mapped_column(Float)
    gap_n: Mapped[int] = mapped_column(Integer)
    gap_total: Mapped[float] = mapped_column(Float)
    gap_sq: Mapped[float] = mapped_column(Float)
    suppressed: Mapped[str | None] = mapped_column(String(100), nullable=True)


class MeasureBlockRow(Base):
    """Per provider, the respondent-level data the statistics need beyond moments:
    ``drivers``: the complete respondents' dimension scores (float64, rows × dimensions,
    outcome last); ``items``: a dimension's item count, sums and cross-products of its
    complete respondents (for Cronbach's alpha)."""

    __tablename__ = "measure_blocks"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name="fk_measure_blocks_org", ondelete="CASCADE"
        ),
        Index("ix_measure_blocks_org_provider", "org_id", "provider"),
        SQLITE_CLUSTERED,
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    instrument: Mapped[str] = mapped_column(String(100), primary_key=True)
    provider: Mapped[str] = mapped_column(String(200), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(200), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
