"""KPI engine benchmark (run by hand; prints its figures). Not a test.

    .venv/bin/python benchmarks/bench_kpis.py --sizes 10000,100000,1000000

For each size it builds a demo store on SQLite (cached under benchmarks/results/ under a name that
carries a fingerprint of the schema, so a store built before an index change is not reused), then
for every KPI of the catalogue measures:

- `ask`: KpiEngine.answer on "<kpi> last quarter" (value, comparison, target), median and p95;
- `bare SQL`: the very statements the engine issued for that question, replayed on a raw sqlite3
  connection: what the database alone costs, so the engine's own overhead shows;
- `month`, `year`, `by team`: median and p95 of "<kpi> this month", "<kpi> this year" and, for the
  KPIs that break down by team, "<kpi> by team last quarter";
- `naive`: for the KPIs that have one here, the same number from pandas over whole tables loaded
  with read_sql (how a notebook would do it), and the ratio naive / ask.

The ask phase runs in a child process of its own, the naive versions in another, so the peak RSS
reported for the engine is the engine's alone (not the generator's, nor pandas' tables). Then the
import: the demo opportunities exported to CSV and imported into an empty store in a child process,
giving rows/s and that process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
ANCHOR = date(2026, 11, 23)
TZ = ZoneInfo("Asia/Bangkok")
REPEAT = 15
REPEAT_VARIANTS = 7
VARIANTS = {"month": "{kpi} this month", "year": "{kpi} this year", "team": "{kpi} by team last quarter"}


def machine() -> str:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def schema_fingerprint() -> str:
    """A short hash of the DDL of an empty store: it changes with any table or index."""
    import hashlib

    from kpi_engine.db import make_engine, upgrade

    with tempfile.TemporaryDirectory() as d:
        eng = make_engine(f"sqlite:///{d}/empty.db")
        upgrade(eng)
        with eng.connect() as c:
            ddl = sorted(r[0] for r in c.exec_driver_sql("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL"))
        eng.dispose()
    return hashlib.sha1("\n".join(ddl).encode()).hexdigest()[:8]


def store_for(n: int) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"demo_{n}_{schema_fingerprint()}.db"
    if path.exists():
        return path
    from kpi_engine import demo
    from kpi_engine.db import open_store

    t = time.perf_counter()
    tmp = path.with_suffix(".tmp.db")
    tmp.unlink(missing_ok=True)
    store = open_store(f"sqlite:///{tmp}")
    demo.generate(store, seed=7, scale=float(n), anchor=ANCHOR)
    with store.connect() as c:  # fold the WAL into the file before it is renamed
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.dispose()
    tmp.rename(path)
    print(f"  generated {n:,} opportunities in {time.perf_counter() - t:.1f} s", flush=True)
    return path


def peak_rss_mb() -> float:
    """Peak RSS of this process since it started its program. Not ru_maxrss: on Linux that keeps the
    high-water mark of the parent the process was forked from (here: the one that built the store)."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


# ------------------------------------------------------------------ naive pandas versions


def _naive(kpi: str, con, s: int, e: int):
    import pandas as pd

    if kpi in ("revenue", "deals_closed", "avg_deal_size", "win_rate", "sales_cycle"):
        o = pd.read_sql("SELECT * FROM opportunities", con)
        closed = o[(o.closed_at >= s) & (o.closed_at < e)]
        won = closed[closed.status == "won"]
        return {
            "revenue": lambda: won.amount.sum(),
            "deals_closed": lambda: len(won),
            "avg_deal_size": lambda: won.amount.mean(),
            "win_rate": lambda: len(won) / closed.status.isin(["won", "lost"]).sum(),
            "sales_cycle": lambda: ((won.closed_at - won.created_at) / 86400).mean(),
        }[kpi]()
    if kpi in ("lead_volume", "lead_conversion"):
        leads = pd.read_sql("SELECT * FROM leads", con)
        p = leads[(leads.created_at >= s) & (leads.created_at < e)]
        return len(p) if kpi == "lead_volume" else p.qualified_at.notna().mean()
    if kpi == "rep_activity":
        a = pd.read_sql("SELECT * FROM activities", con)
        reps = pd.read_sql("SELECT * FROM reps", con)
        active = reps[(reps.hired_on.isna() | (reps.hired_on < e)) & (reps.left_on.isna() | (reps.left_on >= s))]
        return ((a.occurred_at >= s) & (a.occurred_at < e)).sum() / len(active)
    if kpi == "retention":
        o = pd.read_sql("SELECT account_id, closed_at AS t FROM opportunities WHERE status = 'won'", con)
        d = pd.read_sql("SELECT account_id, ordered_at AS t FROM orders", con)
        p = pd.concat([o, d])
        w = 365 * 86400
        a0 = set(p[(p.t >= s - w) & (p.t < s)].account_id)
        a1 = set(p[(p.t >= e - w) & (p.t < e)].account_id)
        return len(a0 & a1) / len(a0)
    return None


NAIVE = ("revenue", "deals_closed", "avg_deal_size", "win_rate", "sales_cycle", "lead_volume",
         "lead_conversion", "rep_activity", "retention")


def _timed(eng, q, as_of, repeat: int) -> list[float]:
    eng.answer(q, as_of)  # warm the page cache like a running service
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        eng.answer(q, as_of)
        times.append(time.perf_counter() - t)
    return times


def phase_ask(db: Path) -> dict:
    """Runs in a child process: per-KPI latencies, bare-SQL replays, peak RSS."""
    from sqlalchemy import event

    from config.app_config import AppConfig
    from kpi_engine.catalogue import catalogue
    from kpi_engine.db import open_store
    from kpi_engine.engine import KpiEngine
    from kpi_engine.grammar import parse

    store = open_store(f"sqlite:///{db}")
    eng = KpiEngine(store, AppConfig())
    as_of = datetime(ANCHOR.year, ANCHOR.month, ANCHOR.day, tzinfo=TZ)
    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    raw = sqlite3.connect(db)
    out = {}
    for key, spec in catalogue().items():
        q = parse(f"{key} last quarter")
        times = _timed(eng, q, as_of, REPEAT)
        captured.clear()
        event.listen(store, "before_cursor_execute", capture)
        eng.answer(q, as_of)
        event.remove(store, "before_cursor_execute", capture)
        stmts = list(captured)
        bare = []
        for _ in range(REPEAT):
            t = time.perf_counter()
            for sql, params in stmts:
                raw.execute(sql, params).fetchall()
            bare.append(time.perf_counter() - t)
        row = {"median_ms": statistics.median(times) * 1000, "p95_ms": pct(times, 0.95) * 1000,
               "bare_median_ms": statistics.median(bare) * 1000, "statements": len(stmts)}
        for name, phrase in VARIANTS.items():
            if name == "team" and "team" not in spec.breakdowns:
                continue
            ts = _timed(eng, parse(phrase.format(kpi=key)), as_of, REPEAT_VARIANTS)
            row[f"{name}_median_ms"], row[f"{name}_p95_ms"] = statistics.median(ts) * 1000, pct(ts, 0.95) * 1000
        out[key] = row
    out["_peak_rss_mb"] = peak_rss_mb()
    return out


def phase_naive(db: Path) -> dict:
    """Runs in a child process of its own (pandas' whole tables would swamp the engine's RSS)."""
    from kpi_engine.grammar import parse

    raw = sqlite3.connect(db)
    as_of = datetime(ANCHOR.year, ANCHOR.month, ANCHOR.day, tzinfo=TZ)
    out = {}
    for key in NAIVE:
        period = parse(f"{key} last quarter").resolve_period(as_of, TZ, "quarter")
        t = time.perf_counter()
        _naive(key, raw, period.start_ts, period.end_ts)
        out[key] = (time.perf_counter() - t) * 1000
    out["_peak_rss_mb"] = peak_rss_mb()
    return out


def phase_import(csv_dir: Path) -> dict:
    from config.app_config import AppConfig
    from kpi_engine.db import open_store
    from kpi_engine.importer import import_path

    with tempfile.TemporaryDirectory() as d:
        store = open_store(f"sqlite:///{d}/import.db")
        t = time.perf_counter()
        report = import_path(store, csv_dir, config=AppConfig())
        dt = time.perf_counter() - t
    rows = sum(c.read for c in report.tables.values())
    return {"rows": rows, "seconds": dt, "rows_per_s": rows / dt,
            "peak_rss_mb": peak_rss_mb()}


def export_opportunities(db: Path, folder: Path) -> None:
    import csv

    from kpi_engine.periods import from_epoch

    folder.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(db)
    cols = ["opportunity_id", "created_at", "status", "amount", "account_id", "owner_rep_id", "stage",
            "closed_at", "lead_id", "product"]
    with open(folder / "opportunities.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in con.execute(f"SELECT {', '.join(cols)} FROM opportunities"):
            r = list(r)
            r[1] = from_epoch(r[1], TZ).isoformat(timespec="seconds")
            r[7] = from_epoch(r[7], TZ).isoformat(timespec="seconds") if r[7] is not None else ""
            w.writerow(["" if v is None else v for v in r])


def child(phase: str, arg: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--phase", phase, str(arg)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--phase")
    ap.add_argument("arg", nargs="?")
    a = ap.parse_args()
    if a.phase == "ask":
        print(json.dumps(phase_ask(Path(a.arg))))
        return
    if a.phase == "naive":
        print(json.dumps(phase_naive(Path(a.arg))))
        return
    if a.phase == "import":
        print(json.dumps(phase_import(Path(a.arg))))
        return
    print(f"machine: {machine()}")
    for n in [int(x) for x in a.sizes.split(",")]:
        print(f"\n== {n:,} opportunities (SQLite)", flush=True)
        db = store_for(n)
        res = child("ask", db)
        naive = child("naive", db)
        print("last quarter: median and p95 ms, the bare SQL's median, naive pandas and naive/ask;"
              " this month, this year, by team last quarter: median / p95 ms")
        print(f"{'kpi':<24}{'median':>8}{'p95':>8}{'bare':>8}{'naive':>8}{'×':>6}"
              f"{'month':>14}{'year':>14}{'by team':>14}")
        worst = 0.0
        ratios = []
        for key, r in res.items():
            if key.startswith("_"):
                continue
            worst = max(worst, r["p95_ms"])
            nv = f"{naive[key]:>8.0f}{naive[key] / r['median_ms']:>5.0f}×" if key in naive else f"{'':>14}"
            if key in naive:
                ratios.append(naive[key] / r["median_ms"])
            var = "".join(f"{r[f'{v}_median_ms']:>7.0f} /{r[f'{v}_p95_ms']:>5.0f}" if f"{v}_median_ms" in r
                          else f"{'':>14}" for v in VARIANTS)
            print(f"{key:<24}{r['median_ms']:>8.1f}{r['p95_ms']:>8.1f}{r['bare_median_ms']:>8.1f}{nv}{var}")
        print(f"worst p95 {worst:.0f} ms; naive/ask median ratio {statistics.median(ratios):.0f}× "
              f"(min {min(ratios):.0f}×); ask-process peak RSS {res['_peak_rss_mb']:.0f} MB "
              f"(naive process {naive['_peak_rss_mb']:.0f} MB)")
        with tempfile.TemporaryDirectory() as d:
            export_opportunities(db, Path(d))
            imp = child("import", Path(d))
        print(f"import: {imp['rows']:,} opportunities in {imp['seconds']:.1f} s = {imp['rows_per_s']:,.0f} rows/s, "
              f"peak RSS {imp['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
