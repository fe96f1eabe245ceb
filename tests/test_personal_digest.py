"""Personal digests through the real bot and scheduler: `/kpi digest on|off` and the Home tab toggle,
a manager's team digest (their reps, targets, alerts) and a rep's own numbers by DM, scoped by the
same access rules as answers, each once a week under its own outbox key; the head's channel digest
has a line per team."""

from __future__ import annotations

from datetime import timedelta

from slack_sdk import WebClient

from bot.digest_optin import TOGGLE_ACTION
from kpi_engine.ops import OpsStore
from schedules.alerts import run_alerts
from schedules.outbox import Sender
from schedules.service import Scheduler
from tests.test_bot_harness import NOW, TOKEN, message_text

pytest_plugins = ["tests.test_bot_harness"]

RULES = {"rules": [{"id": "win_team", "name": "Win rate low", "kpi": "win_rate", "per": "team", "grain": "quarter",
                    "period": "to_date", "min_sample": 0, "conditions": [{"type": "threshold", "below": 1.01}]}]}


def _digests(emu, channel: str) -> list[dict]:
    return [m for m in emu.messages(channel) if (m.get("metadata") or {}).get("event_type") == "kpibot_digest"]


def test_managers_and_reps_get_their_own_digest_by_dm(make_rig):
    rig = make_rig(alerts=RULES)
    ops = OpsStore(rig.engine.store)
    on = message_text(rig.ask("digest on", user="UMGR"))
    assert "Your team's weekly digest (ENT" in on and "/kpi digest off" in on
    assert "Your own weekly numbers" in message_text(rig.ask("digest on", user="U1"))
    rig.ask("digest on", user="U2")
    assert "is off" in message_text(rig.ask("digest off", user="U2"))
    assert "is on" in message_text(rig.ask("digest", user="UMGR"))
    assert sorted(o.user_id for o in ops.digest_optins()) == ["U1", "UMGR"]
    # a subcommand, not a KPI: nothing was asked of the grammar ("did you mean")
    assert "did you mean" not in message_text(rig.ask("digest maybe", user="U1")).lower()

    run_alerts(rig.engine, ops, rig.config, NOW, explain=False)  # ENT and SMB both fire
    sched = Scheduler(rig.engine, rig.engine.store, rig.config)
    out = sched.run_digest(rig.config.digests[0], NOW)
    personal = sorted(k for k in out["keys"] if ":dm:" in k)
    assert personal == ["digest:weekly:dm:U1:2026-W24", "digest:weekly:dm:UMGR:2026-W24"]
    Sender(ops, WebClient(token=TOKEN, base_url=rig.emu.api_url)).drain(out["keys"], timeout=20)

    [mgr] = _digests(rig.emu, "DMGR")  # the manager's DM with the app
    assert mgr["metadata"]["event_payload"] == {"digest": "weekly", "week": "2026-W24", "to": "UMGR",
                                                "key": "digest:weekly:dm:UMGR:2026-W24"}
    text = message_text(mgr)
    assert mgr["blocks"][0]["text"]["text"] == "📊 ENT team · W24 2026"
    assert "Your reps · Revenue" in text and "Somchai Jaidee" in text and "Malee Manager" in text
    assert "Nok Srisuk" not in text and "Lek Thongdee" not in text  # another team's rep; one who left
    assert "Win rate low* · ENT" in text and "· SMB" not in text  # their team's alert, not another's
    assert "Pacing vs target" in text

    [rep] = _digests(rig.emu, "D1")
    text = message_text(rep)
    assert rep["blocks"][0]["text"]["text"] == "📊 Your week · W24 2026"
    assert "Your own numbers, Somchai Jaidee." in text
    assert "Nok" not in text and "Malee" not in text and "Your reps" not in text and "Movers" not in text
    assert "No open alerts" in text  # team alerts are the manager's, not the rep's
    assert _digests(rig.emu, "D2") == []  # switched off

    [channel] = _digests(rig.emu, "leadership")  # the head's: a line per team
    text = message_text(channel)
    assert "By team · Revenue" in text and "ENT" in text and "SMB" in text

    # the same week again sends nothing twice
    again = sched.run_digest(rig.config.digests[0], NOW + timedelta(hours=3))
    assert again["status"] == "duplicate" and again["keys"] == []
    assert len(_digests(rig.emu, "DMGR")) == 1


def test_the_home_tab_toggles_the_digest(make_rig):
    rig = make_rig()
    ops = OpsStore(rig.engine.store)
    assert rig.post(rig.emu.app_home_opened_event("UMGR"))[0] == 200
    view = rig.emu.wait_for(lambda e: e.home_view("UMGR"))
    block = next(b for b in view["blocks"] if b.get("block_id") == "kpibot_digest_optin")
    assert "Weekly digest by DM" in block["text"]["text"] and block["accessory"]["value"] == "on"

    body = rig.emu.block_action_payload(TOGGLE_ACTION, "on", "UMGR", "DMGR", block_id="kpibot_digest_optin")
    assert rig.post(body)[0] == 200
    rig.emu.wait_for(lambda e: (ops.digest_optin("UMGR") or None) and ops.digest_optin("UMGR").enabled)

    def toggled(e):
        v = e.home_view("UMGR")
        b = next(x for x in v["blocks"] if x.get("block_id") == "kpibot_digest_optin")
        return b["accessory"]["value"] == "off" and b

    block = rig.emu.wait_for(toggled)
    assert "On: yours comes by DM every week" in block["text"]["text"]
