"""The engine beside its own SQL and beside DuckDB, on the same data, at several sizes (run by hand; it
prints its figures and the machine). Not a test.

    flock /work/bench.lock .venv/bin/python benchmarks/bench_compare.py --sizes 100000,1000000,3000000 \\
        [--pg postgresql://postgres@127.0.0.1:5432] [--dir /work/benchdata] [--repeat 7] [--startup]

Needs the `bench` extra (pip install -e '.[bench]': DuckDB). For every size it builds (once, then
reuses) the demo company (seed 7, anchor 2026-11-23) in a SQLite file under --dir, in a PostgreSQL
database i13_<size> when --pg is given, and a DuckDB copy of the same tables. Then, for every KPI x
{no breakdown, each allowed breakdown} x {this month, last quarter, this year} and each KPI's default
question, as of the anchor:

- engine: KpiEngine.answer(...).to_json() (value, comparison, target, breakdown, details shown);
- bare: the statements the engine issued for it, replayed on a raw driver connection;
- duckdb: the statements the engine issues when it reads rows only (use_rollups=False), run by
  DuckDB over a columnar copy of the tables they read (canonical tables, purchases, hourly counts):
  the same computation on a columnar engine, its results checked against SQLite's to 1e-6.

It prints p50 / p95 per question, engine / DuckDB ratios, and with several sizes the growth exponent
log(t_big / t_small) / log(n_big / n_small) of each question's median. --startup: `kpibot ask` as a
fresh process, with the store's head check as it is and with a stored-revision check simulated.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ANCHOR = date(2026, 11, 23)
BKK = ZoneInfo("Asia/Bangkok")
AS_OF = datetime(2026, 11, 23, tzinfo=BKK)
PERIODS = {"this month": ("current", "month", 0), "last quarter": ("current", "quarter", -1),
           "this year": ("current", "year", 0)}
# the schema a store was built with: the migrations there are (a store of another chain is rebuilt)
SCHEMA = f"s{len(list((ROOT / 'kpi_engine' / 'migrations' / 'versions').glob('0*.py')))}"
DUCK_TABLES = ("reps", "accounts", "leads", "opportunities", "stage_changes", "activities", "orders", "spend",
               "forecasts", "targets", "surveys", "trainings", "content_events", "purchases", "hourly_counts",
               "data_freshness", "table_versions")


def machine() -> str:
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), "")
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {cpu}, Python "
            f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}; load average {load:.1f}")


def questions() -> list[tuple[str, object]]:
    from kpi_engine.catalogue import catalogue
    from kpi_engine.query import PeriodSpec, Query

    out = []
    for key, spec in catalogue().items():
        out.append((f"{key} (default)", Query(key)))
        for by in (None, *spec.breakdowns):
            for label, (kind, grain, off) in PERIODS.items():
                q = Query(key, PeriodSpec(kind, grain=grain, offset=off), breakdown=by)
                out.append((f"{key}{' by ' + by if by else ''} {label}", q))
    return out


# ------------------------------------------------------------------ stores


def sqlite_store(n: int, folder: Path) -> str:
    from kpi_engine import demo
    from kpi_engine.db import open_store

    path = folder / f"i13-{n}-{SCHEMA}.db"
    if not path.exists():
        tmp = path.with_suffix(".tmp.db")
        tmp.unlink(missing_ok=True)
        t = time.perf_counter()
        store = open_store(f"sqlite:///{tmp}")
        demo.generate(store, seed=7, scale=float(n), anchor=ANCHOR)
        with store.connect() as c:
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        store.dispose()
        tmp.rename(path)
        print(f"  built {path} in {time.perf_counter() - t:.0f} s", flush=True)
    return f"sqlite:///{path}"


def pg_store(n: int, base: str) -> str:
    import psycopg

    from kpi_engine import demo
    from kpi_engine.db import open_store

    name = f"i13_{n}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as c:
        exists = c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            c.execute(f'CREATE DATABASE "{name}"')
    url = f"{base}/{name}"
    store = open_store(url)
    with store.connect() as c:
        empty = c.exec_driver_sql("SELECT 1 FROM opportunities LIMIT 1").first() is None
    if empty:
        t = time.perf_counter()
        demo.generate(store, seed=7, scale=float(n), anchor=ANCHOR)
        print(f"  built PostgreSQL {name} in {time.perf_counter() - t:.0f} s", flush=True)
    return url


def duck_copy(sqlite_url: str, folder: Path, n: int):
    """A DuckDB file holding the same rows as the SQLite store (typed columns), built once."""
    import duckdb
    import pandas as pd

    path = folder / f"i13-{n}-{SCHEMA}.duckdb"
    if path.exists():
        return duckdb.connect(str(path), read_only=True)
    src = sqlite3.connect(sqlite_url.split(":///", 1)[1])
    tmp = path.with_suffix(".tmp.duckdb")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    types = {"INTEGER": "BIGINT", "BIGINT": "BIGINT", "FLOAT": "DOUBLE", "REAL": "DOUBLE", "VARCHAR": "VARCHAR",
             "TEXT": "VARCHAR"}
    for t in DUCK_TABLES:
        cols = [(r[1], types.get(r[2].upper(), "VARCHAR")) for r in src.execute(f"PRAGMA table_info({t})")]
        con.execute(f"CREATE TABLE {t} ({', '.join(f'{c} {ty}' for c, ty in cols)})")
        cur = src.execute(f"SELECT {', '.join(c for c, _ in cols)} FROM {t}")
        while True:
            rows = cur.fetchmany(500_000)
            if not rows:
                break
            chunk = pd.DataFrame.from_records(rows, columns=[c for c, _ in cols])
            con.register("chunk", chunk)
            con.execute(f"INSERT INTO {t} SELECT * FROM chunk")
            con.unregister("chunk")
    con.close()
    tmp.rename(path)
    return duckdb.connect(str(path), read_only=True)


# ------------------------------------------------------------------ timing


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


def captured(store, fn) -> list[tuple[str, object]]:
    from sqlalchemy import event

    got: list[tuple[str, object]] = []

    def seen(conn, cursor, statement, params, context, executemany):
        if not statement.lstrip().upper().startswith(("PRAGMA", "BEGIN", "ROLLBACK", "COMMIT")):
            got.append((statement, params))

    event.listen(store, "before_cursor_execute", seen)
    try:
        fn()
    finally:
        event.remove(store, "before_cursor_execute", seen)
    return got


def timed(fn, repeat: int, cpu: list[float] | None = None) -> list[float]:
    """Wall times in ms; with `cpu`, the process's CPU time of each run too (all its threads): on a
    shared machine it moves far less with the load than the wall time."""
    out = []
    for _ in range(repeat):
        c, t = time.process_time(), time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - c) * 1000)
    return out


def run_db(url: str, label: str, qs, repeat: int, duck) -> dict[str, dict]:
    from config.app_config import AppConfig
    from kpi_engine.db import open_store
    from kpi_engine.engine import KpiEngine

    store = open_store(url)
    eng, rows_only = KpiEngine(store, AppConfig()), KpiEngine(store, AppConfig(), use_rollups=False)
    sqlite_path = url.split(":///", 1)[1] if url.startswith("sqlite") else None
    if sqlite_path:
        raw = sqlite3.connect(sqlite_path, check_same_thread=False)
        raw.execute("PRAGMA cache_size=-65536")
    else:
        import psycopg

        raw = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    out: dict[str, dict] = {}
    for name, q in qs:
        eng.answer(q, AS_OF).to_json()  # warm
        stmts = captured(store, lambda q=q: eng.answer(q, AS_OF).to_json())
        ecpu: list[float] = []
        e = timed(lambda q=q: eng.answer(q, AS_OF).to_json(), repeat, ecpu)

        def bare(stmts=stmts):
            for sql, params in stmts:
                raw.execute(sql, params).fetchall()

        b = timed(bare, repeat)
        rec = {"engine": e, "bare": b, "engine_cpu": ecpu}
        if duck is not None and sqlite_path:
            slow = captured(store, lambda q=q: rows_only.answer(q, AS_OF).to_json())
            dstmts = [(s.replace("AS FLOAT", "AS DOUBLE"), p) for s, p in slow]
            for s, p in dstmts[:50]:  # the same answers (to 1e-6) as SQLite gives from its rows
                a, z = duck.execute(s, list(p)).fetchall(), raw.execute(s.replace("AS DOUBLE", "AS FLOAT"), p).fetchall()
                if not _same(a, z):
                    print(f"  ! DuckDB differs on {name}: {s[:120]}", flush=True)
                    break

            def ducked(dstmts=dstmts):
                for sql, params in dstmts:
                    duck.execute(sql, list(params)).fetchall()

            ducked()
            dcpu: list[float] = []
            rec["duckdb"] = timed(ducked, repeat, dcpu)
            rec["duckdb_cpu"] = dcpu
        out[name] = rec
        d = rec.get("duckdb")
        dc = rec.get("duckdb_cpu")
        print(f"  {label:6} {name:48} engine {statistics.median(e):7.1f} / {pct(e, .95):7.1f} ms (cpu "
              f"{statistics.median(ecpu):6.1f})   bare {statistics.median(b):7.1f}   duckdb "
              f"{statistics.median(d) if d else float('nan'):7.1f} (cpu {statistics.median(dc) if dc else float('nan'):6.1f})",
              flush=True)
    return out


def _same(a, b) -> bool:
    def key(r):
        return tuple((0, round(float(v), 6), "") if isinstance(v, int | float) else (1, 0.0, "" if v is None else str(v))
                     for v in r)

    a, b = sorted(a, key=key), sorted(b, key=key)
    if len(a) != len(b):
        return False
    for r, s in zip(a, b, strict=True):
        for x, y in zip(r, s, strict=True):
            if isinstance(x, int | float) and isinstance(y, int | float):
                if not math.isclose(float(x), float(y), rel_tol=1e-6, abs_tol=1e-6):
                    return False
            elif x != y:
                return False
    return True


# ------------------------------------------------------------------ start-up


def startup(url: str, repeat: int) -> None:
    from kpi_engine.db import head_revision

    head = head_revision()  # the constant a stored-revision check compares with
    env = {**os.environ, "DATABASE_URL": url}
    cmd = [str(ROOT / ".venv" / "bin" / "kpibot"), "ask", "revenue", "--json", "--as-of", "2026-11-23"]
    cheap = [sys.executable, "-c",
             "import sys, kpi_engine.db as d\n"
             "from sqlalchemy import text\n"
             "def up(e):\n"
             "    with e.connect() as c:\n"
             f"        if c.execute(text('SELECT version_num FROM alembic_version')).scalar() != {head!r}:\n"
             "            raise SystemExit('not at head')\n"
             "d.upgrade = up\n"
             "from kpibot.cli import main\n"
             "sys.argv = ['kpibot', 'ask', 'revenue', '--json', '--as-of', '2026-11-23']\n"
             "main()\n"]
    for label, c in (("as it is (Alembic head check)", cmd), ("stored revision vs a constant (simulated)", cheap)):
        ts = []
        for _ in range(repeat):
            t = time.perf_counter()
            subprocess.run(c, env=env, check=True, capture_output=True)
            ts.append((time.perf_counter() - t) * 1000)
        print(f"kpibot ask --json, fresh process, {label}: min {min(ts):.0f} ms, median "
              f"{statistics.median(ts):.0f} ms", flush=True)


# ------------------------------------------------------------------ report


def summary(results: dict, sizes: list[int]) -> None:
    for db in sorted({k[1] for k in results}):
        for n in sizes:
            r = results.get((n, db))
            if not r:
                continue
            med = {q: statistics.median(v["engine"]) for q, v in r.items()}
            p95 = {q: pct(v["engine"], .95) for q, v in r.items()}
            worst = max(p95, key=p95.get)
            defaults = {q: v for q, v in p95.items() if q.endswith("(default)")} or {"(no default question)": 0.0}
            wd = max(defaults, key=defaults.get)
            line = (f"{db:10} {n:>9,}: worst p95 {p95[worst]:.1f} ms ({worst}); worst default p95 {defaults[wd]:.1f} ms"
                    f" ({wd}); engine / bare median {statistics.median(med[q] / max(statistics.median(v['bare']), 1e-3) for q, v in r.items()):.2f}")
            if all("duckdb" in v for v in r.values()):
                ratios = {q: med[q] / statistics.median(v["duckdb"]) for q, v in r.items()}
                br = {q: x for q, x in ratios.items() if " by " in q}
                slower = sorted((q for q, x in br.items() if x >= 1), key=lambda q: -br[q])
                line += (f"; engine / DuckDB median {statistics.median(ratios.values()):.3f}, breakdown questions"
                         f" slower than DuckDB: {len(slower)} of {len(br)}{' (' + ', '.join(slower[:5]) + ')' if slower else ''}")
            over = sorted(q for q, x in p95.items() if x > 300)
            line += f"; p95 over 300 ms: {len(over)} of {len(p95)}{' (' + ', '.join(over[:5]) + ')' if over else ''}"
            print(line)
            if all(v.get("engine_cpu") for v in r.values()):
                cpu = {q: statistics.median(v["engine_cpu"]) for q, v in r.items()}
                cp95 = {q: pct(v["engine_cpu"], .95) for q, v in r.items()}
                cw = max(cp95, key=cp95.get)
                line = f"{db:10} {n:>9,}: CPU time (all threads): worst p95 {cp95[cw]:.1f} ms ({cw})"
                if all(v.get("duckdb_cpu") for v in r.values()):
                    cr = {q: cpu[q] / max(statistics.median(v["duckdb_cpu"]), 1e-3) for q, v in r.items()}
                    cbr = {q: x for q, x in cr.items() if " by " in q}
                    cslow = sorted((q for q, x in cbr.items() if x >= 1), key=lambda q: -cbr[q])
                    line += (f"; engine / DuckDB median {statistics.median(cr.values()):.3f}, breakdown questions"
                             f" using more CPU than DuckDB: {len(cslow)} of {len(cbr)}"
                             f"{' (' + ', '.join(cslow[:5]) + ')' if cslow else ''}")
                print(line)
        if len(sizes) > 1 and (sizes[0], db) in results and (sizes[-1], db) in results:
            a, b = results[(sizes[0], db)], results[(sizes[-1], db)]
            exps = {q: math.log(statistics.median(b[q]["engine"]) / statistics.median(a[q]["engine"]))
                    / math.log(sizes[-1] / sizes[0]) for q in a if q in b}
            top = sorted(exps, key=lambda q: -exps[q])[:5]
            print(f"{db:10} growth exponent {sizes[0]:,} -> {sizes[-1]:,}: median {statistics.median(exps.values()):.2f},"
                  f" max {exps[top[0]]:.2f}; highest: " + ", ".join(f"{q} {exps[q]:.2f}" for q in top))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000")
    ap.add_argument("--dir", default="/work/benchdata")
    ap.add_argument("--pg", default=None, help="postgresql://user@host:port (databases i13_<size> are made)")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--no-duckdb", action="store_true")
    ap.add_argument("--only", default=None, help="questions whose name contains this")
    ap.add_argument("--startup", action="store_true")
    ap.add_argument("--json", default=None, help="write every timing here")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}", flush=True)
    qs = [(n, q) for n, q in questions() if not args.only or args.only in n]
    results: dict[tuple[int, str], dict] = {}
    for n in sizes:
        url = sqlite_store(n, folder)
        duck = None if args.no_duckdb else duck_copy(url, folder, n)
        print(f"{n:,} opportunities, SQLite ({len(qs)} questions, {args.repeat} runs each):", flush=True)
        results[(n, "sqlite")] = run_db(url, "sqlite", qs, args.repeat, duck)
        if args.startup:
            startup(url, args.repeat)
        if args.pg:
            purl = pg_store(n, args.pg)
            print(f"{n:,} opportunities, PostgreSQL:", flush=True)
            results[(n, "postgresql")] = run_db(purl, "pg", qs, args.repeat, None)
    print()
    summary(results, sizes)
    if args.json:
        Path(args.json).write_text(json.dumps({f"{n}:{db}": r for (n, db), r in results.items()}))


if __name__ == "__main__":
    main()
