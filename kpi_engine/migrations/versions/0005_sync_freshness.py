"""sync sources, data freshness, store facts; jobs' last success (kpi_engine/state_models.py)

Revision ID: 0005
Revises: 0003 (assigned '0002'; chained after main's 0006 and 0003 when main was merged in)
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'data_freshness',
        sa.Column('table_name', sa.String(), nullable=False),
        sa.Column('fresh_to', sa.BigInteger(), nullable=False),
        sa.Column('origin', sa.String(), nullable=False),
        sa.Column('recorded_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('table_name'),
    )
    op.create_table(
        'store_meta',
        sa.Column('key', sa.String(), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_table(
        'ops_sync_state',
        sa.Column('source', sa.String(), nullable=False),
        sa.Column('kind', sa.String(), nullable=False),
        sa.Column('first_run_at', sa.BigInteger(), nullable=True),
        sa.Column('last_attempt_at', sa.BigInteger(), nullable=True),
        sa.Column('last_success_at', sa.BigInteger(), nullable=True),
        sa.Column('last_rows', sa.Integer(), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('watermarks', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('source'),
    )
    op.create_table(
        'ops_sync_files',
        sa.Column('source', sa.String(), nullable=False),
        sa.Column('name', sa.String(), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('mtime_ns', sa.BigInteger(), nullable=False),
        sa.Column('imported_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('source', 'name', 'size', 'mtime_ns'),
    )
    with op.batch_alter_table('ops_job_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_success_at', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ops_job_runs', schema=None) as batch_op:
        batch_op.drop_column('last_success_at')
    op.drop_table('ops_sync_files')
    op.drop_table('ops_sync_state')
    op.drop_table('store_meta')
    op.drop_table('data_freshness')
