"""`kpibot import`: the importer with a progress bar and a readable report."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from config.settings import get_settings
from kpi_engine.config_check import get_config


def run_import(path: Path, mapping: str | None, skip_invalid: bool, out: Console, err: Console) -> None:
    from kpi_engine.db import open_store, require_writable
    from kpi_engine.importer import import_path
    from kpi_engine.mapping import resolve_mapping

    store = open_store(get_settings().database_url)
    require_writable(store, "import into it")
    mapping_path = resolve_mapping(mapping) if mapping else None
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("importing", total=None)

        def progress(table: str, rows: int, done: int, total: int) -> None:
            bar.update(task, description=f"{table}: {rows:,} rows", completed=done, total=total or None)

        report = import_path(store, path, config=get_config(), mapping=mapping_path, skip_invalid=skip_invalid,
                             progress=progress)
    out.print(report.format_summary(), markup=False, soft_wrap=True)
    issues = report.format_issues()
    if issues:
        err.print(issues, markup=False, soft_wrap=True)
