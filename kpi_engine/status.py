"""What an operator (and Prometheus) sees of a store: its readiness and the counts behind /metrics.

    snapshot(engine)   -> dict for telemetry.metrics.StoreCollector (a handful of small queries)
    readiness(engine)  -> (ok, {"store": ..., "schema": ...})
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text

from kpi_engine.db import SCHEMA_HEAD, stored_revision

# One round trip for everything a scrape reads (PostgreSQL answers each statement over the network).
_SNAPSHOT = text("""
SELECT 'outbox' AS k, state AS name, COUNT(*) AS n, CAST(NULL AS BIGINT) AS t, CAST(NULL AS BIGINT) AS m
  FROM ops_outbox GROUP BY state
UNION ALL SELECT 'oldest', NULL, NULL, MIN(created_at), NULL FROM ops_outbox WHERE state IN ('pending', 'sending')
UNION ALL SELECT 'alerts', state, COUNT(*), NULL, NULL FROM ops_alert_states GROUP BY state
UNION ALL SELECT 'job', job_id, NULL, last_success_at, NULL FROM ops_job_runs
UNION ALL SELECT 'sync', source, failures, last_success_at, last_rows FROM ops_sync_state
UNION ALL SELECT 'fresh', table_name, NULL, fresh_to, NULL FROM data_freshness
""")


def snapshot(engine: Engine) -> dict[str, Any]:
    out: dict[str, Any] = {"outbox": {}, "outbox_oldest_pending": None, "alerts": {}, "jobs": {}, "sync": {},
                           "freshness": {}}
    with engine.connect() as c:
        for k, name, n, t, m in c.execute(_SNAPSHOT):
            if k == "outbox":
                out["outbox"][name] = int(n)
            elif k == "oldest":
                out["outbox_oldest_pending"] = t
            elif k == "alerts":
                out["alerts"][name] = int(n)
            elif k == "job":
                out["jobs"][name] = t
            elif k == "sync":
                out["sync"][name] = {"last_success": t, "failures": int(n or 0), "last_rows": int(m or 0)}
            else:
                out["freshness"][name] = t
    for state in ("pending", "sending", "sent", "failed"):
        out["outbox"].setdefault(state, 0)
    out["pool"] = pool_use(engine)
    return out


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
