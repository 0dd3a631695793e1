"""request: internal requests between units, their events (one per change of
state, with the Idempotency-Key that made it) and thanks

Revision ID: 0009
Revises: 0003
Create Date: 2026-11-23 21:16:48.036740
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('requests',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('customer_id', sa.String(length=200), nullable=False),
    sa.Column('provider_id', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=300), server_default='', nullable=False),
    sa.Column('body', sa.String(length=8000), server_default='', nullable=False),
    sa.Column('priority', sa.String(length=32), nullable=True),
    sa.Column('category', sa.String(length=100), nullable=True),
    sa.Column('requester_id', sa.String(length=32), nullable=True),
    sa.Column('requester', sa.String(length=300), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_seconds', sa.Float(), server_default='0', nullable=False),
    sa.Column('events', sa.Integer(), server_default='0', nullable=False),
    sa.Column('thanked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('thanks_note', sa.String(length=2000), nullable=True),
    sa.Column('thanked_by', sa.String(length=300), nullable=True),
    sa.CheckConstraint("state = 'new' OR state = 'acknowledged' OR state = 'in_progress' OR state = 'waiting' OR state = 'resolved' OR state = 'closed'", name=op.f('ck_requests_state')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_requests_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'id', name=op.f('pk_requests'))
    )
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.create_index('ix_requests_org_customer_created', ['org_id', 'customer_id', 'created_at'], unique=False)
        batch_op.create_index('ix_requests_org_provider_created', ['org_id', 'provider_id', 'created_at'], unique=False)
        batch_op.create_index('ix_requests_org_relationship', ['org_id', 'provider_id', 'customer_id'], unique=False)

    op.create_table('request_events',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.String(length=200), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=300), nullable=True),
    sa.Column('verb', sa.String(length=16), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=4000), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['org_id', 'request_id'], ['requests.org_id', 'requests.id'], name='fk_request_events_request', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'request_id', 'seq', name=op.f('pk_request_events')),
    sa.UniqueConstraint('org_id', 'idempotency_key', name='uq_request_events_idempotency')
    )


def downgrade() -> None:
    op.drop_table('request_events')
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_index('ix_requests_org_relationship')
        batch_op.drop_index('ix_requests_org_provider_created')
        batch_op.drop_index('ix_requests_org_customer_created')

    op.drop_table('requests')
