"""alert state history (as-of digests and alert runs), seen signed requests (replays), shares (once per
answer and channel) — issue 10

Revision ID: 0007
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None

_COLS = "rule_id, segment, version, at, state, episode, since, period, value, fired_at, resolved_at, acked_by, " \
        "acked_at"


def upgrade() -> None:
    op.create_table(
        'ops_alert_history',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rule_id', sa.String(), nullable=False),
        sa.Column('segment', sa.String(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('at', sa.BigInteger(), nullable=False),
        sa.Column('state', sa.String(), nullable=False),
        sa.Column('episode', sa.Integer(), nullable=False),
        sa.Column('since', sa.BigInteger(), nullable=True),
        sa.Column('period', sa.String(), nullable=True),
        sa.Column('value', sa.Float(), nullable=True),
        sa.Column('fired_at', sa.BigInteger(), nullable=True),
        sa.Column('resolved_at', sa.BigInteger(), nullable=True),
        sa.Column('acked_by', sa.String(), nullable=True),
        sa.Column('acked_at', sa.BigInteger(), nullable=True),
        sa.Column('resolved_by', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_alert_history_at', 'ops_alert_history', ['rule_id', 'segment', 'at'])
    # The history of alerts older than this revision, rebuilt from what their rows kept: the last
    # episode fired at fired_at, was acknowledged at acked_at and resolved at resolved_at.
    op.execute(f"INSERT INTO ops_alert_history ({_COLS}) "
               "SELECT rule_id, segment, version, COALESCE(since, evaluated_at, 0), state, episode, since, period, "
               "value, fired_at, resolved_at, acked_by, acked_at FROM ops_alert_states WHERE fired_at IS NULL")
    op.execute(f"INSERT INTO ops_alert_history ({_COLS}) "
               "SELECT rule_id, segment, version, fired_at, 'firing', episode, fired_at, period, value, fired_at, "
               "NULL, NULL, NULL FROM ops_alert_states WHERE fired_at IS NOT NULL")
    op.execute(f"INSERT INTO ops_alert_history ({_COLS}) "
               "SELECT rule_id, segment, version, acked_at, 'firing', episode, fired_at, period, value, fired_at, "
               "NULL, acked_by, acked_at FROM ops_alert_states WHERE fired_at IS NOT NULL AND acked_at IS NOT NULL")
    op.execute(f"INSERT INTO ops_alert_history ({_COLS}) "
               "SELECT rule_id, segment, version, resolved_at, 'resolved', episode, resolved_at, period, value, "
               "fired_at, resolved_at, acked_by, acked_at FROM ops_alert_states "
               "WHERE fired_at IS NOT NULL AND resolved_at IS NOT NULL")
    op.create_table(
        'ops_seen_requests',
        sa.Column('signature', sa.String(), nullable=False),
        sa.Column('request_ts', sa.BigInteger(), nullable=False),
        sa.Column('seen_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('signature', 'request_ts'),
    )
    op.create_index('ix_seen_requests_ts', 'ops_seen_requests', ['request_ts'])
    op.create_table(
        'ops_shares',
        sa.Column('answer_id', sa.String(), nullable=False),
        sa.Column('channel', sa.String(), nullable=False),
        sa.Column('shared_by', sa.String(), nullable=False),
        sa.Column('shared_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('answer_id', 'channel'),
    )


def downgrade() -> None:
    op.drop_table('ops_shares')
    op.drop_index('ix_seen_requests_ts', table_name='ops_seen_requests')
    op.drop_table('ops_seen_requests')
    op.drop_index('ix_alert_history_at', table_name='ops_alert_history')
    op.drop_table('ops_alert_history')
