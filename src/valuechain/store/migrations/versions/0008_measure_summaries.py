"""measure summaries: protected cells and blocks per provider

Every protected survey cell and the respondent-level blocks of each provider are
kept in tables, so whole-organisation questions read summaries instead of 10
million answers; responses.summarised marks the ones not yet in a summary.

Revision ID: 0008
Revises: 0009
Create Date: 2026-11-23 21:21:37.590703
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('measure_blocks',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('instrument', sa.String(length=100), nullable=False),
    sa.Column('provider', sa.String(length=200), nullable=False),
    sa.Column('dimension', sa.String(length=200), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name='fk_measure_blocks_org', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'kind', 'instrument', 'provider', 'dimension', name=op.f('pk_measure_blocks')),
    sqlite_with_rowid=False
    )
    op.create_index('ix_measure_blocks_org_provider', 'measure_blocks', ['org_id', 'provider'], unique=False)
    op.create_table('measure_cells',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('cut', sa.String(length=30), nullable=False),
    sa.Column('campaign', sa.String(length=200), nullable=False),
    sa.Column('instrument', sa.String(length=100), nullable=False),
    sa.Column('provider', sa.String(length=200), nullable=False),
    sa.Column('customer', sa.String(length=200), nullable=False),
    sa.Column('dimension', sa.String(length=200), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('total_sq', sa.Float(), nullable=False),
    sa.Column('gap_n', sa.Integer(), nullable=False),
    sa.Column('gap_total', sa.Float(), nullable=False),
    sa.Column('gap_sq', sa.Float(), nullable=False),
    sa.Column('suppressed', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name='fk_measure_cells_org', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'cut', 'campaign', 'instrument', 'provider', 'customer', 'dimension', name=op.f('pk_measure_cells')),
    sqlite_with_rowid=False
    )
    op.create_index('ix_measure_cells_org_provider', 'measure_cells', ['org_id', 'provider'], unique=False)
    op.create_table('measure_open_campaigns',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('campaign', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name='fk_measure_open_campaigns_org', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'campaign', name=op.f('pk_measure_open_campaigns'))
    )
    # Not in batch mode: on SQLite a batch rebuild drops the old responses table, and
    # with foreign keys on that cascades to every answer and comment.
    op.add_column('responses', sa.Column('summarised', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index('ix_responses_org_unsummarised', 'responses', ['org_id', 'summarised', 'rated_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_responses_org_unsummarised', table_name='responses')
    op.drop_column('responses', 'summarised')
    op.drop_table('measure_open_campaigns')
    op.drop_index('ix_measure_cells_org_provider', table_name='measure_cells')
    op.drop_table('measure_cells')
    op.drop_index('ix_measure_blocks_org_provider', table_name='measure_blocks')
    op.drop_table('measure_blocks')
