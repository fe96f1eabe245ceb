"""The computation of every KPI in the catalogue, registered under its key.

Each function answers one period for one selection (filters, optional
breakdown) and returns a Measure; the engine adds comparisons, targets, the
no-data rule and the low-sample guard around it. Formulas: kpis.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from statistics import median

from sqlalchemy import text

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
from kpi_engine.periods import Period

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


def _none(reason: str, n: int | None = 0, **args) -> Measure:
    return Measure(None, n=n, reason=reason, reason_args=args)


def _quotient(a, b, why: str, details: dict, rows=None) -> Measure:
    """a ÷ b as a Measure whose sample is b; null with reason `why` when b is 0 (kpis.md: no data is not zero)."""
    value = ratio(a, b)
    return Measure(value, n=int(num(b)), details=details, rows=rows, reason=None if value is not None else why)


# ------------------------------------------------------------------ won / closed opportunities

_WON_IN_P = ["o.status = 'won'", "o.closed_at >= :s", "o.closed_at < :e"]


def _won(c: Calc, by: str | None = "same") -> tuple[dict, list | None]:
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
                     _rows(rows, lambda r: ratio(r["amt"], r["n"])))


@kpi("win_rate")
def win_rate(c: Calc) -> Measure:
    sel = c.select(OPP_DIMS, rep_col="o.owner_rep_id", account_col="o.account_id")
    closed = ["o.closed_at >= :s", "o.closed_at < :e"]
    if sel.key:
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
                     _rows(rows, lambda r: ratio(r["won"], num(r["won"]) + num(r["lost"]))))


def _mean_days(r: dict) -> float | None:
    """A mean from SUM(seconds) AS d and COUNT(*) AS n, in days; integer sums are exact on both databases."""
    return num(r["d"]) / num(r["n"]) / DAY if num(r["n"]) else None


@kpi("sales_cycle")
def sales_cycle(c: Calc) -> Measure:
    sel = c.select(OPP_DIMS, rep_col="o.owner_rep_id", account_col="o.account_id")
    t, rows = c.run(sel, "SUM(o.closed_at - o.created_at) AS d, COUNT(*) AS n", "opportunities o", _WON_IN_P)
    n = int(t["n"])
    if n == 0:
        return _none("no_won_deals")
    details = {"deals": n, "median_days": _median_cycle(c, sel, n)} if c.details else {"deals": n}
    return Measure(_mean_days(t), n=n, details=details, rows=_rows(rows, _mean_days))


def _median_cycle(c: Calc, sel, n: int) -> float:
    """The exact median in SQL by ordered offset: portable, and it never ships the deals to Python.
    The sort is of the period's won deals only (a range of the covering index), done only when
    the details are read."""
    sql = sel.sql("o.closed_at - o.created_at AS d", "opportunities o", _WON_IN_P, group=False)
    sql += " ORDER BY d LIMIT :lim OFFSET :off"
    vals = [num(r[0]) for r in c.conn.execute(text(sql), c.params(sel, {"lim": 2 - n % 2, "off": (n - 1) // 2}))]
    return median(vals) / DAY


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
    details = {"open_deals": open_n, "win_rate": w.value, "avg_deal_size": a.value, "sales_cycle_days": cyc.value,
               "lookback_start": look.start.isoformat()}

    def vel(n, wv, av, lv):
        return None if None in (wv, av, lv) or not lv else n * wv * av / lv

    rows = None
    if c.by:
        op = {str(r["k"]): num(r["n"]) for r in orows or []}
        wr, ar, lr = dict(w.rows or []), dict(a.rows or []), dict(cyc.rows or [])
        # every key with an open deal or a deal closed in the lookback; a team with neither has
        # no velocity to show
        keys = list(op) + [k for k in wr if k not in op]
        rows = [(k, vel(op.get(k, 0), wr.get(k), ar.get(k), lr.get(k))) for k in keys]
    value = vel(open_n, w.value, a.value, cyc.value)
    if value is None:
        return Measure(None, n=open_n, details=details, rows=rows, reason="no_recent_wins")
    return Measure(value, n=open_n, details=details, rows=rows)


# ------------------------------------------------------------------ leads

_LEADS_IN_P = ["l.created_at >= :s", "l.created_at < :e"]


def _leads(c: Calc, by: str | None = "same", qualified: bool = True):
    sel = c.select(LEAD_DIMS, rep_col="l.owner_rep_id", by=by)
    q = ", COUNT(CASE WHEN l.qualified_at < :asof THEN 1 END) AS q" if qualified else ""
    return c.run(sel, "COUNT(*) AS n" + q, "leads l", _LEADS_IN_P)


@kpi("lead_volume")
def lead_volume(c: Calc) -> Measure:
    t, rows = _leads(c, qualified=False)
    return Measure(num(t["n"]), n=int(t["n"]), rows=_rows(rows, lambda r: num(r["n"])))


@kpi("lead_conversion")
def lead_conversion(c: Calc) -> Measure:
    t, rows = _leads(c)
    n, q = int(t["n"]), int(num(t["q"]))
    return _quotient(q, n, "no_leads", {"leads": n, "qualified": q},
                     _rows(rows, lambda r: ratio(r["q"], r["n"])))


@kpi("lead_to_qualified_time")
def lead_to_qualified_time(c: Calc) -> Measure:
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
    new = int(num(c.scalar("SELECT COUNT(*) FROM purchases p WHERE p.t >= :s AND p.t < :e AND p.prev_t IS NULL")))
    details = {"spend": total, "new_customers": new, "spend_by_channel": by_channel,
               "spend_by_category": by_category}
    if new == 0:
        return Measure(None, n=0, details=details, reason="no_new_customers")
    return Measure(total / new, n=new, details=details)


@kpi("repeat_rate")
def repeat_rate(c: Calc) -> Measure:
    # one row per customer with a purchase in P: its first purchase in P; it is a repeat customer
    # when that purchase has a predecessor (necessarily before P.start)
    sel = c.select(CUSTOMER_DIMS, account_col="p.account_id")
    t, rows = c.run(sel, "COUNT(*) AS n, SUM(CASE WHEN p.prev_t IS NOT NULL THEN 1 ELSE 0 END) AS m",
                    "purchases p", ["p.t >= :s", "p.t < :e", "(p.prev_t IS NULL OR p.prev_t < :s)"])
    n, m = int(t["n"]), int(num(t["m"]))
    return _quotient(m, n, "no_customers", {"customers": n, "repeat_customers": m},
                     _rows(rows, lambda r: ratio(r["m"], r["n"])))


@kpi("retention")
def retention(c: Calc) -> Measure:
    rc = c.config.retention
    if rc.mode == "activity":
        w = rc.window_days * 86400
        t, rows = _customers_window(c, w)
    else:
        t, rows = _customers_churn(c)
    n, m = int(t["n"]), int(num(t["m"]))
    details = {"customers_at_start": n, "retained": m, "lost": n - m, "mode": rc.mode}
    out = _quotient(m, n, "no_active_customers", details, _rows(rows, lambda r: ratio(r["m"], r["n"])))
    if rows is not None:
        out.row_details = {
            ("" if r["k"] is None else str(r["k"])): {"customers_at_start": int(r["n"]), "retained": int(num(r["m"])),
                                                      "lost": int(r["n"]) - int(num(r["m"]))}
            for r in rows}
    return out


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
    sel = c.select(CUSTOMER_DIMS, account_col="od.account_id")
    t, rows = c.run(sel, "SUM(od.amount) AS amt, COUNT(*) AS n", "orders od",
                    ["od.ordered_at >= :s", "od.ordered_at < :e"])
    n = int(t["n"])
    return _quotient(t["amt"], n, "no_orders", {"orders": n, "order_revenue": num(t["amt"])},
                     _rows(rows, lambda r: ratio(r["amt"], r["n"])))


@kpi("csat")
def csat(c: Calc) -> Measure:
    sel = c.select(SURVEY_DIMS, rep_col="sv.rep_id", account_col="sv.account_id")
    t, rows = c.run(sel, "COUNT(*) AS n, SUM(CASE WHEN sv.score >= 4 THEN 1 ELSE 0 END) AS good,"
                         " SUM(sv.score) AS total", "surveys sv", ["sv.responded_at >= :s", "sv.responded_at < :e"])
    n = int(t["n"])
    return _quotient(t["good"], n, "no_responses", {"responses": n, "mean_score": ratio(t["total"], n)},
                     _rows(rows, lambda r: ratio(r["good"], r["n"])))


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
    sel = c.select(TRAINING_DIMS, rep_col="tr.rep_id")
    t, rows = c.run(sel, "SUM(tr.rating) AS r, COUNT(*) AS n", "trainings tr",
                    ["tr.held_on >= :s", "tr.held_on < :e"])
    n = int(t["n"])
    if n == 0:
        return _none("no_training_feedback")
    return Measure(num(t["r"]) / n, n=n, details={"responses": n},
                   rows=_rows(rows, lambda r: ratio(r["r"], r["n"])))


@kpi("stage_duration")
def stage_duration(c: Calc) -> Measure:
    """Exits in P: per stage from the hourly counts (Calc.hourly) unless a filter is about reps;
    otherwise from the (exited_at, entered_at, stage, ..) covering index, the opportunity (for its
    owner's rep, team, region) joined only when a filter or the breakdown needs it."""
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
    n = int(t["n"])
    if n == 0:
        return _none("no_stage_exits")
    details = {"exits": n}
    if c.details and per is not None:
        details["mean_days_by_stage"] = {k: round(_mean_days(r), 2) for k, r in per.items()}
    return Measure(_mean_days(t), n=n, details=details, rows=_rows(rows, _mean_days))
