"""How fresh the data behind a KPI is, and what the store as a whole holds.

    record(conn, ["opportunities"], fresh_to=ts, origin="sync:crm", now=ts)   # in the writer's transaction
    data_to(engine, "win_rate")          # epoch seconds, or None when nothing recorded it

Every import (by hand or by a scheduled sync) and the demo generator record, per canonical table they
wrote, up to when its data is complete: the time of that import or of the sync's read of the
source. A KPI's freshness is the oldest of the tables it reads, since its number is only as current
as its staler input. Tables nothing recorded (a store filled before kpibot recorded freshness, or a
table no import touched) are left out of that minimum.

Store facts (store_meta): the currency and timezone the store's rows were written with and where
they came from ("demo", "import"), so an import that reads its amounts in another currency, or into
the demo company, is warned about instead of silently mixing the two.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kpi_engine.catalogue import KpiSpec
from kpi_engine.sql import text

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

# Reads are plain SQL and the table models (SQLModel) are imported only to write: every `kpibot ask`
# reads freshness, and SQLModel plus the ORM cost a fresh process ~100 ms to import.
_READ_FRESH = "SELECT table_name, fresh_to, origin, recorded_at FROM data_freshness"
_READ_META = "SELECT key, value FROM store_meta"

# Tables a KPI reads besides the one its catalogue `source` names (purchases are derived from
# won opportunities and orders).
_PURCHASES = ("opportunities", "orders")
EXTRA_TABLES: dict[str, tuple[str, ...]] = {
    "target_attainment": ("targets",),
    "forecast_accuracy": ("forecasts",),
    "revenue_per_rep": ("reps",),
    "cac": _PURCHASES,
    "cost_per_lead": ("leads",),
}


@dataclass(frozen=True)
class Freshness:
    table: str
    fresh_to: int
    origin: str
    recorded_at: int


def kpi_tables(spec: KpiSpec) -> tuple[str, ...]:
    """The canonical tables the KPI's number depends on."""
    src = spec.source.split(".")[0]
    base = _PURCHASES if src == "purchases" else (src,)
    return tuple(dict.fromkeys([*base, *EXTRA_TABLES.get(spec.key, ())]))


def upsert(conn: Connection, table, keys: list[str], values: dict) -> None:
    """INSERT, or UPDATE the row with the same keys (SQLite and PostgreSQL)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(**values)
    conn.execute(stmt.on_conflict_do_update(index_elements=keys,
                                            set_={k: stmt.excluded[k] for k in values if k not in keys}))


def record(conn: Connection, tables: Iterable[str], *, fresh_to: int, origin: str, now: int) -> None:
    """The data of `tables` is complete up to fresh_to (call inside the transaction that wrote it)."""
    from kpi_engine.state_models import DataFreshness

    for t in sorted(set(tables)):
        upsert(conn, DataFreshness.__table__, ["table_name"], {"table_name": t, "fresh_to": int(fresh_to), "origin": origin,
                                               "recorded_at": int(now)})


def all_tables(engine: Engine | Connection) -> dict[str, Freshness]:
    def read(c: Connection) -> dict[str, Freshness]:
        return {r.table_name: Freshness(r.table_name, int(r.fresh_to), r.origin, int(r.recorded_at))
                for r in c.execute(text(_READ_FRESH))}

    if hasattr(engine, "execute"):  # a connection (SQLAlchemy's or the reader's), not an engine
        return read(engine)  # type: ignore[arg-type]
    with engine.connect() as c:
        return read(c)


def data_to(engine: Engine | Connection, spec: KpiSpec, known: dict[str, Freshness] | None = None) -> int | None:
    """Up to when the data behind the KPI is complete: the oldest of its tables' records."""
    fresh = all_tables(engine) if known is None else known
    times = [fresh[t].fresh_to for t in kpi_tables(spec) if t in fresh]
    return min(times) if times else None


# ---------------------------------------------------------------------- store facts


def facts(conn: Connection) -> dict[str, str]:
    return {r.key: r.value for r in conn.execute(text(_READ_META))}


def remember(conn: Connection, **values: str) -> None:
    from kpi_engine.state_models import StoreMeta

    for k, v in values.items():
        upsert(conn, StoreMeta.__table__, ["key"], {"key": k, "value": str(v)})


def mismatch_warnings(conn: Connection, *, currency: str, timezone: str, origin: str,
                      has_data: bool) -> list[str]:
    """What to tell someone about to write rows read with `currency`/`timezone` (the config's) into
    a store whose rows were written otherwise; empty when they agree or the store knows nothing."""
    if not has_data:
        return []
    known = facts(conn)
    out = []
    held = known.get("currency")
    if held and held.upper() != currency.upper():
        out.append(f"the store's amounts are in {held} but this config reads them as {currency}: both will be "
                   f"added up and shown as {currency}. Import into a store of its own (another DATABASE_URL), "
                   f"or set currency = \"{held}\" in the config")
    tz = known.get("timezone")
    if tz and tz != timezone:
        out.append(f"the store's dates were read in {tz} but this config reads them in {timezone}: periods "
                   f"will not line up. Use one timezone per store")
    if known.get("origin") == "demo" and origin != "demo":
        out.append("the store holds the generated demo company: imported rows mix with it. Import into a store "
                   "of its own (e.g. DATABASE_URL=sqlite:///mydata.db)")
    return out
