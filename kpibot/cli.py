"""`kpibot`: the command line (interface.md), the console script's entry point.

The commands are a typer app (kpibot/commands.py, also reachable here as `kpibot.cli.app`). A plain
`kpibot ask …` does not load it: typer, pydantic and pydantic-settings cost a fresh process more
than half its start-up, and a person or a cron job asking one question pays that on every call.
So `main` reads an `ask` whose words and options it can read exactly as typer would, and answers it
with the settings and the validated config read without pydantic (kpibot/startup.py); anything else
(help, a usage mistake, --user, an option it does not know) goes to the typer app as before. Both
answer through kpibot.ask_cmd.ask, and report a user's mistake the same way (kpibot.guard).
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Any

# the options of `ask` the start path reads (the value-taking ones, then the flags); see ask_cmd
_VALUED = ("--as-of",)
_FLAGS = ("--json", "--explain")


def plain_ask(args: list[str]) -> tuple[list[str], str | None, bool, bool] | None:
    """(words, --as-of, --json, --explain) when `args` is an `ask` typer would read exactly so;
    None for everything else (typer then reads it and says what is wrong, as ever)."""
    if not args or args[0] != "ask":
        return None
    words: list[str] = []
    as_of: str | None = None
    as_json = explain = False
    rest = iter(args[1:])
    for a in rest:
        if a.startswith("-") and a != "-":
            if a in _FLAGS:
                as_json |= a == "--json"
                explain |= a == "--explain"
                continue
            name, eq, value = a.partition("=")
            if name not in _VALUED:
                return None  # --help, --user, "--", a typo, a negative number: typer's to read
            if not eq:
                value = next(rest, None)
                # a missing value, or one typer might take for an option: typer's to judge
                if value is None or (value.startswith("-") and value != "-"):
                    return None
            as_of = value  # given twice, the last one counts (as with typer)
            continue
        words.append(a)
    return (words, as_of, as_json, explain) if words else None


def _completing() -> bool:
    # typer answers shell completion when _<PROG>_COMPLETE is set, whatever the arguments
    return any(k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ)


def _ask_now(words: list[str], as_of: str | None, as_json: bool, explain: bool) -> int:
    """The typer command's behaviour without typer: the answer, or one line and an exit code."""
    from kpi_engine import recache
    from kpibot.guard import report, user_errors

    try:
        try:
            from kpi_engine.db import open_reader
            from kpi_engine.engine import KpiEngine
            from kpibot.ask_cmd import ask
            from kpibot.startup import quick_config, store_settings

            settings = store_settings()
            store = open_reader(settings.database_url)  # a SQLite store without loading SQLAlchemy
            ask(KpiEngine(store, quick_config(settings.kpibot_config)), words, as_of, as_json, explain, None)
        except user_errors() as exc:
            return report(exc)
        except KeyboardInterrupt:
            return 130
    except OSError as exc:  # what typer does about a closed pipe (`kpibot ask … | head -1`): exit 1 quietly
        import errno

        if exc.errno != errno.EPIPE:
            _as_typer_would(exc)
        from typer._click.utils import PacifyFlushWrapper

        sys.stdout = PacifyFlushWrapper(sys.stdout)  # type: ignore[assignment]
        sys.stderr = PacifyFlushWrapper(sys.stderr)  # type: ignore[assignment]
        return 1
    except Exception as exc:  # noqa: BLE001 - a bug: shown the way typer shows it
        _as_typer_would(exc)
    finally:
        recache.save()  # the grammar's compiled patterns, for the next question's process (never raises)
    return 0


def _as_typer_would(exc: BaseException) -> None:
    """Raise `exc` for typer's exception hook to print, as when the typer app runs the command."""
    import typer.main
    from typer.models import DeveloperExceptionConfig

    from kpibot.commands import app

    sys.excepthook = typer.main.except_hook
    setattr(exc, typer.main._typer_developer_exception_attr_name,
            DeveloperExceptionConfig(pretty_exceptions_enable=app.pretty_exceptions_enable,
                                     pretty_exceptions_show_locals=app.pretty_exceptions_show_locals,
                                     pretty_exceptions_short=app.pretty_exceptions_short))
    raise exc


def main() -> None:
    plain = None if _completing() else plain_ask(sys.argv[1:])
    if plain is not None:
        # One question, then the process ends: the cyclic garbage collector only costs it time
        # (~130 passes over the objects imports make, ~45 ms of ~400), and the little garbage with
        # cycles such a process makes (~1 MB) goes with it.
        gc.disable()
    from telemetry.logs import configure

    configure()  # KPIBOT_LOG_LEVEL, KPIBOT_LOG_FORMAT=json
    # Thai output must not crash a terminal or pipe that defaults to ASCII
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    if plain is not None:
        sys.exit(_ask_now(*plain))
    from kpibot.commands import app

    app()


def __getattr__(name: str) -> Any:
    # `from kpibot.cli import app` (tests, scripts): the typer app, loaded when asked for. Not for
    # dunder names: the import system asks every module for __path__ on a `from … import`
    if name.startswith("__"):
        raise AttributeError(name)
    import kpibot.commands

    try:
        return getattr(kpibot.commands, name)
    except AttributeError:
        raise AttributeError(f"module 'kpibot.cli' has no attribute {name!r}") from None


if __name__ == "__main__":
    main()
