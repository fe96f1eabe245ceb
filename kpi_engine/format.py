"""Numbers, changes and periods as people read them, in English or Thai.

Shared by the CLI, Slack answers and digests so that a value reads the same everywhere.
"""

from __future__ import annotations

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


def word(key: str, lang: str = "en", **kw) -> str:
    en, th = WORDS[key]
    return (th if lang == "th" else en).format(**kw)


def dimension(dim: str, lang: str = "en") -> str:
    en, th = DIMENSIONS.get(dim, (dim, dim))
    return th if lang == "th" else en


def _grouped(x: float, decimals: int) -> str:
    return f"{x:,.{decimals}f}"


def money(x: float, currency: str = "THB", compact: bool = False) -> str:
    sym = CURRENCY_SYMBOLS.get(currency)
    sign = "-" if x < 0 else ""
    x = abs(x)
    if compact and x >= 1_000_000:
        body = f"{x / 1_000_000:,.2f}M"
    elif compact and x >= 10_000:
        body = f"{x / 1_000:,.1f}k"
    else:
        body = _grouped(x, 0 if x >= 1000 else 2)
    return f"{sign}{sym}{body}" if sym else f"{sign}{body} {currency}"


def value(x: float | None, unit: str, currency: str = "THB", lang: str = "en", compact: bool = False) -> str:
    if x is None:
        return "—"
    if unit == "currency":
        return money(x, currency, compact)
    if unit == "currency_per_day":
        return money(x, currency, compact) + word("per_day", lang)
    if unit == "ratio":
        return f"{x * 100:.1f} %"
    if unit == "days":
        return f"{x:,.1f} {word('days', lang)}"
    if unit == "score":
        return f"{x:.2f} / 5"
    if unit == "count":
        return _grouped(x, 0) if float(x).is_integer() else _grouped(x, 1)
    return f"{x:,.2f}"


def change(ch: float | None, kind: str, lang: str = "en") -> str:
    if ch is None:
        return "—"
    if kind == "points":
        pts = ch * 100
        return f"{pts:+.1f} {word('pp', lang)}"
    return f"{ch * 100:+.1f} %"


def arrow(ch: float | None) -> str:
    if ch is None or ch == 0:
        return "→"
    return "▲" if ch > 0 else "▼"


def period_label(p: Period, lang: str = "en") -> str:
    """'Q2 2026 (to date)', 'May 2026', 'W19 2026', 'last 30 days'; Thai names when lang is th."""
    start = p.start
    g = p.grain
    th = lang == "th"
    if g == "year":
        text = f"{'ปี ' if th else ''}{start.year}"
    elif g == "quarter":
        q = (start.month - 1) // 3 + 1
        text = f"ไตรมาส {q}/{start.year}" if th else f"Q{q} {start.year}"
    elif g == "month":
        text = f"{(MONTHS_TH if th else MONTHS_EN)[start.month - 1]} {start.year}"
    elif g == "week":
        y, w, _ = start.isocalendar()
        text = f"สัปดาห์ {w}/{y}" if th else f"W{w} {y}"
    elif g == "day":
        text = f"{start.day} {(MONTHS_TH if th else MONTHS_EN)[start.month - 1]} {start.year}"
    else:
        days = p.days or round((p.end - p.start).total_seconds() / 86400)
        text = f"{days} วันล่าสุด" if th else f"last {days} days"
        return text
    if p.to_date:
        text += f" ({word('to_date', lang)})"
    return text


def date_time(ts: int | float, tz, lang: str = "en", *, year: bool = True) -> str:
    """'29 Nov 2026 14:00' ('29 พ.ย. 2026 14:00'); without the year when `year` is False."""
    from datetime import datetime

    d = datetime.fromtimestamp(ts, tz)
    months = MONTHS_TH if lang == "th" else MONTHS_EN
    y = f" {d.year}" if year else ""
    return f"{d.day} {months[d.month - 1]}{y} {d:%H:%M}"


def data_to(ts: int | float, tz, lang: str = "en", now=None) -> str:
    """How fresh the data behind a number is: 'data to 29 Nov 14:00' ('ข้อมูลถึง 29 พ.ย. 14:00').
    The year is shown when it is not the year of `now` (the answer's as-of)."""
    from datetime import datetime

    same_year = now is not None and datetime.fromtimestamp(ts, tz).year == now.astimezone(tz).year
    return word("data_to", lang, when=date_time(ts, tz, lang, year=not same_year))
