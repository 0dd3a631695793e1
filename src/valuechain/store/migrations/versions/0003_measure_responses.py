"""measure: custom instruments, campaigns, anonymous responses

Responses keep no person id and only the day they were submitted; answers carry
their item's dimension so scores aggregate in one GROUP BY.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 20:13:17.511316
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymity_threshold', sa.Integer(), server_default='5', nullable=False))
    op.create_table('campaigns',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('instrument', sa.String(length=100), nullable=True),
    sa.Column('opens_on', sa.Date(), nullable=True),
    sa.Column('closes_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_campaigns_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'id', name=op.f('pk_campaigns'))
    )
    op.create_table('instruments',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_instruments_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'key', name=op.f('pk_instruments'))
    )
    op.create_table('instrument_items',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('instrument', sa.String(length=100), nullable=False),
    sa.Column('item', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('dimension', sa.String(length=200), nullable=False),
    sa.Column('text', sa.String(length=2000), nullable=False),
    sa.Column('scale_min', sa.Integer(), nullable=True),
    sa.Column('scale_max', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['org_id', 'instrument'], ['instruments.org_id', 'instruments.key'], name='fk_instrument_items_instrument', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'instrument', 'item', name=op.f('pk_instrument_items'))
    )
    op.create_table('responses',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('campaign_id', sa.String(length=200), nullable=False),
    sa.Column('instrument', sa.String(length=100), nullable=False),
    sa.Column('rater_id', sa.String(length=200), nullable=False),
    sa.Column('rated_id', sa.String(length=200), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['org_id', 'campaign_id'], ['campaigns.org_id', 'campaigns.id'], name='fk_responses_campaign', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id', 'rated_id'], ['units.org_id', 'units.id'], name='fk_responses_rated', initially='DEFERRED', deferrable=True),
    sa.ForeignKeyConstraint(['org_id', 'rater_id'], ['units.org_id', 'units.id'], name='fk_responses_rater', initially='DEFERRED', deferrable=True),
    sa.PrimaryKeyConstraint('org_id', 'id', name=op.f('pk_responses'))
    )
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.create_index('ix_responses_org_rated', ['org_id', 'rated_id'], unique=False)

    op.create_table('answers',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.String(length=200), nullable=False),
    sa.Column('item', sa.String(length=200), nullable=False),
    sa.Column('dimension', sa.String(length=200), nullable=False),
    sa.Column('expectation', sa.Float(), nullable=True),
    sa.Column('score', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['org_id', 'response_id'], ['responses.org_id', 'responses.id'], name='fk_answers_response', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'response_id', 'item', name=op.f('pk_answers')),
    sqlite_with_rowid=False
    )
    op.create_table('comments',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.String(length=200), nullable=False),
    sa.Column('item', sa.String(length=200), nullable=False),
    sa.Column('text', sa.String(length=4000), nullable=False),
    sa.ForeignKeyConstraint(['org_id', 'response_id'], ['responses.org_id', 'responses.id'], name='fk_comments_response', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'response_id', 'item', name=op.f('pk_comments'))
    )


def downgrade() -> None:
    op.drop_table('comments')
    op.drop_table('answers')
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_index('ix_responses_org_rated')

    op.drop_table('responses')
    op.drop_table('instrument_items')
    op.drop_table('instruments')
    op.drop_table('campaigns')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('anonymity_threshold')
