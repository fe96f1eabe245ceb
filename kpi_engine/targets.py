"""Targets for a period and scope (kpis.md: target attainment, targets for the whole company).

"sum" targets (revenue, deals) add up: rows inside P count whole, rows that only
overlap P count for the share of their calendar days inside P (kpis.md: "a calendar-day
pro-rata share"). "level" targets (a win rate of 60 %) do not add up: the value is the
day-weighted mean of the rows overlapping P.

Days, not seconds: a day that has begun counts whole, so a month-to-date target is the same
all day long (asked at 09:00 or at 09:01 it is 15/31 of the month on the 15th) instead of
creeping up every second.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from kpi_engine import periods
from kpi_engine.calc import Calc, num
from kpi_engine.sql import text


@dataclass
class TargetResult:
    total: float | None
    by_key: dict[str, float] = field(default_factory=dict)


Row = tuple[str, str, float, int, int]  # team, rep_id, value, start_at, end_at


def _weights(c: Calc, metric: str, where: str, params: dict) -> list[Row]:
    """Target rows of `metric` overlapping P."""
    sql = ("SELECT team, rep_id, value, start_at, end_at FROM targets"
           f" WHERE metric = :m AND start_at < :e AND end_at > :s AND {where}")
    rows = c.conn.execute(text(sql), {"m": metric, "s": c.s, "e": c.e, **params})
    return [(team, rep, num(value), int(s), int(e)) for team, rep, value, s, e in rows]


def _uncovered(lo: int, hi: int, covered: list[tuple[int, int]]) -> int:
    """Length of [lo, hi) not inside any of `covered`."""
    cuts = sorted((max(a, lo), min(b, hi)) for a, b in covered if a < hi and b > lo)
    free, at = 0, lo
    for a, b in cuts:
        if a > at:
            free += a - at
        at = max(at, b)
    return free + max(0, hi - at)


def _days(c: Calc, ts: int) -> int:
    return _day_number(ts, c.config.tz)


# Target rows share a few boundaries (month and quarter starts): by rep, thousands of rows would
# otherwise convert the same instants to local days again and again.
@lru_cache(maxsize=4096)
def _day_number(ts: int, tz) -> int:
    return periods.day_number(ts, tz)


def _combine(c: Calc, rows: list[Row], mode: str) -> float | None:
    """Combine overlapping target rows over P.

    One scope (a team, a rep, the company) often has targets at several grains
    (monthly rows and a quarterly row that is their sum). Counting both would
    double the target, so for each scope the finest row covering an instant
    wins, and a coarser row only counts for the time no finer row covers.
    """
    if not rows:
        return None
    total = wsum = 0.0
    scopes: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for r in rows:
        scopes[(r[0], r[1])].append(r)
    p_lo, p_hi = _days(c, c.s), _days(c, c.e)
    for spans in scopes.values():
        covered: list[tuple[int, int]] = []
        for _, _, value, s, e in sorted(spans, key=lambda r: (r[4] - r[3], r[3])):
            ds, de = _days(c, s), _days(c, e)
            lo, hi = max(ds, p_lo), min(de, p_hi)
            if hi <= lo or de <= ds:
                continue
            free = _uncovered(lo, hi, covered)
            covered.append((lo, hi))
            if mode == "sum":
                total += value * free / (de - ds)
            else:
                total += value * free
                wsum += free
    if mode == "sum":
        return total
    return total / wsum if wsum else None


def _has_rows(c: Calc, metric: str, where: str, params: dict) -> bool:
    sql = f"SELECT 1 FROM targets WHERE metric = :m AND {where} LIMIT 1"
    return c.conn.execute(text(sql), {"m": metric, **params}).first() is not None


def _team_reps(c: Calc, team: str, memo: dict) -> list[str]:
    if "team_reps" not in memo:  # one team: its own indexed query
        return [r[0] for r in c.conn.execute(text("SELECT rep_id FROM reps WHERE team = :t"), {"t": team})]
    if memo["team_reps"] is None:  # by team (target_for): every team's reps in one read, when first needed
        by_team: dict[str, list[str]] = defaultdict(list)
        for rep, t in c.conn.execute(text("SELECT rep_id, team FROM reps WHERE team IS NOT NULL")):
            by_team[t].append(rep)
        memo["team_reps"] = by_team
    return memo["team_reps"].get(team, [])


def _team_target(c: Calc, metric: str, mode: str, team: str, memo: dict | None = None) -> float | None:
    rows = _weights(c, metric, "team = :t AND rep_id = ''", {"t": team})
    if rows or _has_rows(c, metric, "team = :t AND rep_id = ''", {"t": team}) or mode != "sum":
        return _combine(c, rows, mode)
    # summed targets of the team's reps: each rep is a scope of its own, so the team's is their sum
    memo = {} if memo is None else memo
    if "reps" not in memo:  # by team, read once for every team that has no target of its own
        memo["reps"] = _rep_targets(c, metric, mode)
    got = memo["reps"]
    mine = [got[r] for r in _team_reps(c, team, memo) if r in got]
    return sum(mine) if mine else None


_MAX_SPANS = 400  # distinct (start, end) pairs handed to the database as a table of day weights
_REP_ROWS = "metric = :m AND rep_id <> '' AND start_at < :e AND end_at > :s"


def _rep_targets(c: Calc, metric: str, mode: str) -> dict[str, float | None]:
    """Every rep's combined target over P, as _combine gives it rep by rep, added up in the database.

    By rep the rows are reps x months (tens of thousands at a few thousand reps), but their spans
    are few (the months and quarters): each span's share of P is worked out once here and the
    database sums value x share per rep. A rep whose rows overlap one another (a monthly and a
    quarterly target, where the finer one wins) is combined in Python from its own rows."""
    p = {"m": metric, "s": c.s, "e": c.e}
    spans = c.conn.execute(text(f"SELECT DISTINCT start_at, end_at FROM targets WHERE {_REP_ROWS}"), p).all()
    if not spans:
        return {}
    if len(spans) > _MAX_SPANS:
        return _rep_targets_rowwise(c, metric, mode, None)
    tz = c.config.tz
    p_lo, p_hi = _day_number(c.s, tz), _day_number(c.e, tz)
    days, span = [], []
    for s, e in spans:
        ds, de = _day_number(int(s), tz), _day_number(int(e), tz)
        lo, hi = max(ds, p_lo), min(de, p_hi)
        when = f"WHEN t.start_at = {int(s)} AND t.end_at = {int(e)} THEN"
        days.append(f"{when} {hi - lo if hi > lo and de > ds else 0}")
        span.append(f"{when} {de - ds if de > ds else 1}")
    # the same arithmetic as _combine (value * days / span days) on each row; only the order of the
    # sum differs
    d, n = f"(CASE {' '.join(days)} END)", f"(CASE {' '.join(span)} END)"
    measure = f"SUM(t.value * {d} / {n}), COUNT(*)" if mode == "sum" else f"SUM(t.value * {d}), SUM({d})"
    where = " AND ".join("t." + x for x in _REP_ROWS.split(" AND "))
    ordered = sorted((int(s), int(e)) for s, e in spans)
    if all(a[1] <= b[0] for a, b in zip(ordered, ordered[1:], strict=False)):
        # no two spans overlap (monthly targets, say), so no two rows of one scope (a rep under one
        # team) do: one rep's rows of one span differ in team, scopes of their own (_combine)
        sql = f"SELECT t.rep_id, {measure}, 0 FROM targets t WHERE {where} GROUP BY t.rep_id"
    else:
        # before_end: the latest end of the scope's earlier rows, so an overlap shows in the same pass
        sql = (f"SELECT rep_id, {measure}, MAX(CASE WHEN before_end > t.start_at THEN 1 ELSE 0 END)"
               " FROM (SELECT t.rep_id, t.value, t.start_at, t.end_at, MAX(t.end_at) OVER (PARTITION BY"
               " t.rep_id, t.team ORDER BY t.start_at, t.end_at ROWS BETWEEN UNBOUNDED PRECEDING AND 1"
               f" PRECEDING) AS before_end FROM targets t WHERE {where}) t GROUP BY rep_id")
    out: dict[str, float | None] = {}
    overlapping = []
    for rep, a, b, overlap in c.conn.execute(text(sql), p):
        if overlap:
            overlapping.append(rep)
        out[rep] = num(a) if mode == "sum" else (num(a) / num(b) if num(b) else None)
    if overlapping:
        out.update(_rep_targets_rowwise(c, metric, mode, overlapping))
    return out


def _rep_targets_rowwise(c: Calc, metric: str, mode: str, reps: list[str] | None) -> dict[str, float | None]:
    grouped: dict[str, list] = defaultdict(list)
    want = None if reps is None else set(reps)
    for row in _weights(c, metric, "rep_id <> ''", {}):
        if want is None or row[1] in want:
            grouped[row[1]].append(row)
    return {k: _combine(c, rows, mode) for k, rows in grouped.items()}


def target_for(c: Calc, metric: str, mode: str) -> TargetResult:
    f = c.filters
    if any(f.get(d) for d in f.values if d not in ("team", "rep")) or (f.get("rep") and len(f.get("rep")) > 1):
        return TargetResult(None)  # no target is set for a region, channel or product slice
    by_key: dict[str, float] = {}
    if f.get("rep"):
        total = _combine(c, _weights(c, metric, "rep_id = :r", {"r": f.get("rep")[0]}), mode)
    elif f.get("team"):
        total = _team_target(c, metric, mode, f.get("team")[0])
    elif _has_rows(c, metric, "team = '' AND rep_id = ''", {}):
        total = _combine(c, _weights(c, metric, "team = '' AND rep_id = ''", {}), mode)
    else:
        total = _combine(c, _weights(c, metric, "team <> '' AND rep_id = ''", {}), mode) if mode == "sum" else None
    if c.by == "team":
        teams = {r[0] for r in c.conn.execute(text("SELECT DISTINCT team FROM reps WHERE team IS NOT NULL"))}
        # teams without a target of their own share one read of the reps' targets and of the reps
        memo: dict = {"team_reps": None}
        for t in teams:
            v = _team_target(c, metric, mode, t, memo)
            if v:
                by_key[t] = v
    elif c.by == "rep":
        by_key = {k: v for k, v in _rep_targets(c, metric, mode).items() if v}
    return TargetResult(total, by_key)
