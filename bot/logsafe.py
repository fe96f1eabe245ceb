"""Loggers that cannot leak a token: slack_sdk logs request headers (the bearer token) at DEBUG."""

from __future__ import annotations

import logging
import re
import threading

# Bot, user, app-level and legacy tokens, and a bearer header whatever it carries.
_TOKEN_RE = re.compile(r"xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|(?i:bearer)\s+[^\s'\",}]+")
_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """A literal (the signing secret) to mask too: it has no recognisable shape."""
    if value and len(value) >= 6:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    text = _TOKEN_RE.sub("[redacted]", text)
    for s in list(_secrets):
        if s in text:
            text = text.replace(s, "[redacted]")
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not stop the line
            message = str(record.msg)
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_FILTER = RedactingFilter()


def safe_logger(name: str) -> logging.Logger:
    """A logger whose own records are redacted (a logger's filters do not apply to its children)."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger


def protect_handlers(logger: logging.Logger | None = None) -> None:
    """Redact everything passing through the handlers of `logger` (root by default), whoever logged it."""
    for handler in (logger or logging.getLogger()).handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
