"""Sync speed from a PostgreSQL source, and the /metrics scrape.

Run by hand, one heavy benchmark at a time on a shared machine:
    flock /work/bench.lock .venv/bin/python benchmarks/bench_sync.py [--rows 1000000] [--store sqlite|postgresql|both]

A source database of its own (kpibot_bench_src_<pid>, dropped at the end) holds N deals, 2,000 reps and
50,000 accounts with updated_at stamps; a [[sources]] entry maps them with one query per table. Measured:

1. first sync into an empty store (N new opportunities);
2. every deal changed at the source (one UPDATE), then the incremental sync (N changed opportunities);
3. the incremental sync again with nothing changed;
4. a sync whose last row is invalid: it fails, and the store is as before (counted);
5. GET /metrics on the running bot over that store (with 10,000 sent and 50 pending outbox messages):
   median and p95 of 200 scrapes.

Targets: (2) <= 60 s for 1M, (3) <= 1 s, (5) <= 50 ms. Stores go under /work/benchdata (SQLite) or a
schema of the test database (PostgreSQL), removed after.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import urllib.request
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import text  # noqa: E402

from config.app_config import AppConfig  # noqa: E402
from kpi_engine.sync import sync_source  # noqa: E402

PG = os.environ.get("KPIBOT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
DATA = Path(os.environ.get("KPIBOT_BENCHDATA", "/work/benchdata"))
BKK = ZoneInfo("Asia/Bangkok")
ENV = "KPIBOT_BENCH_SOURCE_URL"

DEALS = """SELECT deal_id AS opportunity_id, opened AS created_at, status, amount, account AS account_id,
                  owner AS owner_rep_id, stage, closed AS closed_at, product, updated_at FROM deals"""


def machine() -> str:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with psycopg.connect(PG) as c:
        pg = c.execute("SHOW server_version").fetchone()[0]
    import sqlite3

    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {cpu}, Python "
            f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, PostgreSQL {pg}")


def make_source(n: int) -> str:
    name = f"kpibot_bench_src_{os.getpid()}"
    with psycopg.connect(PG, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{name}"')
    url = PG.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("""CREATE TABLE deals (deal_id text PRIMARY KEY, opened timestamptz NOT NULL, status text NOT NULL,
                     amount numeric(12, 2), account text, owner text, stage text, closed timestamptz, product text,
                     updated_at timestamptz NOT NULL)""")
        c.execute("""INSERT INTO deals SELECT 'D' || lpad(g::text, 8, '0'),
                       timestamptz '2024-01-01 09:00+07' + (g %% 700) * interval '1 day' + (g %% 9) * interval '1 hour',
                       (ARRAY['open', 'won', 'lost'])[1 + g %% 3],
                       CASE WHEN g %% 3 = 2 AND g %% 2 = 0 THEN NULL ELSE 100 + (g::bigint * 7919) %% 50000 END,
                       'A' || (g %% 50000), 'r' || (g %% 2000), (ARRAY['discovery', 'proposal', 'negotiation'])[1 + g %% 3],
                       CASE WHEN g %% 3 = 0 THEN NULL
                            ELSE timestamptz '2024-01-20 15:00+07' + (g %% 700) * interval '1 day' END,
                       'Widget', timestamptz '2026-11-01 00:00+00' + (g %% 1000) * interval '1 second'
                     FROM generate_series(1, %s) g""", (n,))
        c.execute("CREATE INDEX ON deals (updated_at)")
        c.execute("""CREATE TABLE users AS SELECT 'r' || g AS rep_id, 'Rep ' || g AS name, 'team ' || (g % 8) AS team,
                     timestamptz '2026-11-01 00:00+00' AS updated_at FROM generate_series(0, 1999) g""")
        c.execute("""CREATE TABLE companies AS SELECT 'A' || g AS account_id, 'Account ' || g AS name,
                     (ARRAY['smb', 'midmarket', 'enterprise'])[1 + g % 3] AS segment,
                     timestamptz '2026-11-01 00:00+00' AS updated_at FROM generate_series(0, 49999) g""")
        c.execute("ANALYZE")
    return url


def drop_source(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def config() -> AppConfig:
    return AppConfig.model_validate({"sources": [{
        "name": "crm", "kind": "sql", "url_env": ENV, "queries": {
            "reps": {"query": "SELECT rep_id, name, team, updated_at FROM users", "watermark": "updated_at"},
            "accounts": {"query": "SELECT account_id, name, segment, updated_at FROM companies",
                         "watermark": "updated_at"},
            "opportunities": {"query": DEALS, "watermark": "updated_at"}}}]})


def store_url(kind: str) -> tuple[str, callable]:
    if kind == "sqlite":
        DATA.mkdir(parents=True, exist_ok=True)
        path = DATA / f"i11_bench_sync_{os.getpid()}.db"

        def cleanup() -> None:
            for suffix in ("", "-wal", "-shm", ".migrate.lock", ".sync-crm.lock"):
                Path(str(path) + suffix).unlink(missing_ok=True)

        cleanup()
        return f"sqlite:///{path}", cleanup
    schema = f"i11_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG, autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        with psycopg.connect(PG, autocommit=True) as c:
            c.execute(f'DROP SCHEMA "{schema}" CASCADE')

    return f"{PG.replace('postgresql://', 'postgresql+psycopg://', 1)}?options=-csearch_path%3D{schema}", drop


def run(kind: str, source_url: str, n: int) -> None:
    from kpi_engine.db import open_store

    url, cleanup = store_url(kind)
    try:
        store = open_store(url)
        cfg = config()
        env = {ENV: source_url}

        def sync(label: str) -> None:
            t = time.perf_counter()
            r = sync_source(store, cfg, cfg.sources[0], now=datetime.now(BKK), environ=env)
            dt = time.perf_counter() - t
            opp = r.tables.get("opportunities", {})
            print(f"  {kind:10} {label:34} {dt:7.2f} s  status {r.status:11} rows read {r.rows:>9,}  "
                  f"opportunities +{opp.get('inserted', 0):,} ~{opp.get('updated', 0):,}"
                  + (f"  ({r.rows / dt:,.0f} rows/s)" if r.rows and dt > 0.5 else "")
                  + (f"\n    error: {r.error.splitlines()[0]}" if r.error else ""), flush=True)

        sync("1. first sync (all new)")
        with psycopg.connect(source_url, autocommit=True) as c:
            c.execute("UPDATE deals SET amount = COALESCE(amount, 0) + 1, updated_at = now()")
        sync("2. every deal changed")
        sync("3. nothing changed")
        with store.connect() as c:
            before = c.execute(text("SELECT count(*), sum(amount) FROM opportunities")).one()
        with psycopg.connect(source_url, autocommit=True) as c:
            c.execute("UPDATE deals SET amount = amount + 1, updated_at = now() WHERE deal_id LIKE 'D000%'")
            c.execute("""INSERT INTO deals VALUES ('ZZZ', '2026-11-01 09:00+07', 'maybe', 1, 'A1', 'r1', 'x', NULL,
                         'Widget', now() + interval '1 day')""")
        sync("4. last row invalid (must fail)")
        with store.connect() as c:
            after = c.execute(text("SELECT count(*), sum(amount) FROM opportunities")).one()
        print(f"  {kind:10} {'   store unchanged after the failure':34} {'yes' if tuple(before) == tuple(after) else 'NO'}")
        with psycopg.connect(source_url, autocommit=True) as c:
            c.execute("DELETE FROM deals WHERE deal_id = 'ZZZ'")
        scrape(kind, store)
    finally:
        from kpi_engine.db import open_store

        open_store.cache_clear()
        cleanup()


def scrape(kind: str, store) -> None:
    from bot.service import start_bot
    from config.settings import Settings
    from kpi_engine.engine import KpiEngine
    from kpi_engine.ops import OpsStore
    from schedules.outbox import DIGEST_EVENT, post
    from slack_emulator import SlackEmulator

    ops = OpsStore(store)
    now = int(time.time())
    msgs = [post(f"digest:bench:C0:{i}", "C0", "x" * 400, None, DIGEST_EVENT) for i in range(10_050)]
    ops.enqueue(msgs, now - 3600)
    with store.begin() as c:
        c.execute(text("UPDATE ops_outbox SET state = 'sent', sent_at = :t WHERE id <= 10000"), {"t": now})
    cfg = AppConfig()
    with SlackEmulator(bot_token="xoxb-bench") as emu:
        settings = Settings(_env_file=None, slack_bot_token="xoxb-bench", slack_signing_secret="bench-secret-1234",
                            slack_api_base_url=emu.api_url, port=0)
        bot = start_bot(settings, cfg, KpiEngine(store, cfg), host="127.0.0.1", port=0)
        try:
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            times = []
            for _ in range(220):
                t = time.perf_counter()
                with opener.open(bot.url + "/metrics", timeout=5) as r:
                    r.read()
                times.append(time.perf_counter() - t)
            times = sorted(times[20:])
            print(f"  {kind:10} {'5. GET /metrics (200 scrapes)':34} median {statistics.median(times) * 1000:.1f} ms, "
                  f"p95 {times[int(len(times) * 0.95)] * 1000:.1f} ms")
        finally:
            bot.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    args = ap.parse_args()
    os.environ.setdefault("TMPDIR", str(DATA))  # the sync's CSV files: ~100 MB per million rows
    DATA.mkdir(parents=True, exist_ok=True)
    import tempfile

    tempfile.tempdir = str(DATA)
    print(f"machine: {machine()}")
    t = time.perf_counter()
    src = make_source(args.rows)
    print(f"source: {args.rows:,} deals, 2,000 reps, 50,000 accounts (built in {time.perf_counter() - t:.1f} s)")
    try:
        for kind in (("sqlite", "postgresql") if args.store == "both" else (args.store,)):
            run(kind, src, args.rows)
    finally:
        drop_source(src)


if __name__ == "__main__":
    main()
