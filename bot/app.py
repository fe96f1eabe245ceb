"""The Slack app: a bolt App with the /kpi command, the share and did-you-mean buttons and the Home tab.

    app = build_app(engine, config, settings)                 # production: token and secret from settings
    app = build_app(engine, config, settings, client=client, clock=lambda: fixed_now)   # tests

The app only wires things: answers are made in bot.answers, delivered by bot.flows.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot import i18n
from bot.access import allowed_teams
from bot.delivery import retry_handlers
from bot.deps import SPARK_PERIODS, BotDeps
from bot.instrument import instrument
from bot.lang import LanguageResolver
from bot.listeners import register_listeners
from bot.logsafe import register_secret, safe_logger
from bot.replay import replay_guard
from bot.workers import Workers
from config.app_config import AppConfig
from config.settings import Settings
from kpi_engine import periods
from kpi_engine.engine import KpiEngine
from telemetry import metrics

log = safe_logger("bot.app")


def make_client(settings: Settings) -> WebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    register_secret(token)
    return WebClient(token=token, base_url=settings.slack_api_base_url, timeout=10,
                     retry_handlers=retry_handlers(), logger=safe_logger("bot.slack_api"))


def build_app(
    engine: KpiEngine,
    config: AppConfig,
    settings: Settings,
    *,
    client: WebClient | None = None,
    clock: Callable[[], datetime] | None = None,
    socket_mode: bool = False,
    trend_periods: int = SPARK_PERIODS,
    workers: Workers | None = None,
) -> App:
    """A bolt App answering /kpi. `clock` returns "now" (aware); only this edge reads it.
    `trend_periods` is the sparkline's length (0: none, one query per period fewer per answer).
    `workers` run what follows an ack (made from config [bot] when not given; the service passes its
    own so it can drain them on stop)."""
    client = client or make_client(settings)
    # slack_sdk's default handler retries any call after a connection error, posts included (a post
    # could then land twice): ours retries the idempotent calls only, beside the 429 retry
    kept = [h for h in (client.retry_handlers or []) if type(h) not in (ConnectionErrorRetryHandler,
                                                                           RateLimitErrorRetryHandler)]
    client.retry_handlers = [*kept, *retry_handlers()]
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    register_secret(secret)
    if not secret and not socket_mode:
        raise ValueError("SLACK_SIGNING_SECRET is needed to serve Slack over HTTP")
    app = App(
        client=client,
        signing_secret=secret or "",
        # Over HTTP the front (bot/server.py, bot/signature.py) checks every request's signature before
        # bolt sees it, in one place; a Socket Mode connection is authenticated itself.
        request_verification_enabled=False,
        # Listeners run on the request's thread and only queue work (bot/admit.py), so the ack never
        # waits for a thread that answers hold; bolt's lazy listeners and their executor are not used.
        process_before_response=True,
        logger=safe_logger("bot.bolt"),
    )
    deps = BotDeps(
        engine=engine,
        config=config,
        client=client,
        clock=clock or (lambda: periods.now(config.tz)),
        langs=LanguageResolver(config, client),
        spark_periods=trend_periods,
        workers=workers or Workers.from_config(config.bot),
    )
    app.middleware(replay_guard(deps))  # first after bolt's signature check: a repeat does nothing
    app.middleware(instrument)  # counts and ack times; takes the access log's request id
    app.middleware(_request_id)
    app.middleware(_workspace_guard(deps))
    register_listeners(app, deps)
    app.error(_on_error)
    return app


def _request_id(context: BoltContext, body: dict, next: Callable[[], Any]) -> Any:
    # Slack sends no request id of its own; this one is in every log line and error message about the request.
    if not context.get("request_id"):
        context["request_id"] = uuid.uuid4().hex[:12]
    return next()


def _workspace_guard(deps: BotDeps):
    def guard(context: BoltContext, body: dict, next: Callable[[], Any]) -> Any:
        own = context.authorize_result.team_id if context.authorize_result else None
        allowed = allowed_teams(deps.config.access, own)
        teams = {t for t in _request_teams(body) if t} or ({context.team_id} if context.team_id else set())
        if teams and teams <= allowed:
            return next()
        log.warning("request %s: refused a request from workspace %s", context.get("request_id"),
                    ",".join(sorted(teams)) or "(none)")
        if body.get("command"):
            lang = deps.config.language
            text = i18n.t("other_workspace", lang)
            return BoltResponse(status=200, body=json.dumps({"response_type": "ephemeral", "text": text}),
                                headers={"content-type": "application/json"})
        return BoltResponse(status=200, body="")

    return guard


def _request_teams(body: dict) -> list[str | None]:
    """Every workspace a request says it comes from: the top-level team (commands, events), the
    interaction's team, and the person's own (a Slack Connect user belongs to another workspace)."""
    team = body.get("team")
    user = body.get("user")
    event = body.get("event")
    return [
        body.get("team_id") if isinstance(body.get("team_id"), str) else None,
        team.get("id") if isinstance(team, dict) else (team if isinstance(team, str) else None),
        user.get("team_id") if isinstance(user, dict) else None,
        event.get("user_team") if isinstance(event, dict) and isinstance(event.get("user_team"), str) else None,
    ]


def _on_error(error: Exception, body: dict, context: BoltContext) -> None:
    metrics.FAILURES.labels("listener").inc()
    log.error("request %s: unhandled %s in a listener", context.get("request_id"), type(error).__name__,
              exc_info=error)
