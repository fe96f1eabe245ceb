"""What the listeners need, built once in build_app: no globals, so tests build as many apps as they like."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk import WebClient

from bot.lang import LanguageResolver
from config.app_config import AppConfig
from kpi_engine.engine import KpiEngine

# Periods of the sparkline under an answer: each costs one more measure, so fewer than the chart's 12.
SPARK_PERIODS = 8
CHART_PERIODS = 12


@dataclass
class BotDeps:
    engine: KpiEngine
    config: AppConfig
    client: WebClient | None
    clock: Callable[[], datetime]
    langs: LanguageResolver
    spark_periods: int = SPARK_PERIODS
    chart_periods: int = CHART_PERIODS
    own_team_id: list[str | None] = field(default_factory=lambda: [None])

    def now(self) -> datetime:
        return self.clock()
