"""What an operator (and Prometheus) sees of a store: its readiness and the counts behind /metrics.

    snapshot(engine)   -> dict for telemetry.metrics.StoreCollector (a handful of small queries)
    readiness(engine)  -> (ok, {"store": ..., "schema": ...})
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select, text

from kpi_engine.db import SCHEMA_HEAD, stored_revision
from kpi_engine.ops_models import AlertState, JobRun, OutboxMessage
from kpi_engine.state_models import DataFreshness, SyncState

_OUT = OutboxMessage.__table__
_ALERT = AlertState.__table__
_JOB = JobRun.__table__
_SYNC = SyncState.__table__
_FRESH = DataFreshness.__table__


def snapshot(engine: Engine) -> dict[str, Any]:
    with engine.connect() as c:
        outbox = {s: int(n) for s, n in c.execute(select(_OUT.c.state, func.count()).group_by(_OUT.c.state))}
        oldest = c.execute(select(func.min(_OUT.c.created_at)).where(
            _OUT.c.state.in_(("pending", "sending")))).scalar()
        alerts = {s: int(n) for s, n in c.execute(select(_ALERT.c.state, func.count()).group_by(_ALERT.c.state))}
        jobs = {r.job_id: r.last_success_at for r in c.execute(select(_JOB.c.job_id, _JOB.c.last_success_at))}
        sync = {r.source: {"last_success": r.last_success_at, "failures": r.failures, "last_rows": r.last_rows}
                for r in c.execute(select(_SYNC.c.source, _SYNC.c.last_success_at, _SYNC.c.failures,
                                          _SYNC.c.last_rows))}
        fresh = {r.table_name: r.fresh_to for r in c.execute(select(_FRESH.c.table_name, _FRESH.c.fresh_to))}
    for state in ("pending", "sending", "sent", "failed"):
        outbox.setdefault(state, 0)
    return {"outbox": outbox, "outbox_oldest_pending": oldest, "alerts": alerts, "jobs": jobs, "sync": sync,
            "freshness": fresh, "pool": pool_use(engine)}


def pool_use(engine: Engine) -> dict[str, int]:
    pool = engine.pool
    out: dict[str, int] = {}
    for name, attr in (("checked_out", "checkedout"), ("size", "size"), ("overflow", "overflow"),
                       ("idle", "checkedin")):
        fn = getattr(pool, attr, None)
        if callable(fn):
            try:
                out[name] = max(0, int(fn()))
            except Exception:  # a pool kind without the figure
                continue
    return out


def readiness(engine: Engine) -> tuple[bool, dict[str, str]]:
    """The store answers and is at this kpibot's schema."""
    try:
        with engine.connect() as c:
            c.execute(text("SELECT 1"))
            rev = stored_revision(c)
    except Exception as exc:
        return False, {"store": f"unreachable ({type(exc).__name__})", "schema": "unknown"}
    if rev != SCHEMA_HEAD:
        return False, {"store": "ok", "schema": f"at {rev}, needs {SCHEMA_HEAD} (run kpibot migrate)"}
    return True, {"store": "ok", "schema": SCHEMA_HEAD}
