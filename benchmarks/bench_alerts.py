"""Digest and alert benchmark (run by hand; prints its figures and the machine). Not a test.

    DATABASE_URL=postgresql://…/kpibot .venv/bin/python benchmarks/bench_alerts.py [--as-of 2026-11-23]
    .venv/bin/python benchmarks/bench_alerts.py --scale 100000     # an empty store is filled first

Against the store at DATABASE_URL (filled with the demo company at --scale when empty):

- digest: building the default weekly digest (values, pacing, movers, open alerts, chart) as of
  --as-of; targets: <= 2 s at 1M opportunities;
- alerts: 50 rules evaluated per segment, dry run (evaluations, transitions and messages are
  computed, nothing is written or sent); target for 50 rules x 20 segments: <= 10 s. 40 rules
  split by team, region, product, channel or customer segment (3 to 7 segments each) and 10 by
  rep (every rep: about 2,500 at 1M), so the segment count is at least what was asked;
- explain: the driver breakdown of each default rule, computed once per firing.

Nothing is written to the store except its migrations (and the demo data when it was empty).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config.app_config import AppConfig  # noqa: E402
from kpi_engine import periods  # noqa: E402
from kpi_engine.db import open_store  # noqa: E402
from kpi_engine.engine import KpiEngine  # noqa: E402
from kpi_engine.ops import OpsStore  # noqa: E402


def machine(store) -> str:
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    db = store.dialect.name
    if db == "postgresql":
        with store.connect() as c:
            db = c.exec_driver_sql("SELECT version()").scalar().split(" on ")[0]
    elif db == "sqlite":
        import sqlite3

        db = f"SQLite {sqlite3.sqlite_version}"
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {cpu or 'unknown CPU'}, "
            f"Python {platform.python_version()}, {db}")


# KPI, grain, conditions: a mix of what people configure
_KINDS = [
    ("revenue", "week", [{"type": "change", "down_pct": 30}, {"type": "vs_median", "periods": 8, "below_pct": 40}]),
    ("deals_closed", "week", [{"type": "vs_median", "periods": 8, "below_pct": 40},
                              {"type": "anomaly", "series": "weekly"}]),
    ("win_rate", "month", [{"type": "change", "down_pp": 10}, {"type": "threshold", "below": 0.15}]),
    ("avg_deal_size", "month", [{"type": "change", "down_pct": 25}]),
    ("sales_cycle", "month", [{"type": "change", "up_pct": 25}, {"type": "vs_median", "periods": 6, "above_pct": 30}]),
    ("lead_volume", "week", [{"type": "vs_median", "periods": 8, "below_pct": 30},
                             {"type": "anomaly", "series": "weekly"}]),
    ("lead_conversion", "month", [{"type": "change", "down_pp": 8}]),
    ("revenue", "month", [{"type": "vs_target", "below_pct": 80}]),
]
_DIMS = {"revenue": ["team", "region", "product", "segment"], "deals_closed": ["team", "region", "product"],
         "win_rate": ["team", "region", "product"], "avg_deal_size": ["team", "product"],
         "sales_cycle": ["team", "region"], "lead_volume": ["channel"], "lead_conversion": ["channel"]}


def bench_rules() -> list[dict]:
    rules = []
    i = 0
    while len(rules) < 40:
        kpi, grain, conds = _KINDS[i % len(_KINDS)]
        dims = _DIMS[kpi]
        per = dims[(i // len(_KINDS)) % len(dims)]
        if per == "segment" and kpi != "revenue":
            per = "team"
        rules.append({"id": f"bench{len(rules):02d}", "kpi": kpi, "grain": grain, "per": per, "conditions": conds})
        i += 1
    for j, (kpi, grain, conds) in enumerate(_KINDS[:4] * 3):
        if len(rules) == 50:
            break
        rules.append({"id": f"bench_rep{j:02d}", "kpi": kpi, "grain": grain, "per": "rep", "conditions": conds})
    return rules


def timed(fn, repeat: int) -> tuple[list[float], object]:
    out, last = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        last = fn()
        out.append(time.perf_counter() - t)
    return out, last


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=os.environ.get("DATABASE_URL", "sqlite:///kpibot.db"))
    ap.add_argument("--as-of", default=None, help="ISO date; default: today (the demo's anchor when generated)")
    ap.add_argument("--scale", default="100000", help="demo size when the store is empty")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    cfg = AppConfig()
    store = open_store(args.url)
    engine = KpiEngine(store, cfg)
    print(f"machine: {machine(store)}")
    print(f"store:   {args.url.split('@')[-1]}")
    if engine.is_empty():
        from kpi_engine import demo

        t = time.perf_counter()
        anchor = periods.parse_as_of(args.as_of, cfg.tz).date()
        s = demo.generate(store, seed=7, scale=args.scale, anchor=anchor)
        print(f"demo:    generated {s.counts.get('opportunities', 0):,} opportunities in "
              f"{time.perf_counter() - t:.1f} s")
    as_of = periods.parse_as_of(args.as_of, cfg.tz)
    ops = OpsStore(store)
    with store.connect() as c:
        n_opps = c.exec_driver_sql("SELECT COUNT(*) FROM opportunities").scalar()
    print(f"data:    {n_opps:,} opportunities; as of {as_of.isoformat()}")

    from schedules.digest import build_digest

    sub = cfg.digests[0]
    times, d = timed(lambda: build_digest(engine, ops, cfg, sub, as_of), args.repeat)
    nochart, _ = timed(lambda: build_digest(engine, ops, cfg, sub, as_of, chart=False), args.repeat)
    print(f"\ndigest build ({len(sub.kpis)} KPIs, pacing, movers by {'/'.join(sub.movers_by)}, chart): "
          f"first {times[0]:.2f} s, median {statistics.median(times):.2f} s; "
          f"without the chart median {statistics.median(nochart):.2f} s   (target <= 2 s)")

    from schedules.alerts import run_alerts

    rcfg = AppConfig.model_validate({"alerts": {"rules": bench_rules()}})
    times, r = timed(lambda: run_alerts(engine, ops, rcfg, as_of, dry_run=True), args.repeat)
    evals = len(r.evaluations)
    outcomes: dict[str, int] = {}
    for e in r.evaluations:
        outcomes[e["outcome"]] = outcomes.get(e["outcome"], 0) + 1
    per_rule = {x["id"]: 0 for x in bench_rules()}
    for e in r.evaluations:
        per_rule[e["rule_id"]] += 1
    print(f"alerts: {len(per_rule)} rules, {evals:,} rule x segment evaluations "
          f"(segments per rule {min(per_rule.values())}..{max(per_rule.values())}), {r.queries} queries; "
          f"first {times[0]:.2f} s, median {statistics.median(times):.2f} s   (target for 50 x 20: <= 10 s)")
    print(f"        outcomes {outcomes}; {len(r.transitions)} transitions, {len(r.messages)} messages rendered")
    only40 = AppConfig.model_validate({"alerts": {"rules": bench_rules()[:40]}})
    t40, r40 = timed(lambda: run_alerts(engine, ops, only40, as_of, dry_run=True), 1)
    print(f"        the 40 rules without per-rep: {len(r40.evaluations)} evaluations in {t40[0]:.2f} s")

    from schedules.explain import explain
    from schedules.rules import rule_period

    for rule in cfg.alerts.rules:
        t = time.perf_counter()
        explain(engine, rule.kpi, rule_period(rule, as_of, cfg.tz), as_of, dict(rule.filter))
        print(f"explain {rule.id}: {time.perf_counter() - t:.2f} s")
    default, dr = timed(lambda: run_alerts(engine, ops, cfg, as_of, dry_run=True), 1)
    outs = ", ".join(f"{e['rule_id']} {e['outcome']}" for e in dr.evaluations)
    print(f"default rules (dry run): {default[0]:.2f} s, {outs}")


if __name__ == "__main__":
    main()
