"""campaigns: state, relationships covered, single-use invitations, importance split

An invitation records its person and whether it is spent, never when nor the
response it became; tokens are stored as SHA-256 hashes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=16), server_default="closed", nullable=False)
        )
    op.create_table(
        "campaign_groups",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.String(length=200), nullable=False),
        sa.Column("provider_id", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "campaign_id"],
            ["campaigns.org_id", "campaigns.id"],
            name="fk_campaign_groups_campaign",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "org_id", "campaign_id", "provider_id", "customer_id", name=op.f("pk_campaign_groups")
        ),
    )
    op.create_table(
        "invitations",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=200), nullable=False),
        sa.Column("provider_id", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.String(length=200), nullable=False),
        sa.Column("person_id", sa.String(length=200), nullable=False),
        sa.Column("invited_on", sa.Date(), nullable=False),
        sa.Column("reminded_on", sa.Date(), nullable=True),
        sa.Column("reminders", sa.Integer(), server_default="0", nullable=False),
        sa.Column("spent", sa.Boolean(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "campaign_id"],
            ["campaigns.org_id", "campaigns.id"],
            name="fk_invitations_campaign",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_invitations")),
        sa.UniqueConstraint(
            "org_id", "campaign_id", "provider_id", "person_id", name="uq_invitations_person"
        ),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invitations_org_campaign", ["org_id", "campaign_id"], unique=False
        )
    op.create_table(
        "invitation_tokens",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invitation_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "invitation_id"],
            ["invitations.org_id", "invitations.id"],
            name="fk_invitation_tokens_invitation",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "token_hash", name=op.f("pk_invitation_tokens")),
    )
    op.create_table(
        "importance_points",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.String(length=200), nullable=False),
        sa.Column("dimension", sa.String(length=200), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "response_id"],
            ["responses.org_id", "responses.id"],
            name="fk_importance_points_response",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "org_id", "response_id", "dimension", name=op.f("pk_importance_points")
        ),
    )
    op.create_table(
        "survey_idempotency",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("result", sa.String(length=2000), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_survey_idempotency_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "key_hash", name=op.f("pk_survey_idempotency")),
    )


def downgrade() -> None:
    op.drop_table("survey_idempotency")
    op.drop_table("importance_points")
    op.drop_table("invitation_tokens")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_invitations_org_campaign")
    op.drop_table("invitations")
    op.drop_table("campaign_groups")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("state")
