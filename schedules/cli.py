"""`kpibot digest` and `kpibot alerts` (interface.md), as functions the CLI wires up.

Both return JSON-able dicts (what `--json` prints) and take a client factory that is
only called when something is to be sent, so `--dry-run` needs no Slack at all: an
operator can test a rule against history with `kpibot alerts --as-of 2026-03-02 --dry-run`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import Engine

from config.app_config import AppConfig
from kpi_engine import periods
from kpi_engine.engine import KpiEngine
from kpi_engine.ops import OpsStore
from schedules.alerts import run_alerts
from schedules.digest import (
    build_digest,
    digest_channel,
    digest_key,
    last_week,
    personal_digests,
    queue_digest,
)
from schedules.outbox import DELIVERIES, Sender

UNFINISHED = ("pending", "sending")


class ScheduleInputError(ValueError):
    """A bad --channel, digest id or rule id: one line for the person at the keyboard."""


def _deliver(ops: OpsStore, config: AppConfig, client_factory: Callable[[], WebClient], keys: list[str],
             timeout: float) -> dict[str, str]:
    """Send `keys` now (with retries for up to `timeout` s); each key's outbox state afterwards.
    Also runs the checks for late duplicates that are due, from this run or an earlier one: where
    kpibot runs from cron, with no service, nobody else would."""
    sender: Sender | None = None
    if keys or ops.due(int(time.time()), limit=1, kinds=Sender.CHECKS):
        cfg = config.scheduler
        sender = Sender(ops, client_factory(), timeout=cfg.slack_timeout_seconds,
                        stale_after=cfg.outbox_stale_seconds)
    if sender is not None and keys:
        sender.drain(keys, timeout=timeout)
    if sender is not None:
        sender.run_checks()
    return {m.key: m.state for m in ops.messages(keys)}


def _unfinished(ops: OpsStore, prefix: str) -> list[str]:
    """Messages under `prefix` an earlier run left undelivered: a rerun resumes them."""
    return [r.key for r in ops.under(prefix, UNFINISHED) if r.kind in DELIVERIES]


def _outcomes(result: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Each message's outbox state and last error, over a digest run's digests or an alerts run."""
    delivery: dict[str, str] = {}
    errors: dict[str, str] = {}
    for part in [*result.get("digests", []), *result.get("personal", []), result]:
        if isinstance(part.get("delivery"), dict):
            delivery.update(part["delivery"])
        errors.update(part.get("errors") or {})
    return delivery, errors


def pending_deliveries(result: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(key, last error) of every message a digest or alerts run left undelivered."""
    delivery, errors = _outcomes(result)
    return [(k, errors.get(k)) for k, state in delivery.items() if state in UNFINISHED]


def failed_line(result: dict[str, Any]) -> str:
    """One line for a run with a message Slack refused for good (exit code 1)."""
    delivery, errors = _outcomes(result)
    failed = [k for k, state in delivery.items() if state == "failed"]
    if not failed:
        return "the run failed"
    why = f": {errors[failed[0]]}" if errors.get(failed[0]) else ""
    return (f"{len(failed)} message{'s' if len(failed) != 1 else ''} could not be delivered and will not be "
            f"retried ({failed[0]}{why})")


def pending_line(result: dict[str, Any]) -> str | None:
    """One line for a run that ends with messages undelivered (exit code 3), or None."""
    pending = pending_deliveries(result)
    if not pending:
        return None
    n = len(pending)
    key, error = pending[0]
    why = f" ({key}: {error})" if error else f" ({key})"
    return (f"{n} message{'s' if n != 1 else ''} not delivered yet, still pending{why}; run the same command "
            f"again to resume {'them' if n != 1 else 'it'} (a running `kpibot run` delivers {'them' if n != 1 else 'it'} too)")


def digest(engine: KpiEngine, store: Engine, config: AppConfig, client_factory: Callable[[], WebClient],
           channel: str | None = None, as_of: datetime | None = None, dry_run: bool = False,
           digest_id: str | None = None, timeout: float = 60.0) -> dict[str, Any]:
    """Build, and unless dry_run send, the digest of every enabled subscription (or `digest_id`).

    A digest already sent for that channel and week is not sent again: status "duplicate". One
    an earlier run left undelivered (Slack was down) is resumed, not rebuilt: "resumed": true.
    status "sent" | "pending" (not delivered yet: run it again, or the service delivers it) |
    "failed" | "dry_run".
    """
    as_of = as_of or periods.now(config.tz)
    ops = OpsStore(store)
    subs = [d for d in config.digests if d.enabled and (digest_id is None or d.id == digest_id)]
    if digest_id is not None and not subs:
        raise ScheduleInputError(f"no digest {digest_id!r} (digests: {', '.join(d.id for d in config.digests)})")
    if channel is not None and not channel.strip():
        raise ScheduleInputError("--channel needs a channel name or id")
    out: dict[str, Any] = {"as_of": as_of.isoformat(), "dry_run": dry_run, "digests": []}
    for sub in subs:
        ch = digest_channel(sub, config, channel)
        week = last_week(as_of, config.tz)
        key = digest_key(sub, ch, week)
        if channel is None:
            out.setdefault("personal", []).extend(
                _personal(engine, ops, config, client_factory, sub, as_of, dry_run, timeout))
        if not dry_run and ops.existing_keys([key]):
            unfinished = _unfinished(ops, key)
            item = {"id": sub.id, "channel": ch, "key": key, "week": week.label}
            if unfinished:
                states = _deliver(ops, config, client_factory, unfinished, timeout)
                item |= {"status": _digest_status(states, key), "resumed": True, "delivery": states,
                         "errors": _errors(ops, states)}
            else:
                row = ops.message(key)
                item |= {"status": "duplicate", "delivery": row.state if row else None}
            out["digests"].append(item)
            continue
        d = build_digest(engine, ops, config, sub, as_of, ch)
        from bot.digest_blocks import digest_message

        text, blocks = digest_message(d)
        item: dict[str, Any] = {"id": sub.id, "channel": ch, "key": key, "week": d.week["label"],
                                "seconds": d.seconds, "text": text, "blocks": blocks, "data": d.to_json()}
        if dry_run:
            item["status"] = "dry_run"
        else:
            keys = queue_digest(ops, d)
            states = _deliver(ops, config, client_factory, keys, timeout)
            item["delivery"] = states
            item["errors"] = _errors(ops, states)
            item["status"] = _digest_status(states, key) if states else "duplicate"
        out["digests"].append(item)
    return out


def _digest_status(states: dict[str, str], key: str) -> str:
    if any(s in UNFINISHED for s in states.values()):
        return "pending"
    if "failed" in states.values():
        return "failed"
    return "sent" if states.get(key, "sent") == "sent" else states[key]


def _errors(ops: OpsStore, states: dict[str, str]) -> dict[str, str]:
    """The last error of each message not delivered, for the one line that says why."""
    keys = [k for k, s in states.items() if s != "sent"]
    return {r.key: r.last_error for r in ops.messages(keys) if r.last_error} if keys else {}


def _personal(engine: KpiEngine, ops: OpsStore, config: AppConfig, client_factory: Callable[[], WebClient],
              sub, as_of: datetime, dry_run: bool, timeout: float) -> list[dict[str, Any]]:
    """The opted-in people's own digests for the week (by DM), each sent once under its own key."""
    from bot.digest_blocks import digest_message

    out = []
    for d in personal_digests(engine, ops, config, sub, as_of):
        text, _ = digest_message(d)
        item: dict[str, Any] = {"id": sub.id, "to": d.recipient, "audience": d.audience, "key": d.key,
                                "week": d.week["label"], "text": text}
        if dry_run:
            item["status"] = "dry_run"
        else:
            keys = queue_digest(ops, d)
            if not keys:  # queued by an earlier run: what it left undelivered is resumed
                keys = _unfinished(ops, d.key)
                item["resumed"] = bool(keys)
            states = _deliver(ops, config, client_factory, keys, timeout)
            item["delivery"], item["errors"] = states, _errors(ops, states)
            item["status"] = _digest_status(states, d.key) if states else "duplicate"
        out.append(item)
    return out


def alerts(engine: KpiEngine, store: Engine, config: AppConfig, client_factory: Callable[[], WebClient],
           as_of: datetime | None = None, dry_run: bool = False, rule: str | None = None,
           timeout: float = 60.0) -> dict[str, Any]:
    """Evaluate the alert rules (or one), move their states and, unless dry_run, send what fires or resolves."""
    as_of = as_of or periods.now(config.tz)
    ops = OpsStore(store)
    if rule is not None and rule not in {r.id for r in config.alerts.rules}:
        raise ScheduleInputError(f"no alert rule {rule!r} (rules: {', '.join(r.id for r in config.alerts.rules)})")
    result = run_alerts(engine, ops, config, as_of, dry_run=dry_run, rule_ids=[rule] if rule else None)
    out = result.to_json()
    if not dry_run:
        # what an earlier run left undelivered goes out first, in the order it was queued
        earlier = [k for k in _unfinished(ops, f"alert:{rule}" if rule else "alert") if k not in result.keys]
        out["resumed"] = earlier
        out["delivery"] = _deliver(ops, config, client_factory, earlier + result.keys, timeout)
        out["errors"] = _errors(ops, out["delivery"])
    return out


# ------------------------------------------------------------------ for people


def format_preview(result: dict[str, Any]) -> str:
    """What `kpibot digest` / `kpibot alerts` print without --json."""
    lines: list[str] = []
    head = "DRY RUN (nothing sent) · " if result.get("dry_run") else ""
    if "digests" in result:
        lines.append(f"{head}digest as of {result['as_of'][:16].replace('T', ' ')}")
        for d in result["digests"]:
            resumed = "  resumed: delivering what an earlier run left pending" if d.get("resumed") else ""
            lines.append(f"\n[{d['status']}] {d['id']} → #{d['channel']}  ({d['key']}){resumed}")
            if d.get("text"):
                lines.append(_blocks_text(d.get("blocks") or []) or d["text"])
        for d in result.get("personal") or []:
            lines.append(f"[{d['status']}] {d['id']} → DM {d['to']} ({d['audience']}, {d['key']})")
        if not result["digests"]:
            lines.append("no digest is enabled in the config")
        return "\n".join(lines)
    lines.append(f"{head}alerts as of {result['as_of'][:16].replace('T', ' ')} "
                 f"({len(result['evaluations'])} evaluations, {result['queries']} queries, {result['seconds']} s)")
    for e in result["evaluations"]:
        seg = f"/{e['segment']}" if e["segment"] else ""
        value = "—" if e["value"] is None else _num(e["value"])
        lines.append(f"  {e['outcome']:<8} {e['rule_id']}{seg} {e['period']}: {value}"
                     + (f" — {e['reason']}" if e.get("reason") else ""))
    if result["transitions"]:
        lines.append("transitions" + (" (would be)" if result.get("dry_run") else "") + ":")
        for t in result["transitions"]:
            seg = f"/{t['segment']}" if t["segment"] else ""
            eff = f" [{', '.join(t['effects'])}]" if t["effects"] else ""
            lines.append(f"  {t['rule']}{seg}: {t['from']} → {t['to']}{eff}")
    else:
        lines.append("no state changes")
    for m in result["messages"]:
        state = (result.get("delivery") or {}).get(m["key"], "would send" if result.get("dry_run") else "queued")
        lines.append(f"  message {m['kind']} #{m['channel']} [{state}] {m['key']}: {m['text']}")
    for key in result.get("resumed") or []:
        lines.append(f"  resumed {key} [{(result.get('delivery') or {}).get(key)}] (left pending by an earlier run)")
    for s in result.get("skipped", []):
        lines.append(f"  skipped {s}")
    return "\n".join(lines)


def _num(x: float) -> str:
    return f"{x:,.4f}" if abs(x) < 10 else f"{x:,.0f}"


def _blocks_text(blocks: list[dict]) -> str:
    """Block Kit as plain lines, for a terminal."""
    out = []
    for b in blocks:
        t = b.get("type")
        if t in ("header", "section") and isinstance(b.get("text"), dict):
            out.append(b["text"]["text"].replace("*", ""))
        elif t == "context":
            out.append("  " + " · ".join(e.get("text", "") for e in b.get("elements", [])))
        elif t == "divider":
            out.append("—" * 40)
    return "\n".join(out)

