"""Columns and tables derived from imported rows, kept current after every write: stage exits,
purchase chains, hourly counts, and (through a rollups.Touched the writer passes) the write-time
rollups of kpi_engine/rollups.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kpi_engine.sql import text

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from kpi_engine.rollups import Touched


def refresh_stage_exits(conn: Connection, opportunity_ids: list[str] | None = None) -> None:
    """Set stage_changes.exited_at = the opportunity's next stage change (kpis.md, time in stage).

    A correlated subquery rather than LEAD() in an UPDATE: it is the form both
    SQLite and PostgreSQL run, and it walks the primary-key index per opportunity.
    """
    sql = (
        "UPDATE stage_changes SET exited_at = ("
        " SELECT min(s2.entered_at) FROM stage_changes s2"
        " WHERE s2.opportunity_id = stage_changes.opportunity_id"
        " AND s2.entered_at > stage_changes.entered_at)"
    )
    if opportunity_ids is None:
        conn.execute(text(sql))
        return
    for i in range(0, len(opportunity_ids), 500):
        chunk = opportunity_ids[i : i + 500]
        params = {f"o{j}": v for j, v in enumerate(chunk)}
        marks = ", ".join(f":o{j}" for j in range(len(chunk)))
        conn.execute(text(f"{sql} WHERE opportunity_id IN ({marks})"), params)


# Every purchase (kpis.md: won opportunities ∪ orders) with the t of the same customer's previous
# and next purchase, in (t, kind, source_id) order so ties at one instant still form a chain.
_PURCHASES = (
    "INSERT INTO purchases (kind, source_id, account_id, t, prev_t, next_t)"
    " SELECT kind, source_id, account_id, t,"
    " LAG(t) OVER (PARTITION BY account_id ORDER BY t, kind, source_id),"
    " LEAD(t) OVER (PARTITION BY account_id ORDER BY t, kind, source_id)"
    " FROM (SELECT 'won' AS kind, opportunity_id AS source_id, account_id, closed_at AS t FROM opportunities"
    " WHERE status = 'won' AND account_id IS NOT NULL AND closed_at IS NOT NULL{opp}"
    " UNION ALL SELECT 'order', order_id, account_id, ordered_at FROM orders{order}) p"
)
# the whole table from scratch, as plain statements (the demo's bulk writers run them on a raw connection)
PURCHASES_REBUILD = ("DELETE FROM purchases", _PURCHASES.format(opp="", order=""))
# SQLite: the same read in one pass over the table, with no index. With the status index hidden, the
# planner walked the account index for the windows' order and visited the table at random for each won
# deal's id and time: at 1M opportunities (a third won) 2.9-3.4 s CPU against 1.9-2.7 s for a scan and
# a sort. PostgreSQL has no NOT INDEXED and plans this as a scan anyway.
PURCHASES_REBUILD_SQLITE = (PURCHASES_REBUILD[0], PURCHASES_REBUILD[1].replace(
    "FROM opportunities WHERE", "FROM opportunities NOT INDEXED WHERE"))
_FULL_REBUILD_ACCOUNTS = 20000  # more changed customers than this: rebuild all, cheaper than IN lists


def rebuild_purchases(conn: Connection) -> None:
    """The whole purchases table from scratch. On SQLite its secondary indexes are dropped for the
    load and built once after it (inside the caller's transaction: DDL is transactional there)."""
    conn.execute(text(PURCHASES_REBUILD[0]))
    indexes = []
    if conn.dialect.name == "sqlite":
        indexes = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                                       " AND tbl_name = 'purchases' AND sql IS NOT NULL").all()
        for name, _ in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
    conn.execute(text((PURCHASES_REBUILD_SQLITE if conn.dialect.name == "sqlite" else PURCHASES_REBUILD)[1]))
    for _, sql in indexes:
        conn.exec_driver_sql(sql)


def refresh_purchases(conn: Connection, changed: list[tuple[str, str, str | None]] | None = None) -> None:
    """Bring the purchases table (models.Purchase) up to date after a write to opportunities or orders.

    changed: (kind, source_id, account_id) of every written row, kind "won" for opportunities
    (whatever their status now) and "order" for orders; None rebuilds the whole table. The
    customers refreshed are those of the written rows plus those the rows belonged to before
    (an opportunity moved to another account, or no longer won, leaves its old chain).
    """
    accounts: set[str] | None = None
    if changed is not None:
        accounts = {a for _, _, a in changed if a is not None}
        for kind in ("won", "order"):
            ids = [s for k, s, _ in changed if k == kind]
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                marks = ", ".join(f":s{j}" for j in range(len(chunk)))
                rows = conn.execute(text(f"SELECT account_id FROM purchases WHERE kind = :k AND source_id IN ({marks})"),
                                    {"k": kind, **{f"s{j}": v for j, v in enumerate(chunk)}})
                accounts.update(r[0] for r in rows)
        if not accounts:
            return
    if accounts is None or len(accounts) > _FULL_REBUILD_ACCOUNTS:
        for sql in PURCHASES_REBUILD_SQLITE if conn.dialect.name == "sqlite" else PURCHASES_REBUILD:
            conn.execute(text(sql))
        return
    refresh_purchase_accounts(conn, accounts)


def refresh_purchase_accounts(conn: Connection, accounts: set[str], touched: Touched | None = None) -> None:
    """Rebuild the purchase chains of these customers (all of them past _FULL_REBUILD_ACCOUNTS).
    Callers pass every customer a written row belongs to now or belonged to before; `touched`
    learns whose chains changed, for the rollups built on purchases."""
    accounts = {a for a in accounts if a is not None}
    if not accounts:
        return
    if (conn.execute(text("SELECT 1 FROM purchases LIMIT 1")).first() is None
            or len(accounts) > _FULL_REBUILD_ACCOUNTS):
        rebuild_purchases(conn)  # nothing stored to keep, or too many: one pass over all purchases
        if touched is not None:
            touched.purchases_before(conn, None)
        return
    if touched is not None:
        touched.purchases_before(conn, accounts)
    ordered = sorted(accounts)
    for i in range(0, len(ordered), 500):
        chunk = ordered[i : i + 500]
        params = {f"a{j}": v for j, v in enumerate(chunk)}
        marks = ", ".join(f":a{j}" for j in range(len(chunk)))
        conn.execute(text(f"DELETE FROM purchases WHERE account_id IN ({marks})"), params)
        conn.execute(text(_PURCHASES.format(opp=f" AND account_id IN ({marks})",
                                            order=f" WHERE account_id IN ({marks})")), params)


# ---------------------------------------------------------------- hourly counts (models.HourlyCount)

HOUR = 3600
# source table -> (time column, kind column, seconds summed into `total` or None)
HOURLY: dict[str, tuple[str, str, str | None]] = {
    "activities": ("occurred_at", "type", None),
    "content_events": ("occurred_at", "action", None),
    "stage_changes": ("exited_at", "stage", "exited_at - entered_at"),
}
_HOURLY_MAX_RANGES = 300  # more separate stretches of hours than this: recount the whole source
_STAGE_HOURS_MAX_OPPS = 20000  # more opportunities than this: recount all exits rather than list them


def hour_of(ts: int) -> int:
    return ts // HOUR * HOUR


def _hourly_sql(source: str, ranged: bool) -> str:
    col, kind, total = HOURLY[source]
    rng = f" AND {col} >= :lo AND {col} < :hi" if ranged else ""
    return (f"INSERT INTO hourly_counts (source, hour, kind, n, total) SELECT '{source}', ({col} / {HOUR}) * {HOUR},"
            f" {kind}, COUNT(*), {f'SUM({total})' if total else 'NULL'} FROM {source}"
            f" WHERE {col} >= 0{rng} GROUP BY ({col} / {HOUR}) * {HOUR}, {kind}")


# the whole table from scratch, as plain statements (the demo's bulk writers run them on a raw connection)
HOURLY_REBUILD = ("DELETE FROM hourly_counts", *(_hourly_sql(s, False) for s in HOURLY))


def refresh_hourly(conn: Connection, source: str, hours: set[int] | None = None) -> None:
    """Recount the hourly_counts rows of `source` for the given hours (start instants, see hour_of),
    all of them when None. Callers pass every hour a written row lies in now or lay in before."""
    if hours is None:
        conn.execute(text("DELETE FROM hourly_counts WHERE source = :src"), {"src": source})
        conn.execute(text(_hourly_sql(source, False)))
        return
    ranges: list[list[int]] = []
    for h in sorted(x for x in hours if x >= 0):
        if ranges and h <= ranges[-1][1] + 6 * HOUR:  # a short gap is cheaper recounted than split
            ranges[-1][1] = h + HOUR
        else:
            ranges.append([h, h + HOUR])
    if len(ranges) > _HOURLY_MAX_RANGES:
        refresh_hourly(conn, source, None)
        return
    for lo, hi in ranges:
        p = {"src": source, "lo": lo, "hi": hi}
        conn.execute(text("DELETE FROM hourly_counts WHERE source = :src AND hour >= :lo AND hour < :hi"), p)
        conn.execute(text(_hourly_sql(source, True)), p)


def _exit_hours(conn: Connection, opportunity_ids: list[str]) -> set[int]:
    out: set[int] = set()
    for i in range(0, len(opportunity_ids), 500):
        chunk = opportunity_ids[i : i + 500]
        marks = ", ".join(f":o{j}" for j in range(len(chunk)))
        rows = conn.execute(text(f"SELECT DISTINCT (exited_at / {HOUR}) * {HOUR} FROM stage_changes"
                                 f" WHERE opportunity_id IN ({marks}) AND exited_at IS NOT NULL"),
                            {f"o{j}": v for j, v in enumerate(chunk)})
        out.update(int(r[0]) for r in rows)
    return out


def refresh_stage_exits_and_hours(conn: Connection, opportunity_ids: list[str] | None,
                                  touched: Touched | None = None) -> None:
    """refresh_stage_exits, then the hourly exit counts of every hour an exit of these opportunities
    lies in (all when None), and the days of the rollups. The hours their exits lay in before are
    among those: stage changes are only ever added (every column but exited_at is key), and a stage
    change that had a predecessor still has one, so every old exit instant is still one (an inserted
    stage only shortens the one before it)."""
    refresh_stage_exits(conn, opportunity_ids)
    if opportunity_ids is None or len(opportunity_ids) > _STAGE_HOURS_MAX_OPPS:
        refresh_hourly(conn, "stage_changes", None)
        if touched is not None:
            touched.exits(None)
        return
    hours = _exit_hours(conn, opportunity_ids)
    refresh_hourly(conn, "stage_changes", hours)
    if touched is not None:  # an hour lies in one day of any zone whose offset is whole hours
        touched.exits(touched.ru.clock.days(sorted({h + m for h in hours for m in (0, HOUR - 1)})))
