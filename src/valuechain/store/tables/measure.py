"""Measure: instruments, campaigns, anonymous responses, invitations and the
per-provider summaries every survey number is read from."""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from valuechain.store.tables.base import SQLITE_CLUSTERED, Base

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
    # The first and last day of its published answers, widened by the summary refresh:
    # with the closing date they put campaigns in time order (store.campaign_ids).
    first_answer_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    last_answer_on: Mapped[date | None] = mapped_column(Date, nullable=True)


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
