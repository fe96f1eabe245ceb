"""Instants, periods and comparison periods in the business timezone (kpis.md, Conventions).

All arithmetic is on wall-clock time in the business zone and localised after,
so "the same elapsed time from the previous period's start" and "one year
earlier" mean what a person means, also in zones with daylight saving.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

GRAINS = ("day", "week", "month", "quarter", "year")
# Besides GRAINS a Period's grain is "days" (a run of days: "last 30 days", "1-15 Nov") or "months"
# (a run of whole months: halves, fiscal years and quarters, "Oct to Nov", "last 6 months").


class PeriodError(ValueError):
    """A period that cannot be used (unparsable, in the future); the message is for people."""


# ---------------------------------------------------------------- instants

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# the years kpibot reads, in questions, --as-of and imported dates: enough room on both sides that a
# comparison period or a rollup a few years away stays inside what datetime can hold
YEARS = (1900, 2200)


def parse_instant(text: str, tz: ZoneInfo) -> datetime:
    """ISO date or timestamp -> aware datetime. No offset: read in `tz`; a bare date is 00:00."""
    s = text.strip()
    if not s:
        raise ValueError("empty timestamp")
    if _DATE_RE.match(s):
        d = date.fromisoformat(s)
        return datetime(d.year, d.month, d.day, tzinfo=tz)
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    dt = datetime.fromisoformat(s.replace(" ", "T", 1) if "T" not in s and " " in s else s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return dt


def to_epoch(dt: datetime) -> int:
    return int(dt.timestamp())


def from_epoch(ts: int | float, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ts, tz)


def _local(dt: datetime, tz: ZoneInfo) -> datetime:
    """Wall-clock naive time in tz."""
    return dt.astimezone(tz).replace(tzinfo=None)


def _aware(naive: datetime, tz: ZoneInfo) -> datetime:
    return naive.replace(tzinfo=tz)


# ---------------------------------------------------------------- grain arithmetic (naive wall clock)


def floor(naive: datetime, grain: str) -> datetime:
    d = naive.replace(hour=0, minute=0, second=0, microsecond=0)
    if grain == "day":
        return d
    if grain == "week":
        return d - timedelta(days=d.weekday())
    if grain == "month":
        return d.replace(day=1)
    if grain == "quarter":
        return d.replace(month=3 * ((d.month - 1) // 3) + 1, day=1)
    if grain == "year":
        return d.replace(month=1, day=1)
    raise ValueError(f"unknown grain {grain!r}")


def add_months(naive: datetime, months: int) -> datetime:
    y, m = divmod(naive.month - 1 + months, 12)
    year, month = naive.year + y, m + 1
    day = min(naive.day, calendar.monthrange(year, month)[1])
    return naive.replace(year=year, month=month, day=day)


def shift(naive: datetime, grain: str, n: int) -> datetime:
    if grain == "day":
        return naive + timedelta(days=n)
    if grain == "week":
        return naive + timedelta(weeks=n)
    if grain == "month":
        return add_months(naive, n)
    if grain == "quarter":
        return add_months(naive, 3 * n)
    if grain == "year":
        return add_months(naive, 12 * n)
    raise ValueError(f"unknown grain {grain!r}")


def period_key(naive_start: datetime, grain: str) -> str:
    if grain == "day":
        return naive_start.strftime("%Y-%m-%d")
    if grain == "week":
        y, w, _ = naive_start.isocalendar()
        return f"{y}-W{w:02d}"
    if grain == "month":
        return naive_start.strftime("%Y-%m")
    if grain == "quarter":
        return f"{naive_start.year}-Q{(naive_start.month - 1) // 3 + 1}"
    if grain == "year":
        return str(naive_start.year)
    raise ValueError(grain)


_KEY_PATTERNS = [
    (re.compile(r"^(\d{4})$"), "year"),
    (re.compile(r"^(\d{4})-[Qq]([1-4])$"), "quarter"),
    (re.compile(r"^(\d{4})-(\d{2})$"), "month"),
    (re.compile(r"^(\d{4})-[Ww](\d{2})$"), "week"),
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), "day"),
]


def parse_period_key(key: str) -> tuple[datetime, str]:
    """'2026', '2026-Q2', '2026-05', '2026-W19', '2026-05-04' -> (naive start, grain)."""
    k = key.strip()
    for rx, grain in _KEY_PATTERNS:
        m = rx.match(k)
        if not m:
            continue
        y = int(m.group(1))
        try:
            if grain == "year":
                return datetime(y, 1, 1), grain
            if grain == "quarter":
                return datetime(y, 3 * (int(m.group(2)) - 1) + 1, 1), grain
            if grain == "month":
                return datetime(y, int(m.group(2)), 1), grain
            if grain == "week":
                return datetime.fromisocalendar(y, int(m.group(2)), 1), grain
            return datetime(y, int(m.group(2)), int(m.group(3))), grain
        except ValueError as exc:
            raise PeriodError(f"{key!r} is not a real period ({exc})") from exc
    raise PeriodError(f"{key!r} is not a period key (use 2026, 2026-Q2, 2026-05, 2026-W19 or 2026-05-04)")


def key_span(key: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start, grain = parse_period_key(key)
    return _aware(start, tz), _aware(shift(start, grain, 1), tz)


# ---------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    """Half-open [start, end) in the business zone. `end` is cut at as_of for a to-date period."""

    label: str
    start: datetime
    end: datetime
    grain: str  # one of GRAINS, "days" or "months"
    full_end: datetime
    days: int = 0  # length of a "days" period
    months: int = 0  # length of a "months" period

    @property
    def to_date(self) -> bool:
        return self.end < self.full_end

    # cached: an alert run by rep looks its periods up by these hundreds of thousands of times
    @cached_property
    def start_ts(self) -> int:
        return to_epoch(self.start)

    @cached_property
    def end_ts(self) -> int:
        return to_epoch(self.end)

    @property
    def tz(self) -> ZoneInfo:
        return self.start.tzinfo  # type: ignore[return-value]

    def contains(self, dt: datetime) -> bool:
        return self.start <= dt < self.end

    def to_json(self) -> dict:
        return {
            "label": self.label,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "grain": self.grain,
            "to_date": self.to_date,
        }


def grain_period(naive_start: datetime, grain: str, tz: ZoneInfo, as_of: datetime | None) -> Period:
    """The period of `grain` starting at naive_start, cut at as_of when it has not ended."""
    start = _aware(naive_start, tz)
    full_end = _aware(shift(naive_start, grain, 1), tz)
    end = full_end
    if as_of is not None:
        if start > as_of:
            raise PeriodError(f"{period_key(naive_start, grain)} is in the future (as of {_fmt(as_of, tz)})")
        end = min(full_end, as_of)
    return Period(period_key(naive_start, grain), start, end, grain, full_end)


def current(grain: str, as_of: datetime, tz: ZoneInfo, offset: int = 0) -> Period:
    """This (offset 0) or an earlier (offset -1, …) period of `grain`, relative to as_of."""
    base = floor(_local(as_of, tz), grain)
    return grain_period(shift(base, grain, offset), grain, tz, as_of)


def rolling(days: int, as_of: datetime, tz: ZoneInfo) -> Period:
    local = _local(as_of, tz)
    start = _aware(local - timedelta(days=days), tz)
    end = _aware(local, tz)
    return Period(f"last {days} days", start, end, "days", end, days=days)


def from_key(key: str, as_of: datetime, tz: ZoneInfo) -> Period:
    start, grain = parse_period_key(key)
    return grain_period(start, grain, tz, as_of)


def previous(p: Period) -> Period:
    """P′: the preceding period of the same grain; like-for-like for a to-date period."""
    tz = p.tz
    if p.grain == "days":
        length = _local(p.full_end, tz) - _local(p.start, tz)
        start = _aware(_local(p.start, tz) - length, tz)
        end = _aware(_local(p.start, tz) - length + (_local(p.end, tz) - _local(p.start, tz)), tz)
        label = f"previous {p.days} days" if p.label.startswith("last ") else _days_label(start, p.start, tz)
        return Period(label, start, end, "days", p.start, days=p.days)
    if p.grain == "months":
        ps = add_months(_local(p.start, tz), -p.months)
        prev_full_end = _local(p.start, tz)
        end_naive = prev_full_end
        if p.to_date:
            end_naive = min(ps + (_local(p.end, tz) - _local(p.start, tz)), prev_full_end)
        label = (f"previous {p.months} months" if p.label.startswith("last ")
                 else months_label(ps, p.months, _fiscal_of(p.label, p.start, tz)))
        return Period(label, _aware(ps, tz), _aware(end_naive, tz), "months", _aware(prev_full_end, tz),
                      months=p.months)
    ps = shift(_local(p.start, tz), p.grain, -1)
    prev_full_end = _local(p.start, tz)
    if p.to_date:
        elapsed = _local(p.end, tz) - _local(p.start, tz)
        end_naive = min(ps + elapsed, prev_full_end)
    else:
        end_naive = prev_full_end
    return Period(period_key(ps, p.grain), _aware(ps, tz), _aware(end_naive, tz), p.grain, _aware(prev_full_end, tz))


def comparison_base(p: Period, compare: object) -> Period:
    """The period an answer compares with: "previous", "yoy", or a Period named in the question."""
    if isinstance(compare, Period):
        return compare
    return year_ago(p) if compare == "yoy" else previous(p)


def year_ago(p: Period) -> Period:
    tz = p.tz

    def back(dt: datetime) -> datetime:
        return _aware(add_months(_local(dt, tz), -12), tz)

    label = p.label
    if p.grain == "months" and not p.label.startswith("last "):
        label = months_label(add_months(_local(p.start, tz), -12), p.months, _fiscal_of(p.label, p.start, tz))
    elif p.grain == "days" and not p.label.startswith("last "):
        label = _days_label(back(p.start), back(p.full_end), tz)
    elif p.grain in GRAINS:
        label = period_key(add_months(_local(p.start, tz), -12), p.grain)
        if p.grain == "week":  # ISO week 19 a year earlier starts on another date
            y, w, _ = _local(p.start, tz).isocalendar()
            label = f"{y - 1}-W{w:02d}"
    else:
        label = f"{p.label}, a year earlier"
    return Period(label, back(p.start), back(p.end), p.grain, back(p.full_end), days=p.days, months=p.months)


def earlier(p: Period, n: int) -> list[Period]:
    """The n periods before p, newest first: previous() again and again, so complete periods come
    before a complete one and like-for-like cuts before a to-date one (alert rules, digest movers)."""
    out, cur = [], p
    for _ in range(n):
        cur = previous(cur)
        out.append(cur)
    return out


def trailing(p: Period, n: int) -> list[Period]:
    """The n periods of p's grain ending with p (oldest first); for trends and charts."""
    out = [p]
    cur = p
    for _ in range(n - 1):
        if cur.grain in ("days", "months"):
            cur = previous(replace(cur, end=cur.full_end))
        else:
            tz = cur.tz
            ps = shift(_local(cur.start, tz), cur.grain, -1)
            cur = grain_period(ps, cur.grain, tz, None)
        out.append(cur)
    return list(reversed(out))


def within(p: Period, grain: str, as_of: datetime) -> list[Period]:
    """The periods of `grain` that make up p, oldest first, the one running at as_of cut there: the
    months of this year so far ("monthly revenue this year"). The first starts where p's start falls."""
    tz = p.tz
    cur = floor(_local(p.start, tz), grain)
    end = min(p.end, as_of)
    out: list[Period] = []
    while _aware(cur, tz) < end and len(out) < 400:
        out.append(grain_period(cur, grain, tz, as_of))
        cur = shift(cur, grain, 1)
    return out


# ---------------------------------------------------------------- runs of months and days


def fiscal_year_start(naive: datetime, start_month: int) -> datetime:
    """The first day of the fiscal year that contains `naive`, for years starting in start_month."""
    y = naive.year if naive.month >= start_month else naive.year - 1
    return datetime(y, start_month, 1)


def fiscal_year_name(fy_start: datetime) -> int:
    """A fiscal year is named after the calendar year it ends in (FY2026 = Oct 2025 - Sep 2026 when
    years start in October), as the Thai government and most US companies name theirs."""
    return fy_start.year if fy_start.month == 1 else fy_start.year + 1


def months_label(naive_start: datetime, months: int, fiscal_start: int = 1) -> str:
    """The key-like label of a run of whole months: 2026-H1, FY2026, FY2026-Q3, 2026-10..2026-11."""
    m = naive_start.month
    if fiscal_start != 1 and naive_start.day == 1:
        fy = fiscal_year_start(naive_start, fiscal_start)
        name = fiscal_year_name(fy)
        offset = (m - fiscal_start) % 12
        if months == 12 and offset == 0:
            return f"FY{name}"
        if months == 6 and offset in (0, 6):
            return f"FY{name}-H{offset // 6 + 1}"
        if months == 3 and offset % 3 == 0:
            return f"FY{name}-Q{offset // 3 + 1}"
    if naive_start.day == 1 and months == 6 and m in (1, 7):
        return f"{naive_start.year}-H{1 if m == 1 else 2}"
    if naive_start.day == 1 and months == 12 and m == 1:
        return str(naive_start.year)
    last = add_months(naive_start, months - 1)
    return f"{naive_start:%Y-%m}..{last:%Y-%m}"


def _fiscal_of(label: str, start: datetime, tz: ZoneInfo) -> int:
    """The fiscal start month a months label was made with (1 unless it names a fiscal period)."""
    if not label.startswith("FY"):
        return 1
    m = _local(start, tz).month
    if "-Q" in label:
        q = int(label.rsplit("Q", 1)[1])
        return (m - 3 * (q - 1) - 1) % 12 + 1
    if "-H" in label:
        h = int(label.rsplit("H", 1)[1])
        return (m - 6 * (h - 1) - 1) % 12 + 1
    return m


def months_period(naive_start: datetime, months: int, tz: ZoneInfo, as_of: datetime | None,
                  fiscal_start: int = 1, label: str | None = None) -> Period:
    """A run of whole months from naive_start, cut at as_of when it has not ended."""
    label = label or months_label(naive_start, months, fiscal_start)
    start = _aware(naive_start, tz)
    full_end = _aware(add_months(naive_start, months), tz)
    end = full_end
    if as_of is not None:
        if start > as_of:
            raise PeriodError(f"{label} is in the future (as of {_fmt(as_of, tz)})")
        end = min(full_end, as_of)
    return Period(label, start, end, "months", full_end, months=months)


def rolling_months(months: int, as_of: datetime, tz: ZoneInfo) -> Period:
    """The last n months up to as_of (from the same time of day n months before)."""
    local = _local(as_of, tz)
    return Period(f"last {months} months", _aware(add_months(local, -months), tz), _aware(local, tz), "months",
                  _aware(local, tz), months=months)


def _days_label(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    a, b = _local(start, tz), _local(end, tz) - timedelta(days=1)
    return f"{a:%Y-%m-%d}..{b:%Y-%m-%d}"


def days_period(first: date, last: date, tz: ZoneInfo, as_of: datetime | None) -> Period:
    """The days first..last (both included), cut at as_of when they have not ended."""
    start = _aware(datetime(first.year, first.month, first.day), tz)
    full_end = _aware(datetime(last.year, last.month, last.day) + timedelta(days=1), tz)
    label = _days_label(start, full_end, tz)
    end = full_end
    if as_of is not None:
        if start > as_of:
            raise PeriodError(f"{label} is in the future (as of {_fmt(as_of, tz)})")
        end = min(full_end, as_of)
    return Period(label, start, end, "days", full_end, days=(last - first).days + 1)


def day_number(ts: int | float, tz: ZoneInfo) -> int:
    """The calendar day an instant falls on in tz, counted up: a day that has begun counts whole
    (00:00 exactly belongs to no day yet). Day numbers subtract to calendar days."""
    d = datetime.fromtimestamp(ts, tz)
    n = d.date().toordinal()
    return n + 1 if (d.hour, d.minute, d.second, d.microsecond) != (0, 0, 0, 0) else n


def calendar_days(start_ts: int | float, end_ts: int | float, tz: ZoneInfo) -> int:
    """Calendar days in [start, end), the day in progress counted whole (targets.py, pacing)."""
    return max(0, day_number(end_ts, tz) - day_number(start_ts, tz))


def with_end(p: Period, end: datetime) -> Period:
    return replace(p, end=end)


def _fmt(dt: datetime, tz: ZoneInfo) -> str:
    return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def now(tz: ZoneInfo) -> datetime:
    """The only place the engine reads the clock (CLI and service edges call this)."""
    return datetime.now(tz)


def parse_as_of(text: str | None, tz: ZoneInfo) -> datetime:
    if text is None or text == "":
        return now(tz)
    try:
        at = parse_instant(text, tz)
    except ValueError as exc:
        raise PeriodError(f"--as-of {text!r} is not an ISO date or timestamp (e.g. 2026-05-04)") from exc
    if not YEARS[0] <= at.year <= YEARS[1]:
        raise PeriodError(f"--as-of {text!r}: the year must be between {YEARS[0]} and {YEARS[1]}")
    return at
