"""links have a state: confirmed, proposed or disputed

``links`` gain ``state`` (``confirmed``, ``proposed``, ``disputed``; every stored link
is confirmed, as every link a bundle imports is), the side that proposed it, who
proposed and answered and when, and the reason of a dispute (docs/map.md, "Building
the map together"). Columns are added in place (``ALTER TABLE … ADD COLUMN``, with the
state's check on the column), so SQLite keeps the table ``WITHOUT ROWID``.

Revision ID: 0018_link_states
Revises: 0017_campaign_dates
Create Date: 2026-12-07 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0018_link_states"
down_revision = "0017_campaign_dates"
branch_labels = None
depends_on = None

STATES = "state = 'confirmed' OR state = 'proposed' OR state = 'disputed'"


def upgrade() -> None:
    with op.batch_alter_table("links") as batch:
        # The server default fills every stored link with "confirmed".
        batch.add_column(
            sa.Column(
                "state",
                sa.String(16),
                sa.CheckConstraint(STATES, name="ck_links_state"),
                nullable=False,
                server_default="confirmed",
            )
        )
        batch.add_column(sa.Column("proposed_side", sa.String(200), nullable=True))
        batch.add_column(sa.Column("proposed_by", sa.String(320), nullable=True))
        batch.add_column(sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("answered_by", sa.String(320), nullable=True))
        batch.add_column(sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reason", sa.String(2000), nullable=True))


def downgrade() -> None:
    # Links the other side has not confirmed were never on the map: they go.
    op.execute("DELETE FROM links WHERE state <> 'confirmed'")
    with op.batch_alter_table("links") as batch:
        for column in (
            "reason",
            "answered_at",
            "answered_by",
            "proposed_at",
            "proposed_by",
            "proposed_side",
            "state",
        ):
            batch.drop_column(column)
