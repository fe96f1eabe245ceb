"""What the listeners need, built once in build_app: no globals, so tests build as many apps as they like."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk import WebClient

from bot.lang import LanguageResolver
from config.app_config import AppConfig
from kpi_engine.engine import KpiEngine

# Periods of the sparkline under an answer: each costs one more measure, so fewer than the chart's 12.
SPARK_PERIODS = 8
CHART_PERIODS = 12
# How long after the command an answer may wait for its sparkline before going out without it
# (the sparkline then follows by replacing the message): the number matters more than its trend.
ANSWER_BUDGET = 0.4


@dataclass
class BotDeps:
    engine: KpiEngine
    config: AppConfig
    client: WebClient | None
    clock: Callable[[], datetime]
    langs: LanguageResolver
    spark_periods: int = SPARK_PERIODS
    chart_periods: int = CHART_PERIODS
    answer_budget: float = ANSWER_BUDGET
    # Trends are computed beside the answer: a few threads, as each holds a database connection.
    pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="kpibot-trend"))

    def now(self) -> datetime:
        return self.clock()
