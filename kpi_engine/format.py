"""Numbers, changes, periods and dates as people read them, in English or Thai.

The one place periods and dates are put into words: the CLI, Slack answers, digests, alerts, the
Home tab and chart axes all call these, so a value or a date reads the same everywhere. Thai text
shows Buddhist-era years (พ.ค. 2569) unless the install says otherwise (config `thai_years`);
English keeps the Christian era.
"""

from __future__ import annotations

from datetime import date as _date
from datetime import datetime, timedelta
from functools import lru_cache

from kpi_engine import periods as _periods
from kpi_engine.periods import Period

CURRENCY_SYMBOLS = {"THB": "฿", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "SGD": "S$"}
MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
MONTHS_TH = ["ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค."]

WORDS = {
    "to_date": ("to date", "ถึงปัจจุบัน"),
    "vs": ("vs", "เทียบกับ"),
    "target": ("Target", "เป้าหมาย"),
    "attainment": ("attainment", "ทำได้"),
    "days": ("days", "วัน"),
    "day": ("day", "วัน"),
    "per_day": ("/day", "/วัน"),
    "no_data": ("no data", "ไม่มีข้อมูล"),
    "low_sample": ("low sample", "ตัวอย่างน้อย"),
    "and_more": ("and {n} more", "และอีก {n} รายการ"),
    "total": ("Total", "รวม"),
    "last": ("last", "ล่าสุด"),
    "by": ("by", "แยกตาม"),
    "filtered": ("filtered", "กรอง"),
    "share": ("Share to channel", "แชร์ในช่อง"),
    "shared_by": ("shared by", "แชร์โดย"),
    "pp": ("pp", "จุด"),
    "no_change": ("no change", "ไม่เปลี่ยนแปลง"),
    "year_ago": ("a year earlier", "ปีก่อน"),
    "data_to": ("data to {when}", "ข้อมูลถึง {when}"),
}

DIMENSIONS = {
    "rep": ("rep", "ตัวแทนขาย"),
    "team": ("team", "ทีม"),
    "region": ("region", "ภูมิภาค"),
    "product": ("product", "สินค้า"),
    "segment": ("segment", "กลุ่มลูกค้า"),
    "channel": ("channel", "ช่องทาง"),
    "stage": ("stage", "ขั้นตอน"),
    "type": ("type", "ประเภท"),
    "action": ("action", "การกระทำ"),
}


# Thai business writing counts years from the Buddha's passing: 2026 CE is 2569 BE.
BE_OFFSET = 543
_thai_years = "buddhist"


def set_thai_years(era: str) -> None:
    """"buddhist" (the default) or "gregorian": the install's choice for Thai text (config `thai_years`).
    One process serves one workspace, so this is set once when the engine is built from the config."""
    global _thai_years
    if era not in ("buddhist", "gregorian"):
        raise ValueError(f"thai_years must be 'buddhist' or 'gregorian', not {era!r}")
    _thai_years = era


def thai_years() -> str:
    return _thai_years


def year(y: int, lang: str = "en") -> int:
    """A calendar year as shown to a reader of `lang`."""
    return y + BE_OFFSET if lang == "th" and _thai_years == "buddhist" else y


def _months(lang: str) -> list[str]:
    return MONTHS_TH if lang == "th" else MONTHS_EN


def day(d: _date | datetime, lang: str = "en", with_year: bool = True) -> str:
    """'5 May 2026' / '5 พ.ค. 2569' (without the year: '5 May')."""
    text = f"{d.day} {_months(lang)[d.month - 1]}"
    return f"{text} {year(d.year, lang)}" if with_year else text


def moment(dt: datetime, lang: str = "en", tz=None) -> str:
    """An instant to the minute: '13 May 2026 12:00' / '13 พ.ค. 2569 12:00' (in `tz` when given)."""
    if tz is not None:
        dt = dt.astimezone(tz)
    return f"{day(dt, lang)} {dt:%H:%M}"


def day_span(first: _date | datetime, last: _date | datetime, lang: str = "en", with_year: bool = True) -> str:
    """Two days, both included: '16 – 22 Nov 2026', '28 Dec 2026 – 3 Jan 2027', '16 พ.ย. – 22 พ.ย. 2569'."""
    if first.year != last.year:
        return f"{day(first, lang)} – {day(last, lang, with_year)}"
    if first.month == last.month:
        head = f"{first.day}" if first.day != last.day else ""
        tail = day(last, lang, with_year)
        return f"{head} – {tail}" if head else tail
    return f"{day(first, lang, False)} – {day(last, lang, with_year)}"


def last_day(p: Period) -> datetime:
    """The last day a period covers (its end is exclusive)."""
    return p.end - timedelta(seconds=1) if p.end > p.start else p.start


def word(key: str, lang: str = "en", **kw) -> str:
    en, th = WORDS[key]
    return (th if lang == "th" else en).format(**kw)


def dimension(dim: str, lang: str = "en") -> str:
    en, th = DIMENSIONS.get(dim, (dim, dim))
    return th if lang == "th" else en


def _grouped(x: float, decimals: int) -> str:
    return f"{x:,.{decimals}f}"


def money(x: float, currency: str = "THB", compact: bool = False, whole: bool = False) -> str:
    sym = CURRENCY_SYMBOLS.get(currency)
    sign = "-" if x < 0 else ""
    x = abs(x)
    if compact and x >= 1_000_000:
        body = f"{x / 1_000_000:,.2f}M"
    elif compact and x >= 10_000:
        body = f"{x / 1_000:,.1f}k"
    else:
        body = _grouped(x, 0 if whole or x >= 1000 or x == 0 or (compact and float(x).is_integer()) else 2)
    return f"{sign}{sym}{body}" if sym else f"{sign}{body} {currency}"


def value(x: float | None, unit: str, currency: str = "THB", lang: str = "en", compact: bool = False,
          whole: bool = False) -> str:
    """`whole`: a count that stands for things one cannot have part of (a deal target, a projected
    number of deals) is shown as a whole number."""
    if x is None:
        return "—"
    if unit == "currency":
        return money(x, currency, compact, whole)
    if unit == "currency_per_day":
        return money(x, currency, compact) + word("per_day", lang)
    if unit == "ratio":
        return f"{x * 100:.1f} %"
    if unit == "days":
        return f"{x:,.1f} {word('days', lang)}"
    if unit == "score":
        return f"{x:.2f} / 5"
    if unit == "count":
        if whole:
            return _grouped(round(x), 0)
        return _grouped(x, 0) if float(x).is_integer() else _grouped(x, 1)
    return f"{x:,.2f}"


def change(ch: float | None, kind: str, lang: str = "en") -> str:
    if ch is None:
        return "—"
    if kind == "points":
        pts = ch * 100
        return f"{pts:+.1f} {word('pp', lang)}"
    return f"{ch * 100:+.1f} %"


def attainment(att: float | None, shown_value: str | None = None, shown_target: str | None = None) -> str:
    """Attainment (computed from unrounded figures) as a percentage that cannot contradict the figures
    shown beside it: 100 % exactly when they read the same, and never 100 % when they read differently
    (then one decimal says which side of the target it is)."""
    if att is None:
        return "—"
    pct = att * 100
    if shown_value is not None and shown_value == shown_target:
        return "100 %"
    text = f"{pct:.0f} %"
    if text == "100 %" and shown_value is not None and shown_target is not None and pct != 100:
        text = f"{pct:.1f} %"
        if text == "100.0 %":
            text = "99.9 %" if pct < 100 else "100.1 %"
    return text


def arrow(ch: float | None) -> str:
    if ch is None or ch == 0:
        return "→"
    return "▲" if ch > 0 else "▼"


def period_label(p: Period, lang: str = "en", with_year: bool = True) -> str:
    """'Q2 2026 (to date)', 'May 2026', 'W19 2026', 'last 30 days (14 Apr – 13 May 2026)';
    Thai names and Buddhist-era years when lang is th. A rolling window is named by its dates,
    so "last 30 days" is never compared with "last 30 days"."""
    start = p.start
    g = p.grain
    th = lang == "th"
    y = year(start.year, lang)
    if g in ("months", "days") and not p.label.startswith(("last ", "previous ")):
        text = _span_label(p, lang, with_year)
    elif g == "months":
        span = day_span(start, last_day(p), lang, with_year)
        if not p.label.startswith("last"):
            return span
        return f"{p.months} เดือนล่าสุด ({span})" if th else f"last {p.months} months ({span})"
    elif g == "year":
        text = f"{'ปี ' if th else ''}{y}"
    elif g == "quarter":
        q = (start.month - 1) // 3 + 1
        text = f"ไตรมาส {q}/{y}" if th else f"Q{q} {y}"
    elif g == "month":
        text = f"{_months(lang)[start.month - 1]} {y}"
    elif g == "week":
        iso_y, w, _ = start.isocalendar()
        text = f"สัปดาห์ {w}/{year(iso_y, lang)}" if th else f"W{w} {year(iso_y, lang)}"
    elif g == "day":
        text = day(start, lang)
    else:
        span = day_span(start, last_day(p), lang, with_year)
        if not p.label.startswith("last"):
            return span
        days = p.days or round((p.end - p.start).total_seconds() / 86400)
        return f"{days} วันล่าสุด ({span})" if th else f"last {days} days ({span})"
    if p.to_date:
        text += f" ({word('to_date', lang)})"
    return text


_HALVES_TH = {"1": "ครึ่งปีแรก", "2": "ครึ่งปีหลัง"}


def _span_label(p: Period, lang: str, with_year: bool = True) -> str:
    """Halves, fiscal periods, runs of months and runs of days: 'H1 2026', 'FY2026', 'Q3 FY2026',
    'Oct – Nov 2026', '1 – 15 Nov 2026' (Thai: 'ครึ่งปีแรก 2569', 'ปีงบประมาณ 2569', …)."""
    th = lang == "th"
    label = p.label
    if p.grain == "months" and label.startswith("FY"):
        name, _, part = label[2:].partition("-")
        shown = year(int(name), lang)
        if not part:
            return f"ปีงบประมาณ {shown}" if th else label
        if part.startswith("Q"):
            return f"ไตรมาส {part[1:]} ปีงบ {shown}" if th else f"{part} FY{name}"
        return f"{_HALVES_TH[part[1:]]} ปีงบ {shown}" if th else f"{part} FY{name}"
    if p.grain == "months" and "-H" in label:
        y, half = label.split("-H")
        return f"{_HALVES_TH[half]} {year(int(y), lang)}" if th else f"H{half} {y}"
    if p.grain == "months" and label.isdigit():
        return f"ปี {year(int(label), lang)}" if th else label
    return date_range(p, lang, whole_months=p.grain == "months", with_year=with_year)


def date_range(p: Period, lang: str = "en", whole_months: bool = False, with_year: bool = True) -> str:
    """The days a period covers: '1 Jul – 30 Sep 2026', '1 – 18 Nov 2026', '3 Nov 2026' (a to-date
    period ends on the day of its as_of); with whole_months: 'Oct – Nov 2026'."""
    tz = p.tz
    a, b = p.start.astimezone(tz), last_day(p).astimezone(tz)
    if not whole_months:
        return day_span(a, b, lang, with_year)
    months = _months(lang)
    if (a.year, a.month) == (b.year, b.month):
        return f"{months[a.month - 1]} {year(a.year, lang)}"
    if a.year == b.year:
        return f"{months[a.month - 1]} – {months[b.month - 1]} {year(a.year, lang)}"
    return f"{months[a.month - 1]} {year(a.year, lang)} – {months[b.month - 1]} {year(b.year, lang)}"


def short_period(p: Period, lang: str = "en") -> str:
    """A period without "(to date)", for axes and the ends of a trend; a rolling window as its dates."""
    if p.grain not in ("year", "quarter", "month", "week", "day"):
        return day_span(p.start, last_day(p), lang, with_year=False)
    return period_label(p, lang).split(" (")[0]


def key_label(key: str | None, lang: str = "en") -> str:
    """A stored period key (2026-W47, 2026-Q3, 2026-05) as people read it; anything else unchanged."""
    if not key:
        return ""
    return _key_label(key, lang)


@lru_cache(maxsize=1024)  # every alert message of a per-rep rule names the same few periods
def _key_label(key: str, lang: str) -> str:
    try:
        start, grain = _periods.parse_period_key(key)
    except _periods.PeriodError:
        return key
    from zoneinfo import ZoneInfo

    return period_label(_periods.grain_period(start, grain, ZoneInfo("UTC"), None), lang)


def date_time(ts: int | float, tz, lang: str = "en", *, with_year: bool = True) -> str:
    """'29 Nov 2026 14:00' ('29 พ.ย. 2569 14:00' in Buddhist-era years), optionally without the year."""
    d = datetime.fromtimestamp(ts, tz)
    return f"{day(d, lang, with_year)} {d:%H:%M}"


def data_to(ts: int | float, tz, lang: str = "en", now=None) -> str:
    """How fresh the data behind a number is: 'data to 29 Nov 14:00' ('ข้อมูลถึง 29 พ.ย. 14:00').
    The year is shown when it is not the year of `now` (the answer's as-of)."""
    same_year = now is not None and datetime.fromtimestamp(ts, tz).year == now.astimezone(tz).year
    return word("data_to", lang, when=date_time(ts, tz, lang, with_year=not same_year))
