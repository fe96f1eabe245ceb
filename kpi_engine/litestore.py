"""A SQLite store read through Python's sqlite3 alone, for a command that only asks.

`kpibot ask` is a new process per question, and importing SQLAlchemy was half of its start-up
(~240 ms of ~600 on a slow machine) for a handful of `:name`-parameter statements. The engine's
SQL is plain text (kpi_engine/sql.py), so on a SQLite store at the current schema the same
statements run here: the same pragmas as kpi_engine.db.make_engine, the same parameter style
(SQLite reads `:name` itself), the values handed to the driver as SQLAlchemy hands them, and driver
errors turned into the same StoreErrors (kpi_engine/store_errors.py). What it offers is the part
of SQLAlchemy's Engine, Connection and Result the read path uses; kpi_engine.db.open_reader
decides when it may be used, and everything else (creating, migrating, PostgreSQL, the service)
goes through SQLAlchemy as before.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kpi_engine import store_errors


class NoResultFound(LookupError):
    pass


class MultipleResultsFound(LookupError):
    pass


class LiteURL:
    """What the engine and store_errors read of SQLAlchemy's URL."""

    host = port = username = password = None
    drivername = "sqlite"

    def __init__(self, database: str):
        self.database = database

    def get_backend_name(self) -> str:
        return "sqlite"

    def __str__(self) -> str:
        return f"sqlite:///{self.database}"


class _Dialect:
    name = "sqlite"
    loaded_dbapi = sqlite3


_ROW_CLASSES: dict[tuple[str, ...], type] = {}


def _row_class(names: tuple[str, ...]) -> type:
    """A tuple with each column also an attribute and `_mapping` (as SQLAlchemy's Row)."""
    cls = _ROW_CLASSES.get(names)
    if cls is None:
        index = {n: i for i, n in reversed(list(enumerate(names)))}  # a repeated name: its first column

        def getattr_(self: tuple, name: str) -> Any:
            i = index.get(name)
            if i is None:
                raise AttributeError(name)
            return self[i]

        cls = type("Row", (tuple,), {"__slots__": (), "__getattr__": getattr_, "_fields": names,
                                     "_mapping": property(lambda self: dict(zip(names, self, strict=True)))})
        _ROW_CLASSES[names] = cls
    return cls


class Result:
    def __init__(self, rows: list[tuple] | None, names: tuple[str, ...], rowcount: int):
        self._rows = rows if rows is not None else []
        self._names = names
        self.rowcount = rowcount
        self._pos = 0

    def keys(self) -> list[str]:
        return list(self._names)

    def _rest(self) -> list:
        rest = self._rows[self._pos:]
        self._pos = len(self._rows)
        return rest

    def __iter__(self) -> Iterator:
        return iter(self._rest())

    def all(self) -> list:
        return self._rest()

    fetchall = all

    def fetchone(self) -> Any:
        if self._pos >= len(self._rows):
            return None
        self._pos += 1
        return self._rows[self._pos - 1]

    def first(self) -> Any:
        rest = self._rest()
        return rest[0] if rest else None

    def one_or_none(self) -> Any:
        rest = self._rest()
        if len(rest) > 1:
            raise MultipleResultsFound("multiple rows were found when one or none was required")
        return rest[0] if rest else None

    def one(self) -> Any:
        rest = self._rest()
        if len(rest) != 1:
            raise (NoResultFound("no row was found when one was required") if not rest
                   else MultipleResultsFound("multiple rows were found when exactly one was required"))
        return rest[0]

    def scalar(self) -> Any:
        row = self.first()
        return None if row is None else row[0]

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalar_one_or_none(self) -> Any:
        row = self.one_or_none()
        return None if row is None else row[0]

    def scalars(self) -> Result:
        return Result([(r[0],) for r in self._rest()], self._names[:1], self.rowcount)

    def mappings(self) -> Result:
        names = self._names
        return Result([dict(zip(names, r, strict=True)) for r in self._rest()], names, self.rowcount)


class _DriverRef:
    """conn.connection as SQLAlchemy's: the driver's connection object."""

    def __init__(self, raw: sqlite3.Connection):
        self.driver_connection = self.dbapi_connection = raw


class LiteConnection:
    dialect = _Dialect()
    lite = True

    def __init__(self, engine: LiteEngine, raw: sqlite3.Connection):
        self.engine = engine
        self.connection = _DriverRef(raw)
        self._raw = raw

    def execute(self, statement: Any, params: Any = None) -> Result:
        sql = statement if isinstance(statement, str) else statement.text
        # values go to sqlite3 as they are: SQLAlchemy's text() gives its untyped parameters to the
        # driver unchanged too (tests/test_litestore.py compares what both store)
        return self._run(sql, {} if params is None else params)

    def exec_driver_sql(self, sql: str, params: Any = None) -> Result:
        return self._run(sql, params if params is not None else ())

    def _run(self, sql: str, params: Any) -> Result:
        cur = self._raw.cursor()
        try:
            cur.execute(sql, params)
            if cur.description is None:
                return Result(None, (), cur.rowcount)
            names = tuple(d[0] for d in cur.description)
            cls = _row_class(names)
            return Result([cls(r) for r in cur.fetchall()], names, cur.rowcount)
        except sqlite3.Error as exc:
            raise self.engine._fail(exc) from exc
        finally:
            cur.close()

    def rows(self, sql: str, params: dict[str, Any] | None) -> list[tuple]:
        """Plain tuples (kpi_engine.driver_rows)."""
        cur = self._raw.cursor()
        try:
            cur.execute(sql, {} if params is None else params)
            return cur.fetchall()
        except sqlite3.Error as exc:
            raise self.engine._fail(exc) from exc
        finally:
            cur.close()

    @contextmanager
    def begin(self) -> Iterator[LiteConnection]:
        try:
            yield self
        except BaseException:
            self._raw.rollback()
            raise
        try:
            self._raw.commit()
        except sqlite3.Error as exc:
            raise self.engine._fail(exc) from exc

    def commit(self) -> None:
        self._raw.commit()

    def rollback(self) -> None:
        self._raw.rollback()

    def close(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            raw.rollback()  # as SQLAlchemy's pool does when a connection is given back
            self.engine._give_back(raw)

    def __enter__(self) -> LiteConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LiteEngine:
    """Connections to one SQLite file, kept for reuse as SQLAlchemy's pool keeps them."""

    dialect = _Dialect()
    lite = True

    def __init__(self, path: str, connect: Callable[[], sqlite3.Connection], read_only: str | None):
        self.url = LiteURL(path)
        self.read_only = read_only
        self._connect = connect
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        where, p = store_errors.describe(self)
        self.where = (where, p)

    def _fail(self, exc: sqlite3.Error) -> BaseException:
        """The driver's error as the StoreError SQLAlchemy's engine would raise (store_errors.install)."""
        problem = store_errors.classify(exc, *self.where)
        return exc if problem is None else store_errors.mixed(problem, exc)

    def connect(self) -> LiteConnection:
        from kpi_engine.db import sqlite_pragmas

        with self._lock:
            raw = self._idle.pop() if self._idle else None
        if raw is None:
            try:
                raw = self._connect()
                sqlite_pragmas(raw, self.read_only)
            except sqlite3.Error as exc:
                raise self._fail(exc) from exc
        return LiteConnection(self, raw)

    @contextmanager
    def begin(self) -> Iterator[LiteConnection]:
        with self.connect() as conn, conn.begin():
            yield conn

    def _give_back(self, raw: sqlite3.Connection) -> None:
        with self._lock:
            self._idle.append(raw)

    def dispose(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for raw in idle:
            raw.close()


def sqlite_file(url: str) -> Path | None:
    """The file a plain `sqlite:///PATH` URL names, or None for any other form (left to SQLAlchemy)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///"):]
    if not path or path == ":memory:" or any(c in path for c in "?%#") or path.startswith("file:"):
        return None
    return Path(path)
