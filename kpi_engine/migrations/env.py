from alembic import context
from sqlmodel import SQLModel

import kpi_engine.models  # noqa: F401  (registers the tables on SQLModel.metadata)
import kpi_engine.ops_models  # noqa: F401
import kpi_engine.state_models  # noqa: F401  (and lexicon_cache)

target_metadata = SQLModel.metadata
config = context.config


def run() -> None:
    conn = config.attributes.get("connection")
    if conn is not None:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = config.attributes["engine"]
    with engine.begin() as c:
        context.configure(connection=c, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
