"""The SQL side of a KPI computation: one period, filters, an optional breakdown.

Every query here aggregates in the database and returns a handful of rows;
the KPI functions in kpis.py turn those rows into a Measure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from config.app_config import AppConfig
from kpi_engine.periods import Period

DAY = 86400.0


@dataclass
class Measure:
    """A KPI's value for one period (and selection), with what explains it."""

    value: float | None
    n: int | None = None  # denominator items, for the low-sample guard
    details: dict[str, Any] = field(default_factory=dict)
    rows: list[tuple[str, float | None]] | None = None  # breakdown (key, value)
    reason: str | None = None  # why value is None: a code rendered by notes.py
    reason_args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Filters:
    """Filter values already resolved against the data (exact stored values)."""

    values: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def get(self, dim: str) -> tuple[str, ...] | None:
        return self.values.get(dim)

    def without(self, *dims: str) -> Filters:
        return Filters({k: v for k, v in self.values.items() if k not in dims})


@dataclass
class Selection:
    """FROM/WHERE pieces for one query: joins to reps (r) and accounts (a) only when used."""

    joins: list[str]
    where: list[str]
    params: dict[str, Any]
    key: str | None  # SQL expression of the breakdown key

    def sql(self, select: str, base: str, extra_where: list[str] | None = None, group: bool = True) -> str:
        where = self.where + (extra_where or [])
        keyed = self.key and group
        q = f"SELECT {self.key + ' AS k, ' if keyed else ''}{select} FROM {base} "
        q += " ".join(self.joins)
        if where:
            q += " WHERE " + " AND ".join(where)
        if self.key and group:
            q += f" GROUP BY {self.key}"
        return q


class Calc:
    """What a KPI function gets: the connection, the period, the selection and a way to ask other KPIs."""

    def __init__(self, conn: Connection, config: AppConfig, period: Period, as_of_ts: int,
                 filters: Filters, by: str | None, compare: str,
                 other: Callable[[str, Period, Filters, str | None], Measure]):
        self.conn = conn
        self.config = config
        self.period = period
        self.s = period.start_ts
        self.e = period.end_ts
        self.as_of_ts = as_of_ts
        self.filters = filters
        self.by = by
        self.compare = compare
        self._other = other

    # ---- composing other KPIs (growth, attainment, per-rep)
    def kpi(self, key: str, period: Period | None = None, filters: Filters | None = None,
            by: str | None = "same") -> Measure:
        return self._other(key, period or self.period, filters if filters is not None else self.filters,
                           self.by if by == "same" else by)

    # ---- selections
    def select(self, dims: dict[str, str], rep_col: str | None = None, account_col: str | None = None,
               by: str | None = "same", skip: tuple[str, ...] = ()) -> Selection:
        """Build joins and filters from a dimension map (dim -> SQL over r., a. or the base alias)."""
        by = self.by if by == "same" else by
        params: dict[str, Any] = {}
        where: list[str] = []
        used: list[str] = []
        for dim, vals in self.filters.values.items():
            if dim in skip:
                continue
            expr = dims.get(dim)
            if expr is None:
                continue  # the parser only lets through filters this KPI supports
            marks = []
            for i, v in enumerate(vals):
                p = f"f_{dim}_{i}"
                params[p] = v
                marks.append(f":{p}")
            where.append(f"{expr} IN ({', '.join(marks)})")
            used.append(expr)
        key = dims.get(by) if by else None
        if key:
            used.append(key)
        joins = []
        if rep_col and any(u.startswith("r.") for u in used):
            joins.append(f"LEFT JOIN reps r ON r.rep_id = {rep_col}")
        if account_col and any(u.startswith("a.") for u in used):
            joins.append(f"LEFT JOIN accounts a ON a.account_id = {account_col}")
        return Selection(joins, where, params, key)

    def run(self, sel: Selection, select: str, base: str, where: list[str] | None = None,
            params: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
        """Totals for the whole selection, and per-key rows when a breakdown is asked for."""
        p = {"s": self.s, "e": self.e, "asof": self.as_of_ts, **sel.params, **(params or {})}
        total = self.conn.execute(text(sel.sql(select, base, where, group=False)), p).mappings().one()
        rows = None
        if sel.key:
            rows = [dict(r) for r in self.conn.execute(text(sel.sql(select, base, where)), p).mappings()]
        return dict(total), rows

    def scalar(self, sql: str, **params: Any) -> Any:
        return self.conn.execute(text(sql), {"s": self.s, "e": self.e, "asof": self.as_of_ts, **params}).scalar()


def num(x: Any) -> float:
    """Aggregates come back as int, float or Decimal (PostgreSQL avg/sum); compare them as floats."""
    return 0.0 if x is None else float(x)


def ratio(a: Any, b: Any) -> float | None:
    b = num(b)
    return None if b == 0 else num(a) / b


# Dimension maps per source, the one place that says what "team" or "region" means for a row.
OPP_DIMS = {
    "rep": "o.owner_rep_id",
    "team": "r.team",
    "region": "r.region",
    "product": "o.product",
    "segment": "a.segment",
}
LEAD_DIMS = {"rep": "l.owner_rep_id", "team": "r.team", "region": "r.region", "channel": "l.channel"}
ACT_DIMS = {"rep": "act.rep_id", "team": "r.team", "region": "r.region", "type": "act.type"}
CONTENT_DIMS = {"rep": "ce.rep_id", "team": "r.team", "region": "r.region", "action": "ce.action"}
REP_DIMS = {"rep": "r.rep_id", "team": "r.team", "region": "r.region"}
CUSTOMER_DIMS = {"segment": "a.segment", "region": "a.region"}
SURVEY_DIMS = {"rep": "sv.rep_id", "team": "r.team", "region": "r.region", "segment": "a.segment"}
TRAINING_DIMS = {"rep": "tr.rep_id", "team": "r.team", "region": "r.region"}
STAGE_DIMS = {"stage": "sc.stage", "team": "r.team", "region": "r.region", "rep": "o.owner_rep_id"}


def purchases_sql(lo: str, hi: str) -> str:
    """Purchases (won opportunities ∪ orders) with a time in [lo, hi), as (account_id, t)."""
    return (
        "SELECT o.account_id AS account_id, o.closed_at AS t FROM opportunities o"
        f" WHERE o.status = 'won' AND o.account_id IS NOT NULL AND o.closed_at >= {lo} AND o.closed_at < {hi}"
        " UNION ALL "
        f"SELECT od.account_id AS account_id, od.ordered_at AS t FROM orders od"
        f" WHERE od.ordered_at >= {lo} AND od.ordered_at < {hi}"
    )


def bought_between(account: str, lo: str | None, hi: str) -> str:
    """SQL condition: the account has a purchase in [lo, hi) (lo None: any time before hi).

    Two EXISTS probes rather than a scan of the union: each is an index seek on
    (account_id, status, closed_at) or (account_id, ordered_at).
    """
    lo_o = f" AND o2.closed_at >= {lo}" if lo else ""
    lo_d = f" AND o3.ordered_at >= {lo}" if lo else ""
    return (
        f"(EXISTS (SELECT 1 FROM opportunities o2 WHERE o2.account_id = {account} AND o2.status = 'won'"
        f" AND o2.closed_at < {hi}{lo_o})"
        f" OR EXISTS (SELECT 1 FROM orders o3 WHERE o3.account_id = {account} AND o3.ordered_at < {hi}{lo_d}))"
    )


def spread_spend(s: str = ":s", e: str = ":e") -> str:
    """A spend row's share of [s, e): its amount spread evenly over [start_at, end_at) (kpis.md)."""
    hi = f"(CASE WHEN sp.end_at < {e} THEN sp.end_at ELSE {e} END)"
    lo = f"(CASE WHEN sp.start_at > {s} THEN sp.start_at ELSE {s} END)"
    return f"CAST(sp.amount AS FLOAT) * ({hi} - {lo}) / (sp.end_at - sp.start_at)"
