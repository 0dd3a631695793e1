"""one idempotency mechanism: request events and survey answers lose their own keys

``request_events`` loses ``idempotency_key``, ``fingerprint`` and the unique constraint
on the key; the table ``survey_idempotency`` is dropped. Retries of both now go
through ``idempotency_keys`` (services/idempotency.py), claimed in the change's
transaction. The old keys are not moved: a key there has no caller scope, no request
fingerprint of the one table's kind and no stored answer (a request event's key only
points at its event; a survey key is an HMAC of a token the database never held),
and the one table keeps a key for 24 hours only, so after an upgrade a retry of an
older change is treated as a new change, as a retry more than a day late is today.

Revision ID: 0016_one_idempotency
Revises: 0015_anon
Create Date: 2026-12-20 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_one_idempotency"
down_revision = "0015_anon"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A batch rebuild on SQLite (a column in a UNIQUE constraint cannot be dropped
    # with ALTER TABLE there); nothing references request_events, so the rebuild's
    # DROP TABLE cascades nowhere.
    with op.batch_alter_table("request_events", schema=None) as batch_op:
        batch_op.drop_constraint("uq_request_events_idempotency", type_="unique")
        batch_op.drop_column("fingerprint")
        batch_op.drop_column("idempotency_key")
    op.drop_table("survey_idempotency")


def downgrade() -> None:
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
    with op.batch_alter_table("request_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            "uq_request_events_idempotency", ["org_id", "idempotency_key"]
        )
