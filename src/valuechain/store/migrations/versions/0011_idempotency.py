"""idempotency keys; data rights: comment retention, erasure in the audit log

- ``idempotency_keys``: the stored answer to a state-changing request, per caller and key.
- ``organisations.comment_retention_days``: raw comments older than this are purged.
- On PostgreSQL the audit log's append-only trigger admits one kind of UPDATE: the
  erasure of a person (``valuechain person erase``), which rewrites who an event names
  (actor, subject, address, detail) but never when it happened or what was done, and
  only inside a transaction that set ``valuechain.erasure`` to ``on``.

Revision ID: 0011
Revises: 0003
Create Date: 2026-11-23 21:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0005'
branch_labels = None
depends_on = None


APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on audit_events refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""

ERASURE_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND coalesce(current_setting('valuechain.erasure', true), '') = 'on'
       AND NEW.org_id = OLD.org_id AND NEW.id = OLD.id AND NEW.at = OLD.at
       AND NEW.action = OLD.action AND NEW.outcome = OLD.outcome
       AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % on audit_events refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""


def upgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comment_retention_days', sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(ERASURE_FUNCTION)
    op.create_table('idempotency_keys',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=100), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('path', sa.String(length=1000), nullable=False),
    sa.Column('request_sha256', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('response_body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_idempotency_keys_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'scope', 'key', name=op.f('pk_idempotency_keys'))
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index('ix_idempotency_keys_org_created', ['org_id', 'created_at'], unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY_FUNCTION)
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('comment_retention_days')
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_idempotency_keys_org_created')
    op.drop_table('idempotency_keys')
