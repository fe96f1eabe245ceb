"""Button values that carry a question and its "now", so a shared or re-run answer is the one seen,
and the answer's id, so it is shared into a channel once (kpi_engine/ops.py claim_share)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

MAX_VALUE = 2000  # Slack's limit for a button value


def new_answer_id() -> str:
    return uuid.uuid4().hex[:16]


def encode(text: str, as_of: datetime, answer_id: str | None = None) -> str | None:
    """A compact value, or None when the question is too long to carry (then no button is offered)."""
    data = {"q": text, "t": as_of.isoformat(timespec="seconds")}
    if answer_id:
        data["a"] = answer_id
    value = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return value if len(value) <= MAX_VALUE else None


def decode(value: str | None, tz: ZoneInfo) -> tuple[str, datetime] | None:
    try:
        data = json.loads(value or "")
        text, when = data["q"], datetime.fromisoformat(data["t"])
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(text, str):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return text, when


def answer_id(value: str | None, user: str | None) -> str:
    """The id of the answer a Share button belongs to; a button from before ids were carried stands for
    its question, moment and asker (the same answer, as far as anyone can tell)."""
    try:
        found = json.loads(value or "").get("a")
    except (ValueError, AttributeError):
        found = None
    if isinstance(found, str) and found:
        return found[:64]
    return "h" + hashlib.sha256(f"{user}\n{value}".encode()).hexdigest()[:24]
