"""What every command shares without typer: the consoles, and a user's mistake turned into one line
and an exit code. `kpibot ask` starts without typer (kpibot/cli.py), so this cannot live beside the
typer app."""

from __future__ import annotations

from config.errors import ConfigError, SettingsError


class _Console:
    """A rich Console made on first use (`ask --json` prints plain JSON, and importing rich costs a
    fresh process ~40 ms) that strips control characters: names in answers and reports come from
    imported files."""

    def __init__(self, **options):
        self._options = options
        self._console = None

    @property
    def console(self):
        """The Console itself, for code that takes one (rich's progress bars want the real thing)."""
        if self._console is None:
            from kpibot.termsafe import safe_console

            self._console = safe_console(**self._options)
        return self._console

    def __getattr__(self, name: str):
        return getattr(self.console, name)


err = _Console(stderr=True, highlight=False)
out = _Console(highlight=False)


class UserError(Exception):
    """A mistake of the person at the keyboard: one line, exit code 2."""


def user_errors() -> tuple[type[BaseException], ...]:
    from kpi_engine.db import StoreError
    from kpi_engine.periods import PeriodError
    from kpi_engine.query import QueryError
    from kpibot.ops_cmd import OpsInputError

    errs: list[type[BaseException]] = [UserError, ConfigError, SettingsError, StoreError, PeriodError, QueryError, OpsInputError]
    try:
        from schedules.cli import ScheduleInputError

        errs.append(ScheduleInputError)
    except ImportError:
        pass
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


def report(exc: BaseException) -> int:
    """The one line on stderr for a user's mistake; its exit code."""
    msg = getattr(exc, "message", None) or str(exc)
    err.print(f"kpibot: {msg}", markup=False, soft_wrap=True)
    # store problems carry their own code (README, "Exit codes"); other mistakes are 2
    return getattr(exc, "exit_code", 2)
