"""Who may press which alert button, through signed requests to the running bot (issue 10, item 3).

Three real rules on the fixture company (this quarter's revenue so far, below an impossible threshold, so each fires):
one company-wide, one per team, one per rep. The alerts are posted to the emulator by the outbox,
then clicked as a rep, a manager and the head of sales.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from slack_sdk import WebClient

from bot.alert_blocks import ACK_ACTION, RESOLVE_ACTION, SNOOZE_1D_ACTION, SNOOZE_7D_ACTION
from config.access_models import AccessConfig
from kpi_engine.ops import OpsStore
from schedules import alerts as flow
from schedules.outbox import Sender
from tests.test_bot_harness import NOW, TOKEN, message_text

pytest_plugins = ["tests.test_bot_harness"]

ALERTS = "C0ALERTS"
_BREACH = [{"type": "threshold", "below": 1_000_000_000}]
RULES = [
    {"id": "rev_company", "name": "Revenue (company)", "kpi": "revenue", "grain": "quarter", "period": "to_date", "conditions": _BREACH},
    {"id": "rev_team", "name": "Revenue (team)", "kpi": "revenue", "grain": "quarter", "period": "to_date", "per": "team",
     "conditions": _BREACH},
    {"id": "rev_rep", "name": "Revenue (rep)", "kpi": "revenue", "grain": "quarter", "period": "to_date", "per": "rep",
     "conditions": _BREACH},
]


@pytest.fixture
def alerting(make_rig):
    rig = make_rig(AccessConfig(), alerts={"channel": ALERTS, "rules": RULES})
    rig.emu.add_channel(ALERTS, "sales-alerts")
    ops = OpsStore(rig.engine.store)
    flow.run_alerts(rig.engine, ops, rig.config, NOW - timedelta(hours=1), explain=False)
    Sender(ops, WebClient(token=TOKEN, base_url=rig.emu.api_url, timeout=5)).drain(timeout=10)
    rig.ops = ops
    return rig


def _alert(rig, rule: str, segment: str = "") -> dict:
    for m in rig.emu.messages(ALERTS):
        p = (m.get("metadata") or {}).get("event_payload") or {}
        if p.get("rule") == rule and p.get("segment", "") == segment:
            return m
    raise AssertionError(f"no alert {rule}/{segment}: {[m['text'] for m in rig.emu.messages(ALERTS)]}")


def _click(rig, alert: dict, action: str, user: str) -> str:
    """Press the button as `user`; the private reply it gets (the work runs after the ack)."""
    before = len(rig.emu.ephemerals(user=user))
    value = next(e["value"] for b in alert["blocks"] if b["type"] == "actions" for e in b["elements"]
                 if e["action_id"] == action)
    body = rig.emu.block_action_payload(action, value, user, ALERTS, message=alert["ts"])
    assert rig.post(body)[0] == 200
    reply = rig.emu.wait_for(lambda e: e.ephemerals(user=user)[before], timeout=10)
    assert reply["channel"] == ALERTS
    return reply["text"]


def test_a_rep_cannot_acknowledge_a_company_alert_and_nothing_changes(alerting):
    rig = alerting
    company = _alert(rig, "rev_company")
    updates = len(rig.emu.calls("chat.update"))
    assert _click(rig, company, ACK_ACTION, "U1") == "Only the head of sales or an admin can acknowledge this alert."
    row = rig.ops.alert("rev_company", "")
    assert row.acked_by is None and row.state == "firing"
    # nor snooze, nor resolve it
    assert "can snooze this alert" in _click(rig, company, SNOOZE_7D_ACTION, "U1")
    assert "can resolve this alert" in _click(rig, company, RESOLVE_ACTION, "U1")
    assert rig.ops.active_silence("rev_company", "", int(NOW.timestamp())) is None
    assert rig.ops.alert("rev_company", "").resolved_at is None
    assert len(rig.emu.calls("chat.update")) == updates and rig.emu.replies(ALERTS, company["ts"]) == []
    # someone who is not a rep acts on nothing unless the config names them
    assert _click(rig, company, ACK_ACTION, "UOPS").startswith("Only ")


def test_the_head_acknowledges_and_the_thread_says_who_and_when(alerting):
    rig = alerting
    company = _alert(rig, "rev_company")
    assert _click(rig, company, ACK_ACTION, "UHEAD") == "Acknowledged."
    [note] = rig.emu.wait_for(lambda e: e.replies(ALERTS, company["ts"]), timeout=10)
    # the bot's clock says 15 Jun 2026 10:00 (Bangkok); the thread records who and that moment
    assert note["text"].startswith("✅ Acknowledged by <@UHEAD> at ") and "10:00" in note["text"]
    edited = rig.emu.wait_for(lambda e: e.message(ALERTS, company["ts"]).get("edited") and
                              e.message(ALERTS, company["ts"]), timeout=10)
    assert "Acknowledged by <@UHEAD>" in message_text(edited)
    assert rig.ops.alert("rev_company", "").acked_by == "UHEAD"
    assert _click(rig, edited, SNOOZE_1D_ACTION, "UHEAD").startswith("Snoozed for 1 day(s)")


def test_managers_act_on_their_teams_alerts_and_reps_on_their_own(alerting):
    rig = alerting
    assert _click(rig, _alert(rig, "rev_team", "ent"), ACK_ACTION, "UMGR") == "Acknowledged."
    assert _click(rig, _alert(rig, "rev_rep", "r1"), ACK_ACTION, "UMGR") == "Acknowledged."  # her team's rep
    assert _click(rig, _alert(rig, "rev_team", "smb"), ACK_ACTION, "UMGR") == \
        "Only the head of sales, an admin or a manager of team SMB can acknowledge this alert."
    assert rig.ops.alert("rev_team", "ent").acked_by == "UMGR" and rig.ops.alert("rev_team", "smb").acked_by is None

    assert "Nok Srisuk themselves" in _click(rig, _alert(rig, "rev_rep", "r2"), ACK_ACTION, "U1")  # not his
    assert _click(rig, _alert(rig, "rev_rep", "r2"), SNOOZE_1D_ACTION, "U2").startswith("Snoozed for 1 day(s)")
    assert _click(rig, _alert(rig, "rev_team", "smb"), ACK_ACTION, "U2").startswith("Only ")  # a team's: no
    assert rig.ops.alert("rev_rep", "r2").acked_by is None


def test_a_shorter_snooze_keeps_the_longer_one(alerting):
    rig = alerting
    team = _alert(rig, "rev_team", "ent")
    assert _click(rig, team, SNOOZE_7D_ACTION, "UHEAD").startswith("Snoozed for 7 day(s)")
    kept = _click(rig, team, SNOOZE_1D_ACTION, "UMGR")
    assert kept.startswith("Already snoozed by <@UHEAD> until ") and kept.endswith("that snooze stays.")
    in_3_days = int((NOW + timedelta(days=3)).timestamp())
    silence = rig.ops.active_silence("rev_team", "ent", in_3_days)
    assert silence is not None and silence.created_by == "UHEAD"
    assert [s.created_by for s in rig.ops.silences_by("rev_team", "ent", int(NOW.timestamp()))] == ["UHEAD"]
    # the thread has the one snooze that was made
    notes = rig.emu.wait_for(lambda e: e.replies(ALERTS, team["ts"]), timeout=10)
    assert [n["text"].split(" at ")[0] for n in notes] == ["😴 Snoozed by <@UHEAD>"]


def test_resolving_by_hand_closes_the_episode_and_says_who(alerting):
    rig = alerting
    company = _alert(rig, "rev_company")
    assert _click(rig, company, RESOLVE_ACTION, "UHEAD") == "Resolved."
    [note] = rig.emu.wait_for(lambda e: e.replies(ALERTS, company["ts"]), timeout=10)
    assert note["text"].startswith("✅ Resolved by <@UHEAD> at ")
    row = rig.ops.alert("rev_company", "")
    assert row.state == "resolved" and row.resolved_at == int(NOW.timestamp())
    edited = rig.emu.wait_for(lambda e: e.message(ALERTS, company["ts"]).get("edited") and
                              e.message(ALERTS, company["ts"]), timeout=10)
    assert "Resolved" in message_text(edited)
