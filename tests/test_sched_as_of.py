"""Digests and alert runs as of an instant show alerts as they were then (issue 10, item 6): an alert
that fired later is not open, an acknowledgement or a snooze made later is not shown.

Two rules on the fixture company that always breach: `early` is evaluated on 1 October 2026 (it fires
then), acknowledged on 10 October and snoozed on 2 October; `late` is first evaluated on 30 November.
The digests are sent through the outbox to the Slack emulator and read there, as people would."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import text

from config.schedule_models import DigestConfig
from kpi_engine.engine import KpiEngine
from kpi_engine.ops import OpsStore
from schedules import alerts as flow
from schedules.digest import build_digest, queue_digest
from schedules.outbox import Sender
from tests import fixtures, test_sched_support
from tests.test_sched_support import at, client_for, config

emu = test_sched_support.emu  # the Slack emulator fixture

CH = "C0ALERTS"
DIGESTS = "C0LEAD"
_BREACH = [{"type": "threshold", "below": 1_000_000_000_000}]
RULES = [{"id": rid, "name": name, "kpi": "revenue", "grain": "year", "period": "to_date", "conditions": _BREACH,
          "channel": CH} for rid, name in (("early", "Revenue early"), ("late", "Revenue late"))]


def ts(text: str) -> int:
    return int(at(text).timestamp())


@pytest.fixture
def history(store, tmp_path, emu):
    fixtures.load(store, tmp_path / "csv")
    cfg = config(alerts={"rules": RULES})
    eng, ops = KpiEngine(store, cfg), OpsStore(store)
    flow.run_alerts(eng, ops, cfg, at("2026-10-01T08:00"), rule_ids=["early"], explain=False)
    assert flow.snooze(eng, ops, cfg, "early||1", "UHEAD", 7, ts("2026-10-02T09:00")).ok
    assert flow.acknowledge(eng, ops, cfg, "early||1", "UMGR", ts("2026-10-10T09:00")).ok
    flow.run_alerts(eng, ops, cfg, at("2026-11-30T08:00"), explain=False)
    Sender(ops, client_for(emu)).drain(timeout=10)
    return cfg, eng, ops


def _digest(history, emu, when: str):
    cfg, eng, ops = history
    sub = DigestConfig(id=f"lead-{when[:10]}", channel=DIGESTS, kpis=["revenue"], chart=False)
    d = build_digest(eng, ops, cfg, sub, at(when), chart=False)
    queue_digest(ops, d)
    Sender(ops, client_for(emu)).drain(timeout=10)
    posted = [m for m in emu.messages(DIGESTS) if m["metadata"]["event_payload"]["key"] == d.key][0]
    text = "\n".join(b.get("text", {}).get("text", "") for b in posted["blocks"] if isinstance(b.get("text"), dict))
    return d, text


def test_a_digest_as_of_5_october_does_not_list_alerts_that_fired_later(history, emu):
    d, text = _digest(history, emu, "2026-10-05T09:00")
    assert [a.rule_id for a in d.alerts] == ["early"]
    assert "Revenue early" in text and "Revenue late" not in text
    # acknowledged on 10 October: not yet; snoozed on 2 October for 7 days: yes, until the 9th
    assert d.alerts[0].acked_by is None and "acknowledged" not in text
    assert d.alerts[0].snoozed_until == ts("2026-10-09T09:00") and "snoozed until" in text


def test_later_digests_show_what_had_happened_by_then(history, emu):
    d, text = _digest(history, emu, "2026-10-12T09:00")
    assert [(a.rule_id, a.acked_by, a.snoozed_until) for a in d.alerts] == [("early", "UMGR", None)]
    assert "acknowledged by <@UMGR>" in text
    d, _ = _digest(history, emu, "2026-12-01T09:00")
    assert [a.rule_id for a in d.alerts] == ["early", "late"]
    d, text = _digest(history, emu, "2026-09-30T09:00")  # before anything fired
    assert d.alerts == [] and "No open alerts" in text


def test_a_resolution_is_as_of_too(history, emu):
    cfg, eng, ops = history
    assert flow.resolve(eng, ops, cfg, "late||1", "UHEAD", ts("2026-12-02T09:00")).ok
    assert [a.rule_id for a in _digest(history, emu, "2026-12-01T12:00")[0].alerts] == ["early", "late"]
    assert [a.rule_id for a in _digest(history, emu, "2026-12-03T09:00")[0].alerts] == ["early"]
    assert ops.open_alerts() == [ops.alert("early", "")]  # today's view: the table itself


def test_a_dry_run_as_of_an_earlier_instant_starts_from_the_state_then(history):
    cfg, eng, ops = history
    r = flow.run_alerts(eng, ops, cfg, at("2026-10-05T08:00"), dry_run=True, explain=False)
    effects = {t["rule"]: (t["from"], t["effects"]) for t in r.transitions}
    # `late` had not been evaluated yet on 5 October, so a run then fires it; `early` was firing already
    assert effects["late"] == ("ok", ["fire"])
    assert "early" not in effects or "fire" not in effects["early"][1]
    assert ops.alert("late", "").fired_at == ts("2026-11-30T08:00")  # and nothing was written


def _history_rows(ops: OpsStore) -> int:
    with ops.engine.connect() as c:
        return c.execute(text("SELECT COUNT(*) FROM ops_alert_history")).scalar()


def test_history_is_kept_only_when_what_readers_see_changes(history):
    cfg, eng, ops = history
    before, rows = ops.alerts_as_of(ts("2030-01-01T00:00")), _history_rows(ops)
    for day in ("2026-12-01", "2026-12-02"):
        flow.run_alerts(eng, ops, cfg, datetime.fromisoformat(f"{day}T08:00+07:00"), explain=False)
    # evaluated twice more, same state and value: no new history rows, the as-of view unchanged
    assert _history_rows(ops) == rows
    after = ops.alerts_as_of(ts("2030-01-01T00:00"))
    assert {k: (r.state, r.value, r.acked_by) for k, r in after.items()} == \
        {k: (r.state, r.value, r.acked_by) for k, r in before.items()}
