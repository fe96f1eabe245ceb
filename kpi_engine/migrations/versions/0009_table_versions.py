"""table_versions: a counter per table that triggers raise on every write to it (reps, for now)

An answer by rep names every rep, and reading the whole reps table for that was 10-15 % of such an
answer at a million deals. With a counter that every insert, update and delete of a rep raises, in
the same transaction, the engine keeps the names and reads one row to know whether they are still
current, whoever wrote the change (kpibot, a sync, or someone's own SQL).

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_SQLITE_TRIGGERS = (("INSERT", "reps_inserted"), ("UPDATE", "reps_updated"), ("DELETE", "reps_deleted"))


def upgrade() -> None:
    op.create_table(
        'table_versions',
        sa.Column('name', sa.String(), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    op.execute("INSERT INTO table_versions (name, version) VALUES ('reps', 1)")
    if op.get_bind().dialect.name == "postgresql":
        # once per statement, TRUNCATE included: an import's upsert of thousands of reps raises it once
        op.execute("CREATE FUNCTION kpibot_reps_changed() RETURNS trigger LANGUAGE plpgsql AS $$"
                   " BEGIN UPDATE table_versions SET version = version + 1 WHERE name = 'reps'; RETURN NULL; END $$")
        op.execute("CREATE TRIGGER reps_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON reps"
                   " FOR EACH STATEMENT EXECUTE FUNCTION kpibot_reps_changed()")
    else:
        # SQLite has row triggers only (an upsert's update fires the update trigger)
        for event, name in _SQLITE_TRIGGERS:
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON reps BEGIN"
                       " UPDATE table_versions SET version = version + 1 WHERE name = 'reps'; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER reps_changed ON reps")
        op.execute("DROP FUNCTION kpibot_reps_changed()")
    else:
        for _, name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table('table_versions')
