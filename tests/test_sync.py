"""Scheduled sync of [[sources]] (kpi_engine/sync.py) against a real PostgreSQL source database (one of
its own, created and dropped here) and a real folder, into stores on SQLite and PostgreSQL: full and
incremental runs, and failures at every step leaving the store as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy import text

from config.app_config import AppConfig, ConfigError
from kpi_engine import freshness
from kpi_engine.config_check import load_config
from kpi_engine.sync import states, sync_source
from tests.conftest import PG_URL, ROOT, _pg_available

BKK = ZoneInfo("Asia/Bangkok")
NOW = datetime(2026, 11, 29, 14, 0, tzinfo=BKK)
ENV = "KPIBOT_TEST_CRM_URL"

DEALS = """SELECT deal_id AS opportunity_id, opened AS created_at, status, amount, account AS account_id,
                  owner AS owner_rep_id, closed AS closed_at, updated_at
           FROM deals"""
REPS = "SELECT rep_id, name, team FROM sales_reps"


@pytest.fixture
def source_db():
    """A PostgreSQL database acting as a CRM's replica: deals and reps, with updated_at stamps."""
    reason = _pg_available()
    if reason:
        pytest.skip(reason)
    name = f"kpibot_src_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("""CREATE TABLE deals (deal_id text PRIMARY KEY, opened timestamptz NOT NULL, status text NOT NULL,
                     amount numeric, account text, owner text, closed timestamptz, updated_at timestamptz NOT NULL)""")
        c.execute("CREATE TABLE sales_reps (rep_id text PRIMARY KEY, name text, team text)")
        c.execute("INSERT INTO sales_reps VALUES ('r1', 'Somchai', 'ent'), ('r2', 'Nok', 'smb')")
        for i in range(1, 4):
            _deal(c, f"d{i}", "won", 1000 * i, f"2026-11-0{i} 10:00+07")
    yield url
    with psycopg.connect(PG_URL, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _deal(c, deal_id: str, status: str, amount: float | None, updated: str, closed: str | None = "2026-11-10 12:00+07"):
    c.execute("""INSERT INTO deals VALUES (%s, '2026-10-01 09:00+07', %s, %s, 'a1', 'r1', %s, %s)
                 ON CONFLICT (deal_id) DO UPDATE SET status = EXCLUDED.status, amount = EXCLUDED.amount,
                 closed = EXCLUDED.closed, updated_at = EXCLUDED.updated_at""",
              (deal_id, status, amount, closed if status != "open" else None, updated))


def crm_config(**source) -> AppConfig:
    src = {"name": "crm", "kind": "sql", "url_env": ENV, "cron": "*/15 * * * *",
           "queries": {"reps": REPS, "opportunities": {"query": DEALS, "watermark": "updated_at"}}} | source
    return AppConfig.model_validate({"currency": "THB", "sources": [src]})


def _count(store, table: str = "opportunities") -> int:
    with store.connect() as c:
        return c.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def _amounts(store) -> dict[str, float]:
    with store.connect() as c:
        return {k: v for k, v in c.execute(text("SELECT opportunity_id, amount FROM opportunities"))}


def _sync(store, cfg, url, now=NOW, **kw):
    return sync_source(store, cfg, cfg.sources[0], now=now, environ={ENV: url}, **kw)


# ---------------------------------------------------------------------- sql


def test_full_then_incremental_sync_through_the_importer(store, source_db):
    cfg = crm_config()
    r = _sync(store, cfg, source_db)
    assert r.status == "ok", r.error
    assert r.tables["opportunities"]["inserted"] == 3 and r.tables["reps"]["inserted"] == 2
    assert _amounts(store) == {"d1": 1000, "d2": 2000, "d3": 3000}
    assert not any("extra column" in w for w in r.warnings)  # the watermark column is not passed on
    st = states(store)["crm"]
    assert st.failures == 0 and st.last_success_at == int(NOW.timestamp())
    assert st.watermarks["opportunities"]["type"] == "datetime"
    # freshness: both tables are complete up to the run, and a KPI on them says so
    fresh = freshness.all_tables(store)
    assert fresh["opportunities"].fresh_to == int(NOW.timestamp()) and fresh["opportunities"].origin == "sync:crm"

    with psycopg.connect(source_db, autocommit=True) as c:
        _deal(c, "d2", "won", 2500, "2026-11-20 10:00+07")  # changed
        _deal(c, "d4", "lost", None, "2026-11-21 10:00+07")  # new
    later = NOW + timedelta(minutes=15)
    r = _sync(store, cfg, source_db, now=later)
    assert r.status == "ok", r.error
    opp = r.tables["opportunities"]
    assert (opp["read"], opp["inserted"], opp["updated"]) == (2, 1, 1)  # only what changed was read
    assert _amounts(store) == {"d1": 1000, "d2": 2500, "d3": 3000, "d4": None}

    r = _sync(store, cfg, source_db, now=later + timedelta(minutes=15))
    assert r.status == "nothing_new" and r.tables.get("opportunities", {}).get("read", 0) == 0
    assert freshness.all_tables(store)["opportunities"].fresh_to == int((later + timedelta(minutes=15)).timestamp())


def test_dry_run_reads_and_checks_but_writes_nothing(store, source_db):
    cfg = crm_config()
    r = _sync(store, cfg, source_db, dry_run=True)
    assert r.status == "dry_run" and r.tables["opportunities"]["inserted"] == 3
    assert _count(store) == 0 and "crm" not in states(store) and freshness.all_tables(store) == {}


def test_credentials_come_only_from_the_environment(store, source_db):
    cfg = crm_config()
    r = sync_source(store, cfg, cfg.sources[0], now=NOW, environ={})
    assert r.failed and f"{ENV}" in r.error and "not set" in r.error
    assert source_db.split("@")[0] not in r.error  # nothing of a URL is shown
    with pytest.raises(ValueError, match="credentials never go in the config"):
        AppConfig.model_validate({"sources": [{"name": "crm", "kind": "sql", "url": source_db,
                                               "queries": {"reps": REPS}}]})


def test_a_query_failing_after_another_succeeded_writes_nothing(store, source_db):
    cfg = crm_config(queries={"reps": REPS, "opportunities": {"query": DEALS + " WHERE amount / 0 > 1",
                                                              "watermark": "updated_at"}})
    r = _sync(store, cfg, source_db)
    assert r.failed and "query opportunities failed" in r.error and "division by zero" in r.error
    assert _count(store, "reps") == 0 and _count(store) == 0  # reps were read, but not written alone
    st = states(store)["crm"]
    assert st.failures == 1 and st.last_success_at is None and not st.watermarks
    assert freshness.all_tables(store) == {}


def test_an_invalid_row_fails_the_run_and_keeps_the_watermark(store, source_db):
    cfg = crm_config()
    assert _sync(store, cfg, source_db).status == "ok"
    before = states(store)["crm"].watermarks
    with psycopg.connect(source_db, autocommit=True) as c:
        _deal(c, "d5", "won", 500, "2026-11-22 10:00+07")
        _deal(c, "d6", "maybe", 700, "2026-11-23 10:00+07")  # not a status
    r = _sync(store, cfg, source_db, now=NOW + timedelta(hours=1))
    assert r.failed and "maybe" in r.error and "nothing was written" in r.error
    assert set(_amounts(store)) == {"d1", "d2", "d3"}  # d5 is valid, but the run is all or nothing
    st = states(store)["crm"]
    assert st.watermarks == before and st.failures == 1
    with psycopg.connect(source_db, autocommit=True) as c:
        c.execute("UPDATE deals SET status = 'lost', updated_at = '2026-11-24 10:00+07' WHERE deal_id = 'd6'")
    r = _sync(store, cfg, source_db, now=NOW + timedelta(hours=2))
    assert r.status == "ok" and set(_amounts(store)) == {"d1", "d2", "d3", "d5", "d6"}  # d5 not lost
    assert states(store)["crm"].failures == 0


def test_a_failure_just_before_commit_leaves_nothing(store, source_db, monkeypatch):
    import kpi_engine.sync as sync_mod

    def boom(*a, **kw):
        raise OSError("disk full")

    monkeypatch.setattr(sync_mod, "_success", boom)  # runs inside the import transaction, after every row
    r = _sync(store, crm_config(), source_db)
    assert r.failed and "disk full" in r.error
    assert _count(store) == 0 and _count(store, "reps") == 0 and freshness.all_tables(store) == {}
    assert states(store)["crm"].failures == 1


def test_an_unreachable_source_is_a_reported_failure(store):
    cfg = crm_config()
    r = sync_source(store, cfg, cfg.sources[0], now=NOW,
                    environ={ENV: "postgresql://kpibot:secret-pw@127.0.0.1:1/crm?connect_timeout=2"})
    assert r.failed and "source crm" in r.error and "secret-pw" not in r.error
    assert states(store)["crm"].failures == 1


def test_a_sync_killed_mid_import_leaves_the_store_as_it_was(store_url, source_db, tmp_path):
    """kill -9 while the rows are being written: the transaction dies with the process."""
    from kpi_engine.db import open_store

    store = open_store(store_url)
    n = 60_000
    with psycopg.connect(source_db, autocommit=True) as c:
        c.execute("""INSERT INTO deals SELECT 'b' || g, '2026-10-01 09:00+07', 'won', g, 'a1', 'r1',
                     '2026-11-10 12:00+07', '2026-11-25 10:00+07' FROM generate_series(1, %s) g""", (n,))
    cfg_file = tmp_path / "crm.toml"
    cfg_file.write_text(f'''[[sources]]
name = "crm"
kind = "sql"
url_env = "{ENV}"
[sources.queries.opportunities]
query = """{DEALS}"""
watermark = "updated_at"
''', encoding="utf-8")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}, "DATABASE_URL": store_url,
           "KPIBOT_CONFIG": str(cfg_file), ENV: source_db, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "kpibot", "sync"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # the rows are being written once the source's CSV is complete and the importer holds the store
        deadline = time.time() + 60
        writing = False
        while time.time() < deadline and proc.poll() is None and not writing:
            writing = _writing(store, tmp_path, n)
            time.sleep(0.01)
        assert writing and proc.poll() is None, proc.communicate()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    store.dispose()
    assert _count(store) == 0 and freshness.all_tables(store) == {} and "crm" not in states(store)
    # and the next run does it all
    r = _sync(store, crm_config(queries={"opportunities": {"query": DEALS, "watermark": "updated_at"}}), source_db)
    assert r.status == "ok" and _count(store) == n + 3


def _writing(store, tmp: Path, n: int) -> bool:
    csvs = list(tmp.glob("kpibot-sync-crm-*/opportunities.csv"))
    if not csvs or sum(1 for _ in csvs[0].open("rb")) < n:
        return False
    if store.dialect.name == "postgresql":
        with store.connect() as c:
            return bool(c.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                       "AND state <> 'idle' AND query ILIKE 'INSERT INTO opportunities%'")).scalar())
    wal = Path(store.url.database + "-wal")
    return wal.exists() and wal.stat().st_size > 1_000_000


def test_cli_sync_reports_and_exits_non_zero_on_failure(store_url, source_db, tmp_path):
    cfg_file = tmp_path / "crm.toml"
    cfg_file.write_text(f'''[[sources]]
name = "crm"
kind = "sql"
url_env = "{ENV}"
queries = {{ reps = "{REPS}" }}
''', encoding="utf-8")
    base = {**{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}, "DATABASE_URL": store_url,
            "KPIBOT_CONFIG": str(cfg_file), "PYTHONPATH": str(ROOT)}

    def run(*args, **env):
        return subprocess.run([sys.executable, "-m", "kpibot", "sync", *args], env={**base, **env}, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)

    r = run("--source", "crm", **{ENV: source_db})
    assert r.returncode == 0, r.stderr
    assert "crm (sql): ok" in r.stdout and "reps: 2 read, 2 inserted" in r.stdout
    r = run()
    assert r.returncode == 1 and f"{ENV}" in r.stdout and "not set" in r.stdout
    r = run("--source", "nope")
    assert r.returncode == 2 and "no source 'nope'" in r.stderr and "Traceback" not in r.stderr


def test_config_checks_sources_when_it_loads(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text('[[sources]]\nname = "crm"\nkind = "sql"\nurl_env = "X"\nqueries = { deals = "select 1" }\n')
    with pytest.raises(ConfigError, match="deals is not a canonical table"):
        load_config(p)
    p.write_text('[[sources]]\nname = "drop"\nkind = "folder"\n')
    with pytest.raises(ConfigError, match="needs path"):
        load_config(p)


# ---------------------------------------------------------------------- folder


def _csv(folder: Path, name: str, body: str, age: float = 3600) -> Path:
    p = folder / name
    p.write_text(body, encoding="utf-8")
    t = time.time() - age
    os.utime(p, (t, t))
    return p


OPPS = "opportunity_id,created_at,status,amount,closed_at\no1,2026-10-01,won,100,2026-11-01\no2,2026-10-02,lost,,2026-11-02\n"


def folder_config(folder: Path, **kw) -> AppConfig:
    return AppConfig.model_validate({"sources": [{"name": "drop", "kind": "folder", "path": str(folder),
                                                  "settle_seconds": 60} | kw]})


def test_folder_files_are_taken_once_settled_then_archived(store, tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    cfg = folder_config(drop)
    _csv(drop, "opportunities.csv", OPPS)
    _csv(drop, "reps.csv", "rep_id,name\nr1,Somchai\n", age=5)  # still being written, as far as we know
    r = sync_source(store, cfg, cfg.sources[0], now=NOW)
    assert r.status == "ok" and r.files == ["opportunities.csv"] and _count(store) == 2
    assert (drop / "archive").is_dir() and not (drop / "opportunities.csv").exists()
    assert [p.name for p in (drop / "archive").rglob("*.csv")] == ["opportunities.csv"]
    assert freshness.all_tables(store)["opportunities"].origin == "sync:drop"

    r = sync_source(store, cfg, cfg.sources[0], now=NOW + timedelta(minutes=1))
    assert r.status == "waiting" and "reps.csv" in r.message and _count(store, "reps") == 0
    os.utime(drop / "reps.csv", (time.time() - 120, time.time() - 120))
    r = sync_source(store, cfg, cfg.sources[0], now=NOW + timedelta(minutes=2))
    assert r.status == "ok" and _count(store, "reps") == 1
    r = sync_source(store, cfg, cfg.sources[0], now=NOW + timedelta(minutes=3))
    assert r.status == "nothing_new"


def test_folder_mark_mode_leaves_files_and_never_imports_one_twice(store, tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    cfg = folder_config(drop, after="mark")
    _csv(drop, "opportunities.csv", OPPS)
    assert sync_source(store, cfg, cfg.sources[0], now=NOW).status == "ok"
    assert (drop / "opportunities.csv").exists() and not (drop / "archive").exists()
    assert sync_source(store, cfg, cfg.sources[0], now=NOW + timedelta(minutes=1)).status == "nothing_new"
    # a new export under the same name is a new file
    _csv(drop, "opportunities.csv", OPPS.replace("o2,2026-10-02,lost,,", "o2,2026-10-02,won,50,"), age=600)
    r = sync_source(store, cfg, cfg.sources[0], now=NOW + timedelta(minutes=2))
    assert r.status == "ok" and r.tables["opportunities"]["updated"] == 1


def test_folder_with_a_mapping_waits_for_every_file_it_reads(store, tmp_path):
    from tests.conftest import dataset

    maven = dataset("maven_crm_sales_opportunities")
    drop = tmp_path / "drop"
    drop.mkdir()
    cfg = AppConfig.model_validate({"currency": "USD", "sources": [
        {"name": "maven", "kind": "folder", "path": str(drop), "mapping": "maven", "settle_seconds": 1}]})
    _csv(drop, "sales_pipeline.csv", (maven / "sales_pipeline.csv").read_text(encoding="utf-8"))
    r = sync_source(store, cfg, cfg.sources[0], now=NOW)
    assert r.status == "waiting" and "accounts.csv" in r.message and _count(store) == 0
    for name in ("accounts.csv", "products.csv", "sales_teams.csv"):
        _csv(drop, name, (maven / name).read_text(encoding="utf-8"))
    r = sync_source(store, cfg, cfg.sources[0], now=NOW)
    assert r.status == "ok", r.error
    assert _count(store) > 8000 and _count(store, "reps") == 35


def test_a_bad_file_fails_the_run_and_stays_for_the_next(store, tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    cfg = folder_config(drop)
    _csv(drop, "reps.csv", "rep_id,name\nr1,Somchai\n")
    _csv(drop, "opportunities.csv", OPPS + "o3,2026-13-45,won,10,2026-11-03\n")
    r = sync_source(store, cfg, cfg.sources[0], now=NOW)
    assert r.failed and "opportunities.csv:4" in r.error and "created_at" in r.error
    assert _count(store) == 0 and _count(store, "reps") == 0  # the good file waits with the bad one
    assert (drop / "opportunities.csv").exists() and (drop / "reps.csv").exists()
    assert states(store)["drop"].failures == 1


def test_a_file_changing_while_it_is_imported_rolls_the_run_back(store, tmp_path, monkeypatch):
    import kpi_engine.sync as sync_mod

    drop = tmp_path / "drop"
    drop.mkdir()
    cfg = folder_config(drop)
    p = _csv(drop, "opportunities.csv", OPPS)
    real = sync_mod.import_path

    def import_while_the_export_goes_on(*a, **kw):
        with p.open("a", encoding="utf-8") as f:
            f.write("o9,2026-10-09,won,900,2026-11-09\n")
        return real(*a, **kw)

    monkeypatch.setattr(sync_mod, "import_path", import_while_the_export_goes_on)
    r = sync_source(store, cfg, cfg.sources[0], now=NOW)
    assert r.failed and "changed while it was being imported" in r.error
    assert _count(store) == 0 and p.exists()


def test_one_run_of_a_source_at_a_time(store, tmp_path):
    from kpi_engine.locks import named_lock

    drop = tmp_path / "drop"
    drop.mkdir()
    _csv(drop, "opportunities.csv", OPPS)
    cfg = folder_config(drop)
    with named_lock(store, "sync-drop") as got:
        assert got
        r = sync_source(store, cfg, cfg.sources[0], now=NOW)
    assert r.status == "busy" and _count(store) == 0
    assert sync_source(store, cfg, cfg.sources[0], now=NOW).status == "ok"


def test_any_sqlalchemy_source_works_incrementally_by_a_version_number(store, tmp_path):
    """A source that is not PostgreSQL (here a SQLite file): rows streamed through SQLAlchemy, an
    integer watermark."""
    import sqlite3

    src = tmp_path / "crm.sqlite"
    con = sqlite3.connect(src)
    con.execute("CREATE TABLE deals (id TEXT, opened TEXT, status TEXT, amount REAL, version INTEGER)")
    con.executemany("INSERT INTO deals VALUES (?, ?, ?, ?, ?)",
                    [("s1", "2026-10-01 09:00:00", "open", None, 1), ("s2", "2026-10-02T10:00:00+07:00", "open", 5, 2)])
    con.commit()
    cfg = AppConfig.model_validate({"sources": [{
        "name": "lite", "kind": "sql", "url_env": "LITE_URL", "queries": {"opportunities": {
            "query": "SELECT id AS opportunity_id, opened AS created_at, status, amount, version FROM deals",
            "watermark": "version"}}}]})
    env = {"LITE_URL": f"sqlite:///{src}"}
    r = sync_source(store, cfg, cfg.sources[0], now=NOW, environ=env)
    assert r.status == "ok" and r.tables["opportunities"]["inserted"] == 2
    assert states(store)["lite"].watermarks["opportunities"] == {"type": "int", "value": 2}
    con.execute("UPDATE deals SET amount = 7, version = 3 WHERE id = 's1'")
    con.commit()
    r = sync_source(store, cfg, cfg.sources[0], now=NOW, environ=env)
    assert (r.rows, r.tables["opportunities"]["updated"]) == (1, 1)
    assert sync_source(store, cfg, cfg.sources[0], now=NOW, environ=env).status == "nothing_new"
    con.close()


def test_timestamps_with_an_offset_read_fast_the_same_as_the_exact_parser():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from kpi_engine import periods
    from kpi_engine.importer import _Clock

    clock = _Clock(ZoneInfo("America/New_York"))  # a zone with DST: the fast path must not depend on it

    @settings(max_examples=400, deadline=None)
    @given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)),
           st.integers(-14 * 4, 14 * 4), st.sampled_from(["T", " "]), st.booleans(), st.booleans())
    def check(dt, quarter_hours, sep, colon, fraction):
        sign = "+" if quarter_hours >= 0 else "-"
        h, m = divmod(abs(quarter_hours) * 15, 60)
        off = f"{sign}{h:02d}{':' if colon else ''}{m:02d}"
        text_ = dt.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + (f".{dt.microsecond:06d}" if fraction else "") + off
        assert clock.instant(text_) == int(periods.parse_instant(text_, clock.tz).timestamp())

    check()


def test_a_sql_source_through_a_mapping_file(store, source_db, tmp_path):
    """Queries named after the files a mapping reads: the source's own column names, mapped."""
    mapping = tmp_path / "crm.toml"
    mapping.write_text('''[mapping]
name = "CRM replica"

[[table]]
target = "opportunities"
source = "deals.csv"
[table.columns]
opportunity_id = "deal_id"
created_at = "opened"
status = { from = "status", map = { won = "won", lost = "lost", open = "open" }, strict = true }
amount = "amount"
closed_at = "closed"
owner_rep_id = "owner"
''', encoding="utf-8")
    cfg = AppConfig.model_validate({"sources": [{
        "name": "crm", "kind": "sql", "url_env": ENV, "mapping": str(mapping),
        "queries": {"deals": {"query": "SELECT * FROM deals", "watermark": "updated_at"}}}]})
    r = _sync(store, cfg, source_db)
    assert r.status == "ok", r.error
    assert r.tables["opportunities"]["inserted"] == 3 and _amounts(store) == {"d1": 1000, "d2": 2000, "d3": 3000}
    assert freshness.all_tables(store)["opportunities"].origin == "sync:crm"
    with psycopg.connect(source_db, autocommit=True) as c:
        _deal(c, "d1", "lost", None, "2026-11-28 10:00+07")
    r = _sync(store, cfg, source_db, now=NOW + timedelta(minutes=5))
    assert r.tables["opportunities"]["updated"] == 1 and _amounts(store)["d1"] is None


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_the_store_connection_dying_mid_import_writes_nothing_and_is_reported(store, source_db):
    """The store's PostgreSQL backend is terminated while the rows are being written (a restart, a
    failover): the transaction goes with it, the run is a failure, and the next run does it all."""
    import threading

    n = 60_000
    with psycopg.connect(source_db, autocommit=True) as c:
        c.execute("""INSERT INTO deals SELECT 'b' || g, '2026-10-01 09:00+07', 'won', g, 'a1', 'r1',
                     '2026-11-10 12:00+07', '2026-11-25 10:00+07' FROM generate_series(1, %s) g""", (n,))
    cfg = crm_config(queries={"opportunities": {"query": DEALS, "watermark": "updated_at"}})
    out: list = []
    t = threading.Thread(target=lambda: out.append(_sync(store, cfg, source_db)))
    t.start()
    killed = 0
    deadline = time.time() + 60
    with store.connect() as c:
        while not killed and t.is_alive() and time.time() < deadline:
            killed = c.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND query ILIKE 'INSERT INTO opportunities%'")).scalar()
            c.commit()
    t.join(60)
    assert killed, "the import's INSERT was never seen"
    [r] = out
    assert r.failed and "terminat" in r.error.lower()
    assert _count(store) == 0 and freshness.all_tables(store) == {}
    assert states(store)["crm"].failures == 1
    r = _sync(store, cfg, source_db)
    assert r.status == "ok" and _count(store) == n + 3
