"""Delivery of digests and alerts through the durable outbox: never lost, never twice.

Whoever decides a message is due (a digest run, an alert transition, a button click)
writes it to the outbox under an idempotency key, in the same transaction as the state
change that caused it. The Sender then delivers outbox rows to Slack:

- one attempt at a time per row (a conditional claim: pending → sending);
- 429: wait for Retry-After, the message was not posted; 5xx, timeouts and connection
  errors: retry with backoff, and since Slack may have posted it anyway the row becomes
  *uncertain*;
- before an uncertain row (or one found "sending" after its sender died) is sent again,
  the channel (or the thread) is searched for a message carrying the key in its metadata
  (files: their unique file name); if found, the row is marked sent with that ts;
- errors no retry can fix (bad blocks, too long) fail the row at once; errors an operator
  can fix (channel not found, bot not in channel, token) are retried for a day;
- Slack may apply a request later than any lookup could see it (a post it had accepted
  before our timeout, applied after we sent it again). So once a row that was uncertain is
  sent (or found), a `verify` row looks again for copies carrying its key at a few times
  (2, 10 and 40 Slack timeouts later); a second copy is removed by a `delete` row
  (chat.delete / files.delete), which is the record of it. The copy kept is the one the
  row recorded, which its thread and edits point at; the late copy is the later one.

Messages carry Slack metadata {event_type: kpibot_digest | kpibot_alert, event_payload:
{key: …}} (interface.md), which is also what makes the search possible.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from kpi_engine.ops import NewMessage, OpsStore, OutboxRow
from telemetry import metrics

log = logging.getLogger(__name__)

DIGEST_EVENT = "kpibot_digest"
ALERT_EVENT = "kpibot_alert"

# Errors that only a change of content fixes: retrying would fail the same way forever.
_CONTENT_ERRORS = {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text", "invalid_arguments",
                   "invalid_metadata_format", "invalid_metadata_schema", "metadata_too_large", "too_many_attachments",
                   "cant_update_message", "edit_window_closed", "message_not_found", "invalid_ts_latest"}
# Errors that say the token itself is refused: the fix is the setting (never the token's value, which
# no message shows). Every other call with it fails the same way, so a pass stops at the first.
_TOKEN_ERRORS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
# Errors Slack answers when it may or may not have done the work.
_UNCERTAIN_ERRORS = {"internal_error", "fatal_error", "request_timeout", "service_unavailable"}
# Errors about the channel a message goes to, and what fixes them (an operator's, like a refused token:
# retried for OPERATOR_FIX_WINDOW, so a rerun after the fix delivers). The line names the fix, not only the
# code: the same command run again before it fails the same way.
_CHANNEL_FIXES = {
    "not_in_channel": "the bot is not a member of channel {channel}: invite it there (`/invite @kpibot` in the "
                      "channel, with your app's name if it differs)",
    "channel_not_found": "there is no channel {channel} the bot can see: fix the channel in the config ({where}; "
                         "a private channel must invite the bot)",
    "is_archived": "channel {channel} is archived: unarchive it, or name another channel in the config ({where})",
}
# How long an error an operator can fix (invite the bot, fix the token) is retried before giving up.
OPERATOR_FIX_WINDOW = 24 * 3600
# A Slack user id as a channel: a message for that person's DM with the app.
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
# How far back in a channel a possibly-sent message is looked for (newest first).
MAX_SCAN = 1000
# After an uncertain row is delivered, copies of it are looked for this many Slack timeouts later.
VERIFY_AFTER = (2, 10, 40)
VERIFY, DELETE = "verify", "delete"
DELIVERIES = ("post", "update", "upload")  # the kinds that are messages (not the sender's own checks)
_GONE = ("message_not_found", "file_not_found", "file_deleted")


def post(key: str, channel: str, text: str, blocks: list[dict] | None, event_type: str,
         thread_of: str | None = None, event_payload: dict[str, Any] | None = None,
         reply_broadcast: bool = False) -> NewMessage:
    """A chat.postMessage to make, in the thread of the message `thread_of` (a key) when given."""
    payload: dict[str, Any] = {"text": text, "blocks": blocks, "event_type": event_type,
                               "event_payload": event_payload or {}}
    if reply_broadcast:
        payload["reply_broadcast"] = True
    return NewMessage(key, "post", channel, payload, parent_key=thread_of)


def edit(key: str, target_key: str, channel: str, text: str, blocks: list[dict] | None) -> NewMessage:
    """A chat.update of the message posted under `target_key` (whole content: text and blocks)."""
    return NewMessage(key, "update", channel, {"text": text, "blocks": blocks}, parent_key=target_key)


def content_hash(text: str, blocks: list[dict] | None) -> str:
    """What a message shows, as a short key: an unchanged message is not edited again."""
    # orjson, not json: a 1M-store alert run hashes thousands of messages, and the stdlib
    # encoder was a sixth of its time
    return "o" + hashlib.sha1(orjson.dumps([text, blocks], option=orjson.OPT_SORT_KEYS)).hexdigest()


def shows(shown: str | None, h: str, text: str, blocks: list[dict] | None) -> bool:
    """Whether the message whose stored hash is `shown` already shows text and blocks (`h`: their
    content_hash). A hash stored before content_hash (stdlib json, no "o") is checked the way it was
    made, so an upgrade edits no message that has not changed."""
    if shown is None:
        return False
    if shown == h:
        return True
    if shown.startswith("o"):
        return False
    old = json.dumps([text, blocks], sort_keys=True, ensure_ascii=False).encode()
    return shown == hashlib.sha1(old).hexdigest()


def upload(key: str, channel: str, filename: str, content: bytes, title: str, alt_text: str,
           thread_of: str | None = None, comment: str | None = None) -> NewMessage:
    """A files_upload_v2 into the thread of `thread_of`. The file name is unique per key, so a
    possibly-completed upload can be found again."""
    stem, dot, ext = filename.rpartition(".")
    unique = f"{stem or filename}-{_slug(key)}{dot}{ext if dot else ''}"
    return NewMessage(key, "upload", channel, {
        "filename": unique, "title": title, "alt_text": alt_text, "comment": comment,
        "content_b64": base64.b64encode(content).decode("ascii")}, parent_key=thread_of)


def _slug(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", key).strip("-")[:80]


@dataclass
class Outcome:
    """What one pass did, for logs and the CLI."""

    sent: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)  # already in Slack: marked sent without posting
    retried: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # keys of which a second copy was deleted

    def merge(self, other: Outcome) -> None:
        for name in ("sent", "found", "retried", "failed", "deleted"):
            getattr(self, name).extend(getattr(other, name))


def _note(out: Outcome, result: str, row: OutboxRow) -> None:
    getattr(out, result).append(row.key)
    metrics.DELIVERIES.labels(row.kind, result).inc()
    if result == "failed":
        metrics.FAILURES.labels("outbox").inc()


class _Retry(Exception):
    def __init__(self, message: str, after: float | None = None, uncertain: bool = False, pause: bool = False,
                 operator: bool = False):
        super().__init__(message)
        self.after = after
        self.uncertain = uncertain
        self.pause = pause  # a rate limit: hold every message, not only this one
        self.operator = operator  # a person can fix it (invite the bot, fix the token): retry for a while
        self.channel_code: str | None = None  # a _CHANNEL_FIXES error: the fix is named with the row's config key
        self.channel = ""

    def text(self, row: OutboxRow) -> str:
        """The error as kept on the row and shown to the operator."""
        if self.channel_code is None:
            return str(self)
        fix = _CHANNEL_FIXES[self.channel_code].format(channel=self.channel or row.channel, where=_config_key(row))
        return f"Slack refused it: {self.channel_code}: {fix}"


def _config_key(row: OutboxRow) -> str:
    """Where the config names the channel of `row`'s message (its key says what the message is)."""
    from schedules.admin import STALE_RULE

    key = row.key
    if key.startswith("digest:"):
        return "`channel` of its [[digests]] entry, else [slack] digest_channel; or the --channel given"
    if key.startswith(f"alert:{STALE_RULE}:") or ":error:" in key:
        return "[slack] admin_channel"
    if key.startswith("alert:"):
        return "`channel` of its [[alerts.rules]] entry, else [alerts] channel, else [slack] alerts_channel"
    return "the key that names this message's channel"


class _Fail(Exception):
    pass


class _Wait(Exception):
    """Not yet: the message this one belongs to is not delivered yet."""


class _Later(Exception):
    """A verify row's check is done; the next one is due at `at`."""

    def __init__(self, at: float):
        super().__init__(f"next check for copies at {at:.0f}")
        self.at = at


def sender_client(client: WebClient, timeout: float) -> WebClient:
    """A client like `client` but without slack_sdk's own retries: a silent automatic retry of a
    timed-out chat.postMessage is exactly how a message gets posted twice."""
    return WebClient(token=client.token, base_url=client.base_url, timeout=max(0.1, timeout),  # type: ignore[arg-type]
                     ssl=client.ssl, proxy=client.proxy, headers=dict(client.headers or {}), retry_handlers=[])


def runner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Sender:
    """Delivers due outbox rows. Safe to run in several threads or processes at once."""

    CHECKS = (VERIFY, DELETE)

    def __init__(self, ops: OpsStore, client: WebClient, *, timeout: float = 15.0, stale_after: float = 120.0,
                 backoff_base: float = 2.0, backoff_cap: float = 300.0,
                 uncertain_wait: float | None = None, verify_after: tuple[float, ...] | None = None,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
                 wrap_client: bool = True):
        self.ops = ops
        self.client = sender_client(client, timeout) if wrap_client else client
        self.stale_after = stale_after
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        # After a timeout Slack may still be working on the request we gave up on; looking for
        # its result too early would miss it and post a second copy. Wait this long first.
        self.uncertain_wait = 2 * timeout if uncertain_wait is None else uncertain_wait
        # seconds after an uncertain row's delivery at which its copies are counted
        self.verify_after = tuple(m * timeout for m in VERIFY_AFTER) if verify_after is None else verify_after
        self.clock = clock
        self.sleep = sleep
        self.runner = runner_id()
        self._paused_until = 0.0
        self._channel_ids: dict[str, str] = {}
        # Slack's error code once it refused the token: this process cannot deliver anything more
        self.token_refused: str | None = None

    # ------------------------------------------------------------------ passes

    def run_pending(self, keys: list[str] | None = None, limit: int = 50) -> Outcome:
        """One pass: take over what dead senders left "sending", then send what is due."""
        out = Outcome()
        now = self.clock()
        if now < self._paused_until:
            return out
        for row in self.ops.sending():
            if (keys is None or row.key in keys) and self._abandoned(row, now):
                log.warning("outbox: %s was left sending by %s; checking Slack before retrying", row.key,
                            row.claimed_by)
                self._attempt(row, out)
        for row in self.ops.due(int(now), limit=limit, keys=keys):
            if self.clock() < self._paused_until:
                break
            self._attempt(row, out)
        return out

    def run_checks(self) -> Outcome:
        """One pass over the checks for late duplicates that are due (and the deletions they found)."""
        out = Outcome()
        for row in self.ops.due(int(self.clock()), limit=200, kinds=self.CHECKS):
            self._attempt(row, out)
        return out

    def drain(self, keys: list[str] | None = None, timeout: float = 60.0) -> Outcome:
        """Send until the given rows (or all) are delivered or failed, or `timeout` passes."""
        out = Outcome()
        deadline = self.clock() + timeout
        while True:
            step = self.run_pending(keys)
            out.merge(step)
            rows = self.ops.messages(keys) if keys is not None else self.ops.messages(states=("pending", "sending"))
            # checks for late copies come due minutes later: nothing to wait for
            waiting = [r for r in rows if r.state in ("pending", "sending") and r.kind != VERIFY]
            now = self.clock()
            # a refused token is refused again on every retry; a fixed one needs a new process
            if not waiting or now >= deadline or self.token_refused:
                return out
            if step.sent or step.found:
                continue  # progress: what waited for those may go now
            later = [r.next_attempt_at for r in waiting if r.state == "pending" and r.next_attempt_at > now]
            nxt = max(min(later) if later else now + 0.2, self._paused_until)
            self.sleep(min(max(nxt - now, 0.05), deadline - now, 5.0))

    def _abandoned(self, row: OutboxRow, now: float) -> bool:
        """A row another sender left "sending": it timed out, or its process is gone.

        Even from a dead process, the request may still be on its way through Slack: the row is
        only taken once that request had time to land (uncertain_wait), so the lookup sees it.
        """
        if row.claimed_by == self.runner:
            return False
        age = now - (row.claimed_at or 0)
        if age >= self.stale_after:
            return True
        host, _, rest = (row.claimed_by or "").partition(":")
        pid = rest.partition(":")[0]
        dead = host == socket.gethostname() and pid.isdigit() and int(pid) != os.getpid() \
            and not _pid_alive(int(pid))
        return dead and age >= self.uncertain_wait

    # ------------------------------------------------------------------ one attempt

    def _attempt(self, row: OutboxRow, out: Outcome) -> None:
        try:
            parent = self._parent(row)
        except _Wait:
            return  # its thread's first message is not delivered yet; it goes right after
        except _Fail as f:
            if self.ops.claim(row, self.runner, int(self.clock())):
                self.ops.mark_failed(row.id, self.runner, str(f))
                log.error("outbox: %s cannot be delivered: %s", row.key, f)
                _note(out, "failed", row)
            return
        if not self.ops.claim(row, self.runner, int(self.clock())):
            return  # another sender took it
        uncertain = row.uncertain or row.state == "sending"
        try:
            if uncertain and row.kind in ("post", "upload"):  # an edit is idempotent: no need to look
                found = self._find_posted(row, parent)
                if found is not None:
                    self.ops.mark_sent(row.id, self.runner, int(self.clock()), found[0], found[1])
                    log.info("outbox: %s was already in Slack (ts %s); not sent again", row.key, found[0])
                    _note(out, "found", row)
                    self._verify_later(row)
                    return
            ts, channel_id = self._send(row, parent, out)
        except _Later as later:
            self.ops.mark_retry(row.id, self.runner, int(later.at + 0.999), str(later), False)
            return
        except _Retry as r:
            delay = r.after if r.after is not None else self._backoff(row.attempts + 1)
            if r.uncertain:
                delay = max(delay, self.uncertain_wait)
            if r.pause:
                self._paused_until = self.clock() + delay
            why = r.text(row)
            if r.operator and self.clock() - row.created_at > OPERATOR_FIX_WINDOW:
                self.ops.mark_failed(row.id, self.runner, why)
                log.error("outbox: gave up on %s after %d attempts: %s", row.key, row.attempts + 1, why)
                _note(out, "failed", row)
                return
            self.ops.mark_retry(row.id, self.runner, int(self.clock() + delay + 0.999), why, r.uncertain)
            log.warning("outbox: %s not delivered (%s); retry in %.0f s", row.key, why, delay)
            _note(out, "retried", row)
            return
        except _Fail as f:
            self.ops.mark_failed(row.id, self.runner, str(f))
            log.error("outbox: %s cannot be delivered: %s", row.key, f)
            _note(out, "failed", row)
            return
        self.ops.mark_sent(row.id, self.runner, int(self.clock()), ts, channel_id)
        if row.kind == DELETE:
            out.deleted.append(row.payload["of"])
            metrics.DELIVERIES.labels(row.kind, "deleted").inc()
        elif row.kind != VERIFY:
            _note(out, "sent", row)
            if uncertain and row.kind in ("post", "upload"):
                self._verify_later(row)

    def _verify_later(self, row: OutboxRow) -> None:
        """An earlier attempt of `row` may still be applied by Slack: count its copies a few times."""
        if not self.verify_after:
            return
        now = self.clock()
        checks = [now + d for d in self.verify_after]
        self.ops.enqueue([NewMessage(f"{row.key}:verify", VERIFY, row.channel, {"checks": checks},
                                     parent_key=row.key, not_before=int(checks[0] + 0.999))], int(now))

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff_cap, self.backoff_base * 2 ** max(0, attempt - 1))

    def _parent(self, row: OutboxRow) -> OutboxRow | None:
        if not row.parent_key:
            return None
        parent = self.ops.message(row.parent_key)
        if parent is None or parent.state in ("failed", "superseded"):
            raise _Fail(f"its message {row.parent_key} was never delivered")
        if parent.state != "sent":
            raise _Wait()
        return parent

    def _channel_id(self, row: OutboxRow, parent: OutboxRow | None) -> str:
        """The channel's id: Slack posts to a name, but history, replies and uploads want the id."""
        if parent is not None and parent.channel_id:
            return parent.channel_id
        name = row.channel.lstrip("#")
        if re.match(r"^[CGD][A-Z0-9]{6,}$", name):
            return name
        if name not in self._channel_ids:
            lookup = self._open_dm if _USER_ID.match(name) else self._lookup_channel
            found = self.ops.channel_id_for(row.channel) or lookup(name)
            if found:
                self._channel_ids[name] = found
        return self._channel_ids.get(name, name)

    def _open_dm(self, user_id: str) -> str | None:
        """The app's DM with a person (conversations.open): where a personal digest goes, and where
        an uncertain one is looked for before it is sent again."""
        try:
            r = self.client.conversations_open(users=user_id)
        except Exception:  # no im:write scope: chat.postMessage to the user id still reaches them
            return None
        return (r.get("channel") or {}).get("id")

    def _lookup_channel(self, name: str) -> str | None:
        cursor = None
        for _ in range(10):
            try:
                r = self.client.conversations_list(types="public_channel,private_channel", limit=999,  # Slack takes at most 999 a page
                                                   exclude_archived=True, cursor=cursor)
            except Exception:  # no channels:read scope, or an emulator without it: keep the name
                return None
            for c in r.get("channels") or []:
                if c.get("name") == name:
                    return c.get("id")
            cursor = (r.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    # ------------------------------------------------------------------ Slack calls

    def _call(self, fn: Callable[..., Any], **kw: Any) -> Any:
        try:
            return fn(**kw)
        except SlackApiError as e:
            status = e.response.status_code
            code = e.response.get("error") if isinstance(e.response.data, dict) else None
            if status == 429 or code == "ratelimited":
                after = e.response.headers.get("Retry-After") or e.response.headers.get("retry-after")
                raise _Retry(f"rate limited (Retry-After {after})", after=float(after or 1), pause=True) from e
            if status >= 500 or code in _UNCERTAIN_ERRORS:
                raise _Retry(f"Slack answered {status} {code}", uncertain=True) from e
            if code in _CONTENT_ERRORS:
                raise _Fail(f"Slack refused it: {code}") from e
            if code in _TOKEN_ERRORS:
                self.token_refused = code
                raise _Retry(f"Slack refused the bot token ({code}): set SLACK_BOT_TOKEN to the app's Bot User "
                             f"OAuth Token (xoxb-…)", operator=True, pause=True) from e
            if code in _CHANNEL_FIXES:
                r = _Retry(f"Slack refused it: {code}", operator=True)
                r.channel_code, r.channel = code, str(kw.get("channel") or "")
                raise r from e
            raise _Retry(f"Slack refused it: {code} (retried in case an operator fixes it)", operator=True) from e
        except OSError as e:  # timeouts, refused or reset connections, URLError: all OSError
            raise _Retry(f"no answer from Slack ({type(e).__name__}: {e})", uncertain=True) from e

    def _send(self, row: OutboxRow, parent: OutboxRow | None, out: Outcome) -> tuple[str | None, str | None]:
        p = row.payload
        if row.kind == VERIFY:
            assert parent is not None
            return self._check_copies(row, parent, out)
        if row.kind == DELETE:
            assert parent is not None
            channel = self._channel_id(row, parent)
            try:
                if p.get("file"):
                    self._call(self.client.files_delete, file=p["file"])
                else:
                    self._call(self.client.chat_delete, channel=channel, ts=p["ts"])
            except (_Fail, _Retry) as e:
                if not any(code in str(e) for code in _GONE):
                    raise
            log.warning("outbox: %s was in Slack twice (a late copy of an uncertain attempt): deleted the copy "
                        "at ts %s, kept ts %s", p["of"], p["ts"], p["kept"])
            return p["ts"], channel
        if row.kind == "post":
            target = parent.channel_id if parent and parent.channel_id else row.channel
            if parent is None and _USER_ID.match(row.channel):
                target = self._channel_id(row, None)  # a person's DM with the app (a personal digest)
            kw: dict[str, Any] = {"channel": target, "text": p["text"], "blocks": p.get("blocks"),
                                  "metadata": {"event_type": p["event_type"],
                                               "event_payload": {**p.get("event_payload", {}), "key": row.key}},
                                  "unfurl_links": False, "unfurl_media": False}
            if parent is not None:
                kw["thread_ts"] = parent.ts
                if p.get("reply_broadcast"):
                    kw["reply_broadcast"] = True
            r = self._call(self.client.chat_postMessage, **kw)
            return r.get("ts"), r.get("channel") or kw["channel"]
        if row.kind == "update":
            assert parent is not None
            channel = self._channel_id(row, parent)
            self._call(self.client.chat_update, channel=channel, ts=parent.ts, text=p["text"], blocks=p.get("blocks"))
            return parent.ts, channel
        if row.kind == "upload":
            channel = self._channel_id(row, parent)
            kw = {"channel": channel, "file": base64.b64decode(p["content_b64"]), "filename": p["filename"],
                  "title": p.get("title"), "alt_txt": p.get("alt_text")}
            if p.get("comment"):
                kw["initial_comment"] = p["comment"]
            if parent is not None:
                kw["thread_ts"] = parent.ts
            r = self._call(self.client.files_upload_v2, **kw)
            files = r.get("files") or [r.get("file") or {}]
            return (files[0] or {}).get("id"), channel
        raise _Fail(f"unknown outbox kind {row.kind!r}")

    def _check_copies(self, row: OutboxRow, target: OutboxRow, out: Outcome) -> tuple[str | None, str | None]:
        """A verify row's check: delete every copy of `target` but the one it recorded."""
        thread = self.ops.message(target.parent_key) if target.parent_key and target.kind != "update" else None
        copies = self._copies(target, thread)
        channel = self._channel_id(target, thread)
        if len(copies) > 1:
            keep = next((c for c in copies if c[0] == target.ts), copies[0])
            for ident, ts in copies:
                if (ident, ts) == keep:
                    continue
                key = f"{target.key}:dedupe:{_slug(ident)}"
                self.ops.enqueue([NewMessage(key, DELETE, target.channel, {
                    "of": target.key, "ts": ts, "file": ident if target.kind == "upload" else None,
                    "kept": keep[1]}, parent_key=target.key)], int(self.clock()))
                delete = self.ops.message(key)
                if delete is not None and delete.state == "pending":
                    self._attempt(delete, out)
        later = [t for t in row.payload.get("checks", []) if t > self.clock()]
        if later:
            raise _Later(min(later))
        return None, channel

    def _find_posted(self, row: OutboxRow, parent: OutboxRow | None) -> tuple[str, str] | None:
        """(ts, channel id) of the message this row already produced in Slack, if it did (the first
        copy, should there be several)."""
        copies = self._copies(row, parent)
        return (copies[0][0], self._channel_id(row, parent)) if copies else None

    def _copies(self, row: OutboxRow, parent: OutboxRow | None) -> list[tuple[str, str]]:
        """(id, ts) of every message in Slack carrying this row's key, oldest first; the id is the
        message's ts, or for an upload its file's id."""
        channel = self._channel_id(row, parent)
        if row.kind == "upload":
            name = row.payload["filename"]

            def match(m: dict) -> bool:
                return any(f.get("name") == name for f in m.get("files") or [])
        else:
            def match(m: dict) -> bool:
                return ((m.get("metadata") or {}).get("event_payload") or {}).get("key") == row.key

        found: dict[str, tuple[str, str]] = {}
        seen = 0
        cursor = None
        while seen < MAX_SCAN:
            if parent is not None:
                r = self._call(self.client.conversations_replies, channel=channel, ts=parent.ts,
                               include_all_metadata=True, limit=200, cursor=cursor)
            else:
                r = self._call(self.client.conversations_history, channel=channel, include_all_metadata=True,
                               limit=200, cursor=cursor)
            msgs = r.get("messages") or []
            for m in msgs:
                if match(m) and m.get("ts"):
                    ident = m["ts"] if row.kind != "upload" else (m.get("files") or [{}])[0].get("id") or m["ts"]
                    found[m["ts"]] = (ident, m["ts"])
            seen += len(msgs)
            cursor = (r.get("response_metadata") or {}).get("next_cursor")
            if not r.get("has_more") or not cursor or not msgs:
                break
        return [found[ts] for ts in sorted(found, key=float)]
