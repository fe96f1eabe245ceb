"""The TOML configuration: business rules and schedules, never secrets."""

from __future__ import annotations

from difflib import get_close_matches
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from config.access_models import AccessConfig, UserPrefs
from config.errors import ConfigError as ConfigError
from config.schedule_models import AlertsConfig, DigestConfig, SchedulerConfig, check_channel
from config.sync_models import SourceConfig, SyncConfig, check_unique
from config.toml_file import read_toml

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default.toml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RetentionConfig(_Strict):
    mode: Literal["activity", "churn_date"] = "activity"
    window_days: int = Field(365, gt=0)


class SlackConfig(_Strict):
    digest_channel: str = "leadership"
    alerts_channel: str = "sales-alerts"
    # operators' channel: stale data, failed syncs, alert rules that cannot be evaluated
    admin_channel: str = "kpibot-admin"
    # breakdowns as a Block Kit table block (Slack's clients render it); false: an aligned code block
    table_blocks: bool = True

    _channels = field_validator("digest_channel", "alerts_channel", "admin_channel")(check_channel)


class BotConfig(_Strict):
    """How much answer work the bot takes on at once (bot/workers.py). Acks never wait for it."""

    # threads computing answers and charts and posting them (database- and Slack-bound work)
    answer_workers: int = Field(4, ge=1, le=64)
    # questions accepted while all workers are busy; beyond this the asker is told to try again shortly
    answer_queue: int = Field(64, ge=1, le=10_000)
    # with this many questions already waiting, the ack itself tells the asker "working on it"
    working_notice_after: int = Field(4, ge=0)


class DisplayName(_Strict):
    """How one stored dimension value reads (kpi_engine/dimension_names.toml has the shipped ones)."""

    en: str | None = None
    th: str | None = None
    aliases: list[str] = []


class AppConfig(_Strict):
    # unknown keys are refused like in every section: a misspelt one would silently leave the default

    timezone: str = "Asia/Bangkok"
    currency: str = "THB"
    language: Literal["en", "th"] = "en"
    # years in Thai text: Buddhist era (พ.ค. 2569, Thai business usage) or Gregorian (พ.ค. 2026)
    thai_years: Literal["buddhist", "gregorian"] = "buddhist"
    min_sample: int = Field(10, ge=0)
    # the month fiscal years start in; FY2026 is the fiscal year that ends in 2026 ("fy26", "ปีงบ 69")
    fiscal_year_start_month: int = Field(1, ge=1, le=12)
    retention: RetentionConfig = RetentionConfig()
    slack: SlackConfig = SlackConfig()
    bot: BotConfig = BotConfig()
    access: AccessConfig = AccessConfig()
    users: dict[str, UserPrefs] = {}  # Slack user id -> preferences (answer language)
    scheduler: SchedulerConfig = SchedulerConfig()
    digests: list[DigestConfig] = [DigestConfig()]
    alerts: AlertsConfig = AlertsConfig()
    # [display_names.<dimension>."<stored value>"]: names and aliases added to or overriding the shipped ones
    display_names: dict[str, dict[str, DisplayName]] = {}
    sources: list[SourceConfig] = []  # [[sources]]: scheduled syncs (config/sync_models.py)
    sync: SyncConfig = SyncConfig()

    @field_validator("sources")
    @classmethod
    def _unique_sources(cls, v: list[SourceConfig]) -> list[SourceConfig]:
        check_unique(v)
        return v

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        # an empty code printed amounts bare and told the importer the store's currency is ""
        if not v.strip():
            raise ValueError("is empty: give the ISO code amounts are in (e.g. THB, USD), or leave the key out "
                             "for THB")
        return v

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {v!r} (use an IANA name such as Asia/Bangkok)") from exc
        return v

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_config(path: Path | str | None = None) -> AppConfig:
    p = Path(path) if path else DEFAULT_CONFIG_PATH
    data = read_toml(p, ConfigError, "config file")
    try:
        return AppConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ConfigError(f"{p}: {where}: {_message(first)}") from exc


def _message(error) -> str:  # noqa: ANN001 - a pydantic ErrorDetails
    loc = error["loc"]
    if error["type"] == "value_error" and "error" in error.get("ctx", {}):
        return str(error["ctx"]["error"])  # our own sentence, without pydantic's "Value error, " before it
    if error["type"] != "extra_forbidden" or len(loc) != 1:
        return error["msg"]
    close = get_close_matches(str(loc[0]), AppConfig.model_fields, n=1)
    return "not a setting kpibot knows" + (f" (did you mean {close[0]!r}?)" if close else "")
