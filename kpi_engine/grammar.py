"""The /kpi grammar: what a person types, in English or Thai, parsed into a Query or a HelpRequest.

Thai is written without spaces between words, so the text is tokenised by matching known phrases
(longest first) at each position instead of splitting on spaces. Whatever no phrase covers becomes
an "unknown" span, answered with a did-you-mean and never silently guessed: a wrong KPI that looks
right is worse than a question back.

Public API: `parse(text, catalogue=None) -> Query | HelpRequest`, raising `QueryError`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache

from rapidfuzz import fuzz, process

from kpi_engine import periods
from kpi_engine.catalogue import DIMENSIONS, KpiSpec
from kpi_engine.catalogue import catalogue as default_catalogue
from kpi_engine.query import HelpRequest, PeriodSpec, Query, QueryError

__all__ = ["MAX_CHARS", "parse"]

# A question is a few words; capping the length keeps tokenising and fuzzy matching linear and
# fast on pasted junk.
MAX_CHARS = 500
_MAX_MESSAGE = 300
_QUOTE = 40
# Fuzzy suggestions look at n-grams of an unknown span; bounding both keeps them under a millisecond.
_FUZZY_WORDS = 8
_FUZZY_NGRAM = 4
_FUZZY_SPANS = 3
_MAX_ROLLING_DAYS = 3660
_YEARS = (1900, 2200)

# ---------------------------------------------------------------- characters


def _is_thai(c: str) -> bool:
    return "\u0e00" <= c <= "\u0e7f"


def _is_word(c: str) -> bool:
    return (c.isalnum() or c == "_") and not _is_thai(c)


# Vowel signs and tone marks attach to the consonant before them, so no Thai word starts with one:
# a phrase that ends right before one would have cut a syllable in half.
_THAI_NO_START = frozenset(
    [chr(c) for c in range(0x0E30, 0x0E3B)] + ["\u0e45"] + [chr(c) for c in range(0x0E47, 0x0E4F)]
)
# Leading vowels are written before the consonant they belong to, so a phrase cannot start after one.
_THAI_LEADING = frozenset("\u0e40\u0e41\u0e42\u0e43\u0e44")
_THAI_RE = re.compile("[\u0e00-\u0e7f]")
_SPACES_RE = re.compile(r"\s+")
# Slack HTML-escapes these three in slash-command text.
_SLACK_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def _starts_ok(s: str, i: int) -> bool:
    """May a phrase start at s[i]? Not inside an English word, not after a Thai leading vowel."""
    if i == 0:
        return True
    c, prev = s[i], s[i - 1]
    if _is_word(c):
        return not _is_word(prev)
    if _is_thai(c):
        return prev not in _THAI_LEADING and c not in _THAI_NO_START
    return True


def _ends_ok(s: str, j: int, last: str) -> bool:
    """May a phrase whose last character is `last` end before s[j]?"""
    if j >= len(s):
        return True
    if _is_word(last):
        return not _is_word(s[j])
    if _is_thai(last):
        return s[j] not in _THAI_NO_START
    return True


def _invisible(c: str) -> bool:
    # Zero-width spaces separate Thai words in pasted text; control characters mean nothing; a lone
    # surrogate cannot even be encoded to send back.
    return c.isspace() or unicodedata.category(c) in ("Cc", "Cf", "Cs")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\u0e4d\u0e32", "\u0e33").casefold()
    return _SPACES_RE.sub(" ", text).strip()


def _normalise(text: str) -> tuple[str, str, list[int]]:
    """-> (text as typed, folded text to match on, index in the typed text of each folded character).

    The map lets filter values, period texts and quoted words come back exactly as typed
    (Slack user ids are upper case) while all matching is case-insensitive.
    """
    text = unicodedata.normalize("NFC", text).replace("\u0e4d\u0e32", "\u0e33")
    out: list[str] = []
    omap: list[int] = []
    for k, ch in enumerate(text):
        if _invisible(ch):
            if out and out[-1] != " ":
                out.append(" ")
                omap.append(k)
            continue
        if "\u0e50" <= ch <= "\u0e59":  # Thai digits
            folded = chr(ord(ch) - 0x0E50 + 0x30)
        else:
            folded = ch.casefold()
        for f in folded:
            out.append(f)
            omap.append(k)
    while out and out[-1] == " ":
        out.pop()
        omap.pop()
    return text, "".join(out), omap


# ---------------------------------------------------------------- vocabulary

_CURRENT: dict[tuple[str, int], tuple[str, ...]] = {
    ("day", 0): ("today", "วันนี้"),
    ("day", -1): ("yesterday", "เมื่อวาน", "เมื่อวานนี้"),
    ("week", 0): ("this week", "wtd", "week to date", "สัปดาห์นี้", "อาทิตย์นี้"),
    ("week", -1): ("last week", "previous week", "สัปดาห์ที่แล้ว", "สัปดาห์ก่อน", "สัปดาห์ที่ผ่านมา",
                   "อาทิตย์ที่แล้ว", "อาทิตย์ก่อน", "อาทิตย์ที่ผ่านมา"),
    ("month", 0): ("this month", "mtd", "month to date", "เดือนนี้", "ตั้งแต่ต้นเดือน"),
    ("month", -1): ("last month", "previous month", "เดือนที่แล้ว", "เดือนก่อน", "เดือนที่ผ่านมา"),
    ("quarter", 0): ("this quarter", "this qtr", "qtd", "quarter to date", "ไตรมาสนี้", "ตั้งแต่ต้นไตรมาส"),
    ("quarter", -1): ("last quarter", "last qtr", "previous quarter", "ไตรมาสที่แล้ว", "ไตรมาสก่อน",
                      "ไตรมาสที่ผ่านมา"),
    ("year", 0): ("this year", "ytd", "year to date", "ปีนี้", "ตั้งแต่ต้นปี"),
    ("year", -1): ("last year", "previous year", "ปีที่แล้ว", "ปีก่อน", "ปีที่ผ่านมา"),
}

_DIM_WORDS_EN: dict[str, tuple[str, ...]] = {
    "rep": ("rep", "reps", "salesperson", "salespeople", "sales rep", "sales reps", "seller", "sellers"),
    "team": ("team", "teams"),
    "region": ("region", "regions"),
    "channel": ("channel", "channels"),
    "product": ("product", "products"),
    "segment": ("segment", "segments", "customer segment", "customer segments"),
    "stage": ("stage", "stages"),
    "type": ("type", "types", "activity type", "activity types"),
    "action": ("action", "actions"),
}
_DIM_WORDS_TH: dict[str, tuple[str, ...]] = {
    "rep": ("ตัวแทนขาย", "เซลส์", "พนักงานขาย", "ตัวแทน", "เซล"),
    "team": ("ทีม",),
    "region": ("ภูมิภาค", "ภาค", "เขต"),
    "channel": ("ช่องทาง",),
    "product": ("สินค้า", "ผลิตภัณฑ์"),
    "segment": ("กลุ่มลูกค้า", "เซกเมนต์", "เซกเมนท์"),
    "stage": ("ขั้นตอน", "สเตจ"),
    "type": ("ประเภท", "ประเภทกิจกรรม"),
    "action": ("การกระทำ",),
}
# For messages: what each dimension is called in Thai.
_DIM_TH = {d: words[0] for d, words in _DIM_WORDS_TH.items()}

_BY_EN = ("by", "per", "split by", "broken down by", "breakdown by", "grouped by", "group by")
_BY_TH = ("แยกตาม", "ตาม", "แบ่งตาม", "แยก")
_BY_TH_ONLY = ("ราย",)  # รายทีม, รายภาค: only before a Thai dimension word

_VS_EN = ("vs", "vs.", "versus", "compared to", "compared with", "against")
_VS_TH = ("เทียบ", "เทียบกับ", "เปรียบเทียบ", "เปรียบเทียบกับ")
_YOY_EN = ("last year", "ly", "prior year", "previous year", "same period last year", "a year ago",
           "the same period last year")
_PREV_EN = ("previous", "prev", "previous period", "prior period", "last period", "last week", "last month",
            "last quarter")
_YOY_TH = ("ปีที่แล้ว", "ปีก่อน", "ปีที่ผ่านมา", "ช่วงเดียวกันปีที่แล้ว", "ช่วงเดียวกันปีก่อน")
_PREV_TH = ("ช่วงก่อน", "ช่วงก่อนหน้า", "สัปดาห์ที่แล้ว", "สัปดาห์ก่อน", "เดือนที่แล้ว", "เดือนก่อน",
            "ไตรมาสที่แล้ว", "ไตรมาสก่อน")
_YOY_WORDS = ("yoy", "y/y", "year over year", "year-over-year")
# "revenue vs target": targets are shown whenever one applies, so after another KPI this asks for nothing
# more; alone ("vs target") it names target attainment.
_TARGET_EN = ("target", "targets", "quota", "goal", "goals", "plan")
_TARGET_TH = ("เป้า", "เป้าหมาย")
_TARGET_KPI = "target_attainment"

_CHART = ("chart", "charts", "graph", "graphs", "plot", "trend", "with chart", "with a chart",
          "กราฟ", "แผนภูมิ", "พร้อมกราฟ", "แสดงกราฟ")
_HELP = ("help", "list", "kpis", "kpi list", "list kpis", "usage", "commands",
         "ช่วยเหลือ", "วิธีใช้", "รายการ", "รายการ kpi", "คำสั่ง")
_FILLER = ("the", "for", "in", "of", "show", "me", "what", "is", "was", "our", "please", "pls", "plz",
           "a", "an", "and", "at", "on", "during", "how", "about", "give", "tell", "get", "are", "were",
           "my", "us", "what's", "whats", "with", "kpi",
           "?", ",", ".", "!", ":", "-", "–", "—",
           "ของ", "ขอดู", "ดู", "หน่อย", "ครับ", "ค่ะ", "คะ", "ขอ", "ใน", "ช่วง", "เท่าไหร่", "เท่าไร",
           "บ้าง", "ช่วย", "แสดง", "อยากรู้", "คับ", "ค่า")

# Which meaning wins when a phrase means two things: grammar words over catalogue aliases (an alias
# "list" must not hide help), catalogue names over filler words.
_PRIORITY = {"filler": 0, "kpi": 1, "period": 2, "breakdown": 2, "compare": 2, "chart": 2, "help": 2,
             "target": 2}
_END = ""  # trie key of a terminal (never a character)

Meaning = tuple[str, object]  # (kind, value)


class _Vocab:
    """Every phrase the grammar knows, as a character trie plus a flat list for fuzzy matching."""

    def __init__(self, specs: tuple[KpiSpec, ...]):
        self.root: dict = {}
        self.choices: list[str] = []
        self.choice_info: list[tuple[str, Meaning]] = []  # (shown as, meaning)
        self._seen: set[str] = set()
        for words in _FILLER:
            self._add(words, ("filler", None))
        for spec in specs:
            for name in spec.names():
                for variant in _name_variants(name):
                    self._add(variant, ("kpi", spec.key), fuzzy=True)
        for (grain, offset), phrases in _CURRENT.items():
            for p in phrases:
                self._add(p, ("period", PeriodSpec("current", grain=grain, offset=offset)), fuzzy=True)
        self.dim_words: dict[str, str] = {}
        for dim in DIMENSIONS:
            en, th = _DIM_WORDS_EN.get(dim, (dim,)), _DIM_WORDS_TH.get(dim, ())
            for w in (*en, *th):
                self.dim_words[_fold(w)] = dim
            for w in en:
                for by in _BY_EN:
                    self._add(f"{by} {w}", ("breakdown", dim), fuzzy=by == "by")
                for by in _BY_TH:
                    self._add(f"{by} {w}", ("breakdown", dim))
                self._add_choice(w, f"by {en[0]}", ("breakdown", dim))
            for w in th:
                for by in (*_BY_TH, *_BY_TH_ONLY):
                    self._add(by + w, ("breakdown", dim), fuzzy=by == "แยกตาม")
                self._add_choice(w, f"แยกตาม{th[0]}", ("breakdown", dim))
        for vs in _VS_EN:
            for target in _YOY_EN:
                self._add(f"{vs} {target}", ("compare", "yoy"), fuzzy=vs == "vs")
            for target in _PREV_EN:
                self._add(f"{vs} {target}", ("compare", "previous"), fuzzy=vs == "vs")
        for vs in _VS_TH:
            for target in _YOY_TH:
                self._add(vs + target, ("compare", "yoy"), fuzzy=vs == "เทียบ")
            for target in _PREV_TH:
                self._add(vs + target, ("compare", "previous"))
        for w in _YOY_WORDS:
            self._add(w, ("compare", "yoy"), fuzzy=True)
        for vs in _VS_EN:
            for w in _TARGET_EN:
                self._add(f"{vs} {w}", ("target", None))
        for vs in _VS_TH:
            for w in _TARGET_TH:
                self._add(vs + w, ("target", None))
        for w in _CHART:
            self._add(w, ("chart", True), fuzzy=True)
        for w in _HELP:
            self._add(w, ("help", None), fuzzy=True)
        self.dim_re = re.compile(
            "(" + "|".join(re.escape(w) for w in sorted(self.dim_words, key=len, reverse=True)) + r") ?: ?"
        )

    def _add(self, phrase: str, meaning: Meaning, fuzzy: bool = False) -> None:
        p = _fold(phrase)
        if not p:
            return
        node = self.root
        for ch in p:
            node = node.setdefault(ch, {})
        old = node.get(_END)
        if old is None or _PRIORITY[meaning[0]] > _PRIORITY[old[0][0]]:
            node[_END] = (meaning, p[-1])
        if fuzzy:
            self._add_choice(p, p, meaning)

    def _add_choice(self, text: str, shown: str, meaning: Meaning) -> None:
        t = _fold(text)
        if t and t not in self._seen:
            self._seen.add(t)
            self.choices.append(t)
            self.choice_info.append((shown, meaning))


def _name_variants(name: str) -> tuple[str, ...]:
    """People type "lead->qualified" or "lead to qualified" for the catalogue's "lead→qualified"."""
    if "→" not in name:
        return (name,)
    return (name, name.replace("→", "->"), name.replace("→", " to "), name.replace("→", " "))


@lru_cache(maxsize=8)
def _vocab(specs: tuple[KpiSpec, ...]) -> _Vocab:
    return _Vocab(specs)


# ---------------------------------------------------------------- period patterns

_MONTHS_EN = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}
_MONTHS_TH = {
    "มกราคม": 1, "ม.ค.": 1, "กุมภาพันธ์": 2, "ก.พ.": 2, "มีนาคม": 3, "มี.ค.": 3, "เมษายน": 4, "เม.ย.": 4,
    "พฤษภาคม": 5, "พ.ค.": 5, "มิถุนายน": 6, "มิ.ย.": 6, "กรกฎาคม": 7, "ก.ค.": 7, "สิงหาคม": 8, "ส.ค.": 8,
    "กันยายน": 9, "ก.ย.": 9, "ตุลาคม": 10, "ต.ค.": 10, "พฤศจิกายน": 11, "พ.ย.": 11, "ธันวาคม": 12, "ธ.ค.": 12,
}


def _th_month_pattern(name: str) -> str:
    # Abbreviations are typed with or without their dots: พ.ค. 2569, พ.ค 2569, พค 2569.
    if "." not in name:
        return re.escape(name)
    return "".join(re.escape(part) + r"\.?" for part in name.split(".") if part)


def _th_month(text: str) -> int:
    bare = text.replace(".", "")
    for name, m in _MONTHS_TH.items():
        if name.replace(".", "") == bare:
            return m
    raise KeyError(text)


def _th_month_alone_pattern(name: str) -> str:
    # Without a year, an abbreviation needs its inner dots: พค or กย alone could be part of a word.
    if "." not in name:
        return re.escape(name)
    return r"\.".join(re.escape(part) for part in name.split(".") if part) + r"\.?"


_EN_MONTH_ALT = "|".join(sorted(_MONTHS_EN, key=len, reverse=True))
_TH_MONTH_ALT = "|".join(_th_month_pattern(n) for n in sorted(_MONTHS_TH, key=len, reverse=True))
_TH_MONTH_ALONE_ALT = "|".join(_th_month_alone_pattern(n) for n in sorted(_MONTHS_TH, key=len, reverse=True))
_Y = r"([0-9]{4})"
_TH_YEAR = r"(?:ปี ?)?(?:(?:พ\.ศ\.|ค\.ศ\.) ?)?" + _Y  # ปี 2569, พ.ศ. 2569, ปี พ.ศ. 2569
_N = r"([0-9]{1,3})"
_TH_AGO = r"(?:ที่แล้ว|ที่ผ่านมา)"

# (pattern, grain); each pattern's groups are read by _period_from_match.
_PERIOD_PATTERNS: list[tuple[re.Pattern, str]] = [
    (re.compile(_Y + r"-([0-9]{1,2})-([0-9]{1,2})"), "day"),
    (re.compile(_Y + r" ?-? ?w" + _N), "week"),
    (re.compile(r"(?:w|wk ?|week ?)" + _N + r" ?[-/,]? ?" + _Y), "week_ny"),
    (re.compile(r"(?:สัปดาห์|อาทิตย์)ที่ ?" + _N + r" ?[-/]? ?" + _TH_YEAR), "week_ny"),
    (re.compile(_Y + r" ?-? ?q" + _N), "quarter"),
    (re.compile(r"q" + _N + r" ?[-/,]? ?" + _TH_YEAR), "quarter_ny"),
    (re.compile(r"ไตรมาส ?(?:ที่ ?)?" + _N + r" ?[-/]? ?" + _TH_YEAR), "quarter_ny"),
    (re.compile(_Y + r"[-/]([0-9]{1,2})"), "month"),
    (re.compile(r"(" + _EN_MONTH_ALT + r")\.? ?[,/-]? ?" + _Y), "month_en"),
    (re.compile(r"(?:เดือน ?)?(" + _TH_MONTH_ALT + r") ?" + _TH_YEAR), "month_th"),
    (re.compile(r"(?:(?:ปี|year) ?)?(?:(?:พ\.ศ\.|ค\.ศ\.) ?)?" + _Y), "year"),
    # A month or quarter without a year: the latest one that has started (PeriodSpec kind "recent").
    # The patterns with a year above match longer, so "May 2026" never gets here.
    (re.compile(r"(" + _EN_MONTH_ALT + r")\.?"), "recent_month_en"),
    (re.compile(r"(?:เดือน ?)?(" + _TH_MONTH_ALONE_ALT + r")"), "recent_month_th"),
    (re.compile(r"q" + _N), "recent_quarter"),
    (re.compile(r"ไตรมาส ?(?:ที่ ?)?" + _N), "recent_quarter"),
    # "last May", "พ.ค. ที่แล้ว": the latest one that has ended (offset -1).
    (re.compile(r"(?:last|previous) ?(" + _EN_MONTH_ALT + r")\.?"), "ended_month_en"),
    (re.compile(r"(?:เดือน ?)?(" + _TH_MONTH_ALONE_ALT + r") ?" + _TH_AGO), "ended_month_th"),
    (re.compile(r"(?:last|previous) ?q" + _N), "ended_quarter"),
    (re.compile(r"ไตรมาส ?(?:ที่ ?)?" + _N + r" ?" + _TH_AGO), "ended_quarter"),
    (re.compile(r"(?:last|past|previous|trailing) ?([0-9]{1,6}) ?days?"), "rolling"),
    (re.compile(r"([0-9]{1,6}) ?วัน ?(?:ที่ผ่านมา|ล่าสุด|ย้อนหลัง|หลังสุด)"), "rolling"),
    (re.compile(r"ย้อนหลัง ?([0-9]{1,6}) ?วัน"), "rolling"),
]
# Periods can only start with a digit, a Latin letter of the patterns above, or Thai; skip the rest fast.
_PERIOD_FIRST = frozenset("0123456789qwlpty" + "".join(m[0] for m in _MONTHS_EN))

_MENTION_RE = re.compile(r"<@([a-z0-9]+)(?:\|[^>]{0,80})?>")
_ANY_DIM_RE = re.compile(r"([a-z][a-z0-9_]{0,30}):(?=\S)")


# ---------------------------------------------------------------- tokens


@dataclass(frozen=True)
class _Tok:
    kind: str  # kpi, period, breakdown, filter, compare, chart, target, help, filler, unknown
    value: object
    start: int  # in the folded text
    end: int


class _Text:
    """The folded text being parsed, with the way back to what was typed."""

    def __init__(self, original: str, folded: str, omap: list[int], lang: str, vocab: _Vocab):
        self.original, self.s, self.omap, self.lang, self.vocab = original, folded, omap, lang, vocab

    def typed(self, a: int, b: int) -> str:
        """s[a:b] as the user typed it, minus invisible characters that would garble a reply."""
        if b <= a:
            return ""
        raw = self.original[self.omap[a]:self.omap[b - 1] + 1]
        return " ".join("".join(" " if _invisible(c) else c for c in raw).split())


def _error(message: str, lang: str, **kw) -> QueryError:
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 1] + "…"
    return QueryError(message, lang=lang, **kw)


def _q(word: str) -> str:
    """A word quoted back to the user, cut so that pasted junk cannot flood the reply."""
    word = " ".join(word.split())
    return word if len(word) <= _QUOTE else word[: _QUOTE - 1] + "…"


def _year(text: str) -> int:
    y = int(text)
    return y - 543 if y > 2400 else y  # Buddhist era: 2569 BE = 2026 CE


def _bad_period(t: _Text, typed: str, why_en: str, why_th: str) -> QueryError:
    if t.lang == "th":
        return _error(f'"{_q(typed)}" ไม่ใช่ช่วงเวลาที่มีจริง ({why_th})', t.lang, word=_q(typed))
    return _error(f'"{_q(typed)}" is not a real period ({why_en}).', t.lang, word=_q(typed))


def _period_from_match(t: _Text, m: re.Match, kind: str) -> PeriodSpec:
    typed = t.typed(m.start(), m.end())
    g = m.groups()

    def year(text: str) -> int:
        y = _year(text)
        if not _YEARS[0] <= y <= _YEARS[1]:
            raise _bad_period(t, typed, f"the year must be between {_YEARS[0]} and {_YEARS[1]}",
                              f"ปีต้องอยู่ระหว่าง {_YEARS[0]} ถึง {_YEARS[1]}")
        return y

    def month(y: int, mo: int) -> PeriodSpec:
        if not 1 <= mo <= 12:
            raise _bad_period(t, typed, "months run 01 to 12", "เดือนมี 1 ถึง 12")
        return PeriodSpec("key", key=f"{y:04d}-{mo:02d}", text=typed)

    def quarter(y: int, q: int) -> PeriodSpec:
        if not 1 <= q <= 4:
            raise _bad_period(t, typed, "quarters run Q1 to Q4", "ไตรมาสมี 1 ถึง 4")
        return PeriodSpec("key", key=f"{y:04d}-Q{q}", text=typed)

    def week(y: int, w: int) -> PeriodSpec:
        last = date(y, 12, 28).isocalendar()[1]  # 28 December is always in the year's last ISO week
        if not 1 <= w <= last:
            raise _bad_period(t, typed, f"{y} has ISO weeks W01 to W{last}",
                              f"ปี {y} มีสัปดาห์ที่ 1 ถึง {last}")
        return PeriodSpec("key", key=f"{y:04d}-W{w:02d}", text=typed)

    if kind == "day":
        y = year(g[0])
        try:
            d = date(y, int(g[1]), int(g[2]))
        except ValueError:
            raise _bad_period(t, typed, "no such date", "ไม่มีวันที่นี้") from None
        return PeriodSpec("key", key=d.isoformat(), text=typed)
    if kind == "week":
        return week(year(g[0]), int(g[1]))
    if kind == "week_ny":
        return week(year(g[1]), int(g[0]))
    if kind == "quarter":
        return quarter(year(g[0]), int(g[1]))
    if kind == "quarter_ny":
        return quarter(year(g[1]), int(g[0]))
    if kind == "month":
        return month(year(g[0]), int(g[1]))
    if kind == "month_en":
        return month(year(g[1]), _MONTHS_EN[g[0]])
    if kind == "month_th":
        return month(year(g[1]), _th_month(g[0]))
    if kind == "year":
        return PeriodSpec("key", key=f"{year(g[0]):04d}", text=typed)
    if kind.startswith(("recent_", "ended_")):
        offset = -1 if kind.startswith("ended_") else 0
        if kind.endswith("_quarter"):
            q = int(g[0])
            if not 1 <= q <= 4:
                raise _bad_period(t, typed, "quarters run Q1 to Q4", "ไตรมาสมี 1 ถึง 4")
            return PeriodSpec("recent", grain="quarter", key=f"Q{q}", offset=offset, text=typed)
        mo = _MONTHS_EN[g[0]] if kind.endswith("_en") else _th_month(g[0])
        return PeriodSpec("recent", grain="month", key=f"{mo:02d}", offset=offset, text=typed)
    days = int(g[0])
    if not 1 <= days <= _MAX_ROLLING_DAYS:
        raise _bad_period(t, typed, f"use 1 to {_MAX_ROLLING_DAYS} days",
                          f"ใช้ได้ 1 ถึง {_MAX_ROLLING_DAYS} วัน")
    return PeriodSpec("rolling", days=days, text=typed)


def _match_period(t: _Text, i: int) -> _Tok | None:
    s = t.s
    if s[i] not in _PERIOD_FIRST and not _is_thai(s[i]):
        return None
    best: tuple[re.Match, str] | None = None
    for rx, kind in _PERIOD_PATTERNS:
        m = rx.match(s, i)
        if m and _ends_ok(s, m.end(), s[m.end() - 1]) and (best is None or m.end() > best[0].end()):
            best = (m, kind)
    if best is None:
        return None
    m, kind = best
    return _Tok("period", _period_from_match(t, m, kind), i, m.end())


def _match_trie(t: _Text, i: int, kinds: frozenset[str] | None = None) -> _Tok | None:
    """Longest known phrase at s[i]. Between Thai words a space is optional, both in the text and
    in the phrase, because Thai writers put spaces where they like."""
    s, n = t.s, len(t.s)
    best: tuple[int, Meaning] | None = None
    stack: list[tuple[dict, int, bool]] = [(t.vocab.root, i, False)]
    while stack:
        node, j, skipped = stack.pop()
        term = node.get(_END)
        if term is not None and not skipped and j > i and (best is None or j > best[0]):
            meaning, last = term
            if (kinds is None or meaning[0] in kinds) and _ends_ok(s, j, last):
                best = (j, meaning)
        if j < n:
            ch = s[j]
            nxt = node.get(ch)
            if nxt is not None:
                stack.append((nxt, j + 1, False))
            if ch == " " and j > i and (_is_thai(s[j - 1]) or (j + 1 < n and _is_thai(s[j + 1]))):
                stack.append((node, j + 1, True))
        sp = node.get(" ")
        if sp is not None and j > i and j < n and s[j] != " " and (_is_thai(s[j - 1]) or _is_thai(s[j])):
            stack.append((sp, j, True))
    if best is None:
        return None
    j, (kind, value) = best
    return _Tok(kind, value, i, j)


def _filter_value(t: _Text, j: int, dim_typed: str) -> tuple[str, int]:
    """The value after `dim:` as typed, and where it ends."""
    s, n = t.s, len(t.s)
    if j < n and s[j] in "\"'“‘":
        close = {'"': '"', "'": "'", "“": "”", "‘": "’"}[s[j]]
        k = s.find(close, j + 1)
        if k < 0 and close in "”’":
            k = s.find('"' if close == "”" else "'", j + 1)
        if k < 0:
            msg = (f'The quote after "{_q(dim_typed)}:" is not closed.' if t.lang == "en"
                   else f'เครื่องหมายคำพูดหลัง "{_q(dim_typed)}:" ไม่ได้ปิด')
            raise _error(msg, t.lang, word=_q(dim_typed))
        return t.typed(j + 1, k), k + 1
    m = _MENTION_RE.match(s, j)
    if m:
        return "@" + t.typed(m.start(1), m.end(1)), m.end()
    k = j
    while k < n and s[k] != " ":
        # Thai runs on without spaces: ทีม:ภาคเหนือเดือนนี้ is a value and then a period.
        if k > j and _is_thai(s[k - 1]) and (
            _match_period(t, k) or _match_trie(t, k, frozenset({"period", "breakdown", "compare", "chart"}))
        ):
            break
        k += 1
    while k > j and s[k - 1] in ",?!.;:":
        k -= 1
    return t.typed(j, k), k


def _match_filter(t: _Text, i: int) -> _Tok | None:
    s = t.s
    m = t.vocab.dim_re.match(s, i)
    if m is None:
        m2 = _ANY_DIM_RE.match(s, i)
        if m2 is None or not _starts_ok(s, i):
            return None
        word = t.typed(m2.start(1), m2.end(1))
        dims = [d for d in t.vocab.dim_words if not _is_thai(d[0])]
        found = process.extractOne(m2.group(1), dims, scorer=fuzz.ratio, score_cutoff=70)
        sugg = [t.vocab.dim_words[found[0]]] if found else []
        if t.lang == "th":
            msg = f'ไม่รู้จักตัวกรอง "{_q(word)}"'
            msg += f' หมายถึง "{sugg[0]}" หรือเปล่า?' if sugg else f" ใช้ได้: {', '.join(DIMENSIONS)}"
        else:
            msg = f'I don\'t know the filter "{_q(word)}".'
            msg += (f' Did you mean "{sugg[0]}"?' if sugg
                    else f" Filters are dim:value with dim one of {', '.join(DIMENSIONS)}.")
        raise _error(msg, t.lang, word=_q(word), suggestions=sugg)
    if not _starts_ok(s, i):
        return None
    dim = t.vocab.dim_words[m.group(1)]
    dim_typed = t.typed(m.start(1), m.end(1))
    value, end = _filter_value(t, m.end(), dim_typed)
    if not value:
        raise _error(f"{_q(dim_typed)}: needs a value, e.g. {dim}:something" if t.lang == "en"
                     else f"{_q(dim_typed)}: ต้องมีค่า เช่น {dim}:ชื่อ", t.lang, word=_q(dim_typed))
    return _Tok("filter", (dim, value), i, end)


def _scan(t: _Text, start: int) -> list[_Tok]:
    s, n = t.s, len(t.s)
    toks: list[_Tok] = []
    i = start
    while i < n:
        c = s[i]
        if c == " ":
            i += 1
            continue
        cands = []
        if c == "<":
            m = _MENTION_RE.match(s, i)
            if m:  # a bare Slack mention names the rep
                cands.append(_Tok("filter", ("rep", "@" + t.typed(m.start(1), m.end(1))), i, m.end()))
        if _starts_ok(s, i):
            for tok in (_match_filter(t, i), _match_period(t, i), _match_trie(t, i)):
                if tok is not None:
                    cands.append(tok)
        if cands:
            tok = max(cands, key=lambda x: x.end)  # longest wins; ties keep the first (more specific)
            toks.append(tok)
            i = tok.end
            continue
        j = i + 1
        if _is_word(c):
            while j < n and (_is_word(s[j]) or s[j] in "'’-"):
                j += 1
        toks.append(_Tok("unknown", None, i, j))
        i = j
    return toks


# ---------------------------------------------------------------- did you mean


def _unknown_spans(toks: list[_Tok]) -> list[tuple[int, int]]:
    """Runs of unknown tokens; filler inside a run does not split it (ฤดูกาล is not ฤ + ดู + กาล)."""
    spans: list[tuple[int, int]] = []
    cur: list[int] | None = None
    for tok in toks:
        if tok.kind == "unknown":
            if cur is None:
                cur = [tok.start, tok.end]
            else:
                cur[1] = tok.end
        elif tok.kind != "filler" and cur is not None:
            spans.append((cur[0], cur[1]))
            cur = None
    if cur is not None:
        spans.append((cur[0], cur[1]))
    return spans


def _suggest(vocab: _Vocab, span: str, want_kpi: bool = False) -> tuple[list[str], tuple[int, int]]:
    """Did-you-mean for an unknown span, and which part of it (offsets in span) they replace: the
    best n-gram, so "wn rate team" is answered about "wn rate" rather than the whole run.
    With `want_kpi` (no KPI was recognised) a KPI match comes first: it is the fix that matters."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", span)][:_FUZZY_WORDS]
    grams = {(words[a][0], words[b - 1][1]) for a in range(len(words))
             for b in range(a + 1, min(len(words), a + _FUZZY_NGRAM) + 1)}
    if len(span) <= 100:
        grams.add((0, len(span)))
    found: list[tuple[float, bool, str, Meaning, tuple[int, int]]] = []
    for ga, gb in grams:
        g = span[ga:gb]
        cutoff = 85 if len(g) < 4 else 75
        for _choice, score, idx in process.extract(g, vocab.choices, scorer=fuzz.ratio, limit=4,
                                                   score_cutoff=cutoff):
            shown, meaning = vocab.choice_info[idx]
            found.append((score, meaning[0] == "kpi", shown, meaning, (ga, gb)))
    if not found:
        return [], (0, len(span))
    # Best score first; on a tie a KPI, then the longer gram, then alphabetical for stable output.
    found.sort(key=lambda x: (not (want_kpi and x[1]), -x[0], not x[1], x[4][0] - x[4][1], x[2]))
    best_gram = found[0][4]
    out: list[str] = []
    seen: set = set()
    for score, _is_kpi, shown, meaning, gram in found:
        key = (meaning[0], repr(meaning[1]))
        if gram != best_gram or key in seen or score < found[0][0] - 8:
            continue
        seen.add(key)
        out.append(shown)
        if len(out) == 3:
            break
    return out, best_gram


def _unknown_error(t: _Text, spans: list[tuple[int, int]], want_kpi: bool) -> QueryError:
    chosen, sugg = spans[0], []
    for a, b in spans[:_FUZZY_SPANS]:
        sugg, (ga, gb) = _suggest(t.vocab, t.s[a:b][:200], want_kpi)
        if sugg:
            chosen = (a + ga, a + gb)
            break
    word = _q(t.typed(*chosen))
    if t.lang == "th":
        if sugg:
            msg = f'ไม่เข้าใจ "{word}" หมายถึง ' + " หรือ ".join(f'"{x}"' for x in sugg) + " หรือเปล่า?"
        else:
            msg = f'ไม่เข้าใจ "{word}" ลองพิมพ์ /kpi list เพื่อดูรายการ KPI หรือ /kpi help'
    elif sugg:
        msg = f'I didn\'t understand "{word}". Did you mean ' + " or ".join(f'"{x}"' for x in sugg) + "?"
    else:
        msg = f'I didn\'t understand "{word}". Try /kpi list for the KPIs, or /kpi help.'
    return _error(msg, t.lang, word=word, suggestions=sugg)


# ---------------------------------------------------------------- parse


def _coerce(text: object) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes):
        return text.decode("utf-8", errors="replace")
    if not isinstance(text, str):
        raise QueryError("I can only read text.")
    return text


def parse(text: str, catalogue: dict[str, KpiSpec] | None = None) -> Query | HelpRequest:
    """What a person typed after /kpi -> the question it asks. Raises QueryError (one line for people)."""
    raw = _coerce(text)
    lang = "th" if _THAI_RE.search(raw) else "en"
    for a, b in _SLACK_ENTITIES:
        raw = raw.replace(a, b)
    raw = _SPACES_RE.sub(" ", raw).strip()
    if len(raw) > MAX_CHARS:
        msg = (f"That is too long ({len(raw)} characters); ask about one KPI in under {MAX_CHARS}."
               if lang == "en"
               else f"ข้อความยาวเกินไป ({len(raw)} ตัวอักษร) กรุณาถามไม่เกิน {MAX_CHARS} ตัวอักษร")
        raise _error(msg, lang)
    cat = default_catalogue() if catalogue is None else catalogue
    vocab = _vocab(tuple(cat.values()))
    original, folded, omap = _normalise(raw)
    t = _Text(original, folded, omap, lang, vocab)
    start = 5 if folded.startswith("/kpi") and (len(folded) == 4 or folded[4] == " ") else 0
    toks = _scan(t, start)
    return _build(t, toks, cat)


def _build(t: _Text, toks: list[_Tok], cat: dict[str, KpiSpec]) -> Query | HelpRequest:
    lang = t.lang
    th = lang == "th"
    if all(tok.kind == "filler" for tok in toks):
        return HelpRequest(lang=lang)
    spans = _unknown_spans(toks)
    kpis = [tok for tok in toks if tok.kind == "kpi" and tok.value in cat]
    if not kpis and _TARGET_KPI in cat:  # "vs target" alone; after another KPI it adds nothing
        kpis = [replace(tok, kind="kpi", value=_TARGET_KPI) for tok in toks if tok.kind == "target"]
    if any(tok.kind == "help" for tok in toks):
        if spans and any(_suggest(t.vocab, t.s[a:b][:200])[0] for a, b in spans[:_FUZZY_SPANS]):
            raise _unknown_error(t, spans, want_kpi=not kpis)
        return HelpRequest(topic=str(kpis[0].value) if kpis else None, lang=lang)
    if spans:
        raise _unknown_error(t, spans, want_kpi=not kpis)
    if not kpis:
        raise _error('ต้องการดู KPI ตัวไหน? เช่น "รายได้ เดือนนี้" ลองพิมพ์ /kpi list เพื่อดูรายการ' if th
                     else 'Which KPI? Start with one, e.g. "win rate last quarter"; try /kpi list.', lang)
    keys = list(dict.fromkeys(str(tok.value) for tok in kpis))
    if len(keys) > 1:
        a, b = (t.s[tok.start:tok.end] for tok in (kpis[0], next(k for k in kpis if k.value != keys[0])))
        raise _error(f'ถามได้ครั้งละหนึ่ง KPI: พบ "{_q(a)}" และ "{_q(b)}"' if th
                     else f'One KPI at a time, please: I found "{_q(a)}" and "{_q(b)}".', lang)
    spec = cat[keys[0]]
    name = t.s[kpis[0].start:kpis[0].end]  # as typed, so "cac" stays "cac" in the reply

    period = _one_period(t, [tok for tok in toks if tok.kind == "period"])
    breakdown = _one_breakdown(t, spec, name, [tok for tok in toks if tok.kind == "breakdown"])
    filters = _filters(t, spec, name, [tok for tok in toks if tok.kind == "filter"])
    compares = {str(tok.value) for tok in toks if tok.kind == "compare"}
    if len(compares) > 1:
        raise _error("เลือกเทียบกับช่วงก่อนหรือปีก่อนอย่างใดอย่างหนึ่ง" if th
                     else "Compare with the previous period or with last year, not both.", lang)
    compare = "yoy" if compares == {"yoy"} else "previous"
    chart = any(tok.kind == "chart" for tok in toks)
    return Query(kpi=spec.key, period=period, breakdown=breakdown, filters=filters,
                 compare=compare, chart=chart, lang=lang)  # type: ignore[arg-type]


def _one_period(t: _Text, toks: list[_Tok]) -> PeriodSpec | None:
    if not toks:
        return None
    specs = []
    for tok in toks:
        spec = tok.value
        assert isinstance(spec, PeriodSpec)
        if spec.kind == "current":
            spec = replace(spec, text=t.typed(tok.start, tok.end))
        specs.append(spec)
    distinct = {replace(sp, text="") for sp in specs}  # "this year ytd" says one thing twice
    if len(distinct) > 1:
        first = replace(specs[0], text="")
        a, b = specs[0].text, next(sp.text for sp in specs if replace(sp, text="") != first)
        raise _error(f'ระบุช่วงเวลาได้ช่วงเดียว: พบ "{_q(a)}" และ "{_q(b)}"' if t.lang == "th"
                     else f'Only one period, please: I found "{_q(a)}" and "{_q(b)}".', t.lang)
    spec = specs[0]
    if spec.kind == "key":
        try:  # the patterns validate already; this keeps parser and engine agreeing on keys
            periods.parse_period_key(spec.key or "")
        except periods.PeriodError:
            raise _bad_period(t, spec.text, "not a period key", "ไม่ใช่ช่วงเวลา") from None
    return spec


def _dims_text(dims: tuple[str, ...], lang: str) -> str:
    return ", ".join(_DIM_TH.get(d, d) if lang == "th" else d for d in dims)


def _one_breakdown(t: _Text, spec: KpiSpec, name: str, toks: list[_Tok]) -> str | None:
    dims = list(dict.fromkeys(str(tok.value) for tok in toks))
    th = t.lang == "th"
    if not dims:
        return None
    if len(dims) > 1:
        raise _error(f"แยกได้ทีละแบบ: {_dims_text(tuple(dims), t.lang)}" if th
                     else f"One breakdown at a time, please: by {' or by '.join(dims)}.", t.lang)
    dim = dims[0]
    if dim in spec.breakdowns:
        return dim
    if th:
        msg = f"{_q(name)} แยกตาม{_DIM_TH.get(dim, dim)}ไม่ได้"
        msg += (f" แยกได้ตาม: {_dims_text(spec.breakdowns, 'th')}" if spec.breakdowns
                else " และไม่มีการแยกย่อย")
    elif spec.breakdowns:
        msg = (f"{_q(name)} cannot be broken down by {dim}; "
               f"{_q(name)} can be broken down by {_dims_text(spec.breakdowns, 'en')}.")
    else:
        msg = f"{_q(name)} cannot be broken down (by {dim} or anything else)."
    raise _error(msg, t.lang, word=dim, suggestions=[f"by {d}" for d in spec.breakdowns])


def _filters(t: _Text, spec: KpiSpec, name: str, toks: list[_Tok]) -> dict[str, str]:
    th = t.lang == "th"
    out: dict[str, str] = {}
    for tok in toks:
        dim, value = tok.value  # type: ignore[misc]
        if dim not in spec.filters:
            if th:
                msg = f"{_q(name)} กรองตาม{_DIM_TH.get(dim, dim)}ไม่ได้"
                msg += f" กรองได้ตาม: {_dims_text(spec.filters, 'th')}" if spec.filters else ""
            else:
                msg = f"{_q(name)} cannot be filtered by {dim}"
                msg += f"; it can be filtered by {_dims_text(spec.filters, 'en')}." if spec.filters else "."
            raise _error(msg, t.lang, word=dim)
        if dim in out and out[dim] != value:
            raise _error(f"ระบุ {dim} ได้ค่าเดียว: {_q(out[dim])} หรือ {_q(value)}" if th
                         else f"One value per filter, please: {dim}:{_q(out[dim])} or {dim}:{_q(value)}.",
                         t.lang)
        out[dim] = value
    return out
