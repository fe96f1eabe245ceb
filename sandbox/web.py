"""The sandbox page: a Starlette app over a `Sandbox`, with live updates as Server-Sent Events.

Served on loopback only. Because any web page the person visits could try to talk to
127.0.0.1, state-changing calls must be JSON from the page's own origin (a cross-site form post
cannot be JSON without a CORS preflight, which this app never grants) and the Host header must be
a loopback name (against DNS rebinding).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from . import fonts
from .workspace import Sandbox, SandboxError

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]", "::1"]
# Which emulator changes the page must redraw for; API calls without a visible effect are not among them.
VISIBLE_EVENTS = frozenset({
    "message", "message_changed", "message_deleted", "ephemeral", "view_published", "file_shared",
    "reset", "channel_added", "user_added",
})
HEARTBEAT_SECONDS = 15.0
# Inline style attributes carry only validated values (a hue number, a hex colour); scripts come
# from this origin only, so even a rendering bug cannot run injected code.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'none'"
)


class Broadcaster:
    """Fans emulator events (arriving on the emulator's HTTP threads) out to every open event stream."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queues: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._lock = threading.Lock()
        self.closed = False

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def publish(self, event: dict[str, Any]) -> None:
        if event.get("type") not in VISIBLE_EVENTS:
            return
        self._call_in_loop(self._fan_out, {k: event.get(k) for k in ("type", "seq", "channel", "user")})

    def close(self) -> None:
        """Ends every stream, so the server can shut down without waiting for browsers to leave."""
        self.closed = True
        self._call_in_loop(self._fan_out, None)

    def _call_in_loop(self, fn: Callable[[Any], None], arg: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(fn, arg)
        except RuntimeError:
            pass  # the loop closed between the check and the call: nobody is listening any more

    def _fan_out(self, event: dict[str, Any] | None) -> None:
        for queue in list(self._queues):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                pass  # a stalled browser: the next event it does get triggers a full redraw anyway

    async def stream(self) -> AsyncIterator[str]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=256)
        self._queues.add(queue)
        try:
            yield "retry: 1000\n\n"
            yield 'event: hello\ndata: {}\n\n'
            while not self.closed:
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if event is None:
                    return
                yield f"data: {json.dumps(event)}\n\n"
        finally:
            self._queues.discard(queue)


class _SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                # fonts (10 MB of emoji) are cached by the browser; everything else is always fresh
                if not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(sandbox: Sandbox, broadcaster: Broadcaster | None = None) -> Starlette:
    """The page and its JSON API over one sandbox."""
    events = broadcaster or Broadcaster()

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        events.attach(asyncio.get_running_loop())
        sandbox.emulator.subscribe(events.publish)
        try:
            yield
        finally:
            sandbox.emulator.unsubscribe(events.publish)
            events.close()

    async def index(_request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"ok": True, "mode": "sandbox"})

    async def view(request: Request) -> Response:
        q = request.query_params
        user, channel = q.get("user") or "", q.get("channel") or ""
        if not user or not channel:
            return _error("user and channel are required")
        return await _guard(lambda: sandbox.view(user, channel, q.get("thread") or None))

    async def event_stream(_request: Request) -> Response:
        return StreamingResponse(
            events.stream(),
            media_type="text/event-stream",
            headers={"X-Accel-Buffering": "no"},
        )

    async def serve_file(request: Request) -> Response:
        found = await run_in_threadpool(sandbox.file, request.path_params["file_id"])
        if found is None:
            return Response("file not found", status_code=404, media_type="text/plain")
        content, mimetype = found
        # Only images are shown inline; anything else is a download, so an uploaded HTML file is inert.
        disposition = "inline" if mimetype.startswith("image/") and mimetype != "image/svg+xml" else "attachment"
        return Response(content, media_type=mimetype, headers={"Content-Disposition": disposition})

    async def fonts_css(_request: Request) -> Response:
        return Response(fonts.fonts_css(), media_type="text/css; charset=utf-8")

    def font(find: Callable[[], Path | None]) -> Callable[[Request], Awaitable[Response]]:
        async def serve(_request: Request) -> Response:
            path = find()
            if path is None:
                return Response("font not installed", status_code=404, media_type="text/plain")
            return FileResponse(path, media_type="font/ttf", headers={"Cache-Control": "max-age=86400"})

        return serve

    def post(handler: Callable[[dict[str, Any]], Any]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            refused = _refuse_cross_site(request)
            if refused is not None:
                return refused
            try:
                body = await request.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                return _error("the body must be JSON")
            if not isinstance(body, dict):
                return _error("the body must be a JSON object")
            return await _guard(lambda: handler(body))

        return endpoint

    def _field(body: dict[str, Any], name: str, required: bool = True) -> str:
        value = body.get(name)
        if value is None or value == "":
            if required:
                raise SandboxError(f"{name} is required")
            return ""
        if not isinstance(value, str):
            raise SandboxError(f"{name} must be a string")
        return value

    def command(body: dict[str, Any]) -> Any:
        return sandbox.command(_field(body, "user"), _field(body, "channel"), _field(body, "text"))

    def message(body: dict[str, Any]) -> Any:
        return sandbox.post_message(
            _field(body, "user"), _field(body, "channel"), _field(body, "text"),
            _field(body, "thread_ts", required=False) or None,
        )

    def action(body: dict[str, Any]) -> Any:
        return sandbox.action(
            _field(body, "user"), _field(body, "channel"), _field(body, "ts", required=False),
            _field(body, "action_id"),
            _field(body, "value", required=False), _field(body, "block_id", required=False) or None,
        )

    def home(body: dict[str, Any]) -> Any:
        return sandbox.open_home(_field(body, "user"))

    def job(which: str) -> Callable[[dict[str, Any]], Any]:
        return lambda body: sandbox.run_job(which, _field(body, "as_of", required=False) or None)

    routes = [
        Route("/", index),
        Route("/healthz", healthz),
        Route("/api/view", view),
        Route("/api/events", event_stream),
        Route("/api/command", post(command), methods=["POST"]),
        Route("/api/message", post(message), methods=["POST"]),
        Route("/api/action", post(action), methods=["POST"]),
        Route("/api/home", post(home), methods=["POST"]),
        Route("/api/digest", post(job("digest")), methods=["POST"]),
        Route("/api/alerts", post(job("alerts")), methods=["POST"]),
        Route("/files/{file_id}/{name:path}", serve_file),
        Route("/fonts.css", fonts_css),
        Route("/fonts/thai.ttf", font(fonts.thai_font)),
        Route("/fonts/emoji.ttf", font(fonts.emoji_font)),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [
        Middleware(TrustedHostMiddleware, allowed_hosts=LOOPBACK_HOSTS),
        Middleware(_SecurityHeaders),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


async def _guard(work: Callable[[], Any]) -> Response:
    """Runs blocking sandbox work off the event loop; a person's mistake is a 400 with its message."""
    try:
        result = await run_in_threadpool(work)
    except SandboxError as exc:
        return _error(str(exc))
    except Exception as exc:
        log.exception("sandbox request failed")
        return _error(f"{type(exc).__name__}: {exc}", status=500)
    if hasattr(result, "to_json"):
        result = result.to_json()
    return JSONResponse(result if isinstance(result, dict) else {"ok": True, "result": result})


def _error(message: str, status: int = 400) -> Response:
    return JSONResponse({"ok": False, "error": message}, status_code=status)


def _refuse_cross_site(request: Request) -> Response | None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return _error("send JSON (Content-Type: application/json)", status=415)
    origin = request.headers.get("origin")
    if origin and origin != f"{request.url.scheme}://{request.headers.get('host', '')}":
        return _error("cross-site requests are refused", status=403)
    return None
