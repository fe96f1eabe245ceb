"""The KPI store's engine and schema. Every command calls `open_store`, which creates
or upgrades the database named by DATABASE_URL through Alembic, so an upgrade of
kpibot keeps a user's data."""

from __future__ import annotations

import sqlite3
import weakref
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import DatabaseError, OperationalError

from kpi_engine import store_errors
from kpi_engine.store_errors import StoreCorrupt, StoreError, StoreNotWritable, StoreUnavailable

if TYPE_CHECKING:  # alembic is imported where it is used: a command's start-up need not load it
    from alembic.config import Config

__all__ = ["StoreCorrupt", "StoreError", "StoreNotWritable", "StoreUnavailable", "open_store", "make_engine"]

MIGRATIONS = Path(__file__).with_name("migrations")
# a PostgreSQL that does not answer (a dropped packet, not a refusal) fails a command in this time
PG_CONNECT_TIMEOUT = 10

# engines on a store this process may only read, with the reason (see require_writable)
_READ_ONLY: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def make_engine(url: str, read_only: str | None = None) -> Engine:
    """`read_only`: why the SQLite file cannot be written; it is then opened for reading only."""
    if url.startswith("postgres://"):  # Heroku-style URLs
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        kw = {}
        if read_only is not None:
            kw["creator"] = _read_only_connect(url.split(":///", 1)[1])
        eng = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kw)

        @event.listens_for(eng, "connect")
        def _pragmas(dbapi_conn, _rec):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            if read_only is None:  # setting the journal mode is a write
                # WAL lets the bot read while an import or the scheduler writes
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=OFF")
            cur.execute("PRAGMA cache_size=-65536")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()

        if read_only is not None:
            _READ_ONLY[eng] = read_only
        return store_errors.install(eng)
    connect_args = {} if "connect_timeout" in url else {"connect_timeout": PG_CONNECT_TIMEOUT}
    return store_errors.install(create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                                              connect_args=connect_args))


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
    why = _READ_ONLY.get(engine)
    if why is not None:
        where, _ = store_errors.describe(engine)
        raise StoreNotWritable(f"the store {where} is read-only ({why}), so kpibot cannot {doing}; nothing was "
                               f"changed. Make it writable, or point DATABASE_URL at a writable copy")


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(None)).get_current_head()  # type: ignore[arg-type]


def _check_sqlite_file(url: str) -> str | None:
    """Refuse a file that is not ours before anything writes to it: never overwrite a user's file.
    Returns why the file cannot be written (it is then opened read-only), or None."""
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if not path or path == ":memory:":
        return None
    p = Path(path)
    read_only = store_errors.why_read_only(p)
    if not p.exists() or p.stat().st_size == 0:
        if not p.parent.is_dir():
            raise StoreError(f"cannot create the store {path}: its folder {p.parent} does not exist. Point "
                             f"DATABASE_URL at a file in an existing folder")
        if read_only is not None:
            raise StoreNotWritable(f"cannot create the store {path}: {read_only}. Point DATABASE_URL at a "
                                   f"file in a writable folder")
        return None
    try:
        con = _read_only_connect(path)()
        try:
            names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
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
    return read_only


def upgrade(engine: Engine) -> None:
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    with engine.begin() as conn:
        ctx = MigrationContext.configure(conn)
        if ctx.get_current_revision() == head_revision():
            return
        if engine in _READ_ONLY:
            require_writable(engine, "upgrade it to this version's schema (it was made by an older kpibot)")
        cfg = _alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@lru_cache(maxsize=8)
def open_store(url: str) -> Engine:
    """An engine on an up-to-date store. Raises StoreError with a readable message."""
    read_only = _check_sqlite_file(url) if url.startswith("sqlite") else None
    try:
        engine = make_engine(url, read_only)
        upgrade(engine)
    except StoreError:  # already one clear line (unreachable, read-only, damaged)
        raise
    except (OperationalError, DatabaseError) as exc:
        safe = url.split("@")[-1]  # never echo a password from the URL
        raise StoreError(f"cannot open the store at {safe}: {exc.orig}") from exc
    return engine


def table_names(engine: Engine) -> list[str]:
    return inspect(engine).get_table_names()
