"""campaigns know their first and last answer day

``campaigns`` gain ``first_answer_on`` and ``last_answer_on``: campaigns are put in
time order (closing date, else the last answer day), never in the string order of
their ids (``wave-10`` sorts before ``wave-9``). Filled from the stored responses;
afterwards the summary refresh widens them as answers arrive.

Revision ID: 0017_campaign_dates
Revises: 0016_one_idempotency
Create Date: 2026-12-07 20:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0017_campaign_dates"
down_revision = "0016_one_idempotency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("first_answer_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("last_answer_on", sa.Date(), nullable=True))
    conn = op.get_bind()
    meta = sa.MetaData()
    campaigns = sa.Table("campaigns", meta, autoload_with=conn)
    responses = sa.Table("responses", meta, autoload_with=conn)
    r = responses.c
    spans = conn.execute(
        sa.select(r.org_id, r.campaign_id, sa.func.min(r.submitted_on), sa.func.max(r.submitted_on))
        .group_by(r.org_id, r.campaign_id)
    ).all()
    for org_id, campaign_id, first, last in spans:
        conn.execute(
            sa.update(campaigns)
            .where(campaigns.c.org_id == org_id, campaigns.c.id == campaign_id)
            .values(first_answer_on=first, last_answer_on=last)
        )


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("last_answer_on")
        batch.drop_column("first_answer_on")
