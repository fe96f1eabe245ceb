"""write-time rollups: per-day sums and running totals of the KPI facts, retention comebacks, and the
indexes the exact median and the lead -> deal refresh read (kpi_engine/rollups.py)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 21:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _measures(prefix: str) -> list[sa.Column]:
    return [sa.Column(f"{prefix}{i}", sa.Float(), nullable=False, server_default="0") for i in range(4)]


def upgrade() -> None:
    op.create_table('rollup_days',
    sa.Column('fact', sa.String(), nullable=False),
    sa.Column('cube', sa.String(), nullable=False),
    sa.Column('k1', sa.String(), nullable=False),
    sa.Column('k2', sa.String(), nullable=False),
    sa.Column('day', sa.BigInteger(), nullable=False),
    *_measures("v"),
    sa.PrimaryKeyConstraint('fact', 'cube', 'k1', 'k2', 'day'),
    sqlite_with_rowid=False
    )
    op.create_index('ix_rollup_days_day', 'rollup_days', ['fact', 'day'])
    pg = op.get_bind().dialect.name == "postgresql"
    cum_key = ['fact', 'cube', 'day', 'k1', 'k2']
    op.create_table('rollup_cum',
    sa.Column('fact', sa.String(), nullable=False),
    sa.Column('cube', sa.String(), nullable=False),
    sa.Column('day', sa.BigInteger(), nullable=False),
    sa.Column('k1', sa.String(), nullable=False),
    sa.Column('k2', sa.String(), nullable=False),
    *_measures("c"),
    *([] if pg else [sa.PrimaryKeyConstraint(*cum_key)]),
    sqlite_with_rowid=False
    )
    if pg:
        # the key with the totals included: a period's rows are read from the index alone (SQLite's
        # table is clustered by its key, which does the same)
        op.create_index('ux_rollup_cum', 'rollup_cum', cum_key, unique=True,
                        postgresql_include=['c0', 'c1', 'c2', 'c3'])
    op.create_table('rollup_meta',
    sa.Column('fact', sa.String(), nullable=False),
    sa.Column('clock', sa.String(), nullable=False),
    sa.Column('params', sa.String(), nullable=False),
    sa.Column('first_day', sa.BigInteger(), nullable=False),
    sa.Column('last_day', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('fact')
    )
    op.create_table('long_gaps',
    sa.Column('account_id', sa.String(), nullable=False),
    sa.Column('t_end', sa.BigInteger(), nullable=False),
    sa.Column('next_t', sa.BigInteger(), nullable=False),
    sa.Column('segment', sa.String(), nullable=True),
    sa.Column('region', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('account_id', 't_end')
    )
    op.create_index('ix_long_gaps_end', 'long_gaps', ['t_end', 'next_t', 'segment', 'region'])
    op.create_index('ix_opp_cycle', 'opportunities', ['status', sa.text('(closed_at - created_at)'), 'closed_at'])
    op.create_index('ix_opp_lead', 'opportunities', ['lead_id'], sqlite_where=sa.text('lead_id IS NOT NULL'),
                    postgresql_where=sa.text('lead_id IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_opp_lead', 'opportunities')
    op.drop_index('ix_opp_cycle', 'opportunities')
    op.drop_index('ix_long_gaps_end', 'long_gaps')
    op.drop_table('long_gaps')
    op.drop_table('rollup_meta')
    op.drop_table('rollup_cum')  # its unique index goes with it
    op.drop_index('ix_rollup_days_day', 'rollup_days')
    op.drop_table('rollup_days')
