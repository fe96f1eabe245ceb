"""Periods written with numbers and month names, in English and Thai: the regular-expression half of
the /kpi grammar (kpi_engine.grammar has the periods said in words: "last month", "เดือนนี้").

    match_period(s, i, fiscal_start)  -> (end, PeriodSpec) | None, or PeriodTextError

Years: four digits (Buddhist era when above 2400: 2569 = 2026), or two ("fy25", "Q2/69", "พ.ย. 68"):
50 and above are Buddhist era (69 = 2569 = 2026), below 50 this century (25 = 2025).
A month, quarter or half without a year is the latest one that has started (PeriodSpec "recent"), except
a month one or two ahead, which is this year's, still to come (refused as in the future).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import replace
from datetime import date

from kpi_engine import recache
from kpi_engine.periods import YEARS
from kpi_engine.query import PeriodSpec
from kpi_engine.textnorm import ends_ok, is_thai

MAX_ROLLING_DAYS = 3660

MONTHS_EN = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}
MONTHS_TH = {
    "มกราคม": 1, "ม.ค.": 1, "กุมภาพันธ์": 2, "ก.พ.": 2, "มีนาคม": 3, "มี.ค.": 3, "เมษายน": 4, "เม.ย.": 4,
    "พฤษภาคม": 5, "พ.ค.": 5, "มิถุนายน": 6, "มิ.ย.": 6, "กรกฎาคม": 7, "ก.ค.": 7, "สิงหาคม": 8, "ส.ค.": 8,
    "กันยายน": 9, "ก.ย.": 9, "ตุลาคม": 10, "ต.ค.": 10, "พฤศจิกายน": 11, "พ.ย.": 11, "ธันวาคม": 12, "ธ.ค.": 12,
}
# the way months are said in chat: the name without its -คม/-ยน/-พันธ์ ending, and common misspellings
MONTHS_TH_SHORT = {
    "มกรา": 1, "กุมภา": 2, "มีนา": 3, "เมษา": 4, "พฤษภา": 5, "มิถุนา": 6, "มิถุ": 6, "กรกฎา": 7, "กรกฏา": 7,
    "กรกฏาคม": 7, "สิงหา": 8, "กันยา": 9, "ตุลา": 10, "พฤศจิกา": 11, "พฤศจิ": 11, "ธันวา": 12,
}


def _th_abbrev(name: str, need_dots: bool) -> str:
    # Abbreviations are typed with or without their dots: พ.ค. 2569, พ.ค 2569, พค 2569; alone
    # (no year after it) an abbreviation needs its inner dots, as พค or กย could be part of a word.
    if "." not in name:
        return re.escape(name)
    parts = [re.escape(p) for p in name.split(".") if p]
    if need_dots:  # or one dot at its end: "ตค." is no part of a word
        return "(?:" + r"\.".join(parts) + r"\.?|" + "".join(parts) + r"\.)"
    return "".join(p + r"\.?" for p in parts)


def _alt(names) -> str:
    return "|".join(sorted(names, key=len, reverse=True))


_EN_M = "(" + _alt(re.escape(m) for m in MONTHS_EN) + r")\.?"
_TH_M_Y = "(?:เดือน ?)?(" + _alt([_th_abbrev(n, False) for n in MONTHS_TH] + [re.escape(n) for n in MONTHS_TH_SHORT]) + ")"
_TH_M = "(?:เดือน ?)?(" + _alt([_th_abbrev(n, True) for n in MONTHS_TH] + [re.escape(n) for n in MONTHS_TH_SHORT]) + ")"
_ANY_M = "(" + _alt([re.escape(m) for m in MONTHS_EN] + [_th_abbrev(n, True) for n in MONTHS_TH]
                     + [re.escape(n) for n in MONTHS_TH_SHORT]) + r")\.?"
_Y4 = r"([0-9]{4})"
_Y = r"([0-9]{4}|[0-9]{2}(?![0-9]))"
_TH_Y = r"(?:ปี ?)?(?:(?:พ\.ศ\.|ค\.ศ\.|พศ\.?|คศ\.?) ?)?"
_D = r"([0-9]{1,2})(?:st|nd|rd|th)?"
_N = r"([0-9]{1,3})"
# numbers said in words before a unit: "last three months", "สามเดือนล่าสุด", "two weeks ago"
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "a couple of": 2, "a couple": 2, "couple of": 2, "a few": 3,
    "หนึ่ง": 1, "สอง": 2, "สาม": 3, "สี่": 4, "ห้า": 5, "หก": 6, "เจ็ด": 7, "แปด": 8, "เก้า": 9, "สิบ": 10,
    "สิบเอ็ด": 11, "สิบสอง": 12,
}
_NUMW = "(" + "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True)) + ")"
_COUNT = r"([0-9]{1,6}|" + _NUMW[1:]  # a count in digits or words (one group)
# the quarter or half of a year said in words: "first quarter", "ไตรมาสแรก", "ไตรมาสสุดท้าย"
_ORD = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "final": 4,
        "แรก": 1, "ที่หนึ่ง": 1, "ที่สอง": 2, "ที่สาม": 3, "ที่สี่": 4, "สุดท้าย": 4}
_ORD_EN = "(" + "|".join(w for w in _ORD if not is_thai(w[0])) + ")"
_ORD_TH = "(" + "|".join(sorted((w for w in _ORD if is_thai(w[0])), key=len, reverse=True)) + ")"
_TO = r" ?(?:-|to|until|till|thru|through|and|ถึง|จนถึง|–|~) ?(?:the |วันที่ ?)?"
_AGO_TH = r"(?:ที่แล้ว|ที่ผ่านมา)"
_LAST_YEAR = r"(?:last year|previous year|prior year|ปีที่แล้ว|ปีก่อน|ปีที่ผ่านมา)"
_THIS_YEAR = r"(?:this year|ปีนี้)"
_ROLL_EN = r"(?:(?:over|in|within|for) )?(?:the )?(?:last|past|previous|prev|trailing|rolling)"
_UNIT = {
    "day": r"(?:days?|d|วัน)", "week": r"(?:weeks?|wks?|w|สัปดาห์|อาทิตย์|วีค)",
    "month": r"(?:months?|mos?|mths?|m|เดือน)", "quarter": r"(?:quarters?|qtrs?|q|ไตรมาส)",
    "year": r"(?:years?|yrs?|y|ปี)",
}
_UNIT_ALT = "(" + "|".join(f"(?P<{g}>{rx})" for g, rx in _UNIT.items()) + ")"
_FROM = r"(?:(?:from|between|ตั้งแต่|ระหว่าง) ?(?:the )?)?(?:วันที่ ?)?"
# ISO weekday numbers; Sunday in Thai needs its วัน (อาทิตย์ alone is also "week")
WEEKDAYS = {
    "monday": 1, "mon": 1, "tuesday": 2, "tues": 2, "tue": 2, "wednesday": 3, "wed": 3, "weds": 3, "thursday": 4,
    "thurs": 4, "thur": 4, "thu": 4, "friday": 5, "fri": 5, "saturday": 6, "sat": 6, "sunday": 7, "sun": 7,
    "จันทร์": 1, "อังคาร": 2, "พุธ": 3, "พฤหัสบดี": 4, "พฤหัส": 4, "ศุกร์": 5, "เสาร์": 6, "วันอาทิตย์": 7,
}
_WEEKDAY = "(" + "|".join(sorted((re.escape(w) for w in WEEKDAYS), key=len, reverse=True)) + ")"
# clipped names that name nothing else: "last fri" is a Friday, "last mon" may be last month
_CLIPPED_DAYS = frozenset(("tue", "tues", "wed", "weds", "thu", "thur", "thurs", "fri"))
# a weekday alone names that day: whole names only ("mon" is also a month, "sun" a name), and in Thai
# with its วัน (จันทร์ alone starts names)
_DAY_NAMED = "(" + "|".join(sorted((re.escape(w) for w in WEEKDAYS if (len(w) > 5 or w in _CLIPPED_DAYS) and w.isascii()), key=len,
                                   reverse=True)) + "|วัน ?(" + "|".join(
    sorted((re.escape(w.removeprefix("วัน")) for w in WEEKDAYS if not w.isascii()), key=len, reverse=True)) + "))"
_FY = r"(?:fy|fiscal year|fiscal|financial year|ปีงบประมาณ|ปีงบ|ปีบัญชี) ?"
# this or last fiscal year, said without its number (group: "this" words or "last" words)
_FY_NOW = (r"(?:(this|current|ปี(?:งบ|งบประมาณ|บัญชี) ?(?=นี้))|(last|previous|prior|ปี(?:งบ|งบประมาณ|บัญชี) ?(?=ที่แล้ว|ก่อน)))"
           r" ?(?:fy|fiscal year|financial year|นี้|ที่แล้ว|ก่อน)")
# a half or an ordinal quarter said in words, before the year it is of (group 1: which one)
_HALF_EN = r"(?:the )?(first|1st|second|2nd) half (?:of )?(?:the )?"
_HALF_TH = r"(ครึ่งปีแรก|ครึ่งแรก|ครึ่งปีหลัง|ครึ่งหลัง) ?(?:ของ ?)?"
_ORD_QUARTER_EN = r"(?:the )?" + _ORD_EN[:-1] + r"|last) (?:quarter|qtr) (?:of )?(?:the )?"
# the whole year: this year alone ("ยอดขายทั้งปี"), beside another year that year ("ปีที่แล้วทั้งปี")
WHOLE_YEAR = re.compile(r"(?:the )?(?:full|whole|entire) year|all year|ทั้งปี|ตลอดปี|ตลอดทั้งปี")


class PeriodTextError(ValueError):
    """A period typed wrong ("Q5 2026"); the grammar words the message in the asker's language."""

    def __init__(self, why_en: str, why_th: str):
        super().__init__(why_en)
        self.why_en, self.why_th = why_en, why_th
        self.end = 0  # where the period text ends


def year(text: str) -> int:
    y = int(text)
    if len(text) == 2:
        y = 2500 + y - 543 if y >= 50 else 2000 + y
    elif y > 2400:
        y -= 543  # Buddhist era: 2569 BE = 2026 CE
    if not YEARS[0] <= y <= YEARS[1]:
        raise PeriodTextError(f"the year must be between {YEARS[0]} and {YEARS[1]}",
                              f"ปีต้องอยู่ระหว่าง {YEARS[0]} ถึง {YEARS[1]}")
    return y


def month_number(name: str) -> int:
    n = name.rstrip(".")
    if n in MONTHS_EN:
        return MONTHS_EN[n]
    if n in MONTHS_TH_SHORT:
        return MONTHS_TH_SHORT[n]
    bare = name.replace(".", "")
    for th, m in MONTHS_TH.items():
        if th.replace(".", "") == bare:
            return m
    raise KeyError(name)


def _quarter(q: str) -> int:
    n = int(q)
    if not 1 <= n <= 4:
        raise PeriodTextError("quarters run Q1 to Q4", "ไตรมาสมี 1 ถึง 4")
    return n


def _half_named(word: str) -> int:
    """1 for the first half said in words (first, 1st, ครึ่งแรก…), 2 for the second."""
    return 1 if "แรก" in word or word[:1] in "f1" else 2


def _half(h: str) -> int:
    n = int(h)
    if not 1 <= n <= 2:
        raise PeriodTextError("halves are H1 and H2", "ครึ่งปีมีครึ่งแรกและครึ่งหลัง")
    return n


def _month(m: int) -> int:
    if not 1 <= m <= 12:
        raise PeriodTextError("months run 01 to 12", "เดือนมี 1 ถึง 12")
    return m


def _week(y: int, w: int) -> PeriodSpec:
    last = date(y, 12, 28).isocalendar()[1]  # 28 December is always in the year's last ISO week
    if not 1 <= w <= last:
        raise PeriodTextError(f"{y} has ISO weeks W01 to W{last}", f"ปี {y} มีสัปดาห์ที่ 1 ถึง {last}")
    return PeriodSpec("key", key=f"{y:04d}-W{w:02d}")


def _daycheck(y: int, m: int, d: int) -> None:
    try:
        date(y or 2024, m, d)  # 2024: a leap year, so 29 Feb without a year is a day
    except ValueError:
        raise PeriodTextError("no such date", "ไม่มีวันที่นี้") from None


def _days(n: str) -> int:
    v = int(n)
    if not 1 <= v <= MAX_ROLLING_DAYS:
        raise PeriodTextError(f"use 1 to {MAX_ROLLING_DAYS} days", f"ใช้ได้ 1 ถึง {MAX_ROLLING_DAYS} วัน")
    return v


def count(text: str) -> int:
    return int(text) if text.isdigit() else NUMBER_WORDS[text]


def _unit_of(m: re.Match) -> str:
    for g in _UNIT:
        if m.group(g):
            return g
    return "day"


def _rolling(n: int, unit: str) -> PeriodSpec:
    if unit == "day":
        return PeriodSpec("rolling", days=_days(str(n)))
    limit = {"week": 520, "month": 120, "quarter": 40, "year": 10}[unit]
    if not 1 <= n <= limit:
        raise PeriodTextError(f"use 1 to {limit} {unit}s", f"ใช้ได้ 1 ถึง {limit}")
    return PeriodSpec("rolling", grain=unit, n=n)


def _ago(n: int, unit: str) -> PeriodSpec:
    if not 1 <= n <= 520:
        raise PeriodTextError("that is too long ago", "นานเกินไป")
    return PeriodSpec("current", grain=unit, offset=-n)


def _range_days(d1: str, m1: str, d2: str, m2: str, y: str | None) -> PeriodSpec:
    yy = year(y) if y else 0
    a, b = (yy, month_number(m1), int(d1)), (yy, month_number(m2), int(d2))
    _daycheck(*a)
    _daycheck(*b)
    return PeriodSpec("range", start=a, end=b)


def _numeric_days(m: re.Match) -> PeriodSpec:
    y1, y2 = _g(m, 3), _g(m, 6)
    a = (year(y1) if y1 else (year(y2) if y2 else 0), _month(int(_g(m, 2))), int(_g(m, 1)))
    b = (year(y2) if y2 else a[0], _month(int(_g(m, 5))), int(_g(m, 4)))
    _daycheck(*a)
    _daycheck(*b)
    return PeriodSpec("range", start=a, end=b)


def _fiscal_part(kind: str, n: int, last: str | None, f: int) -> PeriodSpec:
    grain = "fiscal_quarter" if kind == "Q" else "fiscal_half"
    return PeriodSpec("recent", grain=grain, key=f"{kind}{n}", years=-1 if last else 0, fiscal_start=f)


def _week_of(d: str, mo: str, y: str | None) -> PeriodSpec:
    spec = _range_days(d, mo, d, mo, y)
    return replace(spec, grain="week")


def _first_days(n: int, mo: str, y: str | None) -> PeriodSpec:
    if not 1 <= n <= 31:
        raise KeyError("not a number of days in a month")
    yy = year(y) if y else 0
    end = (yy, month_number(mo), n)
    _daycheck(*end)
    return PeriodSpec("range", start=(yy, month_number(mo), 1), end=end)


def _month_dash_year(mo: str, yy: str) -> PeriodSpec:
    if int(yy) <= 31:
        n = month_number(mo)
        raise PeriodTextError(f'"{mo}-{yy}" could be day {int(yy)} or the year 20{yy}: write "{int(yy)} {mo}" or '
                              f'"{mo} 20{yy}"', f'"{mo}-{yy}" อาจเป็นวันที่ {int(yy)} หรือปี 20{yy} ลองพิมพ์ "{int(yy)}/{n}" '
                              f'หรือ "{mo} 20{yy}"')
    return PeriodSpec("key", key=f"{year(yy):04d}-{month_number(mo):02d}")


def _last_days(n: int, mo: int, y: str | None) -> PeriodSpec:
    """The last n days of a month: "the last 3 days of October", "3 วันสุดท้ายของไตรมาส 3" (its last month)."""
    yy = year(y) if y else 0
    days = calendar.monthrange(yy or 2025, mo)[1]  # a February without a year: 28 days
    if not 1 <= n <= days:
        raise KeyError("not a number of days in a month")
    return PeriodSpec("range", start=(yy, mo, days - n + 1), end=(yy, mo, days))


# a period named by its close ("the October close", "at the Q3 close", "ปิดไตรมาส 3", "ณ สิ้นเดือน ต.ค."):
# the period itself, so "close" is not read as deals closed ("Q3 close rate" keeps its rate)
_CLOSE_EN = re.compile(r"(?<![\w-])(?:(?:at|for|in|by) )?(?:the )?(" + _EN_M + r"(?: [0-9]{4})?|q[1-4](?: [0-9]{4})?"
                       r"|h[12](?: [0-9]{4})?|fy ?[0-9]{2,4})[- ]close(?![\w-])(?! ?(?:rate|ratio|time|%|percent|date))",
                       re.IGNORECASE)
_CLOSE_TH = re.compile(r"(?:ณ ?)?(?:ปิดบัญชี|ปิด|สิ้น)(?= ?(?:เดือน ?)?" + _ANY_M + r"|(?: ?ไตรมาส ?(?:ที่ ?)?[1-4]))")


def without_close_words(text: str) -> str:
    return _CLOSE_TH.sub("", _CLOSE_EN.sub(lambda m: " " + m.group(1) + " ", text))


def _g(m: re.Match, k: int) -> str:
    return m.group(k)


# (pattern, builder(match, fiscal_start) -> PeriodSpec). Longest match wins, so the order only matters
# between patterns matching the same text.
_PATTERNS: list[tuple[str, object]] = [
    # ISO: 2026-05-04, 2026-W19, 2026-Q2, 2026-05, 2026-H1; ISO ranges
    (_FROM + _Y4 + r"-([0-9]{1,2})-([0-9]{1,2})" + _TO + _Y4 + r"-([0-9]{1,2})-([0-9]{1,2})",
     lambda m, f: _iso_range(m)),
    (_Y4 + r"-([0-9]{1,2})-([0-9]{1,2})", lambda m, f: _iso_day(m)),
    (_Y4 + r" ?-? ?w" + _N, lambda m, f: _week(year(_g(m, 1)), int(_g(m, 2)))),
    (r"(?:w|wk ?|week ?)" + _N + r" ?[-/,]? ?" + _Y4, lambda m, f: _week(year(_g(m, 2)), int(_g(m, 1)))),
    (r"(?:สัปดาห์|อาทิตย์)ที่ ?" + _N + r" ?[-/]? ?" + _TH_Y + _Y4,
     lambda m, f: _week(year(_g(m, 2)), int(_g(m, 1)))),
    (_Y4 + r" ?-? ?q" + _N, lambda m, f: PeriodSpec("key", key=f"{year(_g(m, 1)):04d}-Q{_quarter(_g(m, 2))}")),
    (r"q" + _N + r" ?[-/,']? ?" + _TH_Y + _Y, lambda m, f: PeriodSpec(
        "key", key=f"{year(_g(m, 2)):04d}-Q{_quarter(_g(m, 1))}")),
    (r"ไตรมาส ?(?:ที่ ?)?" + _N + r" ?[-/]? ?" + _TH_Y + _Y, lambda m, f: PeriodSpec(
        "key", key=f"{year(_g(m, 2)):04d}-Q{_quarter(_g(m, 1))}")),
    (_Y4 + r" ?-? ?h" + _N, lambda m, f: PeriodSpec("key", key=f"{year(_g(m, 1)):04d}-H{_half(_g(m, 2))}")),
    (r"h" + _N + r" ?[-/,']? ?" + _TH_Y + _Y, lambda m, f: PeriodSpec(
        "key", key=f"{year(_g(m, 2)):04d}-H{_half(_g(m, 1))}")),
    (_Y4 + r"[-/]([0-9]{1,2})", lambda m, f: PeriodSpec("key", key=f"{year(_g(m, 1)):04d}-{_month(int(_g(m, 2))):02d}")),
    # month/year as Thai and most of the world write it: 10/2026, 10/2569, เดือน 10/69; เดือน 10 alone
    (r"(?:เดือน ?)?([0-9]{1,2}) ?/ ?" + _Y4, lambda m, f: PeriodSpec(
        "key", key=f"{year(_g(m, 2)):04d}-{_month(int(_g(m, 1))):02d}")),
    (r"เดือน ?([0-9]{1,2}) ?/ ?([0-9]{2})(?![0-9])", lambda m, f: PeriodSpec(
        "key", key=f"{year(_g(m, 2)):04d}-{_month(int(_g(m, 1))):02d}")),
    (r"เดือน(?:ที่)? ?([0-9]{1,2})(?![0-9/])", lambda m, f: PeriodSpec(
        "recent", grain="month", key=f"{_month(int(_g(m, 1))):02d}")),
    # ไตรมาสสุดท้ายของปี 2568, ไตรมาสแรก 2569
    (r"ไตรมาส ?" + _ORD_TH + r" ?(?:ของ ?)?(?:ปี ?)?" + _TH_Y + _Y4, lambda m, f: PeriodSpec(
        "key", key=f"{year(_g(m, 2)):04d}-Q{_ORD[_g(m, 1)]}")),
    # ไตรมาสแรกของปีงบ 2569: an ordinal quarter of a fiscal year named by its number
    (r"ไตรมาส ?" + _ORD_TH + r" ?(?:ของ ?)?" + _FY + r"'?" + _Y, lambda m, f: PeriodSpec(
        "key", key=f"FY{year(_g(m, 2)):04d}-Q{_ORD[_g(m, 1)]}", fiscal_start=f)),
    # the last quarter of 2025, the first half of 2026
    (r"(?:the )?" + _ORD_EN[:-1] + r"|last) (?:quarter|qtr) of (?:the year )?" + _Y4, lambda m, f: PeriodSpec(
        "key", key=f"{year(_g(m, 2)):04d}-Q{_ORD.get(_g(m, 1), 4)}")),
    (r"(?:the )?(first|1st|second|2nd|last) half of (?:the year )?" + _Y4, lambda m, f: PeriodSpec(
        "key", key=f"{year(_g(m, 2)):04d}-H{_half_named(_g(m, 1))}")),
    # fiscal: fy25, FY2026, fiscal 2026, ปีงบ 69, ปีงบประมาณ 2569; Q3 FY26, FY26 Q3, H1 FY26
    (_FY + r"'?" + _Y, lambda m, f: PeriodSpec("key", key=f"FY{year(_g(m, 1)):04d}", fiscal_start=f)),
    (r"q" + _N + r" ?(?:of )?" + _FY + r"'?" + _Y, lambda m, f: PeriodSpec(
        "key", key=f"FY{year(_g(m, 2)):04d}-Q{_quarter(_g(m, 1))}", fiscal_start=f)),
    (_FY + r"'?" + _Y + r" ?[-/ ]? ?q" + _N, lambda m, f: PeriodSpec(
        "key", key=f"FY{year(_g(m, 1)):04d}-Q{_quarter(_g(m, 2))}", fiscal_start=f)),
    (r"ไตรมาส ?(?:ที่ ?)?" + _N + r" ?(?:ของ ?)?" + _FY + r"'?" + _Y, lambda m, f: PeriodSpec(
        "key", key=f"FY{year(_g(m, 2)):04d}-Q{_quarter(_g(m, 1))}", fiscal_start=f)),
    (r"h" + _N + r" ?(?:of )?" + _FY + r"'?" + _Y, lambda m, f: PeriodSpec(
        "key", key=f"FY{year(_g(m, 2)):04d}-H{_half(_g(m, 1))}", fiscal_start=f)),
    (_FY + r"'?" + _Y + r" ?[-/ ]? ?h" + _N, lambda m, f: PeriodSpec(
        "key", key=f"FY{year(_g(m, 1)):04d}-H{_half(_g(m, 2))}", fiscal_start=f)),
    # in words: the first half of fy26, the third quarter of FY2026, ครึ่งปีแรกของปีงบ 69
    ("(?:" + _HALF_EN + "|" + _HALF_TH + ")" + _FY + r"'?" + _Y, lambda m, f: PeriodSpec(
        "key", key=f"FY{year(_g(m, 3)):04d}-H{_half_named(_g(m, 1) or _g(m, 2))}", fiscal_start=f)),
    (_ORD_QUARTER_EN + _FY + r"'?" + _Y,
     lambda m, f: PeriodSpec("key", key=f"FY{year(_g(m, 2)):04d}-Q{_ORD.get(_g(m, 1), 4)}", fiscal_start=f)),
    (WHOLE_YEAR.pattern, lambda m, f: PeriodSpec("current", grain="year")),
    (r"(?:ทั้ง|ตลอด(?:ทั้ง)?) ?" + _LAST_YEAR, lambda m, f: PeriodSpec("current", grain="year", offset=-1)),
    (r"fytd|fiscal ytd|fiscal year to date", lambda m, f: PeriodSpec("current", grain="fiscal_year", fiscal_start=f)),
    # months with a year: May 2026, may '26, เดือนพฤษภาคม 2569, พ.ค. 69, ตุลา 68
    (_EN_M + r" ?[,/-]? ?" + _Y4, lambda m, f: PeriodSpec("key", key=f"{year(_g(m, 2)):04d}-{month_number(_g(m, 1)):02d}")),
    (_EN_M + r" ?'([0-9]{2})", lambda m, f: PeriodSpec("key", key=f"{year(_g(m, 2)):04d}-{month_number(_g(m, 1)):02d}")),
    # Dec-45, aug/32: a month and a two-digit year, as spreadsheets write them; Dec-25 could be a day too
    (_EN_M + r"[-/]([0-9]{2})(?![0-9/-])", lambda m, f: _month_dash_year(_g(m, 1), _g(m, 2))),
    (_TH_M_Y + r" ?" + _TH_Y + _Y, lambda m, f: PeriodSpec(
        "key", key=f"{year(_g(m, 2)):04d}-{month_number(_g(m, 1)):02d}")),
    # years alone: 2026, ปี 2569, พ.ศ. 2569, year 2025; ปี 68 (two digits need ปี or year before them)
    (r"(?:(?:ปี|year|yr) ?)?(?:(?:พ\.ศ\.|ค\.ศ\.) ?)?" + _Y4, lambda m, f: PeriodSpec("key", key=f"{year(_g(m, 1)):04d}")),
    (r"(?:ปี|year|yr) ?'?([0-9]{2})(?![0-9])", lambda m, f: PeriodSpec("key", key=f"{year(_g(m, 1)):04d}")),
    # a month, quarter, half or ISO week without a year: the latest that has started
    (r"(?:week|wk|w|สัปดาห์ที่|สัปดาที่|อาทิตย์ที่|วีคที่) ?([0-9]{1,2})(?![0-9])", lambda m, f: _recent_week(_g(m, 1))),
    (_EN_M, lambda m, f: PeriodSpec("recent", grain="month", key=f"{month_number(_g(m, 1)):02d}")),
    (_TH_M, lambda m, f: PeriodSpec("recent", grain="month", key=f"{month_number(_g(m, 1)):02d}")),
    (r"q" + _N, lambda m, f: PeriodSpec("recent", grain="quarter", key=f"Q{_quarter(_g(m, 1))}")),
    (r"ไตรมาส ?(?:ที่ ?)?" + _N, lambda m, f: PeriodSpec("recent", grain="quarter", key=f"Q{_quarter(_g(m, 1))}")),
    (r"h" + _N, lambda m, f: PeriodSpec("recent", grain="half", key=f"H{_half(_g(m, 1))}")),
    (r"(?:first|1st) half(?: of the year)?|ครึ่งปีแรก|ครึ่งแรกของปี|ครึ่งปีแรกของปี",
     lambda m, f: PeriodSpec("recent", grain="half", key="H1")),
    (r"(?:second|2nd) half(?: of the year)?|ครึ่งปีหลัง|ครึ่งหลังของปี|ครึ่งปีหลังของปี",
     lambda m, f: PeriodSpec("recent", grain="half", key="H2")),
    # "last May", "พ.ค. ที่แล้ว", "last Q2": the latest that has ended
    (r"(?:last|previous|prev) ?" + _EN_M, lambda m, f: PeriodSpec(
        "recent", grain="month", key=f"{month_number(_g(m, 1)):02d}", offset=-1)),
    (_TH_M + r" ?" + _AGO_TH, lambda m, f: PeriodSpec(
        "recent", grain="month", key=f"{month_number(_g(m, 1)):02d}", offset=-1)),
    (r"(?:last|previous|prev) ?q" + _N, lambda m, f: PeriodSpec(
        "recent", grain="quarter", key=f"Q{_quarter(_g(m, 1))}", offset=-1)),
    (r"ไตรมาส ?(?:ที่ ?)?" + _N + r" ?" + _AGO_TH, lambda m, f: PeriodSpec(
        "recent", grain="quarter", key=f"Q{_quarter(_g(m, 1))}", offset=-1)),
    # a quarter or half of this or last fiscal year: "Q1 ปีงบนี้", "ไตรมาสแรกของปีงบนี้", "Q2 of last FY"
    (r"(?:q|ไตรมาส ?(?:ที่ ?)?)" + _N + r" ?(?:of |ของ ?)?(?:the )?" + _FY_NOW,
     lambda m, f: _fiscal_part("Q", _quarter(_g(m, 1)), _g(m, 3), f)),
    (r"(?:ไตรมาส ?" + _ORD_TH + r"|(?:the )?" + _ORD_EN + r" (?:quarter|qtr)) ?(?:of |ของ ?)?(?:the )?" + _FY_NOW,
     lambda m, f: _fiscal_part("Q", _ORD[_g(m, 1) or _g(m, 2)], _g(m, 4), f)),
    (r"h" + _N + r" ?(?:of |ของ ?)?(?:the )?" + _FY_NOW, lambda m, f: _fiscal_part("H", _half(_g(m, 1)), _g(m, 3), f)),
    ("(?:" + _HALF_EN + "|" + _HALF_TH + ")" + _FY_NOW,
     lambda m, f: _fiscal_part("H", _half_named(_g(m, 1) or _g(m, 2)), _g(m, 4), f)),
    # "Q4 last year", "May this year", "ไตรมาส 4 ปีที่แล้ว", "H1 last year"
    (r"q" + _N + r" ?(?:of )?" + _LAST_YEAR, lambda m, f: PeriodSpec(
        "recent", grain="quarter", key=f"Q{_quarter(_g(m, 1))}", years=-1)),
    (r"ไตรมาส ?(?:ที่ ?)?" + _N + r" ?(?:ของ ?)?" + _LAST_YEAR, lambda m, f: PeriodSpec(
        "recent", grain="quarter", key=f"Q{_quarter(_g(m, 1))}", years=-1)),
    (r"h" + _N + r" ?(?:of )?" + _LAST_YEAR, lambda m, f: PeriodSpec(
        "recent", grain="half", key=f"H{_half(_g(m, 1))}", years=-1)),
    (_ANY_M + r" ?(?:of )?(?:ของ ?)?" + _LAST_YEAR, lambda m, f: PeriodSpec(
        "recent", grain="month", key=f"{month_number(_g(m, 1)):02d}", years=-1)),
    (r"q" + _N + r" ?(?:of )?" + _THIS_YEAR, lambda m, f: PeriodSpec(
        "recent", grain="quarter", key=f"Q{_quarter(_g(m, 1))}", years=0)),
    (_ANY_M + r" ?(?:of )?" + _THIS_YEAR, lambda m, f: PeriodSpec(
        "recent", grain="month", key=f"{month_number(_g(m, 1)):02d}", years=0)),
    # "this December", "เดือน ธ.ค. นี้": this year's, even when it is still ahead (then refused as future)
    (r"this (?!may\b)" + _ANY_M, lambda m, f: PeriodSpec(
        "recent", grain="month", key=f"{month_number(_g(m, 1)):02d}", years=0)),
    (r"(?:เดือน ?)?" + _ANY_M + r" ?นี้", lambda m, f: PeriodSpec(
        "recent", grain="month", key=f"{month_number(_g(m, 1)):02d}", years=0)),
    # the second half of this year, ครึ่งปีหลังของปีนี้, the first quarter of this year
    ("(?:" + _HALF_EN + "|" + _HALF_TH + ")" + _THIS_YEAR, lambda m, f: PeriodSpec(
        "recent", grain="half", key=f"H{_half_named(_g(m, 1) or _g(m, 2))}", years=0)),
    (_ORD_QUARTER_EN + _THIS_YEAR, lambda m, f: PeriodSpec(
        "recent", grain="quarter", key=f"Q{_ORD.get(_g(m, 1), 4)}", years=0)),
    # rolling: last 30 days, past 2 weeks, trailing 12 months, 6 เดือนที่ผ่านมา, ย้อนหลัง 3 เดือน, L30D
    (_ROLL_EN + r" ?" + _COUNT + r" ?" + _UNIT_ALT, lambda m, f: _rolling(count(_g(m, 1)), _unit_of(m))),
    (_COUNT + r" ?" + _UNIT_ALT + r" ?(?:ที่ผ่านมา|ล่าสุด|ย้อนหลัง|หลังสุด|หลัง)",
     lambda m, f: _rolling(count(_g(m, 1)), _unit_of(m))),
    (r"(?:ย้อนหลัง|ย้อนไป) ?" + _COUNT + r" ?" + _UNIT_ALT, lambda m, f: _rolling(count(_g(m, 1)), _unit_of(m))),
    (r"l([0-9]{1,3})([dwmy])", lambda m, f: _rolling(int(_g(m, 1)), {"d": "day", "w": "week", "m": "month",
                                                                        "y": "year"}[_g(m, 2)])),
    (r"(?:t12m|ttm|ltm)", lambda m, f: _rolling(12, "month")),
    (_ROLL_EN + r" ?fortnight|(?:the )?past two weeks|(?:the )?last two weeks",
     lambda m, f: _rolling(14, "day")),
    # ago: 3 months ago, 2 weeks ago, 2 เดือนก่อน
    (_COUNT + r" ?" + _UNIT_ALT + r" ?ago", lambda m, f: _ago(count(_g(m, 1)), _unit_of(m))),
    (_COUNT + r" ?" + _UNIT_ALT + r" ?(?:ก่อน|ที่แล้ว)(?!หน้า)", lambda m, f: _ago(count(_g(m, 1)), _unit_of(m))),
    # the first quarter, ไตรมาสแรก, the final quarter of last year, ครึ่งแรกของปีที่แล้ว
    (r"(?:the )?" + _ORD_EN + r" (?:quarter|qtr)(?: of (?:the|this) year)?", lambda m, f: PeriodSpec(
        "recent", grain="quarter", key=f"Q{_ORD[_g(m, 1)]}")),
    (r"(?:the )?" + _ORD_EN + r" (?:quarter|qtr) of " + _LAST_YEAR, lambda m, f: PeriodSpec(
        "recent", grain="quarter", key=f"Q{_ORD[_g(m, 1)]}", years=-1)),
    (r"ไตรมาส ?" + _ORD_TH + r"(?: ?ของปี(?:นี้)?)?", lambda m, f: PeriodSpec(
        "recent", grain="quarter", key=f"Q{_ORD[_g(m, 1)]}")),
    (r"ไตรมาส ?" + _ORD_TH + r" ?(?:ของ ?)?" + _LAST_YEAR, lambda m, f: PeriodSpec(
        "recent", grain="quarter", key=f"Q{_ORD[_g(m, 1)]}", years=-1)),
    (r"(?:ครึ่งปีแรก|ครึ่งแรกของปี|(?:first|1st) half(?: of)?) ?(?:ของ ?)?" + _LAST_YEAR, lambda m, f: PeriodSpec(
        "recent", grain="half", key="H1", years=-1)),
    (r"(?:ครึ่งปีหลัง|ครึ่งหลังของปี|(?:second|2nd) half(?: of)?) ?(?:ของ ?)?" + _LAST_YEAR, lambda m, f: PeriodSpec(
        "recent", grain="half", key="H2", years=-1)),
    # ตั้งแต่ต้นปี 2569, since the start of 2026: from that year's first day
    (r"(?:ตั้งแต่ ?|นับจาก ?)?ต้นปี ?" + _TH_Y + _Y4 + r"|since (?:the )?(?:start|beginning) of " + _Y4,
     lambda m, f: PeriodSpec("range", start=(year(_g(m, 1) or _g(m, 2)), 1, 0))),
    # 1/11–15/11, 1/10/2569 - 15/10/2569: day/month, as Thailand and most of the world write dates
    (_FROM + r"([0-9]{1,2})/([0-9]{1,2})(?:/" + _Y + r")?" + _TO + r"([0-9]{1,2})/([0-9]{1,2})(?:/" + _Y + r")?(?![0-9/])",
     lambda m, f: _numeric_days(m)),
    # the week of nov 2, week starting 2 nov, สัปดาห์ที่เริ่ม 9 พ.ย.: Monday to Sunday of the week holding that day
    (r"(?:สัปดาห์|สัปดา|อาทิตย์|วีค) ?(?:ที่เริ่ม(?:ต้น)?|ของ|ที่มี) ?(?:วันที่ ?)?" + _D + r" ?" + _ANY_M
     + r"(?: ?" + _TH_Y + _Y4 + r")?", lambda m, f: _week_of(_g(m, 1), _g(m, 2), _g(m, 3))),
    (r"(?:the )?(?:week|wk) (?:of|starting|beginning|commencing) (?:the )?" + _D + r" ?(?:of )?" + _ANY_M
     + r"(?: ?,? ?" + _TH_Y + _Y4 + r")?", lambda m, f: _week_of(_g(m, 1), _g(m, 2), _g(m, 3))),
    (r"(?:the )?(?:week|wk) (?:of|starting|beginning|commencing) " + _EN_M + r" ?" + _D + r"(?:,? ?" + _Y4 + r")?",
     lambda m, f: _week_of(_g(m, 2), _g(m, 1), _g(m, 3))),
    # the first 10 days of november, the first week of may: from the 1st
    (r"(?:the )?first " + _COUNT + r" days (?:of|in) " + _ANY_M + r"(?: ?,? ?" + _TH_Y + _Y4 + r")?",
     lambda m, f: _first_days(count(_g(m, 1)), _g(m, 2), _g(m, 3))),
    # the last 3 days of october, the final 5 days of Q3, 3 วันสุดท้ายของ ต.ค., 3 วันสุดท้ายของไตรมาส 3
    (r"(?:in )?(?:the )?(?:last|final) " + _COUNT + r" days (?:of|in) (?:the month of )?" + _ANY_M
     + r"(?: ?,? ?" + _TH_Y + _Y4 + r")?", lambda m, f: _last_days(count(_g(m, 1)), month_number(_g(m, 2)), _g(m, 3))),
    (_COUNT + r" ?วันสุดท้าย ?(?:ของ ?)?(?:เดือน ?)?" + _ANY_M + r"(?: ?" + _TH_Y + _Y4 + r")?",
     lambda m, f: _last_days(count(_g(m, 1)), month_number(_g(m, 2)), _g(m, 3))),
    (r"(?:(?:in )?(?:the )?(?:last|final) " + _COUNT + r" days (?:of|in) (?:the )?(?:q|quarter |qtr )|"
     + _COUNT + r" ?วันสุดท้าย ?(?:ของ ?)?ไตรมาส ?(?:ที่ ?)?)" + _N + r"(?: ?" + _TH_Y + _Y4 + r")?",
     lambda m, f: _last_days(count(_g(m, 1) or _g(m, 2)), 3 * _quarter(_g(m, 3)), _g(m, 4))),
    # days: 1-15 Nov, 1 ถึง 10 พ.ย., nov 1 to nov 15, nov 1-15, 1 oct to 15 oct; 2 Nov, Nov 2
    (_FROM + _D + _TO + _D + r" ?(?:of )?" + _ANY_M + r"(?: ?,? ?" + _TH_Y + _Y + r")?",
     lambda m, f: _range_days(_g(m, 1), _g(m, 3), _g(m, 2), _g(m, 3), _g(m, 4))),
    (_FROM + _ANY_M + r" ?" + _D + _TO + _ANY_M + r" ?" + _D + r"(?: ?,? ?" + _Y4 + r")?",
     lambda m, f: _range_days(_g(m, 2), _g(m, 1), _g(m, 4), _g(m, 3), _g(m, 5))),
    (_FROM + _ANY_M + r" ?" + _D + _TO + _D + r"(?! ?" + _ANY_M + r")(?: ?,? ?" + _Y4 + r")?",
     # group 4 is the month name the lookahead rules out (never set); the year is group 5
     lambda m, f: _range_days(_g(m, 2), _g(m, 1), _g(m, 3), _g(m, 1), _g(m, 5))),
    (_FROM + _D + r" ?" + _ANY_M + _TO + _D + r" ?" + _ANY_M + r"(?: ?,? ?" + _TH_Y + _Y + r")?",
     lambda m, f: _range_days(_g(m, 1), _g(m, 2), _g(m, 3), _g(m, 4), _g(m, 5))),
    (r"(?:(?:on )?the |วันที่ ?|วัน ?)?" + _D + r" ?" + _ANY_M + r"(?: ?,? ?" + _TH_Y + _Y4 + r")?",
     lambda m, f: _range_days(_g(m, 1), _g(m, 2), _g(m, 1), _g(m, 2), _g(m, 3))),
    (_EN_M + r" ?" + _D + r"(?:,? ?" + _Y4 + r")?(?![0-9:])",
     lambda m, f: _range_days(_g(m, 2), _g(m, 1), _g(m, 2), _g(m, 1), _g(m, 3))),
    # months: Oct to Nov, Aug-Sep (folded to "aug sep"), between jan and mar, ต.ค. ถึง พ.ย. (2569)
    (_FROM + _ANY_M + r"(?:" + _TO + r"| )" + _ANY_M + r"(?: ?,? ?" + _TH_Y + _Y + r")?",
     lambda m, f: _range_months(m)),
    # since: since june, since aug 1, since 1 oct, ตั้งแต่มิถุนา, ตั้งแต่เดือนสิงหาคม, since 2026-06-01
    (r"(?:since|from|starting|ตั้งแต่|นับจาก) ?(?:(?:the )?(?:start|beginning) of |ต้น ?)?(?:เดือน ?)?" + _ANY_M
     + r"(?: ?" + _TH_Y + _Y4 + r")?",
     lambda m, f: PeriodSpec("range", start=(year(_g(m, 2)) if _g(m, 2) else 0, month_number(_g(m, 1)), 0))),
    (r"(?:since|from|starting|ตั้งแต่|นับจาก) ?(?:the )?" + _D + r" ?(?:of )?" + _ANY_M,
     lambda m, f: _since_day(_g(m, 1), _g(m, 2))),
    (r"(?:since|from|starting|ตั้งแต่|นับจาก) ?" + _ANY_M + r" ?" + _D + r"(?![0-9])",
     lambda m, f: _since_day(_g(m, 2), _g(m, 1))),
    (r"(?:since|from|starting|ตั้งแต่|นับจาก) ?" + _Y4 + r"-([0-9]{1,2})-([0-9]{1,2})",
     lambda m, f: _since_iso(m)),
    # since the 1st, ตั้งแต่วันที่ 5: from that day of this month (of last month when it is still to come)
    (r"(?:since|starting|ตั้งแต่|นับจาก) ?(?:the |วันที่ ?)?([0-9]{1,2})(?:st|nd|rd|th)?(?![0-9])",
     lambda m, f: _since_day_of_month(_g(m, 1))),
    # Q2 through Q3, Q1-Q2 2026, ไตรมาส 1 ถึง 2: whole months from the first quarter's to the last's
    (r"(?:from )?(?:q|ไตรมาส ?(?:ที่ ?)?)" + _N + _TO + r"(?:q|ไตรมาส ?(?:ที่ ?)?)?" + _N + r"(?: ?,? ?" + _TH_Y + _Y4 + r")?",
     lambda m, f: _range_quarters(m)),
    # since Q2, ตั้งแต่ไตรมาส 2 (2569): from the start of the latest such quarter
    (r"(?:since|starting|ตั้งแต่|นับจาก) ?(?:q|ไตรมาส ?(?:ที่ ?)?)" + _N + r"(?: ?" + _TH_Y + _Y4 + r")?",
     lambda m, f: _since_quarter(m)),
    # last friday, วันศุกร์ที่แล้ว: the latest such day before today
    # monday and tuesday, จันทร์ถึงพุธ: the latest run of those days that is over or running
    (r"(?:on (?:the )?|เมื่อ ?)?" + _DAY_NAMED + r" ?(and|to|through|thru|-|–|กับ|และ|ถึง) ?" + _DAY_NAMED,
     lambda m, f: _weekdays(_weekday(_g(m, 1)), _g(m, 3), _weekday(_g(m, 4)))),
    (r"(?:last|previous) " + _DAY_NAMED + r"|" + _DAY_NAMED + r" ?(?:ที่แล้ว|ที่ผ่านมา|ก่อน)",
     lambda m, f: PeriodSpec("recent", grain="named_day", key=str(_weekday(_g(m, 1) or _g(m, 3))), offset=-1)),
    # last weekend, over the weekend, เสาร์อาทิตย์ที่แล้ว: the latest Saturday and Sunday (so far, during one)
    (r"(?:(?:last|the past|past|over the|this past) )?weekend|(?:วัน ?)?เสาร์ ?(?:-|และ|กับ)? ?(?:วัน ?)?อาทิตย์ ?(?:ที่แล้ว|ที่ผ่านมา)?"
     r"|สุดสัปดาห์ ?(?:ที่แล้ว|ที่ผ่านมา)?", lambda m, f: PeriodSpec(
         "recent", grain="weekend", key="6", offset=-1 if re.search("last|ที่แล้ว|ที่ผ่านมา", m.group(0)) else 0)),
    # since monday, ตั้งแต่วันจันทร์: from the latest such day (today when it is one) to now
    (r"(?:since|starting|ตั้งแต่|นับจาก) ?(?:last |วัน ?)?" + _WEEKDAY,
     # "since last wednesday" said on a Wednesday is from a week ago, not from this morning
     lambda m, f: PeriodSpec("recent", grain="weekday", key=str(WEEKDAYS[_g(m, 1)]),
                             offset=-1 if "last " in m.group(0) else 0)),
    # on monday, monday, เมื่อวันจันทร์: that day, the latest one (today when it is one, so far)
    (r"(?:on (?:the )?|เมื่อ ?)?" + _DAY_NAMED,
     lambda m, f: PeriodSpec("recent", grain="named_day", key=str(_weekday(_g(m, 1))))),
    # a half of a year said in words, with the year: ครึ่งปีหลัง 2568, second half 2025
    (r"(ครึ่งปีแรก|ครึ่งแรกของปี|ครึ่งปีหลัง|ครึ่งหลังของปี|(?:first|1st|second|2nd) half(?: of)?) ?(?:ของ ?)?"
     + _TH_Y + _Y4, lambda m, f: PeriodSpec(
         "key", key=f"{year(_g(m, 2)):04d}-H{_half_named(_g(m, 1))}")),
]


def _weekdays(a: int, joined: str, b: int) -> PeriodSpec:
    """A run of days: "monday to wednesday"; with "and", two days next to each other only ("tuesday
    and thursday" is two days, not the three from one to the other)."""
    if joined in ("and", "กับ", "และ") and (b - a) % 7 != 1:
        raise KeyError("two days apart are not a run")
    return PeriodSpec("recent", grain="weekdays", key=f"{a}-{b}")


def _weekday(typed: str) -> int:
    word = typed.replace(" ", "")
    return WEEKDAYS.get(word) or WEEKDAYS[word.removeprefix("วัน")]  # วันอาทิตย์ is in WEEKDAYS whole


def _recent_week(w: str) -> PeriodSpec:
    n = int(w)
    if not 1 <= n <= 53:
        raise PeriodTextError("ISO weeks run W01 to W53", "สัปดาห์มี 1 ถึง 53")
    return PeriodSpec("recent", grain="week", key=f"{n:02d}")


def _iso_day(m: re.Match) -> PeriodSpec:
    y = year(_g(m, 1))
    try:
        d = date(y, int(_g(m, 2)), int(_g(m, 3)))
    except ValueError:
        raise PeriodTextError("no such date", "ไม่มีวันที่นี้") from None
    return PeriodSpec("key", key=d.isoformat())


def _iso_range(m: re.Match) -> PeriodSpec:
    a = (year(_g(m, 1)), int(_g(m, 2)), int(_g(m, 3)))
    b = (year(_g(m, 4)), int(_g(m, 5)), int(_g(m, 6)))
    for y, mo, d in (a, b):
        _month(mo)
        _daycheck(y, mo, d)
    return PeriodSpec("range", start=a, end=b)


def _range_months(m: re.Match) -> PeriodSpec:
    y = year(_g(m, 3)) if _g(m, 3) else 0
    a, b = month_number(_g(m, 1)), month_number(_g(m, 2))
    if a == b:
        raise KeyError("one month twice is not a range")
    end_year = y + 1 if y and b < a else y
    return PeriodSpec("range", start=(y, a, 0), end=(end_year, b, 0))


def _since_day_of_month(d: str) -> PeriodSpec:
    if not 1 <= int(d) <= 31:
        raise KeyError("not a day of a month")
    return PeriodSpec("recent", grain="month_day", key=str(int(d)))


def _range_quarters(m: re.Match) -> PeriodSpec:
    a, b = _quarter(_g(m, 1)), _quarter(_g(m, 2))
    if b <= a:
        raise KeyError("a range of quarters runs forward")
    y = year(_g(m, 3)) if _g(m, 3) else 0
    return PeriodSpec("range", start=(y, 3 * a - 2, 0), end=(y, 3 * b, 0))


def _since_quarter(m: re.Match) -> PeriodSpec:
    q = _quarter(_g(m, 1))
    if _g(m, 2):
        return PeriodSpec("range", start=(year(_g(m, 2)), 3 * q - 2, 0))
    return PeriodSpec("recent", grain="quarter_start", key=f"Q{q}")


def _since_day(d: str, mo: str) -> PeriodSpec:
    ref = (0, month_number(mo), int(d))
    _daycheck(*ref)
    return PeriodSpec("range", start=ref)


def _since_iso(m: re.Match) -> PeriodSpec:
    ref = (year(_g(m, 1)), int(_g(m, 2)), int(_g(m, 3)))
    _month(ref[1])
    _daycheck(*ref)
    return PeriodSpec("range", start=ref)


# Compiling all of these costs a fresh process (`kpibot ask`) ~60 ms, most of it the month names
# repeated in many patterns. So each pattern is compiled the first time it is tried, and which ones
# are worth trying at a place is told by one regex: every pattern with its month names loosened to
# what they start with (a superset: the looser pieces accept more, and the one negative lookahead
# holding month names is dropped), each in a lookahead that marks it where it could match. That
# costs half as much to compile as the patterns, and rules out most places at once; a question with
# a period in it then compiles the few patterns marked there, not all of them (their plain
# alternation, which only said whether any could match, compiled a little faster but left that).
_COMPILED: list[re.Pattern | None] = [None] * len(_PATTERNS)
_EN_START = "(?:" + "|".join(sorted({m[:3] for m in MONTHS_EN})) + ")"  # every English name's first three letters
_TH_START = "[" + "".join(sorted({m[0] for m in (*MONTHS_TH, *MONTHS_TH_SHORT)})) + "]"  # every Thai one's first letter
_TH_REST = r"[\u0e01-\u0e4e.]*"
_LOOSE = [  # (piece, looser stand-in), longest first: _ANY_M contains the others' alternatives
    ("(?! ?" + _ANY_M + ")", ""),
    (_ANY_M, f"(?:{_EN_START}[a-z]*|{_TH_START}{_TH_REST})" + r"\.?"),
    (_TH_M_Y, "(?:เดือน ?)?" + _TH_START + _TH_REST),
    (_TH_M, "(?:เดือน ?)?" + _TH_START + _TH_REST),
    (_EN_M, _EN_START + r"[a-z]*\.?"),
]


def _loose(p: str) -> str:
    for piece, stand_in in _LOOSE:
        p = p.replace(piece, stand_in)
    return re.sub(r"[(][?]P<[a-z_]+>", "(?:", p)


_MARKS: re.Pattern | None = None


def _pattern(k: int) -> re.Pattern:
    rx = _COMPILED[k]
    if rx is None:
        rx = _COMPILED[k] = recache.compile(_PATTERNS[k][0])
    return rx


def match_period(s: str, i: int, fiscal_start: int = 1) -> tuple[int, PeriodSpec] | None:
    """The longest period written at s[i], or None; PeriodTextError when it is one but cannot be."""
    global _MARKS
    if not s[i].isalnum():
        return None
    if _MARKS is None:
        _MARKS = recache.compile("".join(f"(?:(?={_loose(p)})(?P<p{k}>))?" for k, (p, _) in enumerate(_PATTERNS)))
    marked = _MARKS.match(s, i).groupdict()  # type: ignore[union-attr] - every part is optional: it always matches
    found: list[tuple[re.Match, object]] = []
    for k, (_, build) in enumerate(_PATTERNS):
        if marked[f"p{k}"] is None:
            continue
        m = _pattern(k).match(s, i)
        if m and m.end() > i and ends_ok(s, m.end()):
            found.append((m, build))
    # longest first; a pattern that turns out not to fit (KeyError) leaves it to the next
    for m, build in sorted(found, key=lambda x: -x[0].end()):
        try:
            return m.end(), build(m, fiscal_start)  # type: ignore[operator]
        except KeyError:
            continue
        except PeriodTextError as exc:
            exc.end = m.end()
            raise
    return None
