"""What a person asks, as data: the parser produces it, the engine answers it."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from kpi_engine import periods
from kpi_engine.periods import Period

# (year or 0 for "the latest that has started", month, day); a range's end day is included
DayRef = tuple[int, int, int]


@dataclass(frozen=True)
class PeriodSpec:
    """A period as typed, resolved against as_of later (so the same text means the same at any time).

    kinds:
      current  this/last/N ago of a grain: day, week, month, quarter, half, year, fiscal_year
      key      2026, 2026-Q2, 2026-05, 2026-W19, 2026-05-04, 2026-H1, FY2026, FY2026-Q3, FY2026-H1
      recent   a month ("05"), quarter ("Q2") or half ("H1") without a year: the latest that has
               started (offset -1: the latest that has ended); with `years`, the one of that calendar
               year relative to as_of's ("Q4 last year": years=-1)
      rolling  the last N days (`days`), or N weeks, months, quarters or years (`grain`, `n`)
      range    from `start` to `end` (days included; end None: up to as_of)
      since    from the first day of `inner` (a period said relative to as_of: "since last week",
               "ตั้งแต่เดือนที่แล้ว", "since yesterday") up to as_of
    """

    kind: Literal["current", "key", "rolling", "recent", "range", "since"]
    grain: str | None = None
    offset: int = 0  # current: 0 = this, -1 = last, -2 …; recent: 0 = latest started, -1 = latest ended
    key: str | None = None
    days: int | None = None  # rolling: last N days
    text: str = ""
    n: int | None = None  # rolling: N of grain
    years: int | None = None  # recent: in the calendar year as_of.year + years
    start: DayRef | None = None  # range
    end: DayRef | None = None  # range; None: up to as_of
    fiscal_start: int = 1  # the month fiscal years start in (kinds that name fiscal periods)
    inner: PeriodSpec | None = None  # since

    def resolve(self, as_of: datetime, tz: ZoneInfo) -> Period:
        if self.kind == "current":
            return _current(self.grain or "month", as_of, tz, self.offset, self.fiscal_start)
        if self.kind == "key":
            return _from_key(self.key or "", as_of, tz, self.fiscal_start)
        if self.kind == "recent":
            if self.years is not None:
                return _in_year(self.grain or "month", self.key or "", as_of, tz, self.years, self.fiscal_start)
            return _most_recent(self.grain or "month", self.key or "", as_of, tz, ended=self.offset < 0)
        if self.kind == "range":
            return _range(self.start or (0, 1, 1), self.end, as_of, tz, week=self.grain == "week")
        if self.kind == "since" and self.inner is not None:
            p = self.inner.resolve(as_of, tz)
            if p.start > as_of:
                raise periods.PeriodError(f"{p.label} is in the future (as of {as_of.astimezone(tz):%Y-%m-%d %H:%M})")
            first = p.start.astimezone(tz).date()
            return _range((first.year, first.month, first.day), None, as_of, tz)
        if self.grain and self.grain != "day":
            months = {"week": 0, "month": 1, "quarter": 3, "half": 6, "year": 12}.get(self.grain, 1) * (self.n or 1)
            if self.grain == "week":
                return periods.rolling(7 * (self.n or 1), as_of, tz)
            return periods.rolling_months(months, as_of, tz)
        return periods.rolling(self.days or self.n or 30, as_of, tz)

    @property
    def future(self) -> bool:
        """Said to be in the future whatever as_of is ("next month")."""
        return self.kind == "current" and self.offset > 0


def _current(grain: str, as_of: datetime, tz: ZoneInfo, offset: int, fiscal_start: int) -> Period:
    if grain in periods.GRAINS:
        return periods.current(grain, as_of, tz, offset)
    local = as_of.astimezone(tz).replace(tzinfo=None)
    if grain == "half":
        base = datetime(local.year, 1 if local.month <= 6 else 7, 1)
        return periods.months_period(periods.add_months(base, 6 * offset), 6, tz, as_of)
    if grain == "fiscal_year":
        base = periods.fiscal_year_start(local, fiscal_start)
        return periods.months_period(periods.add_months(base, 12 * offset), 12, tz, as_of, fiscal_start)
    raise periods.PeriodError(f"{grain!r} is not a period grain")


def _from_key(key: str, as_of: datetime, tz: ZoneInfo, fiscal_start: int) -> Period:
    """Period keys, plus halves (2026-H1) and fiscal periods (FY2026, FY2026-Q3, FY2026-H1)."""
    k = key.strip().upper()
    if k.startswith("FY"):
        body, _, part = k[2:].partition("-")
        if not (body.isdigit() and len(body) == 4):
            raise periods.PeriodError(f"{key!r} is not a fiscal year (use FY2026)")
        name = int(body)
        # FY2026 ends in 2026: it starts in fiscal_start of 2025, or January 2026 for calendar years
        fy = datetime(name if fiscal_start == 1 else name - 1, fiscal_start, 1)
        if not part:
            return periods.months_period(fy, 12, tz, as_of, fiscal_start)
        size = {"Q": 3, "H": 6}.get(part[:1])
        count = {"Q": 4, "H": 2}.get(part[:1], 0)
        if size is None or not part[1:].isdigit() or not 1 <= int(part[1:]) <= count:
            raise periods.PeriodError(f"{key!r} is not a fiscal quarter or half")
        return periods.months_period(periods.add_months(fy, size * (int(part[1:]) - 1)), size, tz, as_of,
                                     fiscal_start)
    if len(k) == 7 and k[4:6] == "-H" and k[:4].isdigit() and k[6] in "12":
        return periods.months_period(datetime(int(k[:4]), 1 if k[6] == "1" else 7, 1), 6, tz, as_of)
    return periods.from_key(key, as_of, tz)


_PER_YEAR = {"month": 12, "quarter": 4, "half": 2}


def _part_number(grain: str, key: str) -> int:
    per_year = _PER_YEAR.get(grain)
    digits = key[1:] if grain in ("quarter", "half") and key[:1] in ("Q", "q", "H", "h") else key
    if per_year is None or not (digits.isascii() and digits.isdigit()) or not 1 <= int(digits) <= per_year:
        raise periods.PeriodError(f"{key!r} is not a {grain} of the year")
    return int(digits)


def _part(grain: str, year: int, n: int, as_of: datetime, tz: ZoneInfo) -> Period:
    if grain == "month":
        return periods.from_key(f"{year:04d}-{n:02d}", as_of, tz)
    if grain == "quarter":
        return periods.from_key(f"{year:04d}-Q{n}", as_of, tz)
    return periods.months_period(datetime(year, 1 if n == 1 else 7, 1), 6, tz, as_of)


def _most_recent(grain: str, key: str, as_of: datetime, tz: ZoneInfo, ended: bool = False) -> Period:
    """The latest month ("05"), quarter ("Q2") or half ("H1") of that name that has started at as_of,
    to date if it is the current one: "May" in January 2026 is May 2025, on 10 May 2026 it is May 2026
    so far; a month one or two ahead ("May" in March) is this year's, still to come. With `ended`
    ("last May"), the latest that is over: on 10 May 2026 that is May 2025."""
    local = as_of.astimezone(tz)
    if grain in ("weekday", "named_day"):
        # the latest Monday (today if it is one): from it to as_of ("since monday"), or that day ("on
        # monday"); with `ended` ("last monday") the latest before today
        back = (local.isoweekday() - int(key)) % 7 or (7 if ended else 0)
        day = local.date() - timedelta(days=back)
        if grain == "named_day":
            return periods.from_key(day.isoformat(), as_of, tz)
        return _range((day.year, day.month, day.day), None, as_of, tz)
    if grain == "weekdays":
        # "monday to wednesday": from the latest such first day (today if it is one) to the second
        a, b = (int(x) for x in key.split("-"))
        first = local.date() - timedelta(days=(local.isoweekday() - a) % 7)
        last = first + timedelta(days=(b - a) % 7)  # still running: cut at as_of
        return periods.days_period(first, last, tz, as_of)
    if grain == "weekend":
        # the latest Saturday that has started and its Sunday (to date during it); "last weekend" said on
        # a weekend is the one before
        sat = local.date() - timedelta(days=(local.isoweekday() - 6) % 7)
        if ended and local.isoweekday() >= 6:
            sat -= timedelta(days=7)
        return periods.days_period(sat, sat + timedelta(days=1), tz, as_of)
    if grain == "month_day":  # "since the 1st": that day of this month, or of the last month that has it
        day, y, mo = int(key), local.year, local.month
        if day > local.day:  # still to come this month
            y, mo = (y, mo - 1) if mo > 1 else (y - 1, 12)
            while day > calendar.monthrange(y, mo)[1]:
                y, mo = (y, mo - 1) if mo > 1 else (y - 1, 12)
        return _range((y, mo, day), None, as_of, tz)
    if grain == "quarter_start":  # "since Q2": from the start of the latest Q2 that has started
        n = _part_number("quarter", key)
        year = local.year if n <= (local.month - 1) // 3 + 1 else local.year - 1
        return _range((year, 3 * n - 2, 1), None, as_of, tz)
    if grain == "week":  # ISO week n of this ISO year if it has started, else of the year before
        n = int(key) if key.isdigit() else 0
        y, now_w, _ = local.isocalendar()
        if now_w < n <= now_w + 8 and not ended:
            # a week a few weeks ahead is this year's, still to come, not the same week last year
            raise periods.PeriodError(f"{y}-W{n:02d} is in the future (as of {local:%Y-%m-%d %H:%M})")
        year = y if n < now_w or (n == now_w and not ended) else y - 1
        try:
            date.fromisocalendar(year, n, 1)
        except ValueError:
            raise periods.PeriodError(f"{year} has no ISO week {n}") from None
        return periods.from_key(f"{year:04d}-W{n:02d}", as_of, tz)
    n = _part_number(grain, key)
    size = 12 // _PER_YEAR[grain]
    now_n = (local.month - 1) // size + 1
    if grain == "month" and not ended and 0 < (n - now_n) % 12 <= 2:
        # "bookings for December" in November, "January" in December: the one still to come, not the one
        # eleven months back (as an ISO week a few weeks ahead is); "last December", "December 2025" is that one
        ahead = local.year + (n < now_n)
        raise periods.PeriodError(f"{ahead}-{n:02d} is in the future (as of {local:%Y-%m-%d %H:%M}); "
                                  f"for the one before, ask for {ahead - 1}-{n:02d}")
    year = local.year if n < now_n or (n == now_n and not ended) else local.year - 1
    return _part(grain, year, n, as_of, tz)


def _in_year(grain: str, key: str, as_of: datetime, tz: ZoneInfo, years: int, fiscal_start: int = 1) -> Period:
    """That month, quarter or half of a calendar year counted from as_of's ("Q4 last year"); a
    fiscal quarter or half of a fiscal year counted from as_of's ("Q1 ปีงบนี้", "H2 of last FY")."""
    if grain in ("fiscal_quarter", "fiscal_half"):
        local = as_of.astimezone(tz).replace(tzinfo=None)
        name = periods.fiscal_year_name(periods.fiscal_year_start(local, fiscal_start)) + years
        return _from_key(f"FY{name:04d}-{key}", as_of, tz, fiscal_start)
    return _part(grain, as_of.astimezone(tz).year + years, _part_number(grain, key), as_of, tz)


def _day(year: int, month: int, day: int, last: bool) -> date:
    """A day of a range; day 0 is the month's first day, or its last for the end of a range."""
    if day == 0:
        return date(year, month, calendar.monthrange(year, month)[1] if last else 1)
    return date(year, month, day)


def _range(start: DayRef, end: DayRef | None, as_of: datetime, tz: ZoneInfo, week: bool = False) -> Period:
    """Days or whole months from start to end (included). Without years: the latest such run that
    has started at as_of, the end in the start's year or the next ("Nov to Feb"). `week`: the
    Monday-to-Sunday weeks that hold those days ("the week of nov 2")."""
    local = as_of.astimezone(tz)
    sy, sm, sd = start
    try:
        ahead = None
        if not sy:
            sy = local.year
            if _day(sy, sm, sd, False) > local.date():
                if end is not None and (sm - local.month) % 12 <= 2:
                    ahead = _day(sy, sm, sd, False)  # "since December" looks back: only a span can be ahead
                sy -= 1
        first = _day(sy, sm, sd, False)
        if end is None:
            last = local.date()
            whole = sd in (0, 1)
        else:
            ey, em, ed = end
            if not ey:
                ey = sy if (em, ed or 31) >= (sm, sd or 1) else sy + 1
            last = _day(ey, em, ed, True)
            whole = sd in (0, 1) and (ed == 0 or ed == calendar.monthrange(ey, em)[1])
    except ValueError as exc:
        raise periods.PeriodError(f"no such date ({exc})") from None
    if ahead is not None:
        # "1 Dec to 15 Dec" asked on 18 Nov, "on 25 Nov": days still to come, not the ones a year back
        raise periods.PeriodError(f"{ahead.isoformat()} is in the future (as of {local:%Y-%m-%d %H:%M})")
    if last < first:
        raise periods.PeriodError(f"{first.isoformat()} .. {last.isoformat()} ends before it starts")
    if week:
        first -= timedelta(days=first.weekday())
        last += timedelta(days=6 - last.weekday())
        return periods.days_period(first, last, tz, as_of)
    if whole:
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        return periods.months_period(datetime(first.year, first.month, 1), months, tz, as_of)
    return periods.days_period(first, last, tz, as_of)


@dataclass(frozen=True)
class Rank:
    """Only the first n rows of a breakdown ("top 5 reps"): highest values first (order "desc") or
    lowest first ("asc"); n None keeps every row in that order ("rank teams by win rate")."""

    order: Literal["desc", "asc"] = "desc"
    n: int | None = None


@dataclass
class Query:
    kpi: str
    period: PeriodSpec | None = None  # None: the KPI's default grain, to date
    breakdown: str | None = None
    filters: dict[str, str] = field(default_factory=dict)  # dimension -> value as typed
    compare: Literal["previous", "yoy", "period"] = "previous"
    chart: bool = False
    # "monthly revenue this year": the chart's points are the months inside the period, not the
    # periods before it (None: the periods of the question's own grain, ending with it)
    trend: str | None = None
    lang: Literal["en", "th"] = "en"  # the language the question was asked in
    compare_period: PeriodSpec | None = None  # compare "period": the period named after "vs"
    rank: Rank | None = None
    # "my revenue" / "my team": the asking person's rep or team, filled in by whoever knows who asks
    # (kpi_engine.reading.for_user); until then the question cannot be answered
    mine: Literal["rep", "team"] | None = None
    # how the text was read (tokens, entities, corrections, assumptions): kpi_engine.reading.Reading
    reading: object | None = field(default=None, compare=False, repr=False)

    def resolve_period(self, as_of: datetime, tz: ZoneInfo, default_grain: str) -> Period:
        spec = self.period or PeriodSpec("current", grain=default_grain)
        return spec.resolve(as_of, tz)

    def resolve_comparison(self, period: Period, as_of: datetime, tz: ZoneInfo) -> Period:
        if self.compare == "period" and self.compare_period is not None:
            return self.compare_period.resolve(as_of, tz)
        return periods.comparison_base(period, self.compare)


@dataclass
class HelpRequest:
    """`help`, `list` or an empty text."""

    topic: str | None = None  # a KPI key for "help win rate"
    lang: Literal["en", "th"] = "en"


class QueryError(ValueError):
    """Text that cannot be answered. `message` is one line for people; suggestions are "did you mean".

    `choices` are whole questions to offer instead (label, question text), at most three: the readings
    that were too close to pick one ("enterprise": the team or the segment?).
    """

    def __init__(self, message: str, *, word: str | None = None, suggestions: list[str] | None = None,
                 lang: str = "en", choices: list[tuple[str, str]] | None = None,
                 texts: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.word = word
        self.suggestions = suggestions or []
        self.lang = lang
        self.choices = (choices or [])[:3]
        self.texts = texts or {}  # the message in each language it was written in

    def message_for(self, lang: str) -> str:
        """The message in the reader's language when it was written in it, else as raised."""
        return self.texts.get(lang, self.message)
