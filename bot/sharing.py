"""Button values that carry a question and its "now", so a shared or re-run answer is the one seen."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

MAX_VALUE = 2000  # Slack's limit for a button value


def encode(text: str, as_of: datetime) -> str | None:
    """A compact value, or None when the question is too long to carry (then no button is offered)."""
    value = json.dumps({"q": text, "t": as_of.isoformat(timespec="seconds")}, ensure_ascii=False,
                       separators=(",", ":"))
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
