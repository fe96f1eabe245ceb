"""Answers, digests, alerts, the Home tab and charts read like a finished report, on the demo company:
Buddhist-era years on every Thai surface (Christian era in English, and in Thai when the config says
so), display names for dimension values, targets that do not move within a day, whole counts,
attainment that agrees with the figures beside it, and rolling periods named by their dates."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest

from bot import answers, charts, home
from bot.alert_blocks import alert_message
from bot.deps import BotDeps
from bot.digest_blocks import digest_message
from bot.lang import LanguageResolver
from config.app_config import AppConfig
from kpi_engine import format as fmt
from kpi_engine.answer_text import comparison_line, target_line
from kpi_engine.engine import KpiEngine
from kpi_engine.grammar import parse
from kpi_engine.ops import OpsStore
from schedules.alerts import alert_view, run_alerts
from schedules.digest import build_digest
from tests.test_sched_support import ANCHOR, BKK, at, demo_store

NOW = at(f"{ANCHOR.isoformat()}T09:00")  # Wednesday 25 Nov 2026 (2569 BE)
THAI_USER = "U0THAIREADER"
CE, BE = "2026", "2569"


@pytest.fixture
def thai_years():
    """Restores the process-wide setting a test with thai_years = "gregorian" changes."""
    yield
    fmt.set_thai_years("buddhist")


@pytest.fixture
def demo(store):
    demo_store(store)
    return store


def _config(**over) -> AppConfig:
    # the people asking here are not linked to a rep: everything, as an explicit choice (docs/access.md)
    base = {"access": {"unlisted": "all"}, "users": {THAI_USER: {"lang": "th"}},
            "alerts": {"rules": [{"id": "cac_spike", "name": "CAC spike", "name_th": "CAC พุ่ง", "kpi": "cac",
                                  "lang": "th", "conditions": [{"type": "vs_median", "periods": 8, "above_pct": 25}]},
                                 {"id": "win_team", "kpi": "win_rate", "per": "team", "lang": "th", "min_sample": 0,
                                  "conditions": [{"type": "threshold", "below": 0.99}]}]},
            "digests": [{"lang": "th", "chart": False}]}
    return AppConfig.model_validate({**base, **over})


def _deps(engine: KpiEngine, config: AppConfig) -> BotDeps:
    return BotDeps(engine=engine, config=config, client=None, clock=lambda: NOW,
                   langs=LanguageResolver(config, None), spark_periods=6)


def _visible(obj) -> str:
    """What a person reads in blocks or a view: every "text", never a button's value or an id."""
    if isinstance(obj, dict):
        return "\n".join(_visible(v) if k != "text" or not isinstance(v, str) else v
                         for k, v in obj.items() if k not in ("value", "action_id", "block_id", "url"))
    if isinstance(obj, list):
        return "\n".join(_visible(x) for x in obj)
    return ""


def _years(text: str) -> set[str]:
    return set(re.findall(r"(?<![\d,.])(20\d\d|25\d\d)(?![\d,])", text))


def _thai_surfaces(store, config: AppConfig) -> dict[str, str]:
    """Every Thai surface's text on the demo company: answer, breakdown, digest, alert, Home tab, chart."""
    eng = KpiEngine(store, config)
    deps = _deps(eng, config)
    out = {}
    reply = answers.answer_question(deps, "รายได้ เดือนนี้", THAI_USER, NOW)
    out["answer"] = _visible(reply.blocks)
    rolling = answers.answer_question(deps, "รายได้ 30 วันล่าสุด", THAI_USER, NOW)
    out["rolling answer"] = _visible(rolling.blocks)
    ops = OpsStore(store)
    d = build_digest(eng, ops, config, config.digests[0], at("2026-11-23T09:00"))
    out["digest"] = _visible(digest_message(d)[1])
    run_alerts(eng, ops, config, NOW, explain=False)
    rules = {r.id: r for r in config.alerts.rules}
    fired = [r for r in ops.alerts().values() if r.fired_at]
    assert fired, "the demo company's CAC spike fires"
    out["alerts"] = "\n".join(_visible(alert_message(alert_view(eng, config, rules[r.rule_id], r, None))[1])
                              for r in fired)
    out["home"] = _visible(home.home_view(deps, THAI_USER, NOW))
    q = parse("รายได้ เดือนนี้")
    a = eng.answer(q, NOW)
    fig = charts.trend_figure(a, eng.series(q, NOW, n=4), None, "th")
    out["chart axis"] = " | ".join(t.get_text() for t in fig.axes[0].get_xticklabels()) + " | " + \
        fig.axes[0].get_title()
    return out


def test_every_thai_surface_shows_buddhist_era_years(demo):
    surfaces = _thai_surfaces(demo, _config())
    for name, text in surfaces.items():
        years = _years(text)
        assert BE in years, f"{name}: no {BE} in {text[:300]}"
        assert CE not in years, f"{name} shows a Christian-era year: {text[:500]}"
    assert "พ.ย. 2569" in surfaces["answer"] and "ณ 25 พ.ย. 2569 09:00" in surfaces["answer"]
    assert "สัปดาห์ 47/2569" in surfaces["digest"]
    assert "อัปเดต 25 พ.ย. 2569 09:00" in surfaces["home"]


def test_english_keeps_the_christian_era(demo):
    eng = KpiEngine(demo, _config())
    deps = _deps(eng, eng.config)
    text = json.dumps(answers.answer_question(deps, "revenue this month", "U0ENGLISH", NOW).blocks)
    assert CE in _years(text) and BE not in _years(text)
    assert "Nov 2026" in text and "as of 25 Nov 2026 09:00" in text


def test_thai_years_can_be_gregorian_for_a_workspace(demo, thai_years):
    surfaces = _thai_surfaces(demo, _config(thai_years="gregorian"))
    for name, text in surfaces.items():
        assert BE not in _years(text), name
    assert "พ.ย. 2026" in surfaces["answer"]


# ------------------------------------------------------------------ display names


def test_dimension_values_read_as_names_in_json_tables_digest_and_alerts(demo):
    config = _config(digests=[{"lang": "en", "chart": False}])
    eng = KpiEngine(demo, config)
    a = eng.answer(parse("revenue by team this quarter"), NOW)
    rows = {r["key"]: r["label"] for r in a.to_json()["breakdown"]}
    assert rows["smb"] == "SMB" and rows["midmarket"] == "Mid-market" and rows["public"] == "Public sector"
    th = eng.answer(parse("รายได้ ไตรมาสนี้ แยกตามภูมิภาค"), NOW)
    assert {r["key"]: r["label"] for r in th.breakdown}["north"] == "ภาคเหนือ"

    deps = _deps(eng, config)
    reply = answers.answer_question(deps, "win rate by team this quarter", "U0ENGLISH", NOW)
    table = next(b for b in reply.blocks if b["type"] == "table")
    header, *body = [[c["text"] for c in row] for row in table["rows"]]
    assert header == ["#", "Team", "Win rate"]  # headers whole, never "Target attainme…"
    assert {r[1] for r in body} <= {"Enterprise", "Mid-market", "SMB", "Public sector", "Partners"}

    d = build_digest(eng, OpsStore(demo), config, config.digests[0], at("2026-11-23T09:00"))
    assert {t.label for t in d.teams} == {"Enterprise", "Mid-market", "SMB", "Public sector", "Partners"}

    ops = OpsStore(demo)
    run_alerts(eng, ops, config, NOW, explain=False)
    rule = next(r for r in config.alerts.rules if r.id == "win_team")
    row = next(r for (rid, _), r in ops.alerts().items() if rid == "win_team" and r.segment == "midmarket")
    view = alert_view(eng, config, rule, row, None)
    assert view.segment_label == "มิดมาร์เก็ต"  # the rule speaks Thai
    assert "มิดมาร์เก็ต" in json.dumps(alert_message(view)[1], ensure_ascii=False)


def test_a_code_block_table_is_sized_to_its_content():
    from bot.blocks import TableRow, table_text

    rows = [TableRow(1, "Mid-market", "112.3 %"), TableRow(2, "SMB", "98.0 %")]
    text = table_text(rows, "Team", "Target attainment", "en")
    head = text.splitlines()[1]
    assert "Target attainment" in head and "…" not in head


# ------------------------------------------------------------------ stable, whole numbers


def test_a_target_read_twice_a_minute_apart_is_the_same(demo):
    eng = KpiEngine(demo, _config())
    q = parse("revenue this month")
    first = eng.answer(q, at("2026-11-24T09:00")).target["value"]
    assert eng.answer(q, at("2026-11-24T09:01")).target["value"] == first
    assert eng.answer(q, at("2026-11-24T17:45:30")).target["value"] == first  # all day long
    # the next day counts one day more of the month: 24 of 30 days, then 25 of 30
    nxt = eng.answer(q, at("2026-11-25T09:00")).target["value"]
    assert nxt == pytest.approx(first * 25 / 24)


def test_count_targets_and_projections_are_whole_and_attainment_agrees(demo):
    config = _config(digests=[{"lang": "en", "chart": False, "kpis": ["deals_closed"]}])
    eng = KpiEngine(demo, config)
    a = eng.answer(parse("deals closed this month"), NOW)
    line = target_line(a, "en")
    shown = re.search(r"Target ([\d,.]+)", line).group(1)
    assert "." not in shown, line  # "Target 43", never "Target 42.7"
    d = build_digest(eng, OpsStore(demo), config, config.digests[0], at("2026-11-23T09:00"))
    body = json.dumps(digest_message(d)[1])
    heading = re.findall(r"heading for ([\d,.]+) vs ([\d,.]+)", body)
    assert heading and all("." not in x for pair in heading for x in pair), heading

    # attainment from unrounded figures, shown so it cannot contradict the rounded ones beside it
    assert fmt.attainment(1 / 0.97, "1", "1") == "100 %"
    assert fmt.attainment(0.9961, "249", "250") == "99.6 %"
    assert fmt.attainment(1.0312, "33", "32") == "103 %"


def test_rolling_windows_are_named_by_their_dates(demo):
    eng = KpiEngine(demo, _config())
    a = eng.answer(parse("revenue last 30 days"), NOW)
    head = fmt.period_label(a.period, "en")
    cmp_ = comparison_line(a, "en")
    assert head == "last 30 days (26 Oct – 25 Nov 2026)"
    assert "last 30 days" not in cmp_ and "26 Sep – 26 Oct 2026" in cmp_
    series = eng.series(parse("revenue last 30 days"), NOW, n=3)
    axis = [fmt.short_period(p, "en") for p, _ in series]
    assert len(set(axis)) == 3 and all("last" not in x for x in axis)
    assert fmt.short_period(a.period, "th") == "26 ต.ค. – 25 พ.ย."


def test_dates_and_periods_format_in_one_place():
    tz = BKK
    d = datetime(2026, 5, 4, 13, 5, tzinfo=tz)
    assert fmt.moment(d, "th") == "4 พ.ค. 2569 13:05" and fmt.moment(d, "en") == "4 May 2026 13:05"
    assert fmt.day_span(d, d + timedelta(days=6), "en") == "4 – 10 May 2026"
    assert fmt.day_span(d, d + timedelta(days=30), "th") == "4 พ.ค. – 3 มิ.ย. 2569"
    assert fmt.key_label("2026-Q3", "th") == "ไตรมาส 3/2569" and fmt.key_label("2026-W47", "en") == "W47 2026"
