"""The weekly digest: its numbers (pacing worked out by hand on the test company), its fit within
Slack's limits, and `kpibot digest` / `kpibot alerts` as the CLI calls them (dry run, send, rerun)."""

from __future__ import annotations

import json

import pytest

from bot.digest_blocks import digest_message
from kpi_engine.engine import KpiEngine
from kpi_engine.ops import OpsStore
from schedules import cli
from schedules.digest import DigestData, KpiLine, Mover, Pacing, build_digest
from tests import fixtures, test_sched_support
from tests.test_sched_support import ANCHOR, at, client_for, config, demo_store

emu = test_sched_support.emu  # the Slack emulator fixture


def test_pacing_projects_month_and_quarter_to_date_linearly(store, tmp_path):
    fixtures.load(store, tmp_path / "csv")
    cfg = config(digests=[{"kpis": ["revenue"], "movers_by": ["team"], "chart": False}])
    d = build_digest(KpiEngine(store, cfg), OpsStore(store), cfg, cfg.digests[0], at("2026-05-16T00:00"))
    assert d.week["label"] == "2026-W19" and d.key == "digest:weekly:leadership:2026-W19"
    [line] = d.lines
    assert line.value == 3000 and line.previous == 2000  # o2 on 5 May; o6 lands on 1 May in Bangkok
    mtd, qtd = d.pacing
    # May 1–15: 5,000 won; 15 of 31 days gone; the month's target 3,000
    assert (mtd.span, mtd.value, mtd.target) == ("mtd", 5000, pytest.approx(3000))
    assert mtd.elapsed == pytest.approx(15 / 31, abs=1e-4)
    assert mtd.target_to_date == pytest.approx(3000 * 15 / 31)
    assert mtd.projection == pytest.approx(5000 * 31 / 15)
    assert mtd.projected_attainment == pytest.approx(5000 * 31 / 15 / 3000)
    # Q2 to 15 May: 6,000 won; 45 of 91 days; company targets 3,000 a month (team rows are not added)
    assert (qtd.value, qtd.target) == (6000, pytest.approx(9000))
    assert qtd.target_to_date == pytest.approx(3000 + 3000 * 15 / 31)
    assert qtd.projection == pytest.approx(6000 * 91 / 45)
    # movers: team ent went 2,000 → 0 on one deal, smb 0 → 3,000 on one: neither rests on min_sample
    # deals in both weeks, so neither is a mover
    assert d.movers == []


def test_the_demo_digest_has_every_part_and_a_chart(store):
    demo_store(store)
    cfg = config()
    eng, ops = KpiEngine(store, cfg), OpsStore(store)
    from schedules.alerts import run_alerts

    run_alerts(eng, ops, cfg, at(f"{ANCHOR.isoformat()}T08:00"), explain=False)
    d = build_digest(eng, ops, cfg, cfg.digests[0], at("2026-11-30T09:00"))
    assert d.week["label"] == "2026-W48"
    assert [x.key for x in d.lines] == cfg.digests[0].kpis
    assert {p.key for p in d.pacing} == {"revenue", "deals_closed"} and {p.span for p in d.pacing} == {"mtd", "qtd"}
    # the small demo company closes a handful of deals a week: no team or region rests on min_sample
    # of them, so none is a mover (test_digest_movers.py plants a company where some are)
    assert d.movers == []
    assert [t.label for t in d.teams] and {t.team for t in d.teams} <= {"enterprise", "midmarket", "smb", "public",
                                                                       "partners"}
    assert {a.rule_id for a in d.alerts} == {"cac_spike", "retention_drop"}
    assert d.chart and d.chart.startswith(b"\x89PNG")
    text, blocks = digest_message(d)
    body = json.dumps(blocks, ensure_ascii=False)
    assert "Weekly digest" in text and "Pacing vs target" in body and "Movers that matter" in body
    assert "By team · Revenue" in body and "Mid-market" in body
    assert "CAC spike" in body and "Retention drop" in body
    assert d.seconds < 5


def _huge(lang: str) -> DigestData:
    name = "ตัวชี้วัดที่มีชื่อยาวมาก " * 8 if lang == "th" else "A KPI with a very long name indeed " * 6
    d = DigestData("weekly", "C1", lang, "k", {"label": "2026-W47", "start": "2026-11-16T00:00:00+07:00",
                                               "end": "2026-11-23T00:00:00+07:00", "grain": "week"},
                   {"label": "2026-W46", "start": "2026-11-09T00:00:00+07:00", "end": "2026-11-16T00:00:00+07:00",
                    "grain": "week"}, "2026-11-23T09:00:00+07:00", "THB", {"team": "x" * 500})
    d.lines = [KpiLine(f"k{i}", f"{name}{i}", "currency", 1e6 * i, 1e6, 0.1, "relative", True, i % 3 == 0, "n")
               for i in range(80)]
    d.pacing = [Pacing(f"k{i}", name, "ratio", "mtd", "2026-11", 0.5, 0.6, 0.8, 0.5, 0.5, 0.6, 0.8) for i in range(60)]
    d.movers = [Mover(f"k{i}", name, "count", "team", "t" * 300, 5, 3, 0.6, "relative", i % 2 == 0, 1.0)
                for i in range(60)]
    return d


@pytest.mark.parametrize("lang", ["en", "th"])
def test_any_digest_fits_slack_limits(lang):
    text, blocks = digest_message(_huge(lang))
    assert len(blocks) <= 50 and len(text) <= 3000
    for b in blocks:
        if b["type"] == "header":
            assert len(b["text"]["text"]) <= 150
        if b["type"] == "section":
            assert len(b["text"]["text"]) <= 3000
        if b["type"] == "context":
            assert len(b["elements"]) <= 10 and all(len(e["text"]) <= 3000 for e in b["elements"])


# ------------------------------------------------------------------ the CLI functions


def test_kpibot_digest_dry_run_then_send_then_rerun(store, emu):
    demo_store(store)
    cfg = config(digests=[{"kpis": ["revenue", "win_rate", "cac"], "channel": "C0LEAD"}])
    eng = KpiEngine(store, cfg)
    when = at("2026-11-23T09:00")

    def no_slack():
        raise AssertionError("a dry run must not need Slack")

    preview = cli.digest(eng, store, cfg, no_slack, as_of=when, dry_run=True)
    [item] = preview["digests"]
    assert item["status"] == "dry_run" and item["week"] == "2026-W47" and item["blocks"]
    json.dumps(preview)  # JSON-able, for --json
    assert "Revenue" in cli.format_preview(preview) and emu.messages("C0LEAD") == []

    sent = cli.digest(eng, store, cfg, lambda: client_for(emu), as_of=when)
    assert sent["digests"][0]["status"] == "sent"
    [msg] = emu.messages("C0LEAD")
    assert msg["metadata"] == {"event_type": "kpibot_digest", "event_payload": {
        "digest": "weekly", "week": "2026-W47", "key": "digest:weekly:C0LEAD:2026-W47"}}
    assert msg["replies"][0]["files"][0]["name"].endswith(".png")  # the chart, in the digest's thread

    again = cli.digest(eng, store, cfg, lambda: client_for(emu), as_of=at("2026-11-24T10:00"))
    assert again["digests"][0]["status"] == "duplicate"
    assert len(emu.messages("C0LEAD")) == 1
    other = cli.digest(eng, store, cfg, lambda: client_for(emu), channel="C0OTHER", as_of=when)
    assert other["digests"][0]["status"] == "sent" and len(emu.messages("C0OTHER")) == 1


def test_kpibot_alerts_dry_run_previews_a_rule_on_history(store, emu):
    demo_store(store)
    cfg = config(alerts={"channel": "C0AL"})
    eng = KpiEngine(store, cfg)
    out = cli.alerts(eng, store, cfg, lambda: pytest.fail("no Slack in a dry run"),
                     as_of=at(f"{ANCHOR.isoformat()}T08:00"), dry_run=True, rule="cac_spike")
    assert [e["rule_id"] for e in out["evaluations"]] == ["cac_spike"]
    assert out["transitions"][0]["to"] == "firing" and out["messages"][0]["key"] == "alert:cac_spike:*:1:firing"
    text = cli.format_preview(out)
    assert text.startswith("DRY RUN") and "cac_spike" in text and "ok → firing" in text
    json.dumps(out)
    with pytest.raises(cli.ScheduleInputError, match="no alert rule 'nope'"):
        cli.alerts(eng, store, cfg, lambda: None, dry_run=True, rule="nope")
    sent = cli.alerts(eng, store, cfg, lambda: client_for(emu), as_of=at(f"{ANCHOR.isoformat()}T08:00"))
    assert set(sent["delivery"].values()) == {"sent"} and len(emu.messages("C0AL")) == 2
