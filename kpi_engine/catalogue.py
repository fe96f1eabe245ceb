"""The KPI catalogue loaded from catalogue.toml: what every KPI is called, measured in and broken down by."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

Unit = Literal["currency", "ratio", "count", "days", "score", "currency_per_day"]
UNITS = ("currency", "ratio", "count", "days", "score", "currency_per_day")
KINDS = ("sum", "count", "ratio", "mean")
DIMENSIONS = ("rep", "team", "region", "product", "segment", "channel", "stage", "type", "action")

# Filters people may type, per KPI, on top of its breakdowns: a KPI broken
# down by rep or team is about rep-owned rows, so rep, team and region (the
# rep's) all filter it.
_REP_DIMS = {"rep", "team", "region"}


@dataclass(frozen=True)
class KpiSpec:
    key: str
    brief: str
    name_en: str
    name_th: str
    aliases: tuple[str, ...]
    unit: Unit
    higher_is_better: bool
    kind: str
    breakdowns: tuple[str, ...]
    default_grain: str
    source: str
    description_en: str
    description_th: str
    target: str | None = None  # "sum" | "level" | None
    # the dimensions it can be filtered by, where not its breakdowns and the rep's (forecasts are by team
    # alone: a rep's revenue against the company's forecast would be a number that means nothing)
    only_filters: tuple[str, ...] | None = None

    def name(self, lang: str = "en") -> str:
        return self.name_th if lang == "th" else self.name_en

    def description(self, lang: str = "en") -> str:
        return self.description_th if lang == "th" else self.description_en

    @property
    def change_in_points(self) -> bool:
        """A ratio KPI's change is reported in percentage points, any other's as a relative change."""
        return self.unit == "ratio"

    @cached_property
    def filters(self) -> tuple[str, ...]:
        if self.only_filters is not None:
            return self.only_filters
        dims = set(self.breakdowns)
        if dims & {"rep", "team"}:
            dims |= _REP_DIMS
        return tuple(d for d in DIMENSIONS if d in dims)

    def names(self) -> tuple[str, ...]:
        """Every text that names this KPI: key, both names, aliases."""
        return (self.key, self.key.replace("_", " "), self.name_en, self.name_th, *self.aliases)

    def to_json(self) -> dict:
        return {
            "key": self.key,
            "brief": self.brief,
            "name": self.name_en,
            "name_th": self.name_th,
            "aliases": list(self.aliases),
            "unit": self.unit,
            "higher_is_better": self.higher_is_better,
            "breakdowns": list(self.breakdowns),
            "default_grain": self.default_grain,
            "description": self.description_en,
            "description_th": self.description_th,
        }


CATALOGUE_PATH = Path(__file__).with_name("catalogue.toml")


def load_catalogue(path: Path = CATALOGUE_PATH) -> dict[str, KpiSpec]:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    out: dict[str, KpiSpec] = {}
    for i, e in enumerate(raw.get("kpi", []), 1):
        where = f"{path.name} entry {i} ({e.get('key', '?')})"
        if e["unit"] not in UNITS:
            raise ValueError(f"{where}: unit {e['unit']!r} not one of {UNITS}")
        if e["kind"] not in KINDS:
            raise ValueError(f"{where}: kind {e['kind']!r} not one of {KINDS}")
        bad = [b for b in (*e.get("breakdowns", []), *e.get("filters", [])) if b not in DIMENSIONS]
        if bad:
            raise ValueError(f"{where}: unknown breakdowns {bad}")
        if e["key"] in out:
            raise ValueError(f"{where}: duplicate key")
        out[e["key"]] = KpiSpec(
            key=e["key"],
            brief=e["brief"],
            name_en=e["name_en"],
            name_th=e["name_th"],
            aliases=tuple(e.get("aliases", ())),
            unit=e["unit"],
            higher_is_better=e["good"] == "up",
            kind=e["kind"],
            breakdowns=tuple(e.get("breakdowns", ())),
            default_grain=e.get("default_grain", "month"),
            source=e["source"],
            description_en=e["description_en"],
            description_th=e["description_th"],
            target=e.get("target"),
            only_filters=tuple(e["filters"]) if "filters" in e else None,
        )
    return out


@lru_cache(maxsize=1)
def catalogue() -> dict[str, KpiSpec]:
    return load_catalogue()
