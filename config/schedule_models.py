"""Digest subscriptions, alert rules and scheduler settings from the TOML config.
Owned by the scheduler; read by the config loader."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SchedulerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    misfire_grace_hours: float = 12.0


class DigestConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = "weekly"
    channel: str | None = None  # None: [slack].digest_channel
    cron: str = "0 9 * * mon"
    kpis: list[str] = ["revenue", "deals_closed", "win_rate", "avg_deal_size", "cac", "retention"]
    lang: str = "en"


class AlertsConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    channel: str | None = None  # None: [slack].alerts_channel
