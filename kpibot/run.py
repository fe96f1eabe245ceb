"""`kpibot run`: the service. With Slack credentials it serves Slack; without them it starts the sandbox.

    run_service(settings, config)                 # blocks until Ctrl-C
    handle = start_service(settings, config, port=0, clock=lambda: fixed_now)   # tests
    handle.url; handle.stop()

Sandbox mode wires the real parts together against the Slack emulator: the bolt app on an internal
loopback port (signed requests, a generated secret), the scheduler with a client on the emulator,
and the page on PORT. Nothing in sandbox mode listens beyond 127.0.0.1 or talks to Slack.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import signal
import socket
import sys
import threading
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import SecretStr

from config.app_config import AppConfig
from config.settings import Settings
from kpi_engine import periods
from kpi_engine.db import StoreError, open_store, require_writable
from kpi_engine.engine import KpiEngine
from kpibot.termsafe import clean

log = logging.getLogger(__name__)

DEMO_SEED = 7
# A stop (SIGTERM, Ctrl-C) lets answers finish for up to bot.service.DRAIN_SECONDS (20 s); after this
# the process exits whatever is left (container runtimes allow 30 s before SIGKILL by default).
STOP_DEADLINE = 28.0
DEMO_SCALE = "small"
Clock = Callable[[], datetime]
Printer = Callable[[str], None]


class ServiceError(RuntimeError):
    """The service cannot start as asked; the message is one line for people (exit code 2)."""


@dataclass
class ServiceHandle:
    """A running service. `url` is the sandbox page, or with Slack the bot's base URL."""

    url: str
    mode: str  # "sandbox" | "http" | "socket"
    engine: KpiEngine
    emulator: Any = None  # slack_emulator.SlackEmulator in sandbox mode
    sandbox: Any = None  # sandbox.Sandbox in sandbox mode
    bot: Any = None  # bot.service.BotHandle
    scheduler: Any = None
    bot_events_url: str | None = None
    signing_secret: str | None = field(default=None, repr=False)
    _stops: list[tuple[str, Callable[[], None]]] = field(default_factory=list, repr=False)
    _stopped: threading.Event = field(default_factory=threading.Event, repr=False)

    def stop(self) -> None:
        """Stops every part, newest first; safe to call twice. A part failing to stop does not keep the
        others running."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        while self._stops:
            name, stop = self._stops.pop()
            try:
                stop()
            except Exception:
                log.exception("stopping the %s failed", name)

    def wait(self) -> None:
        """Blocks until stop() is called (Ctrl-C in run_service)."""
        while not self._stopped.wait(0.5):
            pass

    def __enter__(self) -> ServiceHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def run_service(
    settings: Settings,
    config: AppConfig,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    open_browser: bool = False,
) -> None:
    """`kpibot run`: starts the service and blocks until Ctrl-C or SIGTERM, then stops it cleanly.

    A port in use or an unusable store prints one line on stderr and exits with status 2 (a store that
    is unreachable, read-only or damaged: its own code, README "Exit codes").
    """
    # Before starting: a stop that comes while it starts (a container stopped right after the
    # "open" line) is a clean stop too, never the default action of SIGTERM killing the process.
    restore, signalled = _sigterm_as_interrupt()
    try:
        handle = start_service(settings, config, host=host, port=port, open_browser=open_browser)
    except (ServiceError, StoreError) as exc:
        restore()
        print(clean(f"kpibot: {exc}"), file=sys.stderr, flush=True)
        raise SystemExit(getattr(exc, "exit_code", 2)) from None
    except KeyboardInterrupt:
        # Ctrl-C or a stop while starting (say, during the demo data): what had started is already
        # stopped; a SIGTERM asked for exactly that (exit 0), Ctrl-C is an interruption (130).
        restore()
        raise SystemExit(0 if signalled() == signal.SIGTERM else 130) from None
    try:
        handle.wait()
    except KeyboardInterrupt:
        print("\nkpibot: stopping…", flush=True)
    finally:
        _watchdog(STOP_DEADLINE)
        handle.stop()
        restore()


def start_service(
    settings: Settings,
    config: AppConfig,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    open_browser: bool = False,
    clock: Clock | None = None,
    demo_seed: int = DEMO_SEED,
    demo_scale: float | str = DEMO_SCALE,
    out: Printer | None = None,
) -> ServiceHandle:
    """Starts the service in background threads and returns at once.

    `port` overrides settings.port (0: any free port). `clock` stands for "now" everywhere the
    service reads it (answers, the scheduler, the demo data's anchor), so tests are deterministic.
    Raises ServiceError (port taken, …) or StoreError (corrupt or foreign database) before anything
    is left running.
    """
    say = out or _print
    now = clock or (lambda: periods.now(config.tz))
    chosen_port = settings.port if port is None else port
    if settings.has_slack_credentials:
        return _start_slack(settings, config, host, chosen_port, now, say)
    return _start_sandbox(settings, config, host, chosen_port, now, say, open_browser, demo_seed, demo_scale)


# ---------------------------------------------------------------------- with Slack


def _start_slack(settings: Settings, config: AppConfig, host: str, port: int, clock: Clock, say: Printer
                 ) -> ServiceHandle:
    from bot.app import make_client
    from bot.service import start_bot

    store = open_store(settings.database_url)
    require_writable(store, "run the service (it records deliveries and alert states)")
    engine = KpiEngine(store, config)
    handle = ServiceHandle(url="", mode="http", engine=engine)
    try:
        try:
            bot = start_bot(settings, config, engine, clock=clock, host=host, port=port)
        except OSError as exc:
            raise _port_error(exc, host, port) from None
        handle._stops.append(("bot", bot.stop))
        handle.bot, handle.url, handle.mode = bot, bot.url, bot.mode
        handle.bot_events_url = bot.events_url
        handle.scheduler = _start_scheduler(engine, store, config, make_client(settings), clock, handle)
        where = bot.events_url or f"Socket Mode (health at {bot.url}/healthz)"
        say(f"kpibot: serving Slack at {where}")
    except BaseException:
        handle.stop()
        raise
    return handle


# ---------------------------------------------------------------------- sandbox


def _start_sandbox(
    settings: Settings,
    config: AppConfig,
    host: str,
    port: int,
    clock: Clock,
    say: Printer,
    open_browser: bool,
    demo_seed: int,
    demo_scale: float | str,
) -> ServiceHandle:
    from bot.service import start_bot
    from sandbox import Broadcaster, Sandbox, channels_from_config, create_app
    from sandbox.workspace import roles_from_reps
    from slack_emulator import SlackEmulator

    if not _is_loopback(host):
        raise ServiceError(f"the sandbox only listens on this machine (127.0.0.1), not on {host}")
    # The page's port first: a port in use is reported before minutes of demo data are written.
    page_socket = _bind(host, port)
    handle: ServiceHandle | None = None
    try:
        store = open_store(settings.database_url)
        require_writable(store, "run the service (it records deliveries and alert states)")
        engine = KpiEngine(store, config)
        handle = ServiceHandle(url="", mode="sandbox", engine=engine)
        handle._stops.append(("store", store.dispose))
        if engine.is_empty():
            _fill_with_demo(store, config, clock, say, settings.database_url, demo_seed, demo_scale)

        token = f"xoxb-sandbox-{secrets.token_hex(12)}"
        secret = secrets.token_hex(24)
        emulator = SlackEmulator(host="127.0.0.1", bot_token=token).start()
        handle._stops.append(("Slack emulator", emulator.stop))
        handle.emulator, handle.signing_secret = emulator, secret
        _add_sandbox_people(emulator, engine)

        bot_settings = settings.model_copy(update={
            "slack_bot_token": SecretStr(token),
            "slack_signing_secret": SecretStr(secret),
            "slack_app_token": None,
            "slack_api_base_url": emulator.api_url,
        })
        bot = start_bot(bot_settings, config, engine, clock=clock, host="127.0.0.1", port=0)
        handle._stops.append(("bot", bot.stop))
        handle.bot, handle.bot_events_url = bot, bot.events_url

        from bot.app import make_client

        client = make_client(bot_settings)
        handle.scheduler = _start_scheduler(engine, store, config, client, clock, handle)
        run_digest, run_alerts = _job_runners(engine, store, config, client, handle.scheduler)

        channels = channels_from_config(config)
        sandbox = Sandbox(
            emulator=emulator,
            bot_events_url=bot.events_url,
            signing_secret=secret,
            channels=channels,
            tz=config.tz,
            clock=clock,
            run_digest=run_digest,
            run_alerts=run_alerts,
            people_roles=roles_from_reps(engine.rep_for_slack_user, [u["id"] for u in emulator.users()]),
        )
        handle.sandbox = sandbox
        broadcaster = Broadcaster()
        page = _serve(create_app(sandbox, broadcaster), page_socket, "sandbox page")
        page_socket = None  # owned by the server now
        # Open event streams would hold the server's shutdown until its grace timeout.
        handle._stops.append(("sandbox page", lambda: (broadcaster.close(), page.stop())))
        handle.url = f"http://{_url_host(host)}:{page.port}/"
        # inside: a stop right after this line (the run's signal handler raises) stops what started
        say(f"kpibot sandbox: open {handle.url}  (no Slack credentials: a local workspace on demo data; "
            f"Ctrl-C to stop)")
        if open_browser:
            _open_browser(handle.url)
    except BaseException:
        if page_socket is not None:
            page_socket.close()
        if handle is not None:
            handle.stop()
        raise
    return handle


def _fill_with_demo(store: Any, config: AppConfig, clock: Clock, say: Printer, url: str, seed: int,
                    scale: float | str) -> None:
    from kpi_engine import demo

    where = url.split("@")[-1]  # never print a password from the URL
    say(f"kpibot: the store at {where} is empty: filling it with the demo company (seed {seed}, {scale})…")
    started = time.perf_counter()
    summary = demo.generate(store, seed=seed, scale=scale, anchor=clock().astimezone(config.tz).date(),
                            tz=config.timezone)
    say(f"kpibot: demo company written in {time.perf_counter() - started:.1f} s "
        f"({summary.counts.get('opportunities', 0):,} opportunities, history up to {summary.anchor}).")


def _add_sandbox_people(emulator: Any, engine: KpiEngine) -> None:
    """The emulator knows a rep and the Head of Sales; the demo company also names a manager, so
    the user switcher can show all three levels of access."""
    from sandbox.workspace import SANDBOX_MANAGER

    known = {u["id"] for u in emulator.users()}
    if SANDBOX_MANAGER in known:
        return
    rep = engine.rep_for_slack_user(SANDBOX_MANAGER)
    if rep is None:
        return
    title = f"Sales Manager, {rep.team}" if rep.team else "Sales Manager"
    emulator.add_user(SANDBOX_MANAGER, (rep.name or "Manager").split()[0], tz="Asia/Bangkok", locale="en-US",
                      real_name=rep.name or "Sales Manager", title=title)


# ---------------------------------------------------------------------- scheduler


def _start_scheduler(engine: KpiEngine, store: Any, config: AppConfig, client: Any, clock: Clock,
                     handle: ServiceHandle) -> Any:
    """The scheduler issue's service, when it is installed; the bot works without it."""
    try:
        from schedules.leader import SchedulerConflict
        from schedules.service import start_scheduler
    except ImportError:
        log.warning("schedules.service is not available: digests and alerts will not be scheduled")
        return None
    try:
        scheduler = start_scheduler(engine, store, config, client, clock)
    except SchedulerConflict as exc:
        # A second `kpibot run` on one SQLite file: the scheduler's own message says what to do.
        raise ServiceError(str(exc)) from None
    stop = next((getattr(scheduler, name) for name in ("stop", "shutdown") if hasattr(scheduler, name)), None)
    if stop is not None:
        handle._stops.append(("scheduler", stop))
    return scheduler


def _job_runners(engine: KpiEngine, store: Any, config: AppConfig, client: Any, scheduler: Any
                 ) -> tuple[Callable[[datetime], str] | None, Callable[[datetime], str] | None]:
    """The page's "Send digest now" and "Run alerts now".

    They call what `kpibot digest` and `kpibot alerts` call, which send through the outbox and wait
    for the delivery, so the page can say what happened; the outbox's idempotency keys keep that
    safe next to the scheduler's own sender. Without schedules.cli, the scheduler's run-now hooks.
    """
    try:
        from schedules import cli as jobs
    except ImportError:
        jobs = None
    if jobs is not None:
        def digest(as_of: datetime) -> str:
            return _digest_summary(jobs.digest(engine, store, config, lambda: client, as_of=as_of))

        def alerts(as_of: datetime) -> str:
            return _alerts_summary(jobs.alerts(engine, store, config, lambda: client, as_of=as_of))

        return digest, alerts
    if scheduler is not None and hasattr(scheduler, "run_digest_now"):
        return (lambda as_of: _digest_summary({"digests": scheduler.run_digest_now(as_of)}),
                lambda as_of: _alerts_summary(scheduler.run_alerts_now(as_of)))
    return None, None


def _digest_summary(result: dict[str, Any]) -> str:
    lines = []
    for d in result.get("digests") or []:
        where = f"#{d.get('channel')}"
        week = d.get("week") or str(d.get("key", "")).rsplit(":", 1)[-1]  # keys end with the ISO week
        status = d.get("status")
        if status == "duplicate":
            lines.append(f"The digest for {week} was already sent to {where}: each week's digest goes out "
                         f"once. Pick another date to replay another week.")
        elif status in ("sent", "queued"):
            lines.append(f"Digest for {week} {status} to {where}.")
        else:
            lines.append(f"Digest for {week} to {where}: {status}.")
    personal = [d for d in result.get("personal") or [] if d.get("status") in ("sent", "queued")]
    if personal:
        lines.append(f"{len(personal)} personal digest{'s' if len(personal) != 1 else ''} sent by DM.")
    return "\n".join(lines) or "No digest is enabled in the config."


def _alerts_summary(result: dict[str, Any]) -> str:
    evaluations = result.get("evaluations") or []
    when = str(result.get("as_of") or "")[:16].replace("T", " ")
    head = f"Alerts as of {when}: {len(evaluations)} evaluated"
    changes = [f"{t.get('rule')}{'/' + t['segment'] if t.get('segment') else ''}: {t.get('from')} → {t.get('to')}"
               for t in result.get("transitions") or []]
    lines = [head + (", " + "; ".join(changes) if changes else ", no state changes")]
    sent = len(result.get("messages") or [])
    if sent:
        lines.append(f"{sent} message{'s' if sent != 1 else ''} sent to Slack.")
    skipped = result.get("skipped") or []
    if skipped:
        lines.append(f"{len(skipped)} skipped: already evaluated at or after this time.")
    return "\n".join(lines)


# ---------------------------------------------------------------------- HTTP plumbing


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # A restart right after a stop must not wait out the old connections' TIME_WAIT; on POSIX this still
    # refuses a port another process listens on. On Windows the same option would allow port stealing.
    if os.name != "nt":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise _port_error(exc, host, port) from None
    return sock


def _port_error(exc: OSError, host: str, port: int) -> ServiceError:
    other = 3001 if port == 3000 else (port + 1 if 0 < port < 65535 else 3001)
    if exc.errno == errno.EADDRINUSE:
        return ServiceError(f"port {port} on {host} is already in use (another kpibot run?). "
                            f"Choose another port: PORT={other} kpibot run")
    if exc.errno == errno.EACCES:
        return ServiceError(f"not allowed to listen on port {port} on {host}. "
                            f"Choose a port above 1024: PORT={other} kpibot run")
    if exc.errno == errno.EADDRNOTAVAIL:
        return ServiceError(f"cannot listen on {host}: no such address on this machine")
    return ServiceError(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def _serve(asgi: Any, sock: socket.socket, name: str):
    from bot.server import serve_on

    try:
        return serve_on(asgi, sock, lifespan="on", name=name, grace=2)
    except RuntimeError as exc:
        raise ServiceError(str(exc)) from None


def _is_loopback(host: str) -> bool:
    from slack_emulator.signing import ensure_loopback

    try:
        ensure_loopback(host)
    except ValueError:
        return False
    return True


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _open_browser(url: str) -> None:
    """Only a graphical browser: without a display Python would start a console one (lynx, w3m) in
    the foreground of the terminal the service runs in."""
    if sys.platform not in ("darwin", "win32") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return
    threading.Thread(target=_try_open, args=(url,), name="kpibot-open-browser", daemon=True).start()


def _try_open(url: str) -> None:
    with contextlib.suppress(Exception):
        webbrowser.open(url)


def _print(line: str) -> None:
    print(clean(line), flush=True)  # names from imports reach these lines: no terminal control codes


def _sigterm_as_interrupt() -> tuple[Callable[[], None], Callable[[], int | None]]:
    """`kill` (and container stops) get the same clean shutdown as Ctrl-C: stop taking requests,
    finish the answers in flight, release the scheduler lock, exit 0. A second signal while stopping
    does not interrupt the stop (it is bounded by STOP_DEADLINE anyway). Returns (restore the
    previous handlers, the signal that came first or None)."""
    if threading.current_thread() is not threading.main_thread():
        return (lambda: None), (lambda: None)
    stopping = threading.Event()
    first: list[int] = []

    def interrupt(signum: int, _frame: Any) -> None:
        if stopping.is_set():
            if signum == signal.SIGINT:  # Ctrl-C twice: the person wants out now
                os._exit(130)
            return
        stopping.set()
        first.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    previous_int = signal.signal(signal.SIGINT, interrupt)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)

    return restore, (lambda: first[0] if first else None)


def _watchdog(seconds: float) -> None:
    """Whatever hangs while stopping (a Slack call, a long job), the process is gone after `seconds`:
    locks die with it (PostgreSQL ends the session, the kernel drops the file lock)."""
    def force() -> None:
        log.warning("stopping took over %.0f s: exiting now", seconds)
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(0)

    t = threading.Timer(seconds, force)
    t.daemon = True
    t.start()
