"""The config's names checked against what the engine knows: the KPI catalogue and the canonical
tables. `config/` checks the shape of the file alone (it sits below the engine and knows no KPI);
the loader here adds this check, so a typo in a digest, an alert rule or a sync query still fails
`kpibot run` at start with the file and the field named, not on Monday morning inside a job."""

from __future__ import annotations

from difflib import get_close_matches
from functools import lru_cache
from pathlib import Path

from config import app_config
from config.app_config import AppConfig, ConfigError
from config.schedule_models import Change, VsTarget


def problems(cfg: AppConfig) -> list[tuple[str, str]]:
    """(where, what) for each name the engine does not know, in file order."""
    from kpi_engine.catalogue import catalogue

    specs = catalogue()
    out: list[tuple[str, str]] = []

    def spec(where: str, kpi: str):
        if kpi not in specs:
            out.append((where, f"unknown KPI {kpi!r} (see `kpibot kpis`)"))
            return None
        return specs[kpi]

    def dims(where: str, s, names: list[str]) -> None:
        for d in names:
            if d not in s.filters:
                out.append((where, f"{s.key} has no filter {d!r} (it has: {', '.join(s.filters) or 'none'})"))

    for i, dg in enumerate(cfg.digests):
        at = f"digests.{i}"
        for k in [*dg.kpis, *([dg.chart_kpi] if dg.chart_kpi else [])]:
            s = spec(f"{at}.kpis", k)
            if s is not None and dg.filter and k in dg.kpis:
                dims(f"{at}.filter", s, list(dg.filter))
    for i, rule in enumerate(cfg.alerts.rules):
        at = f"alerts.rules.{i}"
        s = spec(f"{at}.kpi", rule.kpi)
        if s is None:
            continue
        dims(f"{at}.filter", s, list(rule.filter))
        if rule.per and rule.per not in s.breakdowns:
            out.append((f"{at}.per", f"{s.key} cannot be broken down by {rule.per!r} "
                                     f"(it can by: {', '.join(s.breakdowns) or 'nothing'})"))
        if s.unit != "ratio" and any(isinstance(c, Change) and (c.up_pp or c.down_pp) for c in rule.conditions):
            out.append((f"{at}.conditions", f"change: up_pp/down_pp are for ratio KPIs; {s.key} changes in % "
                                            f"(up_pct/down_pct)"))
        if any(isinstance(c, VsTarget) for c in rule.conditions) and not s.target and s.key != "target_attainment":
            out.append((f"{at}.conditions", f"vs_target: {s.key} has no targets"))
    for i, src in enumerate(cfg.sources):
        if src.kind == "sql" and src.mapping is None:
            # imported only here: the table models load SQLModel (~100 ms of every `kpibot ask`)
            from kpi_engine.models import TABLES

            unknown = [q for q in src.queries if q not in TABLES]
            if unknown:
                out.append((f"sources.{i}.queries", f"source {src.name}: queries.{unknown[0]} is not a canonical "
                                                     f"table ({', '.join(TABLES)}); name each query after the "
                                                     f"table it fills, or give a mapping"))
        if src.mapping is not None:
            wrong = _unknown_mapping(src.mapping)
            if wrong:
                out.append((f"sources.{i}.mapping", f"source {src.name}: {wrong}"))
    return out


def _unknown_mapping(name: str) -> str | None:
    """Why a source's mapping names nothing, for a name that cannot be a file of the working folder.

    A path is resolved from the working folder when the sync runs, and every command checks this
    config wherever it is started: only a bare name (no folder, no suffix), which must be a shipped
    mapping, and an absolute path are judged here; a relative path is left to the sync, which names it."""
    if not name.strip():
        return "mapping is empty: give a mapping file's path or a shipped mapping's name, or leave the key out"
    p = Path(name)
    bare = p.name == name and not p.suffix
    if not (bare or p.is_absolute()) or p.exists():
        return None
    # imported only here: the mapping module loads the table models (~100 ms of every `kpibot ask`)
    from kpi_engine.mapping import MAPPINGS_DIR, SHORTHANDS

    shipped = sorted({*SHORTHANDS, *(f.stem for f in MAPPINGS_DIR.glob("*.toml"))})
    if not bare:
        return f"mapping file {name} not found"
    if name in shipped:
        return None
    close = get_close_matches(name, shipped, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (f"mapping {name!r} is not a shipped mapping{hint}; give a mapping file's path or one of "
            f"{', '.join(shipped)}")


def checked(cfg: AppConfig, source: Path | str = "config") -> AppConfig:
    found = problems(cfg)
    if found:
        where, what = found[0]
        raise ConfigError(f"{source}: {where}: {what}")
    return cfg


def load_config(path: Path | str | None = None) -> AppConfig:
    """`config.app_config.load_config` plus the names checked."""
    return checked(app_config.load_config(path), Path(path) if path else app_config.DEFAULT_CONFIG_PATH)


@lru_cache(maxsize=4)
def _cached(path: str | None) -> AppConfig:
    return load_config(path)


def get_config() -> AppConfig:
    """The config the settings name (KPIBOT_CONFIG, else the shipped default), checked."""
    from config.settings import get_settings

    p = get_settings().kpibot_config
    return _cached(str(p) if p else None)
