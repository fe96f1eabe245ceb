"""The KPI store's engine and schema. Every command calls `open_store`, which creates
or upgrades the database named by DATABASE_URL through Alembic, so an upgrade of
kpibot keeps a user's data."""

from __future__ import annotations

import sqlite3
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import DatabaseError, OperationalError

if TYPE_CHECKING:  # alembic is imported where it is used: a command's start-up need not load it
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


class StoreError(RuntimeError):
    """The store cannot be used as it is (corrupt, foreign, unreachable); the message is for people."""


def make_engine(url: str) -> Engine:
    if url.startswith("postgres://"):  # Heroku-style URLs
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        eng = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(eng, "connect")
        def _pragmas(dbapi_conn, _rec):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            # WAL lets the bot read while an import or the scheduler writes
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=OFF")
            cur.execute("PRAGMA cache_size=-65536")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()

        return eng
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(None)).get_current_head()  # type: ignore[arg-type]


def _check_sqlite_file(url: str) -> None:
    """Refuse a file that is not ours before anything writes to it: never overwrite a user's file."""
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if not path or path == ":memory:" or not Path(path).exists() or Path(path).stat().st_size == 0:
        return
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a SQLite database kpibot can read ({exc}); "
                         f"it was left untouched. Point DATABASE_URL at another file.") from exc
    if names and "alembic_version" not in names:
        raise StoreError(f"{path} is a SQLite database of another program (tables: "
                         f"{', '.join(sorted(names)[:5])}); it was left untouched. "
                         f"Point DATABASE_URL at another file.")


def upgrade(engine: Engine) -> None:
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    with engine.begin() as conn:
        ctx = MigrationContext.configure(conn)
        if ctx.get_current_revision() == head_revision():
            return
        cfg = _alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@lru_cache(maxsize=8)
def open_store(url: str) -> Engine:
    """An engine on an up-to-date store. Raises StoreError with a readable message."""
    if url.startswith("sqlite"):
        _check_sqlite_file(url)
    try:
        engine = make_engine(url)
        upgrade(engine)
    except (OperationalError, DatabaseError) as exc:
        safe = url.split("@")[-1]  # never echo a password from the URL
        raise StoreError(f"cannot open the store at {safe}: {exc.orig}") from exc
    return engine


def table_names(engine: Engine) -> list[str]:
    return inspect(engine).get_table_names()
