"""The sandbox's model of a Slack workspace: who is typing, which channels they see, and how what they
do in the page reaches the bot — as the same signed HTTP requests Slack would send.

No web framework here: the Starlette layer (web.py) is a thin shell over `Sandbox`, so the logic
is testable without a browser.
"""

from __future__ import annotations

import json
import logging
import re
import time
import urllib.error
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from slack_emulator import BOT_USER_ID, SlackEmulator, post_to_app
from slack_emulator.signing import ensure_loopback

from .blockkit import BlockKitRenderer

log = logging.getLogger(__name__)

# Slack gives an app 3 s to acknowledge; past that the person sees "operation_timeout".
ACK_DEADLINE = 3.0
# The demo company names these people (kpi_engine.demo); the sandbox lets you act as each of them.
SANDBOX_MANAGER = "U0MANAGER"
# Who the page opens as, and where: the Head of Sales, in their DM with the bot.
SANDBOX_HEAD = "U0ANNA"
# The first minute: what to try in the bot DM (command, what it shows).
TRY_THESE = (
    ("/kpi revenue this month", "this month's revenue against target"),
    ("/kpi win rate by team last quarter", "a breakdown, names as people read them"),
    ("/kpi รายได้ เดือนนี้", "the same in Thai"),
    ("/kpi cac last week chart", "a trend chart"),
    ("/kpi digest on", "your own weekly digest, here by DM"),
)
COMMANDS = ("/kpi",)
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
_MENTION = re.compile(r"(?<![\w<])@([A-Za-z0-9][\w.\-]*)")

JobRunner = Callable[[datetime], str]


class SandboxError(ValueError):
    """Something the person did in the page cannot be done; the message is shown to them."""


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    kind: str = "channel"  # channel | dm
    purpose: str = ""


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    role: str  # what the user switcher shows: "rep · enterprise", "Head of Sales", …


@dataclass
class JobResult:
    """What the page tells the person after an action; `warning` when it worked but not as Slack would
    have it (a slow acknowledgement)."""

    message: str = ""
    warning: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"ok": True, "message": self.message, "warning": self.warning}


@dataclass
class Sandbox:
    """Everything the page can ask for or do, over one emulator and one running bot."""

    emulator: SlackEmulator
    bot_events_url: str
    signing_secret: str
    channels: list[Channel]
    tz: ZoneInfo
    clock: Callable[[], datetime] = field(default=lambda: datetime.now().astimezone())
    run_digest: JobRunner | None = None
    run_alerts: JobRunner | None = None
    people_roles: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ensure_loopback(urlsplit(self.bot_events_url).hostname or "")
        for channel in self.channels:
            self.emulator.add_channel(channel.id, channel.name)

    # ------------------------------------------------------------------ reading

    def people(self) -> list[Person]:
        found = []
        for user in self.emulator.users():
            if user.get("is_bot") or user.get("deleted"):
                continue
            role = self.people_roles.get(user["id"]) or user.get("profile", {}).get("title") or ""
            found.append(Person(user["id"], user.get("real_name") or user["name"], role))
        return found

    def person(self, user_id: str) -> Person:
        for person in self.people():
            if person.id == user_id:
                return person
        raise SandboxError(f"no person {user_id!r} in the sandbox workspace")

    def dm_id(self, user_id: str) -> str:
        # The id Slack-like events use for the app's DM with this user (emulator.app_home_opened_event).
        return "D" + user_id.removeprefix("U")

    def visible_channels(self, user_id: str) -> list[dict[str, Any]]:
        """The configured channels, the person's DM with the bot, then any other channel with messages."""
        existing = self.emulator.channels()
        counts = {c["id"]: c["message_count"] for c in existing}
        listed = [*self.channels, Channel(self.dm_id(user_id), "KPI Bot", "dm")]
        known = {c.id for c in listed}
        for channel in existing:
            cid = channel["id"]
            # Other people's DMs are private to them, as in Slack.
            if cid in known or cid.startswith("D") or not channel["message_count"]:
                continue
            listed.append(Channel(cid, channel.get("name") or cid))
        return [
            {"id": c.id, "name": c.name, "kind": c.kind, "purpose": c.purpose, "count": counts.get(c.id, 0)}
            for c in listed
        ]

    def renderer(self) -> BlockKitRenderer:
        users = {u["id"]: u for u in self.emulator.users()}
        names = {c["id"]: c.get("name") or c["id"] for c in self.emulator.channels()}
        return BlockKitRenderer(
            users, names, bot_user_id=BOT_USER_ID, tz=self.tz, image_src=self.image_src,
            rewrite_url=self.rewrite_url,
        )

    def image_src(self, url: str) -> str | None:
        """Files the bot uploaded are served by this page; other outside images are not fetched."""
        local = self.rewrite_url(url)
        return local if local.startswith("/files/") else None

    def rewrite_url(self, url: str) -> str:
        prefix = f"{self.emulator.url}/files/"
        return "/files/" + url[len(prefix):] if url.startswith(prefix) else url

    def file(self, file_id: str) -> tuple[bytes, str] | None:
        for stored in self.emulator.files():
            if stored["id"] == file_id and stored.get("content") is not None:
                return stored["content"], stored.get("mimetype") or "application/octet-stream"
        return None

    def view(self, user_id: str, channel_id: str, thread_ts: str | None = None) -> dict[str, Any]:
        """What the page shows for one person looking at one channel (or at the Home tab: `home`)."""
        people = self.people()
        if not any(p.id == user_id for p in people):
            raise SandboxError(f"no person {user_id!r} in the sandbox workspace")
        render = self.renderer()
        out: dict[str, Any] = {
            "user": user_id,
            "people": [p.__dict__ for p in people],
            "channels": self.visible_channels(user_id),
            "channel": channel_id,
            "today": self.clock().astimezone(self.tz).date().isoformat(),
        }
        if channel_id == "home":
            view = self.emulator.home_view(user_id)
            out["home_html"] = render.view(view) if view else ""
            out["home_published"] = view is not None
            return out
        out["messages_html"] = self._timeline(render, user_id, channel_id)
        if not out["messages_html"]:
            out["empty"] = self.empty_state(channel_id)
        if thread_ts:
            out["thread_ts"] = thread_ts
            out["thread_html"] = self._thread(render, user_id, channel_id, thread_ts)
        return out

    def empty_state(self, channel_id: str) -> dict[str, Any]:
        """What an empty conversation suggests: things to ask in the bot DM, the digest where digests
        land, an alert run where alerts land. The page draws it (text only, no HTML)."""
        purpose = next((c.purpose for c in self.channels if c.id == channel_id), "")
        if channel_id.startswith("D"):
            return {"title": "Try these", "text": "Ask about the sales numbers; the bot answers here, only to you.",
                    "actions": [{"label": cmd, "hint": hint, "command": cmd} for cmd, hint in TRY_THESE]}
        if purpose == "Digests":
            return {"title": "The weekly digest lands here",
                    "text": "Every week on the digest's schedule (config/default.toml). Send this week's now, or "
                            "pick an earlier day in “As of” to replay one.",
                    "actions": [{"label": "Send digest now", "job": "digest"}]}
        if purpose == "Alerts":
            return {"title": "Alerts land here when a rule fires",
                    "text": "Rules are evaluated daily (CAC spike, retention drop). Run them now to see what "
                            "fires; Acknowledge, Snooze and Explain work from the message.",
                    "actions": [{"label": "Run alerts now", "job": "alerts"}]}
        return {"title": "No messages yet", "text": "Type a /kpi question below.",
                "actions": [{"label": "/kpi help", "command": "/kpi help"}]}

    def _timeline(self, render: BlockKitRenderer, user_id: str, channel_id: str) -> str:
        items: list[tuple[str, str]] = []
        for message in self.emulator.messages(channel_id):
            items.append((message["ts"], render.message(message, channel=channel_id)))
        for eph in self.emulator.ephemerals(user=user_id, channel=channel_id):
            if not eph.get("thread_ts"):
                items.append((eph["ts"], render.message(eph, channel=channel_id, ephemeral=True)))
        items.sort(key=lambda item: _ts_key(item[0]))
        html_parts: list[str] = []
        last_day: date | None = None
        for ts, fragment in items:
            day = datetime.fromtimestamp(_ts_key(ts), self.tz).date()
            if day != last_day:
                html_parts.append(f'<div class="day-divider"><span>{_day_label(day, self._today())}</span></div>')
                last_day = day
            html_parts.append(fragment)
        return "".join(html_parts)

    def _thread(self, render: BlockKitRenderer, user_id: str, channel_id: str, thread_ts: str) -> str:
        parent = self.emulator.message(channel_id, thread_ts)
        if parent is None:
            return '<div class="empty">This thread no longer exists.</div>'
        parts = [render.message(parent, channel=channel_id, in_thread=True)]
        replies = self.emulator.replies(channel_id, thread_ts)
        if replies:
            count = len(replies)
            parts.append(f'<div class="thread-divider">{count} {"reply" if count == 1 else "replies"}</div>')
        entries = [(r["ts"], render.message(r, channel=channel_id, in_thread=True)) for r in replies]
        entries += [
            (e["ts"], render.message(e, channel=channel_id, ephemeral=True, in_thread=True))
            for e in self.emulator.ephemerals(user=user_id, channel=channel_id)
            if e.get("thread_ts") == thread_ts
        ]
        parts += [fragment for _, fragment in sorted(entries, key=lambda e: _ts_key(e[0]))]
        return "".join(parts)

    def _today(self) -> date:
        return self.clock().astimezone(self.tz).date()

    # ------------------------------------------------------------------ doing

    def command(self, user_id: str, channel_id: str, line: str) -> JobResult:
        """A slash command as typed in the composer, sent to the bot as Slack would send it."""
        self.person(user_id)
        command, _, text = line.strip().partition(" ")
        if command not in COMMANDS:
            raise SandboxError(f"{command} is not a valid command. In this workspace there is /kpi.")
        response_url = self.emulator.new_response_url(channel_id, user_id)
        body = self.emulator.slash_command_payload(
            command, slack_escape(text.strip(), self.emulator.users()), user_id, channel_id,
            response_url=response_url,
        )
        status, headers, answer, seconds = self._send(body)
        if status != 200:
            raise SandboxError(f"the bot answered {command} with HTTP {status}: {_short(answer)}")
        # Slack shows a non-empty ack body as the command's first answer, like a post to its response_url.
        payload = _ack_payload(headers, answer)
        if payload:
            # The sink ignores the signature headers post_to_app adds; it is the loopback-only sender at hand.
            posted, _, _ = post_to_app(response_url, self.signing_secret, json.dumps(payload), "application/json")
            if posted != 200:
                log.warning("the emulator refused the command's ack body: HTTP %s", posted)
        if seconds > ACK_DEADLINE:
            return JobResult(f"The bot took {seconds:.1f} s to acknowledge {command}; "
                             f"Slack would have shown “operation_timeout”.", warning=True)
        return JobResult()

    def action(
        self,
        user_id: str,
        channel_id: str,
        message_ts: str,
        action_id: str,
        value: str,
        block_id: str | None = None,
    ) -> JobResult:
        """A button press: a `block_actions` interaction carrying the message as it is now (a button on
        the Home tab has no message: it comes from the person's App Home, channel `home`)."""
        self.person(user_id)
        if channel_id == "home":
            channel_id, message_ts = self.dm_id(user_id), ""
        try:
            body = self.emulator.block_action_payload(
                action_id, value, user_id, channel_id, message=message_ts or None, block_id=block_id or None
            )
        except ValueError:
            raise SandboxError("that message is gone; the page will refresh") from None
        status, _, answer, seconds = self._send(body)
        if status != 200:
            raise SandboxError(f"the bot answered the button with HTTP {status}: {_short(answer)}")
        if seconds > ACK_DEADLINE:
            return JobResult(f"The bot took {seconds:.1f} s to acknowledge the button.", warning=True)
        return JobResult()

    def open_home(self, user_id: str) -> JobResult:
        """What Slack sends when the person opens the app's Home tab; the bot answers with views.publish."""
        self.person(user_id)
        status, _, answer, _ = self._send(self.emulator.app_home_opened_event(user_id))
        if status != 200:
            raise SandboxError(f"the bot answered app_home_opened with HTTP {status}: {_short(answer)}")
        return JobResult()

    def post_message(self, user_id: str, channel_id: str, text: str, thread_ts: str | None = None) -> JobResult:
        """A plain message from the person (the bot listens to slash commands and buttons, not to these)."""
        self.person(user_id)
        if not text.strip():
            raise SandboxError("type a message or a /kpi command")
        self.emulator.add_message(channel_id, text, user=user_id, thread_ts=thread_ts)
        return JobResult()

    def run_job(self, which: str, day: str | None) -> JobResult:
        runner = {"digest": self.run_digest, "alerts": self.run_alerts}.get(which)
        if runner is None:
            raise SandboxError(f"{which} is not available in this sandbox")
        as_of = self.as_of(day)
        return JobResult(runner(as_of))

    def as_of(self, day: str | None) -> datetime:
        """Today means now; an earlier day means 09:00 that day, when a Monday digest goes out."""
        now = self.clock().astimezone(self.tz)
        if not day:
            return now
        try:
            chosen = date.fromisoformat(day)
        except ValueError:
            raise SandboxError(f"{day!r} is not a date (YYYY-MM-DD)") from None
        if chosen > now.date():
            raise SandboxError(f"{chosen} is in the future: replay history up to today ({now.date()})")
        if chosen == now.date():
            return now
        return datetime.combine(chosen, dtime(9, 0), self.tz)

    def _send(self, body: bytes) -> tuple[int, dict[str, str], bytes, float]:
        started = time.perf_counter()
        try:
            status, headers, answer = post_to_app(self.bot_events_url, self.signing_secret, body, timeout=15)
        except (OSError, urllib.error.URLError) as exc:
            raise SandboxError(f"the bot at {self.bot_events_url} did not answer ({exc})") from None
        return status, headers, answer, time.perf_counter() - started


def slack_escape(text: str, users: Iterable[dict[str, Any]]) -> str:
    """The command text as Slack sends it with `should_escape` (the manifest's setting): &, <, > as
    entities, and an @mention of a known person as <@ID|name>, as picking them from Slack's menu does."""
    by_name: dict[str, tuple[str, str]] = {}
    for user in users:
        by_name[user["id"].lower()] = (user["id"], user.get("name") or user["id"])
        if user.get("name"):
            by_name[user["name"].lower()] = (user["id"], user["name"])
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def mention(match: re.Match[str]) -> str:
        found = by_name.get(match.group(1).lower())
        return f"<@{found[0]}|{found[1].lower()}>" if found else match.group(0)

    return _MENTION.sub(mention, escaped)


def roles_from_reps(lookup: Callable[[str], Any], user_ids: Iterable[str]) -> dict[str, str]:
    """"rep · enterprise" for people who are reps (reps.slack_user_id), for the user switcher."""
    roles = {}
    for user_id in user_ids:
        rep = lookup(user_id)
        if rep is not None:
            roles[user_id] = " · ".join(x for x in (rep.role or "rep", rep.team) if x)
    return roles


def channels_from_config(config: Any) -> list[Channel]:
    """The digest channels and the alerts channel of the config, deduplicated, digests first.

    The id is what the scheduler posts to (the configured value itself), so messages land in the
    channel the page shows.
    """
    slack = config.slack
    found: list[Channel] = []
    wanted = [(d.channel or slack.digest_channel, "Digests") for d in getattr(config, "digests", [])]
    wanted.append((getattr(getattr(config, "alerts", None), "channel", None) or slack.alerts_channel, "Alerts"))
    if not wanted[:-1]:
        wanted.insert(0, (slack.digest_channel, "Digests"))
    for value, purpose in wanted:
        if not value or any(c.id == value for c in found):
            continue
        name = value if _CHANNEL_ID.match(value) else value.lstrip("#")
        found.append(Channel(value, name, "channel", purpose))
    return found


def _ts_key(ts: str) -> float:
    try:
        return float(ts)
    except (TypeError, ValueError):
        return 0.0


def _day_label(day: date, today: date) -> str:
    if day == today:
        return "Today"
    if (today - day).days == 1:
        return "Yesterday"
    return day.strftime("%A, %-d %B %Y")


def _short(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip()
    return (text[:200] + "…") if len(text) > 200 else (text or "(empty)")


def _ack_payload(headers: dict[str, str], body: bytes) -> dict[str, Any] | None:
    if not body.strip():
        return None
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    text = body.decode("utf-8", "replace")
    if "json" in content_type.lower():
        try:
            payload = json.loads(text)
        except json.JSONDecodeError:
            return {"text": text}
        return payload if isinstance(payload, dict) and (payload.get("text") or payload.get("blocks")) else None
    return {"text": text}

