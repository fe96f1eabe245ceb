"""The production HTTP front: Starlette under uvicorn, `POST /slack/events` into bolt, and the
operator's `GET /healthz`, `/readyz`, `/metrics` (bot/ops_routes.py), behind an access log.

bolt's Starlette adapter calls the sync App inline, which would stall the event loop for every
request; here dispatch runs in the thread pool, and bolt acks as soon as the ack function returns
(process_before_response=False), with the answer made by a lazy listener after the HTTP response.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from dataclasses import dataclass

import uvicorn
from slack_bolt import App, BoltRequest
from slack_bolt.adapter.starlette.handler import to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.logsafe import safe_logger
from bot.ops_routes import ops_routes
from kpi_engine.engine import KpiEngine
from telemetry.http import AccessLog

log = safe_logger("bot.server")

# Slack's payloads are a few kB; a much bigger body is not from Slack and is not worth reading.
MAX_BODY = 1024 * 1024


def make_asgi(app: App, engine: KpiEngine | None = None, *, events_route: bool = True) -> Starlette:
    """The ASGI app. Socket Mode passes events_route=False: its App skips signature checks, so it must
    not be reachable over HTTP at all."""
    async def events(request: Request) -> Response:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_BODY:
            return Response("request too large", status_code=413)
        body = await request.body()
        if len(body) > MAX_BODY:
            return Response("request too large", status_code=413)
        # Undecodable bytes become U+FFFD, so the signature check fails (401) instead of the server (500).
        bolt_request = BoltRequest(body=body.decode("utf-8", errors="replace"),
                                   query=dict(request.query_params), headers=dict(request.headers))
        try:
            bolt_response = await run_in_threadpool(app.dispatch, bolt_request)
        except Exception:
            rid = uuid.uuid4().hex[:12]
            log.exception("request %s: dispatch failed", rid)
            return JSONResponse({"response_type": "ephemeral",
                                 "text": f"Sorry, something went wrong (request `{rid}`)."}, status_code=200)
        return to_starlette_response(bolt_response)

    routes, readiness = ops_routes(engine, app.client)  # /healthz, /readyz, /metrics
    if events_route:
        routes.append(Route("/slack/events", events, methods=["POST"]))
    asgi = Starlette(routes=routes, middleware=[Middleware(AccessLog, routes=tuple(r.path for r in routes))])
    asgi.state.readiness = readiness
    return asgi


def serve(app: App, host: str, port: int, engine: KpiEngine | None = None) -> None:
    """Serve in the foreground until interrupted."""
    uvicorn.run(make_asgi(app, engine), host=host, port=port, log_level="info", proxy_headers=True,
                server_header=False)


@dataclass
class HttpServer:
    """uvicorn in a background thread on a socket bound up front (so port 0 gives a known free port)."""

    server: uvicorn.Server
    thread: threading.Thread
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=timeout)


def start_http(asgi, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "warning") -> HttpServer:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return serve_on(asgi, sock, log_level=log_level)


def serve_on(asgi, sock: socket.socket, *, log_level: str = "warning", lifespan: str = "off",
             name: str = "http", grace: float = 3) -> HttpServer:
    """uvicorn on an already bound, listening socket, in a daemon thread; returns once it accepts."""
    host, bound_port = sock.getsockname()[:2]
    config = uvicorn.Config(asgi, log_level=log_level, lifespan=lifespan, access_log=False, server_header=False,
                            timeout_graceful_shutdown=grace)
    server = uvicorn.Server(config)  # off the main thread uvicorn leaves signal handling alone
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"kpibot-{name}-{bound_port}",
                              daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    if not server.started:
        server.should_exit = True
        raise RuntimeError(f"the {name} server on {host}:{bound_port} did not start")
    return HttpServer(server, thread, host, bound_port)

