"""Sending requests to a Slack app the way Slack does: signed, to a local address only."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit


def sign_request(signing_secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The two headers Slack adds to every request, as `SignatureVerifier` recomputes them."""
    ts = str(int(time.time()) if timestamp is None else int(timestamp))
    base = b"v0:" + ts.encode("ascii") + b":" + body
    digest = hmac.new(signing_secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def ensure_loopback(host: str) -> None:
    """The emulator and its helpers hold fake-but-plausible workspace data and take no credentials
    seriously, so they must never be reachable from, or talk to, anything but this machine."""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise ValueError(f"only loopback addresses are allowed, got {host!r}")


def post_to_app(
    app_url: str,
    signing_secret: str,
    body: bytes | str,
    content_type: str | None = None,
    *,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, dict[str, str], bytes]:
    """POST a signed Slack request (slash command, interaction, event) to a locally running app.

    `content_type` defaults from the body: JSON for event callbacks, form for the others.
    Returns (status, headers, body) for any HTTP status, so tests can assert on 401s too.
    """
    ensure_loopback(urlsplit(app_url).hostname or "")
    data = body.encode("utf-8") if isinstance(body, str) else body
    if content_type is None:
        content_type = (
            "application/json" if data.lstrip()[:1] == b"{" else "application/x-www-form-urlencoded"
        )
    request_headers = {
        "Content-Type": content_type,
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }
    request_headers.update(sign_request(signing_secret, data, timestamp))
    request_headers.update(headers or {})
    request = urllib.request.Request(app_url, data=data, headers=request_headers, method="POST")
    # An empty ProxyHandler: a proxy from the environment must not see (or break) loopback traffic.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers.items()), error.read()
