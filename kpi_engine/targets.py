"""Targets for a period and scope (kpis.md: target attainment, targets for the whole company).

"sum" targets (revenue, deals) add up: rows inside P count whole, rows that only
overlap P count for the share of their time inside P. "level" targets (a win
rate of 60 %) do not add up: the value is the time-weighted mean of the rows
overlapping P.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import text

from kpi_engine.calc import Calc, num


@dataclass
class TargetResult:
    total: float | None
    by_key: dict[str, float] = field(default_factory=dict)


def _weights(c: Calc, metric: str, where: str, params: dict) -> list[tuple[str, str, float, float]]:
    """(team, rep_id, value, weight) of target rows overlapping P; weight = share of the row inside P."""
    sql = ("SELECT team, rep_id, value, start_at, end_at FROM targets"
           f" WHERE metric = :m AND start_at < :e AND end_at > :s AND {where}")
    out = []
    for team, rep, value, s, e in c.conn.execute(text(sql), {"m": metric, "s": c.s, "e": c.e, **params}):
        overlap = min(e, c.e) - max(s, c.s)
        out.append((team, rep, num(value), overlap / (e - s)))
    return out


def _combine(rows: list[tuple[str, str, float, float]], mode: str) -> float | None:
    if not rows:
        return None
    if mode == "sum":
        return sum(v * w for *_, v, w in rows)
    wsum = sum(w for *_, w in rows)
    return sum(v * w for *_, v, w in rows) / wsum if wsum else None


def _has_rows(c: Calc, metric: str, where: str, params: dict) -> bool:
    sql = f"SELECT 1 FROM targets WHERE metric = :m AND {where} LIMIT 1"
    return c.conn.execute(text(sql), {"m": metric, **params}).first() is not None


def _team_reps(c: Calc, team: str) -> list[str]:
    return [r[0] for r in c.conn.execute(text("SELECT rep_id FROM reps WHERE team = :t"), {"t": team})]


def _team_target(c: Calc, metric: str, mode: str, team: str) -> float | None:
    rows = _weights(c, metric, "team = :t AND rep_id = ''", {"t": team})
    if rows or _has_rows(c, metric, "team = :t AND rep_id = ''", {"t": team}) or mode != "sum":
        return _combine(rows, mode)
    reps = _team_reps(c, team)
    return _combine([r for r in _weights(c, metric, "rep_id <> ''", {}) if r[1] in reps], mode)


def target_for(c: Calc, metric: str, mode: str) -> TargetResult:
    f = c.filters
    if any(f.get(d) for d in f.values if d not in ("team", "rep")) or (f.get("rep") and len(f.get("rep")) > 1):
        return TargetResult(None)  # no target is set for a region, channel or product slice
    by_key: dict[str, float] = {}
    if f.get("rep"):
        total = _combine(_weights(c, metric, "rep_id = :r", {"r": f.get("rep")[0]}), mode)
    elif f.get("team"):
        total = _team_target(c, metric, mode, f.get("team")[0])
    elif _has_rows(c, metric, "team = '' AND rep_id = ''", {}):
        total = _combine(_weights(c, metric, "team = '' AND rep_id = ''", {}), mode)
    else:
        total = _combine(_weights(c, metric, "team <> '' AND rep_id = ''", {}), mode) if mode == "sum" else None
    if c.by == "team":
        teams = {r[0] for r in c.conn.execute(text("SELECT DISTINCT team FROM reps WHERE team IS NOT NULL"))}
        for t in teams:
            v = _team_target(c, metric, mode, t)
            if v:
                by_key[t] = v
    elif c.by == "rep":
        grouped: dict[str, list] = defaultdict(list)
        for row in _weights(c, metric, "rep_id <> ''", {}):
            grouped[row[1]].append(row)
        by_key = {k: v for k, rows in grouped.items() if (v := _combine(rows, mode))}
    return TargetResult(total, by_key)
