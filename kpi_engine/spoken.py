"""Numbers said in words, as voice typing writes them, turned into digits before a question is read:
"the last thirty days", "twenty twenty five", "q three", "november fifteenth", "c a c"; Thai
"สามสิบวันล่าสุด", "ปีงบหกเก้า", "ไตรมาสสาม", "สัปดาห์ที่สี่สิบห้า".

Works on folded text (textnorm.Folded) and keeps its map to what was typed, so a message still
quotes the person's own words. Small numbers alone ("one", "six") are left as they are: the period
grammar reads them where they count ("the last six months"), and elsewhere they are words ("quick
one"). Thai number words are read only beside a unit or a period word, since they hide inside other
words (ห้าง, สามารถ).
"""

from __future__ import annotations

import re

from kpi_engine import recache
from kpi_engine.textnorm import Folded

_UNITS_EN = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
             "nine": 9}
_TEENS_EN = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
             "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS_EN = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
            "ninety": 90}
_ORDINALS_EN = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
                "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
                "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
                "twentieth": 20, "thirtieth": 30}
_MONTHS_EN = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
              "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
              "dec")
# letters spelt one by one that make a word the grammar knows ("c a c", "f y")
_SPELT = frozenset(("cac", "cpl", "aov", "fy", "ytd", "qtd", "mtd", "wtd", "kpi", "csat", "hr", "wr", "roi", "pos",
                    "erp", "smb", "sme"))


def _alt(words) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_B = r"(?<![a-z0-9])"
_E = r"(?![a-z0-9])"
# a year said in two halves ("twenty twenty five", "twenty nineteen"); "twenty six" alone is 26
_YEAR_RE = recache.compile(_B + r"(?:twenty|two thousand(?: and)?) (" + _alt([*_TEENS_EN, *_TENS_EN])
                      + r")(?: (" + _alt(k for k in _UNITS_EN if k != "zero") + r"))?" + _E)
_TENS_RE = recache.compile(_B + r"(" + _alt(_TENS_EN) + r")(?:[ -](" + _alt(k for k in _UNITS_EN if k != "zero") + r"))?"
                      + _E)
_TEEN_RE = recache.compile(_B + r"(" + _alt(_TEENS_EN) + r")" + _E)
# a small number right after a word that wants one: q three, week six, fy twenty six is caught above
_AFTER_RE = recache.compile(_B + r"(q|queue|cue|quarter|week|wk|fy|top|bottom|h) (" + _alt(_UNITS_EN) + r")" + _E)
_DAY_RE = recache.compile(_B + r"(" + _alt(_MONTHS_EN) + r") (?:the )?(" + _alt(_ORDINALS_EN) + r"|(?:twenty|thirty)[ -]"
                     r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth))" + _E)
_SPELT_RE = recache.compile(_B + r"((?:[a-z] ){1,3}[a-z])" + _E)

_TH_DIGITS = {"ศูนย์": 0, "หนึ่ง": 1, "เอ็ด": 1, "สอง": 2, "ยี่": 2, "สาม": 3, "สี่": 4, "ห้า": 5, "หก": 6, "เจ็ด": 7,
              "แปด": 8, "เก้า": 9, "ไฟว์": 5, "ทรี": 3, "เท็น": 10}
_TH_MULT = {"สิบ": 10, "ร้อย": 100, "พัน": 1000}
_TH_WORD = "(?:" + _alt([*_TH_DIGITS, *_TH_MULT]) + ")"
_TH_BEFORE = r"(?:ไตรมาส(?:ที่)? ?|ปีงบ(?:ประมาณ)? ?|ปี ?|พ\.ศ\. ?|สัปดาห์ที่ ?|อาทิตย์ที่ ?|วันที่ ?|ท็อป ?|top ?|คิว ?)"
_TH_AFTER = r"(?= ?(?:วัน|เดือน|สัปดาห์|อาทิตย์|ปี|คน|อันดับ|ไตรมาส|รายการ))"
_TH_RE = recache.compile(r"(" + _TH_BEFORE + r")(" + _TH_WORD + r"+)|(" + _TH_WORD + r"+)" + _TH_AFTER)


def _thai_value(text: str) -> int | None:
    parts = re.findall(_TH_WORD, text)
    if not parts or "".join(parts) != text:
        return None
    if not any(p in _TH_MULT for p in parts):
        if len(parts) == 1:
            return _TH_DIGITS[parts[0]]
        return int("".join(str(_TH_DIGITS[p]) for p in parts))  # digit by digit: หกเก้า is 69
    total, current = 0, 0
    for p in parts:
        if p in _TH_MULT:
            total += (current or 1) * _TH_MULT[p]
            current = 0
        else:
            current = _TH_DIGITS[p]
    return total + current


def _english(m: re.Match, kind: str) -> str | None:
    g = m.groups()
    if kind == "year":
        second = _TEENS_EN.get(g[0]) or _TENS_EN[g[0]]
        return str(2000 + second + (_UNITS_EN[g[1]] if g[1] else 0))
    if kind == "tens":
        return str(_TENS_EN[g[0]] + (_UNITS_EN[g[1]] if g[1] else 0))
    if kind == "teen":
        return str(_TEENS_EN[g[0]])
    if kind == "after":
        if g[0] in ("queue", "cue"):  # "q" heard as a word
            return f"q{_UNITS_EN[g[1]]}"
        return f"{g[0]} {_UNITS_EN[g[1]]}" if g[0] not in ("q", "h") else f"{g[0]}{_UNITS_EN[g[1]]}"
    if kind == "day":
        said = g[1].replace("-", " ")
        if " " in said:
            tens, unit = said.split(" ")
            n = _TENS_EN[tens] + _ORDINALS_EN[unit]
        else:
            n = _ORDINALS_EN[said]
        return f"{g[0]} {n}"
    if kind == "spelt":
        word = g[0].replace(" ", "")
        return word if word in _SPELT else None
    return None


_EN_RULES = (("year", _YEAR_RE), ("day", _DAY_RE), ("tens", _TENS_RE), ("teen", _TEEN_RE), ("after", _AFTER_RE),
             ("spelt", _SPELT_RE))
_ANY_RE = recache.compile(_alt([*_UNITS_EN, *_TEENS_EN, *_TENS_EN, *_ORDINALS_EN]) + r"|(?:^| )[a-z] [a-z]|" + _TH_WORD)


def spoken_numbers(f: Folded) -> Folded:
    """The folded text with numbers said in words written in digits (see the module's doc)."""
    s = f.s
    if not _ANY_RE.search(s):
        return f
    omap = list(f.omap)
    for kind, rx in _EN_RULES:
        s, omap = rewrite(s, omap, rx, lambda m, k=kind: _english(m, k))
    s, omap = rewrite(s, omap, _TH_RE, _thai)
    return Folded(f.original, s, tuple(omap))


def _thai(m: re.Match) -> tuple[int, str] | None:
    """(how many characters of the match to keep, the digits for the rest): the word before the
    number ("ปีงบ" in "ปีงบหกเก้า") stays as typed."""
    keep = len(m.group(1) or "")
    v = _thai_value(m.group(2) or m.group(3))
    if v is None:
        return None
    if (m.group(1) or "").startswith("คิว"):  # "คิวสาม": Q3 said aloud
        return 0, f"q{v}"
    return keep, str(v)


def rewrite(s: str, omap: list[int], rx: re.Pattern, value) -> tuple[str, list[int]]:
    out, mapped, last = [], [], 0
    for m in rx.finditer(s):
        new = value(m)
        if new is None:
            continue
        keep, new = new if isinstance(new, tuple) else (0, new)
        start = m.start() + keep
        out.append(s[last:start])
        mapped.extend(omap[last:start])
        out.append(new)
        # every character of the digits points at where the words began: a quote of them is the words
        mapped.extend([omap[start]] * len(new))
        last = m.end()
    if last == 0:
        return s, omap
    out.append(s[last:])
    mapped.extend(omap[last:])
    return "".join(out), mapped
