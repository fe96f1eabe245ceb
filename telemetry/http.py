"""An ASGI middleware: the HTTP access log and request-latency histogram of the bot's server.

One log line per request on logger `kpibot.access` (INFO; DEBUG for /healthz, /readyz and /metrics,
which a load balancer and Prometheus call every few seconds), with method, path, status,
latency_ms, client and request_id as fields. The request id is also handed to the app in the
`x-kpibot-request-id` header, so the bot's own log lines about the request carry the same id, and
its arrival time in `x-kpibot-received`, so the ack latency can be measured from there.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from telemetry.metrics import HTTP_SECONDS

log = logging.getLogger("kpibot.access")

REQUEST_ID_HEADER = b"x-kpibot-request-id"
RECEIVED_HEADER = b"x-kpibot-received"  # time.perf_counter() at arrival, for latencies measured further in
_QUIET = ("/healthz", "/readyz", "/metrics")


class AccessLog:
    def __init__(self, app: Any, routes: tuple[str, ...] = ()):
        self.app = app
        self.routes = set(routes)  # latency is labelled by these paths; anything else is "other"
        # this log replaces uvicorn's own (which would log each request a second time, without the fields)
        logging.getLogger("uvicorn.access").disabled = True

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = uuid.uuid4().hex[:12]
        scope = dict(scope)
        scope["headers"] = [*(h for h in scope.get("headers", []) if h[0] not in (REQUEST_ID_HEADER, RECEIVED_HEADER)),
                            (REQUEST_ID_HEADER, rid.encode()), (RECEIVED_HEADER, repr(started).encode())]
        status = {"code": 500}

        async def send_wrapper(message: dict) -> None:
            if message.get("type") == "http.response.start":
                status["code"] = message.get("status", 500)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            path = scope.get("path", "")
            method = scope.get("method", "")
            route = path if path in self.routes else "other"
            HTTP_SECONDS.labels(method, route, str(status["code"])).observe(elapsed)
            client = scope.get("client")
            level = logging.DEBUG if path in _QUIET and status["code"] < 400 else logging.INFO
            # the app may leave a short note for this line (why a request was refused) in request.state
            note = (scope.get("state") or {}).get("log_note")
            if log.isEnabledFor(level):
                log.log(level, "%s %s %s %.1f ms%s", method, path, status["code"], elapsed * 1000,
                        f" ({note})" if note else "", extra={
                    "request_id": rid, "method": method, "path": path, "status": status["code"],
                    "latency_ms": round(elapsed * 1000, 1), "client": client[0] if client else None})
