"""The /kpi grammar (kpi_engine.grammar.parse): what people type, in English and Thai."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi_engine.catalogue import catalogue
from kpi_engine.grammar import MAX_CHARS, _fold, _name_variants, parse
from kpi_engine.periods import PeriodError
from kpi_engine.query import HelpRequest, PeriodSpec, Query, QueryError

BKK = ZoneInfo("Asia/Bangkok")


def cur(grain: str, offset: int = 0) -> tuple:
    return ("current", grain, offset)


def key(k: str) -> tuple:
    return ("key", k)


def rolling(days: int) -> tuple:
    return ("rolling", days)


def recent(grain: str, k: str, offset: int = 0) -> tuple:
    return ("recent", grain, k, offset)


def period_shape(p: PeriodSpec | None) -> tuple | None:
    """A PeriodSpec without the typed text, for table comparisons."""
    if p is None:
        return None
    if p.kind == "current":
        return ("current", p.grain, p.offset)
    if p.kind == "key":
        return ("key", p.key)
    if p.kind == "recent":
        return ("recent", p.grain, p.key, p.offset)
    return ("rolling", p.days)


def ok(text: str) -> Query:
    r = parse(text)
    assert isinstance(r, Query), r
    return r


def err(text: str) -> QueryError:
    with pytest.raises(QueryError) as exc:
        parse(text)
    return exc.value


# ---------------------------------------------------------------- KPI names


@pytest.mark.parametrize(
    "text, kpi",
    [
        ("retention", "retention"),
        ("Retention", "retention"),
        ("RETENTION RATE", "retention"),
        ("win rate", "win_rate"),
        ("Win Rate", "win_rate"),
        ("win_rate", "win_rate"),
        ("winrate", "win_rate"),
        ("close rate", "win_rate"),
        ("revenue", "revenue"),
        ("sales", "revenue"),
        ("rev", "revenue"),
        ("revenue growth", "revenue_growth"),  # longest match, not revenue + growth
        ("revenue per rep", "revenue_per_rep"),
        ("rev per rep", "revenue_per_rep"),
        ("ADS", "avg_deal_size"),
        ("average deal size", "avg_deal_size"),
        ("deals closed", "deals_closed"),
        ("sales cycle length", "sales_cycle"),
        ("sales cycle", "sales_cycle"),
        ("Lead→qualified conversion", "lead_conversion"),
        ("lead->qualified conversion", "lead_conversion"),
        ("lead to qualified time", "lead_to_qualified_time"),
        ("lead time", "lead_to_qualified_time"),
        ("cac", "cac"),
        ("CAC", "cac"),
        ("customer acquisition cost", "cac"),
        ("aov", "aov"),
        ("forecast accuracy", "forecast_accuracy"),
        ("leads", "lead_volume"),
        ("cpl", "cost_per_lead"),
        ("time in stage", "stage_duration"),
        ("csat", "csat"),
        ("repeat rate", "repeat_rate"),
        ("time to close", "time_to_close"),
        ("training effectiveness", "training_effectiveness"),
        ("content engagement", "content_engagement"),
        ("pipeline velocity", "pipeline_velocity"),
        ("target attainment", "target_attainment"),
        ("rep activity", "rep_activity"),
        ("รายได้", "revenue"),
        ("ยอดขาย", "revenue"),
        ("การเติบโตของรายได้", "revenue_growth"),
        ("รายได้ต่อตัวแทนขาย", "revenue_per_rep"),
        ("อัตราการชนะดีล", "win_rate"),
        ("วินเรท", "win_rate"),
        ("อัตราการรักษาลูกค้า", "retention"),
        ("ต้นทุนการหาลูกค้าใหม่", "cac"),
        ("จำนวน lead", "lead_volume"),
        ("จำนวนlead", "lead_volume"),  # Thai-English mix typed without the space
        ("ความพึงพอใจของลูกค้า", "csat"),
        ("อัตรา การชนะดีล", "win_rate"),  # a stray space inside a Thai name
    ],
)
def test_kpi_names_keys_and_aliases(text, kpi):
    q = ok(text)
    assert q.kpi == kpi
    assert q.period is None and q.breakdown is None and q.filters == {}
    assert q.compare == "previous" and q.chart is False


def test_every_catalogue_name_and_alias_parses_to_its_kpi():
    for spec in catalogue().values():
        for name in spec.names():
            assert ok(name).kpi == spec.key, name


def test_no_name_or_alias_belongs_to_two_kpis():
    owner: dict[str, str] = {}
    for spec in catalogue().values():
        for name in spec.names():
            for variant in _name_variants(name):
                folded = _fold(variant)
                assert owner.setdefault(folded, spec.key) == spec.key, (folded, owner[folded], spec.key)


@pytest.mark.parametrize("text", ["เป้าหมาย", "เป้า", "ผลงานเทียบเป้า", "ผลงานเทียบเป้าหมาย", "ผลงานเทียบกับเป้า",
                                  "ผลงานเทียบกับเป้าหมาย", "เทียบเป้าหมาย", "การบรรลุเป้า", "target achievement"])
def test_target_attainment_aliases(text):
    assert ok(text).kpi == "target_attainment"


# ---------------------------------------------------------------- the brief's examples


def test_examples_from_the_brief():
    assert ok("retention") == Query(kpi="retention")

    q = ok("win rate by team last quarter")
    assert (q.kpi, q.breakdown, period_shape(q.period)) == ("win_rate", "team", cur("quarter", -1))
    assert q.period.text == "last quarter"

    q = ok("รายได้ เดือนนี้")
    assert (q.kpi, period_shape(q.period), q.lang) == ("revenue", cur("month"), "th")
    assert q.period.text == "เดือนนี้"

    q = ok("revenue 2026-05 vs last year")
    assert (q.kpi, period_shape(q.period), q.compare) == ("revenue", key("2026-05"), "yoy")

    q = ok("win rate team:enterprise region:west by rep")
    assert (q.kpi, q.breakdown, q.filters) == ("win_rate", "rep", {"team": "enterprise", "region": "west"})

    assert ok("win rate rep:@U123").filters == {"rep": "@U123"}


@pytest.mark.parametrize(
    "text",
    ["รายได้เดือนนี้", "รายได้ เดือนนี้", "รายได้  เดือนนี้", "เดือนนี้รายได้",
     "ขอดูรายได้ของเดือนนี้หน่อยครับ", "/kpi รายได้เดือนนี้", "รายได้\u200bเดือนนี้"],
)
def test_thai_without_spaces(text):
    q = ok(text)
    assert (q.kpi, period_shape(q.period), q.lang) == ("revenue", cur("month"), "th")


def test_thai_full_question_with_breakdown():
    q = ok("/kpi อัตราการชนะดีล ไตรมาสนี้ แยกตามทีม")
    assert (q.kpi, period_shape(q.period), q.breakdown, q.lang) == ("win_rate", cur("quarter"), "team", "th")
    q = ok("อัตราการชนะดีลไตรมาสนี้แยกตามทีม")
    assert (q.kpi, period_shape(q.period), q.breakdown) == ("win_rate", cur("quarter"), "team")


# ---------------------------------------------------------------- periods


@pytest.mark.parametrize(
    "typed, shape",
    [
        ("today", cur("day")),
        ("yesterday", cur("day", -1)),
        ("this week", cur("week")),
        ("wtd", cur("week")),
        ("last week", cur("week", -1)),
        ("this month", cur("month")),
        ("mtd", cur("month")),
        ("last month", cur("month", -1)),
        ("this quarter", cur("quarter")),
        ("qtd", cur("quarter")),
        ("last quarter", cur("quarter", -1)),
        ("this year", cur("year")),
        ("ytd", cur("year")),
        ("YTD", cur("year")),
        ("last year", cur("year", -1)),
        ("last 30 days", rolling(30)),
        ("last 7 days", rolling(7)),
        ("past 14 days", rolling(14)),
        ("last 1 day", rolling(1)),
        ("2026", key("2026")),
        ("2026-05", key("2026-05")),
        ("2026-5", key("2026-05")),
        ("May 2026", key("2026-05")),
        ("may 2026", key("2026-05")),
        ("Sep 2026", key("2026-09")),
        ("Sept 2026", key("2026-09")),
        ("September 2026", key("2026-09")),
        ("dec 2025", key("2025-12")),
        ("2026-Q2", key("2026-Q2")),
        ("2026-q2", key("2026-Q2")),
        ("Q2 2026", key("2026-Q2")),
        ("q2 2026", key("2026-Q2")),
        ("2026-W19", key("2026-W19")),
        ("2026-w19", key("2026-W19")),
        ("2026-W5", key("2026-W05")),
        ("W19 2026", key("2026-W19")),
        ("2026-W53", key("2026-W53")),  # 2026 has 53 ISO weeks
        ("2026-05-04", key("2026-05-04")),
        # Thai
        ("วันนี้", cur("day")),
        ("เมื่อวาน", cur("day", -1)),
        ("สัปดาห์นี้", cur("week")),
        ("อาทิตย์นี้", cur("week")),
        ("สัปดาห์ที่แล้ว", cur("week", -1)),
        ("สัปดาห์ก่อน", cur("week", -1)),
        ("อาทิตย์ที่แล้ว", cur("week", -1)),
        ("เดือนนี้", cur("month")),
        ("เดือนที่แล้ว", cur("month", -1)),
        ("เดือนก่อน", cur("month", -1)),
        ("ไตรมาสนี้", cur("quarter")),
        ("ไตรมาสที่แล้ว", cur("quarter", -1)),
        ("ไตรมาสก่อน", cur("quarter", -1)),
        ("ปีนี้", cur("year")),
        ("ปีที่แล้ว", cur("year", -1)),
        ("ปีก่อน", cur("year", -1)),
        ("ปีที่ผ่านมา", cur("year", -1)),
        ("30 วันที่ผ่านมา", rolling(30)),
        ("30 วันล่าสุด", rolling(30)),
        ("30วันที่ผ่านมา", rolling(30)),
        ("๓๐ วันที่ผ่านมา", rolling(30)),  # Thai digits
        ("พฤษภาคม 2026", key("2026-05")),
        ("พฤษภาคม 2569", key("2026-05")),
        ("พ.ค. 2569", key("2026-05")),
        ("พ.ค.2569", key("2026-05")),
        ("เดือนมกราคม 2569", key("2026-01")),
        ("ธ.ค. 2568", key("2025-12")),
        ("2569", key("2026")),
        ("ปี 2569", key("2026")),
        ("พ.ศ. 2569", key("2026")),
        ("ไตรมาส 2 2569", key("2026-Q2")),
        ("ไตรมาสที่ 2 ปี 2569", key("2026-Q2")),
        ("Q2 2569", key("2026-Q2")),
        ("2569-Q2", key("2026-Q2")),
    ],
)
def test_periods(typed, shape):
    for text in (f"revenue {typed}", f"{typed} revenue"):
        q = ok(text)
        assert q.kpi == "revenue"
        assert period_shape(q.period) == shape, text
        assert q.period.text == typed  # kept as typed, for labels and errors


@pytest.mark.parametrize(
    "typed, shape",
    [
        ("May", recent("month", "05")),
        ("may", recent("month", "05")),
        ("MAY", recent("month", "05")),
        ("September", recent("month", "09")),
        ("sept", recent("month", "09")),
        ("Sep.", recent("month", "09")),
        ("jan", recent("month", "01")),
        ("December", recent("month", "12")),
        ("Q2", recent("quarter", "Q2")),
        ("q4", recent("quarter", "Q4")),
        ("Q1", recent("quarter", "Q1")),
        ("พฤษภาคม", recent("month", "05")),
        ("เดือนพฤษภาคม", recent("month", "05")),
        ("เดือน พฤษภาคม", recent("month", "05")),
        ("พ.ค.", recent("month", "05")),
        ("พ.ค", recent("month", "05")),
        ("มี.ค.", recent("month", "03")),
        ("ธันวาคม", recent("month", "12")),
        ("ไตรมาส 2", recent("quarter", "Q2")),
        ("ไตรมาส2", recent("quarter", "Q2")),
        ("ไตรมาสที่ 2", recent("quarter", "Q2")),
        ("ไตรมาสที่ 4", recent("quarter", "Q4")),
        ("last May", recent("month", "05", -1)),
        ("previous sept", recent("month", "09", -1)),
        ("last Q2", recent("quarter", "Q2", -1)),
        ("พฤษภาคมที่แล้ว", recent("month", "05", -1)),
        ("เดือนพ.ค. ที่ผ่านมา", recent("month", "05", -1)),
        ("ไตรมาส 2 ที่แล้ว", recent("quarter", "Q2", -1)),
        ("ไตรมาสที่ 2 ที่ผ่านมา", recent("quarter", "Q2", -1)),
    ],
)
def test_month_or_quarter_without_a_year(typed, shape):
    for text in (f"revenue {typed}", f"{typed} revenue", f"รายได้ {typed}", f"รายได้{typed}"):
        q = ok(text)
        assert q.kpi == "revenue"
        assert period_shape(q.period) == shape, text
        assert q.period.text == typed


def test_a_year_still_wins_over_the_month_alone():
    assert period_shape(ok("revenue May 2026").period) == key("2026-05")
    assert period_shape(ok("revenue May-2026").period) == key("2026-05")
    assert period_shape(ok("revenue mar/2026").period) == key("2026-03")
    assert period_shape(ok("revenue q2 2026").period) == key("2026-Q2")
    assert period_shape(ok("รายได้ พ.ค. 2569").period) == key("2026-05")
    assert period_shape(ok("รายได้ ไตรมาส 2 2569").period) == key("2026-Q2")


def test_month_or_quarter_without_a_year_errors():
    e = err("revenue q5")
    assert '"q5"' in e.message and e.word == "q5"
    assert '"ไตรมาส 0"' in err("รายได้ ไตรมาส 0").message
    assert "Only one period" in err("revenue May May 2026").message
    # Words that merely start like a month are not months; a dotless Thai abbreviation needs its year.
    assert err("revenue mayday").word == "mayday"
    assert err("revenue marketing").word == "marketing"
    assert err("รายได้ พค").word == "พค"


_MAR_2026 = datetime(2026, 3, 15, 9, tzinfo=BKK)
_MAY_10_2026 = datetime(2026, 5, 10, 9, tzinfo=BKK)


@pytest.mark.parametrize(
    "text, as_of, label, start, end",
    [
        # not yet started this year, and more than two months ahead: last year's, whole
        ("revenue July", _MAR_2026, "2025-07", datetime(2025, 7, 1, tzinfo=BKK), datetime(2025, 8, 1, tzinfo=BKK)),
        ("รายได้ ก.ค.", _MAR_2026, "2025-07", datetime(2025, 7, 1, tzinfo=BKK), datetime(2025, 8, 1, tzinfo=BKK)),
        ("revenue Q2", _MAR_2026, "2025-Q2", datetime(2025, 4, 1, tzinfo=BKK), datetime(2025, 7, 1, tzinfo=BKK)),
        ("revenue Q4", _MAR_2026, "2025-Q4", datetime(2025, 10, 1, tzinfo=BKK), datetime(2026, 1, 1, tzinfo=BKK)),
        # under way: this year's, to date
        ("revenue May", _MAY_10_2026, "2026-05", datetime(2026, 5, 1, tzinfo=BKK), _MAY_10_2026),
        ("รายได้ พฤษภาคม", _MAY_10_2026, "2026-05", datetime(2026, 5, 1, tzinfo=BKK), _MAY_10_2026),
        ("revenue q2", _MAY_10_2026, "2026-Q2", datetime(2026, 4, 1, tzinfo=BKK), _MAY_10_2026),
        ("รายได้ ไตรมาส 2", _MAY_10_2026, "2026-Q2", datetime(2026, 4, 1, tzinfo=BKK), _MAY_10_2026),
        # already over this year: this year's, whole
        ("revenue March", _MAY_10_2026, "2026-03", datetime(2026, 3, 1, tzinfo=BKK), datetime(2026, 4, 1, tzinfo=BKK)),
        ("revenue q1", _MAY_10_2026, "2026-Q1", datetime(2026, 1, 1, tzinfo=BKK), datetime(2026, 4, 1, tzinfo=BKK)),
        # the month is the business zone's: 30 April 20:00 UTC is already 1 May in Bangkok
        ("revenue May", datetime(2026, 4, 30, 20, tzinfo=ZoneInfo("UTC")), "2026-05",
         datetime(2026, 5, 1, tzinfo=BKK), datetime(2026, 5, 1, 3, tzinfo=BKK)),
        ("revenue June", datetime(2026, 3, 31, 16, tzinfo=ZoneInfo("UTC")), "2025-06",
         datetime(2025, 6, 1, tzinfo=BKK), datetime(2025, 7, 1, tzinfo=BKK)),
        # the first instant of the month: May has started (and is empty so far)
        ("revenue May", datetime(2026, 5, 1, tzinfo=BKK), "2026-05",
         datetime(2026, 5, 1, tzinfo=BKK), datetime(2026, 5, 1, tzinfo=BKK)),
        ("revenue December", datetime(2026, 1, 1, tzinfo=BKK), "2025-12",
         datetime(2025, 12, 1, tzinfo=BKK), datetime(2026, 1, 1, tzinfo=BKK)),
        # "last May": the latest May that is over, so never the one under way
        ("revenue last May", _MAY_10_2026, "2025-05", datetime(2025, 5, 1, tzinfo=BKK), datetime(2025, 6, 1, tzinfo=BKK)),
        ("revenue last May", _MAR_2026, "2025-05", datetime(2025, 5, 1, tzinfo=BKK), datetime(2025, 6, 1, tzinfo=BKK)),
        ("revenue last May", datetime(2026, 6, 1, tzinfo=BKK), "2026-05",
         datetime(2026, 5, 1, tzinfo=BKK), datetime(2026, 6, 1, tzinfo=BKK)),
        ("รายได้ พ.ค. ที่แล้ว", _MAY_10_2026, "2025-05",
         datetime(2025, 5, 1, tzinfo=BKK), datetime(2025, 6, 1, tzinfo=BKK)),
        ("revenue last q2", _MAY_10_2026, "2025-Q2", datetime(2025, 4, 1, tzinfo=BKK), datetime(2025, 7, 1, tzinfo=BKK)),
        ("revenue last q1", _MAY_10_2026, "2026-Q1", datetime(2026, 1, 1, tzinfo=BKK), datetime(2026, 4, 1, tzinfo=BKK)),
    ],
)
def test_month_or_quarter_without_a_year_is_the_latest_started(text, as_of, label, start, end):
    p = ok(text).period.resolve(as_of, BKK)
    assert (p.label, p.start, p.end) == (label, start, end)


@pytest.mark.parametrize("text, as_of, ahead, before, said_so", [
    ("revenue May", _MAR_2026, "2026-05", "2025-05", "revenue last May"),
    ("รายได้ พ.ค.", _MAR_2026, "2026-05", "2025-05", "รายได้ พ.ค. ที่แล้ว"),
    ("could you pull my bookings for December?", datetime(2026, 11, 18, 14, 30, tzinfo=BKK), "2026-12", "2025-12",
     "could you pull my bookings for December 2025?"),
    # 30 April 23:00 in Bangkok: May is an hour away, not the May of last year
    ("revenue May", datetime(2026, 4, 30, 16, tzinfo=ZoneInfo("UTC")), "2026-05", "2025-05", "revenue May 2025"),
    # across the year's end: January asked in December is the one next month
    ("revenue January", datetime(2026, 12, 10, tzinfo=BKK), "2027-01", "2026-01", "revenue last January"),
])
def test_a_month_one_or_two_ahead_is_this_years_still_to_come(text, as_of, ahead, before, said_so):
    """A month said without a year that is one or two months ahead is the one still to come: refused as
    in the future, with the year-earlier one to ask for, never answered as the one 10-11 months back."""
    with pytest.raises(PeriodError) as exc:
        ok(text).period.resolve(as_of, BKK)
    assert f"{ahead} is in the future" in str(exc.value) and f"ask for {before}" in str(exc.value)
    assert ok(said_so).period.resolve(as_of, BKK).label == before  # said as the one that is over, it is answered


def test_recent_period_spec_rejects_nonsense():
    as_of = datetime(2026, 5, 10, tzinfo=BKK)
    for spec in (PeriodSpec("recent", grain="month", key="13"), PeriodSpec("recent", grain="quarter", key="Q5"),
                 PeriodSpec("recent", grain="week", key="60"), PeriodSpec("recent", grain="month", key=""),
                 PeriodSpec("recent", grain="month", key="²")):
        with pytest.raises(PeriodError):
            spec.resolve(as_of, BKK)


def test_rolling_and_thai_period_glued_to_the_kpi():
    assert period_shape(ok("รายได้30วันที่ผ่านมา").period) == rolling(30)
    assert period_shape(ok("ยอดขายพ.ค.2569").period) == key("2026-05")
    assert period_shape(ok("รายได้ไตรมาส2 2569").period) == key("2026-Q2")


def test_the_same_period_said_twice_is_one_period():
    assert period_shape(ok("revenue this year ytd").period) == cur("year")


# ---------------------------------------------------------------- period resolution


def test_resolved_periods_land_on_the_right_dates():
    as_of = datetime(2026, 8, 15, 10, tzinfo=BKK)

    w19 = ok("revenue 2026-W19").period.resolve(as_of, BKK)
    assert (w19.start, w19.end) == (datetime(2026, 5, 4, tzinfo=BKK), datetime(2026, 5, 11, tzinfo=BKK))
    assert ok("revenue W19 2026").period.resolve(as_of, BKK) == w19

    q2 = ok("รายได้ Q2 2569").period.resolve(as_of, BKK)
    assert (q2.start, q2.end) == (datetime(2026, 4, 1, tzinfo=BKK), datetime(2026, 7, 1, tzinfo=BKK))
    assert q2.label == "2026-Q2"
    assert ok("รายได้ ไตรมาส 2 2569").period.resolve(as_of, BKK) == q2

    may = ok("รายได้ พ.ค. 2569").period.resolve(as_of, BKK)
    assert (may.start, may.end) == (datetime(2026, 5, 1, tzinfo=BKK), datetime(2026, 6, 1, tzinfo=BKK))

    y = ok("revenue yesterday").period.resolve(as_of, BKK)
    assert (y.start, y.end) == (datetime(2026, 8, 14, tzinfo=BKK), datetime(2026, 8, 15, tzinfo=BKK))

    r = ok("revenue last 30 days").period.resolve(as_of, BKK)
    assert (r.start, r.end) == (datetime(2026, 7, 16, 10, tzinfo=BKK), as_of)

    lq = ok("win rate last quarter").period.resolve(as_of, BKK)
    assert (lq.start, lq.end) == (datetime(2026, 4, 1, tzinfo=BKK), datetime(2026, 7, 1, tzinfo=BKK))

    ytd = ok("revenue ytd").period.resolve(as_of, BKK)
    assert (ytd.start, ytd.end) == (datetime(2026, 1, 1, tzinfo=BKK), as_of)


@pytest.mark.parametrize(
    "text, start, end",
    [
        # as_of is Saturday 15 August 2026, 10:00 in Bangkok
        ("revenue yesterday", datetime(2026, 8, 14, tzinfo=BKK), datetime(2026, 8, 15, tzinfo=BKK)),
        ("รายได้ เมื่อวาน", datetime(2026, 8, 14, tzinfo=BKK), datetime(2026, 8, 15, tzinfo=BKK)),
        ("รายได้เมื่อวานนี้", datetime(2026, 8, 14, tzinfo=BKK), datetime(2026, 8, 15, tzinfo=BKK)),
        ("revenue today", datetime(2026, 8, 15, tzinfo=BKK), datetime(2026, 8, 15, 10, tzinfo=BKK)),
        ("revenue last 7 days", datetime(2026, 8, 8, 10, tzinfo=BKK), datetime(2026, 8, 15, 10, tzinfo=BKK)),
        ("รายได้ 7 วันที่ผ่านมา", datetime(2026, 8, 8, 10, tzinfo=BKK), datetime(2026, 8, 15, 10, tzinfo=BKK)),
        ("revenue this week", datetime(2026, 8, 10, tzinfo=BKK), datetime(2026, 8, 15, 10, tzinfo=BKK)),
        ("รายได้ สัปดาห์นี้", datetime(2026, 8, 10, tzinfo=BKK), datetime(2026, 8, 15, 10, tzinfo=BKK)),
        ("revenue last week", datetime(2026, 8, 3, tzinfo=BKK), datetime(2026, 8, 10, tzinfo=BKK)),
    ],
)
def test_days_and_weeks_resolve(text, start, end):
    p = ok(text).period.resolve(datetime(2026, 8, 15, 10, tzinfo=BKK), BKK)
    assert (p.start, p.end) == (start, end)


# ---------------------------------------------------------------- breakdowns


@pytest.mark.parametrize(
    "text, dim",
    [
        ("revenue by rep", "rep"),
        ("revenue by reps", "rep"),
        ("revenue per team", "team"),  # not revenue_per_rep: "per team" is a breakdown
        ("revenue by teams", "team"),
        ("revenue by region", "region"),
        ("revenue by product", "product"),
        ("revenue by segment", "segment"),
        ("revenue by sales rep", "rep"),
        ("lead volume by channel", "channel"),
        ("time in stage by stage", "stage"),
        ("rep activity by type", "type"),
        ("content engagement by action", "action"),
        ("revenue split by region", "region"),
        ("รายได้ แยกตามตัวแทนขาย", "rep"),
        ("รายได้แยกตามเซลส์", "rep"),
        ("รายได้ แยกตามพนักงานขาย", "rep"),
        ("รายได้ แยกตามทีม", "team"),
        ("รายได้ตามทีม", "team"),
        ("รายได้ รายทีม", "team"),
        ("รายได้ แยกตามภูมิภาค", "region"),
        ("รายได้ แยกตามภาค", "region"),
        ("รายได้ ตามเขต", "region"),
        ("จำนวน lead แยกตามช่องทาง", "channel"),
        ("รายได้ แยกตามสินค้า", "product"),
        ("รายได้ แยกตามผลิตภัณฑ์", "product"),
        ("รายได้ แยกตามกลุ่มลูกค้า", "segment"),
        ("รายได้ แยกตามเซกเมนต์", "segment"),
        ("เวลาในแต่ละขั้นตอน แยกตามขั้นตอน", "stage"),
        ("เวลาในแต่ละขั้นตอน แยกตามสเตจ", "stage"),
        ("กิจกรรมของตัวแทนขาย แยกตามประเภท", "type"),
        ("การมีส่วนร่วมกับเนื้อหา แยกตามการกระทำ", "action"),
        ("รายได้ แยกตาม rep", "rep"),
    ],
)
def test_breakdowns(text, dim):
    assert ok(text).breakdown == dim


# ---------------------------------------------------------------- filters


@pytest.mark.parametrize(
    "text, filters",
    [
        ("revenue team:enterprise", {"team": "enterprise"}),
        ("revenue region:west", {"region": "west"}),
        ("lead volume channel:referral", {"channel": "referral"}),
        ("revenue rep:@U123", {"rep": "@U123"}),
        ("revenue rep:<@U123|somchai>", {"rep": "@U123"}),
        ("revenue rep:<@U123>", {"rep": "@U123"}),
        ("revenue rep:&lt;@U123|somchai&gt;", {"rep": "@U123"}),  # Slack's HTML escaping
        ("revenue <@U0ABC|somchai>", {"rep": "@U0ABC"}),  # a bare mention names the rep
        ("revenue rep:somchai", {"rep": "somchai"}),
        ("revenue rep:Somchai", {"rep": "Somchai"}),  # values keep their case
        ('revenue team:"north east"', {"team": "north east"}),
        ("revenue team:“North East”", {"team": "North East"}),
        ("revenue team:'north east'", {"team": "north east"}),
        ("revenue TEAM:Enterprise", {"team": "enterprise"}),  # a known value: its stored form
        ("revenue team: enterprise", {"team": "enterprise"}),
        ("revenue team:enterprise, region:west", {"team": "enterprise", "region": "west"}),
        ("revenue teams:smb", {"team": "smb"}),
        ("รายได้ ทีม:ภาคเหนือ", {"team": "ภาคเหนือ"}),
        ("รายได้ทีม:ภาคเหนือเดือนนี้", {"team": "ภาคเหนือ"}),
    ],
)
def test_filters(text, filters):
    assert ok(text).filters == filters


def test_filters_with_everything_else_in_any_order():
    q = ok("by rep region:west chart win rate vs ly team:enterprise q2 2026")
    assert q == Query(kpi="win_rate", period=q.period, breakdown="rep",
                      filters={"region": "west", "team": "enterprise"}, compare="yoy", chart=True)
    assert period_shape(q.period) == key("2026-Q2")


def test_rep_activity_filtered_by_region_through_the_rep():
    assert ok("rep activity region:north").filters == {"region": "north"}


# ---------------------------------------------------------------- compare, chart


@pytest.mark.parametrize(
    "text, compare",
    [
        ("revenue vs last year", "yoy"),
        ("revenue vs ly", "yoy"),
        ("revenue yoy", "yoy"),
        ("revenue YoY", "yoy"),
        ("revenue compared to last year", "yoy"),
        ("revenue vs last month", "previous"),
        ("revenue vs previous", "previous"),
        ("revenue this month", "previous"),
        ("รายได้ เทียบปีที่แล้ว", "yoy"),
        ("รายได้เทียบปีก่อน", "yoy"),
        ("รายได้ เทียบกับปีที่แล้ว", "yoy"),
        ("รายได้ เทียบเดือนที่แล้ว", "previous"),
    ],
)
def test_compare(text, compare):
    q = ok(text)
    assert q.compare == compare
    assert q.period is None or text == "revenue this month"  # "vs last month" is a comparison, not a period


@pytest.mark.parametrize("text", ["revenue chart", "revenue graph", "Revenue CHART", "รายได้ กราฟ",
                                  "รายได้แผนภูมิ", "chart revenue last quarter"])
def test_chart(text):
    assert ok(text).chart is True


def test_ytd_vs_last_year_keeps_the_period():
    q = ok("revenue ytd vs last year")
    assert (period_shape(q.period), q.compare) == (cur("year"), "yoy")


# ---------------------------------------------------------------- help


@pytest.mark.parametrize(
    "text, topic, lang",
    [
        ("", None, "en"),
        ("   ", None, "en"),
        ("\n\t", None, "en"),
        ("help", None, "en"),
        ("HELP", None, "en"),
        ("list", None, "en"),
        ("?", None, "en"),
        ("/kpi", None, "en"),
        ("/kpi help", None, "en"),
        ("help win rate", "win_rate", "en"),
        ("help retention", "retention", "en"),
        ("help cac please", "cac", "en"),
        ("ช่วยเหลือ", None, "th"),
        ("วิธีใช้", None, "th"),
        ("รายการ", None, "th"),
        ("help อัตราการชนะดีล", "win_rate", "th"),
    ],
)
def test_help(text, topic, lang):
    assert parse(text) == HelpRequest(topic=topic, lang=lang)


def test_help_with_a_misspelt_kpi_asks_back():
    e = err("help wn rate")
    assert "win rate" in e.suggestions


# ---------------------------------------------------------------- language, normalisation


@pytest.mark.parametrize(
    "text, lang",
    [("win rate", "en"), ("อัตราการชนะดีล", "th"), ("win rate เดือนนี้", "th"), ("revenue ๒๐๒๖", "th")],
)
def test_language_follows_thai_script(text, lang):
    assert ok(text).lang == lang


@pytest.mark.parametrize(
    "text",
    ["/kpi win rate", "/KPI  Win   Rate ", "show me the win rate please", "what is our win rate?",
     "win rate?", "win rate, please", "win\u00a0rate", "WIN RATE", "win rate\x00", "win\trate"],
)
def test_normalisation_and_filler(text):
    assert ok(text) == Query(kpi="win_rate")


def test_thai_filler_and_nfc():
    assert ok("ขอดูอัตราการชนะดีลหน่อยค่ะ").kpi == "win_rate"
    # sara am typed as nikhahit + sara aa looks the same and must match the same
    assert ok("จํานวนดีลที่ปิดได้").kpi == "deals_closed"


def test_custom_catalogue():
    cat = {k: v for k, v in catalogue().items() if k in ("revenue", "win_rate")}
    assert parse("revenue", cat).kpi == "revenue"
    with pytest.raises(QueryError):
        parse("retention", cat)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "text, kpi, typed, read_as",
    [
        ("wn rate", "win_rate", "wn rate", "win rate"),
        ("retension", "retention", "retension", "retention"),
        ("revenu", "revenue", "revenu", "revenue"),
        ("Revenu last month", "revenue", "Revenu", "revenue"),
        ("win rate by tem", "win_rate", "by tem", "by team"),
        ("revenue lst quarter", "revenue", "lst quarter", "last quarter"),
        ("pipline velocity", "pipeline_velocity", "pipline velocity", "pipeline velocity"),
        ("sales cyle", "sales_cycle", "sales cyle", "sales cycle"),
        ("อัตราการชนดีล", "win_rate", "อัตราการชนดีล", "อัตราการชนะดีล"),
        ("รายไดเดือนนี้", "revenue", "รายได", "รายได้"),
        ("ยอดขายย", "revenue", "ยอดขายย", "ยอดขาย"),
    ],
)
def test_clear_typos_are_corrected_and_said(text, kpi, typed, read_as):
    q = ok(text)
    assert q.kpi == kpi
    assert {"typed": typed, "read_as": read_as} in q.reading.corrections


@pytest.mark.parametrize(
    "text, word, suggestions",
    [
        # too short to be sure: asked back, never corrected
        ("dela", "dela", ["deal"]),
        ("revenue tem", "tem", ["team"]),
        ("cst", "cst", ["cost", "csat"]),
        # two readings too close to pick one
        ("win rate by reg", "by reg", ["by rep", "by region"]),
    ],
)
def test_unclear_words_get_did_you_mean(text, word, suggestions):
    e = err(text)
    assert e.word == word
    for s in suggestions:
        assert s in e.suggestions
        assert f'"{s}"' in e.message
    assert 1 <= len(e.choices) <= 3
    assert all(isinstance(label, str) and question for label, question in e.choices)


def test_did_you_mean_message_wording():
    assert err("dela").message == 'I didn\'t understand "dela". Did you mean "deal"?'
    e = err("รายได้ xyz")
    assert e.lang == "th"
    assert e.message.startswith('ไม่เข้าใจ "xyz"')


def test_unknown_word_without_suggestion_points_to_the_list():
    e = err("win rate flibbertigibbet")
    assert e.word == "flibbertigibbet"
    assert "/kpi list" in e.message


def test_no_kpi_at_all():
    for text in ("last quarter by team", "2026", "chart", "ไตรมาสนี้"):
        e = err(text)
        assert "/kpi list" in e.message, text


def test_two_kpis():
    e = err("win rate revenue")
    assert "One KPI at a time" in e.message


@pytest.mark.parametrize(
    "text, plain",
    [
        ("revenue vs target", "revenue"),
        ("Revenue VS Target", "Revenue"),
        ("revenue vs. target last month", "revenue last month"),
        ("revenue versus target", "revenue"),
        ("revenue compared to target by team", "revenue by team"),
        ("revenue against quota", "revenue"),
        ("revenue vs plan", "revenue"),
        ("vs target revenue", "revenue"),
        ("win rate vs target", "win rate"),
        ("win rate vs target q2 2026 vs last year", "win rate q2 2026 vs last year"),
        ("revenue growth vs target", "revenue growth"),
        ("รายได้ เทียบเป้า", "รายได้"),
        ("รายได้เทียบเป้า", "รายได้"),
        ("รายได้เทียบเป้าเดือนนี้", "รายได้เดือนนี้"),
        ("รายได้ เทียบกับเป้าหมาย", "รายได้"),
        ("อัตราการชนะดีล เทียบเป้า", "อัตราการชนะดีล"),
    ],
)
def test_vs_target_after_a_kpi_changes_nothing(text, plain):
    # Targets are shown whenever one applies, so "vs target" after a KPI asks for nothing more.
    assert ok(text) == ok(plain)


@pytest.mark.parametrize("text", ["vs target", "VS TARGET", "vs target by team", "เทียบเป้า", "เทียบเป้าหมาย",
                                  "vs quota", "target attainment vs target"])
def test_vs_target_alone_is_target_attainment(text):
    assert ok(text).kpi == "target_attainment"


def test_vs_target_without_target_attainment_in_the_catalogue_asks_for_a_kpi():
    cat = {k: v for k, v in catalogue().items() if k in ("revenue", "win_rate")}
    assert parse("revenue vs target", cat).kpi == "revenue"
    with pytest.raises(QueryError, match="Which KPI"):
        parse("vs target", cat)


def test_unsupported_breakdown_lists_the_supported_ones():
    e = err("win rate by channel")
    assert "win rate can be broken down by rep, team, region, product, segment" in e.message
    e = err("cac by team")
    assert "cac cannot be broken down" in e.message
    e = err("อัตราการชนะดีล แยกตามช่องทาง")
    assert e.lang == "th" and "ตัวแทนขาย, ทีม, ภูมิภาค, สินค้า, กลุ่มลูกค้า" in e.message


def test_two_breakdowns():
    assert "One breakdown" in err("revenue by team by rep").message


@pytest.mark.parametrize(
    "text, named",
    [
        ("revenue last month 2026", ("last month", "2026")),
        ("revenue this month last quarter", ("this month", "last quarter")),
        ("รายได้ เดือนนี้ ปีที่แล้ว", ("เดือนนี้", "ปีที่แล้ว")),
    ],
)
def test_two_periods(text, named):
    e = err(text)
    for n in named:
        assert f'"{n}"' in e.message


@pytest.mark.parametrize(
    "text, bad",
    [
        ("revenue Q5 2026", "Q5 2026"),
        ("revenue 2026-Q5", "2026-Q5"),
        ("revenue q0 2026", "q0 2026"),
        ("revenue 2026-13", "2026-13"),
        ("revenue 2026-00", "2026-00"),
        ("revenue 2026-W54", "2026-W54"),
        ("revenue 2025-W53", "2025-W53"),  # 2025 has 52 ISO weeks
        ("revenue 2026-02-30", "2026-02-30"),
        ("revenue last 0 days", "last 0 days"),
        ("revenue 1234", "1234"),
        ("รายได้ ไตรมาส 5 2569", "ไตรมาส 5 2569"),
    ],
)
def test_invalid_periods_are_named(text, bad):
    e = err(text)
    assert f'"{bad}"' in e.message
    assert e.word == bad


def test_unsupported_filter():
    assert "cac cannot be filtered by team" in err("cac team:enterprise").message
    e = err("win rate channel:referral")
    assert "win rate cannot be filtered by channel" in e.message and "rep, team, region" in e.message


def test_unknown_filter_dimension_suggests_one():
    e = err("win rate teem:enterprise")
    assert e.word == "teem" and e.suggestions == ["team"]
    e = err("win rate foo:bar")
    assert e.word == "foo" and "rep, team" in e.message


def test_filter_errors():
    assert "needs a value" in err("revenue team:").message
    assert "not closed" in err('revenue team:"north east').message
    assert "One value per filter" in err("revenue team:a team:b").message


# ---------------------------------------------------------------- robustness


NASTY = [
    "x" * 5000,
    "win rate " * 600,
    "รายได้" * 900,
    "'; drop table reps;--",
    "revenue'; DROP TABLE reps;--",
    "Robert'); DROP TABLE Students;--",
    "!!!???...",
    "<<<>>>",
    "<@",
    "<@U123",
    "rep:<@>",
    ":::",
    "team:::",
    '"""',
    "😀🔥💯",
    "revenue 😀",
    "\x00\x01\x02\x1b[31m",
    "\u200b\u200c\u200d\ufeff",
    "\u0e31\u0e34\u0e48",  # Thai marks with no consonant
    "เเเเเ",
    "ﾚﾍﾞﾆｭｰ",
    "ß" * 400,
    "İ" * 400,
    "2026-" * 50,
    "q" + "9" * 400,
    "last 99999999999 days",
    "revenue last 999999 days",
    "revenue 9999",
    "%s %d {0} {kpi}",
    "\\n\\t\\\\",
    "rep:" + "a" * 490,
    "http://example.com/?a=b",
]


def _built_once() -> None:
    """What a parse builds once per process, built before a timing starts: the vocabulary on the first
    question, the fuzzy lists (and rapidfuzz) on the first typo."""
    parse("win rate by team last quarter")
    q = parse("wn rte by tem lst quartr")  # four typos, each mended on its own
    assert (q.kpi, q.breakdown, q.period.grain, q.period.offset) == ("win_rate", "team", "quarter", -1)


@pytest.mark.parametrize("text", NASTY, ids=range(len(NASTY)))
def test_nasty_inputs_answer_or_raise_query_error_quickly(text):
    _built_once()
    t0 = time.perf_counter()
    try:
        r = parse(text)
        assert isinstance(r, (Query, HelpRequest))
    except QueryError as e:
        assert 0 < len(e.message) <= 300
        assert "\n" not in e.message
        assert e.word is None or len(e.word) <= 41
    # a bound for runaway matching (backtracking grows without limit), not a speed target: a busy CI
    # machine took over 50 ms once for a question that takes 8 ms (benchmarks time the parser)
    assert time.perf_counter() - t0 < 0.5


def test_too_long_is_refused():
    e = err("win rate " + "x" * MAX_CHARS)
    assert "too long" in e.message


def test_invisible_characters_never_reach_a_reply():
    e = err("revenue ab\x97\ud800cd")
    assert e.word == "ab cd"
    assert ok('revenue team:"north\x00east"').filters == {"team": "north east"}


def test_offending_word_is_quoted_short():
    e = err("win rate " + "z" * 300)
    assert len(e.word) <= 41 and e.word.endswith("…")


def test_speed():
    _built_once()
    texts = ["win rate by team last quarter", "/kpi อัตราการชนะดีล ไตรมาสนี้ แยกตามทีม",
             "revenue 2026-05 vs last year team:enterprise chart"]
    t0 = time.perf_counter()
    for _ in range(100):
        for text in texts:
            parse(text)
    assert (time.perf_counter() - t0) / 300 < 0.005
    for text in ("wn rte by tem lst quartr " * 20)[:MAX_CHARS], "ก" * MAX_CHARS, "x" * 5000:
        t0 = time.perf_counter()
        with pytest.raises(QueryError):
            parse(text)
        assert time.perf_counter() - t0 < 0.5  # runaway matching, as above


def _check_answer_or_query_error(text: str) -> None:
    try:
        r = parse(text)
    except QueryError as e:
        assert isinstance(e.message, str) and 0 < len(e.message) <= 300
        return
    assert isinstance(r, (Query, HelpRequest))
    if isinstance(r, Query):
        assert r.kpi in catalogue()
        assert r.lang in ("en", "th")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=700))
def test_property_any_text(text):
    _check_answer_or_query_error(text)


_FRAGMENTS = [
    "win rate", "revenue", "รายได้", "อัตราการชนะดีล", "by team", "แยกตามทีม", "ตาม", "team:", "rep:",
    "region:", '"', "'", "<@U1|x>", "<@", ">", "2569", "2026", "q5", "Q2", "-W", "-", "ไตรมาส", "ที่",
    "เดือนนี้", "ปีที่แล้ว",
    "vs", "last year", "ly", "chart", "กราฟ", "help", "?", "\u0e31", "เ", "\x00", "\u200b", "😀", ":", "“",
    "&lt;", "/kpi", "30", "วัน", "days", "last", "พ.ค.", ".", "ของ", "the", "wn", "ß",
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_FRAGMENTS) | st.text(max_size=3), max_size=12),
       st.sampled_from(["", " "]))
def test_property_grammar_fragments(parts, sep):
    _check_answer_or_query_error(sep.join(parts))


# ---------------------------------------------------------------- with a store's lexicon

_LEX_REPS = [("r1", "Somchai Jaidee", "สมชาย ใจดี", "Ton, ต้น"), ("r2", "Wanida Srisuk", "วนิดา ศรีสุข", "นก"),
             ("r3", "Somchai Wongsawat", "สมชาย วงศ์สวัสดิ์", "บี, Bee"), ("r4", "May Day", None, "เอ")]


def _lexicon():
    from kpi_engine.lexicon import Lexicon, RepEntry

    values = {"team": ["enterprise", "smb", "mid-market"], "region": ["north", "bangkok"],
              "segment": ["enterprise", "smb"], "product": ["ERP Cloud", "POS Terminal"],
              "channel": ["referral", "social"], "stage": ["closed", "negotiation"]}
    reps = [RepEntry(r, n, th, nick, f"U{r.upper()}") for r, n, th, nick in _LEX_REPS]
    return Lexicon.build(values, reps)


_LEX = _lexicon()
_OPTS = __import__("kpi_engine.grammar", fromlist=["ParseOptions"]).ParseOptions(fiscal_year_start_month=10)
_LEX_FRAGMENTS = _FRAGMENTS + [
    "somchai", "สมชาย", "ต้น", "นก", "บี", "เอ", "may", "enterprise", "ทีม", "smb", "ลูกค้า", "top", "5", "อันดับ",
    "my", "ของฉัน", "ทีมเรา", "vs", "q2", "fy26", "ปีงบ", "69", "since", "june", "to", "1-15", "nov", "ago", "3",
    "months", "เดือน", "ที่ผ่านมา", "by", "per", "rep", "who", "ใคร", "สูงสุด", "ขาย", "deals", "ยอด", "<@UR1>",
    "next", "week", "ครึ่งปีแรก", "H1", "เเ", "\u0e4d", "\u0e32", "ๆ", "555", "rev", "growth", "erp",
]


def _check_with_lexicon(text: str) -> None:
    try:
        r = parse(text, lexicon=_LEX, options=_OPTS)
    except QueryError as e:
        assert isinstance(e.message, str) and 0 < len(e.message) <= 300
        assert len(e.choices) <= 3
        return
    assert isinstance(r, (Query, HelpRequest))
    if isinstance(r, Query):
        assert r.kpi in catalogue()
        # every period the grammar produced can be resolved, or is refused as a period error
        try:
            r.resolve_period(datetime(2026, 11, 18, 14, 30, tzinfo=BKK), BKK, "month")
        except PeriodError:
            pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_property_any_text_with_a_lexicon(text):
    _check_with_lexicon(text)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_LEX_FRAGMENTS) | st.text(max_size=3), max_size=12),
       st.sampled_from(["", " "]))
def test_property_fragments_with_a_lexicon(parts, sep):
    _check_with_lexicon(sep.join(parts))


@pytest.mark.parametrize("text", NASTY, ids=range(len(NASTY)))
def test_nasty_inputs_with_a_lexicon(text):
    _check_with_lexicon(text)


# ---------------------------------------------------------------- the period filter


_PERIOD_BITS = ["last", "this", "from", "since", "to", "the", "of", " ", "-", "/", ".", "'", "q", "h", "w", "fy",
                "ปี", "เดือน", "ไตรมาส", "ที่แล้ว", "ถึง", "ตั้งแต่", "2026", "26", "69", "2569", "3", "15", "1st",
                "may", "sept", "dec", "พ.ค.", "พค", "ม.ค", "ตุลา", "กรกฏา", "มกราคม", "มิถุนายน", "three",
                "สาม", "days", "weeks", "months", "วัน", "ago", "ก่อน", "half", "quarter", "ครึ่งปีแรก", "ytd"]


def _filter_agrees(text: str) -> None:
    from kpi_engine import period_grammar as pg

    s = _fold(text)
    for i in range(len(s)):
        if s[i].isalnum():
            try:
                pg.match_period(s, i)  # compiles the loose filter
            except pg.PeriodTextError:
                pass
            marked = pg._MARKS.match(s, i)
            for k in range(len(pg._PATTERNS)):
                if pg._pattern(k).match(s, i) is not None:
                    assert marked.group(f"p{k}") is not None, (s, i, k)


def test_the_loose_period_filter_rules_out_no_period_in_the_corpus():
    """The filter `match_period` compiles instead of all its patterns (start-up time) is looser, never
    stricter: wherever one of the patterns matches, it marks that pattern."""
    from pathlib import Path

    corpus = Path(__file__).with_name("corpus")
    lines = [ln.split("=>")[0].replace("[unlinked]", "") for f in sorted(corpus.glob("*.txt"))
             for ln in f.read_text(encoding="utf-8").splitlines() if "=>" in ln and not ln.startswith("#")]
    assert len(lines) > 400
    for text in lines:
        _filter_agrees(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PERIOD_BITS), min_size=1, max_size=8))
def test_the_loose_period_filter_rules_out_no_period(bits):
    _filter_agrees("".join(bits))


def test_the_lazy_trie_files_every_shipped_phrase_under_the_letter_it_folds_to():
    """The trie's branches are built when first reached, and a phrase starting with an ASCII letter
    or digit is filed under it unfolded: that must be the letter folding gives it."""
    from kpi_engine.catalogue import catalogue
    from kpi_engine.grammar import _Vocab
    from kpi_engine.textnorm import fold

    vocab = _Vocab(tuple(catalogue().values()))
    pending = dict(vocab.root._pending)
    assert sum(len(v) for v in pending.values()) > 3000
    assert [(first, phrase) for first, todo in pending.items() for phrase, folded, _ in todo
            if not folded and fold(phrase)[:1] != first] == []


def test_a_chat_word_never_hides_the_period_after_it():
    # "ของเดือน" (of the month) is chat, and was read before "เดือนที่แล้ว" could be: "ยอดขายของเดือนที่แล้ว"
    # (revenue of last month) came out as this month's revenue, without a word of warning
    from kpi_engine.words import FILLER_EN, FILLER_TH

    def thai(c: str) -> bool:
        return "\u0e00" <= c <= "\u0e7f"

    periods = ("เดือนที่แล้ว", "ปีที่แล้ว", "ไตรมาสที่แล้ว", "last month", "last quarter", "yesterday")
    misread = []
    for typed in periods:
        want = period_shape(parse(f"revenue {typed}").period)
        for chat in sorted(set(FILLER_EN) | set(FILLER_TH)):
            for text in {f"revenue {chat} {typed}", *([f"ยอดขาย{chat}{typed}"] if thai(chat[-1]) else [])}:
                try:
                    got = parse(text)
                except QueryError:
                    continue  # asked back is fine; answering another period is not
                if not isinstance(got, Query) or period_shape(got.period) != want:
                    misread.append(text)
    assert misread == []
