"""comment threshold per organisation; summaries gain the importance cells

``organisations.comment_threshold`` (default 10) is the smallest group whose
comments are shown. The per-provider summaries now also hold the protected mean
importance points of the SERVQUAL importance split (cut ``importance`` in
``measure_cells``), so every stored response is marked for a new summary; the first
question after the upgrade recomputes them.

Revision ID: 0014
Revises: 0008
Create Date: 2026-11-24 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0014"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not in batch mode: on SQLite a batch rebuild drops the old organisations table,
    # and with foreign keys on that cascades to everything the organisation holds.
    op.add_column(
        "organisations",
        sa.Column("comment_threshold", sa.Integer(), server_default="10", nullable=False),
    )
    op.execute(sa.text("UPDATE responses SET summarised = :no").bindparams(no=False))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM measure_cells WHERE cut = 'importance'"))
    op.drop_column("organisations", "comment_threshold")
