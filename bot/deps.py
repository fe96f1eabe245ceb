"""What the listeners need, built once in build_app: no globals, so tests build as many apps as they like."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk import WebClient

from bot.lang import LanguageResolver
from bot.workers import Workers
from config.app_config import AppConfig
from kpi_engine.engine import KpiEngine

# Periods of the sparkline under an answer: each costs one more measure, so fewer than the chart's 12.
SPARK_PERIODS = 8
CHART_PERIODS = 12
# How long after the command an answer may wait for its sparkline before going out without it
# (the sparkline then follows by replacing the message): the number matters more than its trend.
ANSWER_BUDGET = 0.4
TREND_SLOTS = 2
# A sparkline costs one answer's worth of database work per period; above this much (estimated from
# recent answers of the same KPI) it is left out, so big stores spend their time on the numbers.
TREND_MAX_WORK = 1.0


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
    # Trends are computed beside the answers, at most TREND_SLOTS at a time: on a busy bot a sparkline
    # is skipped rather than have background trends take the CPU and the database from the next answer.
    pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=TREND_SLOTS, thread_name_prefix="kpibot-trend"))
    trend_slots: threading.BoundedSemaphore = field(default_factory=lambda: threading.BoundedSemaphore(TREND_SLOTS))

    answer_seconds: dict[str, float] = field(default_factory=dict)  # per KPI, a moving average
    # where listeners put the work done after an ack (bot/admit.py); build_app makes it from [bot]
    workers: Workers | None = None

    def record_answer(self, kpi: str, seconds: float) -> None:
        old = self.answer_seconds.get(kpi)
        self.answer_seconds[kpi] = seconds if old is None else 0.7 * old + 0.3 * seconds

    def trend_affordable(self, kpi: str) -> bool:
        return self.answer_seconds.get(kpi, 0.0) * self.spark_periods <= TREND_MAX_WORK

    def submit_trend(self, kpi: str, fn: Callable[[], Any]) -> Future | None:
        """Run fn in the trend pool if it is affordable and a slot is free now, else None (no sparkline)."""
        if self.spark_periods < 2 or not self.trend_affordable(kpi):
            return None
        if not self.trend_slots.acquire(blocking=False):
            return None

        def run() -> Any:
            try:
                return fn()
            finally:
                self.trend_slots.release()

        try:
            return self.pool.submit(run)
        except RuntimeError:  # the pool is shut down: the service is stopping
            self.trend_slots.release()
            return None

    def now(self) -> datetime:
        return self.clock()
