"""Getting a reply to a person after the ack: response_url first, chat.postEphemeral when that fails.

Every failure is logged with the request id; none is raised, since the ack has long gone and
nobody up the stack could tell the person anything better.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from bot.logsafe import safe_logger

log = safe_logger("bot.delivery")

# Slack's own hosts for response_url; any other host is only accepted when it is the Web API's
# (the local emulator), so a forged payload cannot make the bot POST answers somewhere else.
_SLACK_HOSTS = ("slack.com", "slack-gov.com")


# Web API methods that have the same effect however often they are called: after a dropped connection
# they can be sent again. A post (chat.postMessage, a response_url, an upload) cannot: the first may
# have landed, and a retry would show the message twice.
IDEMPOTENT_METHODS = frozenset({
    "auth.test", "users.info", "users.list", "users.lookupByEmail", "team.info", "bots.info",
    "conversations.list", "conversations.info", "conversations.history", "conversations.replies",
    "conversations.members", "chat.getPermalink", "files.info", "views.publish", "chat.update", "chat.delete",
})


class IdempotentConnectionErrorRetryHandler(ConnectionErrorRetryHandler):
    """slack_sdk's default retry after a connection error, for idempotent methods only."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        method = urlsplit(request.url).path.rstrip("/").rsplit("/", 1)[-1]
        return method in IDEMPOTENT_METHODS and super()._can_retry(state=state, request=request, response=response,
                                                                   error=error)


def retry_handlers(rate_limit_retries: int = 2) -> list:
    """What every kpibot WebClient retries. Passing retry_handlers replaces slack_sdk's default
    (a connection-error retry), so it is kept here, limited to idempotent calls. A 429 says when to
    come back; two retries ride out a burst without holding a worker for long."""
    return [IdempotentConnectionErrorRetryHandler(), RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries)]


def response_url_ok(url: str | None, client: WebClient | None) -> bool:
    if not url:
        return False
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and any(host == h or host.endswith("." + h) for h in _SLACK_HOSTS):
        return True
    api = urlsplit(client.base_url) if client is not None else None
    return bool(api and api.hostname == host and api.port == parts.port and api.scheme == parts.scheme)


def post_response(url: str | None, payload: dict[str, Any], client: WebClient | None, request_id: str) -> bool:
    """POST to a response_url; False (logged) when it is missing, foreign or fails."""
    if not response_url_ok(url, client):
        log.warning("request %s: no usable response_url", request_id)
        return False
    try:
        hook = WebhookClient(url, timeout=10, retry_handlers=retry_handlers(),
                             logger=safe_logger("bot.delivery.webhook"))
        resp = hook.send_dict(payload)
    except (SlackClientError, OSError) as exc:
        log.warning("request %s: response_url failed: %s", request_id, type(exc).__name__)
        return False
    if resp.status_code != 200:
        log.warning("request %s: response_url answered %s %s", request_id, resp.status_code, resp.body[:100])
        return False
    return True


def post_ephemeral(client: WebClient | None, channel: str | None, user: str | None, payload: dict[str, Any],
                   request_id: str) -> bool:
    if client is None or not channel or not user:
        return False
    try:
        client.chat_postEphemeral(channel=channel, user=user, text=payload.get("text") or " ",
                                  blocks=payload.get("blocks"))
        return True
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.error("request %s: chat.postEphemeral failed too: %s", request_id, _describe(exc))
        return False


def reply_privately(client: WebClient | None, response_url: str | None, channel: str | None, user: str | None,
                    payload: dict[str, Any], request_id: str) -> bool:
    """The person sees `payload` by one way or the other; False when neither worked (already logged)."""
    if post_response(response_url, payload, client, request_id):
        return True
    ok = post_ephemeral(client, channel, user, payload, request_id)
    if ok:
        log.info("request %s: answered by chat.postEphemeral after the response_url failed", request_id)
    return ok


def _describe(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return f"{exc.response.status_code} {exc.response.get('error')}"
    return type(exc).__name__
