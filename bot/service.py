"""The bot as a service, for `kpibot run`: HTTP (signed requests on PORT) or Socket Mode.

    handle = start_bot(settings, config, engine)
    print(handle.url, handle.mode)
    ...
    handle.stop()
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.app import build_app
from bot.deps import SPARK_PERIODS
from bot.logsafe import protect_handlers, register_secret, safe_logger
from bot.server import HttpServer, make_asgi, start_http
from bot.workers import Workers
from config.app_config import AppConfig
from config.settings import Settings
from kpi_engine.engine import KpiEngine
from telemetry import metrics

log = safe_logger("bot.service")


# How long a stopping bot lets the answers it already acknowledged finish (SIGTERM, a deploy).
DRAIN_SECONDS = 20.0


@dataclass
class BotHandle:
    url: str  # where /healthz (and in HTTP mode /slack/events) answers
    mode: str  # "http" | "socket"
    http: HttpServer
    _socket: object | None = None
    _stopped: bool = field(default=False)
    app: App | None = None
    readiness: Any = None  # bot.ops_routes.Readiness: /readyz turns 503 as soon as stopping starts
    drain_seconds: float = DRAIN_SECONDS
    workers: Workers | None = None  # the answer pool (bot/workers.py) the listeners queue work on
    _undo: list[Callable[[], None]] = field(default_factory=list)

    @property
    def events_url(self) -> str | None:
        return f"{self.url}/slack/events" if self.mode == "http" else None

    def stop(self) -> None:
        """Stop taking requests, let the answers in flight finish (at most drain_seconds), then stop."""
        if self._stopped:
            return
        self._stopped = True
        if self.readiness is not None:
            self.readiness.draining = True
        if self._socket is not None:
            try:
                self._socket.close()  # type: ignore[attr-defined]
            except Exception:
                log.exception("closing the Socket Mode connection failed")
        self.http.stop()
        self.drain()
        for undo in self._undo:
            undo()

    def drain(self) -> bool:
        """Wait for acknowledged work (answers, button clicks) to finish; False if time ran out."""
        if self.workers is None:
            return True
        return self.workers.shutdown(self.drain_seconds)

    def wait(self) -> None:
        """Block until the HTTP server ends (Ctrl-C in `kpibot run`)."""
        self.http.thread.join()


def start_bot(
    settings: Settings,
    config: AppConfig,
    engine: KpiEngine,
    *,
    clock: Callable[[], datetime] | None = None,
    client: WebClient | None = None,
    host: str = "0.0.0.0",
    port: int | None = None,
    trend_periods: int = SPARK_PERIODS,
) -> BotHandle:
    """Start serving Slack in background threads and return at once.

    Socket Mode when SLACK_APP_TOKEN is set (then HTTP serves /healthz only), else HTTP at
    /slack/events. Needs SLACK_BOT_TOKEN, and SLACK_SIGNING_SECRET for HTTP. Logs no secret.
    """
    for secret in (settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token):
        register_secret(secret.get_secret_value() if secret else None)
    protect_handlers()
    socket_mode = settings.slack_app_token is not None
    if not settings.slack_bot_token and client is None:
        raise ValueError("SLACK_BOT_TOKEN is needed to serve Slack")
    workers = Workers.from_config(config.bot)
    try:
        app = build_app(engine, config, settings, client=client, clock=clock, socket_mode=socket_mode,
                        trend_periods=trend_periods, workers=workers)
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
        asgi = make_asgi(app, engine, events_route=not socket_mode, signing_secret=secret)
        http = start_http(asgi, host, settings.port if port is None else port, log_level="info")
    except BaseException:
        workers.shutdown(0)
        raise
    handle = BotHandle(http.url, "socket" if socket_mode else "http", http, app=app,
                       readiness=asgi.state.readiness, workers=workers)
    # kpibot_answer_queue_depth: the answers waiting for a worker
    handle._undo.append(metrics.watch_queue(handle, workers.depth))
    if socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        app_token = settings.slack_app_token.get_secret_value()  # type: ignore[union-attr]
        handler = SocketModeHandler(app, app_token, logger=safe_logger("bot.socket_mode"))
        try:
            handler.connect()
        except Exception:
            http.stop()
            raise
        handle._socket = handler
        log.info("Slack bot connected over Socket Mode; health at %s/healthz", http.url)
    else:
        log.info("Slack bot serving %s/slack/events (health at %s/healthz)", http.url, http.url)
    return handle
