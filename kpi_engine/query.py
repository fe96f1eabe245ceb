"""What a person asks, as data: the parser produces it, the engine answers it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from kpi_engine import periods
from kpi_engine.periods import Period


@dataclass(frozen=True)
class PeriodSpec:
    """A period as typed, resolved against as_of later (so the same text means the same at any time)."""

    kind: Literal["current", "key", "rolling", "recent"]
    grain: str | None = None  # current: day/week/month/quarter/year; recent: month/quarter
    offset: int = 0  # current: 0 = this, -1 = last; recent: 0 = latest started, -1 = latest ended
    key: str | None = None  # key: 2026, 2026-Q2, 2026-05, 2026-W19, 2026-05-04; recent: 05 (May), Q2
    days: int | None = None  # rolling: last N days
    text: str = ""

    def resolve(self, as_of: datetime, tz: ZoneInfo) -> Period:
        if self.kind == "current":
            return periods.current(self.grain or "month", as_of, tz, self.offset)
        if self.kind == "key":
            return periods.from_key(self.key or "", as_of, tz)
        if self.kind == "recent":
            return _most_recent(self.grain or "month", self.key or "", as_of, tz, ended=self.offset < 0)
        return periods.rolling(self.days or 30, as_of, tz)


def _most_recent(grain: str, key: str, as_of: datetime, tz: ZoneInfo, ended: bool = False) -> Period:
    """The latest month ("05") or quarter ("Q2") of that name that has started at as_of, to date if it
    is the current one: "May" in March 2026 is May 2025, on 10 May 2026 it is May 2026 so far.
    With `ended` ("last May"), the latest that is over: on 10 May 2026 that is May 2025."""
    per_year = {"month": 12, "quarter": 4}.get(grain)
    digits = key[1:] if grain == "quarter" and key[:1] in ("Q", "q") else key
    if per_year is None or not (digits.isascii() and digits.isdigit()) or not 1 <= int(digits) <= per_year:
        raise periods.PeriodError(f"{key!r} is not a {grain} of the year")
    n = int(digits)
    start = periods.current(grain, as_of, tz).start  # this month or quarter, in tz
    now_n = start.month if grain == "month" else (start.month - 1) // 3 + 1
    year = start.year if n < now_n or (n == now_n and not ended) else start.year - 1
    return periods.from_key(f"{year:04d}-{n:02d}" if grain == "month" else f"{year:04d}-Q{n}", as_of, tz)


@dataclass
class Query:
    kpi: str
    period: PeriodSpec | None = None  # None: the KPI's default grain, to date
    breakdown: str | None = None
    filters: dict[str, str] = field(default_factory=dict)  # dimension -> value as typed
    compare: Literal["previous", "yoy"] = "previous"
    chart: bool = False
    lang: Literal["en", "th"] = "en"  # the language the question was asked in

    def resolve_period(self, as_of: datetime, tz: ZoneInfo, default_grain: str) -> Period:
        spec = self.period or PeriodSpec("current", grain=default_grain)
        return spec.resolve(as_of, tz)


@dataclass
class HelpRequest:
    """`help`, `list` or an empty text."""

    topic: str | None = None  # a KPI key for "help win rate"
    lang: Literal["en", "th"] = "en"


class QueryError(ValueError):
    """Text that cannot be answered. `message` is one line for people; suggestions are "did you mean"."""

    def __init__(self, message: str, *, word: str | None = None, suggestions: list[str] | None = None,
                 lang: str = "en"):
        super().__init__(message)
        self.message = message
        self.word = word
        self.suggestions = suggestions or []
        self.lang = lang
