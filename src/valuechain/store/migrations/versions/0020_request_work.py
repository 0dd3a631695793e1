"""requests gain an assignee and a conversation

``requests`` gain ``assignee_id`` (a person of the provider unit on the map) and three
indexes: the organisation-wide queue newest first, "assigned to me" and "my requests". A new table
``request_comments`` holds the conversation on a request, one row per message (who,
when, which side, the text). Columns are added in place, so SQLite keeps the table as
it is.

Revision ID: 0020_request_work
Revises: 0019_map_history
Create Date: 2026-12-07 23:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0020_request_work"
down_revision = "0019_map_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("assignee_id", sa.String(200), nullable=True))
    op.create_index("ix_requests_org_created", "requests", ["org_id", "created_at"])
    op.create_index(
        "ix_requests_org_assignee_created", "requests", ["org_id", "assignee_id", "created_at"]
    )
    op.create_index(
        "ix_requests_org_requester_created", "requests", ["org_id", "requester_id", "created_at"]
    )
    op.create_table(
        "request_comments",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("request_id", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_id", sa.String(32), nullable=True),
        sa.Column("author", sa.String(300), nullable=False),
        sa.Column("side", sa.String(16), nullable=False),
        sa.Column("body", sa.String(4000), nullable=False),
        sa.CheckConstraint(
            "side = 'provider' OR side = 'customer'", name=op.f("ck_request_comments_side")
        ),
        sa.ForeignKeyConstraint(
            ["org_id", "request_id"],
            ["requests.org_id", "requests.id"],
            name="fk_request_comments_request",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_request_comments")),
    )
    op.create_index(
        "ix_request_comments_request_at", "request_comments", ["org_id", "request_id", "at"]
    )


def downgrade() -> None:
    op.drop_index("ix_request_comments_request_at", table_name="request_comments")
    op.drop_table("request_comments")
    op.drop_index("ix_requests_org_requester_created", table_name="requests")
    op.drop_index("ix_requests_org_assignee_created", table_name="requests")
    op.drop_index("ix_requests_org_created", table_name="requests")
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("assignee_id")
