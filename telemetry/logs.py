"""Logging set-up: KPIBOT_LOG_LEVEL, and KPIBOT_LOG_FORMAT=json for one JSON object per line.

    configure()                                   # once, at the command line's start
    log.info("answered", extra=fields(request_id=rid, user_hash=user_hash(uid), kpi="win_rate",
                                       latency_ms=42))

In JSON each line has ts, level, logger, msg, and every field passed in `extra` (request_id,
user_hash, kpi, latency_ms, method, path, status, …) as its own key, so a log pipeline can filter on
them. In text they are appended as key=value. `user_hash` is a keyed hash (HMAC-SHA256) of the Slack
user id: the same person has the same hash in every process of a deployment (the key comes from
KPIBOT_LOG_SALT, else from the signing secret), and the id cannot be read back from it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

# attributes every LogRecord has; anything else on a record came from `extra`
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}


def fields(**kw: Any) -> dict[str, Any]:
    """`extra=` for a log call, without None values."""
    return {k: v for k, v in kw.items() if v is not None}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for k, v in _extras(record).items():
            out[k] = v if isinstance(v, str | int | float | bool) or v is None else str(v)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exc"] = record.exc_text
        return json.dumps(out, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = _extras(record)
        if extra:
            tail = " ".join(f"{k}={v}" for k, v in extra.items())
            first, nl, rest = line.partition("\n")
            line = f"{first} [{tail}]{nl}{rest}"
        return line


def configure(level: str | None = None, fmt: str | None = None, stream=None) -> None:
    """Root logging from KPIBOT_LOG_LEVEL (default WARNING) and KPIBOT_LOG_FORMAT (text or json)."""
    level = (level or os.environ.get("KPIBOT_LOG_LEVEL") or "WARNING").upper()
    fmt = (fmt or os.environ.get("KPIBOT_LOG_FORMAT") or "text").lower()
    if level not in logging.getLevelNamesMapping():
        print(f"kpibot: KPIBOT_LOG_LEVEL={level!r} is not a level (DEBUG, INFO, WARNING, ERROR); using WARNING",
              file=sys.stderr)
        level = "WARNING"
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level)


def _key() -> bytes:
    salt = os.environ.get("KPIBOT_LOG_SALT") or os.environ.get("SLACK_SIGNING_SECRET") or "kpibot"
    return hashlib.sha256(b"kpibot-user-hash:" + salt.encode()).digest()


def user_hash(user_id: str | None) -> str | None:
    """12 hex characters standing for a Slack user id in logs (never the id itself)."""
    if not user_id:
        return None
    return hmac.new(_key(), user_id.encode(), hashlib.sha256).hexdigest()[:12]
