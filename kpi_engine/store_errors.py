"""Database failures turned into one line a person can act on.

SQLAlchemy raises a driver error with the statement, its parameters and a link; nobody running
`kpibot ask` needs that. `install(engine, where)` hooks the engine so the failures a person can do
something about come out as a StoreError subclass naming the store and what is wrong:

- StoreUnavailable: PostgreSQL unreachable, the SQLite file locked: try again later (exit 4);
- StoreNotWritable: read-only file, folder or file system, a full disk (exit 5);
- StoreCorrupt: the file is damaged (exit 6).

Anything else is left as it was (a bug is still a bug, with its traceback). The connection is
cleaned up (rolled back, invalidated after a disconnect) before the new error is raised, so a
pool recovers by itself when the database is back. The error raised is also of the SQLAlchemy
class it replaces (an OperationalError stays one), so code that catches SQLAlchemy's errors (a
cache that tolerates a read-only store) works as before.
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine


class StoreError(RuntimeError):
    """The store cannot be used as it is (corrupt, foreign, unreachable); the message is for people."""

    exit_code = 2  # a setting to fix (DATABASE_URL names a foreign file, …)

    def __str__(self) -> str:  # the message, also when mixed with a SQLAlchemy error (see mixed)
        return str(self.args[0]) if self.args else ""


class StoreUnavailable(StoreError):
    """Unreachable or locked for now; nothing was changed. Retrying later is the remedy."""

    exit_code = 4


class StoreNotWritable(StoreError):
    """Read-only file, folder or file system, or a full disk; the transaction was rolled back."""

    exit_code = 5


class StoreCorrupt(StoreError):
    """The database file is damaged; nothing was changed."""

    exit_code = 6


# SQLite primary result codes (sqlite3.Error.sqlite_errorcode & 0xff)
_PERM, _BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 3, 5, 6, 8, 10, 11, 13, 14, 26


def url_mistake(url: str) -> str | None:
    """What is wrong with a database URL as written, found before any connection is tried (a typo
    must not read as an outage to wait out), or None. The URL is never quoted: it may hold a password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        u = make_url(url)
    except ArgumentError:
        return ("is empty" if not url.strip() else "is not a database URL") + \
            " (the forms are sqlite:///path/to/file.db and postgresql://user@host:5432/database)"
    except ValueError:  # SQLAlchemy reads the port with int()
        return "has a port that is not a number"
    if "@" in (u.host or ""):
        # the text after the first '@' was taken for the host: naming it would show part of the password
        return "has an '@' in its user name or password: write each one there as %40"
    if u.port is not None and not 0 < u.port < 65536:
        return f"has the port {u.port}, which does not exist (ports are 1 to 65535)"
    try:
        u.get_dialect().import_dbapi()
    except NoSuchModuleError:
        return (f"starts with {u.drivername}://, a kind of database kpibot does not know (use sqlite:/// or "
                f"postgresql://)")
    except ImportError as exc:
        return f"names a {u.get_backend_name()} database, but its driver ({exc.name}) is not installed"
    return None


def sqlite_path(url_database: str | None) -> Path | None:
    if not url_database or url_database == ":memory:":
        return None
    return Path(url_database.removeprefix("file:").split("?", 1)[0])


def _fs_read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def folder_read_only(folder: Path) -> bool:
    """No new file can be made in `folder` (SQLite's -wal, -shm and journal files)."""
    return _fs_read_only(folder) or not os.access(folder, os.W_OK)


def why_read_only(path: Path) -> str | None:
    """Why SQLite cannot write `path` (and the journal files beside it), or None when it can."""
    folder = path.parent
    if _fs_read_only(folder):
        return f"the file system holding {folder} is mounted read-only"
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is not writable"
    if not os.access(folder, os.W_OK):
        return f"its folder {folder} is not writable, and SQLite keeps its journal there"
    return None


def classify(exc: BaseException, where: str, path: Path | None = None) -> StoreError | None:
    """The StoreError a person should see for the driver error `exc`, or None to leave it alone.

    `where` names the store in messages (a SQLite path, or host:port/database, never a password);
    `path` is the SQLite file, to say why it is read-only.
    """
    if isinstance(exc, sqlite3.Error):
        return _classify_sqlite(exc, where, path)
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return None
    if isinstance(exc, psycopg.Error):
        return _classify_pg(exc, where)
    return None


def _classify_sqlite(exc: sqlite3.Error, where: str, path: Path | None) -> StoreError | None:
    code = getattr(exc, "sqlite_errorcode", None)
    msg = str(exc)
    primary = code & 0xFF if code is not None else None
    if primary == _READONLY or primary == _PERM:
        why = why_read_only(path) if path is not None else None
        return StoreNotWritable(f"the store {where} is read-only ({why or msg}): nothing was written. Make it "
                                f"writable, or point DATABASE_URL at a writable copy")
    if primary == _FULL:
        return StoreNotWritable(f"the disk holding the store {where} is full ({msg}): nothing was written, the "
                                f"transaction was rolled back. Free some space and run it again")
    if primary == _IOERR:
        return StoreNotWritable(f"a disk error on the store {where} ({msg}; is the disk full, removed or "
                                f"failing?): nothing was written, the transaction was rolled back")
    if primary in (_CORRUPT, _NOTADB):
        return StoreCorrupt(f"the store {where} is damaged ({msg}): nothing was changed. Restore it from a "
                            f"backup, or salvage it with `sqlite3 {where} .recover`, then import again")
    if primary in (_BUSY, _LOCKED):
        return StoreUnavailable(f"the store {where} is locked by another process ({msg}); nothing was "
                                f"changed. Try again when it has finished")
    if primary == _CANTOPEN:
        return StoreError(f"cannot open the store {where} ({msg}): does its folder exist, and may kpibot "
                          f"read it? Point DATABASE_URL at another file")
    return None


# libpq refusing a connection option before it connects (sslmode=bogus, a port out of range)
_BAD_OPTION = re.compile(r"\binvalid [\w ]*(value|number)\b|\binvalid connection option\b")
_LOGIN_REFUSED = ("does not exist", "authentication failed", "no password supplied", "pg_hba.conf")


def _classify_pg(exc, where: str) -> StoreError | None:
    import psycopg

    state = getattr(exc, "sqlstate", None) or ""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    # login refused, no such database: a setting to fix, not an outage (at connect psycopg gives no
    # SQLSTATE, only the server's message)
    if state.startswith("28") or state == "3D000" or any(m in str(exc) for m in _LOGIN_REFUSED):
        return StoreError(f"PostgreSQL at {where} refused the connection ({first}); check DATABASE_URL")
    if not state and _BAD_OPTION.search(first):
        return StoreError(f"DATABASE_URL has a connection setting PostgreSQL does not accept "
                          f"({first.removeprefix('connection is bad: ')}); fix it in DATABASE_URL")
    if state == "53100":
        return StoreNotWritable(f"the disk of the PostgreSQL store at {where} is full ({first}): nothing was "
                                f"written, the transaction was rolled back")
    if state == "25006":
        return StoreNotWritable(f"the PostgreSQL store at {where} is read-only ({first}; a standby, or "
                                f"default_transaction_read_only): nothing was written")
    if state == "42501":
        return StoreNotWritable(f"the PostgreSQL store at {where} refused a change ({first}): nothing was written; "
                                f"the database user needs write access")
    if state in ("XX001", "XX002"):
        return StoreCorrupt(f"the PostgreSQL store at {where} reports damaged data ({first}): nothing was "
                            f"changed")
    if state.startswith("08") or state in ("57P01", "57P02", "57P03", "53300") or (
            not state and isinstance(exc, psycopg.OperationalError)):
        return StoreUnavailable(f"the PostgreSQL store at {where} is unreachable ({first}); nothing was "
                                f"changed. Try again when it is back")
    return None


def describe(engine: Engine) -> tuple[str, Path | None]:
    """How messages name `engine`'s store: the SQLite path, or host:port/database (no password)."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        path = sqlite_path(url.database)
        return (str(path.absolute()) if path else ":memory:"), path
    host = url.host or "localhost"
    return f"{host}:{url.port or 5432}/{url.database or ''}", None


def install(engine: Engine) -> Engine:
    """Raise StoreErrors from `engine` for the failures classify() knows."""
    from sqlalchemy import event

    where, path = describe(engine)

    @event.listens_for(engine, "handle_error")
    def _one_line(ctx) -> None:  # noqa: ANN001
        if ctx.is_pre_ping:  # the pool is checking a connection: it needs the original error to recycle it
            return
        problem = classify(ctx.original_exception, where, path)
        if problem is not None:
            wrapped = ctx.sqlalchemy_exception
            raise problem if wrapped is None else mixed(problem, wrapped)

    return engine


def translate(engine: Engine, original: BaseException, wrapped: Exception) -> Exception:
    """What install()'s handler raises for a statement run outside SQLAlchemy's execute (driver_rows)."""
    where, path = describe(engine)
    problem = classify(original, where, path)
    return wrapped if problem is None else mixed(problem, wrapped)


_MIXED: dict[tuple[type, type], type] = {}


def mixed(problem: StoreError, wrapped: BaseException) -> StoreError:
    """`problem`, being also of `wrapped`'s class (SQLAlchemy's, or the driver's for
    kpi_engine/litestore.py) and carrying its attributes (orig, statement, sqlite_errorcode, …)."""
    key = (type(problem), type(wrapped))
    cls = _MIXED.get(key)
    if cls is None:
        cls = _MIXED[key] = type(type(problem).__name__, key, {"__module__": __name__})
    both = cls.__new__(cls)
    both.__dict__.update(wrapped.__dict__)
    both.args = problem.args
    return both
