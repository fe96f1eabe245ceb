"""Write-time rollups: keeping rollup_days, rollup_cum and rollup_meta (kpi_engine/models.py) equal to
what the rows say, for every fact of kpi_engine/facts.py.

Whoever writes rows calls in here in the same transaction: the importer (and so the sync) through
derive.py and Touched, the demo generator through rebuild(). A refresh recomputes the day sums of
the days a write touched from the rows themselves (never by adding deltas, so nothing drifts), then
the running totals of the keys those days hold, from the first touched day on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from kpi_engine.facts import (
    _BIAS,
    FACTS,
    PURCHASE_FACTS,
    TABLE_FACTS,
    Cube,
    DayClock,
    Fact,
    clock_for,
    fact_params,
    params_text,
)
from kpi_engine.freshcubes import FreshOpportunities

_CHUNK = 400  # keys per running-total statement (4 parameters each)
_MAX_RANGES = 60  # more separate runs of touched days than this: rebuild the fact
_MAX_KEYS_SEEK = 300  # more touched keys than this: one grouped read instead of a seek per key


@dataclass(frozen=True)
class Rollups:
    """How this install's rollups are built: the business zone and the facts' parameters."""

    clock: DayClock
    params: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config) -> Rollups:
        return cls(clock_for(config.timezone), fact_params(config))

    def meta_for(self, fact: Fact) -> tuple[str, str]:
        return self.clock.name, params_text(fact, self.params)


# ---------------------------------------------------------------- reading the state


def read_meta(conn: Connection) -> dict[str, tuple[str, str, int, int]]:
    """fact -> (clock, params, first_day, last_day)."""
    rows = conn.execute(text("SELECT fact, clock, params, first_day, last_day FROM rollup_meta"))
    return {r[0]: (r[1], r[2], int(r[3]), int(r[4])) for r in rows}


def _set_meta(conn: Connection, ru: Rollups, fact: Fact, first: int | None, last: int | None) -> None:
    conn.execute(text("DELETE FROM rollup_meta WHERE fact = :f"), {"f": fact.name})
    if first is None or last is None:
        return  # no rows: nothing to read, and nothing to trust until the next build
    clock, params = ru.meta_for(fact)
    conn.execute(text("INSERT INTO rollup_meta (fact, clock, params, first_day, last_day)"
                      " VALUES (:f, :c, :p, :a, :b)"),
                 {"f": fact.name, "c": clock, "p": params, "a": first, "b": last})


# ---------------------------------------------------------------- day sums


def _time_bounds(fact: Fact, ru: Rollups) -> tuple[str, int]:
    """The instant expression that places a row in a day, and the shift from the stored column."""
    shift = ru.params[fact.shift] if fact.shift else 0
    return (f"({fact.time} + {shift})" if shift else fact.time), shift


def _where(fact: Fact, ru: Rollups) -> list[str]:
    return [w.format(**ru.params) for w in fact.where]


def _span(conn: Connection, fact: Fact, ru: Rollups) -> tuple[int, int] | None:
    table = fact.table.split()[0]
    col = fact.time.split(".")[-1]
    lo, hi = conn.execute(text(f"SELECT (SELECT MIN({col}) FROM {table}), (SELECT MAX({col}) FROM {table})")).one()
    if lo is None:
        return None
    _, shift = _time_bounds(fact, ru)
    return int(lo) + shift, int(hi) + shift


def _insert_rows_cube(conn: Connection, fact: Fact, cube: Cube, ru: Rollups, lo: int, hi: int,
                      whole: bool = False) -> None:
    """Day sums of a cube over the rows whose instant lies in [lo, hi); `whole`: that is every row."""
    at, shift = _time_bounds(fact, ru)
    day = ru.clock.sql(at, lo, hi)
    k1, k2 = fact.key_dims(cube, ru.clock, lo, hi)
    ms = [m for _, m in fact.measures] + ["0"] * (4 - len(fact.measures))
    joins = fact.joins([fact.dims[d] for d in cube.dims] + [m for _, m in fact.measures])
    where = _where(fact, ru)
    t = fact.time
    if whole and conn.dialect.name == "sqlite":
        # Over every row SQLite's planner (without statistics during an import) still seeks the time
        # or status index and then visits the table row by row in that order, at random pages. A
        # unary + hides the indexes from the terms, so it reads the table, or a covering index, in
        # order: at 1M opportunities 'created' by rep went from 2.4 s to 1.3 s, 'closed' by product
        # from 2.0 s to 1.4 s. PostgreSQL plans on statistics and is left as it was.
        where, t = [f"+({w})" for w in where], f"+{t}"
    where += [f"{t} >= :lo", f"{t} < :hi"]
    sql = (f"INSERT INTO rollup_days (fact, cube, k1, k2, day, v0, v1, v2, v3)"
           f" SELECT '{fact.name}', '{cube.name}', {k1}, {k2}, {day}, {', '.join(ms)} FROM {fact.table} {' '.join(joins)}"
           f" WHERE {' AND '.join(where)} GROUP BY 3, 4, 5")
    conn.execute(text(sql), {"f": fact.name, "c": cube.name, "lo": lo - shift, "hi": hi - shift})


def _insert_day_sums(conn: Connection, fact: Fact, cube: Cube, rows: list[tuple]) -> None:
    """Day sums grouped outside the database: (k1, k2, day, v0, v1, v2, v3) rows."""
    if not rows:
        return
    head = "INSERT INTO rollup_days (fact, cube, k1, k2, day, v0, v1, v2, v3)"
    if conn.dialect.name == "postgresql":  # one statement over arrays, not a round trip per row
        cols = list(zip(*rows, strict=True))
        conn.exec_driver_sql(
            f"{head} SELECT %s, %s, * FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::float8[],"
            " %s::float8[], %s::float8[], %s::float8[])", (fact.name, cube.name, *map(list, cols)))
    else:
        conn.exec_driver_sql(f"{head} VALUES ('{fact.name}', '{cube.name}', ?, ?, ?, ?, ?, ?, ?)", rows)


def _insert_derived_cube(conn: Connection, fact: Fact, cube: Cube, d1: int | None, d2: int | None) -> None:
    """Day sums of a cube derived from another one, over the days [d1, d2] (None: every day)."""
    sums = ", ".join(f"SUM(x.v{i})" for i in range(4))
    p: dict[str, Any] = {"f": fact.name, "c": cube.name}
    # over every day the source cube's own rows are read by its key (without statistics during an
    # import SQLite would seek the fact's day index and visit them in day order: 0.25 s -> 0.15 s for
    # the retention gaps at 100k opportunities)
    days = "" if d1 is None else " AND x.day >= :d1 AND x.day <= :d2"
    if d1 is not None:
        p.update(d1=d1, d2=d2)
    if cube.source == "reps":
        sql = (f"INSERT INTO rollup_days (fact, cube, k1, k2, day, v0, v1, v2, v3)"
               f" SELECT '{fact.name}', '{cube.name}', COALESCE(r.team, ''), COALESCE(r.region, ''), x.day, {sums}"
               f" FROM rollup_days x LEFT JOIN reps r ON r.rep_id = x.k1"
               f" WHERE x.fact = :f{days} AND x.cube = 'rep' GROUP BY 3, 4, 5")
    else:
        src = cube.source.split(":", 1)[1]
        k1 = "x.k1" if len(cube.dims) >= 1 else "''"
        k2 = "x.k2" if len(cube.dims) >= 2 else "''"
        sql = (f"INSERT INTO rollup_days (fact, cube, k1, k2, day, v0, v1, v2, v3)"
               f" SELECT '{fact.name}', '{cube.name}', {k1}, {k2}, x.day, {sums} FROM rollup_days x"
               f" WHERE x.fact = :f{days} AND x.cube = :src GROUP BY 3, 4, 5")
        p["src"] = src
    conn.execute(text(sql), p)


def _cubes_with_dependents(fact: Fact, names: Iterable[str] | None) -> list[Cube]:
    """The cubes to recompute, in build order: those named and every cube derived from one of them."""
    if names is None:
        return list(fact.cubes)
    want = set(names)
    out = []
    for c in fact.cubes:
        src = "rep" if c.source == "reps" else c.source.split(":", 1)[1] if c.source.startswith("sum:") else None
        if c.name in want or (src is not None and src in want):
            want.add(c.name)
            out.append(c)
    return out


# ---------------------------------------------------------------- running totals


def _keys_first(conn: Connection, fact: Fact, cube: Cube, keys: set[tuple[str, str]]) -> dict:
    """(k1, k2) -> the first day the key has day sums (keys without any are left out)."""
    p = {"f": fact.name, "c": cube.name}
    if len(keys) > _MAX_KEYS_SEEK:
        rows = conn.execute(text("SELECT k1, k2, MIN(day) FROM rollup_days WHERE fact = :f AND cube = :c"
                                 " GROUP BY k1, k2"), p)
        return {(r[0], r[1]): int(r[2]) for r in rows if (r[0], r[1]) in keys}
    out = {}
    q = text("SELECT MIN(day) FROM rollup_days WHERE fact = :f AND cube = :c AND k1 = :k1 AND k2 = :k2")
    for k1, k2 in keys:
        first = conn.execute(q, {**p, "k1": k1, "k2": k2}).scalar()
        if first is not None:
            out[(k1, k2)] = int(first)
    return out


def _write_cum(conn: Connection, fact: Fact, cube: Cube, starts: dict[tuple[str, str], int], last: int) -> None:
    """Running totals of these keys from their start day to `last` (upserted): the key's total the day
    before its start plus the day sums since. Days without sums repeat the total (dense rows)."""
    todo = []
    for (k1, k2), d0 in starts.items():
        dl = last
        if fact.horizon is not None:
            dl = min(last, int(k1) - _BIAS + fact.horizon)
        if d0 <= dl:
            todo.append((k1, k2, d0, dl))
    running = ", ".join(f"COALESCE(b.c{i}, 0) + SUM(COALESCE(v.v{i}, 0)) OVER w" for i in range(4))
    sets = ", ".join(f"c{i} = excluded.c{i}" for i in range(4))
    for i in range(0, len(todo), _CHUNK):
        chunk = todo[i:i + _CHUNK]
        p: dict[str, Any] = {"f": fact.name, "c": cube.name, "dmin": min(t[2] for t in chunk),
                             "dmax": max(t[3] for t in chunk)}
        values = []
        for j, (k1, k2, d0, dl) in enumerate(chunk):
            p.update({f"a{j}": k1, f"b{j}": k2, f"s{j}": d0, f"e{j}": dl})
            values.append(f"(CAST(:a{j} AS TEXT), CAST(:b{j} AS TEXT), CAST(:s{j} AS BIGINT), CAST(:e{j} AS BIGINT))")
        sql = (
            "WITH RECURSIVE cal(d) AS (SELECT CAST(:dmin AS BIGINT) UNION ALL SELECT d + 1 FROM cal WHERE d < :dmax),"
            f" k(k1, k2, d0, dl) AS (VALUES {', '.join(values)})"
            " INSERT INTO rollup_cum (fact, cube, day, k1, k2, c0, c1, c2, c3)"
            f" SELECT '{fact.name}', '{cube.name}', cal.d, k.k1, k.k2, {running}"
            " FROM k JOIN cal ON cal.d >= k.d0 AND cal.d <= k.dl"
            " LEFT JOIN rollup_days v ON v.fact = :f AND v.cube = :c AND v.k1 = k.k1 AND v.k2 = k.k2 AND v.day = cal.d"
            " LEFT JOIN rollup_cum b ON b.fact = :f AND b.cube = :c AND b.day = k.d0 - 1 AND b.k1 = k.k1"
            " AND b.k2 = k.k2"
            " WHERE 1 = 1"
            " WINDOW w AS (PARTITION BY k.k1, k.k2 ORDER BY cal.d ROWS UNBOUNDED PRECEDING)"
            f" ON CONFLICT (fact, cube, day, k1, k2) DO UPDATE SET {sets}"
        )
        conn.execute(text(sql), p)


def _write_cum_fresh(conn: Connection, fact: Fact, cube: Cube, last: int) -> None:
    """Every running total of a cube that has none yet (a rebuild), in one statement: the running sums
    of its sparse day sums, each repeated on the days up to the key's next day of sums (or its last
    day). It reads each day sum once in key order, where a calendar joined to the keys seeks one per
    output row: at 100k opportunities the retention gaps' three cubes took 0.8 s each, now 0.45 s."""
    dl = ":last"
    if fact.horizon is not None:  # a key's totals stop `horizon` days after its own day (k1)
        own = f"CAST(k1 AS BIGINT) - {_BIAS} + {fact.horizon}"
        dl = f"CASE WHEN {own} < :last THEN {own} ELSE :last END"
    running = ", ".join(f"SUM(v{i}) OVER w AS c{i}" for i in range(4))
    sql = (
        f"WITH RECURSIVE s AS (SELECT k1, k2, day, {running}, LEAD(day) OVER w AS nxt, {dl} AS dl"
        " FROM rollup_days WHERE fact = :f AND cube = :c"
        " WINDOW w AS (PARTITION BY k1, k2 ORDER BY day ROWS UNBOUNDED PRECEDING)),"
        " fill(k1, k2, day, stop, c0, c1, c2, c3) AS ("
        "SELECT k1, k2, day, CASE WHEN nxt IS NULL OR nxt > dl THEN dl + 1 ELSE nxt END, c0, c1, c2, c3"
        " FROM s WHERE day <= dl"
        " UNION ALL SELECT k1, k2, day + 1, stop, c0, c1, c2, c3 FROM fill WHERE day + 1 < stop)"
        " INSERT INTO rollup_cum (fact, cube, day, k1, k2, c0, c1, c2, c3)"
        " SELECT :f, :c, day, k1, k2, c0, c1, c2, c3 FROM fill ORDER BY day, k1, k2"
    )
    conn.execute(text(sql), {"f": fact.name, "c": cube.name, "last": last})


# ---------------------------------------------------------------- builds


def rebuild(conn: Connection, ru: Rollups, facts: Iterable[str] | None = None,
            fresh: FreshOpportunities | None = None) -> None:
    """Every day sum and running total of these facts (all of them when None) from the rows; the
    cubes `fresh` summed while a first load of opportunities was written, from those sums."""
    for name in (facts if facts is not None else FACTS):
        fact = FACTS[name]
        p = {"f": fact.name}
        conn.execute(text("DELETE FROM rollup_days WHERE fact = :f"), p)
        conn.execute(text("DELETE FROM rollup_cum WHERE fact = :f"), p)
        span = _span(conn, fact, ru)
        if span is None:
            _set_meta(conn, ru, fact, None, None)
            continue
        lo, hi = span
        for cube in fact.cubes:
            grouped = fresh.day_sums(fact.name, cube.name) if fresh is not None else None
            if grouped is not None:
                _insert_day_sums(conn, fact, cube, grouped)
            elif cube.source == "rows":
                _insert_rows_cube(conn, fact, cube, ru, lo, hi + 1, whole=True)
            else:
                _insert_derived_cube(conn, fact, cube, None, None)
        # the days the fact's own rows lie in (its table's span may hold rows it leaves out)
        first, last = conn.execute(text("SELECT MIN(day), MAX(day) FROM rollup_days WHERE fact = :f"), p).one()
        if first is None:
            _set_meta(conn, ru, fact, None, None)
            continue
        first, last = int(first), int(last)
        for cube in fact.cubes:
            _write_cum_fresh(conn, fact, cube, last)
        _set_meta(conn, ru, fact, first, last)
    if facts is None or "runs_e" in facts:
        refresh_long_gaps(conn, ru)  # the comebacks go with the run ends (same window)


def _ranges(days: set[int]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for d in sorted(days):
        if out and d <= out[-1][1] + 2:  # a short gap is cheaper recounted than split
            out[-1][1] = max(out[-1][1], d)
        else:
            out.append([d, d])
    return [(a, b) for a, b in out]


def refresh(conn: Connection, ru: Rollups, name: str, days: set[int], cubes: Iterable[str] | None = None,
            meta: dict | None = None) -> None:
    """Bring a fact up to date after a write whose rows lie (now or before) in these days; `cubes`
    limits the work to those cubes (and the ones derived from them) when only their keys changed."""
    if not days:
        return
    fact = FACTS[name]
    meta = read_meta(conn) if meta is None else meta
    m = meta.get(name)
    if m is None or (m[0], m[1]) != ru.meta_for(fact):
        rebuild(conn, ru, [name])  # never built, or built for another zone or window
        return
    ranges = _ranges(days)
    if len(ranges) > _MAX_RANGES:
        rebuild(conn, ru, [name])
        return
    todo = _cubes_with_dependents(fact, cubes)
    names = [c.name for c in todo]
    marks = ", ".join(f":n{i}" for i in range(len(names)))
    cube_p = {f"n{i}": n for i, n in enumerate(names)}
    keys_sql = text(f"SELECT cube, k1, k2 FROM rollup_days WHERE fact = :f AND day >= :d1 AND day <= :d2"
                    f" AND cube IN ({marks})")
    touched: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for d1, d2 in ranges:
        for c, k1, k2 in conn.execute(keys_sql, {"f": name, "d1": d1, "d2": d2, **cube_p}):
            touched[c].add((k1, k2))
    # where the touched keys' sums started before (their old running totals start there)
    before = {c.name: _keys_first(conn, fact, c, touched[c.name]) for c in todo}
    for d1, d2 in ranges:
        p = {"f": name, "d1": d1, "d2": d2, **cube_p}
        conn.execute(text(f"DELETE FROM rollup_days WHERE fact = :f AND day >= :d1 AND day <= :d2"
                          f" AND cube IN ({marks})"), p)
        lo, hi = ru.clock.start(d1), ru.clock.start(d2 + 1)
        for cube in todo:
            if cube.source == "rows":
                _insert_rows_cube(conn, fact, cube, ru, lo, hi)
            else:
                _insert_derived_cube(conn, fact, cube, d1, d2)
        for c, k1, k2 in conn.execute(keys_sql, p):
            touched[c].add((k1, k2))
    first, last = conn.execute(text("SELECT MIN(day), MAX(day) FROM rollup_days WHERE fact = :f"), {"f": name}).one()
    if first is None:  # no rows left at all
        conn.execute(text("DELETE FROM rollup_cum WHERE fact = :f"), {"f": name})
        _set_meta(conn, ru, fact, None, None)
        return
    first, last = int(first), int(last)
    if last < m[3]:  # the last days emptied: no running totals after the new last day
        conn.execute(text("DELETE FROM rollup_cum WHERE fact = :f AND day > :d"), {"f": name, "d": last})
    d0 = ranges[0][0]
    for cube in todo:
        keys = touched.get(cube.name, set())
        after = _keys_first(conn, fact, cube, keys)
        old = before[cube.name]
        starts = {}
        for k in keys:
            a, o = after.get(k), old.get(k)
            if o is not None and (a is None or a > o):  # its first days emptied: no rows before the new first
                conn.execute(text("DELETE FROM rollup_cum WHERE fact = :f AND cube = :c AND day >= :lo"
                                  f"{' AND day < :hi' if a is not None else ''} AND k1 = :k1 AND k2 = :k2"),
                             {"f": name, "c": cube.name, "lo": o, "hi": a, "k1": k[0], "k2": k[1]})
            if a is not None:
                starts[k] = max(d0, a)
        if last > m[3]:  # every other key's running total carries on to the new last day
            for k1, k2 in conn.execute(text("SELECT k1, k2 FROM rollup_cum WHERE fact = :f AND cube = :c"
                                            " AND day = :d"), {"f": name, "c": cube.name, "d": m[3]}):
                starts.setdefault((k1, k2), m[3] + 1)
        _write_cum(conn, fact, cube, starts, last)
    _set_meta(conn, ru, fact, first, last)


# ---------------------------------------------------------------- long gaps (retention comebacks)


def refresh_long_gaps(conn: Connection, ru: Rollups, accounts: list[str] | None = None) -> None:
    """long_gaps (models.LongGap) of these customers (all when None) from their purchases."""
    w = ru.params["w"]
    sql = ("INSERT INTO long_gaps (account_id, t_end, next_t, segment, region)"
           f" SELECT p.account_id, p.t + {w}, p.next_t, a.segment, a.region FROM purchases p"
           " LEFT JOIN accounts a ON a.account_id = p.account_id"
           f" WHERE p.next_t IS NOT NULL AND p.next_t - p.t > {w}")
    if accounts is None:
        conn.execute(text("DELETE FROM long_gaps"))
        conn.execute(text(sql))
        return
    for i in range(0, len(accounts), 500):
        chunk = accounts[i:i + 500]
        p = {f"a{j}": v for j, v in enumerate(chunk)}
        marks = ", ".join(f":a{j}" for j in range(len(chunk)))
        conn.execute(text(f"DELETE FROM long_gaps WHERE account_id IN ({marks})"), p)
        conn.execute(text(f"{sql} AND p.account_id IN ({marks})"), p)


# ---------------------------------------------------------------- what a write touched

# cubes keyed by the account's segment or region, per fact
_ACCOUNT_CUBES = {"closed": ("segment",), "surveys": ("segment",), "orders": ("sr",), "purch": ("sr",),
                  "first": ("sr",), "gaps": ("as", "ar"), "runs_s": ("sr",), "runs_e": ("sr",)}
# instant columns of a customer's rows, per fact keyed by the account, and the table and account column
_ACCOUNT_ROWS = {"closed": ("opportunities", "closed_at", "status IN ('won', 'lost')"),
                 "surveys": ("surveys", "responded_at", None),
                 "orders": ("orders", "ordered_at", None)}
_REP_FACTS = [f.name for f in FACTS.values() if any(c.name == "tr" for c in f.cubes)]
_MANY = 5000  # more changed ids than this: recompute the affected cubes over all days


class Touched:
    """What an import wrote, gathered batch by batch, and brought into the rollups by apply() at the
    end of each file (inside the import's transaction).

    Rows of a fact's own table place it in the days of their instants, before and after the write.
    Rows a fact only looks up move days too: a rep's team or region (its "tr" cube), a customer's
    segment or region (its account cubes), a lead's creation or channel (time to close), a deal's
    owner (time in stage by team); those days are found from the ids.
    """

    def __init__(self, ru: Rollups):
        self.ru = ru
        self.days: dict[str, set[int]] = defaultdict(set)
        self.full: set[str] = set()
        self.reps: set[str] = set()
        self.accounts: set[str] = set()
        self.leads: set[str] = set()
        self.owners: set[str] = set()  # opportunities whose owner changed
        self.purchase_accounts: set[str] | None = set()  # None: every customer's chain was rebuilt
        self.purchase_ts: list[int] = []  # instants of those customers' purchases before the rebuild
        self.new_tables: set[str] = set()  # tables loaded from empty: every id in them is new
        self.fresh = FreshOpportunities(ru.clock)  # the deals' cubes of a first load (freshcubes.py)

    # ---- gathering

    def written(self, conn: Connection, table: str, dbcols: list[str], changed: list[tuple],
                replaced: list[tuple], fresh: bool) -> None:
        """A batch written to `table`: the new or changed rows and the stored rows they replaced."""
        if fresh:
            self.full.update(f for f, _ in TABLE_FACTS.get(table, ()))
            self.new_tables.add(table)
            if table == "opportunities":
                self.fresh.add(conn, dbcols, changed)
            return
        else:
            for fact, col in TABLE_FACTS.get(table, ()):
                i = dbcols.index(col)
                self.days[fact] |= self.ru.clock.days([r[i] for r in changed if r[i] is not None])
                self.days[fact] |= self.ru.clock.days([r[i] for r in replaced if r[i] is not None])
        watch = {"reps": ("rep_id", ("team", "region"), self.reps),
                 "accounts": ("account_id", ("segment", "region"), self.accounts),
                 "leads": ("lead_id", ("created_at", "channel"), self.leads),
                 "opportunities": ("opportunity_id", ("owner_rep_id",), self.owners)}.get(table)
        if watch is None:
            return
        key, cols, into = watch
        ki, ci = dbcols.index(key), [dbcols.index(c) for c in cols]
        old = {r[ki]: tuple(r[i] for i in ci) for r in replaced}
        for r in changed:
            was = old.get(r[ki])
            if was is None or was != tuple(r[i] for i in ci):
                into.add(r[ki])  # new (rows may already refer to it) or its attributes moved

    def purchases_before(self, conn: Connection, accounts: set[str] | None) -> None:
        """Call before derive rebuilds these customers' purchase chains (None: all of them)."""
        if accounts is None or self.purchase_accounts is None:
            self.purchase_accounts = None
            return
        for chunk, p in _chunks(sorted(accounts)):
            self.purchase_ts += [int(r[0]) for r in conn.execute(
                text(f"SELECT t FROM purchases WHERE account_id IN ({chunk})"), p)]
        self.purchase_accounts |= accounts

    def exits(self, days: set[int] | None) -> None:
        """derive.refresh_stage_exits_and_hours: the days stage exits lie in now (None: all)."""
        if days is None:
            self.full.add("exits")
        else:
            self.days["exits"] |= days

    # ---- applying

    def apply(self, conn: Connection) -> None:
        ru, meta = self.ru, read_meta(conn)
        work: dict[str, dict[str | None, set[int]]] = defaultdict(lambda: defaultdict(set))  # fact -> cube -> days

        def whole(fact: str, cubes: tuple[str, ...] | None) -> None:
            m = meta.get(fact)
            if m is None:
                self.full.add(fact)
                return
            for cn in cubes or (None,):
                work[fact][cn] |= set(range(m[2], m[3] + 1))

        for fact, days in self.days.items():
            work[fact][None] |= days
        if "reps" in self.new_tables:
            for f in _REP_FACTS:
                whole(f, ("tr",))
        if "accounts" in self.new_tables:
            for f, cubes in _ACCOUNT_CUBES.items():
                whole(f, cubes)
            self.accounts.clear()
            self.purchase_accounts = None if _has_rows(conn, "purchases") else self.purchase_accounts
        if "leads" in self.new_tables and _has_rows(conn, "opportunities"):
            whole("ttc", None)
        if "opportunities" in self.new_tables and _has_rows(conn, "stage_changes"):
            whole("exits", ("tr",))
        if self.reps:
            self._by_reps(conn, work, whole)
        if self.accounts:
            self._by_accounts(conn, work, whole)
        if self.leads:
            self._by_ids(conn, work, whole, "ttc", None, self.leads,
                         "SELECT DISTINCT o.closed_at FROM opportunities o WHERE o.status = 'won'"
                         " AND o.closed_at IS NOT NULL AND o.lead_id IN ({marks})")
        if self.owners and conn.execute(text("SELECT 1 FROM stage_changes LIMIT 1")).first() is not None:
            self._by_ids(conn, work, whole, "exits", ("tr",), self.owners,
                         "SELECT DISTINCT exited_at FROM stage_changes WHERE exited_at IS NOT NULL"
                         " AND opportunity_id IN ({marks})")
        if self.purchase_accounts is None:
            self.full.update(PURCHASE_FACTS)
        elif self.purchase_accounts:
            self._purchase_days(conn, sorted(self.purchase_accounts), self.purchase_ts, work, None)
        if self.full:
            rebuild(conn, ru, sorted(self.full), self.fresh if "opportunities" in self.new_tables else None)
        if "runs_e" not in self.full and (self.purchase_accounts or self.accounts):
            refresh_long_gaps(conn, ru, sorted((self.purchase_accounts or set()) | self.accounts))
        meta = read_meta(conn)
        for fact, per_cube in work.items():
            if fact in self.full:
                continue
            for cn, days in sorted(per_cube.items(), key=lambda kv: kv[0] is not None):
                refresh(conn, ru, fact, days, None if cn is None else [cn], meta)
                meta = read_meta(conn)
        self.__init__(ru)  # ready for the next file

    def _by_reps(self, conn: Connection, work, whole) -> None:
        reps = sorted(self.reps)
        for f in _REP_FACTS:
            if len(reps) > _MANY:
                whole(f, ("tr",))
            elif FACTS[f].cube("tr").source == "reps":  # the days the rep cube holds these reps in
                for chunk, p in _chunks(reps):
                    for (d,) in conn.execute(text(f"SELECT DISTINCT day FROM rollup_days WHERE fact = :f"
                                                  f" AND cube = 'rep' AND k1 IN ({chunk})"), {"f": f, **p}):
                        work[f]["tr"].add(int(d))
            else:  # time in stage: the exits of the deals these reps own
                self._by_ids(conn, work, whole, f, ("tr",), set(reps),
                             "SELECT DISTINCT sc.exited_at FROM stage_changes sc JOIN opportunities o"
                             " ON o.opportunity_id = sc.opportunity_id WHERE sc.exited_at IS NOT NULL"
                             " AND o.owner_rep_id IN ({marks})")

    def _by_accounts(self, conn: Connection, work, whole) -> None:
        accounts = sorted(self.accounts)
        for fact, (table, col, cond) in _ACCOUNT_ROWS.items():
            where = f" AND {cond}" if cond else ""
            self._by_ids(conn, work, whole, fact, _ACCOUNT_CUBES[fact], set(accounts),
                         f"SELECT DISTINCT {col} FROM {table} WHERE {col} IS NOT NULL{where}"
                         " AND account_id IN ({marks})")
        if len(accounts) > _MANY:
            for fact in PURCHASE_FACTS:
                whole(fact, _ACCOUNT_CUBES[fact])
        else:
            self._purchase_days(conn, accounts, [], work, _ACCOUNT_CUBES)

    def _purchase_days(self, conn: Connection, accounts: list[str], before: list[int], work,
                       cubes: dict[str, tuple[str, ...]] | None) -> None:
        """The purchase facts' days of these customers' purchases, as they are now and `before`."""
        ts = list(before)
        for chunk, p in _chunks(accounts):
            ts += [int(r[0]) for r in conn.execute(text(f"SELECT t FROM purchases WHERE account_id IN ({chunk})"), p)]
        days = self.ru.clock.days(ts)
        ends = self.ru.clock.days([t + self.ru.params["w"] for t in ts])
        for fact in PURCHASE_FACTS:
            for cn in (cubes[fact] if cubes else (None,)):
                work[fact][cn] |= ends if fact == "runs_e" else days

    def _by_ids(self, conn: Connection, work, whole, fact: str, cubes: tuple[str, ...] | None, ids: set[str],
                sql: str) -> None:
        if len(ids) > _MANY:
            whole(fact, cubes)
            return
        ts: list[int] = []
        for chunk, p in _chunks(sorted(ids)):
            ts += [int(r[0]) for r in conn.execute(text(sql.format(marks=chunk)), p)]
        days = self.ru.clock.days(ts)
        for cn in cubes or (None,):
            work[fact][cn] |= days


def _has_rows(conn: Connection, table: str) -> bool:
    return conn.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None


# ---------------------------------------------------------------- planner statistics after bulk loads

DERIVED_TABLES = ("purchases", "hourly_counts", "rollup_days", "rollup_cum", "rollup_meta", "long_gaps")


def analyze_in_transaction(conn: Connection) -> None:
    """SQLite: fresh planner statistics (ANALYZE, sampled) in the writer's transaction, so the first
    question after a bulk load is planned on them. PostgreSQL gets VACUUM ANALYZE after the commit."""
    if conn.dialect.name != "sqlite":
        return
    conn.exec_driver_sql("PRAGMA analysis_limit = 1000")
    try:
        conn.exec_driver_sql("ANALYZE")
    except BaseException:
        # put back only on a connection still usable (a Ctrl-C mid-statement invalidates it: any statement
        # would raise PendingRollbackError over the interrupt); the import's transaction is rolled back
        if not conn.invalidated:
            try:
                conn.exec_driver_sql("PRAGMA analysis_limit = 0")
            except Exception:  # noqa: BLE001, S110 - the ANALYZE's own error is the one to report
                pass
        raise
    conn.exec_driver_sql("PRAGMA analysis_limit = 0")


def vacuum_analyze(engine, tables: Iterable[str]) -> None:
    """PostgreSQL: VACUUM ANALYZE of bulk-loaded tables and every derived one, after the load's commit
    (VACUUM cannot run in a transaction). It sets the visibility map too, without which index-only
    scans visit the heap row by row: right after a bulk load revenue was ~10x slower before it."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for t in [*sorted(set(tables)), *DERIVED_TABLES]:
            conn.exec_driver_sql(f"VACUUM ANALYZE {t}")


def _chunks(ids: list[str], size: int = 500):
    for i in range(0, len(ids), size):
        chunk = ids[i:i + size]
        yield ", ".join(f":i{j}" for j in range(len(chunk))), {f"i{j}": v for j, v in enumerate(chunk)}
