"""agree: business calendars, service agreements, commitments, capacity shares

One row per agreement with a column per target; commitments are keyed by agreement
and due time so generating due items is idempotent; demand above a customer's
capacity share opens a negotiation.

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-23 21:16:43.958027
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendars',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('timezone', sa.String(length=100), nullable=False),
    sa.Column('hours', sa.String(length=1000), nullable=False),
    sa.Column('holidays', sa.String(length=4000), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_calendars_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'name', name=op.f('pk_calendars'))
    )
    op.create_table('agreements',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('result_id', sa.String(length=200), nullable=False),
    sa.Column('customer_id', sa.String(length=200), nullable=False),
    sa.Column('calendar', sa.String(length=200), nullable=True),
    sa.Column('review_on', sa.Date(), nullable=True),
    sa.Column('channel', sa.String(length=300), nullable=True),
    sa.Column('cadence', sa.String(length=300), nullable=True),
    sa.Column('on_time_pct', sa.Float(), nullable=True),
    sa.Column('response_hours', sa.Float(), nullable=True),
    sa.Column('resolution_hours', sa.Float(), nullable=True),
    sa.Column('quality_pct', sa.Float(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('obligations', sa.String(length=4000), nullable=True),
    sa.Column('exceed_margin_hours', sa.Float(), nullable=True),
    sa.Column('deliverable_rrule', sa.String(length=500), nullable=True),
    sa.Column('provider_agreed_by', sa.String(length=400), nullable=True),
    sa.Column('provider_agreed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('customer_agreed_by', sa.String(length=400), nullable=True),
    sa.Column('customer_agreed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state = 'draft' OR state = 'proposed' OR state = 'agreed' OR state = 'under_review'", name=op.f('ck_agreements_state')),
    sa.ForeignKeyConstraint(['org_id', 'calendar'], ['calendars.org_id', 'calendars.name'], name='fk_agreements_calendar', initially='DEFERRED', deferrable=True),
    sa.ForeignKeyConstraint(['org_id', 'customer_id'], ['units.org_id', 'units.id'], name='fk_agreements_customer', initially='DEFERRED', deferrable=True),
    sa.ForeignKeyConstraint(['org_id', 'result_id'], ['results.org_id', 'results.id'], name='fk_agreements_result', initially='DEFERRED', deferrable=True),
    sa.PrimaryKeyConstraint('org_id', 'id', name=op.f('pk_agreements'))
    )
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.create_index('ix_agreements_org_customer', ['org_id', 'customer_id'], unique=False)
        batch_op.create_index('ix_agreements_org_result', ['org_id', 'result_id'], unique=False)

    op.create_table('capacity_shares',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('result_id', sa.String(length=200), nullable=False),
    sa.Column('customer_id', sa.String(length=200), nullable=False),
    sa.Column('share', sa.Float(), nullable=False),
    sa.CheckConstraint('share >= 0', name=op.f('ck_capacity_shares_share')),
    sa.ForeignKeyConstraint(['org_id', 'customer_id'], ['units.org_id', 'units.id'], name='fk_capacity_shares_customer', ondelete='CASCADE', initially='DEFERRED', deferrable=True),
    sa.ForeignKeyConstraint(['org_id', 'result_id'], ['results.org_id', 'results.id'], name='fk_capacity_shares_result', ondelete='CASCADE', initially='DEFERRED', deferrable=True),
    sa.PrimaryKeyConstraint('org_id', 'result_id', 'customer_id', name=op.f('pk_capacity_shares'))
    )
    op.create_table('negotiations',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('result_id', sa.String(length=200), nullable=False),
    sa.Column('customer_id', sa.String(length=200), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('demand', sa.Float(), nullable=False),
    sa.Column('share', sa.Float(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(length=400), nullable=True),
    sa.Column('note', sa.String(length=2000), nullable=True),
    sa.CheckConstraint("state = 'open' OR state = 'accepted' OR state = 'rescheduled' OR state = 'share_changed'", name=op.f('ck_negotiations_state')),
    sa.ForeignKeyConstraint(['org_id', 'customer_id'], ['units.org_id', 'units.id'], name='fk_negotiations_customer', ondelete='CASCADE', initially='DEFERRED', deferrable=True),
    sa.ForeignKeyConstraint(['org_id', 'result_id'], ['results.org_id', 'results.id'], name='fk_negotiations_result', ondelete='CASCADE', initially='DEFERRED', deferrable=True),
    sa.PrimaryKeyConstraint('org_id', 'id', name=op.f('pk_negotiations'))
    )
    with op.batch_alter_table('negotiations', schema=None) as batch_op:
        batch_op.create_index('ix_negotiations_org_result', ['org_id', 'result_id', 'customer_id'], unique=False)

    op.create_table('commitments',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.String(length=200), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('warned_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['org_id', 'agreement_id'], ['agreements.org_id', 'agreements.id'], name='fk_commitments_agreement', ondelete='CASCADE', initially='DEFERRED', deferrable=True),
    sa.PrimaryKeyConstraint('org_id', 'agreement_id', 'due_at', name=op.f('pk_commitments'))
    )


def downgrade() -> None:
    op.drop_table('commitments')
    with op.batch_alter_table('negotiations', schema=None) as batch_op:
        batch_op.drop_index('ix_negotiations_org_result')

    op.drop_table('negotiations')
    op.drop_table('capacity_shares')
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.drop_index('ix_agreements_org_result')
        batch_op.drop_index('ix_agreements_org_customer')

    op.drop_table('agreements')
    op.drop_table('calendars')
