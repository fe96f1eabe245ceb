"""targets: an index by metric and scope (issue 13)

Every answer with a target reads the company's or a team's rows of one metric, and a breakdown by
rep reads all reps' rows of it; without this index each of those reads was a scan of the whole
table (reps x months x metrics rows).

Revision ID: 0008
Revises: 0007
"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_targets_scope', 'targets', ['metric', 'rep_id', 'team', 'start_at', 'end_at', 'value'])


def downgrade() -> None:
    op.drop_index('ix_targets_scope', table_name='targets')
