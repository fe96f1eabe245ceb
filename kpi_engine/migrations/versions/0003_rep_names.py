"""reps: optional Thai name and nickname (recognised in /kpi questions); lexicon_cache

Revision ID: 0003
Revises: 0006
Create Date: 2026-11-29 12:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_th', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('nickname', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.create_table('lexicon_cache',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('built_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )


def downgrade() -> None:
    op.drop_table('lexicon_cache')
    with op.batch_alter_table('reps', schema=None) as batch_op:
        batch_op.drop_column('nickname')
        batch_op.drop_column('name_th')
