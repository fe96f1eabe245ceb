"""The SQLite reader `kpibot ask` uses instead of SQLAlchemy (kpi_engine/litestore.py): the same
answers as through SQLAlchemy, for every KPI x breakdown x period; it is used only for an existing
store of ours at the current schema, and anything else gets open_store's behaviour and messages."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine
from sqlalchemy import text as sa_text

from config.app_config import AppConfig
from kpi_engine import db, demo
from kpi_engine.engine import KpiEngine
from kpi_engine.litestore import LiteEngine, sqlite_file
from kpi_engine.query import PeriodSpec, Query
from kpi_engine.sql import Sql, text

BKK = ZoneInfo("Asia/Bangkok")
PERIODS = [PeriodSpec("current", grain="month"), PeriodSpec("current", grain="quarter", offset=-1),
           PeriodSpec("current", grain="year"), PeriodSpec("rolling", days=45)]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("lite") / "demo.db"
    url = f"sqlite:///{path}"
    store = db.open_store(url)
    demo.generate(store, seed=5, scale=500, anchor=date(2026, 11, 23))
    return url


def test_every_kpi_breakdown_and_period_answers_the_same_as_through_sqlalchemy(demo_db):
    config = AppConfig()
    reader = db.open_reader(demo_db)
    assert isinstance(reader, LiteEngine)
    lite, full = KpiEngine(reader, config), KpiEngine(db.open_store(demo_db), config)
    as_of = datetime(2026, 11, 23, 10, tzinfo=BKK)
    asked = 0
    for key, spec in full.catalogue.items():
        for by in (None, *spec.breakdowns):
            for per in PERIODS:
                q = Query(key, per, breakdown=by)
                assert lite.answer(q, as_of).to_json() == full.answer(q, as_of).to_json(), (key, by, per)
                asked += 1
    assert asked > 200
    for words in ("win rate by team last quarter", "ยอดขาย เดือนที่แล้ว", "revenue north 2026-05", "top 3 reps by revenue"):
        assert lite.parse(words) == full.parse(words)
    reader.dispose()


def test_rows_have_columns_as_attributes_and_a_mapping_like_sqlalchemys(demo_db):
    reader = db.open_reader(demo_db)
    with reader.connect() as conn, db.open_store(demo_db).connect() as sa_conn:
        sql = "SELECT rep_id, name, team FROM reps ORDER BY rep_id LIMIT 3"
        ours, theirs = conn.execute(text(sql)).all(), sa_conn.execute(sa_text(sql)).all()
        assert [tuple(r) for r in ours] == [tuple(r) for r in theirs]
        assert [(r.rep_id, r.team) for r in ours] == [(r.rep_id, r.team) for r in theirs]
        assert [r._mapping for r in ours] == [dict(r._mapping) for r in theirs]
        assert conn.execute(Sql("SELECT COUNT(*) FROM reps")).scalar() == sa_conn.execute(
            sa_text("SELECT COUNT(*) FROM reps")).scalar()
        with pytest.raises(AttributeError):
            _ = ours[0].nope
    reader.dispose()


def test_values_are_stored_as_through_sqlalchemy(tmp_path):
    path = tmp_path / "t.db"
    values = [datetime(2026, 5, 1, 9, 30), datetime(2026, 5, 1, 9, 30, 1, 250), date(2026, 5, 1), True, 1.5, None,
              "ก", 7]
    sa_engine = create_engine(f"sqlite:///{path}")
    with sa_engine.begin() as c:
        c.execute(sa_text("CREATE TABLE t (who TEXT, i INTEGER, v)"))
        for i, v in enumerate(values):
            c.execute(sa_text("INSERT INTO t VALUES ('sqlalchemy', :i, :v)"), {"i": i, "v": v})
    reader = LiteEngine(str(path), lambda: sqlite3.connect(path, check_same_thread=False), None)
    with reader.begin() as c:
        for i, v in enumerate(values):
            c.execute(Sql("INSERT INTO t VALUES ('lite', :i, :v)"), {"i": i, "v": v})
    with reader.connect() as c:
        got = {who: [(v, t) for v, t in c.execute(Sql(f"SELECT v, typeof(v) FROM t WHERE who = '{who}' ORDER BY i"))]
               for who in ("sqlalchemy", "lite")}
    assert got["lite"] == got["sqlalchemy"] and len(got["lite"]) == len(values)
    reader.dispose()


def test_sql_made_before_sqlalchemy_was_loaded_runs_on_a_sqlalchemy_connection(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as c:
        assert c.execute(Sql("SELECT :a + 1"), {"a": 41}).scalar() == 42


def test_only_an_existing_store_of_ours_at_the_head_is_read_without_sqlalchemy(tmp_path, demo_db):
    new = tmp_path / "new.db"
    made = db.open_reader(f"sqlite:///{new}")  # created, as any command creates a brand-new store
    assert not isinstance(made, LiteEngine) and new.exists()
    assert isinstance(db.open_reader(f"sqlite:///{new}"), LiteEngine)

    old = tmp_path / "old.db"
    with sqlite3.connect(new) as src, sqlite3.connect(old) as dst:
        src.backup(dst)  # the tables may still be in new.db's -wal file
    with sqlite3.connect(old) as con:
        con.execute("UPDATE alembic_version SET version_num = '0007'")
    with pytest.raises(db.SchemaOutOfDate) as lite_err:
        db.open_reader(f"sqlite:///{old}")
    db.open_store.cache_clear()
    with pytest.raises(db.SchemaOutOfDate) as full_err:
        db.open_store(f"sqlite:///{old}")
    assert str(lite_err.value) == str(full_err.value)

    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as con:
        con.execute("CREATE TABLE notes (x)")
    with pytest.raises(db.StoreError, match="a SQLite database of another program"):
        db.open_reader(f"sqlite:///{foreign}")

    assert sqlite_file("sqlite:///:memory:") is None and sqlite_file("sqlite://") is None
    assert sqlite_file("sqlite:///a.db?mode=ro") is None and sqlite_file("postgresql://x/y") is None
    assert str(sqlite_file("sqlite:////tmp/a.db")) == "/tmp/a.db"
