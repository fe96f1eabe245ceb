"""Value types and small pure helpers shared by the emulator's parts."""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TEAM_ID = "T0SANDBOX"
TEAM_NAME = "KPI Sandbox"
TEAM_DOMAIN = "kpi-sandbox"
BOT_USER_ID = "U0KPIBOT"
BOT_ID = "B0KPIBOT"
APP_ID = "A0KPIBOT"
BOT_USER_NAME = "kpibot"

# Form bodies carry these as JSON text (slack_sdk and Slack itself do that), JSON bodies may too
# when a caller passes a pre-serialised string; decoding them once at the edge keeps handlers simple.
JSON_ENCODED_PARAMS = frozenset({"blocks", "attachments", "metadata", "view", "files", "user_auth_blocks"})


class ApiError(Exception):
    """A Slack-style `{"ok": false, "error": code}` answer."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


@dataclass(frozen=True)
class Call:
    """One request the emulator received, as decoded (token kept apart so params stay comparable)."""

    method: str
    params: dict[str, Any]
    time: float
    status: int
    error: str | None = None
    response: dict[str, Any] | None = None
    token: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "params": _jsonable(self.params),
            "time": self.time,
            "status": self.status,
            "error": self.error,
            "ok": self.ok,
        }


@dataclass
class Fault:
    """What to do to the next `times` calls of one method (`times=None`: until cleared)."""

    method: str
    status: int = 200
    retry_after: float | None = None
    delay: float = 0.0
    error: str | None = None
    times: int | None = 1

    @property
    def fails(self) -> bool:
        return self.status != 200 or self.error is not None

    def retry_after_header(self) -> str:
        # slack_sdk's RateLimitErrorRetryHandler does int() on the header, so it must be whole seconds.
        return str(max(0, math.ceil(self.retry_after if self.retry_after is not None else 1)))


@dataclass
class ResponseUrl:
    """A response_url handed to the app; Slack lets each be used 5 times within 30 minutes."""

    id: str
    channel: str
    user: str
    message_ts: str | None = None
    thread_ts: str | None = None
    uses: int = 0
    created: float = field(default_factory=time.time)


class TsClock:
    """Slack message timestamps: wall-clock based so `oldest`/`latest` filters behave, but strictly
    increasing so two messages in the same microsecond still get distinct, ordered ts."""

    def __init__(self) -> None:
        self._last_us = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            self._last_us = max(int(time.time() * 1_000_000), self._last_us + 1)
            return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"


def ts_micros(ts: Any, name: str) -> int:
    """A ts as integer microseconds: floats would blur neighbouring ts at 1.7e9 seconds."""
    try:
        return int(Decimal(str(ts)) * 1_000_000)
    except (InvalidOperation, ValueError, OverflowError):
        raise ApiError(f"invalid_ts_{name}") from None


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def as_int(value: Any, default: int, name: str) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError("invalid_arguments", detail=f"{name} must be an integer") from None


def decode_json_params(params: dict[str, Any]) -> dict[str, Any]:
    out = dict(params)
    for key in JSON_ENCODED_PARAMS & out.keys():
        value = out[key]
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            try:
                out[key] = json.loads(value)
            except json.JSONDecodeError:
                # Left as text: the handler then rejects it with Slack's own error code.
                pass
    return out


def make_user(
    user_id: str,
    name: str,
    *,
    real_name: str | None = None,
    tz: str = "Asia/Bangkok",
    locale: str = "th-TH",
    email: str | None = None,
    is_bot: bool = False,
    is_admin: bool = False,
    deleted: bool = False,
    title: str = "",
) -> dict[str, Any]:
    """A users.info `user` object (locale is stripped on the way out unless include_locale is set)."""
    try:
        offset = datetime.now(ZoneInfo(tz)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {tz!r}") from None
    real = real_name or name
    return {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": name,
        "deleted": deleted,
        "real_name": real,
        "tz": tz,
        "tz_label": tz,
        "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
        "locale": locale,
        "is_admin": is_admin,
        "is_owner": False,
        "is_bot": is_bot,
        "is_app_user": False,
        "updated": int(time.time()),
        "profile": {
            "real_name": real,
            "display_name": name,
            "real_name_normalized": real,
            "display_name_normalized": name,
            "email": email or f"{name.lower()}@kpi-sandbox.invalid",
            "title": title,
            "team": TEAM_ID,
        },
    }


def default_users() -> list[dict[str, Any]]:
    return [
        make_user(
            BOT_USER_ID, BOT_USER_NAME, real_name="KPI Bot", tz="Asia/Bangkok", locale="en-US", is_bot=True
        ),
        make_user(
            "U0SOMCHAI",
            "Somchai",
            real_name="Somchai Jaidee",
            tz="Asia/Bangkok",
            locale="th-TH",
            title="Regional Sales Manager",
        ),
        make_user(
            "U0ANNA",
            "Anna",
            real_name="Anna Keller",
            tz="Europe/Berlin",
            locale="en-GB",
            title="Head of Sales",
        ),
        make_user(
            "U0MIGUEL",
            "Miguel",
            real_name="Miguel Santos",
            tz="America/New_York",
            locale="en-US",
            title="Account Executive",
        ),
    ]


def default_channels() -> dict[str, dict[str, Any]]:
    return {
        "C0SALES": {"id": "C0SALES", "name": "sales", "is_private": False},
        "C0KPI": {"id": "C0KPI", "name": "kpi-alerts", "is_private": False},
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
