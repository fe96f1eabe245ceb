"""The production HTTP front: Starlette under uvicorn, `POST /slack/events` into bolt, and the
operator's `GET /healthz`, `/readyz`, `/metrics` (bot/ops_routes.py), behind an access log.

Each request to /slack/events is read with a size limit enforced while reading (413) and its
signature checked (401, bot/signature.py) before anything parses it. bolt's Starlette adapter calls
the sync App inline, which would stall the event loop for every request; here dispatch runs in the
thread pool, where listeners only acknowledge and queue the work (bot/admit.py, bot/workers.py).
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
from bot.signature import RequestRejected, verify_request
from kpi_engine.engine import KpiEngine
from telemetry.http import AccessLog

log = safe_logger("bot.server")

# Slack's payloads are a few kB; a much bigger body is not from Slack and is not worth reading.
MAX_BODY = 1024 * 1024


class _TooLarge(Exception):
    pass


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The body, read as it arrives and given up on as soon as it passes `limit` (raises _TooLarge).
    A declared Content-Length over the limit is refused before reading anything; a chunked upload
    (no Content-Length) is counted chunk by chunk, so memory never holds more than the limit."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise _TooLarge
    body = bytearray()
    async for chunk in request.stream():
        if len(body) + len(chunk) > limit:
            raise _TooLarge
        body += chunk
    return bytes(body)


def _refused(request: Request, status: int, reason: str) -> Response:
    # the access log's one line for this request carries the reason (telemetry/http.py): no second
    # line, no traceback, whatever the sender tried
    request.state.log_note = f"refused: {reason}"
    headers = {"connection": "close"} if status == 413 else None  # do not wait for the rest of the upload
    text = "request too large" if status == 413 else "invalid request"
    return Response(text, status_code=status, headers=headers)


def make_asgi(app: App, engine: KpiEngine | None = None, *, events_route: bool = True,
              signing_secret: str | None = None) -> Starlette:
    """The ASGI app. Socket Mode passes events_route=False: its App skips signature checks, so it must
    not be reachable over HTTP at all. Over HTTP every request's signature is checked here
    (bot/signature.py), before bolt or anything else parses it."""
    if events_route and not signing_secret:
        raise ValueError("SLACK_SIGNING_SECRET is needed to serve Slack over HTTP")

    async def events(request: Request) -> Response:
        try:
            raw = await read_body(request)
        except _TooLarge:
            return _refused(request, 413, f"body over {MAX_BODY} bytes")
        try:
            verified = verify_request(request.headers, raw, signing_secret or "", time.time())
        except RequestRejected as rejected:
            return _refused(request, rejected.status, rejected.reason)
        try:
            # Undecodable bytes become U+FFFD; a signed body bolt cannot parse is a bad request, not a 500.
            bolt_request = BoltRequest(body=verified.body.decode("utf-8", errors="replace"),
                                       query=dict(request.query_params), headers=dict(request.headers))
        except Exception as exc:
            return _refused(request, 400, f"signed body could not be parsed ({type(exc).__name__})")
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


def serve(app: App, host: str, port: int, signing_secret: str, engine: KpiEngine | None = None) -> None:
    """Serve in the foreground until interrupted."""
    uvicorn.run(make_asgi(app, engine, signing_secret=signing_secret), host=host, port=port, log_level="info", proxy_headers=True,
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

