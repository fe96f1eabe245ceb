"""Alert runs and the alert lifecycle, persisted per (rule, segment) in the ops store.

    ok ──breach──▶ pending ──breach × `for`──▶ firing ──ok──▶ resolved
                                                 │ ▲
                                   no data/error ▼ │ breach
                                              no_data / error

An episode starts when a (rule, segment) fires (episode += 1) and ends when it resolves.
Its message is posted once (key alert:<rule>:<segment>:<episode>:firing), then edited in
place whenever what it shows changes (acknowledged, snoozed, snooze over, no data,
resolved); the resolution and reminders go into its thread. A state change and the
messages it causes are written in one transaction, and every message goes through the
outbox, so a crash can neither lose a message nor send it twice.

Time here is the evaluation's as_of (business "now"); button clicks use the wall clock.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

from bot.alert_blocks import (
    AlertView,
    alert_message,
    explain_blocks,
    period_from_json,
    reminder_reply,
    resolved_reply,
)
from bot.blocks import escape, section
from config.app_config import AppConfig
from config.schedule_models import AlertRule
from kpi_engine import format as fmt
from kpi_engine.engine import KpiEngine
from kpi_engine.ops import HISTORY_FIELDS, AlertRow, NewMessage, OpsStore, SilenceRow, StaleWrite
from schedules import admin, gcpause
from schedules import explain as explain_mod
from schedules.outbox import ALERT_EVENT, content_hash, edit, post, shows
from schedules.rules import CondResult, Evaluation, RuleEvaluator, describe, rule_period

log = logging.getLogger(__name__)

OPEN_STATES = ("pending", "firing")


def alert_key(rule_id: str, segment: str, episode: int) -> str:
    """The dedup key of one alert episode; its messages' keys extend it."""
    return f"alert:{rule_id}:{quote(segment, safe='') or '*'}:{episode}"


def alert_channel(rule: AlertRule, config: AppConfig) -> str:
    return rule.channel or config.alerts.channel or config.slack.alerts_channel


def alert_lang(rule: AlertRule, config: AppConfig) -> str:
    return rule.lang or config.language


# ------------------------------------------------------------------ the state machine


def transition(row: AlertRow, ev: Evaluation, rule: AlertRule, t: int, silenced: bool) -> list[str]:
    """Move `row` (in place) by one evaluation at time t; returns effects: fire, resolve, remind."""
    row.evaluated_at = t
    row.period = ev.period["label"]
    row.value = ev.value
    row.reason = ev.reason
    effects: list[str] = []
    if ev.outcome == "breach":
        row.breaches += 1
        if row.episode_open:
            _enter(row, "firing", t)
            if (rule.repeat_hours and row.message_key and not row.acked_by and not silenced
                    and (row.notified_at is None or t - row.notified_at >= rule.repeat_hours * 3600)):
                effects.append("remind")
        else:
            cooling = bool(rule.cooldown_hours and row.resolved_at is not None
                           and t - row.resolved_at < rule.cooldown_hours * 3600)
            if row.breaches >= rule.for_ and not cooling:
                row.episode += 1
                row.fired_at, row.resolved_at, row.notified_at = t, None, None
                row.acked_by = row.acked_at = row.message_key = row.shown = None
                row.state, row.since = "firing", t
                effects.append("fire")
            else:
                _enter(row, "pending", t)
    elif ev.outcome == "ok":
        row.breaches = 0
        if row.episode_open:
            row.resolved_at = t
            _enter(row, "resolved", t)
            effects.append("resolve")
        elif row.state != "resolved":
            _enter(row, "ok", t)
    else:  # no_data, error: not a breach, and not evidence it is over either
        row.breaches = 0
        _enter(row, ev.outcome, t)
    return effects


def _enter(row: AlertRow, state: str, t: int) -> None:
    if row.state != state:
        row.state, row.since = state, t


# ------------------------------------------------------------------ views and messages


def alert_view(engine: KpiEngine, config: AppConfig, rule: AlertRule, row: AlertRow,
               silence: SilenceRow | None, rep_names: dict[str, str] | None = None) -> AlertView:
    spec = engine.spec(rule.kpi)
    lang = alert_lang(rule, config)
    detail = row.detail_json()
    breach = detail.get("breach") or detail.get("eval") or {}
    conds = [CondResult(**c) for c in breach.get("conditions", []) if c.get("breached")]
    ev = detail.get("eval") or {}
    return AlertView(
        rule_id=rule.id, title=rule.label(lang), severity=rule.severity, kpi_name=spec.name(lang), unit=spec.unit,
        currency=config.currency, lang=lang, tz=config.tz, segment=row.segment, per=rule.per,
        filters=dict(rule.filter), state=row.state,
        period_label=_period_label(ev.get("period"), lang) or (row.period or ""), value=row.value,
        findings=[describe(c, spec.unit, config.currency, lang) for c in conds],
        reason=(ev.get("reason_th") if lang == "th" else None) or row.reason,
        since=row.since, fired_at=row.fired_at, resolved_at=row.resolved_at, acked_by=row.acked_by,
        acked_at=row.acked_at, snoozed_until=silence.ends_at if silence else None,
        snoozed_by=silence.created_by if silence else None, mention=rule.mention,
        button_value=f"{rule.id}|{row.segment}|{row.episode}",
        segment_label=segment_label(engine, rule.per, row.segment, lang, rep_names),
        explain=labelled_explain(engine, detail.get("explain"), lang), data_to=detail.get("data_to"))


def segment_label(engine: KpiEngine, dim: str | None, segment: str, lang: str,
                  rep_names: dict[str, str] | None = None) -> str:
    """A rule segment as people read it: a rep's name, a team's or region's display name.
    `rep_names`: the reps' names read at once for a whole run (engine.rep_names), if at hand."""
    if not dim or not segment:
        return segment
    if dim == "rep":
        names = engine.rep_names([segment]) if rep_names is None else rep_names
        return names.get(segment, segment)
    return engine.names.display(dim, segment, lang)


def labelled_explain(engine: KpiEngine, e: dict[str, Any] | None, lang: str) -> dict[str, Any] | None:
    """An explanation whose table rows carry display names (`label`) beside their stored keys, and
    whose periods read as periods (W47 2026, Q3 2569), not keys."""
    if not e:
        return e
    out = copy.deepcopy(e)
    for t in out.get("tables", []):
        dim = t.get("dim")
        for r in t.get("rows", []):
            key = "" if r.get("key") in (None, "(none)") else str(r["key"])
            r["label"] = segment_label(engine, dim, key, lang) if dim and (key or dim != "rep") else r.get("key")
    for k in ("period", "previous_period"):
        if isinstance(out.get(k), str):
            out[k] = fmt.key_label(out[k], lang)
    return out



def _period_label(p: dict | None, lang: str) -> str | None:
    """A stored period (Period.to_json) as people read it, in the message's language."""
    if not p:
        return None
    label = fmt.period_label(period_from_json(p), lang)
    return f"{label} ({fmt.word('to_date', lang)})" if p.get("to_date") else label


def messages_for(engine: KpiEngine, config: AppConfig, rule: AlertRule, row: AlertRow, effects: list[str],
                 silence: SilenceRow | None, t: int, rep_names: dict[str, str] | None = None) -> list[NewMessage]:
    """The outbox messages the row's new state calls for; updates row.message_key/shown/updates."""
    channel = alert_channel(rule, config)
    base = alert_key(rule.id, row.segment, row.episode)
    meta = {"rule": rule.id, "segment": row.segment, "episode": row.episode}
    out: list[NewMessage] = []
    if row.episode_open and row.state == "firing" and row.message_key is None:
        if silence is None:  # snoozed: it posts when the snooze is over and it still fires
            text, blocks = alert_message(alert_view(engine, config, rule, row, silence, rep_names))
            key = f"{base}:firing"
            out.append(post(key, channel, text, blocks, ALERT_EVENT, event_payload={**meta, "state": "firing"}))
            row.message_key, row.notified_at, row.shown = key, t, content_hash(text, blocks)
        return out
    if not row.message_key:
        return out  # most segments of a run: nothing posted, so nothing to render
    view = alert_view(engine, config, rule, row, silence, rep_names)
    text, blocks = alert_message(view)
    h = content_hash(text, blocks)
    if not shows(row.shown, h, text, blocks):
        row.updates += 1
        out.append(edit(f"{base}:edit:{row.updates}", row.message_key, channel, text, blocks))
    row.shown = h  # an older form of the same hash is stored anew
    if "resolve" in effects:
        rtext, rblocks = resolved_reply(view)
        out.append(post(f"{base}:resolved", channel, rtext, rblocks, ALERT_EVENT, thread_of=row.message_key,
                        event_payload={**meta, "state": "resolved"}))
    if "remind" in effects:
        mtext, mblocks = reminder_reply(view)
        out.append(post(f"{base}:remind:{t}", channel, mtext, mblocks, ALERT_EVENT, thread_of=row.message_key,
                        event_payload={**meta, "state": "reminder"}, reply_broadcast=True))
        row.notified_at = t
    return out


def _write(ops: OpsStore, conn, row: AlertRow, msgs: list[NewMessage], now: int, *, at: int | None = None,
           resolved_by: str | None = None) -> None:
    """`at`: when the change takes effect (the evaluation's as_of, a click's time), for the history."""
    ops.save_alert(row, conn, at=at, resolved_by=resolved_by)
    if any(m.kind == "update" for m in msgs) and row.message_key:
        ops.supersede_updates(row.message_key, conn)  # an older, unsent edit would show stale content
    ops.enqueue(msgs, now, conn)


# ------------------------------------------------------------------ a run


@dataclass
class AlertRunResult:
    as_of: str
    dry_run: bool
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    transitions: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # outbox keys created by this run
    queries: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def run_alerts(engine: KpiEngine, ops: OpsStore, config: AppConfig, as_of: datetime, *, dry_run: bool = False,
               rule_ids: list[str] | None = None, explain: bool = True) -> AlertRunResult:
    """Evaluate the rules at as_of, move their states, and queue the messages (unless dry_run).

    dry_run: nothing is written; `transitions` and `messages` say what a real run would do
    from the stored state. A (rule, segment) already evaluated at or after as_of is skipped
    (a rerun of the same evaluation, or a replay of older history).
    """
    with gcpause.paused():
        return _run(engine, ops, config, as_of, dry_run, rule_ids, explain)


def _run(engine: KpiEngine, ops: OpsStore, config: AppConfig, as_of: datetime, dry_run: bool,
         rule_ids: list[str] | None, explain: bool) -> AlertRunResult:
    started = time.perf_counter()
    t = int(as_of.timestamp())
    result = AlertRunResult(as_of.isoformat(), dry_run)
    rules = [r for r in config.alerts.rules if r.enabled and (rule_ids is None or r.id in rule_ids)]
    unknown = set(rule_ids or []) - {r.id for r in config.alerts.rules}
    if unknown:
        raise ValueError(f"no alert rule {', '.join(sorted(unknown))} (rules: "
                         f"{', '.join(r.id for r in config.alerts.rules) or 'none'})")
    evaluator = RuleEvaluator(engine, config, as_of)
    silences = ops.silences(t)
    # every rule's stored states in one read, not three reads per rule (each a round trip to
    # PostgreSQL). A state changed since by someone else fails its write's version check, and
    # that rule reads its states again.
    stored = _by_rule(ops.alerts())
    then = _by_rule(ops.alerts_as_of(t)) if dry_run else {}
    for rule in rules:
        mine = stored.get(rule.id, {})
        known = [seg for (rid, seg), row in mine.items() if row.state in OPEN_STATES or row.episode_open]
        evals = evaluator.evaluate(rule, known)
        as_json = [_ev_json(ev) for ev in evals]
        result.evaluations += as_json
        _apply(engine, ops, config, rule, list(zip(evals, as_json, strict=True)), t, as_of, silences, dry_run,
               explain, result, read=mine, read_then=then.get(rule.id, {}))
    result.queries = evaluator.cache.queries
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _as_of(stored: dict[tuple[str, str], AlertRow], then: dict[tuple[str, str], AlertRow],
           t: int) -> dict[tuple[str, str], AlertRow]:
    """The stored rows as they were at t, for a dry run replaying an instant they have moved past: an
    alert that fired later is not open then, an acknowledgement made later not made."""
    out = {}
    for key, row in stored.items():
        if row.evaluated_at is None or row.evaluated_at <= t:
            out[key] = row
            continue
        old = then.get(key)
        if old is None:
            out[key] = AlertRow(row.rule_id, row.segment)  # nothing known yet at t
            continue
        same_episode = old.episode == row.episode
        out[key] = replace(row, **{f: getattr(old, f) for f in HISTORY_FIELDS}, since=old.since,
                           evaluated_at=old.evaluated_at, breaches=row.breaches if same_episode else 0,
                           message_key=row.message_key if same_episode else None)
    return out


def _by_rule(rows: dict[tuple[str, str], AlertRow]) -> dict[str, dict[tuple[str, str], AlertRow]]:
    out: dict[str, dict[tuple[str, str], AlertRow]] = {}
    for key, row in rows.items():
        out.setdefault(key[0], {})[key] = row
    return out


def _ev_json(ev: Evaluation) -> dict[str, Any]:
    d = ev.to_json()
    d["period"] = ev.period["label"]
    return d


def _silence_for(silences: list[SilenceRow], rule_id: str, segment: str) -> SilenceRow | None:
    hits = [s for s in silences if s.rule_id == rule_id and s.segment in (segment, "*")]
    return max(hits, key=lambda s: s.ends_at) if hits else None


def _apply(engine, ops, config, rule, evals, t, as_of, silences, dry_run, want_explain, result, *,
           read: dict[tuple[str, str], AlertRow], read_then: dict[tuple[str, str], AlertRow]) -> None:
    """`read`, `read_then`: the rule's stored states and (dry run) their history at t, as the run read
    them before evaluating."""
    explained: dict[str, dict] = {}
    data_to = engine.data_to(rule.kpi)
    # a rule per rep names thousands of reps: one read of their names, not one per message
    rep_names = engine.rep_names([ev.segment for ev, _ in evals]) if rule.per == "rep" else None
    for attempt in range(5):
        current = read if attempt == 0 else ops.alerts(rule.id)  # a retry: changed meanwhile
        stored = _as_of(current, read_then, t) if dry_run else current  # a dry run writes nothing, so never retries
        plans = []
        for ev, ev_json in evals:
            before = stored.get((rule.id, ev.segment)) or AlertRow(rule.id, ev.segment)
            if before.evaluated_at is not None and t <= before.evaluated_at and not dry_run:
                result.skipped.append(f"{rule.id}/{ev.segment or '*'}: already evaluated as of "
                                      f"{datetime.fromtimestamp(before.evaluated_at, config.tz).isoformat()}")
                continue
            row = copy.copy(before)
            silence = _silence_for(silences, rule.id, ev.segment)
            effects = transition(row, ev, rule, t, silence is not None)
            detail = row.detail_json()
            detail["eval"] = ev_json | {"period": ev.period}
            detail["data_to"] = data_to
            if ev.outcome == "breach":
                detail["breach"] = detail["eval"]
            if "fire" in effects:
                detail.pop("explain", None)
                if want_explain and not dry_run:
                    if ev.segment not in explained:
                        explained[ev.segment] = _explain_for(engine, rule, ev.segment, as_of)
                    detail["explain"] = explained[ev.segment]
            row.set_detail(detail)
            msgs = messages_for(engine, config, rule, row, effects, silence, t, rep_names)
            msgs += admin.rule_error_messages(config, ops, rule.id, rule.label(config.language), before, row, t)
            plans.append((before, row, effects, msgs))
        try:
            if not dry_run:
                with ops.begin() as conn:
                    for _, row, _, msgs in plans:
                        _write(ops, conn, row, msgs, int(time.time()), at=t)
        except StaleWrite:
            log.info("alert rule %s: state changed meanwhile (attempt %d); evaluating the transition again",
                     rule.id, attempt + 1)
            continue
        for before, row, effects, msgs in plans:
            if before.state != row.state or effects:
                result.transitions.append({"rule": rule.id, "segment": row.segment, "from": before.state,
                                           "to": row.state, "effects": effects, "episode": row.episode,
                                           "value": row.value, "period": row.period, "reason": row.reason})
            for m in msgs:
                result.messages.append({"key": m.key, "kind": m.kind, "channel": m.channel,
                                        "text": m.payload.get("text"), "blocks": m.payload.get("blocks")})
                if not dry_run:
                    result.keys.append(m.key)
        return
    raise RuntimeError(f"alert rule {rule.id}: its state kept changing under the evaluation")


def _explain_for(engine: KpiEngine, rule: AlertRule, segment: str, as_of: datetime) -> dict[str, Any] | None:
    filters = {**rule.filter, **({rule.per: segment} if rule.per else {})}
    try:
        return explain_mod.explain(engine, rule.kpi, rule_period(rule, as_of, engine.tz), as_of, filters)
    except Exception:  # the alert still goes out without its explanation
        log.exception("explaining %s/%s failed", rule.id, segment)
        return None


# ------------------------------------------------------------------ buttons


@dataclass
class ActionResult:
    ok: bool
    message: str  # for the person who clicked (ephemeral)
    keys: list[str] = field(default_factory=list)  # outbox keys to deliver now


ENDED = ("This alert is over; nothing to do.", "การแจ้งเตือนนี้สิ้นสุดแล้ว")


def _find(config: AppConfig, ops: OpsStore, value: str) -> tuple[AlertRule, AlertRow] | None:
    try:
        rule_id, segment, episode = value.split("|")
        ep = int(episode)
    except ValueError:
        return None
    rule = next((r for r in config.alerts.rules if r.id == rule_id), None)
    row = ops.alert(rule_id, segment)
    if rule is None or row is None or row.episode != ep:
        return None
    return rule, row


def find_alert(config: AppConfig, ops: OpsStore, value: str) -> tuple[AlertRule, AlertRow] | None:
    """The rule and the stored alert a button value names (its episode), or None when it is over."""
    return _find(config, ops, value)


def _moment(config: AppConfig, t: int, lang: str) -> str:
    return fmt.moment(datetime.fromtimestamp(t, config.tz), lang)


def _note(rule: AlertRule, row: AlertRow, config: AppConfig, key: str, text: str) -> NewMessage:
    """A line in the alert's thread saying who did what when (the record of the buttons)."""
    return post(f"{alert_key(rule.id, row.segment, row.episode)}:{key}", alert_channel(rule, config), text,
                [section(escape(text))], ALERT_EVENT, thread_of=row.message_key,
                event_payload={"rule": rule.id, "segment": row.segment, "episode": row.episode, "state": key})


def _change(engine, ops, config, value: str, now: int, mutate) -> ActionResult:
    """Apply `mutate(rule, row, conn, lang)` to the alert the button names, with the edit of its message
    and mutate's thread notes in the same transaction. mutate returns (message for the person, notes,
    resolved_by), or a str: nothing to change, only that message."""
    for _ in range(5):
        found = _find(config, ops, value)
        if found is None or not found[1].episode_open:
            return ActionResult(False, ENDED[1 if config.language == "th" else 0])
        rule, row = found
        lang = alert_lang(rule, config)
        try:
            with ops.begin() as conn:
                done = mutate(rule, row, conn, lang)
                if isinstance(done, str):
                    return ActionResult(True, done)
                message, notes, resolved_by = done
                silence = ops.active_silence(rule.id, row.segment, now, conn)
                msgs = messages_for(engine, config, rule, row, [], silence, now)
                msgs += [n for n in notes if row.message_key]  # a snoozed, unposted alert has no thread
                _write(ops, conn, row, msgs, now, at=now, resolved_by=resolved_by)
            return ActionResult(True, message, [m.key for m in msgs])
        except StaleWrite:
            continue
    return ActionResult(False, "The alert is changing right now; try again.")


def acknowledge(engine: KpiEngine, ops: OpsStore, config: AppConfig, value: str, user: str,
                now: int) -> ActionResult:
    def mutate(rule, row, conn, lang):
        if row.acked_by:
            when = _moment(config, row.acked_at or now, lang)
            return (f"<@{row.acked_by}> รับทราบแล้วเมื่อ {when}" if lang == "th"
                    else f"Already acknowledged by <@{row.acked_by}> at {when}.")
        row.acked_by, row.acked_at = user, now
        when = _moment(config, now, lang)
        text = f"✅ <@{user}> รับทราบเมื่อ {when}" if lang == "th" else f"✅ Acknowledged by <@{user}> at {when}"
        return ("รับทราบแล้ว" if lang == "th" else "Acknowledged."), [_note(rule, row, config, "ack", text)], None

    return _change(engine, ops, config, value, now, mutate)


def snooze(engine: KpiEngine, ops: OpsStore, config: AppConfig, value: str, user: str, days: int,
           now: int) -> ActionResult:
    """Snooze for `days` from now, unless a snooze already lasts as long or longer: a snooze never
    shortens another (the later end stays, and the person is told until when)."""
    def mutate(rule, row, conn, lang):
        ends = now + days * 86400
        current = ops.active_silence(rule.id, row.segment, now, conn)
        if current is not None and current.ends_at >= ends:
            who = f"<@{current.created_by}>" if current.created_by else ("ผู้ใช้" if lang == "th" else "someone")
            until = _moment(config, current.ends_at, lang)
            return (f"การแจ้งเตือนนี้ถูกเลื่อนโดย {who} ถึง {until} อยู่แล้ว ซึ่งนานกว่า จึงคงไว้ตามเดิม" if lang == "th"
                    else f"Already snoozed by {who} until {until}, which is longer; that snooze stays.")
        sid = ops.add_silence(rule.id, row.segment, now, ends, user, now, reason=f"snooze {days}d", conn=conn)
        until, when = _moment(config, ends, lang), _moment(config, now, lang)
        text = (f"😴 <@{user}> เลื่อนการแจ้งเตือนถึง {until} (เมื่อ {when})" if lang == "th"
                else f"😴 Snoozed by <@{user}> at {when} until {until}")
        msg = f"เลื่อนการแจ้งเตือน {days} วัน (ถึง {until})" if lang == "th" else f"Snoozed for {days} day(s), until {until}."
        return msg, [_note(rule, row, config, f"snooze:{sid}", text)], None

    return _change(engine, ops, config, value, now, mutate)


def resolve(engine: KpiEngine, ops: OpsStore, config: AppConfig, value: str, user: str,
            now: int) -> ActionResult:
    """End the episode by hand: the message says resolved, its thread who did it; a later breach fires a
    new episode (after the rule's cooldown)."""
    def mutate(rule, row, conn, lang):
        row.resolved_at = now
        _enter(row, "resolved", now)
        when = _moment(config, now, lang)
        text = f"✅ <@{user}> ปิดการแจ้งเตือนเมื่อ {when}" if lang == "th" else f"✅ Resolved by <@{user}> at {when}"
        return ("ปิดการแจ้งเตือนแล้ว" if lang == "th" else "Resolved."), [_note(rule, row, config, "resolved", text)], user

    return _change(engine, ops, config, value, now, mutate)


def explain_alert(engine: KpiEngine, ops: OpsStore, config: AppConfig, value: str, user: str,
                  now: int) -> ActionResult:
    """Post the driver breakdown in the alert's thread (once per episode, also after it resolved)."""
    found = _find(config, ops, value)
    if found is None or not found[1].message_key:
        return ActionResult(False, ENDED[1 if config.language == "th" else 0])
    rule, row = found
    segment = row.segment
    lang = alert_lang(rule, config)
    detail = row.detail_json()
    e = detail.get("explain")
    if not e:
        e = _explain_for(engine, rule, segment, datetime.fromtimestamp(row.fired_at or now, config.tz))
        if not e:
            return ActionResult(False, "The explanation could not be computed; see the logs.")
    spec = engine.spec(rule.kpi)
    text, blocks = explain_blocks(labelled_explain(engine, e, lang) or e, spec.name(lang), config.currency, lang)
    key = f"{alert_key(rule.id, segment, row.episode)}:explain"
    msg = post(key, alert_channel(rule, config), text, blocks, ALERT_EVENT, thread_of=row.message_key,
               event_payload={"rule": rule.id, "segment": segment, "episode": row.episode, "state": "explain"})
    created = ops.enqueue([msg], now)[0]
    if not created:
        return ActionResult(True, "คำอธิบายอยู่ในเธรดแล้ว" if lang == "th" else "The explanation is in the thread.",
                            [key])
    return ActionResult(True, "โพสต์คำอธิบายในเธรดแล้ว" if lang == "th" else "Explanation posted in the thread.",
                        [key])
