"""What the store knows about its own data: where each table's rows came from and how fresh they
are, the state of each scheduled sync source, and facts about the store itself (its currency).

Instants are epoch seconds, as everywhere in the store. Read and written only by
kpi_engine/freshness.py, kpi_engine/sync.py and kpi_engine/entities.py (the lexicon cache), with plain
SQL where a `kpibot ask` reads them: importing SQLModel costs a fresh process ~100 ms.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Text
from sqlmodel import Field, SQLModel


def _ts(nullable: bool = True):
    return Field(default=None, sa_column=Column(BigInteger, nullable=nullable))


class DataFreshness(SQLModel, table=True):
    """One canonical table: the data in it is complete up to `fresh_to` (the last successful
    sync or import that covered it)."""

    __tablename__ = "data_freshness"
    table_name: str = Field(primary_key=True)
    fresh_to: int = Field(sa_column=Column(BigInteger, nullable=False))
    origin: str  # "import", "sync:<source>", "demo"
    recorded_at: int = Field(sa_column=Column(BigInteger, nullable=False))


class StoreMeta(SQLModel, table=True):
    """Facts about the store as a whole, e.g. the currency its amounts are in."""

    __tablename__ = "store_meta"
    key: str = Field(primary_key=True)
    value: str = Field(sa_column=Column(Text, nullable=False))


class SyncState(SQLModel, table=True):
    """One `[[sources]]` entry: how its last runs went and where the next incremental run starts."""

    __tablename__ = "ops_sync_state"
    source: str = Field(primary_key=True)
    kind: str
    first_run_at: int | None = _ts()  # a source that never delivered is stale counting from here
    last_attempt_at: int | None = _ts()
    last_success_at: int | None = _ts()  # the data was last confirmed current (a delivery)
    last_rows: int = 0  # rows read by the last successful run
    failures: int = 0  # consecutive failed runs
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    watermarks: str | None = Field(default=None, sa_column=Column(Text))  # JSON: query name -> typed value


class SyncFile(SQLModel, table=True):
    """A file of a folder source already imported (`after = "mark"`): never imported twice."""

    __tablename__ = "ops_sync_files"
    source: str = Field(primary_key=True)
    name: str = Field(primary_key=True)
    size: int = Field(sa_column=Column(BigInteger, primary_key=True))
    mtime_ns: int = Field(sa_column=Column(BigInteger, primary_key=True))
    imported_at: int = Field(sa_column=Column(BigInteger, nullable=False))


class LexiconRow(SQLModel, table=True):
    """The values and reps a lexicon was built from, for the data version it names."""

    __tablename__ = "lexicon_cache"
    key: str = Field(primary_key=True)
    version: str
    body: str = Field(sa_column=Column(Text, nullable=False))
    built_at: int = Field(sa_column=Column(BigInteger, nullable=False))


class TableVersion(SQLModel, table=True):
    """A counter that triggers raise on every insert, update and delete of a table (migration 0009):
    what is kept from it in memory (the reps' names) is current while the counter is unchanged."""

    __tablename__ = "table_versions"
    name: str = Field(primary_key=True)
    version: int = Field(sa_column=Column(BigInteger, nullable=False))
