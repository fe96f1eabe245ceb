"""The SQL side of a KPI computation: one period, filters, an optional breakdown.

Every query here aggregates in the database and returns a handful of rows;
the KPI functions in kpis.py turn those rows into a Measure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kpi_engine import derive
from kpi_engine.periods import Period
from kpi_engine.sql import text

if TYPE_CHECKING:  # the pydantic model: `kpibot ask` may hold a validated copy without pydantic
    from sqlalchemy import Connection

    from config.app_config import AppConfig

# seconds in a day, a whole number: bound as a parameter it must compare with integer columns (a float
# made PostgreSQL compare an indexed bigint expression as double precision); every x / DAY is still a float
DAY = 86_400


def in_list(expr: str, vals, prefix: str, params: dict[str, Any]) -> str:
    """`expr IN (:prefix_0, :prefix_1, …)`, the values bound into params."""
    marks = []
    for i, v in enumerate(vals):
        params[f"{prefix}_{i}"] = v
        marks.append(f":{prefix}_{i}")
    return f"{expr} IN ({', '.join(marks)})"


@dataclass
class Measure:
    """A KPI's value for one period (and selection), with what explains it."""

    value: float | None
    n: int | None = None  # denominator items, for the low-sample guard
    details: dict[str, Any] = field(default_factory=dict)
    rows: list[tuple[str, float | None]] | None = None  # breakdown (key, value)
    reason: str | None = None  # why value is None: a code rendered by notes.py
    reason_args: dict[str, Any] = field(default_factory=dict)
    # per breakdown key, the counts behind its value (where a KPI provides them), so an
    # explanation needs no query per key
    row_details: dict[str, dict[str, Any]] | None = None
    # per breakdown key, its n (where a KPI provides it), so the low-sample guard of a per-segment
    # alert needs no query per segment
    row_n: Mapping[str, int] | None = None


class Deferred:
    """A detail worth computing only when it is shown (an exact median): the engine resolves it on a
    connection of its own when Answer.details is read, or at once in engine.measure(details=True)."""

    def __init__(self, calc: Calc, fn: Callable[[Calc], Any]):
        self.calc, self.fn = calc, fn

    def resolve(self, conn: Connection, rolls: Any) -> Any:
        import copy

        c = copy.copy(self.calc)
        c.conn, c.rolls = conn, rolls
        return self.fn(c)


def resolve_details(details: dict[str, Any], conn: Connection, rolls: Any) -> dict[str, Any]:
    return {k: v.resolve(conn, rolls) if isinstance(v, Deferred) else v for k, v in details.items()}


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
    used: list[str] = field(default_factory=list)  # SQL expressions the filters and key refer to

    def uses(self, *prefixes: str) -> bool:
        """Whether a filter or the breakdown key reads a column of one of these aliases ("o.", "r.")."""
        return any(u.startswith(prefixes) for u in self.used)

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
    """What a KPI function gets: the connection, the period, the selection and a way to ask other KPIs.

    `details` False: only value, n and rows are read (comparison periods, series, sub-KPIs), so a
    KPI may skip what only explains its number (a median, per-stage means, counts by type).
    """

    def __init__(self, conn: Connection, config: AppConfig, period: Period, as_of_ts: int,
                 filters: Filters, by: str | None, compare: str,
                 other: Callable[..., Measure], details: bool = True, rolls: Any = None):
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
        self.details = details
        self.rolls = rolls  # rollread.RollState: the write-time rollups this connection may read

    def roll(self, fact: str, present: str | tuple[str, ...], by: str | None = "same", skip: tuple[str, ...] = (),
             until: int | None = None):
        """A fact's sums from the write-time rollups, shaped like run(); None when they do not cover
        the question (then the KPI reads the rows). See rollread.roll."""
        from kpi_engine.rollread import roll

        return roll(self, fact, present, by, skip, until)

    def later(self, fn: Callable[[Calc], Any]) -> Deferred:
        """A detail computed only if shown: fn(calc) on this period and selection, later."""
        return Deferred(self, fn)

    # ---- composing other KPIs (growth, attainment, per-rep): their value and rows, never details
    def kpi(self, key: str, period: Period | None = None, filters: Filters | None = None,
            by: str | None = "same") -> Measure:
        return self._other(key, period or self.period, filters if filters is not None else self.filters,
                           self.by if by == "same" else by, details=False)

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
            where.append(in_list(expr, vals, f"f_{dim}", params))
            used.append(expr)
        key = dims.get(by) if by else None
        if key:
            used.append(key)
        joins = []
        if rep_col and any(u.startswith("r.") for u in used):
            joins.append(f"LEFT JOIN reps r ON r.rep_id = {rep_col}")
        if account_col and any(u.startswith("a.") for u in used):
            joins.append(f"LEFT JOIN accounts a ON a.account_id = {account_col}")
        return Selection(joins, where, params, key, used)

    def params(self, sel: Selection | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"s": self.s, "e": self.e, "asof": self.as_of_ts, **(sel.params if sel else {}), **(extra or {})}

    def run(self, sel: Selection, select: str, base: str, where: list[str] | None = None,
            params: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
        """Totals for the whole selection, and per-key rows when a breakdown is asked for.

        `select` must be sums and counts only: with a breakdown the totals are added up from the
        per-key rows (a LEFT JOIN never drops a row, so the keys partition the selection), one
        scan instead of two.
        """
        p = self.params(sel, params)
        rows = None
        if sel.key:
            rows = [dict(r) for r in self.conn.execute(text(sel.sql(select, base, where)), p).mappings()]
            if rows:
                return {c: sum(num(r[c]) for r in rows) for c in rows[0] if c != "k"}, rows
        # no breakdown, or nothing selected (then this finds nothing either, at once)
        total = self.conn.execute(text(sel.sql(select, base, where, group=False)), p).mappings().one()
        return dict(total), rows

    def hourly(self, source: str, kinds: tuple[str, ...] | None = None) -> dict[str, tuple[float, float]]:
        """(rows, total) per kind of a source of derive.HOURLY with its time in P, optionally only
        the given kinds: the whole hours of P from hourly_counts, the partial hours at either end
        (only when P does not start or end on the hour) from the source table itself."""
        col, kind_col, total = derive.HOURLY[source]
        hs, he = -(-self.s // derive.HOUR) * derive.HOUR, self.e // derive.HOUR * derive.HOUR
        marks = ", ".join(f":k{i}" for i in range(len(kinds or ())))
        p: dict[str, Any] = {"src": source, "s": self.s, "e": self.e, "hs": hs, "he": he,
                             **{f"k{i}": k for i, k in enumerate(kinds or ())}}
        raw = (f"SELECT {kind_col} AS k, COUNT(*) AS n, {f'SUM({total})' if total else '0'} AS t FROM {source}"
               f" WHERE {col} >= {{lo}} AND {col} < {{hi}}{f' AND {kind_col} IN ({marks})' if kinds else ''}"
               f" GROUP BY {kind_col}")
        if self.s < 0 or hs >= he:
            parts = [raw.format(lo=":s", hi=":e")]
        else:
            parts = [("SELECT kind AS k, SUM(n) AS n, SUM(total) AS t FROM hourly_counts WHERE source = :src"
                      f" AND hour >= :hs AND hour < :he{f' AND kind IN ({marks})' if kinds else ''} GROUP BY kind")]
            if self.s < hs:
                parts.append(raw.format(lo=":s", hi=":hs"))
            if he < self.e:
                parts.append(raw.format(lo=":he", hi=":e"))
        out: dict[str, tuple[float, float]] = {}
        for part in parts:
            for k, n, t in self.conn.execute(text(part), p):
                was = out.get(k, (0.0, 0.0))
                out[k] = (was[0] + num(n), was[1] + num(t))
        return out

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


def spread_spend(s: str = ":s", e: str = ":e") -> str:
    """A spend row's share of [s, e): its amount spread evenly over [start_at, end_at) (kpis.md)."""
    hi = f"(CASE WHEN sp.end_at < {e} THEN sp.end_at ELSE {e} END)"
    lo = f"(CASE WHEN sp.start_at > {s} THEN sp.start_at ELSE {s} END)"
    return f"CAST(sp.amount AS FLOAT) * ({hi} - {lo}) / (sp.end_at - sp.start_at)"
