import sqlite3

import pytest
from sqlalchemy import inspect

from kpi_engine.db import StoreError, head_revision, open_store
from kpi_engine.models import TABLES


def test_open_store_creates_every_table(store):
    names = set(inspect(store).get_table_names())
    assert set(TABLES) <= names
    assert "alembic_version" in names


def test_open_store_twice_is_a_no_op(store_url):
    first = open_store(store_url)
    open_store.cache_clear()
    second = open_store(store_url)
    with second.connect() as c:
        from sqlalchemy import text

        assert c.execute(text("select version_num from alembic_version")).scalar() == head_revision()
    assert first is not second


def test_corrupt_sqlite_file_is_refused_and_untouched(tmp_path):
    p = tmp_path / "broken.db"
    p.write_bytes(b"this is not a database at all" * 100)
    before = p.read_bytes()
    with pytest.raises(StoreError, match="not a SQLite database"):
        open_store(f"sqlite:///{p}")
    assert p.read_bytes() == before


def test_foreign_sqlite_file_is_refused_and_untouched(tmp_path):
    p = tmp_path / "other.db"
    con = sqlite3.connect(p)
    con.execute("create table invoices (id integer)")
    con.commit()
    con.close()
    before = p.read_bytes()
    with pytest.raises(StoreError, match="another program"):
        open_store(f"sqlite:///{p}")
    assert p.read_bytes() == before
