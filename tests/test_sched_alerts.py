"""Alert rules, their lifecycle and their buttons.

The state machine is checked on its own (pure), then end to end on both databases with the
evaluations scripted (so every state can be reached on purpose), and finally the default rules
against the demo company's planted CAC spike and retention drop."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.alert_blocks import ACK_ACTION, EXPLAIN_ACTION, SNOOZE_1D_ACTION
from config.schedule_models import AlertRule
from kpi_engine.engine import KpiEngine
from kpi_engine.ops import AlertRow, OpsStore
from schedules import alerts as flow
from schedules import rules
from schedules.outbox import Sender
from tests import test_sched_support
from tests.test_sched_support import ANCHOR, at, client_for, config, demo_store, keys_in

emu = test_sched_support.emu  # the Slack emulator fixture

CH = "C0ALERTS"


def _rule(**over) -> AlertRule:
    base = {"id": "win_drop", "name": "Win rate drop", "kpi": "win_rate", "grain": "week",
            "conditions": [{"type": "threshold", "below": 0.3}], "channel": CH}
    return AlertRule.model_validate(base | over)


def _ev(outcome: str, value: float | None = 0.2, segment: str = "", label: str = "2026-W47",
        reason: str | None = None) -> rules.Evaluation:
    conds = [rules.CondResult("threshold", outcome == "breach", {"value": value, "below": 0.3})] \
        if outcome in ("breach", "ok") else []
    p = {"label": label, "start": "2026-11-16T00:00:00+07:00", "end": "2026-11-23T00:00:00+07:00",
         "grain": "week", "to_date": False}
    return rules.Evaluation("win_drop", segment, "win_rate", p, outcome, value, reason=reason, conditions=conds)


# ------------------------------------------------------------------ the state machine, pure


def test_state_machine_pending_firing_no_data_resolved_and_cooldown():
    rule = _rule(**{"for": 2, "cooldown_hours": 60})
    row = AlertRow("win_drop", "")
    day = 86400
    steps = [
        ("ok", "ok", []),
        ("breach", "pending", []),
        ("breach", "firing", ["fire"]),
        ("breach", "firing", []),
        ("no_data", "no_data", []),  # no data is not the end of the episode…
        ("breach", "firing", []),  # …so a breach after it is the same episode, no new message
        ("error", "error", []),
        ("ok", "resolved", ["resolve"]),
        ("breach", "pending", []),  # within the cooldown: it may not fire again yet
        ("breach", "pending", []),
        ("breach", "firing", ["fire"]),  # resolved at step 7; 72 h later the 60 h cooldown is over
        ("ok", "resolved", ["resolve"]),
        ("ok", "resolved", []),
    ]
    for i, (outcome, state, effects) in enumerate(steps):
        got = flow.transition(row, _ev(outcome), rule, 1_000_000 + i * day, silenced=False)
        assert (row.state, got) == (state, effects), f"step {i}: {outcome}"
    assert row.episode == 2


def test_reminders_repeat_while_firing_unacknowledged_and_not_snoozed():
    rule = _rule(repeat_hours=24)
    row = AlertRow("win_drop", "")
    t = 1_000_000
    assert flow.transition(row, _ev("breach"), rule, t, False) == ["fire"]
    row.message_key, row.notified_at = "k", t
    assert flow.transition(row, _ev("breach"), rule, t + 3600, False) == []
    assert flow.transition(row, _ev("breach"), rule, t + 86400, True) == []  # snoozed
    assert flow.transition(row, _ev("breach"), rule, t + 86400 + 60, False) == ["remind"]
    row.notified_at, row.acked_by = t + 86400 + 60, "U1"
    assert flow.transition(row, _ev("breach"), rule, t + 3 * 86400, False) == []  # acknowledged


def test_robust_z_needs_three_points_and_ignores_one_outlier_in_history():
    assert rules.robust_z(10, [1, 2]) is None
    assert rules.robust_z(100, [10, 11, 9, 10, 12, 10]) > 3.5
    assert abs(rules.robust_z(11, [10, 11, 9, 10, 12, 10, 500])) < 3.5  # the 500 does not widen the scale
    assert rules.robust_z(10.05, [10, 10, 10]) < 3.5  # a flat history is not infinitely sensitive


# ------------------------------------------------------------------ end to end, scripted evaluations


@pytest.fixture
def scripted(monkeypatch):
    """RuleEvaluator.evaluate returns what the test says next, per rule."""
    queue: list[list[rules.Evaluation]] = []

    def evaluate(self, rule, known=()):
        return queue.pop(0)

    monkeypatch.setattr(rules.RuleEvaluator, "evaluate", evaluate)
    return queue


def _setup(store, rule: AlertRule):
    cfg = config(alerts={"rules": [rule.model_dump(by_alias=True)]})
    eng = KpiEngine(store, cfg)
    return cfg, eng, OpsStore(store)


def _step(queue, eng, ops, cfg, emu, when, ev):
    queue.append([ev])
    r = flow.run_alerts(eng, ops, cfg, when, explain=False)
    Sender(ops, client_for(emu)).drain(timeout=10)
    return r


def _header(msg: dict) -> str:
    return next(b for b in msg["blocks"] if b["type"] == "header")["text"]["text"]


def test_an_alert_fires_once_is_edited_in_place_and_resolves_in_its_thread(store, emu, scripted):
    cfg, eng, ops = _setup(store, _rule(**{"for": 2}))
    day = timedelta(days=1)
    t0 = at("2026-11-23T08:00")
    _step(scripted, eng, ops, cfg, emu, t0, _ev("breach", 0.25))
    assert emu.messages(CH) == []  # pending: `for = 2`
    r = _step(scripted, eng, ops, cfg, emu, t0 + day, _ev("breach", 0.22))
    [msg] = emu.messages(CH)
    assert r.transitions[0]["to"] == "firing"
    assert "Win rate drop" in _header(msg) and "22.0 %" in msg["text"]
    assert msg["metadata"]["event_type"] == "kpibot_alert"
    assert msg["metadata"]["event_payload"]["key"] == "alert:win_drop:*:1:firing"
    # the same evaluation again (a rerun): skipped, nothing new
    scripted.append([_ev("breach", 0.22)])
    again = flow.run_alerts(eng, ops, cfg, t0 + day, explain=False)
    assert again.skipped and not again.messages
    # still firing, same value: no edit; then no data: the message says so
    _step(scripted, eng, ops, cfg, emu, t0 + 2 * day, _ev("breach", 0.22))
    assert not emu.calls("chat.update")
    _step(scripted, eng, ops, cfg, emu, t0 + 3 * day, _ev("no_data", None, reason="No closed deals."))
    msg = emu.messages(CH)[0]
    assert "No data" in _header(msg) and "No closed deals." in json.dumps(msg["blocks"])
    _step(scripted, eng, ops, cfg, emu, t0 + 4 * day, _ev("ok", 0.4))
    [msg] = emu.messages(CH)
    assert "Resolved" in _header(msg) and msg.get("edited")
    assert [r["text"] for r in msg["replies"]] == ["✅ Resolved: Win rate is 40.0 % for W47 2026."]
    assert not any(e["action_id"] == ACK_ACTION for b in msg["blocks"] if b["type"] == "actions"
                   for e in b["elements"])
    # a new episode is a new message
    _step(scripted, eng, ops, cfg, emu, t0 + 5 * day, _ev("breach", 0.1))
    _step(scripted, eng, ops, cfg, emu, t0 + 6 * day, _ev("breach", 0.1))
    assert keys_in(emu.messages(CH)) == ["alert:win_drop:*:1:firing", "alert:win_drop:*:1:resolved",
                                         "alert:win_drop:*:2:firing"]
    row = ops.alert("win_drop", "")
    assert (row.state, row.episode) == ("firing", 2)


def test_a_message_hashed_before_the_upgrade_is_edited_only_when_its_content_changes(store, emu, scripted):
    """Alerts posted by an older version keep the stdlib-json hash of what they show; the first run
    after an upgrade must not edit each of them with the same content."""
    import hashlib

    cfg, eng, ops = _setup(store, _rule())
    day = timedelta(days=1)
    t0 = at("2026-11-23T08:00")
    _step(scripted, eng, ops, cfg, emu, t0, _ev("breach", 0.22))
    row = ops.alert("win_drop", "")
    posted = ops.message(row.message_key).payload
    assert row.shown.startswith("o")  # the current hash

    def older_hash(text, blocks):
        return hashlib.sha1(json.dumps([text, blocks], sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def store_shown(shown):
        r = ops.alert("win_drop", "")
        r.shown = shown
        with ops.begin() as conn:
            ops.save_alert(r, conn)

    store_shown(older_hash(posted["text"], posted["blocks"]))
    _step(scripted, eng, ops, cfg, emu, t0 + day, _ev("breach", 0.22))
    assert not emu.calls("chat.update")
    assert ops.alert("win_drop", "").shown == row.shown  # rewritten in the current form
    # an older hash of other content: the message is edited
    store_shown(older_hash(posted["text"] + " (older)", posted["blocks"]))
    _step(scripted, eng, ops, cfg, emu, t0 + 2 * day, _ev("breach", 0.22))
    assert len(emu.calls("chat.update")) == 1
    _step(scripted, eng, ops, cfg, emu, t0 + 3 * day, _ev("breach", 0.15))
    assert len(emu.calls("chat.update")) == 2 and "15.0 %" in emu.messages(CH)[0]["text"]


def test_an_acknowledgement_made_while_a_run_evaluates_is_kept(store, emu, scripted, caplog, monkeypatch):
    """A run reads every rule's state once, at its start. A click that changes an alert after that
    read fails the run's write of that alert (its version moved): the rule reads its state again and
    the acknowledgement stays, in the message and in the store."""
    import logging

    cfg, eng, ops = _setup(store, _rule())
    t0 = at("2026-11-23T08:00")
    _step(scripted, eng, ops, cfg, emu, t0, _ev("breach", 0.22))
    [msg] = emu.messages(CH)
    row = ops.alert("win_drop", "")
    value = f"win_drop||{row.episode}"

    def evaluate_with_a_click(self, rule, known=()):
        # the run has read the states already; someone acknowledges now
        assert flow.acknowledge(eng, ops, cfg, value, "U0ANNA", int(t0.timestamp()) + 60).ok
        return [_ev("breach", 0.15)]

    monkeypatch.setattr(rules.RuleEvaluator, "evaluate", evaluate_with_a_click)
    with caplog.at_level(logging.INFO, logger="schedules.alerts"):
        flow.run_alerts(eng, ops, cfg, t0 + timedelta(days=1), explain=False)
    Sender(ops, client_for(emu)).drain(timeout=10)
    assert "state changed meanwhile" in caplog.text  # the stale read was retried, not written
    row = ops.alert("win_drop", "")
    assert row.acked_by == "U0ANNA" and row.value == 0.15
    msg = emu.message(CH, msg["ts"])
    assert "15.0 %" in msg["text"] and "U0ANNA" in json.dumps(msg["blocks"])
    assert not any(e["action_id"] == ACK_ACTION for b in msg["blocks"] if b["type"] == "actions"
                   for e in b["elements"])


def test_a_snoozed_alert_stays_quiet_until_the_snooze_expires(store, emu, scripted):
    cfg, eng, ops = _setup(store, _rule())
    t0 = at("2026-11-23T08:00")
    _step(scripted, eng, ops, cfg, emu, t0, _ev("breach", 0.2))
    value = "win_drop||1"
    res = flow.snooze(eng, ops, cfg, value, "U0ANNA", 1, int(t0.timestamp()) + 60)
    Sender(ops, client_for(emu)).drain(res.keys, timeout=10)
    msg = emu.messages(CH)[0]
    assert "Snoozed by <@U0ANNA>" in json.dumps(msg["blocks"], ensure_ascii=False)
    # resolved and firing again within the day: the new episode is not posted while snoozed
    _step(scripted, eng, ops, cfg, emu, t0 + timedelta(hours=6), _ev("ok", 0.4))
    _step(scripted, eng, ops, cfg, emu, t0 + timedelta(hours=12), _ev("breach", 0.1))
    # the snooze is on record in the alert's thread (who, when, until when)
    assert keys_in(emu.messages(CH)) == ["alert:win_drop:*:1:firing", "alert:win_drop:*:1:snooze:1",
                                         "alert:win_drop:*:1:resolved"]
    assert ops.alert("win_drop", "").state == "firing"
    # a day later the snooze is over; still firing, so now it is posted
    _step(scripted, eng, ops, cfg, emu, t0 + timedelta(hours=25), _ev("breach", 0.1))
    assert keys_in(emu.messages(CH))[-1] == "alert:win_drop:*:2:firing"
    assert "Snoozed" not in json.dumps(emu.messages(CH)[-1]["blocks"])


def test_dry_run_changes_nothing(store, emu, scripted):
    cfg, eng, ops = _setup(store, _rule())
    scripted.append([_ev("breach", 0.2)])
    r = flow.run_alerts(eng, ops, cfg, at("2026-11-23T08:00"), dry_run=True)
    assert r.transitions[0]["to"] == "firing" and r.messages and not r.keys
    assert ops.alerts() == {} and ops.outbox_counts() == {}


# ------------------------------------------------------------------ buttons, through signed requests


def _app(eng, cfg, emu, now):
    """The bot as `kpibot run` builds it: bot.listeners registers the alert buttons."""
    from bot.app import build_app
    from config.settings import Settings

    settings = Settings(slack_bot_token="xoxb-test", slack_signing_secret="s3cret", slack_api_base_url=emu.api_url)
    return build_app(eng, cfg, settings, client=client_for(emu), clock=lambda: now)


def _click(app, emu, action_id: str, channel: str, ts: str, user: str = "U0ANNA") -> int:
    from slack_bolt.request import BoltRequest

    from slack_emulator import sign_request

    msg = emu.message(channel, ts)
    value = next(e["value"] for b in msg["blocks"] if b["type"] == "actions" for e in b["elements"]
                 if e["action_id"] == action_id)
    body = emu.block_action_payload(action_id, value, user, channel, message=ts)
    headers = {k.lower(): [v] for k, v in sign_request("s3cret", body).items()}
    headers["content-type"] = ["application/x-www-form-urlencoded"]
    return app.dispatch(BoltRequest(body=body.decode(), headers=headers)).status


def test_buttons_acknowledge_snooze_and_explain_through_signed_requests(store, emu):
    demo_store(store)
    # U0ANNA (not a rep) is named in [access] full: she may act on every alert; U0SOMCHAI is a rep
    cfg = config(alerts={"channel": CH}, access={"full": ["U0ANNA"]})
    eng = KpiEngine(store, cfg)
    ops = OpsStore(store)
    now = at(f"{ANCHOR.isoformat()}T08:00")
    flow.run_alerts(eng, ops, cfg, now)
    Sender(ops, client_for(emu)).drain(timeout=10)
    cac = next(m for m in emu.messages(CH) if m["metadata"]["event_payload"]["rule"] == "cac_spike")
    app = _app(eng, cfg, emu, now + timedelta(minutes=5))

    assert _click(app, emu, ACK_ACTION, CH, cac["ts"]) == 200
    emu.wait_for(lambda e: "Acknowledged by <@U0ANNA>" in json.dumps(e.message(CH, cac["ts"])["blocks"]))
    assert emu.message(CH, cac["ts"]).get("edited")  # in place, with chat.update
    emu.wait_for(lambda e: len(e.replies(CH, cac["ts"])) == 1)  # the acknowledgement on record

    # a rep may not snooze the company-wide CAC alert: told privately, nothing changes
    assert _click(app, emu, SNOOZE_1D_ACTION, CH, cac["ts"], user="U0SOMCHAI") == 200
    refusal = emu.wait_for(lambda e: e.ephemerals(user="U0SOMCHAI")[0])
    # (in Somchai's own language: his Slack is in Thai)
    assert refusal["text"].startswith("เฉพาะ หัวหน้าฝ่ายขาย") and "เลื่อน" in refusal["text"]
    assert ops.active_silence("cac_spike", "", int(now.timestamp()) + 600) is None

    assert _click(app, emu, SNOOZE_1D_ACTION, CH, cac["ts"]) == 200
    emu.wait_for(lambda e: "Snoozed by <@U0ANNA>" in json.dumps(e.message(CH, cac["ts"])["blocks"]))
    emu.wait_for(lambda e: len(e.replies(CH, cac["ts"])) == 2)  # the snooze on record
    assert ops.active_silence("cac_spike", "", int((now + timedelta(hours=23)).timestamp())) is not None
    assert ops.active_silence("cac_spike", "", int((now + timedelta(hours=25)).timestamp())) is None

    assert _click(app, emu, EXPLAIN_ACTION, CH, cac["ts"]) == 200
    assert _click(app, emu, EXPLAIN_ACTION, CH, cac["ts"]) == 200  # twice: one explanation
    # the thread: the acknowledgement and the snooze on record, then one explanation
    emu.wait_for(lambda e: len(e.replies(CH, cac["ts"])) == 3)
    emu.wait_for(lambda e: len(e.ephemerals(user="U0ANNA")) >= 4)
    ack_note, snooze_note, reply = emu.replies(CH, cac["ts"])
    assert ack_note["text"].startswith("✅ Acknowledged by <@U0ANNA> at ")
    assert snooze_note["text"].startswith("😴 Snoozed by <@U0ANNA> at ")
    text = json.dumps(reply["blocks"], ensure_ascii=False)
    assert "Spend by channel" in text and "New customers by channel" in text
    assert reply["metadata"]["event_payload"]["key"] == "alert:cac_spike:*:1:explain"


# ------------------------------------------------------------------ real rules on real data


def test_default_rules_fire_on_the_demo_company_with_their_explanations(store, emu):
    demo_store(store)
    cfg = config(alerts={"channel": CH})
    eng = KpiEngine(store, cfg)
    ops = OpsStore(store)
    r = flow.run_alerts(eng, ops, cfg, at(f"{ANCHOR.isoformat()}T08:00"))
    by_rule = {e["rule_id"]: e for e in r.evaluations}
    assert by_rule["cac_spike"]["outcome"] == "breach" and by_rule["cac_spike"]["period"] == "2026-W47"
    assert {c["type"] for c in by_rule["cac_spike"]["conditions"] if c["breached"]} == {"vs_median", "anomaly"}
    assert by_rule["retention_drop"]["outcome"] == "breach" and by_rule["retention_drop"]["period"] == "2026-Q3"
    assert {c["type"] for c in by_rule["retention_drop"]["conditions"] if c["breached"]} == {"change", "threshold"}
    Sender(ops, client_for(emu)).drain(timeout=10)
    texts = {m["metadata"]["event_payload"]["rule"]: json.dumps(m["blocks"], ensure_ascii=False)
             for m in emu.messages(CH)}
    assert "above its trailing 8-week median" in texts["cac_spike"] and "Spend by channel" in texts["cac_spike"]
    assert "Customers lost by segment" in texts["retention_drop"] and "below the 85.0 % threshold" in \
        texts["retention_drop"]


def test_per_segment_rules_cost_one_query_per_period_and_respect_min_sample(store):
    demo_store(store)
    rule = _rule(id="wr_team", grain="month", per="team",
                 conditions=[{"type": "change", "down_pp": 1}, {"type": "vs_median", "periods": 4, "below_pct": 1}])
    cfg = config(alerts={"rules": [rule.model_dump(by_alias=True)]}, min_sample=10)
    eng = KpiEngine(store, cfg)
    ev = rules.RuleEvaluator(eng, cfg, at(f"{ANCHOR.isoformat()}T08:00"))
    out = ev.evaluate(rule)
    teams = set(eng.dimension_values("win_rate", "team"))
    assert {e.segment for e in out} <= teams and len(out) >= 3
    breaching = [e for e in out if e.outcome == "breach" or (e.reason or "").startswith("Low sample")]
    # current + previous + 4 trailing (previous is one of them) = 5 breakdown queries, plus one n per breach
    assert ev.cache.queries <= 5 + len(breaching)
    for e in out:
        if e.reason and e.reason.startswith("Low sample"):
            assert e.outcome == "no_data" and e.n < 10


def test_a_rule_that_cannot_run_is_in_error_and_the_others_still_run(store):
    demo_store(store)
    bad = _rule(id="broken", kpi="revenue", filter={"team": "no-such-team"},
                conditions=[{"type": "threshold", "below": 1}])
    good = _rule(id="fine", kpi="revenue", conditions=[{"type": "threshold", "below": -1}])
    cfg = config(alerts={"rules": [bad.model_dump(by_alias=True), good.model_dump(by_alias=True)]})
    ops = OpsStore(store)
    r = flow.run_alerts(KpiEngine(store, cfg), ops, cfg, at(f"{ANCHOR.isoformat()}T08:00"))
    outcomes = {e["rule_id"]: e["outcome"] for e in r.evaluations}
    assert outcomes == {"broken": "error", "fine": "ok"}
    assert ops.alert("broken", "").state == "error" and "no-such-team" in ops.alert("broken", "").reason


def test_vs_target_compares_with_the_periods_target_per_segment(store, tmp_path):
    from tests import fixtures

    fixtures.load(store, tmp_path / "csv")
    rule = _rule(id="rev_target", kpi="revenue", grain="month", per="team",
                 conditions=[{"type": "vs_target", "below_pct": 90}])
    whole = _rule(id="rev_target_all", kpi="revenue", grain="month", conditions=[{"type": "vs_target"}])
    cfg = config(alerts={"rules": [rule.model_dump(by_alias=True), whole.model_dump(by_alias=True)]})
    ev = rules.RuleEvaluator(KpiEngine(store, cfg), cfg, at("2026-05-01T08:00"))
    [ent] = ev.evaluate(rule)  # April: only team ent sold (o1, 1,000)
    c = ent.conditions[0]
    # ent's Q2 target 4,000 counts for April's 30 of 91 days
    assert ent.segment == "ent" and c.data["target"] == pytest.approx(4000 * 30 / 91)
    assert c.data["attainment"] == pytest.approx(1000 / (4000 * 30 / 91)) and ent.outcome == "breach"
    [total] = ev.evaluate(whole)  # the company: 1,000 against April's 3,000
    assert total.conditions[0].data["attainment"] == pytest.approx(1 / 3) and total.outcome == "breach"
    assert "at 33 % of target" in rules.describe(total.conditions[0], "currency", "THB", "en")


def test_explanations_follow_each_kpis_formula(store, tmp_path):
    from kpi_engine import periods
    from schedules.explain import explain
    from tests import fixtures

    fixtures.load(store, tmp_path / "csv")
    cfg = config()
    eng = KpiEngine(store, cfg)
    june = at("2026-06-01T00:00")
    may = periods.from_key("2026-05", june, cfg.tz)
    # win rate = won ÷ closed: May 2 of 3, April 1 of 1; team ent went from 1 of 1 to 1 of 2
    e = explain(eng, "win_rate", may, june)
    assert e["parts"]["numerator"] | {"change_pct": None} == {"name": "won", "now": 2, "before": 1, "change_pct": None}
    assert (e["parts"]["denominator"]["now"], e["parts"]["denominator"]["before"]) == (3, 1)
    by_team = next(t for t in e["tables"] if t["dim"] == "team")
    ent = next(r for r in by_team["rows"] if r["key"] == "ent")
    assert (ent["numerator_now"], ent["denominator_now"], ent["numerator_before"], ent["denominator_before"]) == \
        (1, 2, 1, 1)
    # CAC = spend ÷ new customers: April's only new customer (a2) came through an order, not a lead
    april = periods.from_key("2026-04", june, cfg.tz)
    c = explain(eng, "cac", april, june)
    spend = next(t for t in c["tables"] if t["what"] == "spend")
    assert {r["key"]: r["now"] for r in spend["rows"]} == pytest.approx({"referral": 3000, "outbound": 600})
    new = next(t for t in c["tables"] if t["what"] == "new_customers")
    assert {r["key"]: r["now"] for r in new["rows"] if r["now"]} == {"(none)": 1}
    assert c["parts"]["denominator"]["now"] == 1
    # retention: customers lost, by segment and by region
    q2 = periods.from_key("2026-Q2", at("2026-07-01T00:00"), cfg.tz)
    r = explain(eng, "retention", q2, at("2026-07-01T00:00"))
    assert {t["dim"] for t in r["tables"]} == {"segment", "region"}
    assert sum(x["now"] for x in r["tables"][0]["rows"]) == r["parts"]["lost"]["now"]


def test_daily_anomaly_compares_a_day_with_the_same_weekday_and_needs_three_weeks(store):
    demo_store(store)
    rule = _rule(id="leads_daily", kpi="lead_volume", grain="day",
                 conditions=[{"type": "anomaly", "series": "daily", "history_weeks": 8}])
    cfg = config(alerts={"rules": [rule.model_dump(by_alias=True)]})
    eng = KpiEngine(store, cfg)
    [ev] = rules.RuleEvaluator(eng, cfg, at(f"{ANCHOR.isoformat()}T08:00")).evaluate(rule)
    c = ev.conditions[0]
    assert c.type == "anomaly" and c.data["history"] == 8 and c.breached is not None
    from kpi_engine import periods

    day = periods.current("day", at(f"{ANCHOR.isoformat()}T08:00"), cfg.tz, -1)
    same = [periods.grain_period(periods.shift(day.start.replace(tzinfo=None), "day", -7 * k), "day", cfg.tz, None)
            for k in range(1, 9)]
    from statistics import median

    hist = [eng.measure("lead_volume", p, day.end).value for p in same]
    assert c.data["median"] == pytest.approx(median(hist))  # the same weekday of the 8 weeks before
    # 16 days into the history there are only two earlier Saturdays: not enough to call anything anomalous
    [early] = rules.RuleEvaluator(eng, cfg, at("2024-11-17T08:00")).evaluate(rule)
    assert early.outcome == "no_data" and "needs 3" in early.reason


def test_a_thai_alert_says_why_there_is_no_data_in_thai(store):
    demo_store(store)
    rule = _rule(id="leads_daily_th", kpi="lead_volume", grain="day", lang="th",
                 conditions=[{"type": "anomaly", "series": "daily", "history_weeks": 8}])
    cfg = config(alerts={"rules": [rule.model_dump(by_alias=True)]})
    eng = KpiEngine(store, cfg)
    [early] = rules.RuleEvaluator(eng, cfg, at("2024-11-17T08:00")).evaluate(rule)
    assert early.outcome == "no_data" and "needs 3" in early.reason
    assert early.reason_th.startswith("ประวัติไม่พอ") and "ต้องมี 3" in early.reason_th
    assert not any(w in early.reason_th for w in ("weeks of history", "needs", "Not enough"))
    # the alert's message reads the Thai reason, an English rule the English one
    row = AlertRow(rule.id, "", state="no_data", reason=early.reason,
                   detail=json.dumps({"eval": early.to_json()}, ensure_ascii=False))
    assert flow.alert_view(eng, cfg, rule, row, None).reason == early.reason_th
    en = rule.model_copy(update={"lang": "en"})
    assert flow.alert_view(eng, cfg, en, row, None).reason == early.reason


def test_a_run_pauses_the_cycle_collector_and_gives_it_back_as_it_found_it(store):
    """Runs pause the collector (its passes were a quarter of a 1M-store run); it resumes when the last
    overlapping run ends, also when a run fails, and stays off if it was off before."""
    import gc
    import threading

    from schedules import gcpause

    seen = []
    cfg, eng, ops = _setup(store, _rule())
    real = rules.RuleEvaluator.evaluate

    def evaluate(self, rule, known=()):
        seen.append(gc.isenabled())
        return real(self, rule, known)

    assert gc.isenabled()
    rules.RuleEvaluator.evaluate = evaluate
    try:
        flow.run_alerts(eng, ops, cfg, at("2026-11-23T08:00"), dry_run=True)
    finally:
        rules.RuleEvaluator.evaluate = real
    assert seen == [False] and gc.isenabled()
    with pytest.raises(ValueError, match="no alert rule nope"):
        flow.run_alerts(eng, ops, cfg, at("2026-11-23T08:00"), rule_ids=["nope"])
    assert gc.isenabled()
    # overlapping jobs on two threads: on until the last one ends
    inside, leave = threading.Event(), threading.Event()

    def other():
        with gcpause.paused():
            inside.set()
            leave.wait(10)

    th = threading.Thread(target=other)
    th.start()
    assert inside.wait(10)
    with gcpause.paused():
        pass
    assert not gc.isenabled()  # the other job still runs
    leave.set()
    th.join(10)
    assert gc.isenabled()
    gc.disable()
    try:
        with gcpause.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_detail_stored_by_an_older_version_still_reads():
    """Details were written by json.dumps, which writes a NaN as NaN (not JSON); they are read back
    as they were, and a detail written now reads back the same."""
    import math

    old = AlertRow("r", "", detail='{"eval": {"value": NaN, "period": {"label": "2026-W47"}}, "ชื่อ": "ทีม"}')
    d = old.detail_json()
    assert math.isnan(d["eval"]["value"]) and d["ชื่อ"] == "ทีม"
    new = AlertRow("r", "")
    new.set_detail({"eval": {"value": 0.25, "n": 3}, "data_to": None})
    assert new.detail_json() == {"eval": {"value": 0.25, "n": 3}, "data_to": None}
