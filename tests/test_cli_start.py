"""`kpibot ask` started without typer, pydantic, pydantic-settings or SQLAlchemy (issue 13: a fresh process
answers one question quickly; the figures are in benchmarks/bench_cli_start.py, not here).

What must hold: the start path loads none of them once the config was validated, it answers and
fails exactly as the typer command does, anything it cannot read exactly is left to typer, and a
config file's mistakes are still reported however often the file was read before."""

from __future__ import annotations

import copy
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from config.errors import SettingsError
from kpibot import startup
from kpibot.cli import plain_ask
from tests.conftest import ROOT
from tests.fixtures import write

KPIBOT = ROOT / ".venv" / "bin" / "kpibot"
ASK = ["ask", "--json", "revenue", "2026", "--as-of", "2026-06-01"]
HEAVY = ("typer", "pydantic", "pydantic_settings", "rich", "apscheduler", "sqlalchemy", "alembic")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("start")
    write(base / "csv" / "reps.csv", "rep_id,name\nr1,Ann\nr2,Bob\n")
    write(base / "csv" / "orders.csv", "order_id,account_id,ordered_at,amount\no1,a1,2026-05-01,100\n")
    done = run(["import", str(base / "csv")], base / "seed.db", base)
    assert done.returncode == 0, done.stderr
    return base / "seed.db"


def run(args: list[str], db: Path, cwd: Path, env: dict | None = None, importtime: bool = False,
        cache: Path | None = None) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items()
            if k not in ("KPIBOT_CONFIG", "PORT", "HOST", "KPIBOT_LOG_LEVEL", "KPIBOT_LOG_FORMAT")}
    full.update({"DATABASE_URL": f"sqlite:///{db}", "XDG_CACHE_HOME": str(cache or cwd / "cache")}, **(env or {}))
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "kpibot", *args]
    return subprocess.run(cmd, cwd=cwd, env=full, capture_output=True, text=True, timeout=60)


def imported(done: subprocess.CompletedProcess) -> set[str]:
    return {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


def test_ask_loads_no_typer_pydantic_settings_or_sqlalchemy_once_the_config_was_validated(store, tmp_path):
    first = run(ASK, store, tmp_path, importtime=True)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "pydantic" in imported(first)  # the first start validates the config with the models
    again = run(ASK, store, tmp_path, importtime=True)
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout) == json.loads(first.stdout)
    loaded = imported(again)
    assert "kpi_engine.engine" in loaded  # the probe sees the imports at all
    assert not [m for m in loaded if m.split(".")[0] in HEAVY]


# Each pair: what the start path answers, and the same through typer ("--" is typer's to read: the
# start path leaves it, and it means nothing more here than where the options end).
SAME = [
    (ASK, ["ask", "--json", "--as-of", "2026-06-01", "--", "revenue", "2026"]),
    (["ask", "revenue", "2026", "--as-of=2026-06-01"], ["ask", "--as-of", "2026-06-01", "--", "revenue", "2026"]),
    (["ask", "--json", "win", "rate", "by", "rep", "2026", "--as-of", "2026-06-01"],
     ["ask", "--json", "--as-of", "2026-06-01", "--", "win", "rate", "by", "rep", "2026"]),
    (["ask", "--explain", "revenue", "2026", "--as-of", "2026-06-01"],
     ["ask", "--explain", "--as-of", "2026-06-01", "--", "revenue", "2026"]),
    (["ask", "help"], ["ask", "--", "help"]),
    (["ask", "--json", "help"], ["ask", "--json", "--", "help"]),
    (["ask", "revnue", "2026"], ["ask", "--", "revnue", "2026"]),  # a typo: "did you mean"
    (["ask", "blorp", "quux"], ["ask", "--", "blorp", "quux"]),  # not understood
    (["ask", "--explain", "blorp"], ["ask", "--explain", "--", "blorp"]),
    (["ask", "revenue", "--as-of", "yesterday"], ["ask", "--as-of", "yesterday", "--", "revenue"]),
    (["ask", "x" * 3000], ["ask", "--", "x" * 3000]),
]


@pytest.mark.parametrize(("fast", "typer_read"), SAME, ids=[" ".join(f)[:40] for f, _ in SAME])
def test_the_start_path_answers_and_fails_as_the_typer_command_does(store, tmp_path, fast, typer_read):
    assert plain_ask(fast) is not None and plain_ask(typer_read) is None
    env = {"COLUMNS": "200"}
    a, b = run(fast, store, tmp_path, env=env), run(typer_read, store, tmp_path, env=env)
    assert (a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr)
    assert "Traceback" not in a.stderr


@pytest.mark.parametrize("args", [["ask", "--bogus", "x"], ["ask", "--json"], ["ask", "revenue", "--as-of"]])
def test_usage_mistakes_are_still_typers(store, tmp_path, args):
    done = run(args, store, tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "─ Error ─" in done.stderr  # typer's panel, as before


def test_a_store_problem_keeps_its_exit_code(tmp_path):
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    done = run(["ask", "revenue"], tmp_path / "junk.db", tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("kpibot: ") and len(done.stderr.splitlines()) == 1


def test_a_config_mistake_is_reported_even_after_the_file_was_good(store, tmp_path):
    cfg = write(tmp_path / "kpibot.toml", 'currency = "USD"\n')
    good = run(ASK, store, tmp_path, env={"KPIBOT_CONFIG": str(cfg)})
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["currency"] == "USD"
    again = run(ASK, store, tmp_path, env={"KPIBOT_CONFIG": str(cfg)}, importtime=True)
    assert json.loads(again.stdout) == json.loads(good.stdout) and "pydantic" not in imported(again)
    write(cfg, 'currency = "USD"\nmin_smaple = 3\n')
    bad = run(ASK, store, tmp_path, env={"KPIBOT_CONFIG": str(cfg)})
    assert bad.returncode == 2
    assert bad.stderr == f"kpibot: {cfg}: min_smaple: not a setting kpibot knows (did you mean 'min_sample'?)\n"
    write(cfg, 'timezone = "Mars/Olympus"\n')
    assert run(ASK, store, tmp_path, env={"KPIBOT_CONFIG": str(cfg)}).returncode == 2


def test_a_settings_mistake_is_reported_by_pydantic_as_before(store, tmp_path):
    done = run(ASK, store, tmp_path, env={"PORT": "lots"})
    assert done.returncode == 2
    assert done.stderr.startswith("kpibot: PORT 'lots' (environment or .env): ")


# ---------------------------------------------------------------------- the pieces


@pytest.mark.parametrize(("args", "read"), [
    (["ask", "win", "rate", "by", "team"], (["win", "rate", "by", "team"], None, False, False)),
    (["ask", "--json", "revenue", "--as-of", "2026-06-01", "q2"], (["revenue", "q2"], "2026-06-01", True, False)),
    (["ask", "revenue", "--as-of=2026-01-01", "--as-of", "2026-02-01", "--explain"],
     (["revenue"], "2026-02-01", False, True)),
    (["ask", "-", "revenue"], (["-", "revenue"], None, False, False)),
    (["ask", "--as-of="], None),  # no words
    (["ask", "revenue", "--as-of", "-1"], None),
    (["ask", "revenue", "--user", "U1"], None),
    (["ask", "revenue", "--help"], None),
    (["ask", "revenue", "--json=1"], None),
    (["ask", "--", "revenue"], None),
    (["ask", "revenue", "-5"], None),
    (["kpis"], None),
    ([], None),
])
def test_plain_ask_reads_only_what_typer_would_read_the_same_way(args, read):
    assert plain_ask(args) == read


def test_the_cached_config_has_the_models_fields_and_values(tmp_path, monkeypatch):
    from kpi_engine.config_check import load_config

    cfg_file = write(tmp_path / "c.toml", """
        timezone = "Asia/Tokyo"
        [access]
        min_reps = 4
        [display_names.team.ent]
        en = "Enterprise"
        aliases = ["big ones"]
        [[digests]]
        id = "daily"
        cron = "0 8 * * *"
    """)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    model = load_config(cfg_file)
    first = startup.quick_config(cfg_file)  # validates, keeps
    view = startup.quick_config(cfg_file)  # reads what was kept
    assert type(first).__name__ == "AppConfig" and isinstance(view, startup.AppConfigView)
    assert view.model_dump() == model.model_dump()
    assert view.tz == model.tz and view.access.min_reps == 4
    assert view.display_names["team"]["ent"].aliases == ["big ones"]
    with pytest.raises(AttributeError):
        view.currency = "USD"
    assert copy.deepcopy(view).model_dump() == pickle.loads(pickle.dumps(view)).model_dump() == model.model_dump()
    # an entry someone else could have written is not trusted: the file is validated again
    (entry,) = (tmp_path / "cache" / "kpibot").glob("config-*.json")
    entry.chmod(0o664)
    assert type(startup.quick_config(cfg_file)).__name__ == "AppConfig"
    assert isinstance(startup.quick_config(cfg_file), startup.AppConfigView)  # kept again, by this user


def test_store_settings_reads_the_environment_as_pydantic_settings_does(tmp_path, monkeypatch):
    from config.settings import get_settings

    monkeypatch.chdir(tmp_path)
    for k in list(os.environ):
        if k.lower() in ("database_url", "kpibot_config", "port"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("database_url", "sqlite:///x.db")
    monkeypatch.setenv("KPIBOT_CONFIG", "conf/k.toml")
    get_settings.cache_clear()
    try:
        quick, full = startup.store_settings(), get_settings()
        assert isinstance(quick, startup.StoreSettings)
        assert (quick.database_url, quick.kpibot_config) == (full.database_url, full.kpibot_config)
        monkeypatch.setenv("PORT", "99999")  # pydantic's to refuse, in its words
        get_settings.cache_clear()
        with pytest.raises(SettingsError, match="PORT '99999'"):
            startup.store_settings()
        monkeypatch.delenv("PORT")
        write(tmp_path / ".env", "DATABASE_URL=sqlite:///from-dotenv.db\n")
        get_settings.cache_clear()
        assert startup.store_settings().database_url == "sqlite:///x.db"  # the environment wins over .env
        monkeypatch.delenv("database_url")
        get_settings.cache_clear()
        assert startup.store_settings().database_url == "sqlite:///from-dotenv.db"
    finally:
        get_settings.cache_clear()


def test_the_grammar_patterns_are_kept_for_the_next_start_even_after_a_mistake(store, tmp_path):
    cache = tmp_path / "own-cache"
    done = run(["ask", "blorp", "quux", "last", "quarter"], store, tmp_path, cache=cache)
    assert done.returncode == 2 and done.stderr.startswith("kpibot: "), done.stderr  # not understood
    kept = list((cache / "kpibot").glob("regex-*.marshal"))
    assert len(kept) == 1 and kept[0].stat().st_mode & 0o777 == 0o600
    again = run(ASK, store, tmp_path, cache=cache)
    assert again.returncode == 0, again.stderr
    assert list((cache / "kpibot").glob("regex-*.marshal")) == kept
