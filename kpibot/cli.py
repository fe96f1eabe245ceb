"""`kpibot`: the command line (interface.md). The composition root: it reads the clock,
the environment and the config, then hands them to the engine, bot and scheduler."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from config.app_config import ConfigError, get_config
from config.settings import get_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Sales KPIs in Slack: answers, digests, alerts.")
err = Console(stderr=True, highlight=False)
out = Console(highlight=False)


class UserError(Exception):
    """A mistake of the person at the keyboard: one line, exit code 2."""


def _user_errors() -> tuple[type[BaseException], ...]:
    from kpi_engine.db import StoreError
    from kpi_engine.periods import PeriodError
    from kpi_engine.query import QueryError

    errs: list[type[BaseException]] = [UserError, ConfigError, StoreError, PeriodError, QueryError]
    try:
        from kpi_engine.importer import ImportFailed, ImportInputError

        errs += [ImportFailed, ImportInputError]
    except ImportError:
        pass
    try:
        from kpi_engine.mapping import MappingError

        errs.append(MappingError)
    except ImportError:
        pass
    return tuple(errs)


def guarded(fn: Callable) -> Callable:
    """Turn a user's mistake into one line on stderr and exit 2; never a traceback."""
    import functools

    @functools.wraps(fn)
    def wrapper(*a, **kw):
        try:
            return fn(*a, **kw)
        except _user_errors() as exc:
            msg = getattr(exc, "message", None) or str(exc)
            err.print(f"kpibot: {msg}", markup=False)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None

    return wrapper


def _engine():
    from kpi_engine.db import open_store
    from kpi_engine.engine import KpiEngine

    return KpiEngine(open_store(get_settings().database_url), get_config())


def _as_of(text: str | None):
    from kpi_engine.periods import parse_as_of

    return parse_as_of(text, get_config().tz)


@app.command("ask")
@guarded
def ask_cmd(
    text: Annotated[list[str], typer.Argument(help="What you would type after /kpi, e.g. win rate by team 2017")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="ISO date or timestamp standing for 'now'")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON")] = False,
):
    """Answer the same text a user types after /kpi."""
    from kpi_engine.grammar import parse
    from kpi_engine.query import HelpRequest
    from kpibot.text_answer import help_text, render_answer

    words = " ".join(text)
    parsed = parse(words)
    if isinstance(parsed, HelpRequest):
        if as_json:
            from kpi_engine.catalogue import catalogue

            print(json.dumps({"help": True, "kpis": [s.to_json() for s in catalogue().values()]},
                             ensure_ascii=False, indent=2))
        else:
            out.print(help_text(parsed), markup=False)
        return
    eng = _engine()
    answer = eng.answer(parsed, _as_of(as_of))
    if as_json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
    else:
        render_answer(out, answer)


@app.command("kpis")
@guarded
def kpis_cmd(as_json: Annotated[bool, typer.Option("--json")] = False):
    """The KPI catalogue."""
    from kpi_engine.catalogue import catalogue
    from kpibot.text_answer import render_catalogue

    if as_json:
        print(json.dumps([s.to_json() for s in catalogue().values()], ensure_ascii=False, indent=2))
    else:
        render_catalogue(out)


@app.command("import")
@guarded
def import_cmd(
    path: Annotated[Path, typer.Argument(help="A CSV folder or file")],
    mapping: Annotated[str | None, typer.Option("--mapping", help="Mapping file, or a shipped one: maven, cdnow")] = None,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Write the valid rows, report the rest")] = False,
):
    """Load a CSV folder or file (data.md)."""
    from kpibot.import_cmd import run_import

    run_import(path, mapping, skip_invalid, out, err)


@app.command("demo-data")
@guarded
def demo_cmd(
    seed: Annotated[int, typer.Option("--seed")] = 7,
    scale: Annotated[str, typer.Option("--scale", help="small, medium, large, or a number of opportunities")] = "small",
    replace: Annotated[bool, typer.Option("--replace", help="Clear the store's data first")] = False,
):
    """Fill the store with the generated demo company."""
    from kpi_engine import demo
    from kpi_engine.db import open_store

    try:
        scale_v: float | str = float(scale)
    except ValueError:
        if scale not in ("small", "medium", "large"):
            raise UserError(f"--scale {scale!r}: use small, medium, large or a number of opportunities") from None
        scale_v = scale
    cfg = get_config()
    from kpi_engine.periods import now

    anchor = now(cfg.tz).date()
    with err.status("generating the demo company…"):
        summary = demo.generate(open_store(get_settings().database_url), seed=seed, scale=scale_v, anchor=anchor,
                                tz=cfg.timezone, replace=replace)
    counts = ", ".join(f"{k} {v:,}" for k, v in summary.counts.items())
    out.print(f"Demo company written (anchor {summary.anchor}): {counts}", markup=False)


def main() -> None:
    logging.basicConfig(level=os.environ.get("KPIBOT_LOG_LEVEL", "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Thai output must not crash a terminal or pipe that defaults to ASCII
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    app()


if __name__ == "__main__":
    main()
