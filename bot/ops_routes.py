"""The operator's HTTP routes beside /slack/events: /healthz, /readyz and /metrics.

- `/healthz`: the process is alive and serving HTTP (always 200 while it runs): for a liveness probe.
- `/readyz`: ready for traffic: the store answers, its schema is this kpibot's, Slack accepted the
  token (auth.test, checked once; a failure is checked again at most every 30 s), and the process is
  not shutting down. 503 with the reasons otherwise: a load balancer routes by it.
- `/metrics`: Prometheus text format (telemetry.metrics): the process's counters and histograms and
  the store's state read at scrape time.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.logsafe import safe_logger
from kpi_engine import status
from telemetry import metrics

log = safe_logger("bot.ops_routes")

AUTH_RETRY_SECONDS = 30.0


class SlackAuthCheck:
    """auth.test once: a success is kept for the process's life, a failure is retried now and then."""

    def __init__(self, client: Any):
        self.client = client
        self._lock = threading.Lock()
        self._ok = False
        self._detail = "not checked yet"
        self._checked_at = 0.0

    def __call__(self) -> tuple[bool, str]:
        if self.client is None:
            return True, "no client (sandbox)"
        with self._lock:
            if self._ok or time.monotonic() - self._checked_at < AUTH_RETRY_SECONDS and self._checked_at:
                return self._ok, self._detail
            self._checked_at = time.monotonic()
            try:
                r = self.client.auth_test()
                self._ok = bool(r.get("ok"))
                self._detail = f"ok (team {r.get('team_id') or '?'})" if self._ok else str(r.get("error"))
            except Exception as exc:  # token revoked, Slack unreachable: not ready, say why
                err = getattr(getattr(exc, "response", None), "get", lambda _k: None)("error")
                self._ok, self._detail = False, f"auth.test failed: {err or type(exc).__name__}"
                log.warning("readyz: Slack %s", self._detail)
            return self._ok, self._detail


class Readiness:
    """What /readyz reports; `draining` is set when the service starts shutting down."""

    def __init__(self, engine: Any, client: Any):
        self.engine = engine
        self.slack = SlackAuthCheck(client)
        self.draining = False

    def check(self) -> tuple[bool, dict[str, Any]]:
        ok, parts = status.readiness(self.engine.store)
        slack_ok, slack = self.slack()
        out: dict[str, Any] = {**parts, "slack": slack}
        if self.draining:
            out["stopping"] = True
        ready = ok and slack_ok and not self.draining
        return ready, {"ready": ready, **out}


def ops_routes(engine: Any, client: Any) -> tuple[list[Route], Readiness]:
    readiness = Readiness(engine, client) if engine is not None else None
    registry = metrics.service_registry(lambda: status.snapshot(engine.store)) if engine is not None else None

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def readyz(request: Request) -> Response:
        if readiness is None:
            return JSONResponse({"ready": True, "store": "not checked"})
        ready, body = await run_in_threadpool(readiness.check)
        return JSONResponse(body, status_code=200 if ready else 503)

    async def metrics_route(request: Request) -> Response:
        body, ctype = await run_in_threadpool(metrics.render, registry)
        return Response(body, media_type=ctype)

    routes = [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"]),
              Route("/metrics", metrics_route, methods=["GET"])]
    return routes, readiness  # type: ignore[return-value]
