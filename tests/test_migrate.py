"""The migration policy (kpi_engine/db.py): new stores are created by any command, older ones only by
`kpibot migrate` / `kpibot run --migrate`, under a lock, so processes starting at once never race."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import text

from kpi_engine import db
from kpi_engine.db import SCHEMA_HEAD, SchemaOutOfDate, StoreError, migrate_store, open_store
from tests.conftest import ROOT

OLD = "0002"  # the ops tables' revision: a store made by an earlier kpibot


def _at_revision(url: str, rev: str) -> None:
    """A store built by an older kpibot: its migrations up to `rev` only, plus one rep."""
    from alembic import command

    eng = db.make_engine(url)
    with eng.begin() as conn:
        cfg = db._alembic_config(eng)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, rev)
        conn.execute(text("INSERT INTO reps (rep_id, name) VALUES ('r1', 'Somchai')"))
    eng.dispose()


def _revision(url: str) -> str | None:
    eng = db.make_engine(url)
    try:
        with eng.connect() as c:
            return db.stored_revision(c)
    finally:
        eng.dispose()


def _env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "KPIBOT_"))}
    return {**env, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), **extra}


def _kpibot(*args: str, url: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kpibot", *args], capture_output=True, text=True,
                          env=_env(url, **env), cwd=ROOT, timeout=timeout)


def test_the_head_constant_is_alembics_head():
    # SCHEMA_HEAD is what every command compares with, without loading the scripts: it must follow them
    assert SCHEMA_HEAD == db.head_revision()


def test_checking_a_store_at_head_loads_no_migration_code(store_url):
    open_store(store_url)
    code = ("import sys; from kpi_engine.db import open_store; open_store(sys.argv[1]); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))")
    r = subprocess.run([sys.executable, "-c", code, store_url], capture_output=True, text=True, cwd=ROOT,
                       env=_env(store_url), timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_an_older_store_is_not_upgraded_behind_the_operators_back(store_url):
    _at_revision(store_url, OLD)
    with pytest.raises(SchemaOutOfDate, match="kpibot migrate") as e:
        open_store(store_url)
    assert e.value.current == OLD
    assert _revision(store_url) == OLD  # untouched


def test_migrate_upgrades_an_older_store_and_keeps_its_data(store_url):
    _at_revision(store_url, OLD)
    assert migrate_store(store_url) == (OLD, SCHEMA_HEAD)
    eng = open_store(store_url)
    with eng.connect() as c:
        assert c.execute(text("SELECT name FROM reps WHERE rep_id = 'r1'")).scalar() == "Somchai"
        assert c.execute(text("SELECT count(*) FROM data_freshness")).scalar() == 0
    assert migrate_store(store_url) == (SCHEMA_HEAD, SCHEMA_HEAD)  # again: nothing to do


def test_a_store_from_a_newer_kpibot_is_refused_untouched(store_url):
    open_store(store_url)
    open_store.cache_clear()
    eng = db.make_engine(store_url)
    with eng.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    eng.dispose()
    with pytest.raises(StoreError, match="newer kpibot"):
        open_store(store_url)
    with pytest.raises(StoreError, match="does not know"):
        migrate_store(store_url)
    assert _revision(store_url) == "9999"


def test_cli_on_an_older_store_says_to_migrate_then_migrate_fixes_it(store_url):
    _at_revision(store_url, OLD)
    r = _kpibot("outbox", "list", url=store_url)
    assert r.returncode == 2
    assert "kpibot migrate" in r.stderr and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = _kpibot("migrate", url=store_url)
    assert r.returncode == 0, r.stderr
    assert f"upgraded from {OLD} to {SCHEMA_HEAD}" in r.stdout
    r = _kpibot("outbox", "list", url=store_url)
    assert r.returncode == 0, r.stderr


def test_run_on_an_older_store_says_so_and_stops(store_url):
    _at_revision(store_url, OLD)
    r = _kpibot("run", url=store_url, PORT="0", timeout=60)
    assert r.returncode == 2
    assert f"schema revision {OLD}" in r.stderr and "kpibot migrate" in r.stderr and "Traceback" not in r.stderr
    assert _revision(store_url) == OLD


@pytest.mark.parametrize("old", [False, True], ids=["new store", "older store"])
def test_processes_migrating_at_once_never_race(store_url, old):
    if old:
        _at_revision(store_url, OLD)
    procs = [subprocess.Popen([sys.executable, "-m", "kpibot", "migrate"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=_env(store_url), cwd=ROOT) for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [e for _, e in outs]
    said = [o for o, _ in outs]
    changed = [o for o in said if "created" in o or "upgraded" in o]
    assert len(changed) == 1, said  # one did the work, the others found it done
    assert all("nothing to do" in o for o in said if o not in changed)
    assert _revision(store_url) == SCHEMA_HEAD


def test_commands_starting_at_once_on_a_new_store_all_work(store_url):
    procs = [subprocess.Popen([sys.executable, "-m", "kpibot", "outbox", "list"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=_env(store_url), cwd=ROOT) for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [e for _, e in outs]
    assert _revision(store_url) == SCHEMA_HEAD


def test_run_with_migrate_upgrades_then_serves(store_url):
    import signal

    _at_revision(store_url, OLD)
    proc = subprocess.Popen([sys.executable, "-m", "kpibot", "run", "--migrate"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=_env(store_url, PORT="0"), cwd=ROOT)
    try:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if "sandbox: open" in line:
                break
        assert any("sandbox: open" in x for x in seen), "".join(seen)
        assert _revision(store_url) == SCHEMA_HEAD
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(40) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
