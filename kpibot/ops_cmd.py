"""The operator's commands: `kpibot migrate`, `kpibot sync`, `kpibot outbox list|retry|purge`.

Each returns what to print and the exit status; cli.py wires them to typer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Console

from config.app_config import AppConfig
from kpibot.termsafe import dumps_json


class OpsInputError(ValueError):
    """A bad source name, outbox key or number of days: one line for the person at the keyboard."""


# ---------------------------------------------------------------------- migrate


def migrate(url: str, out: Console) -> int:
    from kpi_engine.db import SCHEMA_HEAD, migrate_store, safe_url

    before, after = migrate_store(url)
    where = safe_url(url)
    if before == after:
        out.print(f"{where}: schema already at {SCHEMA_HEAD}; nothing to do", markup=False, soft_wrap=True, emoji=False)
    elif before is None:
        out.print(f"{where}: new store created at schema {after}", markup=False, soft_wrap=True, emoji=False)
    else:
        out.print(f"{where}: schema upgraded from {before} to {after}", markup=False, soft_wrap=True, emoji=False)
    return 0


# ---------------------------------------------------------------------- sync


def sync(store: Any, config: AppConfig, source: str | None, dry_run: bool, as_json: bool, now: datetime,
         out: Console) -> int:
    """Run one source (or every enabled one) now. Exit 1 when a run failed."""
    from kpi_engine.sync import sync_source

    if not config.sources:
        raise OpsInputError("no [[sources]] in the config: nothing to sync (see README, Deployment)")
    if source is not None:
        chosen = [s for s in config.sources if s.name == source]
        if not chosen:
            raise OpsInputError(f"no source {source!r} (sources: {', '.join(s.name for s in config.sources)})")
    else:
        chosen = [s for s in config.sources if s.enabled]
    results = [sync_source(store, config, s, now=now, dry_run=dry_run) for s in chosen]
    if as_json:
        print(dumps_json([r.to_json() for r in results], indent=2, default=str))
    else:
        for r in results:
            out.print(_sync_line(r), markup=False, soft_wrap=True, emoji=False)
    return 1 if any(r.failed for r in results) else 0


def _sync_line(r) -> str:
    head = f"{r.source} ({r.kind}): {r.status.replace('_', ' ')}"
    if r.status == "dry_run":
        head += " (nothing written)"
    lines = [f"{head} in {r.seconds:.1f} s, {r.rows:,} rows read"
             + (f" from {', '.join(r.files)}" if r.files else "")]
    for table, c in r.tables.items():
        lines.append(f"  {table}: {c['read']:,} read, {c['inserted']:,} inserted, {c['updated']:,} updated, "
                     f"{c['unchanged']:,} unchanged" + (f", {c['skipped']:,} skipped" if c["skipped"] else ""))
    if r.message:
        lines.append(f"  {r.message}")
    for w in r.warnings:
        lines.append(f"  warning: {w}")
    if r.error:
        lines.append(f"  error: {r.error}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- outbox


def _when(ts: int | None, tz) -> str:
    if not ts:
        return "—"
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M:%S")


def outbox_list(store: Any, config: AppConfig, states: list[str], limit: int, as_json: bool, out: Console) -> int:
    from kpi_engine.ops import OUTBOX_STATES, OpsStore

    bad = [s for s in states if s not in OUTBOX_STATES]
    if bad:
        raise OpsInputError(f"--state {bad[0]!r}: use {', '.join(OUTBOX_STATES)}")
    ops = OpsStore(store)
    rows = ops.messages(states=tuple(states))
    counts = ops.outbox_counts()
    shown = rows[-limit:] if limit else rows
    if as_json:
        print(dumps_json({"counts": counts, "messages": [{
            "id": r.id, "key": r.key, "kind": r.kind, "channel": r.channel, "state": r.state,
            "attempts": r.attempts, "created_at": r.created_at, "next_attempt_at": r.next_attempt_at,
            "sent_at": r.sent_at, "uncertain": r.uncertain, "error": r.last_error} for r in shown]},
            indent=2))
        return 0
    tz = config.tz
    total = ", ".join(f"{s} {counts.get(s, 0)}" for s in OUTBOX_STATES)
    out.print(f"outbox: {total}", markup=False, soft_wrap=True, emoji=False)
    if not shown:
        out.print(f"no {' or '.join(states)} messages", markup=False, soft_wrap=True, emoji=False)
    for r in shown:
        line = (f"#{r.id} [{r.state}] {r.kind} → {r.channel}  {r.key}\n"
                f"    created {_when(r.created_at, tz)}, {r.attempts} attempt{'s' if r.attempts != 1 else ''}")
        if r.state == "pending" and r.next_attempt_at:
            line += f", next {_when(r.next_attempt_at, tz)}"
        if r.sent_at:
            line += f", sent {_when(r.sent_at, tz)}"
        if r.last_error:
            line += f"\n    why: {r.last_error}"
        out.print(line, markup=False, soft_wrap=True, emoji=False)
    if limit and len(rows) > limit:
        out.print(f"(the latest {limit} of {len(rows)}; --limit 0 for all)", markup=False, soft_wrap=True, emoji=False)
    return 0


def outbox_retry(store: Any, config: AppConfig, ref: str | None, all_failed: bool, now: int,
                 client_factory, out: Console) -> int:
    """Put failed messages back in the queue and, with Slack credentials, deliver them now."""
    from kpi_engine.ops import OpsStore

    ops = OpsStore(store)
    if all_failed:
        keys = [r.key for r in ops.messages(states=("failed",))]
        if not keys:
            out.print("no failed messages", markup=False, soft_wrap=True, emoji=False)
            return 0
    else:
        if not ref:
            raise OpsInputError("name the message to retry (its #id or key from `kpibot outbox list`), or --all")
        row = ops.message_by_ref(ref)
        if row is None:
            raise OpsInputError(f"no outbox message {ref!r} (see `kpibot outbox list`)")
        if row.state != "failed":
            raise OpsInputError(f"#{row.id} {row.key} is {row.state}, not failed: only failed messages are retried")
        keys = [row.key]
    # a failed message's thread replies and edits failed with it ("its message was never delivered")
    keys += [r.key for r in ops.failed_children(keys) if r.key not in keys]
    n = ops.requeue(keys, now)
    out.print(f"{n} message{'s' if n != 1 else ''} queued again: {', '.join(keys)}", markup=False, soft_wrap=True, emoji=False)
    client = None
    try:
        client = client_factory()
    except Exception as exc:
        out.print(f"not delivered from here ({getattr(exc, 'message', None) or exc}); the running service's sender "
                  f"delivers them within [scheduler].outbox_poll_seconds", markup=False, soft_wrap=True, emoji=False)
        return 0
    from schedules.outbox import Sender

    cfg = config.scheduler
    Sender(ops, client, timeout=cfg.slack_timeout_seconds, stale_after=cfg.outbox_stale_seconds).drain(
        keys, timeout=60)
    rows = {m.key: m for m in ops.messages(keys)}
    states = {k: m.state for k, m in rows.items()}
    for k, s in states.items():
        why = rows[k].last_error if s in ("pending", "failed") else None  # what to fix, e.g. invite the bot
        out.print(f"  {k}: {s}" + (f" ({why})" if why else ""), markup=False, soft_wrap=True, emoji=False)
    return 1 if any(s == "failed" for s in states.values()) else 0


def outbox_purge(store: Any, config: AppConfig, days: float, dry_run: bool, now: int, out: Console) -> int:
    from kpi_engine.ops import OpsStore

    if not 0 <= days < 1e6:  # also NaN and inf, which no timestamp can be computed from
        raise OpsInputError(f"--days {days:g}: give a number of days from 0 to 999999")
    r = OpsStore(store).purge_sent(now - int(days * 86400), dry_run=dry_run)
    verb = "would purge" if dry_run else "purged"
    out.print(f"{verb} sent messages older than {days:g} days: {r['deleted']} deleted (edits, chart uploads, "
              f"superseded edits), {r['emptied']} emptied to a receipt (posts keep key, channel and ts so a replay "
              f"is still recognised), {r['bytes'] / 1e6:.1f} MB of content", markup=False, soft_wrap=True, emoji=False)
    return 0
