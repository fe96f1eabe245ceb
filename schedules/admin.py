"""The operators' channel ([slack].admin_channel): the built-in stale-data alert and alert-rule errors.

Stale data is an alert like the configured ones: one (rule "stale_data", segment = source name) in
ops_alert_states going ok → firing → resolved through schedules.alerts.transition, its message
posted once through the outbox, edited in place while it changes and when it resolves, the
resolution replied in its thread. It fires when a source has not delivered for longer than its
max_age_hours (a source that never delivered counts from its first run), or when its last
[sync].failures runs (2 by default) failed. The scheduler checks after every sync run and on
[sync].check_cron.

An alert rule that cannot be evaluated (its state goes to `error`) is posted to the admin channel
once per error spell, and a reply in that message's thread says when it evaluates again.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.admin_blocks import rule_error_message, rule_recovered_reply, stale_message, stale_resolved_reply
from config.app_config import AppConfig
from config.sync_models import SourceConfig
from kpi_engine.ops import AlertRow, NewMessage, OpsStore, StaleWrite
from kpi_engine.sync import SourceState, states
from schedules.outbox import ALERT_EVENT, content_hash, edit, post, shows
from schedules.rules import Evaluation

log = logging.getLogger(__name__)

STALE_RULE = "stale_data"


def admin_channel(config: AppConfig) -> str:
    return config.slack.admin_channel


@dataclass(frozen=True)
class _Builtin:
    """What schedules.alerts.transition reads of a rule."""

    id: str = STALE_RULE
    for_: int = 1
    cooldown_hours: float = 0.0
    repeat_hours: float = 0.0


def stale_key(source: str, episode: int) -> str:
    from schedules.alerts import alert_key

    return alert_key(STALE_RULE, source, episode)


def evaluate_source(source: SourceConfig, state: SourceState | None, config: AppConfig, t: int) -> Evaluation:
    """breach (stale or failing), ok, or no_data (never run: nothing to say yet)."""
    limit = source.max_age_hours or config.sync.max_age_hours
    label = {"label": f"max {limit:g} h"}
    if state is None or state.first_run_at is None:
        return Evaluation(STALE_RULE, source.name, "", label, "no_data", None, reason="not run yet")
    since = state.last_success_at or state.first_run_at
    age_h = (t - since) / 3600
    reasons = []
    if state.failures >= config.sync.failures:
        first = (state.last_error or "").splitlines()[0] if state.last_error else "unknown error"
        reasons.append(f"{state.failures} runs in a row failed: {first}")
    if age_h > limit:
        reasons.append(f"no delivery for {age_h:.1f} h (limit {limit:g} h)")
    return Evaluation(STALE_RULE, source.name, "", label, "breach" if reasons else "ok", round(age_h, 2),
                      reason="; ".join(reasons) or None)


def check_freshness(ops: OpsStore, config: AppConfig, now: datetime, *, only: str | None = None,
                    dry_run: bool = False) -> list[dict[str, Any]]:
    """Evaluate the stale-data alert of every enabled source (or `only`); the transitions made."""
    from schedules.alerts import transition

    t = int(now.timestamp())
    known = states(ops.engine)
    out = []
    for source in config.sources:
        if not source.enabled or (only is not None and source.name != only):
            continue
        ev = evaluate_source(source, known.get(source.name), config, t)
        if ev.outcome == "no_data":
            continue
        for _ in range(5):
            before = ops.alert(STALE_RULE, source.name) or AlertRow(STALE_RULE, source.name)
            if before.evaluated_at is not None and t < before.evaluated_at:
                break  # a later check already ran (another process, or a replay of older time)
            row = copy.copy(before)
            effects = transition(row, ev, _Builtin(), t, silenced=False)
            msgs = _stale_messages(config, source, known.get(source.name), row, effects, t)
            if dry_run:
                break
            try:
                with ops.begin() as conn:
                    ops.save_alert(row, conn)
                    if any(m.kind == "update" for m in msgs) and row.message_key:
                        ops.supersede_updates(row.message_key, conn)
                    ops.enqueue(msgs, int(time.time()), conn)
            except StaleWrite:
                continue
            if before.state != row.state or effects:
                out.append({"rule": STALE_RULE, "segment": source.name, "from": before.state, "to": row.state,
                            "effects": effects, "reason": row.reason, "keys": [m.key for m in msgs]})
                log.log(logging.WARNING if row.state == "firing" else logging.INFO,
                        "stale data: source %s %s → %s (%s)", source.name, before.state, row.state, row.reason or "ok")
            break
    return out


def _stale_messages(config: AppConfig, source: SourceConfig, state: SourceState | None, row: AlertRow,
                    effects: list[str], t: int) -> list[NewMessage]:
    channel = admin_channel(config)
    lang = config.language
    base = stale_key(source.name, row.episode)
    meta = {"rule": STALE_RULE, "segment": source.name, "episode": row.episode}
    if not row.episode_open and "resolve" not in effects:
        return []
    text, blocks = stale_message(
        source=source.name, state=row.state, lang=lang, tz=config.tz,
        last_success=state.last_success_at if state else None, first_run=state.first_run_at if state else None,
        limit_hours=source.max_age_hours or config.sync.max_age_hours, failures=state.failures if state else 0,
        error=state.last_error if state else None, since=row.fired_at, resolved_at=row.resolved_at)
    h = content_hash(text, blocks)
    if row.message_key is None:
        key = f"{base}:firing"
        row.message_key, row.notified_at, row.shown = key, t, h
        return [post(key, channel, text, blocks, ALERT_EVENT, event_payload={**meta, "state": "firing"})]
    out = []
    if not shows(row.shown, h, text, blocks):
        row.updates += 1
        out.append(edit(f"{base}:edit:{row.updates}", row.message_key, channel, text, blocks))
    row.shown = h  # an older form of the same hash is stored anew
    if "resolve" in effects:
        rtext, rblocks = stale_resolved_reply(source.name, t, config.tz, lang)
        out.append(post(f"{base}:resolved", channel, rtext, rblocks, ALERT_EVENT, thread_of=row.message_key,
                        event_payload={**meta, "state": "resolved"}))
    return out


# ------------------------------------------------------------------ alert rules in error


def rule_error_messages(config: AppConfig, ops: OpsStore, rule_id: str, rule_name: str, before: AlertRow,
                        row: AlertRow, t: int) -> list[NewMessage]:
    """An alert rule entering `error` is posted to the admin channel (once per spell); leaving it,
    a reply in that post's thread."""
    from schedules.alerts import alert_key

    channel = admin_channel(config)
    lang = config.language
    meta = {"rule": rule_id, "segment": row.segment, "state": "error"}
    if row.state == "error" and before.state != "error":
        key = f"{alert_key(rule_id, row.segment, row.episode)}:error:{row.since}"
        text, blocks = rule_error_message(rule_id=rule_id, rule_name=rule_name, segment=row.segment,
                                          reason=row.reason or "", when=t, tz=config.tz, lang=lang)
        return [post(key, channel, text, blocks, ALERT_EVENT, event_payload=meta)]
    if before.state == "error" and row.state != "error":
        parent = f"{alert_key(rule_id, row.segment, before.episode)}:error:{before.since}"
        if not ops.existing_keys([parent]):
            return []  # the error was never posted (it began before this kpibot posted them)
        text, blocks = rule_recovered_reply(rule_id, row.segment, t, config.tz, lang)
        return [post(f"{parent}:recovered", channel, text, blocks, ALERT_EVENT, thread_of=parent,
                     event_payload={**meta, "state": "recovered"})]
    return []
