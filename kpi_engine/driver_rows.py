"""Reads of thousands of rows (a breakdown by rep) straight from the database driver, as plain tuples.

SQLAlchemy wraps every fetched row in a Row object; for the few-thousand-row reads of an answer by
rep that costs more than the query itself. The SQL is the same `:name` text the rest of the engine
uses, compiled once per statement for the connection's dialect, and runs on the connection's own
driver connection, so it sees the same transaction; SQLAlchemy's cursor events fire as for any
statement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kpi_engine import store_errors

if TYPE_CHECKING:
    from sqlalchemy import Connection

# (dialect, statement) -> (driver SQL, parameter names in order for positional drivers, or None)
_COMPILED: dict[tuple[str, str], tuple[str, tuple[str, ...] | None]] = {}
_MAX_COMPILED = 2048



def rows(conn: Connection, sql: str, params: dict[str, Any] | None = None) -> list[tuple]:
    if getattr(conn, "lite", False):  # kpi_engine/litestore.py: sqlite3 already gives tuples
        return conn.rows(sql, params)  # type: ignore[attr-defined]
    from sqlalchemy import exc, text

    dialect = conn.dialect
    key = (dialect.name, sql)
    got = _COMPILED.get(key)
    if got is None:
        compiled = text(sql).compile(dialect=dialect)
        order = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        got = (compiled.string, order)
        if len(_COMPILED) >= _MAX_COMPILED:
            _COMPILED.clear()
        _COMPILED[key] = got
    stmt, order = got
    values = params or {}
    args: Any = tuple(values[n] for n in order) if order else values
    dbapi = conn.dialect.loaded_dbapi
    cursor = conn.connection.driver_connection.cursor()
    try:
        # the engine's cursor events still see the statement (tests and benchmarks count and replay
        # what an answer ran; tracing tools hook the same events)
        conn.dispatch.before_cursor_execute(conn, cursor, stmt, args, None, False)
        cursor.execute(stmt, args)
        got = cursor.fetchall()
        conn.dispatch.after_cursor_execute(conn, cursor, stmt, args, None, False)
        return got
    except dbapi.Error as e:
        # as SQLAlchemy raises it, so a damaged or lost store is reported like any other statement's
        # (kpi_engine/store_errors.py), and a lost connection is not handed out again
        lost = conn.dialect.is_disconnect(e, conn.connection.dbapi_connection, cursor)
        wrapped = exc.DBAPIError.instance(stmt, args, e, dbapi.Error, connection_invalidated=lost,
                                          dialect=conn.dialect)
        if lost:
            conn.invalidate(e)
        raise store_errors.translate(conn.engine, e, wrapped) from e
    finally:
        cursor.close()
