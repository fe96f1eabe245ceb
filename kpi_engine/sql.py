"""The engine's SQL text, readable by SQLAlchemy and by the SQLite reader (kpi_engine/litestore.py).

Every statement the engine runs is `:name`-parameter text. `text(sql)` gives SQLAlchemy's TextClause
once SQLAlchemy is loaded; in a process that never loads it (`kpibot ask` on a SQLite store, whose
start it would double) it gives `Sql`, a plain string the reader runs as it is. A `Sql` made
before SQLAlchemy was loaded still runs on a SQLAlchemy connection.
"""

from __future__ import annotations

import sqlite3
import sys
from typing import Any


class Sql(str):
    """`:name`-parameter SQL made while SQLAlchemy was not loaded."""

    __slots__ = ()

    @property
    def text(self) -> str:  # as TextClause.text: what the SQLite reader runs
        return str(self)

    def _execute_on_connection(self, connection: Any, params: Any, options: Any) -> Any:
        # how SQLAlchemy's Connection.execute runs a statement: as the TextClause it stands for
        from sqlalchemy import text as sa_text

        return sa_text(self)._execute_on_connection(connection, params, options)


def text(sql: str) -> Any:
    sa = sys.modules.get("sqlalchemy")
    if sa is not None and hasattr(sa, "text"):
        return sa.text(sql)
    return Sql(sql)


def db_errors() -> tuple[type[BaseException], ...]:
    """The database errors a statement may raise here: SQLite's own (the reader), and SQLAlchemy's
    when it is loaded."""
    exc = sys.modules.get("sqlalchemy.exc")
    return (sqlite3.Error,) if exc is None else (sqlite3.Error, exc.SQLAlchemyError)
