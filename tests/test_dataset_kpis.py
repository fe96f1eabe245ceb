"""KPIs over the two public datasets, imported through the shipped mappings, against what the raw
CSVs give when computed independently with the csv module."""

from __future__ import annotations

import csv
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from config.app_config import AppConfig
from kpi_engine.engine import KpiEngine
from kpi_engine.importer import import_path
from kpi_engine.mapping import resolve_mapping
from kpi_engine.query import PeriodSpec, Query
from tests.conftest import dataset

BKK = ZoneInfo("Asia/Bangkok")
CFG = AppConfig(currency="USD")


def ask(eng, kpi, key, as_of):
    return eng.answer(Query(kpi, period=PeriodSpec("key", key=key)), datetime.fromisoformat(as_of).replace(tzinfo=BKK))


@pytest.fixture
def maven(store):
    folder = dataset("maven_crm_sales_opportunities")
    import_path(store, folder, config=CFG, mapping=resolve_mapping("maven"))
    rows = list(csv.DictReader(open(folder / "sales_pipeline.csv", encoding="utf-8")))
    return KpiEngine(store, CFG), rows


def test_maven_2017_matches_the_raw_csv(maven):
    eng, rows = maven
    won = [r for r in rows if r["deal_stage"] == "Won" and r["close_date"].startswith("2017")]
    lost = [r for r in rows if r["deal_stage"] == "Lost" and r["close_date"].startswith("2017")]
    revenue = sum(float(r["close_value"]) for r in won)
    cycle = sum((date.fromisoformat(r["close_date"]) - date.fromisoformat(r["engage_date"])).days
                for r in won) / len(won)

    assert ask(eng, "revenue", "2017", "2018-01-01").value == pytest.approx(revenue)
    assert ask(eng, "deals_closed", "2017", "2018-01-01").value == len(won)
    assert ask(eng, "win_rate", "2017", "2018-01-01").value == pytest.approx(len(won) / (len(won) + len(lost)))
    assert ask(eng, "avg_deal_size", "2017", "2018-01-01").value == pytest.approx(revenue / len(won))
    assert ask(eng, "sales_cycle", "2017", "2018-01-01").value == pytest.approx(cycle)


def test_maven_breakdown_by_team_matches(maven):
    eng, rows = maven
    teams = {r["sales_agent"]: r["manager"]
             for r in csv.DictReader(open(dataset("maven_crm_sales_opportunities") / "sales_teams.csv"))}
    per: dict[str, float] = {}
    for r in rows:
        if r["deal_stage"] == "Won" and r["close_date"].startswith("2017"):
            per[teams[r["sales_agent"]]] = per.get(teams[r["sales_agent"]], 0) + float(r["close_value"])
    a = eng.answer(Query("revenue", period=PeriodSpec("key", key="2017"), breakdown="team"),
                   datetime(2018, 1, 1, tzinfo=BKK))
    assert {b["key"]: b["value"] for b in a.breakdown} == pytest.approx(per)
    assert [b["value"] for b in a.breakdown] == sorted(per.values(), reverse=True)


@pytest.fixture
def cdnow(store):
    folder = dataset("cdnow_transactions")
    import_path(store, folder, config=CFG, mapping=resolve_mapping("cdnow"))
    rows = [(r["customer_id"], date(int(r["date"][:4]), int(r["date"][4:6]), int(r["date"][6:])),
             float(r["dollar_value"]))
            for r in csv.DictReader(open(folder / "cdnow_transactions.csv", encoding="utf-8"))]
    return KpiEngine(store, CFG), rows


def test_cdnow_aov_repeat_and_retention_match_the_raw_csv(cdnow):
    eng, rows = cdnow
    y97 = [v for _, d, v in rows if d.year == 1997]
    assert ask(eng, "aov", "1997", "1998-07-01").value == pytest.approx(sum(y97) / len(y97))

    q1, q1_end = date(1998, 1, 1), date(1998, 4, 1)
    buyers = {c for c, d, _ in rows if q1 <= d < q1_end}
    before = {c for c, d, _ in rows if d < q1}
    assert ask(eng, "repeat_rate", "1998-Q1", "1998-07-01").value == pytest.approx(len(buyers & before) / len(buyers))

    def active(t: date) -> set[str]:  # a purchase in the 365 days before t
        lo = date.fromordinal(t.toordinal() - 365)
        return {c for c, d, _ in rows if lo <= d < t}

    start, end = active(date(1998, 4, 1)), active(date(1998, 7, 1))
    r = ask(eng, "retention", "1998-Q2", "1998-07-01")
    assert r.value == pytest.approx(len(start & end) / len(start))
    assert r.details["customers_at_start"] == len(start)
