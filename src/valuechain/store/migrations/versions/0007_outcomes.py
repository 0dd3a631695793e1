"""connect: the external customers' outcomes per month; flow: links.per_item

Revision ID: 0007
Revises: 0003
Create Date: 2026-11-23 21:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Flow: an input of an assembly says how many of its items one item needs.
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("per_item", sa.Float(), nullable=True))
    op.create_table(
        "outcomes",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.String(length=200), nullable=False),
        sa.Column("metric", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "unit_id"],
            ["units.org_id", "units.id"],
            name="fk_outcomes_unit",
            ondelete="CASCADE",
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.PrimaryKeyConstraint("org_id", "unit_id", "metric", "period", name=op.f("pk_outcomes")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("outcomes")
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.drop_column("per_item")
