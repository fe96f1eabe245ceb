"""Why a KPI moved: the driver breakdown from the KPI's own formula, period against previous period.

- CAC = spend ÷ new customers: spend by channel, and new customers by the channel of the
  lead behind their first deal, and which of the two moved the ratio more.
- Retention: customers lost, by segment and by region.
- Ratio KPIs (win rate, conversion, CPL, …): numerator and denominator by the KPI's breakdowns,
  for the segments that moved most.
- Other KPIs: the value by each breakdown, largest changes first.

The result is plain JSON (stored with the alert, rendered by bot/alert_blocks.py), built
only from KpiEngine calls. Bounded work: at most MAX_DIMS breakdowns, and the per-segment
numerator/denominator only for the TOP segments that moved most.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from kpi_engine import periods
from kpi_engine.engine import KpiEngine
from kpi_engine.periods import Period

MAX_DIMS = 3
TOP = 5

# ratio KPIs: (numerator, denominator) read from Measure.details (and the value)
_FORMULA: dict[str, tuple[str, str]] = {
    "win_rate": ("won", "closed"),
    "lead_conversion": ("qualified", "leads"),
    "repeat_rate": ("repeat_customers", "customers"),
    "csat": ("satisfied", "responses"),
    "avg_deal_size": ("revenue", "deals"),
    "aov": ("order_revenue", "orders"),
    "cost_per_lead": ("marketing_spend", "leads"),
    "revenue_per_rep": ("revenue", "active_reps"),
    "rep_activity": ("activities", "active_reps"),
    "content_engagement": ("events", "active_reps"),
}


def _parts(kpi: str, value: float | None, d: dict[str, Any]) -> tuple[float | None, float | None]:
    num, den = _FORMULA[kpi]
    if kpi == "win_rate":
        won, lost = d.get("won"), d.get("lost")
        return (won, None if won is None or lost is None else won + lost)
    if kpi == "csat":
        n = d.get("responses")
        return (None if value is None or n is None else round(value * n), n)
    return d.get(num), d.get(den)


def _change(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else now - before


def _rel(now: float | None, before: float | None) -> float | None:
    return None if now is None or not before else (now - before) / abs(before)


def _table(what: str, dim: str, unit: str, now: dict[str, float], before: dict[str, float]) -> dict[str, Any]:
    """what: spend | new_customers | lost_customers | kpi; rows by `dim`, largest change first."""
    keys = set(now) | set(before)
    rows = [{"key": k, "now": now.get(k, 0.0), "before": before.get(k, 0.0),
             "change": now.get(k, 0.0) - before.get(k, 0.0)} for k in keys]
    rows.sort(key=lambda r: (-abs(r["change"]), r["key"]))
    return {"what": what, "dim": dim, "unit": unit, "total_now": sum(now.values()),
            "total_before": sum(before.values()), "rows": rows}


def explain(engine: KpiEngine, kpi: str, period: Period, as_of: datetime,
            filters: dict[str, str] | None = None) -> dict[str, Any]:
    """The driver breakdown of `kpi` in `period` against the previous period, for the selection."""
    spec = engine.spec(kpi)
    filters = dict(filters or {})
    prev = periods.previous(period)
    m_now = engine.measure(kpi, period, as_of, filters)
    m_before = engine.measure(kpi, prev, as_of, filters)
    out: dict[str, Any] = {"kpi": kpi, "unit": spec.unit, "period": period.label, "previous_period": prev.label,
                           "value": m_now.value, "previous": m_before.value, "filters": filters, "tables": []}
    if kpi == "cac":
        _cac(engine, out, period, prev, as_of, m_now.details, m_before.details)
    elif kpi == "retention":
        _retention(engine, out, period, prev, as_of, filters, m_now.details, m_before.details)
    elif kpi in _FORMULA:
        _ratio(engine, out, kpi, spec, period, prev, as_of, filters, m_now, m_before)
    else:
        _by_breakdown(engine, out, kpi, spec, period, prev, as_of, filters)
    return out


def _cac(engine, out, period, prev, as_of, d_now, d_before) -> None:
    spend = _table("spend", "channel", "currency", d_now.get("spend_by_channel") or {},
                   d_before.get("spend_by_channel") or {})
    new = _table("new_customers", "channel", "count",
                 {k or "(none)": float(v) for k, v in engine.new_customers_by(period, as_of, "channel").items()},
                 {k or "(none)": float(v) for k, v in engine.new_customers_by(prev, as_of, "channel").items()})
    out["tables"] = [spend, new]
    s_rel = _rel(spend["total_now"], spend["total_before"])
    n_rel = _rel(new["total_now"], new["total_before"])
    out["parts"] = {"numerator": {"name": "spend", "now": spend["total_now"], "before": spend["total_before"],
                                  "change_pct": s_rel},
                    "denominator": {"name": "new_customers", "now": new["total_now"], "before": new["total_before"],
                                    "change_pct": n_rel}}
    out["driver"] = _driver(spend["total_now"], spend["total_before"], new["total_now"], new["total_before"])


def _driver(num_now, num_before, den_now, den_before) -> str | None:
    """Which side of a ratio moved it more: ln(r1/r0) = ln(n1/n0) − ln(d1/d0), compare the two terms."""
    if not (num_now and num_before and den_now and den_before):
        return None
    a = math.log(num_now / num_before)
    b = -math.log(den_now / den_before)
    return "numerator" if abs(a) >= abs(b) else "denominator"


def _retention(engine, out, period, prev, as_of, filters, d_now, d_before) -> None:
    for dim in ("segment", "region"):
        if dim in filters:
            continue
        # one breakdown query per period, not two filtered retentions per segment
        a = engine.measure("retention", period, as_of, filters, by=dim).row_details or {}
        b = engine.measure("retention", prev, as_of, filters, by=dim).row_details or {}
        now, before = {}, {}
        for v in sorted(set(a) | set(b), key=lambda k: -max(a.get(k, {}).get("customers_at_start", 0),
                                                             b.get(k, {}).get("customers_at_start", 0)))[:20]:
            if not v:
                continue  # customers with no segment/region on record
            now[v] = float(a.get(v, {}).get("lost") or 0)
            before[v] = float(b.get(v, {}).get("lost") or 0)
        out["tables"].append(_table("lost_customers", dim, "count", now, before))
    out["parts"] = {"numerator": {"name": "retained", "now": d_now.get("retained"), "before": d_before.get("retained")},
                    "denominator": {"name": "customers_at_start", "now": d_now.get("customers_at_start"),
                                    "before": d_before.get("customers_at_start")},
                    "lost": {"now": d_now.get("lost"), "before": d_before.get("lost")}}


def _dims(spec, filters) -> list[str]:
    return [d for d in spec.breakdowns if d != "rep" and d not in filters][:MAX_DIMS]


def _ratio(engine, out, kpi, spec, period, prev, as_of, filters, m_now, m_before) -> None:
    num_now, den_now = _parts(kpi, m_now.value, m_now.details)
    num_before, den_before = _parts(kpi, m_before.value, m_before.details)
    n_name, d_name = _FORMULA[kpi]
    out["parts"] = {"numerator": {"name": n_name, "now": num_now, "before": num_before,
                                  "change_pct": _rel(num_now, num_before)},
                    "denominator": {"name": d_name, "now": den_now, "before": den_before,
                                    "change_pct": _rel(den_now, den_before)}}
    out["driver"] = _driver(num_now, num_before, den_now, den_before)
    for dim in _dims(spec, filters):
        a = dict(engine.measure(kpi, period, as_of, filters, by=dim).rows or [])
        b = dict(engine.measure(kpi, prev, as_of, filters, by=dim).rows or [])
        moved = sorted((k for k in set(a) | set(b) if k), key=lambda k: -abs(_change(a.get(k), b.get(k)) or 0))[:TOP]
        rows = []
        for k in moved:
            f = {**filters, dim: k}
            ma, mb = engine.measure(kpi, period, as_of, f), engine.measure(kpi, prev, as_of, f)
            na, da = _parts(kpi, ma.value, ma.details)
            nb, db = _parts(kpi, mb.value, mb.details)
            rows.append({"key": k, "now": ma.value, "before": mb.value, "change": _change(ma.value, mb.value),
                         "numerator_now": na, "numerator_before": nb, "denominator_now": da, "denominator_before": db})
        out["tables"].append({"what": "kpi", "unit": spec.unit, "dim": dim, "formula": True,
                              "numerator": n_name, "denominator": d_name, "rows": rows})


def _by_breakdown(engine, out, kpi, spec, period, prev, as_of, filters) -> None:
    for dim in _dims(spec, filters):
        a = {k: v for k, v in engine.measure(kpi, period, as_of, filters, by=dim).rows or [] if k and v is not None}
        b = {k: v for k, v in engine.measure(kpi, prev, as_of, filters, by=dim).rows or [] if k and v is not None}
        t = _table("kpi", dim, spec.unit, a, b)
        t["rows"] = t["rows"][:TOP * 2]
        out["tables"].append(t)
