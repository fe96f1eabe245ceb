"""The lexicon of a store (kpi_engine.lexicon) read from its tables, and kept while the data stays.

Reading every distinct team, region, product, … scans the big tables (2.5 s at a million deals on
SQLite), so a lexicon is built once per data version and kept: in memory, and in the store itself
(table `lexicon_cache`, declared in kpi_engine/state_models.py), so that the next process (`kpibot ask` is a new one each time) reads it in a
few milliseconds instead of scanning again. Whether the data changed is asked of a cheap version
(the reps table's version, which triggers raise on every change to a rep, plus row counts and latest
timestamps that indexes answer), at most every `check_seconds`; a lexicon older than
`max_age_seconds` is rebuilt anyway, for edits that change none of these (a product renamed in place). A process that already has a lexicon keeps
answering with it while the new one is built in the background: a new rep is unknown for a moment,
never misread.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import TYPE_CHECKING

from kpi_engine.dimnames import DimensionNames
from kpi_engine.lexicon import Lexicon, RepEntry
from kpi_engine.sql import db_errors, text

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger(__name__)


_FIXED = {"type": ("call", "email", "meeting", "other"), "action": ("view", "click", "share")}
# leads.channel is indexed: its values are read by jumping from one to the next (a loose index scan)
# instead of reading every lead
_CHANNELS = ("WITH RECURSIVE c(v) AS (SELECT MIN(channel) FROM leads"
             " UNION ALL SELECT (SELECT MIN(channel) FROM leads WHERE channel > c.v) FROM c WHERE c.v IS NOT NULL)"
             " SELECT v FROM c WHERE v IS NOT NULL UNION SELECT DISTINCT channel FROM spend")
_VALUES = {
    "team": "SELECT DISTINCT team FROM reps",
    "region": "SELECT DISTINCT region FROM reps UNION SELECT DISTINCT region FROM accounts",
    "segment": "SELECT DISTINCT segment FROM accounts",
    "channel": _CHANNELS,
    "product": "SELECT DISTINCT product FROM opportunities",
    # stages are a handful repeated in millions of rows: a sample finds them (a stage it missed is still
    # answered when typed as stage:NAME, which the engine checks against every row)
    "stage": "SELECT DISTINCT stage FROM (SELECT stage FROM stage_changes LIMIT 200000) s",
}
# each a single index seek or a small table: the version costs a few milliseconds at any size
_VERSION = (
    "SELECT (SELECT version FROM table_versions WHERE name = 'reps'),"  # raised by triggers on any change
    " (SELECT COUNT(*) FROM accounts),"
    " (SELECT MAX(created_at) FROM opportunities),"
    " (SELECT MAX(created_at) FROM leads),"
    " (SELECT MAX(entered_at) FROM stage_changes),"
    " (SELECT COUNT(*) FROM spend)"
)


def data_version(conn) -> str:
    return "|".join(str(x) for x in conn.execute(text(_VERSION)).one())


def read_entities(conn) -> dict:
    """Every dimension value and rep of the store: what a lexicon is built from."""
    values: dict[str, list[str]] = {d: list(v) for d, v in _FIXED.items()}
    for dim, sql in _VALUES.items():
        values[dim] = sorted({r[0] for r in conn.execute(text(sql)) if r[0]})
    reps = [list(r) for r in conn.execute(text(
        "SELECT rep_id, name, name_th, nickname, slack_user_id, team, region FROM reps ORDER BY rep_id"))]
    return {"values": values, "reps": reps}


def lexicon_from(body: dict, names: DimensionNames, version: str) -> Lexicon:
    return Lexicon.build(body["values"], [RepEntry(*r) for r in body["reps"]], names, version=version)


def load_lexicon(conn, names: DimensionNames, version: str = "") -> Lexicon:
    return lexicon_from(read_entities(conn), names, version)


class LexiconCache:
    def __init__(self, check_seconds: float = 10.0, max_age_seconds: float = 900.0):
        self.check_seconds = check_seconds
        self.max_age_seconds = max_age_seconds
        self._lex: Lexicon | None = None
        self._built = 0.0
        self._checked = 0.0
        self._lock = threading.Lock()
        self._refresh: threading.Thread | None = None

    def get(self, store: Engine, names: DimensionNames) -> Lexicon:
        now = time.monotonic()
        lex = self._lex
        if lex is not None and now - self._checked < self.check_seconds:
            return lex
        with self._lock:
            if self._lex is not None and time.monotonic() - self._checked < self.check_seconds:
                return self._lex
            with store.connect() as conn:
                version = data_version(conn)
            self._checked = time.monotonic()
            old = self._lex
            if old is not None and old.version == version and self._checked - self._built < self.max_age_seconds:
                return old
            if old is None:
                self._lex = self._load(store, names, version, reuse=True)
                self._built = time.monotonic()
                return self._lex
            if self._refresh is None or not self._refresh.is_alive():
                stale = old.version == version  # only too old: the stored copy is no newer
                self._refresh = threading.Thread(target=self._background, args=(store, names, version, not stale),
                                                 name="kpibot-lexicon", daemon=True)
                self._refresh.start()
            return old

    def wait(self, timeout: float | None = None) -> None:
        """Until a background rebuild (if any) is done: for tests and for a process about to exit."""
        t = self._refresh
        if t is not None:
            t.join(timeout)

    def clear(self) -> None:
        with self._lock:
            self._lex = None

    def _background(self, store: Engine, names: DimensionNames, version: str, reuse: bool) -> None:
        try:
            lex = self._load(store, names, version, reuse)
        except Exception:
            log.exception("rebuilding the lexicon failed; the previous one stays")
            return
        with self._lock:
            self._lex, self._built = lex, time.monotonic()

    def _load(self, store: Engine, names: DimensionNames, version: str, reuse: bool) -> Lexicon:
        with store.connect() as conn:
            if reuse:
                row = conn.execute(text("SELECT version, body FROM lexicon_cache WHERE key = 'lexicon'")).first()
                if row is not None and row[0] == version:
                    try:
                        return lexicon_from(json.loads(row[1]), names, version)
                    except (ValueError, KeyError, TypeError):
                        pass  # an unreadable copy is rebuilt below
            body = read_entities(conn)
        lex = lexicon_from(body, names, version)
        _save(store, version, body)
        return lex


def _save(store: Engine, version: str, body: dict) -> None:
    """Keep the entities for the next process; a store this process may not write to keeps none."""
    try:
        with store.connect() as conn:
            raw = conn.connection.driver_connection if conn.dialect.name == "sqlite" else None
            if raw is not None:
                # a question must not wait for an import or a sync to commit only to keep a copy: with
                # another writer holding the lock, SQLite refuses at once and the copy is skipped
                waited = raw.execute("PRAGMA busy_timeout").fetchone()[0]
                raw.execute("PRAGMA busy_timeout = 0")
            try:
                with conn.begin():
                    conn.execute(text("DELETE FROM lexicon_cache WHERE key = 'lexicon'"))
                    conn.execute(text("INSERT INTO lexicon_cache (key, version, body, built_at) VALUES"
                                      " ('lexicon', :v, :b, :t)"),
                                 {"v": version, "b": json.dumps(body, ensure_ascii=False), "t": int(time.time())})
            finally:
                if raw is not None:
                    raw.execute(f"PRAGMA busy_timeout = {int(waited)}")
    except db_errors() as exc:
        log.info("the lexicon was not saved in the store (%s); it is rebuilt next time", type(exc).__name__)
