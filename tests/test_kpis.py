"""Every KPI on the hand-made company of fixtures.py; each expected number is worked out in a comment."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from config.app_config import AppConfig, RetentionConfig
from kpi_engine.engine import SIDE_AFTER, KpiEngine
from kpi_engine.periods import previous
from kpi_engine.query import PeriodSpec, Query, QueryError
from tests.fixtures import load

BKK = ZoneInfo("Asia/Bangkok")


def at(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=BKK)


@pytest.fixture
def eng(store, tmp_path):
    load(store, tmp_path / "csv")
    return KpiEngine(store, AppConfig())


def ask(eng, kpi, key=None, as_of="2026-06-15", **kw):
    period = PeriodSpec("key", key=key) if key else None
    return eng.answer(Query(kpi, period=period, **kw), at(as_of))


def test_revenue_to_date_quarter_and_bangkok_month_boundary(eng):
    # Q2 to 15 June: o1 1000 (Apr) + o2 3000 (May) + o6 2000 (Z stamp = 1 May in Bangkok)
    a = ask(eng, "revenue", "2026-Q2")
    assert a.value == pytest.approx(6000)
    assert a.period.to_date and a.period.end == at("2026-06-15")
    assert ask(eng, "revenue", "2026-04").value == pytest.approx(1000)
    assert ask(eng, "revenue", "2026-05").value == pytest.approx(5000)


def test_like_for_like_comparison_of_a_to_date_period(eng):
    # 75 days into Q2 compares with 1 Jan .. 17 Mar, which holds o4 (15 Mar, 500)
    a = ask(eng, "revenue", "2026-Q2")
    assert a.comparison.period.start == at("2026-01-01")
    assert a.comparison.period.end == at("2026-03-17")
    assert a.comparison.value == pytest.approx(500)
    assert a.comparison.change == pytest.approx((6000 - 500) / 500)
    # 70 days in: 1 Jan .. 12 Mar, before any closed deal: no data, not 0
    b = ask(eng, "revenue", "2026-Q2", as_of="2026-06-10")
    assert b.comparison.period.end == at("2026-03-12")
    assert b.comparison.value is None
    assert b.comparison.change is None


def test_comparison_is_clamped_to_the_previous_period_end():
    from kpi_engine.periods import from_key

    p = from_key("2026-03", at("2026-03-31"), BKK)  # 1..31 March to date (30 days)
    prev = previous(p)
    assert (prev.start, prev.end) == (at("2026-02-01"), at("2026-03-01"))


def test_deals_ads_win_rate_cycle(eng):
    assert ask(eng, "deals_closed", "2026-Q2").value == 3
    assert ask(eng, "avg_deal_size", "2026-Q2").value == pytest.approx(2000)
    wr = ask(eng, "win_rate", "2026-Q2")
    assert wr.value == pytest.approx(0.75)  # 3 won, o3 lost
    assert wr.details == {"won": 3, "lost": 1}
    assert wr.low_sample and "Low sample" in wr.note()
    cyc = ask(eng, "sales_cycle", "2026-Q2")
    # o1 10 d, o2 30 d, o6 20 Apr 00:00 -> 1 May 03:00 = 11.125 d
    assert cyc.value == pytest.approx((10 + 30 + 11.125) / 3)
    assert cyc.details["median_days"] == pytest.approx(11.125)


def test_zero_denominators_are_null_with_a_reason(eng):
    a = ask(eng, "win_rate", "2026-W13")  # 23-29 March: inside the data, nothing closed
    assert a.value is None
    assert "No deals were won or lost in W13 2026" in a.note()  # the period as people read it
    assert ask(eng, "avg_deal_size", "2026-W13").value is None
    # inside the data span, a week with no wins has revenue 0, not null
    assert ask(eng, "revenue", "2026-W13").value == 0
    # June lies after the last closed deal (10 May): no data, not 0
    assert ask(eng, "revenue", "2026-06").value is None


def test_outside_the_span_is_null_not_zero(eng):
    a = ask(eng, "revenue", "2025-01", as_of="2026-06-15")
    assert a.value is None
    assert "No data for Jan 2025" in a.note()
    assert "ไม่มีข้อมูล" in a.note("th")


def test_empty_store_says_no_data(store):
    a = KpiEngine(store, AppConfig()).answer(Query("revenue"), at("2026-06-15"))
    assert a.value is None
    assert "No opportunities data has been imported yet" in a.note()


def test_future_period_is_an_error(eng):
    from kpi_engine.query import QueryError

    # a question about the future is the asker's mistake: refused in their language, not a crash
    with pytest.raises(QueryError, match="in the future"):
        ask(eng, "revenue", "2026-07")


def test_revenue_growth_and_yoy(eng):
    g = ask(eng, "revenue_growth", "2026-05")
    assert g.value == pytest.approx((5000 - 1000) / 1000)
    y = ask(eng, "revenue", "2026-05", compare="yoy")
    assert y.comparison.period.label == "2025-05"
    assert y.comparison.value is None  # no closed deals before March 2026


def test_target_pro_rata_and_attainment(eng):
    # Apr + May targets whole (6000) + June 14/30 of 3000 (1400); the Q2 row adds nothing
    # for time its monthly rows cover
    a = ask(eng, "revenue", "2026-Q2")
    assert a.target["value"] == pytest.approx(7400)
    assert a.target["attainment"] == pytest.approx(6000 / 7400)
    t = ask(eng, "target_attainment", "2026-Q2")
    assert t.value == pytest.approx(6000 / 7400)
    # team targets are quarterly: 75 of Q2's 91 days; ent revenue o1 + o6 = 3000
    team = ask(eng, "target_attainment", "2026-Q2", filters={"team": "ENT"})
    assert team.value == pytest.approx(3000 / (4000 * 75 / 91))
    by_team = ask(eng, "target_attainment", "2026-Q2", breakdown="team")
    values = {r["key"]: r["value"] for r in by_team.breakdown}
    assert values["ent"] == pytest.approx(3000 / (4000 * 75 / 91))
    assert values["smb"] == pytest.approx(3000 / (5000 * 75 / 91))


def test_a_coarser_target_fills_only_what_finer_rows_leave(store, tmp_path):
    from tests.fixtures import TABLES

    tables = dict(TABLES, targets=[{"period": "2026-04", "metric": "revenue", "value": "3000"},
                                   {"period": "2026-Q2", "metric": "revenue", "value": "9100"}])
    load(store, tmp_path / "csv", tables)
    a = KpiEngine(store, AppConfig()).answer(Query("revenue", period=PeriodSpec("key", key="2026-Q2")),
                                             at("2026-07-01"))
    # April from its monthly row; May and June (61 of Q2's 91 days) from the quarterly row
    assert a.target["value"] == pytest.approx(3000 + 9100 * 61 / 91)


def test_level_target_for_a_ratio(eng):
    a = ask(eng, "win_rate", "2026-04")  # o1 won
    assert a.target["value"] == pytest.approx(0.5)
    assert a.target["attainment"] == pytest.approx(2.0)


def test_breakdowns_and_filters(eng):
    a = ask(eng, "revenue", "2026-Q2", breakdown="rep")
    assert a.value == pytest.approx(6000)
    assert [(r["key"], r["label"], r["value"]) for r in a.breakdown] == [
        ("r1", "Somchai Jaidee", 3000), ("r2", "Nok Srisuk", 3000)]
    assert ask(eng, "revenue", "2026-Q2", filters={"rep": "@U1"}).value == pytest.approx(3000)
    assert ask(eng, "revenue", "2026-Q2", filters={"rep": "somchai"}).value == pytest.approx(3000)
    assert ask(eng, "revenue", "2026-Q2", filters={"region": "north"}).value == pytest.approx(3000)
    seg = ask(eng, "revenue", "2026-Q2", breakdown="segment")
    assert {r["key"]: r["value"] for r in seg.breakdown} == {"smb": 5000, "enterprise": 1000}
    assert seg.breakdown[0]["key"] == "smb"  # best first


def test_unknown_filter_value_suggests(eng):
    with pytest.raises(QueryError, match='Did you mean "team:smb"'):
        ask(eng, "revenue", "2026-Q2", filters={"team": "smbb"})
    with pytest.raises(QueryError, match="cannot be filtered by team"):
        ask(eng, "cac", "2026-04", filters={"team": "smb"})


def test_leads(eng):
    # April leads L2, L3, L4; only L2 qualified by 15 June (L4 on 20 June)
    assert ask(eng, "lead_volume", "2026-04").value == 3
    assert ask(eng, "lead_conversion", "2026-04").value == pytest.approx(1 / 3)
    assert ask(eng, "lead_conversion", "2026-04", as_of="2026-06-21").value == pytest.approx(2 / 3)
    assert ask(eng, "lead_to_qualified_time", "2026-04").value == pytest.approx(3.5)
    assert ask(eng, "time_to_close", "2026-Q2").value == pytest.approx(17)  # L1 25 Mar -> o1 11 Apr


def test_spend_kpis(eng):
    # April: referral monthly budget 3000 (whole month) + outbound 600; new customer: a2 only
    c = ask(eng, "cac", "2026-04")
    assert c.value == pytest.approx(3600)
    assert c.details["spend_by_channel"] == {"referral": pytest.approx(3000), "outbound": pytest.approx(600)}
    cpl = ask(eng, "cost_per_lead", "2026-04")
    assert cpl.value == pytest.approx(1000)
    by = ask(eng, "cost_per_lead", "2026-04", breakdown="channel")
    assert {r["key"]: r["value"] for r in by.breakdown} == {"referral": pytest.approx(3000)}
    # the monthly budget is spread: the first 15 days of April carry half of it
    half = eng.answer(Query("cost_per_lead", period=PeriodSpec("key", key="2026-04")), at("2026-04-16"))
    assert half.details["marketing_spend"] == pytest.approx(1500)


def test_customer_kpis(eng):
    assert ask(eng, "repeat_rate", "2026-04").value == pytest.approx(0.5)  # a1 had bought, a2 new
    assert ask(eng, "aov", "2026-05").value == pytest.approx(300)
    # A(1 Apr) = {a1, a3, a4}; A(1 Jul) = {a1, a2, a3}: a4's last buy was 1 May 2025
    r = ask(eng, "retention", "2026-Q2", as_of="2026-07-01")
    assert r.value == pytest.approx(2 / 3)
    assert r.details["lost"] == 1
    seg = {x["key"]: x["value"] for x in ask(eng, "retention", "2026-Q2", as_of="2026-07-01",
                                             breakdown="segment").breakdown}
    assert seg == {"enterprise": 1.0, "smb": 0.5}


def test_retention_churn_date_mode(store, tmp_path):
    cfg = AppConfig(retention=RetentionConfig(mode="churn_date"))
    load(store, tmp_path / "csv", config=cfg)
    eng = KpiEngine(store, cfg)
    # first purchase before 1 Apr: a1, a3, a4; a1 churned 1 May
    r = eng.answer(Query("retention", period=PeriodSpec("key", key="2026-Q2")), at("2026-07-01"))
    assert r.value == pytest.approx(2 / 3)


def test_rep_kpis(eng):
    # active in April: r1, r2 (r3 left 31 March)
    assert ask(eng, "rep_activity", "2026-04").value == pytest.approx(4 / 2)
    assert ask(eng, "rep_activity", "2026-04").details["by_type"] == {"call": 2, "email": 1, "meeting": 1}
    assert ask(eng, "revenue_per_rep", "2026-04").value == pytest.approx(1000 / 2)
    assert ask(eng, "content_engagement", "2026-04").value == pytest.approx(3 / 2)
    assert ask(eng, "training_effectiveness", "2026-04").value == pytest.approx(4.5)
    c = ask(eng, "csat", "2026-04")
    assert c.value == pytest.approx(2 / 3)
    assert c.details["mean_score"] == pytest.approx(4.0)


def test_time_in_stage_with_a_reentered_stage(eng):
    # o1: prospecting 2 d, proposal 3 d, prospecting again 5 d; the final stage has no exit
    a = ask(eng, "stage_duration", "2026-04", breakdown="stage")
    assert a.value == pytest.approx(10 / 3)
    assert {r["key"]: r["value"] for r in a.breakdown} == {"prospecting": 3.5, "proposal": 3.0}


def test_forecast_accuracy_selection_rule(eng):
    # April: latest submitted before 1 April is 1200 (the 10 April revision is ignored)
    a = ask(eng, "forecast_accuracy", "2026-04")
    assert a.value == pytest.approx(1 - 200 / 1000)
    assert a.details["bias"] == pytest.approx(0.2)
    # May: none before the start, so the earliest (4000) counts
    assert ask(eng, "forecast_accuracy", "2026-05").value == pytest.approx(0.8)
    q = ask(eng, "forecast_accuracy", "2026-Q2")
    assert q.value is None and "not complete" in q.note()


def test_pipeline_velocity(eng):
    # open at 1 May: o2, o3, o6; lookback wins o4 (14 d) and o1 (10 d): W 1, A 750, L 12
    assert ask(eng, "pipeline_velocity", "2026-04").value == pytest.approx(3 * 1 * 750 / 12)


def test_json_shape(eng):
    j = ask(eng, "win_rate", "2026-Q2", breakdown="team").to_json()
    for key in ("kpi", "label", "unit", "value", "period", "comparison", "target", "breakdown", "details", "note"):
        assert key in j
    assert j["period"]["start"] == "2026-04-01T00:00:00+07:00"
    assert {"key", "label", "value"} <= set(j["breakdown"][0])


# ------------------------------------------------------------------ purchases kept current at import
# After a second import o2 belongs to a4, o6 is lost (no longer a purchase) and ord5 is an order of a1
# at the very instant o1 closed (2026-04-11 00:00). Purchases then:
#   a1: o4 15 Mar, o1 + ord5 11 Apr | a2: ord1 20 Apr, ord2 2 May | a3: ord3 1 Dec 2025
#   a4: ord4 1 May 2025, o2 5 May


def _reimport(store, tmp_path, cfg=None):
    import copy

    from tests.fixtures import TABLES

    load(store, tmp_path / "csv", config=cfg)
    second = copy.deepcopy(TABLES)
    opps = {o["opportunity_id"]: o for o in second["opportunities"]}
    opps["o2"]["account_id"] = "a4"
    opps["o6"]["status"] = "lost"
    opps["o6"].pop("amount")
    second["orders"].append({"order_id": "ord5", "account_id": "a1", "ordered_at": "2026-04-11", "amount": "70"})
    load(store, tmp_path / "csv2", second, config=cfg)
    return second


def _brute_purchases(tables) -> list[tuple[str, int]]:
    from kpi_engine.periods import parse_instant

    out = [(o["account_id"], int(parse_instant(o["closed_at"], BKK).timestamp()))
           for o in tables["opportunities"] if o["status"] == "won" and o.get("account_id")]
    out += [(o["account_id"], int(parse_instant(o["ordered_at"], BKK).timestamp())) for o in tables["orders"]]
    return out


def test_customer_kpis_follow_a_reimport(store, tmp_path):
    _reimport(store, tmp_path)
    eng = KpiEngine(store, AppConfig())
    # April buyers a1 (o1 and ord5 at one instant: one customer) and a2 (first purchase ever)
    r = ask(eng, "repeat_rate", "2026-04")
    assert r.value == pytest.approx(0.5)
    assert r.details == {"customers": 2, "repeat_customers": 1}
    # A(1 Apr) = {a1, a3, a4}; A(1 Jul) now holds a4 too (o2 on 5 May moved to it)
    assert ask(eng, "retention", "2026-Q2", as_of="2026-07-01").value == pytest.approx(1.0)
    # first purchases in Q2: a2 only (a4 bought in 2025, a1 in March)
    assert ask(eng, "cac", "2026-Q2", as_of="2026-07-01").details["new_customers"] == 1
    # May buyers: a2 (ord2) and a4 (o2), both had bought before; a3 (o6, now lost) is gone
    assert ask(eng, "repeat_rate", "2026-05").details == {"customers": 2, "repeat_customers": 2}


@pytest.mark.parametrize("window", [20, 45, 365])
def test_retention_matches_its_definition_for_any_window(store, tmp_path, window):
    """Periods shorter and longer than the window (the engine counts them two ways)."""
    cfg = AppConfig(retention=RetentionConfig(window_days=window))
    tables = _reimport(store, tmp_path, cfg)
    eng = KpiEngine(store, cfg)
    buys = _brute_purchases(tables)
    w = window * 86400

    def active(t):
        return {a for a, x in buys if t - w <= x < t}

    for key in ("2026-04", "2026-05", "2026-Q2", "2026-W15", "2025"):
        a = eng.answer(Query("retention", period=PeriodSpec("key", key=key)), at("2026-07-01"))
        start, end = active(a.period.start_ts), active(a.period.end_ts)
        expected = len(start & end) / len(start) if start else None
        assert a.value == pytest.approx(expected), key
        assert a.n == len(start)


def test_repeat_and_new_customers_match_their_definition(store, tmp_path):
    tables = _reimport(store, tmp_path)
    eng = KpiEngine(store, AppConfig())
    buys = _brute_purchases(tables)
    for key in ("2026-03", "2026-04", "2026-05", "2026-Q2", "2025-12", "2025"):
        a = eng.answer(Query("repeat_rate", period=PeriodSpec("key", key=key)), at("2026-07-01"))
        s, e = a.period.start_ts, a.period.end_ts
        buyers = {acc for acc, t in buys if s <= t < e}
        repeat = {acc for acc in buyers if any(x < s for b, x in buys if b == acc)}
        assert a.n == len(buyers), key
        assert a.value == (pytest.approx(len(repeat) / len(buyers)) if buyers else None), key
        new = {acc for acc in buyers if acc not in repeat}
        p = eng.answer(Query("cac", period=PeriodSpec("key", key=key)), at("2026-07-01"))
        if p.note_code != "outside_span":  # CAC's span is that of spend: April 2026 only
            assert p.details["new_customers"] == len(new), key
        assert sum(eng.new_customers_by(a.period, at("2026-07-01"), "segment").values()) == len(new), key


# ------------------------------------------------------------------ hourly counts kept current at import


def _brute_events(tables, tz):
    from kpi_engine.periods import parse_instant

    acts = [(a["type"], int(parse_instant(a["occurred_at"], tz).timestamp())) for a in tables["activities"]]
    by_opp: dict[str, list[tuple[int, str]]] = {}
    for sc in tables["stage_changes"]:
        by_opp.setdefault(sc["opportunity_id"], []).append((int(parse_instant(sc["entered_at"], tz).timestamp()),
                                                           sc["stage"]))
    exits = []  # (stage, exited, seconds)
    for rows in by_opp.values():
        rows.sort()
        exits += [(st, nxt, nxt - ent) for (ent, st), (nxt, _) in zip(rows[:-1], rows[1:], strict=True)]
    return acts, exits


@pytest.mark.parametrize("tz", ["Asia/Bangkok", "Asia/Kolkata"])  # +05:30: periods start mid-hour
def test_activity_and_stage_counts_follow_a_reimport(store, tmp_path, tz):
    import copy

    from tests.fixtures import TABLES

    cfg = AppConfig(timezone=tz)
    load(store, tmp_path / "csv", config=cfg)
    second = copy.deepcopy(TABLES)
    second["activities"][0]["occurred_at"] = "2026-05-02T10:15:00"  # act1 moves from 2 April to May
    second["activities"].append({"activity_id": "act5", "rep_id": "r2", "type": "call",
                                 "occurred_at": "2026-04-30T23:59:00"})
    # o1 gets a review stage on 8 April: its second prospecting now ends then, not on 11 April
    second["stage_changes"].append({"opportunity_id": "o1", "stage": "review", "entered_at": "2026-04-08T09:30:00"})
    second["stage_changes"] += [
        {"opportunity_id": "o2", "stage": "prospecting", "entered_at": "2026-04-06"},
        {"opportunity_id": "o2", "stage": "negotiation", "entered_at": "2026-04-20T08:30:00"}]
    load(store, tmp_path / "csv2", second, config=cfg)
    eng = KpiEngine(store, cfg)
    zone = ZoneInfo(tz)
    acts, exits = _brute_events(second, zone)
    questions = [(PeriodSpec("key", key="2026-04"), "2026-06-15T00:00:00"),
                 (PeriodSpec("key", key="2026-04"), "2026-04-20T08:45:00"),  # to date, cut mid-hour
                 (PeriodSpec("key", key="2026-Q2"), "2026-05-02T10:15:00"),  # ends at act1's instant
                 (PeriodSpec("rolling", days=30), "2026-05-05T17:20:00"),
                 (PeriodSpec("key", key="2026-05-02"), "2026-06-15T00:00:00")]
    for spec, as_of in questions:
        when = datetime.fromisoformat(as_of).replace(tzinfo=zone)
        a = eng.answer(Query("rep_activity", period=spec), when)
        s, e = a.period.start_ts, a.period.end_ts
        by_type: dict[str, int] = {}
        for kind, t in acts:
            if s <= t < e:
                by_type[kind] = by_type.get(kind, 0) + 1
        assert a.details["by_type"] == by_type, (spec, as_of)
        assert a.value * a.n == pytest.approx(sum(by_type.values())), (spec, as_of)
        typed = eng.answer(Query("rep_activity", period=spec, breakdown="type"), when)
        assert {r["key"]: r["value"] * a.n for r in typed.breakdown} == pytest.approx(by_type)
        d = eng.answer(Query("stage_duration", period=spec), when)
        inside = [(st, secs) for st, t, secs in exits if s <= t < e]
        if not inside:
            assert d.value is None, (spec, as_of)
            continue
        assert d.n == len(inside), (spec, as_of)
        assert d.value == pytest.approx(sum(x for _, x in inside) / len(inside) / 86400), (spec, as_of)
        per = {st: round(sum(x for k, x in inside if k == st) / sum(1 for k, _ in inside if k == st) / 86400, 2)
               for st in {k for k, _ in inside}}
        assert d.details["mean_days_by_stage"] == per, (spec, as_of)
        # the same through the table itself: a breakdown by team never reads the hourly counts
        teams = eng.answer(Query("stage_duration", period=spec, breakdown="team"), when)
        assert teams.value == pytest.approx(d.value) and teams.n == d.n


def test_activity_of_an_unknown_rep_by_rep_and_by_team(store, tmp_path):
    import copy

    from tests.fixtures import TABLES

    tables = copy.deepcopy(TABLES)
    tables["activities"].append({"activity_id": "act6", "rep_id": "r9", "type": "call", "occurred_at": "2026-04-06"})
    load(store, tmp_path / "csv", tables)
    eng = KpiEngine(store, AppConfig())
    a = ask(eng, "rep_activity", "2026-04")
    assert a.value == pytest.approx(5 / 2)  # r9 is no rep: its activity counts, it is not an active rep
    assert a.details["by_type"] == {"call": 3, "email": 1, "meeting": 1}
    by_rep = {r["key"]: r["value"] for r in ask(eng, "rep_activity", "2026-04", breakdown="rep").breakdown}
    assert by_rep == {"r1": 2, "r2": 1, "r3": 1, "r9": 1}
    # ent: r1's two and r3's one over ent's active reps in April (r1; r3 left in March)
    by_team = {r["key"]: r["value"] for r in ask(eng, "rep_activity", "2026-04", breakdown="team").breakdown}
    assert by_team["ent"] == pytest.approx(3.0) and by_team["smb"] == pytest.approx(1.0)
    team = ask(eng, "rep_activity", "2026-04", filters={"team": "ent"})
    assert team.details["by_type"] == {"call": 2, "email": 1}


@pytest.mark.parametrize("side_after", [0, SIDE_AFTER])
def test_concurrent_answers_match_sequential_ones(eng, side_after):
    """Answers run their comparison period on a second connection when one is free (side_after 0:
    always; by default: for questions that were slow before): many at once must neither block each
    other nor mix their results."""
    from concurrent.futures import ThreadPoolExecutor

    eng.side_after = side_after

    questions = [("revenue", "2026-Q2"), ("win_rate", "2026-Q2"), ("retention", "2026-Q2"), ("rep_activity", "2026-04"),
                 ("stage_duration", "2026-04"), ("cac", "2026-04"), ("repeat_rate", "2026-05"), ("aov", "2026-05")]

    def run(q):
        a = ask(eng, q[0], q[1], as_of="2026-07-01")
        return a.value, a.comparison.value, a.target

    expected = [run(q) for q in questions]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            assert list(pool.map(run, questions)) == expected


def test_only_a_question_slow_the_last_time_runs_its_comparison_on_a_second_thread(eng):
    """A side task costs more than a fast question takes, so it is kept for questions shaped like
    one whose period was slow; the answers are the same either way."""
    import threading

    from sqlalchemy import event

    threads: list[str] = []

    def seen(*_):
        threads.append(threading.current_thread().name)

    def run(kpi, key="2026-Q2", **kw):
        threads.clear()
        a = ask(eng, kpi, key, as_of="2026-07-01", **kw)
        return (a.value, a.comparison.value, a.target, a.breakdown), any(t.startswith("kpi-side") for t in threads)

    event.listen(eng.store, "before_cursor_execute", seen)
    try:
        assert eng.side_after == SIDE_AFTER > 0
        serial, side = run("revenue", breakdown="team")
        assert not side  # never timed: in line
        assert run("revenue", breakdown="team") == (serial, False)  # fast the first time: in line again
        eng.side_after = 0  # every period counts as slow now; this shape was timed fast: once more in line
        assert run("revenue", breakdown="team") == (serial, False)
        assert run("revenue", breakdown="team") == (serial, True)  # slow last time: on the side
        assert run("revenue", "2025-Q4", breakdown="team")[1]  # the same shape, another quarter
        assert run("revenue", breakdown="region")[1]  # never timed: with side_after 0, on the side
        eng.side_after = 1e9  # nothing is slow any more: back in line after one more timing
        assert run("revenue", breakdown="team") == (serial, True)
        assert run("revenue", breakdown="team") == (serial, False)
    finally:
        event.remove(eng.store, "before_cursor_execute", seen)


def test_targets_by_rep_and_by_a_team_made_of_its_reps(store, tmp_path):
    from tests.fixtures import TABLES

    # r1 has monthly rows for April and May and a quarterly row: the finer rows win where they are,
    # the quarter fills June (30 of its 91 days). r2 has three monthly rows and nothing overlapping.
    # No team rows: a team's target is the sum of its reps' (kpis.md); the company has its own row.
    rows = [("", "2026-Q2", "12000"), ("r1", "2026-04", "2000"), ("r1", "2026-05", "1000"), ("r1", "2026-Q2", "4550"),
            ("r2", "2026-04", "1000"), ("r2", "2026-05", "3000"), ("r2", "2026-06", "3000")]
    tables = dict(TABLES, targets=[{"period": p, "metric": "revenue", "value": v, "rep_id": r} for r, p, v in rows])
    load(store, tmp_path / "csv", tables)
    eng = KpiEngine(store, AppConfig())

    def by(dim, as_of):
        a = eng.answer(Query("target_attainment", period=PeriodSpec("key", key="2026-Q2"), breakdown=dim), at(as_of))
        return {r["key"]: r["value"] for r in a.breakdown}

    # revenue in Q2: r1 3000 (o1, o6), r2 3000 (o2)
    assert by("rep", "2026-07-01") == pytest.approx({"r1": 3000 / (2000 + 1000 + 4550 * 30 / 91), "r2": 3000 / 7000})
    assert by("team", "2026-07-01") == pytest.approx({"ent": 3000 / 4500, "smb": 3000 / 7000})
    # to 15 June: June counts 14 days, of the quarter's row for r1, of the month's for r2
    assert by("rep", "2026-06-15") == pytest.approx({"r1": 3000 / (3000 + 4550 * 14 / 91), "r2": 3000 / 5400})


@pytest.mark.parametrize("mode", ["sum", "level"])
@pytest.mark.parametrize("spans", [["2026-03", "2026-04", "2026-05", "2026-06", "2026-Q2", "2026-W20", "2026"],
                                   ["2026-03", "2026-04", "2026-05", "2026-06"]])
def test_rep_targets_summed_in_the_database_equal_the_rows_combined_one_by_one(store, tmp_path, mode, spans):
    from kpi_engine.calc import Filters
    from kpi_engine.engine import _Ctx
    from kpi_engine.periods import from_key
    from kpi_engine.targets import _rep_targets, _rep_targets_rowwise
    from tests.fixtures import TABLES

    # overlapping spans (months in their quarter and year: finer rows win), or months only; r2 also has
    # April under a team, a scope of its own that adds up
    targets = [{"period": p, "metric": "revenue", "value": str(100 + 37 * i + 11 * j), "rep_id": r}
               for i, r in enumerate(("r1", "r2", "r3")) for j, p in enumerate(spans) if (i + j) % 3]
    targets.append({"period": "2026-04", "metric": "revenue", "value": "55", "rep_id": "r2", "team": "smb"})
    load(store, tmp_path / "csv", dict(TABLES, targets=targets))
    eng = KpiEngine(store, AppConfig())
    with store.connect() as conn:
        for key, as_of in (("2026-Q2", "2026-07-01"), ("2026-Q2", "2026-05-20"), ("2026-05", "2026-06-01"),
                           ("2026-W20", "2026-06-01")):
            c = _Ctx(eng, conn, at(as_of), "period").calc(from_key(key, at(as_of), BKK), Filters({}), "rep")
            fast, slow = _rep_targets(c, "revenue", mode), _rep_targets_rowwise(c, "revenue", mode, None)
            assert fast.keys() == slow.keys() and fast
            assert fast == pytest.approx(slow, rel=1e-12)


def test_ratio_rows_divide_as_ratio_does():
    """The by-rep fast path of a ratio KPI's rows gives what ratio() gives, for every kind of value
    the databases return (int, float, Decimal, NULL) and for keys that are NULL or not text."""
    import math
    from decimal import Decimal

    from kpi_engine.calc import ratio
    from kpi_engine.kpis import _ratio_rows, _rows

    values = [0, 3, -2, 2.5, -0.0, None, Decimal("0"), Decimal("1.5"), float("nan")]
    rows = [{"k": k, "a": a, "b": b} for k in ("r1", None, 7) for a in values for b in values]
    fast, slow = _ratio_rows(rows, "a", "b"), _rows(rows, lambda r: ratio(r["a"], r["b"]))
    assert [k for k, _ in fast] == [k for k, _ in slow]
    for (_, x), (_, y) in zip(fast, slow, strict=True):
        assert (x is None and y is None) or (math.isnan(x) and math.isnan(y)) or x == y
    assert sum(x is None for _, x in fast) == 3 * len(values) * 4  # 0, -0.0, None, Decimal 0 below
    assert _ratio_rows(None, "a", "b") is None
