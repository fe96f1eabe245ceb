"""Shared fixtures. Every engine test runs on SQLite and on PostgreSQL; the PostgreSQL half
is skipped, with the reason shown, when no server answers at KPIBOT_TEST_PG_URL
(default postgresql://postgres@127.0.0.1:5432/test)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATASETS = SHARED / "datasets"
PG_URL = os.environ.get("KPIBOT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")

_pg_reason: str | None = None


def _pg_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    global _pg_reason
    if _pg_reason is None:
        try:
            with psycopg.connect(PG_URL, connect_timeout=3) as c:
                c.execute("SELECT 1")
            _pg_reason = ""
        except Exception as exc:  # any failure to connect is a reason to skip, shown to the reader
            _pg_reason = f"PostgreSQL not reachable at {PG_URL}: {str(exc).splitlines()[0]}"
    return _pg_reason or None


def new_pg_schema() -> str:
    """A new empty schema in the test database (the caller drops it)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')
    return schema


def pg_schema_url(schema: str) -> str:
    """The store URL whose search_path is that schema."""
    base = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """A URL of an empty KPI store on each database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kpibot.db'}"
        return
    reason = _pg_available()
    if reason:
        pytest.skip(reason)
    schema = new_pg_schema()
    yield pg_schema_url(schema)
    from kpi_engine.db import open_store

    for eng in list(_engines_for(schema)):
        eng.dispose()
    open_store.cache_clear()
    with psycopg.connect(PG_URL, autocommit=True) as c:
        c.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _engines_for(schema: str):
    from kpi_engine.db import open_store

    # lru_cache keeps engines alive; dispose those on this schema so DROP SCHEMA is not blocked
    info = open_store.cache_info()
    if info.currsize:
        import gc

        from sqlalchemy import Engine

        for obj in gc.get_objects():
            if isinstance(obj, Engine) and schema in str(obj.url):
                yield obj


@pytest.fixture
def store(store_url):
    from kpi_engine.db import open_store

    return open_store(store_url)


def dataset(name: str) -> Path:
    p = DATASETS / name
    if not p.exists():
        pytest.skip(f"dataset {name} not found at {p} (needs ../shared/datasets beside the project)")
    return p


@pytest.fixture(scope="module")
def corpus_engine(tmp_path_factory):
    """The corpus's company (tests/test_corpus.py COMPANY) in a SQLite store, fiscal years from October:
    what the corpus parts and the reviews of the language layer read questions against."""
    from config.app_config import AppConfig
    from kpi_engine.db import open_store
    from kpi_engine.engine import KpiEngine
    from tests.fixtures import load
    from tests.test_corpus import COMPANY

    folder = tmp_path_factory.mktemp("corpus")
    store = open_store(f"sqlite:///{folder / 'kpibot.db'}")
    config = AppConfig(fiscal_year_start_month=10)
    load(store, folder / "csv", COMPANY, config=config)
    return KpiEngine(store, config)
