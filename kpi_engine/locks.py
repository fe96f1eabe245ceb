"""Named locks on a store, across processes: one sync of a source at a time, whoever starts it.

    with named_lock(store, "sync:crm") as got:
        if not got: ...   # someone else holds it

PostgreSQL: a session-level advisory lock on a connection held for the block (keyed by the name,
the database and the schema, so stores on one server never block each other); the server drops it
if the process dies. SQLite: an OS file lock (flock) on `<db file>.<name>.lock`, dropped by the
kernel when the process dies, plus a thread lock since flock is per open file, not per thread.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

_thread_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def _thread_lock(key: str) -> threading.Lock:
    with _guard:
        return _thread_locks.setdefault(key, threading.Lock())


@contextmanager
def named_lock(engine: Engine, name: str) -> Iterator[bool]:
    """Try to take the lock `name` without waiting; yields whether it was taken."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            db, schema = conn.execute(text("SELECT current_database(), current_schema()")).one()
            digest = hashlib.sha256(f"kpibot:{name}:{db}:{schema}".encode()).digest()
            key = int.from_bytes(digest[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
        return
    db = engine.url.database if engine.dialect.name == "sqlite" else None
    key = str(Path(db).resolve()) + "." + re.sub(r"[^A-Za-z0-9_.-]+", "-", name) + ".lock" \
        if db and db != ":memory:" else f"memory:{id(engine)}:{name}"
    tlock = _thread_lock(key)
    if not tlock.acquire(blocking=False):
        yield False
        return
    try:
        if key.startswith("memory:"):
            yield True
            return
        import fcntl

        with open(key, "a+", encoding="utf-8") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    finally:
        tlock.release()
