"""Scheduled syncs of `[[sources]]` into the store, through the importer and its mapping files.

    result = sync_source(store, config, source, now=now)        # one run; never raises for a failed run
    result.status   # ok | nothing_new | waiting | failed | busy | dry_run

A run is atomic: everything it read goes into the store in one import transaction (the importer's
all-or-nothing rule), together with the source's new watermarks, the tables' freshness and the
files it took; a failure anywhere (the source unreachable, a query error, an invalid row, the
process killed) leaves the store as it was, and the run is recorded as failed (its error and the
number of failures in a row, which the stale-data alert watches).

- `sql`: each query runs on the source (any SQLAlchemy URL, read from the environment variable the
  config names), streamed to a CSV file named after the query, then the files are imported as one
  folder (with the source's mapping, if any). A query with a `watermark` column is incremental:
  it is wrapped as `SELECT * FROM (query) WHERE watermark > newest value the last run saw` (minus
  `lookback_seconds`, for sources where a transaction can commit a row stamped before another's
  that was already read; those rows are read again and found unchanged). The newest value seen is
  stored with the rows. Rows deleted at the source are not deleted here.
- `folder`: CSV files in the folder that nothing has written to for `settle_seconds` (and, with a
  mapping, only once every file the mapping reads is there) are imported together, then moved to
  `archive/<time>/` (or, with after = "mark", left in place). Either way each file is remembered by
  name, size and modification time, so it is never imported twice; a file that changes while it is
  imported rolls the run back and is taken next time.

One run of a source at a time (a named lock on the store): a second one, from the scheduler of
another process or `kpibot sync` in a terminal, returns "busy".
"""

from __future__ import annotations

import csv
import json
import logging
import operator
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.pool import NullPool

from config.app_config import AppConfig
from config.sync_models import SourceConfig, SqlQuery
from kpi_engine import freshness
from kpi_engine.db import normal_url
from kpi_engine.importer import ImportFailed, ImportInputError, ImportReport, import_path
from kpi_engine.locks import named_lock
from kpi_engine.mapping import MappingError, canonical_columns, load_mapping, resolve_mapping
from kpi_engine.models import TABLES
from kpi_engine.state_models import SyncFile, SyncState
from kpi_engine.store_errors import url_mistake
from telemetry import metrics

log = logging.getLogger(__name__)

_STATE = SyncState.__table__
_FILES = SyncFile.__table__
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
FETCH_ROWS = 20_000


class SyncError(RuntimeError):
    """Why a run failed, for people (the source, the query or file, what to do)."""


class _DryRun(Exception):
    """Raised inside the import transaction to roll a dry run back after everything was checked."""


@dataclass
class SyncResult:
    source: str
    kind: str
    status: str  # ok | nothing_new | waiting | failed | busy | dry_run
    started_at: str
    seconds: float = 0.0
    rows: int = 0  # rows read from the source (all queries / files)
    tables: dict[str, dict[str, int]] = field(default_factory=dict)  # importer counts per table
    files: list[str] = field(default_factory=list)
    watermarks: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    message: str | None = None  # for people: what happened, or what it waits for

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SourceState:
    source: str
    kind: str
    first_run_at: int | None = None
    last_attempt_at: int | None = None
    last_success_at: int | None = None
    last_rows: int = 0
    failures: int = 0
    last_error: str | None = None
    watermarks: dict[str, Any] = field(default_factory=dict)


def states(engine: Engine | Connection) -> dict[str, SourceState]:
    def read(c: Connection) -> dict[str, SourceState]:
        out = {}
        for r in c.execute(select(_STATE)):
            d = dict(r._mapping)
            d["watermarks"] = json.loads(d["watermarks"]) if d["watermarks"] else {}
            out[r.source] = SourceState(**d)
        return out

    if isinstance(engine, Connection):
        return read(engine)
    with engine.connect() as c:
        return read(c)


def _upsert_state(conn: Connection, values: dict[str, Any]) -> None:
    freshness.upsert(conn, _STATE, ["source"], values)


# ---------------------------------------------------------------------- watermarks


def _dump_mark(v: Any) -> dict[str, Any] | None:
    if v is None:
        return None
    if isinstance(v, datetime):
        return {"type": "datetime", "value": v.isoformat()}
    if isinstance(v, date):
        return {"type": "date", "value": v.isoformat()}
    if isinstance(v, bool):
        return {"type": "str", "value": str(v)}
    if isinstance(v, int):
        return {"type": "int", "value": v}
    if isinstance(v, Decimal):
        return {"type": "decimal", "value": str(v)}
    if isinstance(v, float):
        return {"type": "float", "value": v}
    return {"type": "str", "value": str(v)}


def _load_mark(m: dict[str, Any] | None) -> Any:
    if not m:
        return None
    t, v = m.get("type"), m.get("value")
    if t == "datetime":
        return datetime.fromisoformat(v)
    if t == "date":
        return date.fromisoformat(v)
    if t == "decimal":
        return Decimal(v)
    return v


def _since(q: SqlQuery, mark: Any) -> Any:
    if mark is not None and q.lookback_seconds and isinstance(mark, datetime | date):
        return mark - timedelta(seconds=q.lookback_seconds)
    return mark


# ---------------------------------------------------------------------- the run


def sync_source(store: Engine, config: AppConfig, source: SourceConfig, *, now: datetime,
                dry_run: bool = False, environ: Mapping[str, str] | None = None,
                wall: Callable[[], float] = time.time) -> SyncResult:
    """One run of `source` (see the module doc). Records success or failure in the store, except for
    a dry run, which reads and checks everything and writes nothing."""
    started = time.perf_counter()
    t = int(now.timestamp())
    result = SyncResult(source.name, source.kind, "ok", now.isoformat())
    env = os.environ if environ is None else environ
    with named_lock(store, f"sync-{source.name}") as got:
        if not got:
            result.status = "busy"
            result.message = f"another run of {source.name} is in progress"
            metrics.SYNC_RUNS.labels(source.name, "busy").inc()
            return result
        try:
            state = states(store).get(source.name) or SourceState(source.name, source.kind)
            if source.kind == "sql":
                _run_sql(store, config, source, state, t, dry_run, env, result)
            else:
                _run_folder(store, config, source, t, dry_run, wall, result)
        except Exception as exc:  # every failure is the run's, reported, never half-written
            result.status = "failed"
            result.error = _describe(exc)
            # a file of the wrong shape is the data's mistake, told in one line; anything else is a bug
            if not isinstance(exc, SyncError | ImportFailed | ImportInputError | MappingError):
                log.exception("sync %s failed", source.name)
            else:
                log.warning("sync %s failed: %s", source.name, result.error.splitlines()[0])
            if not dry_run:
                try:
                    _record_failure(store, source, t, result.error)
                except Exception:  # the store itself is away: the metrics and the log still say it
                    log.exception("sync %s: recording the failure failed", source.name)
    result.seconds = round(time.perf_counter() - started, 3)
    metrics.SYNC_RUNS.labels(source.name, result.status).inc()
    metrics.SYNC_SECONDS.labels(source.name).observe(result.seconds)
    if result.status == "failed":
        metrics.SYNC_ERRORS.labels(source.name).inc()
        metrics.FAILURES.labels("sync").inc()
    elif result.rows:
        metrics.SYNC_ROWS.labels(source.name).inc(result.rows)
    return result


def _describe(exc: Exception) -> str:
    if isinstance(exc, ImportFailed):
        return str(exc)
    msg = getattr(exc, "orig", None) or exc
    text_ = str(msg).strip() or type(exc).__name__
    return text_ if isinstance(exc, SyncError | MappingError | ImportInputError) else f"{type(exc).__name__}: {text_}"


def _write_state(conn: Connection, source: SourceConfig, t: int, *, delivered: bool, failed: bool = False,
                 error: str | None = None, rows: int | None = None, marks: dict[str, Any] | None = None) -> None:
    """A run's outcome: delivered (the data is confirmed current at t), failed, or neither (a folder
    with no new file: not a failure, but nothing delivered either)."""
    old = states(conn).get(source.name) or SourceState(source.name, source.kind)
    kept = dict(old.watermarks)
    kept.update(marks or {})
    _upsert_state(conn, {
        "source": source.name, "kind": source.kind, "first_run_at": old.first_run_at or t, "last_attempt_at": t,
        "last_success_at": t if delivered else old.last_success_at,
        "last_rows": rows if delivered and rows is not None else old.last_rows,
        "failures": old.failures + 1 if failed else 0,
        "last_error": error[:4000] if failed and error else (None if delivered else old.last_error),
        "watermarks": json.dumps(kept) if kept else None})


def _record_failure(store: Engine, source: SourceConfig, t: int, error: str) -> None:
    with store.begin() as conn:
        _write_state(conn, source, t, delivered=False, failed=True, error=error)


def _success(conn: Connection, source: SourceConfig, t: int, rows: int, marks: dict[str, Any] | None) -> None:
    _write_state(conn, source, t, delivered=True, rows=rows, marks=marks)


def _import(store: Engine, config: AppConfig, source: SourceConfig, folder: Path, t: int, dry_run: bool,
            result: SyncResult, in_transaction: Callable[[Connection, ImportReport], None]) -> None:
    """The importer on `folder`, with in_transaction(conn, report) run before its commit."""
    captured: list[ImportReport] = []

    def before_commit(conn: Connection, report: ImportReport) -> None:
        in_transaction(conn, report)
        if dry_run:
            captured.append(report)
            raise _DryRun

    mapping = resolve_mapping(source.mapping) if source.mapping else None
    try:
        report = import_path(store, folder, config=config, mapping=mapping, skip_invalid=source.skip_invalid,
                             origin=f"sync:{source.name}", fresh_to=t, before_commit=before_commit)
    except _DryRun:
        report = captured[0]
    result.tables = {name: {"read": c.read, "inserted": c.inserted, "updated": c.updated,
                            "unchanged": c.unchanged, "skipped": c.skipped} for name, c in report.tables.items()}
    result.warnings = [str(w) for w in report.warnings[:20]] + \
        ([f"{report.error_count} invalid rows skipped"] if report.error_count else [])


# ---------------------------------------------------------------------- sql


def source_engine(url: str, setting: str = "the source's URL") -> Engine:
    """An engine on a source; a URL that cannot name a database as written is the operator's mistake to
    fix (SyncError naming `setting`), found before any connection."""
    url = normal_url(url)
    problem = url_mistake(url)
    if problem is not None:
        raise SyncError(f"{setting} {problem}")
    return create_engine(url, poolclass=NullPool)


def _wrapped(conn: Connection, q: SqlQuery, since: Any) -> tuple[str, dict[str, Any]]:
    if not q.watermark or since is None:
        return q.query, {}
    col = conn.dialect.identifier_preparer.quote(q.watermark)
    op = ">=" if q.lookback_seconds else ">"
    return f"SELECT * FROM ({q.query}) kpibot_src WHERE kpibot_src.{col} {op} :kpibot_since", {"kpibot_since": since}


def _run_sql(store: Engine, config: AppConfig, source: SourceConfig, state: SourceState, t: int, dry_run: bool,
             env: Mapping[str, str], result: SyncResult) -> None:
    assert source.url_env is not None
    url = env.get(source.url_env)
    if not url:
        raise SyncError(f"source {source.name}: the environment variable {source.url_env} (its database URL) "
                        f"is not set")
    for name, q in source.queries.items():
        if q.watermark and not _IDENT.match(q.watermark):
            raise SyncError(f"source {source.name}: queries.{name}.watermark {q.watermark!r} is not a column name")
    marks: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix=f"kpibot-sync-{source.name}-") as tmp:
        src = source_engine(url, f"source {source.name}: {source.url_env}")
        try:
            with src.connect() as conn:
                if conn.dialect.name == "postgresql":
                    # every query of the run reads one snapshot: tables that refer to each other agree
                    conn = conn.execution_options(isolation_level="REPEATABLE READ")
                    conn.begin()
                for name, q in source.queries.items():
                    since = _since(q, _load_mark(state.watermarks.get(name)))
                    fetch = _copy_pg if conn.dialect.driver == "psycopg" else _fetch
                    n, newest = fetch(conn, source, name, q, since, Path(tmp) / f"{name}.csv")
                    result.rows += n
                    best = newest if newest is not None else _load_mark(state.watermarks.get(name))
                    if q.watermark and best is not None:
                        marks[name] = _dump_mark(best)
        except SyncError:
            raise
        except Exception as exc:
            raise SyncError(f"source {source.name}: {_describe(exc)}") from exc
        finally:
            src.dispose()
        result.watermarks = marks
        if result.rows == 0:
            # nothing changed: the data is confirmed current; no import to run
            result.status = "dry_run" if dry_run else "nothing_new"
            result.message = "no new or changed rows"
            if not dry_run:
                tables = _tables_of(source)
                with store.begin() as conn:
                    freshness.record(conn, tables, fresh_to=t, origin=f"sync:{source.name}", now=int(time.time()))
                    _success(conn, source, t, 0, marks)
            return

        def finish(conn: Connection, report: ImportReport) -> None:
            _success(conn, source, t, result.rows, marks)

        _import(store, config, source, Path(tmp), t, dry_run, result, finish)
    if dry_run:
        result.status = "dry_run"
    elif not any(c["inserted"] or c["updated"] for c in result.tables.values()):
        result.status = "nothing_new"
        result.message = "rows read again, none changed"


def _tables_of(source: SourceConfig) -> list[str]:
    if source.mapping is None:
        return [q for q in source.queries if q in TABLES]
    m = load_mapping(source.mapping)
    stems = {f"{q}.csv" for q in source.queries}
    return [tm.target for tm in m.tables if tm.source in stems]


def _drop_column(source: SourceConfig, name: str, q: SqlQuery) -> str | None:
    """The watermark column when the table has no such column (the importer would warn about it)."""
    if q.watermark and source.mapping is None and q.watermark not in canonical_columns(name):
        return q.watermark
    return None


def _copy_pg(conn: Connection, source: SourceConfig, name: str, q: SqlQuery, since: Any,
             path: Path) -> tuple[int, Any]:
    """PostgreSQL: COPY (query) TO STDOUT into the file, formatted by the server (timestamps in UTC
    with their offset, which the importer reads without zone rules); the newest watermark from the
    same snapshot. No Python work per row."""
    raw = conn.connection.dbapi_connection
    quote = conn.dialect.identifier_preparer.quote
    try:
        with raw.cursor() as cur:  # type: ignore[union-attr]
            cur.execute("SET LOCAL TIME ZONE 'UTC'")
            cur.execute("SET LOCAL DateStyle TO 'ISO, YMD'")
            cur.execute(f"SELECT * FROM ({q.query}) kpibot_src LIMIT 0")
            cols = [d.name for d in cur.description or []]
            if q.watermark and q.watermark not in cols:
                raise SyncError(f"source {source.name}: query {name} has no column {q.watermark!r} (its "
                                f"watermark); columns: {', '.join(cols)}")
            drop = _drop_column(source, name, q)
            shown = ", ".join(f"kpibot_src.{quote(c)}" for c in cols if c != drop)
            body, params = q.query, None
            if q.watermark and since is not None:
                body = q.query.replace("%", "%%")  # placeholders are %s once there are parameters
                op = ">=" if q.lookback_seconds else ">"
                body = f"{body}) kpibot_src WHERE kpibot_src.{quote(q.watermark)} {op} %s"
                params = (since,)
            else:
                body += ") kpibot_src"
            with path.open("wb") as f, cur.copy(f"COPY (SELECT {shown} FROM ({body}) TO STDOUT (FORMAT csv, HEADER)",
                                                params) as copy:
                for chunk in copy:
                    f.write(chunk)
            n = max(0, cur.rowcount)
            newest = None
            if q.watermark and n:
                cur.execute(f"SELECT max(kpibot_src.{quote(q.watermark)}) FROM ({body}", params)
                newest = cur.fetchone()[0]  # type: ignore[index]
    except SyncError:
        raise
    except Exception as exc:
        raise SyncError(f"source {source.name}: query {name} failed: {_describe(exc)}") from exc
    return n, newest


def _fetch(conn: Connection, source: SourceConfig, name: str, q: SqlQuery, since: Any,
           path: Path) -> tuple[int, Any]:
    """Stream one query's rows into a CSV file; (rows, newest watermark value)."""
    sql, params = _wrapped(conn, q, since)
    try:
        res = conn.execution_options(stream_results=True, yield_per=FETCH_ROWS).execute(text(sql), params)
    except Exception as exc:
        raise SyncError(f"source {source.name}: query {name} failed: {_describe(exc)}") from exc
    cols = list(res.keys())
    w = None
    if q.watermark:
        if q.watermark not in cols:
            res.close()
            raise SyncError(f"source {source.name}: query {name} has no column {q.watermark!r} (its watermark); "
                            f"columns: {', '.join(cols)}")
        w = cols.index(q.watermark)
    n = 0
    newest = None
    drop = w if _drop_column(source, name, q) else None
    idx = [i for i in range(len(cols)) if i != drop]
    keep = None if drop is None else (operator.itemgetter(*idx) if len(idx) > 1 else (lambda r: tuple(r[i] for i in idx)))
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(cols if keep is None else [c for i, c in enumerate(cols) if i != drop])
        for part in res.partitions():
            # str() of datetimes, dates, Decimals and None (written empty) is what the importer reads
            out.writerows(part if keep is None else map(keep, part))
            n += len(part)
            if w is not None:
                top = max((r[w] for r in part if r[w] is not None), default=None)
                if top is not None and (newest is None or top > newest):
                    newest = top
    return n, newest


# ---------------------------------------------------------------------- folder


def _fingerprint(p: Path) -> tuple[int, int]:
    st = p.stat()
    return st.st_size, st.st_mtime_ns


def _run_folder(store: Engine, config: AppConfig, source: SourceConfig, t: int, dry_run: bool,
                wall: Callable[[], float], result: SyncResult) -> None:
    assert source.path is not None
    folder = Path(source.path)
    if not folder.is_dir():
        raise SyncError(f"source {source.name}: the folder {folder} does not exist")
    mapping = load_mapping(source.mapping) if source.mapping else None
    wanted = {tm.source for tm in mapping.tables} if mapping else set()
    usable = {f"{t_}.csv" for t_ in TABLES} | wanted
    with store.connect() as c:
        done = {(r.name, r.size, r.mtime_ns) for r in c.execute(
            select(_FILES.c.name, _FILES.c.size, _FILES.c.mtime_ns).where(_FILES.c.source == source.name))}
    now_wall = wall()
    ready: dict[str, tuple[Path, tuple[int, int]]] = {}
    settling = []
    for p in sorted(folder.iterdir()):
        if not p.is_file() or p.suffix.lower() != ".csv" or p.name.startswith("."):
            continue
        if p.name not in usable and p.name.lower() not in usable:
            continue
        fp = _fingerprint(p)
        if (p.name, *fp) in done:
            continue
        if now_wall - fp[1] / 1e9 < source.settle_seconds:
            settling.append(p.name)
            continue
        ready[p.name] = (p, fp)
    if mapping is not None and ready.keys() & wanted:
        missing = sorted(wanted - ready.keys())
        if missing:
            result.status = "waiting"
            result.message = (f"waiting for {', '.join(missing)} (the mapping {mapping.path.name} reads them "
                              f"with {', '.join(sorted(ready.keys() & wanted))})")
            if not dry_run:
                with store.begin() as conn:
                    _write_state(conn, source, t, delivered=False)
            return
    if not ready:
        result.status = "waiting" if settling else "nothing_new"
        result.message = (f"waiting for {', '.join(settling)} to settle ({source.settle_seconds:.0f} s unchanged)"
                          if settling else f"no new file in {folder}")
        if not dry_run:
            with store.begin() as conn:
                _write_state(conn, source, t, delivered=False)
        return
    result.files = sorted(ready)
    with tempfile.TemporaryDirectory(prefix=f"kpibot-sync-{source.name}-") as tmp:
        for name, (p, _) in ready.items():
            target = Path(tmp) / name
            try:
                os.link(p, target)
            except OSError:  # another filesystem, or links not allowed
                shutil.copy2(p, target)

        def finish(conn: Connection, report: ImportReport) -> None:
            for name, (p, fp) in ready.items():
                try:
                    now_fp = _fingerprint(p)
                except OSError:
                    now_fp = None
                if now_fp != fp:
                    raise SyncError(f"source {source.name}: {name} changed while it was being imported; nothing was "
                                    f"written, it is taken on the next run")
            for name, (_, (size, mtime_ns)) in ready.items():
                dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
                conn.execute(dialect.insert(_FILES).values(source=source.name, name=name, size=size,
                                                           mtime_ns=mtime_ns, imported_at=t)
                             .on_conflict_do_nothing())
            result.rows = sum(c.read for c in report.tables.values())
            _success(conn, source, t, result.rows, None)

        _import(store, config, source, Path(tmp), t, dry_run, result, finish)
    if dry_run:
        result.status = "dry_run"
        return
    if source.after == "archive":
        _archive(folder / source.archive_dir, ready, t)


def _archive(base: Path, ready: dict[str, tuple[Path, tuple[int, int]]], t: int) -> None:
    """Move imported files out of the way; they are remembered in the store, so a failed move only
    leaves a file that is not imported again."""
    where = base / datetime.fromtimestamp(t).strftime("%Y%m%dT%H%M%S")
    try:
        where.mkdir(parents=True, exist_ok=True)
        for name, (p, _) in ready.items():
            shutil.move(str(p), str(where / name))
    except OSError as exc:
        log.warning("sync: could not archive imported files to %s (%s); they stay, and are not imported again",
                    where, exc)
