"""`[[sources]]`: where the store's data comes from on a schedule, and `[sync]`: how staleness is watched.

    [[sources]]
    name = "crm"
    kind = "sql"                      # or "folder"
    url_env = "CRM_DATABASE_URL"      # the environment variable holding the SQLAlchemy URL
    cron = "*/15 * * * *"
    max_age_hours = 2                 # stale-data alert when nothing was delivered for longer
    [sources.queries.opportunities]   # one per canonical table (or per mapping source name)
    query = "SELECT id AS opportunity_id, … FROM crm.deals"
    watermark = "updated_at"          # incremental: only rows at or after the last run's newest value

Credentials never go in the config: a SQL source names the environment variable that holds its URL.
Everything is checked when the config loads, so a typo fails `kpibot run` at start.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from config.schedule_models import _check_cron, _check_id

_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SqlQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str
    # a column of the query's result that grows with every change (updated_at, a version number):
    # each run reads the rows at or after the newest value the last successful run saw
    watermark: str | None = None
    # read this much before the watermark too, for rows committed late with an earlier stamp
    lookback_seconds: float = Field(0.0, ge=0)

    @field_validator("query")
    @classmethod
    def _not_empty(cls, v: str) -> str:
        v = v.strip().rstrip(";").strip()
        if not v:
            raise ValueError("query is empty")
        return v


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    kind: Literal["folder", "sql"]
    cron: str = "*/15 * * * *"
    enabled: bool = True
    # a mapping file, or a shipped one (maven, cdnow), applied to the files or query results
    mapping: str | None = None
    # the stale-data alert fires when the source has not delivered for longer (None: [sync].max_age_hours)
    max_age_hours: float | None = Field(None, gt=0)
    skip_invalid: bool = False  # write the valid rows and report the rest (default: all or nothing)

    # folder: CSV files land in `path`; a file is taken once nothing wrote to it for settle_seconds
    path: str | None = None
    settle_seconds: float = Field(60.0, ge=0)
    after: Literal["archive", "mark"] = "archive"  # move imported files to archive/<run>/, or remember them
    archive_dir: str = "archive"

    # sql: url_env names the environment variable holding the SQLAlchemy URL (never the config)
    url_env: str | None = None
    queries: dict[str, SqlQuery] = {}

    _name = field_validator("name")(_check_id)
    _cron = field_validator("cron")(_check_cron)

    @model_validator(mode="before")
    @classmethod
    def _no_url(cls, data):
        if isinstance(data, dict) and "url" in data:
            raise ValueError("url: credentials never go in the config; put the URL in an environment variable "
                             "and name it with url_env = \"CRM_DATABASE_URL\"")
        if isinstance(data, dict) and isinstance(data.get("queries"), dict):
            # a bare string is the query itself
            data = {**data, "queries": {k: ({"query": v} if isinstance(v, str) else v)
                                        for k, v in data["queries"].items()}}
        return data

    @model_validator(mode="after")
    def _complete(self) -> SourceConfig:
        if self.kind == "folder":
            if not self.path:
                raise ValueError(f"source {self.name}: a folder source needs path")
            if self.queries or self.url_env:
                raise ValueError(f"source {self.name}: url_env and queries are for kind = \"sql\"")
        else:
            if not self.url_env:
                raise ValueError(f"source {self.name}: a sql source needs url_env (the environment variable "
                                 f"holding its SQLAlchemy URL)")
            if not _ENV.match(self.url_env):
                raise ValueError(f"source {self.name}: url_env {self.url_env!r} is not an environment variable "
                                 f"name (e.g. CRM_DATABASE_URL)")
            if not self.queries:
                raise ValueError(f"source {self.name}: list its queries ([sources.queries.<table>] query = …)")
            if self.path:
                raise ValueError(f"source {self.name}: path is for kind = \"folder\"")
        return self


class SyncConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # how often the scheduler checks every source's freshness (the stale-data alert)
    check_cron: str = "*/10 * * * *"
    max_age_hours: float = Field(26.0, gt=0)  # default limit of a source without its own
    failures: int = Field(2, ge=1)  # consecutive failed runs that fire the stale-data alert

    _cron = field_validator("check_cron")(_check_cron)


def check_unique(sources: list[SourceConfig]) -> None:
    seen: set[str] = set()
    for s in sources:
        if s.name in seen:
            raise ValueError(f"sources: name {s.name!r} is used twice")
        seen.add(s.name)
