"""The computation of every KPI in the catalogue, registered under its key.

Each function answers one period for one selection (filters, optional
breakdown) and returns a Measure; the engine adds comparisons, targets, the
no-data rule and the low-sample guard around it. Formulas: kpis.md.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta

from kpi_engine import periods
from kpi_engine.calc import (
    ACT_DIMS,
    CONTENT_DIMS,
    CUSTOMER_DIMS,
    DAY,
    LEAD_DIMS,
    OPP_DIMS,
    REP_DIMS,
    STAGE_DIMS,
    SURVEY_DIMS,
    TRAINING_DIMS,
    Calc,
    Filters,
    Measure,
    num,
    ratio,
    spread_spend,
)
from kpi_engine.facts import _BIAS, HORIZON, cycle_bin_days
from kpi_engine.periods import Period
from kpi_engine.sql import text

COMPUTE: dict[str, Callable[[Calc], Measure]] = {}


def kpi(key: str):
    def deco(fn: Callable[[Calc], Measure]) -> Callable[[Calc], Measure]:
        COMPUTE[key] = fn
        return fn

    return deco


def _rows(rows: list[dict] | None, value: Callable[[dict], float | None]) -> list[tuple[str, float | None]] | None:
    if rows is None:
        return None
    return [("" if r["k"] is None else str(r["k"]), value(r)) for r in rows]


def _ratio_rows(rows: list[dict] | None, a: str, b: str) -> list[tuple[str, float | None]] | None:
    """_rows(rows, lambda r: ratio(r[a], r[b])) with ratio() written out: no call per row for the
    thousands of reps of an answer by rep (an empty or zero denominator is None, as in ratio)."""
    if rows is None:
        return None
    return [("" if (k := r["k"]) is None else str(k), float(r[a] or 0) / d if (d := float(r[b] or 0)) else None)
            for r in rows]


class _Samples(Mapping):
    """Each breakdown key's sample, worked out when first read: only a per-segment alert rule reads
    it, and an answer by rep has thousands of keys that would each pay for it."""

    __slots__ = ("_rows", "_n", "_got")

    def __init__(self, rows: list[dict], n: Callable[[dict], float]):
        self._rows, self._n, self._got = rows, n, None

    def _all(self) -> dict[str, int]:
        if self._got is None:
            n = self._n
            self._got = {("" if r["k"] is None else str(r["k"])): int(num(n(r))) for r in self._rows}
            self._rows = self._n = None
        return self._got

    def __getitem__(self, key: str) -> int:
        return self._all()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        return repr(self._all())


def _row_n(rows: list[dict] | None, n: Callable[[dict], float]) -> Mapping[str, int] | None:
    """Each breakdown key's sample (the denominator of a ratio), for Measure.row_n. The rows are
    the KPI's own, never changed after it returns."""
    if rows is None:
        return None
    return _Samples(rows, n)


def _none(reason: str, n: int | None = 0, **args) -> Measure:
    return Measure(None, n=n, reason=reason, reason_args=args)


def _quotient(a, b, why: str, details: dict, rows=None, row_n=None) -> Measure:
    """a ÷ b as a Measure whose sample is b; null with reason `why` when b is 0 (kpis.md: no data is not zero)."""
    value = ratio(a, b)
    return Measure(value, n=int(num(b)), details=details, rows=rows, reason=None if value is not None else why,
                   row_n=row_n)


# ------------------------------------------------------------------ won / closed opportunities

_WON_IN_P = ["o.status = 'won'", "o.closed_at >= :s", "o.closed_at < :e"]


def _renamed(got, names: dict[str, str]) -> tuple[dict, list | None]:
    """A rollup result with its measures under the names the row path's SQL gives them (new: old).
    Its rows are fresh from rollread.roll, so they are renamed in place: by rep there are thousands."""
    t, rows = got
    moves = [(new, old) for new, old in names.items() if new != old]
    for r in rows or ():
        for new, old in moves:
            r[new] = r[old]
    return {new: t[old] for new, old in names.items()}, rows


def _won(c: Calc, by: str | None = "same") -> tuple[dict, list | None]:
    got = c.roll("closed", "won", by=by)
    if got is not None:
        return _renamed(got, {"amt": "amt", "n": "won"})
    sel = c.select(OPP_DIMS, rep_col="o.owner_rep_id", account_col="o.account_id", by=by)
    return c.run(sel, "SUM(o.amount) AS amt, COUNT(*) AS n", "opportunities o", _WON_IN_P)


@kpi("revenue")
def revenue(c: Calc) -> Measure:
    t, rows = _won(c)
    return Measure(num(t["amt"]), n=int(t["n"]), details={"deals": int(t["n"])},
                   rows=_rows(rows, lambda r: num(r["amt"])))


@kpi("deals_closed")
def deals_closed(c: Calc) -> Measure:
    t, rows = _won(c)
    return Measure(float(t["n"]), n=int(t["n"]), details={"revenue": num(t["amt"])},
                   rows=_rows(rows, lambda r: float(r["n"])))


@kpi("avg_deal_size")
def avg_deal_size(c: Calc) -> Measure:
    t, rows = _won(c)
    return _quotient(t["amt"], t["n"], "no_won_deals", {"revenue": num(t["amt"]), "deals": int(t["n"])},
                     _ratio_rows(rows, "amt", "n"))


@kpi("win_rate")
def win_rate(c: Calc) -> Measure:
    sel = c.select(OPP_DIMS, rep_col="o.owner_rep_id", account_col="o.account_id")
    closed = ["o.closed_at >= :s", "o.closed_at < :e"]
    got = c.roll("closed", ("won", "lost"))
    if got is not None:
        t, rows = _renamed(got, {"won": "won", "lost": "lost"})
    elif sel.key:
        t, rows = c.run(sel, "SUM(CASE WHEN o.status = 'won' THEN 1 ELSE 0 END) AS won,"
                             " SUM(CASE WHEN o.status = 'lost' THEN 1 ELSE 0 END) AS lost",
                        "opportunities o", ["o.status IN ('won', 'lost')", *closed])
    else:  # two index range counts: no status to read per row
        won_sql, lost_sql = (sel.sql("COUNT(*)", "opportunities o", [f"o.status = '{st}'", *closed], group=False)
                             for st in ("won", "lost"))
        t = dict(c.conn.execute(text(f"SELECT ({won_sql}) AS won, ({lost_sql}) AS lost"), c.params(sel)).mappings().one())
        rows = None
    won, lost = int(num(t["won"])), int(num(t["lost"]))
    return _quotient(won, won + lost, "no_closed_deals", {"won": won, "lost": lost},
                     _rows(rows, lambda r: ratio(r["won"], num(r["won"]) + num(r["lost"]))),
                     _row_n(rows, lambda r: num(r["won"]) + num(r["lost"])))


def _mean_days(r: dict) -> float | None:
    """A mean from SUM(seconds) AS d and COUNT(*) AS n, in days; integer sums are exact on both databases."""
    return num(r["d"]) / num(r["n"]) / DAY if num(r["n"]) else None


@kpi("sales_cycle")
def sales_cycle(c: Calc) -> Measure:
    got = c.roll("closed", "won")
    if got is not None:
        t, rows = _renamed(got, {"d": "cyc", "n": "won"})
    else:
        sel = c.select(OPP_DIMS, rep_col="o.owner_rep_id", account_col="o.account_id")
        t, rows = c.run(sel, "SUM(o.closed_at - o.created_at) AS d, COUNT(*) AS n", "opportunities o", _WON_IN_P)
    n = int(t["n"])
    if n == 0:
        return _none("no_won_deals")
    details: dict = {"deals": n}
    if c.details:  # the exact median only when the details are shown (Deferred)
        details["median_days"] = c.later(lambda cc: _median_cycle(cc, n))
    return Measure(_mean_days(t), n=n, details=details, rows=_rows(rows, _mean_days))


def _median_cycle(c: Calc, n: int) -> float:
    """The exact median of the won deals' cycles, by ordered offset in SQL (it never ships the deals to
    Python). Without filters the per-day histogram of cycles (rollup cube "cbin") says which whole
    days of cycle hold the middle deal(s), and only the deals of those bins are sorted (a range of
    ix_opp_cycle); otherwise all the period's won deals are (a range of the covering index)."""
    k = (n - 1) // 2  # 0-based rank of the (first) middle deal
    bins = _cycle_bins(c, k, 2 - n % 2) if not c.filters.values else None
    if bins is not None:
        lo_bin, hi_bin, before = bins
        sql = ("SELECT o.closed_at - o.created_at AS d FROM opportunities o WHERE o.status = 'won'"
               " AND o.closed_at - o.created_at >= :blo AND o.closed_at - o.created_at < :bhi"
               " AND o.closed_at >= :s AND o.closed_at < :e ORDER BY d LIMIT :lim OFFSET :off")
        args = {"blo": cycle_bin_days(lo_bin)[0] * DAY, "bhi": cycle_bin_days(hi_bin)[1] * DAY,
                "lim": 2 - n % 2, "off": k - before}
        vals = [num(r[0]) for r in c.conn.execute(text(sql), c.params(None, args))]
    else:
        sel = c.select(OPP_DIMS, rep_col="o.owner_rep_id", account_col="o.account_id", by=None)
        sql = sel.sql("o.closed_at - o.created_at AS d", "opportunities o", _WON_IN_P, group=False)
        sql += " ORDER BY d LIMIT :lim OFFSET :off"
        vals = [num(r[0]) for r in c.conn.execute(text(sql), c.params(sel, {"lim": 2 - n % 2, "off": k}))]
    from statistics import median  # here: it loads fractions and decimal, which only this needs

    return median(vals) / DAY


def _cycle_bins(c: Calc, k: int, count: int) -> tuple[int, int, int] | None:
    """From the cycle histogram: the whole-day bins holding ranks k .. k + count - 1 of the period's
    won deals by cycle, and how many deals lie in lower bins. None when the rollups do not cover it."""
    got = c.roll("closed", "won", by="cbin")
    if got is None:
        return None
    bins = sorted((int(r["k"]), int(r["won"])) for r in got[1] or [] if r["k"] is not None)
    before, lo_bin, lo_before = 0, None, 0
    for b, cnt in bins:
        if lo_bin is None and before + cnt > k:
            lo_bin, lo_before = b, before
        if before + cnt > k + count - 1:
            return lo_bin, b, lo_before
        before += cnt
    return None


@kpi("revenue_per_rep")
def revenue_per_rep(c: Calc) -> Measure:
    rev = c.kpi("revenue")
    reps = _active_reps(c)
    value = ratio(rev.value, reps[0])
    rows = None
    if c.by:
        per = dict(reps[1] or [])
        rows = [(k, ratio(v, per.get(k, 0))) for k, v in (rev.rows or [])]
    m = Measure(value, n=int(reps[0]), details={"revenue": rev.value, "active_reps": int(reps[0])}, rows=rows)
    if value is None:
        m.reason = "no_active_reps"
    return m


def _active_reps(c: Calc, by: str | None = "same") -> tuple[float, list[tuple[str, float]] | None]:
    sel = c.select(REP_DIMS, by=by)
    t, rows = c.run(sel, "COUNT(*) AS n", "reps r",
                    ["(r.hired_on IS NULL OR r.hired_on < :e)", "(r.left_on IS NULL OR r.left_on >= :s)"])
    return num(t["n"]), _rows(rows, lambda r: num(r["n"]))


@kpi("time_to_close")
def time_to_close(c: Calc) -> Measure:
    got = c.roll("ttc", "n")
    if got is not None:
        t, rows = got
    else:
        dims = dict(OPP_DIMS, channel="l.channel")
        sel = c.select(dims, rep_col="o.owner_rep_id", account_col="o.account_id")
        t, rows = c.run(sel, "SUM(o.closed_at - l.created_at) AS d, COUNT(*) AS n",
                        "opportunities o JOIN leads l ON l.lead_id = o.lead_id", _WON_IN_P)
    n = int(t["n"])
    if n == 0:
        return _none("no_won_deals_with_lead")
    return Measure(_mean_days(t), n=n, details={"deals": n}, rows=_rows(rows, _mean_days))


@kpi("revenue_growth")
def revenue_growth(c: Calc) -> Measure:
    base = periods.comparison_base(c.period, c.compare)
    now, before = c.kpi("revenue"), c.kpi("revenue", period=base)
    details = {"revenue": now.value, "base_revenue": before.value, "base_period": base.label}
    if now.value is None or before.value is None:
        return Measure(None, details=details, reason="no_revenue_data", reason_args={"period": base.label})
    rows = None
    if c.by:
        prev = dict(before.rows or [])
        rows = [(k, (v - prev[k]) / prev[k] if prev.get(k) and v is not None else None) for k, v in now.rows or []]
    if not before.value:
        return Measure(None, details=details, rows=rows, reason="zero_base_revenue",
                       reason_args={"period": base.label})
    return Measure((now.value - before.value) / before.value, details=details, rows=rows)


@kpi("target_attainment")
def target_attainment(c: Calc) -> Measure:
    from kpi_engine.targets import target_for

    rev = c.kpi("revenue")
    tgt = target_for(c, "revenue", "sum")
    details = {"revenue": rev.value, "target": tgt.total}
    if tgt.total is None:
        return Measure(None, details=details, reason="no_target", reason_args={"metric": "revenue"})
    rows = None
    if c.by:
        rows = [(k, ratio(v, tgt.by_key.get(k))) for k, v in (rev.rows or []) if tgt.by_key.get(k)]
    return Measure(ratio(rev.value, tgt.total), details=details, rows=rows)


@kpi("forecast_accuracy")
def forecast_accuracy(c: Calc) -> Measure:
    p = c.period
    if p.grain not in periods.GRAINS or p.grain == "day" or p.full_end.timestamp() > c.as_of_ts:
        return _none("period_not_complete", period=p.label)
    team = (c.filters.get("team") or ("",))[0]
    others = c.filters.without("team")

    def scoped(tm: str) -> Filters:
        return Filters({**others.values, "team": (tm,)}) if tm else others

    teams = [team]
    if c.by == "team":
        teams = [r[0] for r in c.conn.execute(text("SELECT DISTINCT team FROM forecasts WHERE team <> ''"))]
    results = {tm: (_forecast(c, p, tm), c.kpi("revenue", filters=scoped(tm), by=None).value) for tm in teams}
    if c.by == "team":
        rows = [(tm, _accuracy(f, a)) for tm, (f, a) in results.items() if f is not None and a]
        f_all, a_all = _forecast(c, p, team), c.kpi("revenue", by=None).value
    else:
        rows = None
        f_all, a_all = results[team]
    details = {"forecast": f_all, "actual": a_all,
               "bias": (f_all - a_all) / a_all if f_all is not None and a_all else None}
    if f_all is None:
        return Measure(None, details=details, rows=rows, reason="no_forecast", reason_args={"period": p.label})
    if not a_all:
        return Measure(None, details=details, rows=rows, reason="zero_actual", reason_args={"period": p.label})
    return Measure(_accuracy(f_all, a_all), details=details, rows=rows)


def _accuracy(f: float | None, a: float | None) -> float | None:
    if f is None or not a:
        return None
    return max(0.0, 1 - abs(a - f) / a)


def _forecast(c: Calc, p: Period, team: str) -> float | None:
    """The latest forecast for exactly P submitted at or before P.start; else the earliest one."""
    q = "SELECT amount FROM forecasts WHERE period = :k AND team = :t"
    args = {"k": p.label, "t": team, "s": p.start_ts}
    row = c.conn.execute(text(q + " AND submitted_at <= :s ORDER BY submitted_at DESC LIMIT 1"), args).first()
    if row is None:
        row = c.conn.execute(text(q + " ORDER BY submitted_at ASC LIMIT 1"), args).first()
    return None if row is None else num(row[0])


@kpi("pipeline_velocity")
def pipeline_velocity(c: Calc) -> Measure:
    end = c.period.end
    look = Period("lookback", end - timedelta(days=90), end, "days", end, days=90)
    rolled = _velocity_rolled(c, look)
    if rolled is not None:
        return rolled
    sel = c.select(OPP_DIMS, rep_col="o.owner_rep_id", account_col="o.account_id")
    # open at P.end = created before it and not closed before it: the deals open now (status
    # 'open' has no closed_at) plus those closed at or after P.end; both are ranges of the
    # (status, closed_at, .., created_at) index, small for recent periods, never the whole history
    # (two ranges as a UNION ALL: as one OR, SQLite walks the index once per branch and then again)
    opened, orows = c.run(sel, "COUNT(*) AS n",
                          "(SELECT owner_rep_id, created_at FROM opportunities WHERE status = 'open'"
                          " UNION ALL SELECT owner_rep_id, created_at FROM opportunities"
                          " WHERE status IN ('won', 'lost') AND closed_at >= :e) o", ["o.created_at < :e"])
    open_n = int(num(opened["n"]))
    w, a, cyc = c.kpi("win_rate", look), c.kpi("avg_deal_size", look), c.kpi("sales_cycle", look)

    # NULL keys (deals without a rep, reps without a team) under "" as in the other parts' rows
    return _velocity(c, open_n, {_key(r): num(r["n"]) for r in orows or []}, w, a, cyc, look)


def _vel(n, wv, av, lv):
    return None if None in (wv, av, lv) or not lv else n * wv * av / lv


def _velocity(c: Calc, open_n: int, op: dict[str, float], w: Measure, a: Measure, cyc: Measure,
              look: Period) -> Measure:
    details = {"open_deals": open_n, "win_rate": w.value, "avg_deal_size": a.value, "sales_cycle_days": cyc.value,
               "lookback_start": look.start.isoformat()}
    vel = _vel
    rows = None
    if c.by:
        wr, ar, lr = dict(w.rows or []), dict(a.rows or []), dict(cyc.rows or [])
        # every key with an open deal or a deal closed in the lookback; a team with neither has
        # no velocity to show
        keys = list(op) + [k for k in wr if k not in op]
        rows = [(k, vel(op.get(k, 0), wr.get(k), ar.get(k), lr.get(k))) for k in keys]
    value = vel(open_n, w.value, a.value, cyc.value)
    if value is None:
        return Measure(None, n=open_n, details=details, rows=rows, reason="no_recent_wins")
    return Measure(value, n=open_n, details=details, rows=rows)


def _velocity_rolled(c: Calc, look: Period) -> Measure | None:
    """Velocity's four parts from the rollups in one pass: the deals open at P.end (created before it
    minus closed before it: a deal never closes before it is created, the importer checks) and the
    lookback's won, lost, amounts and cycles from one read of the closed deals."""
    created = c.roll("created", "n", until=c.e)
    closed = c.roll("closed", ("won", "lost"), until=c.e)
    lc = copy.copy(c)
    lc.period, lc.s, lc.e = look, look.start_ts, look.end_ts
    lb = lc.roll("closed", ("won", "lost"))
    if created is None or closed is None or lb is None:
        return None
    open_n = int(created[0]["n"] - closed[0]["won"] - closed[0]["lost"])
    op: dict[str, float] = {}
    if c.by:
        done = {_key(r): r["won"] + r["lost"] for r in closed[1] or []}
        for r in created[1] or []:
            n = r["n"] - done.get(_key(r), 0.0)
            if n:
                op[_key(r)] = n

    def parts(r: dict) -> tuple[float | None, float | None, float | None]:
        won, lost = r["won"], r["lost"]
        return (ratio(won, won + lost), ratio(r["amt"], won), r["cyc"] / won / DAY if won else None)

    t, rows = lb
    wv, av, lv = parts(t)
    per = {_key(r): parts(r) for r in rows or []}
    w = Measure(wv, rows=[(k, v[0]) for k, v in per.items()])
    a = Measure(av, rows=[(k, v[1]) for k, v in per.items() if v[1] is not None])
    cyc = Measure(lv, rows=[(k, v[2]) for k, v in per.items() if v[2] is not None])
    return _velocity(c, open_n, op, w, a, cyc, look)


def _key(r: dict) -> str:
    return "" if r["k"] is None else str(r["k"])


# ------------------------------------------------------------------ leads

_LEADS_IN_P = ["l.created_at >= :s", "l.created_at < :e"]


def _leads(c: Calc, by: str | None = "same", qualified: bool = True):
    sel = c.select(LEAD_DIMS, rep_col="l.owner_rep_id", by=by)
    got = c.roll("leads", "n", by=by)
    if got is None:
        q = ", COUNT(CASE WHEN l.qualified_at < :asof THEN 1 END) AS q" if qualified else ""
        return c.run(sel, "COUNT(*) AS n" + q, "leads l", _LEADS_IN_P)
    t, rows = got
    latest = c.scalar("SELECT MAX(qualified_at) FROM leads") if qualified else None
    if latest is not None and int(latest) >= c.as_of_ts:
        # the rollups count leads qualified at any time; those qualified at or after as_of are not
        # yet (only when as_of is before the latest qualification: a range of ix_leads_qualified)
        later = sel.sql("COUNT(*) AS n", "leads l", [*_LEADS_IN_P, "l.qualified_at >= :asof"])
        late = c.conn.execute(text(later), c.params(sel)).mappings().all()
        per = {("" if r.get("k") is None else str(r["k"])): num(r["n"]) for r in late}
        for r in rows or []:
            r["q"] -= per.get("" if r["k"] is None else str(r["k"]), 0.0)
        t["q"] -= sum(per.values()) if sel.key else per.get("", 0.0)
    return t, rows


@kpi("lead_volume")
def lead_volume(c: Calc) -> Measure:
    t, rows = _leads(c, qualified=False)
    return Measure(num(t["n"]), n=int(t["n"]), rows=_rows(rows, lambda r: num(r["n"])))


@kpi("lead_conversion")
def lead_conversion(c: Calc) -> Measure:
    t, rows = _leads(c)
    n, q = int(t["n"]), int(num(t["q"]))
    return _quotient(q, n, "no_leads", {"leads": n, "qualified": q},
                     _ratio_rows(rows, "q", "n"), _row_n(rows, lambda r: r["n"]))


@kpi("lead_to_qualified_time")
def lead_to_qualified_time(c: Calc) -> Measure:
    got = c.roll("qualified", "n")
    if got is not None:
        t, rows = got
    else:
        sel = c.select(LEAD_DIMS, rep_col="l.owner_rep_id")
        t, rows = c.run(sel, "SUM(l.qualified_at - l.created_at) AS d, COUNT(*) AS n", "leads l",
                        ["l.qualified_at >= :s", "l.qualified_at < :e"])
    n = int(t["n"])
    if n == 0:
        return _none("no_qualified_leads")
    return Measure(_mean_days(t), n=n, details={"leads": n}, rows=_rows(rows, _mean_days))


@kpi("cost_per_lead")
def cost_per_lead(c: Calc) -> Measure:
    sel = c.select({"channel": "sp.channel"})
    spend, srows = c.run(sel, f"SUM({spread_spend()}) AS amt", "spend sp",
                         ["sp.category = 'marketing'", "sp.start_at < :e", "sp.end_at > :s"])
    leads, lrows = _leads(c, by=c.by, qualified=False)
    n = int(leads["n"])
    details = {"marketing_spend": num(spend["amt"]), "leads": n}
    rows = None
    if c.by:
        per_leads = {str(r["k"]): num(r["n"]) for r in lrows or []}
        rows = [(str(r["k"]), ratio(r["amt"], per_leads.get(str(r["k"]), 0))) for r in srows or []]
    if n == 0:
        return Measure(None, n=0, details=details, rows=rows, reason="no_leads")
    return Measure(num(spend["amt"]) / n, n=n, details=details, rows=rows)


# ------------------------------------------------------------------ customers and purchases
#
# The purchases table (models.Purchase, kept by derive.refresh_purchases) links each purchase to the
# same customer's previous and next one (prev_t, next_t), so per-customer questions become range
# counts over t on one covering index:
#   - a customer's first purchase in [lo, hi): t in [lo, hi) and (prev_t IS NULL or prev_t < lo);
#   - its last purchase before t0: t < t0 and (next_t IS NULL or next_t >= t0).


@kpi("cac")
def cac(c: Calc) -> Measure:
    spend_sql = (f"SELECT sp.channel AS channel, sp.category AS category, SUM({spread_spend()}) AS amt"
                 " FROM spend sp WHERE sp.start_at < :e AND sp.end_at > :s GROUP BY sp.channel, sp.category")
    by_channel: dict[str, float] = {}
    by_category: dict[str, float] = {}
    for r in c.conn.execute(text(spend_sql), c.params()).mappings():
        by_channel[r["channel"]] = by_channel.get(r["channel"], 0.0) + num(r["amt"])
        by_category[r["category"]] = by_category.get(r["category"], 0.0) + num(r["amt"])
    total = sum(by_channel.values())
    # customers whose first purchase ever is in P
    got = c.roll("first", "n", by=None)
    new = int(got[0]["n"]) if got is not None else int(num(c.scalar(
        "SELECT COUNT(*) FROM purchases p WHERE p.t >= :s AND p.t < :e AND p.prev_t IS NULL")))
    details = {"spend": total, "new_customers": new, "spend_by_channel": by_channel,
               "spend_by_category": by_category}
    if new == 0:
        return Measure(None, n=0, details=details, reason="no_new_customers")
    return Measure(total / new, n=new, details=details)


@kpi("repeat_rate")
def repeat_rate(c: Calc) -> Measure:
    # one row per customer with a purchase in P: its first purchase in P; it is a repeat customer
    # when that purchase has a predecessor (necessarily before P.start)
    got = _repeat_rolled(c)
    if got is not None:
        t, rows = got
    else:
        sel = c.select(CUSTOMER_DIMS, account_col="p.account_id")
        t, rows = c.run(sel, "COUNT(*) AS n, SUM(CASE WHEN p.prev_t IS NOT NULL THEN 1 ELSE 0 END) AS m",
                        "purchases p", ["p.t >= :s", "p.t < :e", "(p.prev_t IS NULL OR p.prev_t < :s)"])
    n, m = int(t["n"]), int(num(t["m"]))
    return _quotient(m, n, "no_customers", {"customers": n, "repeat_customers": m},
                     _ratio_rows(rows, "m", "n"), _row_n(rows, lambda r: r["n"]))


def _repeat_rolled(c: Calc) -> tuple[dict, list | None] | None:
    """Repeat rate's counts from the rollups. The customers buying in P are P's purchases minus those
    whose previous purchase is in P too; over P's whole days W that is the purchase pairs with both
    ends in W, read from the "gaps" fact (pairs by the later day, keyed by the earlier day): one
    running total per earlier day of W. Repeat customers are those minus P's first purchases."""
    st = c.rolls
    if st is None or st.span("gaps") is None:
        return None
    need = set(c.filters.values) | ({c.by} if c.by else set())
    cube = "a" if not need else "as" if need <= {"segment"} else "ar" if need <= {"region"} else None
    ds, de, parts = st.clock.split(c.s, c.e)
    if cube is None or any(a == c.s for a, _ in parts) or de - 1 - ds > HORIZON:
        return None  # two dimensions at once, P starts inside a day, or P is longer than the pairs kept
    purch, first = c.roll("purch", "n"), c.roll("first", "n")
    if purch is None or first is None:
        return None
    inside: dict[str, float] = {}
    gfirst, glast = st.span("gaps")
    y = min(de - 1, glast)
    if de > ds and y >= gfirst:
        dim = {"as": "segment", "ar": "region"}.get(cube)
        vals = c.filters.get(dim) if dim else None
        marks = ", ".join(f":v{i}" for i in range(len(vals or ())))
        sql = ("SELECT x.k2, SUM(x.c0) FROM rollup_cum x WHERE x.fact = 'gaps' AND x.cube = :c AND x.day = :y"
               f" AND x.k1 >= :lo AND x.k1 < :hi{f' AND x.k2 IN ({marks})' if vals else ''} GROUP BY x.k2")
        args = {"c": cube, "y": y, "lo": str(ds + _BIAS), "hi": str(de + _BIAS),
                **{f"v{i}": v for i, v in enumerate(vals or ())}}
        for k, v in c.conn.execute(text(sql), args):
            k = k if c.by else ""  # by segment or region: per key; else all of them (a filter's)
            inside[k] = inside.get(k, 0.0) + num(v)
    if parts:  # the purchases of P's last, partial day whose previous purchase is in P as well
        sel = c.select(CUSTOMER_DIMS, account_col="p.account_id")
        tail = sel.sql("COUNT(*) AS n", "purchases p", ["p.t >= :lo", "p.t < :e", "p.prev_t >= :s"])
        for r in c.conn.execute(text(tail), c.params(sel, {"lo": parts[-1][0]})).mappings():
            k = "" if not sel.key or r["k"] is None else str(r["k"])
            inside[k] = inside.get(k, 0.0) + num(r["n"])
    new = {_key(r): r["n"] for r in first[1] or []} if c.by else {"": first[0]["n"]}
    bought = {_key(r): r["n"] for r in purch[1] or []} if c.by else {"": purch[0]["n"]}
    rows = []
    for k, n_p in bought.items():
        n = n_p - inside.get(k, 0.0)
        if n:
            rows.append({"k": k or None, "n": n, "m": n - new.get(k, 0.0)})
    t = {"n": sum(r["n"] for r in rows), "m": sum(r["m"] for r in rows)}
    return t, rows if c.by else None


@kpi("retention")
def retention(c: Calc) -> Measure:
    rc = c.config.retention
    got = _retention_rolled(c) if rc.mode == "activity" else None
    if got is not None:
        t, rows = got
    elif rc.mode == "activity":
        w = rc.window_days * 86400
        t, rows = _customers_window(c, w)
    else:
        t, rows = _customers_churn(c)
    n, m = int(t["n"]), int(num(t["m"]))
    details = {"customers_at_start": n, "retained": m, "lost": n - m, "mode": rc.mode}
    out = _quotient(m, n, "no_active_customers", details, _ratio_rows(rows, "m", "n"),
                    _row_n(rows, lambda r: r["n"]))
    if rows is not None:
        out.row_details = {
            ("" if r["k"] is None else str(r["k"])): {"customers_at_start": int(r["n"]), "retained": int(num(r["m"])),
                                                      "lost": int(r["n"]) - int(num(r["m"]))}
            for r in rows}
    return out


def _retention_rolled(c: Calc) -> tuple[dict, list | None] | None:
    """Retention (activity mode, P no longer than the window) from runs of activity: a customer is
    active at t within a run (start, last purchase + window]. A(s) is the runs started before s
    minus those ended before s; a customer of A(s) is lost by e when its run ends in [s, e) and it
    does not come back (a purchase after a gap longer than the window, long_gaps) before e."""
    w = c.config.retention.window_days * 86400
    if c.e - w > c.s:
        return None
    starts = c.roll("runs_s", "n", until=c.s)
    ends_s = c.roll("runs_e", "n", until=c.s)
    ends_e = c.roll("runs_e", "n", until=c.e)
    if starts is None or ends_s is None or ends_e is None:
        return None
    dims = {"segment": "g.segment", "region": "g.region"}
    sel = c.select(dims)
    back = sel.sql("COUNT(*) AS n", "long_gaps g", ["g.t_end >= :s", "g.t_end < :e", "g.next_t < :e"])
    came_back = {("" if not sel.key or r["k"] is None else str(r["k"])): num(r["n"])
                 for r in c.conn.execute(text(back), c.params(sel)).mappings()}

    def per(got) -> dict[str, float]:
        return {_key(r): r["n"] for r in got[1] or []} if c.by else {"": got[0]["n"]}

    s_, es, ee = per(starts), per(ends_s), per(ends_e)
    rows = []
    for k, v in s_.items():
        n = v - es.get(k, 0.0)
        if n:
            lost = ee.get(k, 0.0) - es.get(k, 0.0) - came_back.get(k, 0.0)
            rows.append({"k": k or None, "n": n, "m": n - lost})
    t = {"n": sum(r["n"] for r in rows), "m": sum(r["m"] for r in rows)}
    return t, rows if c.by else None


def _customers_window(c: Calc, w: int):
    """A(t) = customers with a purchase in [t - w, t) (which implies a first purchase before t).

    One row per customer of A(P.start): its last purchase p before P.start, inside the window. The
    customer is in A(P.end) when it bought in [P.end - w, P.end). When P is no longer than the
    window, P.end - w <= P.start, so that is: p itself is recent enough (t >= P.end - w), or the
    next purchase after p (the first at or after P.start) comes before P.end. A longer P asks the
    purchases of the customer directly (an index seek per customer).
    """
    sel = c.select(CUSTOMER_DIMS, account_col="p.account_id")
    where = ["p.t >= :sw", "p.t < :s", "(p.next_t IS NULL OR p.next_t >= :s)"]
    if c.e - w <= c.s:
        cond = "p.t >= :ew OR p.next_t < :e"
    else:
        cond = ("EXISTS (SELECT 1 FROM purchases q WHERE q.account_id = p.account_id"
                " AND q.t >= :ew AND q.t < :e)")
    return c.run(sel, f"COUNT(*) AS n, SUM(CASE WHEN {cond} THEN 1 ELSE 0 END) AS m", "purchases p", where,
                 params={"sw": c.s - w, "ew": c.e - w})


def _customers_churn(c: Calc):
    """A(t) = customers with a first purchase before t not churned at t: one row per customer (its
    first purchase) joined to its account."""
    sel = c.select(CUSTOMER_DIMS, account_col="p.account_id")
    sel.joins = [j for j in sel.joins if "accounts a" not in j] + ["LEFT JOIN accounts a ON a.account_id = p.account_id"]
    return c.run(sel, "COUNT(*) AS n, SUM(CASE WHEN a.churned_at IS NULL OR a.churned_at >= :e THEN 1 ELSE 0 END)"
                      " AS m", "purchases p",
                 ["p.t < :s", "p.prev_t IS NULL", "(a.churned_at IS NULL OR a.churned_at >= :s)"])


@kpi("aov")
def aov(c: Calc) -> Measure:
    got = c.roll("orders", "n")
    if got is not None:
        t, rows = got
    else:
        sel = c.select(CUSTOMER_DIMS, account_col="od.account_id")
        t, rows = c.run(sel, "SUM(od.amount) AS amt, COUNT(*) AS n", "orders od",
                        ["od.ordered_at >= :s", "od.ordered_at < :e"])
    n = int(t["n"])
    return _quotient(t["amt"], n, "no_orders", {"orders": n, "order_revenue": num(t["amt"])},
                     _ratio_rows(rows, "amt", "n"))


@kpi("csat")
def csat(c: Calc) -> Measure:
    got = c.roll("surveys", "n")
    if got is not None:
        t, rows = got
    else:
        sel = c.select(SURVEY_DIMS, rep_col="sv.rep_id", account_col="sv.account_id")
        t, rows = c.run(sel, "COUNT(*) AS n, SUM(CASE WHEN sv.score >= 4 THEN 1 ELSE 0 END) AS good,"
                             " SUM(sv.score) AS total", "surveys sv",
                        ["sv.responded_at >= :s", "sv.responded_at < :e"])
    n = int(t["n"])
    return _quotient(t["good"], n, "no_responses", {"responses": n, "mean_score": ratio(t["total"], n)},
                     _ratio_rows(rows, "good", "n"), _row_n(rows, lambda r: r["n"]))


# ------------------------------------------------------------------ reps: activity, training, content


def _per_active_rep(c: Calc, counted: tuple[dict, list | None], what: str, kind_dim: str,
                    details: dict) -> Measure:
    t, rows = counted
    reps_total, reps_rows = _active_reps(c, by=c.by if c.by in ("team", "region") else None)
    value = ratio(t["n"], reps_total)
    out_rows = None
    if rows is not None:
        if c.by in ("team", "region"):
            per = dict(reps_rows or [])
            out_rows = [(str(r["k"]), ratio(r["n"], per.get(str(r["k"]), 0))) for r in rows]
        elif c.by == kind_dim:
            out_rows = [(str(r["k"]), ratio(r["n"], reps_total)) for r in rows]
        else:  # by rep: a rep's own count
            out_rows = [(str(r["k"]), num(r["n"])) for r in rows]
    m = Measure(value, n=int(reps_total), details={what: int(num(t["n"])), "active_reps": int(reps_total),
                                                   **details}, rows=out_rows)
    if value is None:
        m.reason = "no_active_reps"
    return m


def _events(c: Calc, dims: dict, rep_col: str, table: str, time_col: str, kind_col: str,
            detail: str, what: str, kind_dim: str) -> Measure:
    """Rows of an event table in P per active rep, with counts by kind in the details.

    Without a filter about reps the total and the counts by kind come from the hourly counts
    (Calc.hourly). With one, from the table's (rep_id, time, kind) index, rep by rep. A breakdown
    by rep, team or region adds up per-rep counts (one index range each) by the reps' key, so
    no event row is joined or sorted.
    """
    rolled = _events_rolled(c, {"activities": "acts", "content_events": "content"}[table.split()[0]],
                            detail, what, kind_dim)
    if rolled is not None:
        return rolled
    src, kind, at = table.split()[0], kind_col.split(".")[1], time_col.split(".")[1]
    by_kind = c.by == kind_dim
    kind_in = c.filters.get(kind_dim)
    marks = ", ".join(f":kind{i}" for i in range(len(kind_in or ())))
    kind_sql = f" AND x.{kind} IN ({marks})" if kind_in else ""
    extra = {f"kind{i}": k for i, k in enumerate(kind_in or ())}
    rep_filtered = bool(set(c.filters.values) - {kind_dim})
    rsel = c.select(REP_DIMS, by=None if by_kind else "same")
    in_range = f"x.{at} >= :s AND x.{at} < :e"
    if not rep_filtered:
        counts = {k: int(v[0]) for k, v in sorted(c.hourly(src, kind_in).items()) if v[0]}
    else:  # the reps the filters select, each an index range
        reps = rsel.sql("r.rep_id", "reps r", group=False)
        sql = (f"SELECT x.{kind} AS k, COUNT(*) AS n FROM {src} x WHERE x.rep_id IN ({reps})"
               f" AND {in_range}{kind_sql} GROUP BY x.{kind}")
        counts = {str(k): int(n) for k, n in sorted(c.conn.execute(text(sql), c.params(rsel, extra))) if n}
    t: dict = {"n": sum(counts.values())}
    rows = None
    if by_kind:
        rows = [{"k": k, "n": v} for k, v in counts.items()]
    elif c.by:
        per_rep = f"(SELECT COUNT(*) FROM {src} x WHERE x.rep_id = r.rep_id AND {in_range}{kind_sql})"
        rows = [dict(r) for r in c.conn.execute(text(rsel.sql(f"SUM({per_rep}) AS n", "reps r")),
                                                 c.params(rsel, extra)).mappings() if r["n"]]
        # events of reps missing from the reps table count under no team or region, as with a join
        orphans = t["n"] - sum(int(r["n"]) for r in rows)
        if orphans and c.by == "rep":  # under their own rep_id: the table, grouped
            sel = c.select(dims, rep_col=rep_col)
            rows = c.run(sel, "COUNT(*) AS n", table, [f"{time_col} >= :s", f"{time_col} < :e"])[1]
        elif orphans:
            none = sum(int(r["n"]) for r in rows if r["k"] is None)
            rows = [r for r in rows if r["k"] is not None] + [{"k": None, "n": orphans + none}]
    details = {detail: counts} if c.details else {}
    return _per_active_rep(c, (t, rows), what, kind_dim, details)


def _events_rolled(c: Calc, fact: str, detail: str, what: str, kind_dim: str) -> Measure | None:
    """_events from the rollups: counts by kind from the kind cube, a breakdown by rep, team or
    region from the rep cubes; None when a filter and a breakdown need a cube there is not."""
    counts = None
    if c.details or c.by == kind_dim:
        got = c.roll(fact, "n", by=kind_dim)
        if got is None:
            return None
        counts = {str(r["k"]): int(r["n"]) for r in sorted(got[1] or [], key=lambda r: str(r["k"]))}
    rows = None
    if c.by == kind_dim:
        rows = [{"k": k, "n": v} for k, v in (counts or {}).items()]
        total = sum((counts or {}).values())
    else:
        got = c.roll(fact, "n")
        if got is None:
            return None
        total, rows = int(got[0]["n"]), got[1]
    details = {detail: counts} if c.details else {}
    return _per_active_rep(c, ({"n": total}, rows), what, kind_dim, details)


@kpi("rep_activity")
def rep_activity(c: Calc) -> Measure:
    return _events(c, ACT_DIMS, "act.rep_id", "activities act", "act.occurred_at", "act.type",
                   "by_type", "activities", "type")


@kpi("content_engagement")
def content_engagement(c: Calc) -> Measure:
    return _events(c, CONTENT_DIMS, "ce.rep_id", "content_events ce", "ce.occurred_at", "ce.action",
                   "by_action", "events", "action")


@kpi("training_effectiveness")
def training_effectiveness(c: Calc) -> Measure:
    got = c.roll("trainings", "n")
    if got is not None:
        t, rows = got
    else:
        sel = c.select(TRAINING_DIMS, rep_col="tr.rep_id")
        t, rows = c.run(sel, "SUM(tr.rating) AS r, COUNT(*) AS n", "trainings tr",
                        ["tr.held_on >= :s", "tr.held_on < :e"])
    n = int(t["n"])
    if n == 0:
        return _none("no_training_feedback")
    return Measure(num(t["r"]) / n, n=n, details={"responses": n},
                   rows=_ratio_rows(rows, "r", "n"))


@kpi("stage_duration")
def stage_duration(c: Calc) -> Measure:
    """Exits in P: per stage from the hourly counts (Calc.hourly) unless a filter is about reps;
    otherwise from the (exited_at, entered_at, stage, ..) covering index, the opportunity (for its
    owner's rep, team, region) joined only when a filter or the breakdown needs it."""
    rolled = _stage_rolled(c)
    if rolled is not None:
        return rolled
    sel = c.select(STAGE_DIMS, rep_col="o.owner_rep_id", by=None if c.by == "stage" else "same")
    base = "stage_changes sc"
    if sel.uses("o.", "r."):
        base += " LEFT JOIN opportunities o ON o.opportunity_id = sc.opportunity_id"
    where = ["sc.exited_at >= :s", "sc.exited_at < :e"]
    select = "SUM(sc.exited_at - sc.entered_at) AS d, COUNT(*) AS n"
    rows = None
    if not set(c.filters.values) - {"stage"}:
        per = {k: {"k": k, "d": v[1], "n": v[0]}
               for k, v in sorted(c.hourly("stage_changes", c.filters.get("stage")).items()) if v[0]}
    elif c.details or c.by == "stage":
        sql = sel.sql("sc.stage AS k, " + select, base, where, group=False) + " GROUP BY sc.stage"
        per = {str(r["k"]): dict(r) for r in c.conn.execute(text(sql), c.params(sel)).mappings()}
    else:
        per = None
        t, rows = c.run(sel, select, base, where)
    if per is not None:
        t = {"d": sum(num(r["d"]) for r in per.values()), "n": sum(num(r["n"]) for r in per.values())}
        if c.by == "stage":
            rows = list(per.values())
        elif c.by:  # by rep, team or region: the table, grouped
            rows = c.run(sel, select, base, where)[1]
    return _stage_measure(c, t, rows, per)


def _stage_measure(c: Calc, t: dict, rows: list | None, per: dict | None) -> Measure:
    n = int(t["n"])
    if n == 0:
        return _none("no_stage_exits")
    details = {"exits": n}
    if c.details and per is not None:
        details["mean_days_by_stage"] = {k: round(_mean_days(r), 2) for k, r in per.items()}
    return Measure(_mean_days(t), n=n, details=details, rows=_rows(rows, _mean_days))


def _stage_rolled(c: Calc) -> Measure | None:
    """Time in stage from the rollups: per stage from the stage cube (the details, a breakdown by
    stage), by team or region from the team cube."""
    per = None
    if c.details or c.by == "stage" or not c.by:
        got = c.roll("exits", "n", by="stage")
        if got is None:
            return None
        per = {str(r["k"]): r for r in sorted(got[1] or [], key=lambda r: str(r["k"]))}
        t = {"d": sum(r["d"] for r in per.values()), "n": sum(r["n"] for r in per.values())}
    rows = None
    if c.by == "stage":
        rows = list(per.values()) if per is not None else []
    elif c.by:
        got = c.roll("exits", "n")
        if got is None:
            return None
        t, rows = got
    return _stage_measure(c, t, rows, per)
