"""The emulator itself: workspace state, the Web API methods, the sinks, faults and waiting."""

from __future__ import annotations

import base64
import copy
import inspect
import itertools
import json
import logging
import mimetypes
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

from .models import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    BOT_USER_NAME,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    ApiError,
    Call,
    Fault,
    ResponseUrl,
    TsClock,
    as_bool,
    as_int,
    default_channels,
    default_users,
    make_user,
    ts_micros,
)
from .signing import ensure_loopback
from .transport import ApiRequest, EmulatorHTTPServer, Reply

log = logging.getLogger(__name__)

Listener = Callable[[dict[str, Any]], None]

# Slack's own limits; enforcing them here surfaces bugs that would otherwise only show in production.
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT = 40_000
RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL = 30 * 60

# Pseudo-method names under which the two non-API endpoints are recorded and can be faulted.
RESPONSE_URL = "response_url"
UPLOAD_URL = "upload_url"


class SlackEmulator:
    """A local stand-in for the Slack Web API, for tests and the browser sandbox.

    Every channel id exists (a first post creates it), so tests need no setup; users do have to be
    registered for users.info, as that is where the bot learns a person's time zone and locale.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, bot_token: str | None = None) -> None:
        ensure_loopback(host)
        self.host = host
        self.bot_token = bot_token
        self._requested_port = port
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # One re-entrant lock guards all state, so predicates given to wait_for may call the query methods.
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        # Serialises listener delivery so the sandbox sees events in the order they happened.
        self._delivery_lock = threading.RLock()
        self._listeners: list[Listener] = []
        self._pending_events: list[dict[str, Any]] = []
        self._seq = 0
        self._clock = TsClock()
        self._ids = itertools.count(1)
        self._users: dict[str, dict[str, Any]] = {u["id"]: u for u in default_users()}
        self._channels: dict[str, dict[str, Any]] = default_channels()
        self._home_view_ids: dict[str, str] = {}
        self._api: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "views.publish": self._views_publish,
            "conversations.history": self._conversations_history,
            "conversations.open": self._conversations_open,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "files.delete": self._files_delete,
        }
        self._clear_state()

    def _clear_state(self) -> None:
        self._calls: list[Call] = []
        # Per channel, every message in post order (thread replies included), which is also ts order.
        self._messages: dict[str, list[dict[str, Any]]] = {}
        self._ephemerals: list[dict[str, Any]] = []
        self._views: dict[str, list[dict[str, Any]]] = {}
        self._files: dict[str, dict[str, Any]] = {}
        self._response_urls: dict[str, ResponseUrl] = {}
        self._faults: dict[str, deque[Fault]] = {}

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SlackEmulator:
        if self._server is not None:
            return self
        server = EmulatorHTTPServer((self.host, self._requested_port), self)
        self._server = server
        # A restart keeps the port, so api_url and handed-out response_urls stay valid.
        self._requested_port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"slack-emulator-{server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running: call start() first")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    # ------------------------------------------------------------------ registry

    def add_user(
        self,
        user_id: str,
        name: str,
        tz: str = "Asia/Bangkok",
        locale: str = "th-TH",
        *,
        real_name: str | None = None,
        email: str | None = None,
        is_bot: bool = False,
        is_admin: bool = False,
        deleted: bool = False,
        title: str = "",
    ) -> dict[str, Any]:
        user = make_user(
            user_id,
            name,
            real_name=real_name,
            tz=tz,
            locale=locale,
            email=email,
            is_bot=is_bot,
            is_admin=is_admin,
            deleted=deleted,
            title=title,
        )
        with self._changing():
            self._users[user_id] = user
            self._emit({"type": "user_added", "user": user_id})
        return copy.deepcopy(user)

    def users(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._users.values()))

    def add_channel(self, channel_id: str, name: str, is_private: bool = False) -> dict[str, Any]:
        with self._changing():
            channel = {"id": channel_id, "name": name, "is_private": is_private}
            self._channels[channel_id] = channel
            self._emit({"type": "channel_added", "channel": channel_id})
        return dict(channel)

    def channels(self) -> list[dict[str, Any]]:
        """Registered channels plus any a message was posted to, with their message counts."""
        with self._lock:
            ids = list(self._channels) + [c for c in self._messages if c not in self._channels]
            return [
                {
                    **self._channels.get(c, {"id": c, "name": c, "is_private": False}),
                    "message_count": sum(1 for m in self._messages.get(c, []) if _is_top_level(m)),
                }
                for c in ids
            ]

    # ------------------------------------------------------------------ queries

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Top-level messages, oldest first; each carries `channel` and its thread as `replies`."""
        with self._lock:
            found = []
            for message in self._messages.get(channel, []):
                if _is_top_level(message):
                    item = self._public(channel, message)
                    item["replies"] = [
                        self._public(channel, r) for r in self._thread_replies(channel, message["ts"])
                    ]
                    found.append(item)
            return found

    def replies(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """The replies in the thread under `ts`, oldest first, without the parent."""
        with self._lock:
            return [self._public(channel, r) for r in self._thread_replies(channel, ts)]

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._find(channel, ts)
            return self._public(channel, found) if found is not None else None

    def ephemerals(self, user: str | None = None, channel: str | None = None) -> list[dict[str, Any]]:
        """Ephemeral messages oldest first; here `user` is the one person who can see the message."""
        with self._lock:
            return [
                copy.deepcopy(e)
                for e in self._ephemerals
                if (user is None or e["user"] == user) and (channel is None or e["channel"] == channel)
            ]

    def views(self, user: str) -> list[dict[str, Any]]:
        """Every view published to the user's App Home, oldest first."""
        with self._lock:
            return copy.deepcopy(self._views.get(user, []))

    def home_view(self, user: str) -> dict[str, Any] | None:
        with self._lock:
            published = self._views.get(user)
            return copy.deepcopy(published[-1]) if published else None

    def files(self) -> list[dict[str, Any]]:
        """Files in upload order, `content` holding the uploaded bytes (None until step 2 happened)."""
        with self._lock:
            return [copy.deepcopy(f) for f in self._files.values()]

    def reset(self) -> None:
        """Forget traffic, messages, views, files, response_urls and faults; keep users and channels."""
        with self._changing():
            self._clear_state()
            self._emit({"type": "reset"})

    def snapshot(self) -> dict[str, Any]:
        """The whole visible state as JSON-able data, for the sandbox page."""
        with self._lock:
            return {
                "seq": self._seq,
                "team": {"id": TEAM_ID, "name": TEAM_NAME},
                "bot_user_id": BOT_USER_ID,
                "channels": [{**c, "messages": self.messages(c["id"])} for c in self.channels()],
                "ephemerals": self.ephemerals(),
                "views": {user: views[-1] for user, views in copy.deepcopy(self._views).items()},
                "files": [self._file_object(f) for f in self._files.values()],
                "users": self.users(),
                "calls": [c.to_dict() for c in self._calls[-200:]],
            }

    # ------------------------------------------------------------------ waiting and listening

    def wait_for(self, predicate: Callable[[SlackEmulator], Any], timeout: float = 30.0) -> Any:
        """Block until `predicate(emulator)` is truthy and return its value.

        The default limit is generous (a busy machine); the wait ends as soon as the condition holds.
        A LookupError counts as "not yet", so `lambda e: e.messages(C)[0]["text"] == "x"` can be
        written before the message exists. The predicate runs under the emulator's lock: it may call
        the query methods but must not change the emulator or block.
        """
        last_error: LookupError | None = None

        def check() -> Any:
            nonlocal last_error
            try:
                return predicate(self)
            except LookupError as error:
                last_error = error
                return None

        with self._changed:
            result = self._changed.wait_for(check, timeout=timeout)
            if result:
                return result
            calls = self._calls[-8:]
            counts = {c: sum(1 for m in ms if _is_top_level(m)) for c, ms in self._messages.items()}
            ephemerals = len(self._ephemerals)
        recent = (
            "\n".join(f"  {c.method} -> {c.status}{' ' + c.error if c.error else ''}" for c in calls)
            or "  (none)"
        )
        raised = f" (last raised {last_error!r})" if last_error is not None else ""
        raise TimeoutError(
            f"Slack emulator: condition not met within {timeout:g}s: {_describe(predicate)}{raised}\n"
            f"messages per channel: {counts or '{}'}; ephemerals: {ephemerals}\n"
            f"last calls:\n{recent}"
        )

    def subscribe(self, callback: Listener) -> None:
        """Call `callback(event)` after every change, outside the lock, in the changing thread.

        Events are small JSON-able dicts with a `type` and a `seq`; a slow callback delays the HTTP
        answer of the call that caused the change, so hand work off rather than doing it inline.
        """
        with self._lock:
            self._listeners.append(callback)

    def unsubscribe(self, callback: Listener) -> None:
        with self._lock:
            if callback in self._listeners:
                self._listeners.remove(callback)

    @contextmanager
    def _changing(self) -> Iterator[None]:
        with self._lock:
            yield
            self._changed.notify_all()
        self._deliver_events()

    def _emit(self, event: dict[str, Any]) -> None:
        self._seq += 1
        self._pending_events.append({**event, "seq": self._seq})

    def _deliver_events(self) -> None:
        with self._delivery_lock:
            with self._lock:
                events, self._pending_events = self._pending_events, []
                listeners = list(self._listeners)
            for event in events:
                for listener in listeners:
                    try:
                        listener(event)
                    except Exception:
                        log.exception("Slack emulator listener %r failed on %s", listener, event.get("type"))

    # ------------------------------------------------------------------ faults

    def inject(
        self,
        method: str,
        status: int = 200,
        retry_after: float | None = None,
        times: int | None = 1,
        *,
        delay: float = 0.0,
        error: str | None = None,
    ) -> Fault:
        """Make the next `times` calls of `method` (or "response_url" / "upload_url") misbehave.

        status 429 answers `ratelimited` with Retry-After (default 1 s), other non-200 statuses an
        `internal_error`; `error` answers 200 with that Slack error code. Failed calls have no effect.
        `delay` sleeps before answering, after which the call is applied (unless it also fails).
        `times=None` keeps the fault until clear_faults(). Faults for one method apply in order.
        """
        if status != 200 and not 400 <= status <= 599:
            raise ValueError(f"status must be 200 or an HTTP error status, got {status}")
        if delay < 0 or (times is not None and times < 1):
            raise ValueError("delay must be >= 0 and times >= 1 (or None)")
        fault = Fault(method, status, retry_after, delay, error, times)
        if not fault.fails and not delay:
            raise ValueError("a fault needs an error status, an error code or a delay")
        with self._lock:
            self._faults.setdefault(method, deque()).append(fault)
        return fault

    def clear_faults(self, method: str | None = None) -> None:
        with self._lock:
            if method is None:
                self._faults.clear()
            else:
                self._faults.pop(method, None)

    def _take_fault(self, method: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(method)
            if not queue:
                return None
            fault = queue[0]
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    queue.popleft()
            return fault

    def _apply_fault(
        self,
        fault: Fault | None,
        method: str,
        params: dict[str, Any],
        token: str | None,
        started: float,
        as_text: bool = False,
    ) -> Reply | None:
        """Sleeps for a delay; returns the failure answer (recorded, nothing applied) or None to go on."""
        if fault is None:
            return None
        if fault.delay:
            time.sleep(fault.delay)
        if not fault.fails:
            return None
        headers = {}
        if fault.status == 429:
            error = "ratelimited"
            headers["Retry-After"] = fault.retry_after_header()
        elif fault.status != 200:
            error = fault.error or "internal_error"
        else:
            error = fault.error or "fatal_error"
        with self._changing():
            self._record(Call(method, params, started, fault.status, error, None, token))
        if as_text:
            return Reply.text(fault.status, error, headers)
        return Reply.json(fault.status, {"ok": False, "error": error}, headers)

    # ------------------------------------------------------------------ HTTP entry points

    def _handle_api(self, method: str, request: ApiRequest) -> Reply:
        started = time.time()
        params, token = request.params, request.token
        failure = self._apply_fault(self._take_fault(method), method, params, token, started)
        if failure is not None:
            return failure
        with self._changing():
            handler = self._api.get(method)
            try:
                if request.parse_error:
                    raise ApiError(request.parse_error)
                if self.bot_token is not None and token != self.bot_token:
                    raise ApiError("invalid_auth")
                if handler is None:
                    raise ApiError("unknown_method", req_method=method)
                response = {"ok": True, **handler(params)}
                status = 200
            except ApiError as failed:
                response, status = {"ok": False, "error": failed.code, **failed.extra}, 200
            except Exception:
                # An emulator bug must fail the one call loudly, not hang the client on a dropped socket.
                log.exception("Slack emulator failed on %s", method)
                response, status = {"ok": False, "error": "internal_error"}, 500
            self._record(Call(method, params, started, status, response.get("error"), response, token))
        return Reply.json(status, response)

    def _handle_upload(self, file_id: str, body: bytes) -> Reply:
        started = time.time()
        params = {"file_id": file_id, "size": len(body)}
        failure = self._apply_fault(
            self._take_fault(UPLOAD_URL), UPLOAD_URL, params, None, started, as_text=True
        )
        if failure is not None:
            return failure
        with self._changing():
            stored = self._files.get(file_id)
            if stored is None:
                self._record(Call(UPLOAD_URL, params, started, 404, "file_not_found"))
                return Reply.text(404, "file_not_found")
            stored["content"] = bytes(body)
            stored["size"] = len(body)
            self._record(Call(UPLOAD_URL, params, started, 200))
            self._emit({"type": "file_uploaded", "file": file_id, "size": len(body)})
        return Reply.text(200, f"OK - {len(body)}")

    def _serve_file(self, file_id: str) -> Reply:
        with self._lock:
            stored = self._files.get(file_id)
            if stored is None or stored["content"] is None:
                return Reply.text(404, "file_not_found")
            return Reply(200, stored["content"], stored["mimetype"])

    def _handle_response_url(self, url_id: str, body: bytes) -> Reply:
        started = time.time()
        url = f"{self.url}/response/{url_id}"
        try:
            payload = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            payload = None
        params = {**payload, "response_url": url} if isinstance(payload, dict) else {"response_url": url}
        failure = self._apply_fault(self._take_fault(RESPONSE_URL), RESPONSE_URL, params, None, started, True)
        if failure is not None:
            return failure
        with self._changing():
            status, error = 200, None
            try:
                if not isinstance(payload, dict):
                    raise ApiError("invalid_payload", status=400)
                self._respond(url_id, payload)
            except ApiError as failed:
                status, error = failed.extra.get("status", 404), failed.code
            self._record(Call(RESPONSE_URL, params, started, status, error))
        return Reply.text(status, error or "ok")

    def _record(self, call: Call) -> None:
        self._calls.append(call)
        self._emit({"type": "call", "method": call.method, "status": call.status, "error": call.error})

    # ------------------------------------------------------------------ message store

    def add_message(
        self,
        channel: str,
        text: str,
        user: str = "U0SOMCHAI",
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> str:
        """A message from a person (sandbox typing, or a thread for the bot to answer in); returns its ts."""
        with self._changing():
            return self._post(channel, text=text, blocks=blocks, user=user, thread_ts=thread_ts)["ts"]

    def _find(self, channel: str, ts: Any) -> dict[str, Any] | None:
        for message in self._messages.get(channel, []):
            if message["ts"] == ts:
                return message
        return None

    def _thread_replies(self, channel: str, ts: str) -> list[dict[str, Any]]:
        return [m for m in self._messages.get(channel, []) if m.get("thread_ts") == ts and m["ts"] != ts]

    def _public(self, channel: str, message: dict[str, Any]) -> dict[str, Any]:
        return {**copy.deepcopy(message), "channel": channel}

    def _post(
        self,
        channel: str,
        *,
        text: str | None,
        blocks: list[dict[str, Any]] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        user: str = BOT_USER_ID,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
        files: list[dict[str, Any]] | None = None,
        reply_broadcast: bool = False,
    ) -> dict[str, Any]:
        ts = self._clock.next()
        message: dict[str, Any] = {
            "type": "message",
            "ts": ts,
            "user": user,
            "text": text or "",
            "team": TEAM_ID,
        }
        if user == BOT_USER_ID:
            message.update(bot_id=BOT_ID, app_id=APP_ID)
        if blocks is not None:
            message["blocks"] = copy.deepcopy(blocks)
        if attachments is not None:
            message["attachments"] = copy.deepcopy(attachments)
        if metadata is not None:
            message["metadata"] = copy.deepcopy(metadata)
        if files:
            message.update(files=files, upload=True, display_as_bot=False)
        if thread_ts:
            parent = self._find(channel, thread_ts)
            if parent is not None and parent.get("thread_ts") not in (None, parent["ts"]):
                # Answering a reply lands in its thread, as in Slack.
                thread_ts = parent["thread_ts"]
                parent = self._find(channel, thread_ts)
            message["thread_ts"] = thread_ts
            if reply_broadcast:
                message["subtype"] = "thread_broadcast"
            # An unknown parent is accepted (the reply is kept) so a test posting into a thread it
            # never created still sees the reply via replies().
            if parent is not None:
                message["parent_user_id"] = parent["user"]
                parent["thread_ts"] = parent["ts"]
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                parent["reply_users"] = sorted({*parent.get("reply_users", []), user})
                parent["reply_users_count"] = len(parent["reply_users"])
                parent["latest_reply"] = ts
        self._messages.setdefault(channel, []).append(message)
        self._emit({"type": "message", "channel": channel, "ts": ts, "thread_ts": message.get("thread_ts")})
        return message

    def _post_ephemeral(
        self,
        channel: str,
        user: str,
        *,
        text: str | None,
        blocks: list[dict[str, Any]] | None,
        thread_ts: str | None,
        source: str,
    ) -> dict[str, Any]:
        ts = self._clock.next()
        ephemeral: dict[str, Any] = {
            "type": "message",
            "subtype": "ephemeral",
            "ts": ts,
            "channel": channel,
            "user": user,
            "text": text or "",
            "bot_id": BOT_ID,
            "source": source,
        }
        if blocks is not None:
            ephemeral["blocks"] = copy.deepcopy(blocks)
        if thread_ts:
            ephemeral["thread_ts"] = thread_ts
        self._ephemerals.append(ephemeral)
        self._emit({"type": "ephemeral", "channel": channel, "user": user, "ts": ts})
        return ephemeral

    def _find_any(self, channel: str, ts: str | None) -> dict[str, Any] | None:
        if ts is None:
            return None
        found = self._find(channel, ts)
        if found is not None:
            return found
        return next((e for e in self._ephemerals if e["channel"] == channel and e["ts"] == ts), None)

    def _delete(self, channel: str, message: dict[str, Any]) -> None:
        if message.get("subtype") == "ephemeral":
            self._ephemerals.remove(message)
        else:
            self._messages[channel].remove(message)
            parent = self._find(channel, message.get("thread_ts")) if message.get("thread_ts") else None
            if parent is not None and parent is not message and parent.get("reply_count"):
                parent["reply_count"] -= 1
        self._emit({"type": "message_deleted", "channel": channel, "ts": message["ts"]})

    # ------------------------------------------------------------------ parameter checks

    @staticmethod
    def _channel(params: dict[str, Any], key: str = "channel") -> str:
        channel = params.get(key)
        if not isinstance(channel, str) or not channel.strip():
            raise ApiError("channel_not_found")
        return channel

    @staticmethod
    def _required(params: dict[str, Any], key: str) -> str:
        value = params.get(key)
        if value is None or value == "":
            raise ApiError(
                "invalid_arguments",
                response_metadata={"messages": [f"[ERROR] missing required field: {key}"]},
            )
        return str(value)

    @staticmethod
    def _content(
        params: dict[str, Any], require: bool, max_blocks: int = MAX_MESSAGE_BLOCKS
    ) -> dict[str, Any]:
        text = params.get("text")
        text = None if text is None else str(text)
        blocks = params.get("blocks")
        if blocks is not None:
            if not isinstance(blocks, list) or not all(
                isinstance(b, dict) and isinstance(b.get("type"), str) for b in blocks
            ):
                raise ApiError("invalid_blocks")
            if len(blocks) > max_blocks:
                raise ApiError(
                    "invalid_blocks", response_metadata={"messages": [f"more than {max_blocks} blocks"]}
                )
        attachments = params.get("attachments")
        if attachments is not None and (
            not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments)
        ):
            raise ApiError("invalid_attachments")
        if require and not text and not blocks and not attachments:
            raise ApiError("no_text")
        if text is not None and len(text) > MAX_TEXT:
            raise ApiError("msg_too_long")
        return {"text": text, "blocks": blocks, "attachments": attachments}

    @staticmethod
    def _metadata(params: dict[str, Any]) -> dict[str, Any] | None:
        metadata = params.get("metadata")
        if metadata is None or metadata == "":
            return None
        if (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not isinstance(metadata.get("event_payload", {}), dict)
        ):
            raise ApiError("invalid_metadata_format")
        return {"event_type": metadata["event_type"], "event_payload": metadata.get("event_payload", {})}

    def _api_message(self, message: dict[str, Any], include_metadata: bool) -> dict[str, Any]:
        out = copy.deepcopy(message)
        if not include_metadata:
            out.pop("metadata", None)
        return out

    # ------------------------------------------------------------------ Web API methods

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": f"{self.url}/",
            "team": TEAM_NAME,
            "user": BOT_USER_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "is_enterprise_install": False,
        }

    def _dm_for(self, channel: str) -> str:
        """As in Slack, a user id as the channel means the app's DM with that person."""
        with self._lock:
            known = channel in self._users and not self._users[channel].get("is_bot")
        return "D" + channel.removeprefix("U") if known and channel.startswith("U") else channel

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if len(users) != 1:
            raise ApiError("not_implemented" if users else "users_list_not_supplied")
        dm = self._dm_for(users[0])
        if dm == users[0]:
            raise ApiError("user_not_found")
        return {"channel": {"id": dm, "is_im": True, "user": users[0]}}

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._dm_for(self._channel(params))
        content = self._content(params, require=True)
        metadata = self._metadata(params)
        message = self._post(
            channel,
            **content,
            thread_ts=params.get("thread_ts") or None,
            metadata=metadata,
            reply_broadcast=as_bool(params.get("reply_broadcast")),
        )
        return {"channel": channel, "ts": message["ts"], "message": self._api_message(message, True)}

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        user = self._required(params, "user")
        content = self._content(params, require=True)
        ephemeral = self._post_ephemeral(
            channel,
            user,
            text=content["text"],
            blocks=content["blocks"],
            thread_ts=params.get("thread_ts") or None,
            source="chat.postEphemeral",
        )
        return {"message_ts": ephemeral["ts"]}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        message = self._find(channel, params.get("ts"))
        if message is None:
            raise ApiError("message_not_found")
        if message.get("user") != BOT_USER_ID:
            raise ApiError("cant_update_message")
        content = self._content(params, require=False)
        metadata = self._metadata(params)
        # Like Slack, fields left out keep their old value.
        if content["text"] is not None:
            message["text"] = content["text"]
        for key in ("blocks", "attachments"):
            if content[key] is not None:
                message[key] = copy.deepcopy(content[key])
        if metadata is not None:
            message["metadata"] = metadata
        message["edited"] = {"user": BOT_USER_ID, "ts": self._clock.next()}
        self._emit({"type": "message_changed", "channel": channel, "ts": message["ts"]})
        return {
            "channel": channel,
            "ts": message["ts"],
            "text": message["text"],
            "message": self._api_message(message, True),
        }

    def _chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        message = self._find(channel, params.get("ts"))
        if message is None:
            raise ApiError("message_not_found")
        if message.get("user") != BOT_USER_ID:
            raise ApiError("cant_delete_message")
        self._delete(channel, message)
        return {"channel": channel, "ts": message["ts"]}

    def _chat_get_permalink(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        message = self._find(channel, params.get("message_ts"))
        if message is None:
            raise ApiError("message_not_found")
        permalink = f"{self.url}/archives/{channel}/p{message['ts'].replace('.', '')}"
        if message.get("thread_ts") not in (None, message["ts"]):
            permalink += f"?thread_ts={message['thread_ts']}&cid={channel}"
        return {"channel": channel, "permalink": permalink}

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._required(params, "user_id")
        view = params.get("view")
        if not isinstance(view, dict) or view.get("type") != "home":
            raise ApiError(
                "invalid_arguments", response_metadata={"messages": ["view must be an object of type home"]}
            )
        self._content({"blocks": view.get("blocks", [])}, require=False, max_blocks=MAX_VIEW_BLOCKS)
        published = self._views.get(user)
        expected_hash = params.get("hash")
        if expected_hash and published and published[-1]["hash"] != expected_hash:
            raise ApiError("hash_conflict")
        view_id = self._home_view_ids.setdefault(user, f"V0EMU{next(self._ids):06d}")
        stored = {
            **copy.deepcopy(view),
            "id": view_id,
            "team_id": TEAM_ID,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "state": {"values": {}},
            "hash": f"{time.time():.6f}.{uuid.uuid4().hex[:8]}",
            "root_view_id": view_id,
            "previous_view_id": None,
        }
        self._views.setdefault(user, []).append(stored)
        self._emit({"type": "view_published", "user": user, "view_id": view_id})
        return {"view": copy.deepcopy(stored)}

    def _history_window(self, params: dict[str, Any], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        oldest = ts_micros(params.get("oldest") or "0", "oldest")
        latest = ts_micros(params["latest"], "latest") if params.get("latest") else None
        inclusive = as_bool(params.get("inclusive"))

        def inside(message: dict[str, Any]) -> bool:
            ts = ts_micros(message["ts"], "ts")
            after = ts >= oldest if inclusive else ts > oldest
            before = latest is None or (ts <= latest if inclusive else ts < latest)
            return after and before

        return [m for m in items if inside(m)]

    @staticmethod
    def _page(params: dict[str, Any], items: list[Any]) -> tuple[list[Any], bool, str]:
        limit = as_int(params.get("limit"), 100, "limit")
        limit = 100 if limit <= 0 else min(limit, 999)
        cursor = params.get("cursor") or ""
        try:
            offset = int(base64.b64decode(cursor).decode().removeprefix("offset:")) if cursor else 0
        except ValueError:
            raise ApiError("invalid_cursor") from None
        end = offset + limit
        has_more = end < len(items)
        next_cursor = base64.b64encode(f"offset:{end}".encode()).decode() if has_more else ""
        return items[offset:end], has_more, next_cursor

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        include_metadata = as_bool(params.get("include_all_metadata"))
        top_level = [m for m in self._messages.get(channel, []) if _is_top_level(m)]
        newest_first = list(reversed(self._history_window(params, top_level)))
        page, has_more, next_cursor = self._page(params, newest_first)
        return {
            "messages": [self._api_message(m, include_metadata) for m in page],
            "has_more": has_more,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        parent = self._find(channel, params.get("ts"))
        if parent is None:
            raise ApiError("thread_not_found")
        if parent.get("thread_ts") not in (None, parent["ts"]):
            parent = self._find(channel, parent["thread_ts"]) or parent
        include_metadata = as_bool(params.get("include_all_metadata"))
        thread = [parent, *self._history_window(params, self._thread_replies(channel, parent["ts"]))]
        page, has_more, next_cursor = self._page(params, thread)
        return {
            "messages": [self._api_message(m, include_metadata) for m in page],
            "has_more": has_more,
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._users.get(params.get("user") or "")
        if user is None:
            raise ApiError("user_not_found")
        out = copy.deepcopy(user)
        # Real Slack only sends the locale when asked to; a bot that forgets to ask must notice here too.
        if not as_bool(params.get("include_locale")):
            out.pop("locale", None)
        return {"user": out}

    def _files_get_upload_url_external(self, params: dict[str, Any]) -> dict[str, Any]:
        filename = self._required(params, "filename")
        length = as_int(self._required(params, "length"), 0, "length")
        if length < 0:
            raise ApiError("invalid_arguments", response_metadata={"messages": ["length must be >= 0"]})
        file_id = f"F0EMU{next(self._ids):06d}"
        self._files[file_id] = {
            "id": file_id,
            "name": filename,
            "title": filename,
            "length": length,
            "size": None,
            "content": None,
            "mimetype": mimetypes.guess_type(filename)[0] or "application/octet-stream",
            "filetype": filename.rsplit(".", 1)[-1].lower() if "." in filename else "binary",
            "alt_txt": params.get("alt_txt"),
            "created": int(time.time()),
            "completed": False,
            "channels": [],
            "initial_comment": None,
            "thread_ts": None,
        }
        self._emit({"type": "file_created", "file": file_id})
        return {"upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload_external(self, params: dict[str, Any]) -> dict[str, Any]:
        entries = params.get("files")
        if (
            not isinstance(entries, list)
            or not entries
            or not all(isinstance(e, dict) and e.get("id") for e in entries)
        ):
            raise ApiError(
                "invalid_arguments", response_metadata={"messages": ["files must be a list of {id, title}"]}
            )
        stored = []
        for entry in entries:
            found = self._files.get(entry["id"])
            # Checked for all files before changing any, so a bad id leaves no half-shared upload.
            if found is None or found["content"] is None or found["completed"]:
                raise ApiError("file_not_found", file_id=entry["id"])
            stored.append(found)
        channels = [c for c in str(params.get("channels") or "").split(",") if c]
        if params.get("channel_id"):
            channels.insert(0, str(params["channel_id"]))
        thread_ts = params.get("thread_ts") or None
        if thread_ts and len(channels) != 1:
            raise ApiError(
                "invalid_arguments", response_metadata={"messages": ["thread_ts needs one channel_id"]}
            )
        initial_comment = params.get("initial_comment")
        for entry, found in zip(entries, stored, strict=True):
            found.update(
                title=entry.get("title") or found["name"],
                completed=True,
                channels=channels,
                initial_comment=initial_comment,
                thread_ts=thread_ts,
            )
            self._emit({"type": "file_shared", "file": found["id"], "channels": channels})
        for channel in channels:
            self._post(
                channel,
                text=initial_comment or "",
                thread_ts=thread_ts,
                files=[self._file_object(f) for f in stored],
            )
        return {"files": [self._file_object(f) for f in stored]}

    def _files_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        """As in Slack: the file goes, and with it the messages that shared it."""
        file_id = self._required(params, "file")
        if self._files.pop(file_id, None) is None:
            raise ApiError("file_not_found")
        for channel, messages in self._messages.items():
            for message in [m for m in messages if any(f.get("id") == file_id for f in m.get("files") or [])]:
                self._delete(channel, message)
        self._emit({"type": "file_deleted", "file_id": file_id})
        return {}

    def _file_object(self, stored: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.url}/files/{stored['id']}/{stored['name']}"
        return {
            "id": stored["id"],
            "created": stored["created"],
            "timestamp": stored["created"],
            "name": stored["name"],
            "title": stored["title"],
            "mimetype": stored["mimetype"],
            "filetype": stored["filetype"],
            "user": BOT_USER_ID,
            "size": stored["size"] if stored["size"] is not None else stored["length"],
            "url_private": url,
            "url_private_download": url,
            "permalink": url,
            "channels": list(stored["channels"]),
        }

    # ------------------------------------------------------------------ response_url sink

    def new_response_url(
        self,
        channel: str,
        user: str,
        message_ts: str | None = None,
        thread_ts: str | None = None,
    ) -> str:
        """A response_url as Slack puts in slash commands and interactions.

        `message_ts` links the message it belongs to (the one with the clicked button), which is what
        replace_original / delete_original act on; without it, the first message posted through the
        URL becomes the original, the way a command's later answers replace its first one.
        """
        url_id = uuid.uuid4().hex[:20]
        with self._lock:
            self._response_urls[url_id] = ResponseUrl(url_id, channel, user, message_ts, thread_ts)
        return f"{self.url}/response/{url_id}"

    def _respond(self, url_id: str, payload: dict[str, Any]) -> None:
        link = self._response_urls.get(url_id)
        if link is None:
            raise ApiError("no_active_hooks")
        if link.uses >= RESPONSE_URL_MAX_USES:
            raise ApiError("used_url")
        if time.time() - link.created > RESPONSE_URL_TTL:
            raise ApiError("expired_url")
        original = self._find_any(link.channel, link.message_ts)
        if as_bool(payload.get("delete_original")):
            if original is None:
                raise ApiError("message_not_found")
            self._delete(link.channel, original)
            link.uses += 1
            return
        try:
            content = self._content(payload, require=True)
        except ApiError as failed:
            raise ApiError(failed.code, status=400) from None
        if as_bool(payload.get("replace_original")) and original is not None:
            original["text"] = content["text"] or ""
            for key in ("blocks", "attachments"):
                if content[key] is not None:
                    original[key] = copy.deepcopy(content[key])
                else:
                    original.pop(key, None)
            self._emit({"type": "message_changed", "channel": link.channel, "ts": original["ts"]})
        else:
            thread_ts = payload.get("thread_ts") or link.thread_ts
            if payload.get("response_type") == "in_channel":
                posted = self._post(link.channel, **content, thread_ts=thread_ts)
            else:
                posted = self._post_ephemeral(
                    link.channel,
                    link.user,
                    text=content["text"],
                    blocks=content["blocks"],
                    thread_ts=thread_ts,
                    source=RESPONSE_URL,
                )
            if link.message_ts is None:
                link.message_ts = posted["ts"]
        link.uses += 1

    # ------------------------------------------------------------------ driving an app like Slack does

    def slash_command_payload(
        self,
        command: str,
        text: str,
        user_id: str,
        channel_id: str,
        team_id: str = TEAM_ID,
        *,
        channel_name: str | None = None,
        user_name: str | None = None,
        response_url: str | None = None,
        trigger_id: str | None = None,
    ) -> bytes:
        """The form body Slack POSTs for a slash command, with a fresh response_url from the sink."""
        with self._lock:
            user = self._users.get(user_id, {})
            channel = self._channels.get(channel_id, {})
        fields = {
            "token": "sandbox-verification-token",
            "team_id": team_id,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": channel_name or channel.get("name", channel_id),
            "user_id": user_id,
            "user_name": user_name or user.get("name", user_id),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url or self.new_response_url(channel_id, user_id),
            "trigger_id": trigger_id or self._trigger_id(),
        }
        return urlencode(fields).encode("utf-8")

    def block_action_payload(
        self,
        action_id: str,
        value: str,
        user_id: str,
        channel_id: str,
        message: dict[str, Any] | str | None = None,
        response_url: str | None = None,
        block_id: str | None = None,
    ) -> bytes:
        """A `block_actions` interaction (a button click) as the form body `payload=<json>`.

        `message` is the message holding the button: a dict as returned by messages()/ephemerals(),
        or its ts to look it up here. The block_id defaults to the block that holds `action_id`.
        """
        with self._lock:
            if isinstance(message, str):
                found = self._find_any(channel_id, message)
                if found is None:
                    raise ValueError(f"no message {message} in {channel_id}")
                message = found
            message = copy.deepcopy(message) if message is not None else None
            user = self._users.get(user_id, {})
            channel = self._channels.get(channel_id, {})
        if message is not None:
            message.pop("channel", None)
            message.pop("replies", None)
        is_ephemeral = bool(message and message.get("subtype") == "ephemeral")
        block_id = block_id or _block_holding(message, action_id) or uuid.uuid4().hex[:5]
        action_ts = f"{time.time():.6f}"
        container: dict[str, Any] = {
            "type": "message",
            "channel_id": channel_id,
            "is_ephemeral": is_ephemeral,
        }
        if message is not None:
            container["message_ts"] = message["ts"]
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {
                "id": user_id,
                "username": user.get("name", user_id),
                "name": user.get("name", user_id),
                "team_id": TEAM_ID,
            },
            "api_app_id": APP_ID,
            "token": "sandbox-verification-token",
            "container": container,
            "trigger_id": self._trigger_id(),
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel_id, "name": channel.get("name", channel_id)},
            "state": {"values": {}},
            "response_url": response_url
            or self.new_response_url(channel_id, user_id, message_ts=message["ts"] if message else None),
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": block_id,
                    "text": {"type": "plain_text", "text": _button_text(message, action_id) or action_id},
                    "value": value,
                    "type": "button",
                    "action_ts": action_ts,
                }
            ],
        }
        if message is not None and not is_ephemeral:
            payload["message"] = message
        return urlencode({"payload": json.dumps(payload, ensure_ascii=False)}).encode("utf-8")

    def app_home_opened_event(self, user_id: str) -> bytes:
        """The JSON `event_callback` body Slack sends when a user opens the App Home tab."""
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": "D" + user_id.removeprefix("U"),
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        view = self.home_view(user_id)
        if view is not None:
            event["view"] = view
        body = {
            "token": "sandbox-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        return json.dumps(body, ensure_ascii=False).encode("utf-8")

    def _trigger_id(self) -> str:
        return f"{next(self._ids)}.{int(time.time())}.{uuid.uuid4().hex}"


def _is_top_level(message: dict[str, Any]) -> bool:
    thread_ts = message.get("thread_ts")
    return thread_ts is None or thread_ts == message["ts"] or message.get("subtype") == "thread_broadcast"


def _elements(message: dict[str, Any] | None) -> Iterator[tuple[str | None, dict[str, Any]]]:
    for block in (message or {}).get("blocks") or []:
        candidates = list(block.get("elements") or [])
        if isinstance(block.get("accessory"), dict):
            candidates.append(block["accessory"])
        for element in candidates:
            if isinstance(element, dict):
                yield block.get("block_id"), element


def _block_holding(message: dict[str, Any] | None, action_id: str) -> str | None:
    return next((b for b, e in _elements(message) if e.get("action_id") == action_id), None)


def _button_text(message: dict[str, Any] | None, action_id: str) -> str | None:
    for _, element in _elements(message):
        if element.get("action_id") == action_id and isinstance(element.get("text"), dict):
            return element["text"].get("text")
    return None


def _describe(predicate: Callable[..., Any]) -> str:
    try:
        source = inspect.getsource(predicate).strip()
    except (OSError, TypeError):
        return repr(predicate)
    return source if len(source) <= 300 else source[:297] + "..."
