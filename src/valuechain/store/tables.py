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
    Text,
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
    # Flow: items of the result one item of the customer needs (an assembly input).
    per_item: Mapped[float | None] = mapped_column(Float, nullable=True)


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
    # draft -> open -> closed (domain.campaign); imported history arrives closed.
    state: Mapped[str] = mapped_column(String(16), default="closed", server_default="closed")


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
        CheckConstraint(_one_of("side", SIDES), name="side"),
        CheckConstraint(_one_of("kind", WORKSPACE_KINDS), name="kind"),
        CheckConstraint(
            f"alignment IS NULL OR {_one_of('alignment', ALIGNMENTS)}", name="alignment"
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
        CheckConstraint(_one_of("status", ACTION_STATUSES), name="status"),
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


# -- measure: campaign state, relationships and single-use invitations --------------
#
# An invitation knows its person (to mail and remind them) and whether it is spent, not
# when: a spend date would match the response's submitted_on day and, on a quiet day,
# say whose response it is. Never which response it became, and no order either: a
# spend rewrites every invitation of its group in one statement (all get the same
# PostgreSQL xmin and keep their row order), and no reminder date or count is kept
# per invitation (both would bound when it was answered). Tokens are stored as
# SHA-256 hashes; an invitation may hold several (a reminder run gives every
# invitation of the campaign one more, a dummy for a spent one), and spending any of
# them spends the invitation.

CAMPAIGN_STATES = ("draft", "open", "closed")


class CampaignGroupRow(Base):
    __tablename__ = "campaign_groups"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "campaign_id"],
            ["campaigns.org_id", "campaigns.id"],
            name="fk_campaign_groups_campaign",
            ondelete="CASCADE",
        ),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(200), primary_key=True)  # the rated unit
    customer_id: Mapped[str] = mapped_column(String(200), primary_key=True)  # the rating unit


class InvitationRow(Base):
    __tablename__ = "invitations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "campaign_id"],
            ["campaigns.org_id", "campaigns.id"],
            name="fk_invitations_campaign",
            ondelete="CASCADE",
        ),
        UniqueConstraint(
            "org_id", "campaign_id", "provider_id", "person_id", name="uq_invitations_person"
        ),
        Index("ix_invitations_org_campaign", "org_id", "campaign_id"),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random hex
    campaign_id: Mapped[str] = mapped_column(String(200))
    provider_id: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[str] = mapped_column(String(200))
    person_id: Mapped[str] = mapped_column(String(200))
    invited_on: Mapped[date] = mapped_column(Date)
    # Whether it was answered; neither when nor which response it became.
    spent: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class InvitationTokenRow(Base):
    __tablename__ = "invitation_tokens"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "invitation_id"],
            ["invitations.org_id", "invitations.id"],
            name="fk_invitation_tokens_invitation",
            ondelete="CASCADE",
        ),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 hex
    invitation_id: Mapped[str] = mapped_column(String(32))


class ImportanceRow(Base):
    __tablename__ = "importance_points"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "response_id"],
            ["responses.org_id", "responses.id"],
            name="fk_importance_points_response",
            ondelete="CASCADE",
        ),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(200), primary_key=True)
    points: Mapped[float] = mapped_column(Float)


class SurveyIdempotencyRow(Base):
    __tablename__ = "survey_idempotency"
    __table_args__ = (ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),)

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # HMAC-SHA256 keyed by the token (not stored) of the client's Idempotency-Key.
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(2000))  # the JSON answered, no response id
    created_on: Mapped[date] = mapped_column(Date)


class SealedResponseRow(Base):
    """A response to a campaign that is still open, held apart until it closes: no
    number about an open campaign is shown, so nobody can difference the scores
    before and after one answer. Closing moves every sealed response into the
    responses, answers, comments and importance tables in one transaction, in random
    order with fresh ids."""

    __tablename__ = "sealed_responses"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "campaign_id"],
            ["campaigns.org_id", "campaigns.id"],
            name="fk_sealed_responses_campaign",
            ondelete="CASCADE",
        ),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(200))
    # The response (answers, comments, importance points) as JSON; no person, day only.
    payload: Mapped[str] = mapped_column(Text)


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
        CheckConstraint(_one_of("channel", CHANNELS), name="channel"),
        CheckConstraint(_one_of("status", OUTBOX_STATUSES), name="status"),
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


class OutcomeRow(Base):
    """Capability 7, Connect: one metric of one external customer in one month."""

    __tablename__ = "outcomes"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "unit_id"],
            ["units.org_id", "units.id"],
            name="fk_outcomes_unit",
            ondelete="CASCADE",
            deferrable=True,
            initially="DEFERRED",
        ),
        SQLITE_CLUSTERED,
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    metric: Mapped[str] = mapped_column(String(200), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    value: Mapped[float] = mapped_column(Float)


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
        CheckConstraint(_one_of("state", AGREEMENT_STATES), name="state"),
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
        CheckConstraint(_one_of("state", NEGOTIATION_STATES), name="state"),
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
        CheckConstraint(_one_of("state", REQUEST_STATES), name="state"),
        # The SLA reads requests grouped by relationship in this order, the inbox and
        # outbox by unit, newest first.
        Index("ix_requests_org_relationship", "org_id", "provider_id", "customer_id"),
        Index("ix_requests_org_provider_created", "org_id", "provider_id", "created_at"),
        Index("ix_requests_org_customer_created", "org_id", "customer_id", "created_at"),
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


class RequestEventRow(Base):
    __tablename__ = "request_events"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "request_id"],
            ["requests.org_id", "requests.id"],
            name="fk_request_events_request",
            ondelete="CASCADE",
        ),
        # A repeated change with the same Idempotency-Key stores once.
        UniqueConstraint("org_id", "idempotency_key", name="uq_request_events_idempotency"),
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
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # What the change asked for (a digest), so a replayed key with another body is told.
    fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)


# -- trust: idempotency keys ---------------------------------------------------------
#
# One row per (organisation, who, key): the stored answer to a state-changing request
# sent with an ``Idempotency-Key`` header, written in the same transaction as the
# change it answers (see services.idempotency).


class IdempotencyKeyRow(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),
        Index("ix_idempotency_keys_org_created", "org_id", "created_at"),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Whose key: "account:<id>" (keys of different callers never meet).
    scope: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(1000))
    # SHA-256 (hex) of the request body as received.
    request_sha256: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(100))
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# -- measure: per-provider summaries (services.measure.refresh) ----------------------


class MeasureCellRow(Base):
    """One protected survey cell (a provider, relationship, provider × dimension or
    relationship × dimension per campaign, or a provider's driver analysis): its
    moments and whether it is shown. ``driver_part`` rows are a provider's driver
    respondents of one campaign that could not be shown next to that campaign's cells
    (n: size; total, total_sq: the two facts the organisation-wide decision needs).
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
    cut: Mapped[str] = mapped_column(String(30), primary_key=True)
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
    complete respondents (for Cronbach's alpha and McDonald's omega)."""

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


class MeasureOpenCampaignRow(Base):
    """trust: the campaigns that were still open when the summaries were last brought
    up to date (their responses are left out); when this set differs from today's,
    the responses of the campaigns that opened or closed are summarised again."""

    __tablename__ = "measure_open_campaigns"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name="fk_measure_open_campaigns_org",
            ondelete="CASCADE",
        ),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign: Mapped[str] = mapped_column(String(200), primary_key=True)
