"""Freshness you can see (answers, digests, alerts), the built-in stale-data alert and alert-rule errors
in the admin channel, delivered through the outbox to the Slack emulator."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta
from pathlib import Path

from bot.answers import answer_question
from bot.deps import BotDeps
from bot.lang import LanguageResolver
from kpi_engine import freshness
from kpi_engine.engine import KpiEngine
from kpi_engine.grammar import parse
from kpi_engine.importer import import_path
from kpi_engine.ops import OpsStore
from schedules import alerts as flow
from schedules.admin import check_freshness
from schedules.outbox import Sender
from schedules.service import Scheduler, build_jobs
from tests import fixtures, test_sched_support
from tests.test_bot_harness import message_text
from tests.test_sched_support import BKK, client_for, config, keys_in

emu = test_sched_support.emu

ADMIN = "C0ADMIN"
T0 = datetime(2026, 11, 29, 14, 0, tzinfo=BKK)


def _deliver(ops: OpsStore, emu) -> None:
    Sender(ops, client_for(emu)).drain(timeout=10)


def _drop(tmp_path: Path, body: str = "rep_id,name\nr1,Somchai\n", name: str = "reps.csv") -> Path:
    drop = tmp_path / "drop"
    drop.mkdir(exist_ok=True)
    p = drop / name
    p.write_text(body, encoding="utf-8")
    t = time.time() - 3600
    os.utime(p, (t, t))
    return drop


def _cfg(drop: Path, **extra):
    return config(slack={"admin_channel": ADMIN},
                  sources=[{"name": "drop", "kind": "folder", "path": str(drop), "settle_seconds": 0,
                            "max_age_hours": 2, "cron": "0 * * * *"}], **extra)


# ---------------------------------------------------------------------- stale data


def test_stale_data_fires_to_the_admin_channel_and_resolves_when_data_flows_again(store, emu, tmp_path):
    drop = _drop(tmp_path)
    cfg = _cfg(drop)
    s = Scheduler(KpiEngine(store, cfg), store, cfg)
    ops = s.ops
    assert {j.id for j in build_jobs(cfg)} >= {"sync:drop", "freshness"}
    r = s.run_sync(cfg.sources[0], T0)
    assert r["sync"]["status"] == "ok" and r["stale"] == []
    assert check_freshness(ops, cfg, T0 + timedelta(hours=1)) == []  # within its 2 h
    _deliver(ops, emu)
    assert emu.messages(ADMIN) == []

    [t] = check_freshness(ops, cfg, T0 + timedelta(hours=3))
    assert (t["from"], t["to"], t["effects"]) == ("ok", "firing", ["fire"])
    _deliver(ops, emu)
    [msg] = emu.messages(ADMIN)
    text = message_text(msg)
    assert "Stale data: drop" in text and "No delivery from source *drop* since 29 Nov 2026 14:00 (limit 2 h)" in text
    assert check_freshness(ops, cfg, T0 + timedelta(hours=4)) == []  # still stale: no second message
    _deliver(ops, emu)
    assert len(emu.messages(ADMIN)) == 1

    _drop(tmp_path, "rep_id,name\nr2,Nok\n")
    later = T0 + timedelta(hours=5)
    r = s.run_sync(cfg.sources[0], later)
    assert r["sync"]["status"] == "ok" and [x["to"] for x in r["stale"]] == ["resolved"]
    _deliver(ops, emu)
    [msg] = emu.messages(ADMIN)  # edited in place, the resolution in its thread
    assert "Data flowing again: drop" in message_text(msg)
    assert keys_in(emu.messages(ADMIN)) == ["alert:stale_data:drop:1:firing", "alert:stale_data:drop:1:resolved"]
    assert "drop delivered again at 29 Nov 2026 19:00" in message_text(msg["replies"][0])


def test_two_failed_syncs_in_a_row_fire_the_stale_data_alert_at_once(store, emu, tmp_path):
    drop = _drop(tmp_path, "opportunity_id,created_at,status\no1,2026-13-01,won\n", "opportunities.csv")
    cfg = _cfg(drop)
    s = Scheduler(KpiEngine(store, cfg), store, cfg)
    r1 = s.run_sync(cfg.sources[0], T0)
    assert r1["sync"]["status"] == "failed" and r1["stale"] == []  # once can be a blip
    r2 = s.run_sync(cfg.sources[0], T0 + timedelta(minutes=15))
    assert r2["sync"]["status"] == "failed"
    [t] = r2["stale"]
    assert t["to"] == "firing" and "2 runs in a row failed" in t["reason"]
    _deliver(s.ops, emu)
    [msg] = emu.messages(ADMIN)
    assert "The last 2 runs failed" in message_text(msg) and "created_at" in message_text(msg)
    assert "kpibot sync --source drop" in message_text(msg)


# ---------------------------------------------------------------------- alert rules in error


def test_an_alert_rule_in_error_is_posted_to_the_admin_channel_once_and_its_recovery_replied(store, emu,
                                                                                           tmp_path):
    fixtures.load(store, tmp_path / "csv")
    rule = {"id": "broken", "name": "Revenue floor", "kpi": "revenue", "grain": "month", "channel": "C0ALERTS",
            "filter": {"team": "no-such-team"}, "conditions": [{"type": "threshold", "below": 1}]}
    cfg = config(slack={"admin_channel": ADMIN}, alerts={"rules": [rule]})
    ops = OpsStore(store)
    flow.run_alerts(KpiEngine(store, cfg), ops, cfg, T0)
    _deliver(ops, emu)
    [msg] = emu.messages(ADMIN)
    text = message_text(msg)
    assert "Alert rule cannot be evaluated: Revenue floor" in text and "no-such-team" in text
    flow.run_alerts(KpiEngine(store, cfg), ops, cfg, T0 + timedelta(days=1))  # still broken: said already
    _deliver(ops, emu)
    assert len(emu.messages(ADMIN)) == 1 and emu.messages("C0ALERTS") == []

    fixed = config(slack={"admin_channel": ADMIN}, alerts={"rules": [rule | {"filter": {"team": "ent"}}]})
    flow.run_alerts(KpiEngine(store, fixed), ops, fixed, T0 + timedelta(days=2))
    _deliver(ops, emu)
    [msg] = emu.messages(ADMIN)
    assert "Rule `broken` evaluates again" in message_text(msg["replies"][0])


# ---------------------------------------------------------------------- freshness you can see


def test_every_answer_says_how_fresh_its_data_is(store, tmp_path):
    before = int(time.time())
    fixtures.load(store, tmp_path / "csv")
    cfg = config()
    eng = KpiEngine(store, cfg)
    a = eng.answer(parse("win rate 2026-Q2"), T0)
    assert before <= a.data_to <= int(time.time())
    assert a.to_json()["data_to"] == datetime.fromtimestamp(a.data_to, BKK).isoformat()
    # a sync later only of opportunities: win rate is as fresh as that; CAC also reads spend, older
    with store.begin() as c:
        freshness.record(c, ["opportunities"], fresh_to=int(T0.timestamp()), origin="sync:crm", now=int(T0.timestamp()))
        freshness.record(c, ["spend"], fresh_to=int(T0.timestamp()) - 86400, origin="import", now=0)
    assert eng.answer(parse("win rate 2026-Q2"), T0).data_to == int(T0.timestamp())
    assert eng.data_to("cac") == int(T0.timestamp()) - 86400

    deps = BotDeps(eng, cfg, None, lambda: T0, LanguageResolver(cfg, None), spark_periods=0)
    reply = answer_question(deps, "win rate 2026-Q2", "U1", T0)
    assert "data to 29 Nov 14:00" in json.dumps(reply.blocks, ensure_ascii=False)
    reply = answer_question(deps, "อัตราการชนะดีล 2026-Q2", "U1", T0)
    assert "ข้อมูลถึง 29 พ.ย. 14:00" in json.dumps(reply.blocks, ensure_ascii=False)


def test_digests_and_alerts_say_how_fresh_their_data_is(store, tmp_path):
    from bot.digest_blocks import digest_message
    from schedules.digest import build_digest

    fixtures.load(store, tmp_path / "csv")
    with store.begin() as c:
        freshness.record(c, ["opportunities", "spend", "orders", "leads"], fresh_to=int(T0.timestamp()),
                         origin="sync:crm", now=int(T0.timestamp()))
    cfg = config(alerts={"rules": [{"id": "rev", "kpi": "revenue", "grain": "month", "channel": "C0ALERTS",
                                    "conditions": [{"type": "threshold", "above": -1}]}]})
    eng = KpiEngine(store, cfg)
    d = build_digest(eng, OpsStore(store), cfg, cfg.digests[0], T0, chart=False)
    text, blocks = digest_message(d)
    assert d.data_to == int(T0.timestamp()) and "data to 29 Nov 14:00" in json.dumps(blocks)
    r = flow.run_alerts(eng, OpsStore(store), cfg, datetime(2026, 6, 15, 8, 0, tzinfo=BKK))  # May's revenue
    [m] = [m for m in r.messages if m["kind"] == "post"]
    assert "data to 29 Nov 2026 14:00" in json.dumps(m["blocks"])


def test_importing_into_a_store_of_another_currency_or_the_demo_company_warns(store, tmp_path):
    from kpi_engine import demo
    from tests.test_sched_support import ANCHOR

    demo.generate(store, seed=7, scale="small", anchor=ANCHOR)
    folder = fixtures.write_csvs(tmp_path / "csv", {"reps": fixtures.TABLES["reps"]})
    report = import_path(store, folder, config=config(currency="USD"))
    said = [str(w) for w in report.warnings]
    assert any("amounts are in THB but this config reads them as USD" in w for w in said)
    assert any("holds the generated demo company" in w for w in said)
    fresh = tmp_path / "other.db"
    from kpi_engine.db import open_store

    other = open_store(f"sqlite:///{fresh}")
    report = import_path(other, folder, config=config(currency="USD"))
    assert not [w for w in report.warnings if str(w).startswith("store")]  # a store of its own: quiet
    report = import_path(other, folder, config=config(currency="USD"))
    assert not [w for w in report.warnings if str(w).startswith("store")]  # same currency again: quiet
