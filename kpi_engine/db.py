"""The KPI store's engine and schema.

Every command calls `open_store`. The migration policy:

- a brand-new store (a SQLite file that does not exist or has no tables, a PostgreSQL schema
  without kpibot's tables) is created at the current schema by any command: there is nothing
  to lose, and the README's first `make run` must work on a fresh machine;
- an existing store at an older schema is *not* upgraded behind the operator's back: every
  command stops with SchemaOutOfDate ("run `kpibot migrate`"), except `kpibot migrate` and
  `kpibot run --migrate`, which upgrade it (`migrate_store`);
- a store at a revision this kpibot does not know (a newer kpibot wrote it) is refused.

Creating and upgrading run under a lock (PostgreSQL: a transaction-level advisory lock keyed by
database and schema; SQLite: an OS file lock beside the file), and the revision is read again
once the lock is held, so processes starting at once never race: one migrates, the others find
the schema at head.

The check on every open is cheap: one read of `alembic_version` compared with SCHEMA_HEAD.
Alembic and the migration scripts are only loaded when something has to be created or upgraded
(a test keeps SCHEMA_HEAD equal to Alembic's script head).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote

from kpi_engine import store_errors
from kpi_engine.sql import text
from kpi_engine.store_errors import StoreCorrupt, StoreError, StoreNotWritable, StoreUnavailable

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

__all__ = ["StoreCorrupt", "StoreError", "StoreNotWritable", "StoreUnavailable", "open_store", "make_engine"]

MIGRATIONS = Path(__file__).with_name("migrations")
# a PostgreSQL that does not answer (a dropped packet, not a refusal) fails a command in this time
PG_CONNECT_TIMEOUT = 10

# engines on a store this process may only read, with the reason (see require_writable)
_READ_ONLY: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()

# The newest migration's revision id; tests/test_migrate.py keeps it equal to the scripts' head.
SCHEMA_HEAD = "0009"

# what alembic_version holds in a store nobody created yet
EMPTY = None
# what is read from an alembic_version table that is there but holds no row: a store damaged (a partial
# restore, a migration stopped before it stamped its revision) or whose tables were made by hand
UNSTAMPED = "(no revision)"


class SchemaOutOfDate(StoreError):
    """The store's schema is older than this kpibot's: `kpibot migrate` upgrades it."""

    def __init__(self, where: str, current: str):
        super().__init__(
            f"the store at {where} has schema revision {current}; this kpibot needs {SCHEMA_HEAD}. "
            f"Back it up, then run `kpibot migrate` (or `kpibot run --migrate`)")
        self.current = current


def normal_url(url: str) -> str:
    """The URL SQLAlchemy is given: postgres:// and postgresql:// are read with psycopg 3."""
    if url.startswith("postgres://"):  # Heroku-style URLs
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def check_url(url: str) -> None:
    """Refuse a DATABASE_URL that cannot name a store as written: a setting to fix (exit 2)."""
    problem = store_errors.url_mistake(normal_url(url))
    if problem is not None:
        raise StoreError(f"DATABASE_URL {problem}")


# the options of a SQLite DATABASE_URL kpibot reads (sqlite:///PATH?mode=ro, or SQLite's own URI form
# sqlite:///file:PATH?mode=ro&uri=true); any other is refused rather than silently ignored
_URI_FLAGS = ("true", "false", "1", "0")


def sqlite_options(url: str) -> tuple[str, str | None]:
    """(the plain sqlite:///PATH URL, why the store is to be opened read-only or None) for a SQLite
    DATABASE_URL with query options or in SQLite's `file:` URI form; other URLs come back as they are.

    `mode=ro` is honoured: the store is opened for reading only, as a read-only file is (a command that
    would write stops before any work with exit 5; questions are answered). `mode=rwc` (SQLite's default)
    and `uri=…` change nothing. Any other option is refused in one line (StoreError, exit 2): SQLAlchemy
    would drop it with a warning and kpibot would do what the URL said not to."""
    if not url.startswith("sqlite") or ("?" not in url and ":///file:" not in url):
        return url, None
    base, _, query = url.partition("?")
    head, sep, path = base.partition(":///")
    if not sep:  # sqlite:// (in memory), with options
        head, path = base.removesuffix("//").removesuffix(":"), ""
    if path.startswith("file:"):
        path = unquote(path[len("file:"):])
        if path.startswith("//"):  # file://HOST/PATH: SQLite takes only an empty host or localhost
            host, _, rest = path[2:].partition("/")
            if host not in ("", "localhost"):
                raise StoreError(f"DATABASE_URL names a SQLite file on the host {host} (file://{host}/…), which "
                                 f"SQLite cannot open: write sqlite:///PATH")
            path = "/" + rest
    read_only = None
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name == "uri" and value.lower() in _URI_FLAGS or name == "mode" and value == "rwc":
            continue
        if name == "mode" and value == "ro":
            read_only = "DATABASE_URL asks for mode=ro"
            continue
        raise StoreError(f"DATABASE_URL has the SQLite option {name}={value}, which kpibot does not use (it reads "
                         f"mode=ro, to open the store read-only); remove it")
    if read_only is not None and path in ("", ":memory:"):
        raise StoreError("DATABASE_URL opens an in-memory SQLite store read-only (mode=ro), so it could never hold "
                         "data: point it at a file, e.g. sqlite:///kpibot.db?mode=ro")
    return (f"{head}:///{path}" if path else f"{head}://"), read_only


def _read_only_asked(url: str, read_only: str | None, asked: str | None) -> str | None:
    """Why the store at the plain SQLite `url` is opened read-only: the file's own reason, else the URL's
    mode=ro (which cannot create a store that is not there)."""
    if read_only is not None or asked is None:
        return read_only
    p = Path(url.split(":///", 1)[1])
    if not p.exists() or p.stat().st_size == 0:
        raise StoreNotWritable(f"cannot create the store {p}: {asked}. Remove ?mode=ro to create it, or point "
                               f"DATABASE_URL at an existing store")
    return asked


def make_engine(url: str, read_only: str | None = None) -> Engine:
    """`read_only`: why the SQLite file cannot be written; it is then opened for reading only."""
    from sqlalchemy import create_engine, event

    url = normal_url(url)
    if url.startswith("sqlite"):
        kw = {}
        if read_only is not None:
            kw["creator"] = _read_only_connect(url.split(":///", 1)[1])
        eng = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kw)

        @event.listens_for(eng, "connect")
        def _pragmas(dbapi_conn, _rec):  # noqa: ANN001
            sqlite_pragmas(dbapi_conn, read_only)

        if read_only is not None:
            _READ_ONLY[eng] = read_only
        return store_errors.install(eng)
    connect_args = {} if "connect_timeout" in url else {"connect_timeout": PG_CONNECT_TIMEOUT}
    return store_errors.install(create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                                              connect_args=connect_args))


def sqlite_pragmas(raw: sqlite3.Connection, read_only: str | None) -> None:
    """What every SQLite connection of ours sets (SQLAlchemy's and kpi_engine/litestore.py's)."""
    if read_only is None:  # setting the journal mode is a write
        # WAL lets the bot read while an import or the scheduler writes
        raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=NORMAL")
    raw.execute("PRAGMA foreign_keys=OFF")
    raw.execute("PRAGMA cache_size=-65536")
    raw.execute("PRAGMA temp_store=MEMORY")


def _read_only_connect(path: str):
    """Connections that only read. In a folder SQLite cannot write, a WAL database has no -shm file to
    share: it is then read as immutable, which is exact as long as no -wal file holds newer pages."""
    p = Path(path)
    wal = p.with_name(p.name + "-wal")
    immutable = (store_errors.folder_read_only(p.parent) and not (p.parent / (p.name + "-shm")).exists()
                 and not (wal.exists() and wal.stat().st_size))
    uri = f"file:{quote(str(p.resolve()))}?mode=ro" + ("&immutable=1" if immutable else "")

    def connect():
        return sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)

    return connect


def require_writable(engine: Engine, doing: str) -> None:
    """Fail before any work when `doing` (e.g. "import") would have to write to a read-only store."""
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        raise StoreError(f"DATABASE_URL names an in-memory SQLite store ({engine.url}), which is gone when the "
                         f"command ends, so kpibot will not {doing}; nothing was written. Point it at a file, "
                         f"e.g. sqlite:///kpibot.db")
    why = _READ_ONLY.get(engine)
    if why is not None:
        where, _ = store_errors.describe(engine)
        raise StoreNotWritable(f"the store {where} is read-only ({why}), so kpibot cannot {doing}; nothing was "
                               f"changed. Make it writable, or point DATABASE_URL at a writable copy")


def _alembic_config(engine: Engine | None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def _scripts():
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(None))


def head_revision() -> str:
    """Alembic's head, read from the migration scripts (slow: for tests and migrations only)."""
    return _scripts().get_current_head()  # type: ignore[return-value]


def known_revisions() -> list[str]:
    """Every revision of the scripts, oldest first."""
    return [s.revision for s in reversed(list(_scripts().walk_revisions()))]


def safe_url(url: str) -> str:
    """The URL without its credentials, for messages and logs."""
    return url.split("@")[-1]


def _check_sqlite_file(url: str) -> str | None:
    """Refuse a file that is not ours before anything writes to it: never overwrite a user's file.
    Returns why the file cannot be written (it is then opened read-only), or None."""
    return _sqlite_file_state(url)[0]


def _sqlite_file_state(url: str) -> tuple[str | None, str | None]:
    """_check_sqlite_file's answer and the file's stored revision (EMPTY for a new or empty file),
    read on the same read-only connection."""
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if not path or path == ":memory:":
        return None, EMPTY  # an in-memory store: nothing on disk to refuse or read
    p = Path(path)
    if p.is_dir():
        raise StoreError(f"DATABASE_URL names the folder {path}, not a file: point it at a file in it, e.g. "
                         f"sqlite:///{p / 'kpibot.db'}")
    read_only = store_errors.why_read_only(p)
    if not p.exists() or p.stat().st_size == 0:
        if not p.parent.is_dir():
            raise StoreError(f"cannot create the store {path}: its folder {p.parent} does not exist. Point "
                             f"DATABASE_URL at a file in an existing folder")
        if read_only is not None:
            raise StoreNotWritable(f"cannot create the store {path}: {read_only}. Point DATABASE_URL at a "
                                   f"file in a writable folder")
        return None, EMPTY
    try:
        con = _read_only_connect(path)()
        try:
            names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            row = (con.execute("SELECT version_num FROM alembic_version").fetchone()
                   if "alembic_version" in names else None)
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", None) == 26:  # SQLITE_NOTADB: the header is not SQLite's
            raise StoreError(f"{path} is not a SQLite database kpibot can read ({exc}); "
                             f"it was left untouched. Point DATABASE_URL at another file.") from exc
        problem = store_errors.classify(exc, path, p)
        raise (problem or StoreError(f"cannot read the store {path} ({exc})")) from exc
    if names and "alembic_version" not in names:
        raise StoreError(f"{path} is a SQLite database of another program (tables: "
                         f"{', '.join(sorted(names)[:5])}); it was left untouched. "
                         f"Point DATABASE_URL at another file.")
    return read_only, (EMPTY if "alembic_version" not in names else UNSTAMPED if row is None else row[0])


# ---------------------------------------------------------------------- the stored revision


def stored_revision(conn: Connection) -> str | None:
    """The store's revision, EMPTY (None) when it has no alembic_version table, UNSTAMPED when that
    table holds no row.

    One catalogue lookup and one SELECT; nothing of Alembic is loaded.
    """
    if conn.dialect.name == "postgresql":
        # to_regclass follows search_path: the schema the store lives in
        exists = conn.execute(text("SELECT to_regclass('alembic_version') IS NOT NULL")).scalar()
    elif conn.dialect.name == "sqlite":
        exists = conn.execute(text(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'")).first() is not None
    else:
        from sqlalchemy import inspect

        exists = inspect(conn).has_table("alembic_version")
    if not exists:
        return EMPTY
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return UNSTAMPED if row is None else row[0]


def schema_state(engine: Engine) -> str:
    """"head", "empty", "old" (an older known revision) or "unknown"."""
    with engine.connect() as conn:
        rev = stored_revision(conn)
    return _classify(rev)


def _classify(rev: str | None) -> str:
    if rev == SCHEMA_HEAD:
        return "head"
    if rev is EMPTY:
        return "empty"
    if rev == UNSTAMPED:
        return "unstamped"
    return "old" if rev in known_revisions() else "unknown"


def _has_any_table(conn: Connection, besides: str | None = None) -> bool:
    from sqlalchemy import inspect

    return bool(set(inspect(conn).get_table_names()) - {besides})


def _unstamped(where: str) -> StoreError:
    return StoreError(f"the store at {where} has tables but no schema revision (its alembic_version table is "
                      f"empty: a partial restore, a migration stopped before it finished, or tables made by hand), "
                      f"so kpibot cannot tell which schema it holds and left it untouched. Restore it from a "
                      f"backup, or point DATABASE_URL at a new store and import the data again")


def _new_or_unstamped(conn: Connection, rev: str | None, where: str) -> str | None:
    """`rev`, or EMPTY for an alembic_version table with no row and no other table (nothing to lose);
    an UNSTAMPED store with tables is refused."""
    if rev != UNSTAMPED:
        return rev
    if _has_any_table(conn, besides="alembic_version"):
        raise _unstamped(where)
    return EMPTY


# ---------------------------------------------------------------------- the migration lock


_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def _lock_key(conn: Connection, name: str) -> int:
    db, schema = conn.execute(text("SELECT current_database(), current_schema()")).one()
    digest = hashlib.sha256(f"{name}:{db}:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF


def import_lock_key(conn: Connection) -> int:
    """PostgreSQL: the advisory lock an import holds for its transaction (kpi_engine/importer.py _write_lock)."""
    return _lock_key(conn, "kpibot-import")


@contextmanager
def migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that holds the store's migration lock.

    PostgreSQL: pg_advisory_xact_lock, released at commit (DDL is transactional there, so a
    failed migration leaves nothing behind). SQLite: flock on `<file>.migrate.lock`, plus a
    thread lock because flock is per open file, not per thread.
    """
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(conn, "kpibot-migrate")})
            yield conn
        return
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        with engine.begin() as conn:
            yield conn
        return
    import fcntl

    lock_path = str(Path(path).resolve()) + ".migrate.lock"
    with _THREAD_LOCKS_GUARD:
        tlock = _THREAD_LOCKS.setdefault(lock_path, threading.Lock())
    with tlock, open(lock_path, "a+", encoding="utf-8") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            with engine.begin() as conn:
                yield conn
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


# ---------------------------------------------------------------------- upgrading


def _upgrade_on(conn: Connection, engine: Engine) -> None:
    from alembic import command

    cfg = _alembic_config(engine)
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the store to the head under the migration lock; (revision before, revision after)."""
    with migration_lock(engine) as conn:
        before = _new_or_unstamped(conn, stored_revision(conn), store_errors.describe(engine)[0])
        if before != SCHEMA_HEAD:
            if before is not EMPTY and before not in known_revisions():
                raise StoreError(f"the store has schema revision {before}, which this kpibot does not know "
                                 f"(written by a newer kpibot?); it was left untouched")
            if engine in _READ_ONLY:
                require_writable(engine, "upgrade it to this version's schema")
            _upgrade_on(conn, engine)
    return before, SCHEMA_HEAD


def _create_if_new(engine: Engine, where: str) -> None:
    """Create a brand-new store; an existing one at another revision is the operator's to migrate."""
    with migration_lock(engine) as conn:
        # again, under the lock: another process may have just done it
        rev = _new_or_unstamped(conn, stored_revision(conn), where)
        if rev == SCHEMA_HEAD:
            return
        if rev is EMPTY and not (conn.dialect.name == "sqlite" and _has_any_table(conn)):
            if engine in _READ_ONLY:
                require_writable(engine, "create its tables")
            _upgrade_on(conn, engine)
            return
    _refuse(where, rev)


def _refuse(where: str, rev: str | None) -> None:
    state = _classify(rev)
    if state == "old":
        raise SchemaOutOfDate(where, str(rev))
    raise StoreError(f"the store at {where} has schema revision {rev}, which this kpibot (schema {SCHEMA_HEAD}) "
                     f"does not know: it was written by a newer kpibot. Upgrade kpibot; the store was left "
                     f"untouched")


@lru_cache(maxsize=8)
def open_store(url: str) -> Engine:
    """An engine on a store at the current schema (created if brand-new). Raises StoreError
    (SchemaOutOfDate for an older schema) with a readable message."""
    from sqlalchemy.exc import DatabaseError, OperationalError

    check_url(url)
    url, asked = sqlite_options(url)
    read_only = _read_only_asked(url, _check_sqlite_file(url), asked) if url.startswith("sqlite") else None
    where = safe_url(url)
    try:
        engine = make_engine(url, read_only)
        with engine.connect() as conn:
            rev = stored_revision(conn)
        if rev != SCHEMA_HEAD:
            _create_if_new(engine, where)
    except StoreError:  # already one clear line (unreachable, read-only, damaged, out of date)
        raise
    except (OperationalError, DatabaseError) as exc:
        raise StoreError(f"cannot open the store at {where}: {exc.orig}") from exc
    return engine


def open_reader(url: str) -> Any:
    """For a command that answers questions (`kpibot ask`; it writes no more than the lexicon's cached
    copy): the store through kpi_engine/litestore.py, without loading SQLAlchemy, when `url` names an
    existing SQLite file of ours at the current schema; otherwise open_store(url), which creates,
    refuses or explains as for any command."""
    from kpi_engine import litestore

    plain, asked = sqlite_options(url)
    path = litestore.sqlite_file(plain)
    if path is None or not path.is_file() or path.stat().st_size == 0:
        return open_store(url)
    # a foreign or damaged file: the same refusal as open_store's
    read_only, rev = _sqlite_file_state(plain)
    if rev != SCHEMA_HEAD:  # to create, or to refuse with the reason: open_store's to say
        return open_store(url)
    read_only = read_only or asked
    connect = _read_only_connect(str(path)) if read_only is not None else _plain_connect(str(path))
    reader = litestore.LiteEngine(str(path), connect, read_only)
    if read_only is not None:
        _READ_ONLY[reader] = read_only
    return reader


def _plain_connect(path: str):
    def connect():
        return sqlite3.connect(path, timeout=30, check_same_thread=False)

    return connect


def migrate_store(url: str) -> tuple[str | None, str]:
    """`kpibot migrate`: upgrade the store to this kpibot's schema under the lock.
    (revision before — None for a new store — , revision after)."""
    from sqlalchemy.exc import DatabaseError, OperationalError

    check_url(url)
    url, asked = sqlite_options(url)
    read_only = _read_only_asked(url, _check_sqlite_file(url), asked) if url.startswith("sqlite") else None
    where = safe_url(url)
    engine = make_engine(url, read_only)
    try:
        return upgrade(engine)
    except StoreError:
        raise
    except (OperationalError, DatabaseError) as exc:
        raise StoreError(f"cannot migrate the store at {where}: {exc.orig}") from exc
    finally:
        engine.dispose()
        open_store.cache_clear()


def table_names(engine: Engine) -> list[str]:
    from sqlalchemy import inspect

    return inspect(engine).get_table_names()
