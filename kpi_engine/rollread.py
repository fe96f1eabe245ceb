"""Reading the write-time rollups (kpi_engine/facts.py, rollups.py): a fact's sums for one period and
selection, by key, in the shape Calc.run gives from the rows.

The whole days of the period come from rollup_cum (running totals on the day before it and its last
day, two rows per key), the instants outside whole days (a period cut at an as_of with a time) from
the rows. A question is covered when the rollups were built for the engine's zone and parameters and
one cube holds every dimension its filters and breakdown use (a rep cube also answers team and region,
through the reps table, as the row path does); otherwise roll() returns None and the KPI reads rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kpi_engine import driver_rows
from kpi_engine.calc import Calc, num
from kpi_engine.facts import FACTS, Cube, Fact, clock_for, fact_params, params_text
from kpi_engine.sql import text

if TYPE_CHECKING:
    from sqlalchemy import Connection

_REP_DIMS = ("team", "region")
_ZERO = (0.0, 0.0, 0.0, 0.0)
_MAX_PREFETCH = 400  # days read at once for a run of periods (alert rules, series)


class RollState:
    """One connection's view of the rollups: which facts it may read, and what it has read, so the
    periods of one question (or of one alert rule) share a query per cube."""

    def __init__(self, conn: Connection, config, enabled: bool = True):
        self.conn = conn
        self.clock = clock_for(config.timezone)
        self.params = fact_params(config)
        self.enabled = enabled
        self.prefetch: set[int] = set()
        self._meta: dict[str, tuple[str, str, int, int]] | None = None
        self._cache: dict[tuple, tuple[set[int], dict[int, dict[Any, list[float]]]]] = {}
        self._between: dict[tuple, dict[Any, list[float]]] = {}

    def span(self, name: str) -> tuple[int, int] | None:
        """(first, last) day of a fact readable here, None when it is not (not built, other zone)."""
        if not self.enabled:
            return None
        if self._meta is None:
            rows = self.conn.execute(text("SELECT fact, clock, params, first_day, last_day FROM rollup_meta"))
            self._meta = {r[0]: (r[1], r[2], int(r[3]), int(r[4])) for r in rows}
        m = self._meta.get(name)
        if m is None or m[0] != self.clock.name or m[1] != params_text(FACTS[name], self.params):
            return None
        return m[2], m[3]

    def days_read(self, s: int, e: int) -> set[int]:
        """The days whose running totals a period [s, e) reads: the day before its first whole day
        and its last whole day."""
        return {self.clock.day(s) - (1 if self.clock.is_start(s) else 0), self.clock.day(e) - 1}

    def totals(self, fact: Fact, cube: Cube, key: str | None, join: str, where: list[str], params: dict,
               days: set[int]) -> dict[int, dict[Any, list[float]]]:
        """Running totals at these days, by key: {day: {key: [c0, c1, c2, c3]}} (keys without a row
        on a day have none: their total there is 0)."""
        ck = (fact.name, cube.name, key, join, tuple(where), tuple(sorted(params.items())))
        got = self._cache.get(ck)
        if got is not None and days <= got[0]:
            return got[1]
        want = set(days)
        if self.prefetch and len(self.prefetch) <= _MAX_PREFETCH:
            want |= self.prefetch
        marks = ", ".join(f":d{i}" for i in range(len(want)))
        p = {"f": fact.name, "c": cube.name, **params, **{f"d{i}": d for i, d in enumerate(sorted(want))}}
        sql = (f"SELECT x.day, {key or 'NULL'} AS k, SUM(x.c0), SUM(x.c1), SUM(x.c2), SUM(x.c3)"
               f" FROM rollup_cum x {join} WHERE x.fact = :f AND x.cube = :c AND x.day IN ({marks})"
               f"{''.join(' AND ' + w for w in where)} GROUP BY x.day{', ' + key if key else ''}")
        out: dict[int, dict[Any, list[float]]] = {d: {} for d in want}
        # thousands of keys by rep: no function call per value (num() inlined)
        for day, k, *cs in driver_rows.rows(self.conn, sql, p):
            out[int(day)]["" if k is None else k] = [0.0 if v is None else float(v) for v in cs]
        if got is not None:  # keep what was read before too
            out = {**got[1], **out}
            want |= got[0]
        self._cache[ck] = (want, out)
        return out

    def between(self, fact: Fact, cube: Cube, key: str, join: str, where: list[str], params: dict, lo: int,
                hi: int) -> list[tuple]:
        """Running totals at hi less those at lo, a (key, c0, c1, c2, c3) row per key, for a cube with
        one row per key and day (keys with no row at hi have none; a key with no row at lo started
        after it)."""
        ck = ("between", fact.name, cube.name, key, join, tuple(where), tuple(sorted(params.items())), lo, hi)
        got = self._between.get(ck)
        if got is None:
            cs = ", ".join(f"x.c{i} - COALESCE(l.c{i}, 0)" for i in range(4))
            sql = (f"SELECT {key} AS k, {cs} FROM rollup_cum x LEFT JOIN rollup_cum l ON l.fact = x.fact"
                   " AND l.cube = x.cube AND l.day = :lo AND l.k1 = x.k1 AND l.k2 = x.k2"
                   f" {join} WHERE x.fact = :f AND x.cube = :c AND x.day = :hi"
                   f"{''.join(' AND ' + w for w in where)}")
            p = {"f": fact.name, "c": cube.name, **params, "lo": lo, "hi": hi}
            # c0..c3 are NOT NULL floats and the key a NOT NULL text column (keys are distinct: one row
            # per key and day), so the driver's rows are used as they are: no per-key work for
            # thousands of reps
            got = driver_rows.rows(self.conn, sql, p)
            self._between[ck] = got
        return got  # roll() never changes these rows: shared with this cache


def choose_cube(fact: Fact, dims: set[str]) -> tuple[Cube, bool] | None:
    """The smallest cube holding these dimensions (fewest key columns, then as listed); True when team
    or region come from the reps table through its rep key."""
    fits = [c for c in fact.cubes if dims <= set(c.dims)]
    if fits:
        return min(fits, key=lambda c: len(c.dims)), False
    for cube in fact.cubes:
        if "rep" in cube.dims and dims <= set(cube.dims) | set(_REP_DIMS):
            return cube, True
    return None


def roll(c: Calc, name: str, present: str | tuple[str, ...], by: str | None = "same",
         skip: tuple[str, ...] = (), until: int | None = None
         ) -> tuple[dict[str, float], list[dict[str, Any]] | None] | None:
    """A fact's measures over the Calc's period and selection: (totals, per-key rows or None), like
    Calc.run; keys whose `present` measures are all 0 are left out (no row has them). until: over
    every row before that instant instead. None: not covered."""
    st: RollState | None = getattr(c, "rolls", None)
    if st is None:
        return None
    span = st.span(name)
    if span is None:
        return None
    fact = FACTS[name]
    by = c.by if by == "same" else by
    filters = {d: v for d, v in c.filters.values.items() if d not in skip and d in fact.dims}
    need = set(filters) | ({by} if by else set())
    if by and by not in fact.dims:
        return None
    picked = choose_cube(fact, need)
    if picked is None:
        return None
    cube, via_reps = picked

    def col(dim: str) -> str:
        if dim in cube.dims:
            return "x.k1" if cube.dims.index(dim) == 0 else "x.k2"
        return f"r.{dim}"

    join = "LEFT JOIN reps r ON r.rep_id = x.k1" if via_reps and (need & set(_REP_DIMS)) else ""
    where, params = [], {}
    for dim, vals in sorted(filters.items()):
        marks = []
        for i, v in enumerate(vals):
            params[f"f_{dim}_{i}"] = v
            marks.append(f":f_{dim}_{i}")
        where.append(f"{col(dim)} IN ({', '.join(marks)})")
    key = col(by) if by else None

    names = [n for n, _ in fact.measures]
    sums: dict[Any, list[float]] = {}
    flat: list[tuple] | None = None  # (key, c0, c1, c2, c3) rows, when one read gives every key's sums
    first, last = span
    if until is None:
        ds, de, parts = st.clock.split(c.s, c.e)
    else:
        ds, de, parts = st.clock.split(st.clock.start(first), until)
    hi, lo = min(de - 1, last), ds - 1
    if hi >= first and hi > lo and lo >= first and by and cube.dims == (by,) and (by == "rep" or not st.prefetch):
        # one row per key and day (by rep, say: thousands of keys): the database subtracts (v - w, the
        # same to the bit), so half the rows come back and none is subtracted in Python. By rep even
        # when an alert rule reads many periods: a query per period beats thousands of keys x days
        # subtracted here
        flat = st.between(fact, cube, key, join, where, params, lo, hi)
        if parts:
            sums = {r[0]: r[1:] for r in flat}
            flat = None
    elif hi >= first and hi > lo:
        days = {hi} | ({lo} if lo >= first else set())
        tot = st.totals(fact, cube, key, join, where, params, days)
        top, base = tot[hi], tot.get(lo, {}) if lo >= first else {}
        for k, vals in top.items():
            b = base.get(k)
            sums[k] = [v - w for v, w in zip(vals, b, strict=True)] if b else vals
    for a, b in parts:
        for k, vals in _rows(c, fact, by, a, b):
            sums[k] = [x + v for x, v in zip(sums.get(k) or _ZERO, vals, strict=True)]
    if flat is None:
        flat = [(k, *vals) for k, vals in sums.items()]
    # a key's measures are at 1.. of its row; the usual single `present` without a generator per key
    pis = [1 + names.index(p) for p in ((present,) if isinstance(present, str) else present)]
    if len(pis) == 1:
        i = pis[0]
        kept = [r for r in flat if r[i] != 0]
    else:
        kept = [r for r in flat if any(r[i] != 0 for i in pis)]
    # column by column, in the keys' order: the same additions as a sum per measure over the keys
    columns = list(zip(*kept, strict=True)) or [()] * (1 + len(names))
    totals = {n: sum(columns[1 + i]) for i, n in enumerate(names)}
    if not by:
        return totals, None
    return totals, _as_rows(names, kept)


def _as_rows(names: list[str], kept: list[tuple]) -> list[dict[str, Any]]:
    """One dict per (key, c0, c1, ...) row, {"k": key or None, measure: value, ...}: written out per
    number of measures, as a dict display builds each row several times faster than dict(zip(...))
    (thousands of reps)."""
    if len(names) == 1:
        (a,) = names
        return [{"k": None if r[0] == "" else r[0], a: r[1]} for r in kept]
    if len(names) == 2:
        a, b = names
        return [{"k": None if r[0] == "" else r[0], a: r[1], b: r[2]} for r in kept]
    if len(names) == 3:
        a, b, c = names
        return [{"k": None if r[0] == "" else r[0], a: r[1], b: r[2], c: r[3]} for r in kept]
    a, b, c, d = names  # a fact has at most four measures (rollup_days' v0..v3; facts.Fact checks)
    return [{"k": None if r[0] == "" else r[0], a: r[1], b: r[2], c: r[3], d: r[4]} for r in kept]


def _rows(c: Calc, fact: Fact, by: str | None, lo: int, hi: int) -> list[tuple[Any, list[float]]]:
    """The fact's sums over the rows with their instant in [lo, hi), by the breakdown key."""
    dims = {d: e for d, e in fact.dims.items() if "{" not in e}
    sel = c.select(dims, by=by)
    shift = c.rolls.params[fact.shift] if fact.shift else 0
    ms = [m for _, m in fact.measures]
    joins = fact.joins(sel.used + ms)
    where = sel.where + [w.format(**c.rolls.params) for w in fact.where] + [f"{fact.time} >= :lo", f"{fact.time} < :hi"]
    key = f"{sel.key} AS k, " if sel.key else ""
    sql = (f"SELECT {key}{', '.join(ms)} FROM {fact.table} {' '.join(joins)} WHERE {' AND '.join(where)}"
           f"{' GROUP BY ' + sel.key if sel.key else ''}")
    out = []
    for r in c.conn.execute(text(sql), {**sel.params, "lo": lo - shift, "hi": hi - shift}):
        vals = list(r[1:] if sel.key else r)
        k = r[0] if sel.key else ""
        out.append(("" if k is None else k, [num(v) for v in vals] + [0.0] * (4 - len(vals))))
    return out
