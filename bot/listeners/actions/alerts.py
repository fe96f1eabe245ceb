"""The buttons under an alert: Acknowledge, Snooze 1 day / 7 days, Resolve, Explain.

    register_alert_actions(app, deps)   # deps: anything with .engine, .config and .clock (bot.deps.BotDeps)

Each click is acknowledged at once; the work runs after the ack, in the bot's answer pool. The
change is made in the ops store and the edit of the alert message (or the explanation in
its thread) goes through the outbox like every alert message, then is delivered right
away with the client bolt hands the listener; if Slack is unavailable the scheduler's
sender delivers it later. The person who clicked gets an ephemeral confirmation.

Acknowledge, Snooze and Resolve are for the people [access.alert_actions] allows on that alert's scope
(company, team, rep; bot/access.py); anyone else gets a private "only … can …" and nothing changes.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import access, admit, i18n
from bot.alert_blocks import ACK_ACTION, EXPLAIN_ACTION, RESOLVE_ACTION, SNOOZE_1D_ACTION, SNOOZE_7D_ACTION
from kpi_engine.ops import OpsStore
from schedules import alerts as alert_flow
from schedules.outbox import Sender

log = logging.getLogger(__name__)

# Enough for a click to feel immediate; a slower Slack leaves the rest to the scheduler's sender.
DELIVER_TIMEOUT = 10.0

ACTION_OF = {ACK_ACTION: "acknowledge", SNOOZE_1D_ACTION: "snooze", SNOOZE_7D_ACTION: "snooze",
             RESOLVE_ACTION: "resolve"}


def refusal(deps: Any, ops: OpsStore, user: str, value: str, action: str) -> str | None:
    """The private "only … can …" when this person may not do `action` to the alert; None when they may
    (or the alert is over, which the flow itself says)."""
    found = alert_flow.find_alert(deps.config, ops, value)
    if found is None:
        return None
    rule, row = found
    scope = access.alert_scope(deps.engine, rule, row.segment)
    rep = deps.engine.rep_for_slack_user(user) if user != "unknown" else None
    if access.may_act_on_alert(user, rep, deps.config.access, scope, action):  # type: ignore[arg-type]
        return None
    langs = getattr(deps, "langs", None)
    lang = langs.for_user(user) if langs is not None else alert_flow.alert_lang(rule, deps.config)
    team = deps.engine.names.display("team", scope.team, lang) if scope.team else ""
    rep_name = deps.engine.rep_names([scope.rep]).get(scope.rep, scope.rep) if scope.rep else ""
    who = access.who_may(deps.config.access, scope, action, lang, team, rep_name)  # type: ignore[arg-type]
    log.info("alert action %s on %s/%s (%s) refused for %s", action, rule.id, row.segment or "*", scope.kind, user)
    return i18n.t("alert_only", lang, who=who, verb=i18n.t(f"verb_{action}", lang))


def handle_alert_action(deps: Any, body: dict[str, Any], client: WebClient | None) -> alert_flow.ActionResult:
    """Carry out one alert button click (also callable without bolt, e.g. from the sandbox)."""
    action = (body.get("actions") or [{}])[0]
    action_id, value = action.get("action_id"), action.get("value") or ""
    user = (body.get("user") or {}).get("id") or "unknown"
    ops = OpsStore(deps.engine.store)
    now = int(deps.clock().timestamp())
    refused = refusal(deps, ops, user, value, ACTION_OF[action_id]) if action_id in ACTION_OF else None
    if refused is not None:
        result = alert_flow.ActionResult(False, refused)
    elif action_id == ACK_ACTION:
        result = alert_flow.acknowledge(deps.engine, ops, deps.config, value, user, now)
    elif action_id in (SNOOZE_1D_ACTION, SNOOZE_7D_ACTION):
        days = 1 if action_id == SNOOZE_1D_ACTION else 7
        result = alert_flow.snooze(deps.engine, ops, deps.config, value, user, days, now)
    elif action_id == RESOLVE_ACTION:
        result = alert_flow.resolve(deps.engine, ops, deps.config, value, user, now)
    elif action_id == EXPLAIN_ACTION:
        result = alert_flow.explain_alert(deps.engine, ops, deps.config, value, user, now)
    else:
        return alert_flow.ActionResult(False, f"unknown action {action_id}")
    if result.keys and client is not None:
        cfg = deps.config.scheduler
        try:
            Sender(ops, client, timeout=cfg.slack_timeout_seconds,
                   stale_after=cfg.outbox_stale_seconds).drain(result.keys, timeout=DELIVER_TIMEOUT)
        except Exception:  # queued: the scheduler's sender delivers it
            log.exception("alert action %s: delivering %s failed for now", action_id, result.keys)
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    if client is not None and channel and user != "unknown":
        try:
            client.chat_postEphemeral(channel=channel, user=user, text=result.message)
        except Exception:  # the confirmation is a courtesy; the change is made
            log.warning("alert action %s: could not confirm to %s", action_id, user)
    return result


def register_alert_actions(app: App, deps: Any) -> None:
    def click(ack: Ack, body: dict, context: BoltContext) -> None:
        admit.action(deps, ack, body, context.get("request_id") or "-", handle_alert_action, deps, body,
                     deps.client)

    for action_id in (ACK_ACTION, SNOOZE_1D_ACTION, SNOOZE_7D_ACTION, RESOLVE_ACTION, EXPLAIN_ACTION):
        app.action(action_id)(click)
