"""`kpibot`'s commands as a typer app (interface.md; the entry point is kpibot/cli.py). The
composition root: it reads the clock, the environment and the config, then hands them to the
engine, bot and scheduler."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from config.settings import get_settings
from kpi_engine.config_check import get_config
from kpibot.guard import UserError, err, out, report, user_errors
from kpibot.termsafe import dumps_json

EXIT_CODES = ("Exit codes: 0 done; 1 failed; 2 a mistake in the input (question, config, path, CSV); "
              "3 deliveries still pending (run it again to resume them); 4 the store is unreachable or locked; "
              "5 the store cannot be written (read-only, disk full); 6 the store file is damaged; "
              "130 interrupted. See README, Exit codes.")
app = typer.Typer(add_completion=False, no_args_is_help=True, help="Sales KPIs in Slack: answers, digests, alerts.",
                  epilog=EXIT_CODES)


def guarded(fn: Callable) -> Callable:
    """Turn a user's mistake into one line on stderr and exit 2; never a traceback."""
    import functools

    @functools.wraps(fn)
    def wrapper(*a, **kw):
        try:
            return fn(*a, **kw)
        except user_errors() as exc:
            raise typer.Exit(report(exc)) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None

    return wrapper


def _engine():
    from kpi_engine.db import open_store
    from kpi_engine.engine import KpiEngine

    return KpiEngine(open_store(get_settings().database_url), get_config())


def _as_of(text: str | None):
    from kpi_engine.periods import parse_as_of
    from kpibot.ask_cmd import check_as_of

    check_as_of(text)
    return parse_as_of(text, get_config().tz)


def _require_token(what: str) -> None:
    """Refuse a run that would queue messages (and move alert states) with nothing to send them:
    the outbox keeps them, and a later `kpibot run` would post them days late."""
    if get_settings().slack_bot_token is None:
        raise UserError(f"SLACK_BOT_TOKEN is not set (environment or .env): {what}, so nothing was done; set it, "
                        f"or use --dry-run to see the result without sending")


@app.command("ask")
@guarded
def ask_cmd(
    text: Annotated[list[str], typer.Argument(help="What you would type after /kpi, e.g. win rate by team 2017")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="ISO date or timestamp standing for 'now'")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON")] = False,
    explain: Annotated[bool, typer.Option("--explain", help="Show how the question was read")] = False,
    user: Annotated[str | None, typer.Option("--user", help="Ask as this Slack user: 'my …', and only what "
                                                            "they may see ([access])")] = None,
):
    """Answer the same text a user types after /kpi."""
    from kpibot.ask_cmd import ask

    ask(_engine(), text, as_of, as_json, explain, user)


@app.command("kpis")
@guarded
def kpis_cmd(as_json: Annotated[bool, typer.Option("--json")] = False):
    """The KPI catalogue."""
    from kpi_engine.catalogue import catalogue
    from kpibot.text_answer import render_catalogue

    if as_json:
        print(dumps_json([s.to_json() for s in catalogue().values()], indent=2))
    else:
        render_catalogue(out.console)


@app.command("import")
@guarded
def import_cmd(
    path: Annotated[Path, typer.Argument(help="A CSV folder or file")],
    mapping: Annotated[str | None, typer.Option("--mapping", help="Mapping file, or a shipped one: maven, cdnow")] = None,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Write the valid rows, report the rest")] = False,
):
    """Load a CSV folder or file (data.md)."""
    from kpibot.import_cmd import run_import

    try:
        run_import(path, mapping, skip_invalid, out.console, err.console)
    except KeyboardInterrupt as exc:
        written = getattr(exc, "import_written", None)  # None: before or after the import's own work
        done = ("the import had been written; only the planner's statistics were not refreshed" if written else
                "the import was rolled back, nothing was written (run it again to import the files)"
                if written is False else
                "an import writes all of its files or nothing; run it again to be sure they are in")
        err.print(f"kpibot: interrupted (Ctrl-C): {done}", markup=False, soft_wrap=True)
        raise typer.Exit(130) from None


@app.command("demo-data")
@guarded
def demo_cmd(
    seed: Annotated[int, typer.Option("--seed")] = 7,
    scale: Annotated[str, typer.Option("--scale", help="small (2,000 opportunities), medium (100,000), large "
                                                       "(1,000,000), or a number of opportunities from 500 to "
                                                       "10,000,000")] = "small",
    replace: Annotated[bool, typer.Option("--replace", help="Clear the store's data first")] = False,
):
    """Fill the store with the generated demo company."""
    from kpi_engine import demo
    from kpi_engine.db import open_store, require_writable

    try:
        # checked before the store is opened: a scale too large fails at once, not as a MemoryError
        n_opps = demo.opportunity_count(scale)
    except demo.DemoError as exc:
        raise UserError(f"--{exc}") from None
    cfg = get_config()
    from kpi_engine.periods import now

    anchor = now(cfg.tz).date()
    store = open_store(get_settings().database_url)
    require_writable(store, "write the demo company into it")
    with err.status("generating the demo company…"):
        summary = demo.generate(store, seed=seed, scale=n_opps, anchor=anchor,
                                tz=cfg.timezone, replace=replace)
    counts = ", ".join(f"{k} {v:,}" for k, v in summary.counts.items())
    out.print(f"Demo company written (anchor {summary.anchor}): {counts}", markup=False)


@app.command("run")
@guarded
def run_cmd(
    host: Annotated[str | None, typer.Option("--host", help="Interface to listen on (default HOST, else "
                                                           "127.0.0.1; 0.0.0.0 in a container)")] = None,
    open_browser: Annotated[bool, typer.Option("--open", help="Open the sandbox page in a browser")] = False,
    migrate: Annotated[bool, typer.Option("--migrate", help="Upgrade an out-of-date store first "
                                                            "(under a lock: safe with several processes)")] = False,
):
    """The service: Slack bot + scheduler; without Slack credentials, the local sandbox on demo data."""
    from kpibot.run import run_service

    settings = get_settings()
    if migrate:
        from kpi_engine.db import migrate_store

        migrate_store(settings.database_url)
    run_service(settings, get_config(), host=host or settings.host, open_browser=open_browser)


@app.command("migrate")
@guarded
def migrate_cmd():
    """Create or upgrade the store's schema (under a lock: several processes at once are safe)."""
    from kpibot.ops_cmd import migrate

    raise typer.Exit(migrate(get_settings().database_url, out.console))


@app.command("sync")
@guarded
def sync_cmd(
    source: Annotated[str | None, typer.Option("--source", help="Only this [[sources]] entry (default: all enabled)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Read and check everything, write nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
):
    """Sync the config's sources now (what the scheduler does on their cron)."""
    from kpi_engine.db import open_store
    from kpi_engine.periods import now
    from kpibot.ops_cmd import sync

    cfg = get_config()
    raise typer.Exit(sync(open_store(get_settings().database_url), cfg, source, dry_run, as_json, now(cfg.tz), out.console))


outbox_app = typer.Typer(add_completion=False, no_args_is_help=True,
                         help="The durable outbox of digests and alerts: see, retry, purge.")
app.add_typer(outbox_app, name="outbox")


@outbox_app.command("list")
@guarded
def outbox_list_cmd(
    state: Annotated[list[str] | None, typer.Option("--state", help="failed, pending, sending, sent, superseded "
                                                                    "(repeatable; default failed, pending, sending)")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Show the latest N (0: all)")] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
):
    """Messages not delivered (or in the given states): why, when, how many attempts."""
    from kpi_engine.db import open_store
    from kpibot.ops_cmd import outbox_list

    raise typer.Exit(outbox_list(open_store(get_settings().database_url), get_config(),
                                 state or ["failed", "pending", "sending"], limit, as_json, out.console))


@outbox_app.command("retry")
@guarded
def outbox_retry_cmd(
    message: Annotated[str | None, typer.Argument(help="The #id or key of a failed message")] = None,
    all_failed: Annotated[bool, typer.Option("--all", help="Every failed message")] = False,
):
    """Queue a failed message again (with its failed thread replies) and deliver it now if Slack is configured."""
    import time

    from kpi_engine.db import open_store
    from kpibot.ops_cmd import outbox_retry

    _quiet_retries()
    raise typer.Exit(outbox_retry(open_store(get_settings().database_url), get_config(), message, all_failed,
                                  int(time.time()), _slack_client_factory(), out.console))


@outbox_app.command("purge")
@guarded
def outbox_purge_cmd(
    days: Annotated[float, typer.Option("--days", help="Messages delivered more than this many days ago")] = 30,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count, delete nothing")] = False,
):
    """Free the space of delivered messages (chart PNGs, edits); posts keep a small receipt."""
    import time

    from kpi_engine.db import open_store
    from kpibot.ops_cmd import outbox_purge

    raise typer.Exit(outbox_purge(open_store(get_settings().database_url), get_config(), days, dry_run,
                                  int(time.time()), out.console))


def _slack_client_factory():
    settings = get_settings()

    def make():
        from slack_sdk import WebClient

        from bot.delivery import retry_handlers

        if settings.slack_bot_token is None:
            raise UserError("SLACK_BOT_TOKEN is not set: use --dry-run, or `kpibot run` for the sandbox")
        return WebClient(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_base_url,
                         retry_handlers=retry_handlers(rate_limit_retries=3))

    return make


_WAIT_HELP = ("Seconds to keep retrying Slack before leaving the rest pending (exit code 3; the next run "
              "resumes it)")


def _print_schedule_result(result: dict, as_json: bool) -> None:
    from schedules.cli import format_preview

    if as_json:
        print(dumps_json(result, indent=2, default=str))
    else:
        out.print(format_preview(result), markup=False)


@app.command("digest")
@guarded
def digest_cmd(
    channel: Annotated[str | None, typer.Option("--channel", help="Send to this channel instead of the config's")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Build and show, send nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    wait: Annotated[float, typer.Option("--wait", min=0, help=_WAIT_HELP)] = 60.0,
):
    """Build, and unless --dry-run send, the digest. Run again after exit code 3 to resume delivery."""
    from kpi_engine.db import open_store, require_writable
    from kpi_engine.engine import KpiEngine
    from schedules.cli import digest

    at = _as_of(as_of)
    if not dry_run:
        _require_token("a digest cannot be sent without it")
    store = open_store(get_settings().database_url)
    if not dry_run:
        require_writable(store, "send a digest (deliveries are recorded in it)")
    _quiet_retries()
    result = digest(KpiEngine(store, get_config()), store, get_config(), _slack_client_factory(),
                    channel=channel, as_of=at, dry_run=dry_run, timeout=wait)
    _print_schedule_result(result, as_json)
    _exit_for_deliveries(result, failed=any(d.get("status") == "failed" for d in result.get("digests", [])))


@app.command("alerts")
@guarded
def alerts_cmd(
    as_of: Annotated[str | None, typer.Option("--as-of")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Evaluate and show, change and send nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    wait: Annotated[float, typer.Option("--wait", min=0, help=_WAIT_HELP)] = 60.0,
):
    """Evaluate alert rules, and unless --dry-run send what fires or resolves (and what an earlier run
    left pending)."""
    from kpi_engine.db import open_store, require_writable
    from kpi_engine.engine import KpiEngine
    from schedules.cli import alerts

    at = _as_of(as_of)
    if not dry_run:
        _require_token("alerts that fire could not be sent")
    store = open_store(get_settings().database_url)
    if not dry_run:
        require_writable(store, "evaluate alerts (their states are kept in it)")
    _quiet_retries()
    result = alerts(KpiEngine(store, get_config()), store, get_config(), _slack_client_factory(),
                    as_of=at, dry_run=dry_run, timeout=wait)
    _print_schedule_result(result, as_json)
    _exit_for_deliveries(result, failed="failed" in (result.get("delivery") or {}).values())


def _quiet_retries() -> None:
    """digest/alerts/outbox retry end with one line saying what was not delivered and why; the sender's
    line per retry is for the service's log, and slack_sdk's own (an ERROR for each call that timed out,
    before the outbox retries it) repeats what that line says: both are shown here only with
    KPIBOT_LOG_LEVEL set."""
    if "KPIBOT_LOG_LEVEL" not in os.environ:
        logging.getLogger("schedules.outbox").setLevel(logging.ERROR)
        logging.getLogger("slack_sdk").setLevel(logging.CRITICAL)


def _exit_for_deliveries(result: dict, failed: bool) -> None:
    """Messages still pending: one line and exit 3 (a rerun resumes them); one failed for good: exit 1."""
    from schedules.cli import pending_line

    line = pending_line(result)
    if line is not None:
        err.print(f"kpibot: {line}", markup=False, soft_wrap=True)
        raise typer.Exit(3)
    if failed:
        from schedules.cli import failed_line

        err.print(f"kpibot: {failed_line(result)}", markup=False, soft_wrap=True)
        raise typer.Exit(1)
