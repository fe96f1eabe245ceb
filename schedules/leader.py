"""Only one scheduler per store.

PostgreSQL: a session-level advisory lock held on a dedicated connection (not from the
pool, so nothing else ever runs on it or returns it). When the leader's process dies
its session ends and PostgreSQL releases the lock; another `kpibot run` polling with
pg_try_advisory_lock takes over. The lock key is derived from the database and schema,
so two stores on one server do not block each other.

SQLite: an OS file lock (flock) on `<db file>.scheduler.lock`, released by the kernel when
the holding process dies, so a crash never leaves a stale lock behind. A second scheduler
on the same file refuses to start with a message naming the holder.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)


class SchedulerConflict(RuntimeError):
    """Another scheduler already runs on this store (SQLite); the message says which and what to do."""


class LeaderLock:
    def try_acquire(self) -> bool:
        raise NotImplementedError

    def check(self) -> bool:
        """Still the leader (the lock's session/file is alive)."""
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    def holder(self) -> str:
        return "another process"


class NoLock(LeaderLock):
    """An in-memory store: nobody else can share it."""

    def try_acquire(self) -> bool:
        return True

    def check(self) -> bool:
        return True

    def release(self) -> None:
        pass


class PgAdvisoryLock(LeaderLock):
    NAME = "kpibot-scheduler"

    def __init__(self, store: Engine):
        self._engine = create_engine(store.url.render_as_string(hide_password=False), poolclass=NullPool)
        self._conn = None
        self._key: int | None = None

    def _connect(self):
        if self._conn is None:
            self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            db, schema = self._conn.execute(text("SELECT current_database(), current_schema()")).one()
            digest = hashlib.sha256(f"{self.NAME}:{db}:{schema}".encode()).digest()
            # non-negative, so pg_locks' (classid << 32 | objid) reads back the same number
            self._key = int.from_bytes(digest[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF
        return self._conn

    def try_acquire(self) -> bool:
        try:
            got = bool(self._connect().execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar())
        except Exception as exc:  # the database is away: not the leader, try again later
            log.warning("scheduler lock: cannot reach PostgreSQL (%s)", type(exc).__name__)
            self._drop()
            return False
        if not got:
            return False
        log.info("scheduler lock: this process is the scheduler (advisory lock %s)", self._key)
        return True

    def check(self) -> bool:
        if self._conn is None:
            return False
        try:
            held = self._conn.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
                " AND granted AND ((classid::bigint << 32) | objid::bigint) = :k"), {"k": self._key}).scalar()
            return bool(held)
        except Exception:
            self._drop()
            return False

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
            except Exception:  # the session is gone, and the lock with it
                pass
        self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                pass
        self._conn = None

    def holder(self) -> str:
        try:
            with self._engine.connect() as c:
                row = c.execute(text(
                    "SELECT a.pid, a.client_addr, a.backend_start FROM pg_locks l JOIN pg_stat_activity a"
                    " ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
                    " AND ((l.classid::bigint << 32) | l.objid::bigint) = :k"), {"k": self._key}).first()
            if row:
                return f"PostgreSQL backend {row[0]} (client {row[1] or 'local'}, since {row[2]:%Y-%m-%d %H:%M})"
        except Exception:
            pass
        return "another kpibot run"


class FileLock(LeaderLock):
    def __init__(self, db_file: Path):
        self.path = Path(str(db_file) + ".scheduler.lock")
        self._fh = None

    def try_acquire(self) -> bool:
        import fcntl

        fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115  (held for the process's life)
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {socket.gethostname()} since {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
        fh.flush()
        self._fh = fh
        return True

    def check(self) -> bool:
        return self._fh is not None

    def release(self) -> None:
        if self._fh is not None:
            import fcntl

            try:
                fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            finally:
                self._fh.close()
                self._fh = None

    def holder(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8").strip() or "another process"
        except OSError:
            return "another process"


def lock_for(store: Engine) -> LeaderLock:
    name = store.dialect.name
    if name == "postgresql":
        return PgAdvisoryLock(store)
    if name == "sqlite":
        db = store.url.database
        if not db or db == ":memory:":
            return NoLock()
        return FileLock(Path(db).resolve())
    return NoLock()
