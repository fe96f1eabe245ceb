"""Is this request from Slack? The one place the bot checks a request's signature.

Slack signs each request with the app's signing secret: `X-Slack-Signature` is
"v0=" + hex HMAC-SHA256 of "v0:{X-Slack-Request-Timestamp}:{raw body}". The check runs on the raw
bytes before anything parses the body or trusts the timestamp; only then is the timestamp read as a
number and held against the clock.

    verified = verify_request(headers, body, secret, now=time.time())   # or raises RequestRejected
    verified.timestamp, verified.signature, verified.body

Further checks on verified requests (replay protection) belong right after this call, in the HTTP
front (bot/server.py), which turns RequestRejected into its status with one log line.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

# Slack's own rule: a request signed more than five minutes from now is refused.
MAX_SKEW_SECONDS = 5 * 60


class RequestRejected(Exception):
    """A request refused before the app sees it: `status` to answer with, `reason` for the log (no secrets)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class VerifiedRequest:
    timestamp: int
    signature: str
    body: bytes


def verify_request(headers: Mapping[str, str], body: bytes, secret: str, now: float) -> VerifiedRequest:
    """The request's timestamp, signature and body when Slack signed it; RequestRejected(401) otherwise.
    `headers` are looked up by lower-case name (Starlette's Headers, or a dict of lower-case keys)."""
    if not secret:
        raise RequestRejected(401, "no signing secret configured")
    raw_ts = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not raw_ts or not signature:
        raise RequestRejected(401, "missing signature or timestamp header")
    try:
        base = b"v0:" + raw_ts.encode("ascii") + b":" + body
        given = signature.encode("ascii")
    except UnicodeEncodeError:
        raise RequestRejected(401, "signature or timestamp header is not ASCII") from None
    expected = b"v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest().encode("ascii")
    if not hmac.compare_digest(expected, given):
        raise RequestRejected(401, "bad signature")
    # signed by someone holding the secret: now the timestamp may be read
    if not raw_ts.isdigit() or len(raw_ts) > 12:
        raise RequestRejected(401, "timestamp is not a number")
    timestamp = int(raw_ts)
    if abs(now - timestamp) > MAX_SKEW_SECONDS:
        raise RequestRejected(401, f"timestamp {abs(now - timestamp):.0f} s away from now")
    return VerifiedRequest(timestamp, signature, body)
