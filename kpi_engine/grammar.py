"""The /kpi grammar: what a person types, in English or Thai, parsed into a Query or a HelpRequest.

    parse("ยอดขายภาคเหนือเดือนนี้", lexicon=engine.lexicon(), options=ParseOptions(fiscal_year_start_month=10))

How a question is read:
1. folded (kpi_engine.textnorm): case, Thai spelling as typed, zero-width spaces, elongation;
2. scanned left to right, the longest thing that fits winning at each place: a period written with
   numbers or month names (kpi_engine.period_grammar), a known phrase (KPI names and aliases, topic
   words, periods said in words, "by team", rankings, comparisons, chat words in both languages),
   or an entity of the store (kpi_engine.lexicon: teams, regions, products, reps by name, Thai name
   or nickname). Thai is written without spaces, so phrases are matched at every position and a
   space between Thai words is optional;
3. a word nothing covers is corrected when one known phrase is clearly closest (a score and a margin
   over the next-best different meaning), asked back with at most three choices when two are
   close, and refused otherwise: a wrong KPI that looks right is worse than a question back;
4. the pieces are put together: one KPI (topic words such as "deals" or "ยอด" pick their family's
   KPI, or join a KPI of that family: "rev growth"), filters from entities (the words around them
   decide between a team and a segment called "enterprise", or the question is asked back), one
   period, a comparison ("vs q2", "yoy"), a breakdown or ranking ("top 5 reps", "ทีมไหนสูงสุด").

The result carries a Reading (kpi_engine.reading) naming every correction and assumption, which
the answer shows in one line, so no misreading is silent.

parse is a pure function of the text, the catalogue, the lexicon and the options.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache

from kpi_engine import periods, recache, words
from kpi_engine.catalogue import DIMENSIONS, KpiSpec
from kpi_engine.catalogue import catalogue as default_catalogue
from kpi_engine.format import dimension as dim_word
from kpi_engine.karaoke import english_in_thai, karaoke_thai
from kpi_engine.lexicon import EXACT, Entity, Lexicon, RepEntry, Visible, visible_only
from kpi_engine.period_grammar import (
    MONTHS_EN,
    MONTHS_TH,
    NUMBER_WORDS,
    WHOLE_YEAR,
    PeriodTextError,
    count,
    match_period,
    without_close_words,
)
from kpi_engine.query import HelpRequest, PeriodSpec, Query, QueryError, Rank
from kpi_engine.reading import Reading
from kpi_engine.spoken import spoken_numbers
from kpi_engine.textnorm import Folded, fold, fold_text, invisible, is_thai, is_word, thai_skeleton

__all__ = ["MAX_CHARS", "ParseOptions", "parse"]

# A question is a few words; capping the length keeps scanning and fuzzy matching fast on pasted junk.
MAX_CHARS = 500
_MAX_MESSAGE = 300
_QUOTE = 40
_FUZZY_SPANS = 3
# Auto-correct only when the best reading scores this much (rapidfuzz ratio, 0-100) and beats the
# best reading that means something else by the margin; shorter than _FIX_MIN_LEN, never.
_FIX_SCORE = 80
_FIX_MARGIN = 8
_FIX_MARGIN_LOW = 12  # below this score the runner-up must be further behind
_FIX_SURE = 84
_FIX_MIN_LEN = 5
_SUGGEST_SCORE = 72
_THAI_RE = recache.compile("[\u0e00-\u0e7f]")
_SPACES_RE = recache.compile(r"\s+")
_LINE_BREAKS_RE = recache.compile(r"\s*[\n\r\u2028]+\s*")
# Slack HTML-escapes these three in slash-command text.
_SLACK_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))
# what Slack chat wraps around a question and says nothing: emoji codes (:fire:), code marks (`cac`),
# a "+1" or "^" agreeing with the message before
_SLACK_NOISE_RE = re.compile(r"(?<![\w:]):[a-z0-9_+'\-]{2,40}:(?![\w])|`|(?:^|(?<=\s))(?:\+1|\^+)(?=\s|$)")
# the syntax people guess from command lines: "--by rep", "--period last_month", "period=this_quarter"
_FLAGS_RE = recache.compile(r"(?:(?<=\s)|^)--?(?:period|p|when|range)(?:=|\s+)|(?:(?<=\s)|^)period ?=|(?:(?<=\s)|^)--(?=[a-z])")
_SNAKE_PERIOD_RE = recache.compile(r"(?<![a-z])(this|last|next|prev|previous|past|current|[0-9]+)_(?=[a-z0-9])"
                                   r"|(?<=[0-9])_(?=(?:days?|weeks?|months?)\b)|(?:(?<=month)|(?<=year)|(?<=week)|(?<=quarter))_to_(?=date)")
# how long is left ("with 12 days left in the month", "เหลืออีก 12 วันจะปิดเดือน"): context, never a period
_DAYS_LEFT_RE = recache.compile(
    r"(?:with )?(?:only )?[0-9]{1,2} (?:more )?(?:working |business |selling )?days? (?:left|to go|remaining)"
    r"(?: (?:in|till|until|before|to) (?:the )?(?:month|quarter|year|close)(?:[- ]end)?)?"
    r"|(?:เหลือ(?:อีก)?|อีก) ?[0-9]{1,2} ?วัน ?(?:จะ|ก่อน|ก็จะ)? ?(?:ปิด|สิ้น|หมด|จบ)(?:เดือน|ไตรมาส|ปี)", re.IGNORECASE)
# Slack's strikethrough (~last week~ this week): the words struck out are taken back
_STRUCK_RE = recache.compile(r"(?:^|(?<=\s))~[^~\s][^~]{0,80}~(?=\s|$|[,.!?:;])")
_MENTION_RE = recache.compile(r"<@([a-z0-9]+)(?:\|[^>]{0,80})?>")
_ANY_DIM_RE = recache.compile(r"([a-z][a-z0-9_]{0,30}) ?:(?=\S)")
_LAUGH_RE = recache.compile(r"5{3,}\+*")
_NUMBER_RE = recache.compile(r"[0-9]{1,6}(?![0-9])")
# "vs the 30 days before", "compared with the previous 4 weeks": the window before the one asked
_PREV_N_RE = recache.compile(r"(?:the )?(?:(?:previous|prior|preceding) [0-9]{1,4} (?:days?|weeks?|months?)"
                             r"|[0-9]{1,4} (?:days?|weeks?|months?) (?:before|prior|earlier))")
# a count in words right before what it counts: "five best reps", "ห้าอันดับแรก", "สามทีม"
# (any English ranking word: "the two slowest reps", "three cheapest channels")
_RANK_WORDS_EN = sorted({w for ws in (words.RANK_BEST, words.RANK_WORST, words.RANK_HIGH, words.RANK_LOW)
                         for w in ws if w.isascii() and " " not in w}, key=len, reverse=True)
# a proportion asked for: the KPI that is a ratio ("what share of deals do we win" is the win rate)
_PROPORTION_RE = recache.compile(r"(?:share|percent|percentage|proportion|fraction) of|what (?:share|percent"
                                 r"|percentage|proportion|fraction)|%|เปอร์เซ็น|สัดส่วน"
                                 # "out of the deals I closed, how many did I win"; not "out of the office"
                                 r"|\bout of (?:the |all |all the |my |our |those |these )?(?:\S+ )?(?:deals|leads|opps"
                                 r"|opportunities)\b|\bhow often\b")
# a count asked as a share of what it counts: (KPI read, topic beside it) -> the ratio KPI
_SHARE_OF = {("deals_closed", "deals"): "win_rate", ("lead_volume", "qualified"): "lead_conversion"}
_COUNT_WORD_RE = recache.compile(
    "(" + "|".join(sorted((re.escape(w) for w in NUMBER_WORDS if " " not in w), key=len, reverse=True)) + ")"
    + r" ?(?=อันดับ|คน|ทีม|ภาค|สินค้า|ช่องทาง|(?:" + "|".join(_RANK_WORDS_EN) + r"|reps|teams|regions"
    r"|products|product lines?|channels|segments|stages|sales ?people|salespeople|sellers)(?![a-z]))")
_RANK_N_RE = recache.compile(r"(top|bottom|bot|best|worst|ท็อป|ท๊อป|ทอป|#) ?-? ?([0-9]{1,3}|"
                             + "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True))
                             + r")(?![0-9])")


@dataclass(frozen=True)
class ParseOptions:
    fiscal_year_start_month: int = 1
    # which reps a suggestion or an error may name to this person (None: all); see lexicon.Visible
    visible: Visible = None


# ---------------------------------------------------------------- characters

# Vowel signs and tone marks attach to the consonant before them, so no Thai word starts with one.
_THAI_NO_START = frozenset(
    [chr(c) for c in range(0x0E30, 0x0E3B)] + ["\u0e45"] + [chr(c) for c in range(0x0E47, 0x0E4F)]
)
# Leading vowels are written before the consonant they belong to, so a phrase cannot start after one.
_THAI_LEADING = frozenset("\u0e40\u0e41\u0e42\u0e43\u0e44")


def _starts_ok(s: str, i: int) -> bool:
    """May a phrase start at s[i]? Not inside an English word, not after a Thai leading vowel."""
    if i == 0:
        return True
    c, prev = s[i], s[i - 1]
    if is_word(c):
        return not is_word(prev)
    if is_thai(c):
        return prev not in _THAI_LEADING and c not in _THAI_NO_START
    return True


def _ends_ok(s: str, j: int, last: str) -> bool:
    """May a phrase whose last character is `last` end before s[j]?"""
    if j >= len(s):
        return True
    if is_word(last):
        return not is_word(s[j])
    if is_thai(last):
        return s[j] not in _THAI_NO_START
    return True


def _families(spec: KpiSpec) -> set[str]:
    """The topic families a KPI belongs to; every KPI in money is also in "money" ("ลีดละกี่บาท" is
    the cost per lead, "ออเดอร์นึงกี่บาท" the order value)."""
    return {*words.FAMILIES.get(spec.key, ()), *(("money",) if spec.unit.startswith("currency") else ())}


def _fold(text: str) -> str:
    return fold(text)


# ---------------------------------------------------------------- vocabulary

# Which meaning wins when one phrase means two things: grammar words, then KPI names, topic words,
# stored values, chat words, and last the names and parts of names (a nickname that is also a word).
_PRIORITY = {"period": 9, "future": 9, "compare": 9, "over": 9, "vs": 9, "prevword": 9, "target": 9, "by": 9,
             "whichword": 9, "whichafter": 9, "negation": 10, "unsupported": 10, "trend": 9,
             "breakdown": 9, "which": 9, "rank": 9, "mine": 9, "chart": 9, "help": 9, "kpi": 8, "topic": 7,
             "entity": 6, "filler": 5, "greeting": 5, "dimword": 4}
_END = ""  # trie key of a terminal (never a character)

Meaning = tuple[str, object]  # (kind, value)


class _Root(dict):
    """The trie's first level, each branch built the first time a scan asks for its letter.

    Building the whole trie (~40,000 nodes, every phrase folded) was most of a fresh process's first
    parse (`kpibot ask` pays it on every call), while one question reaches a handful of first
    letters. A branch holds the same nodes, inserted in the same order, as when everything was
    built at once. Scans read the trie from several threads in the bot, so a branch is put in place
    whole, then marked built.
    """

    def __init__(self) -> None:
        super().__init__()
        # first letter -> (phrase, already folded, meaning), in the order they were added
        self._pending: dict[str, list[tuple[str, bool, Meaning]]] = {}
        self._lock = threading.Lock()

    def later(self, first: str, phrase: str, folded: bool, meaning: Meaning) -> None:
        self._pending.setdefault(first, []).append((phrase, folded, meaning))

    def get(self, ch, default=None):  # noqa: ANN001, ANN201 - dict.get's signature
        if ch in self._pending:
            with self._lock:
                todo = self._pending.get(ch)
                if todo is not None:
                    branch = dict.get(self, ch) or {}
                    for phrase, folded, meaning in todo:
                        p = phrase if folded else fold(phrase)
                        if p[0] == ch:
                            _insert(branch, p, meaning, 1)
                        else:  # never for the shipped words (a test checks): filed where folding put it
                            self.later(p[0], p, True, meaning)
                    self[ch] = branch
                    del self._pending[ch]
        return dict.get(self, ch, default)


def _insert(node: dict, p: str, meaning: Meaning, start: int) -> None:
    for ch in p[start:]:
        node = node.setdefault(ch, {})
    old = node.get(_END)
    if old is None or _PRIORITY[meaning[0]] > _PRIORITY[old[0][0]]:
        node[_END] = (meaning, p[-1])


def _current_phrases() -> dict[tuple[str, int], list[str]]:
    """this/last/… week, month, … in both languages."""
    out: dict[tuple[str, int], list[str]] = {}

    def add(grain: str, offset: int, *phrases: str) -> None:
        out.setdefault((grain, offset), []).extend(phrases)

    add("day", 0, "today", "so far today", "วันนี้", "ทั้งวันนี้", "this morning", "since this morning", "เช้าวันนี้",
        "ตั้งแต่เช้าวันนี้", "ตั้งแต่เช้า", "เช้านี้")
    add("day", -1, "yesterday", "yday", "yest", "เมื่อวาน", "เมื่อวานนี้", "วานนี้")
    add("day", -2, "day before yesterday", "the day before yesterday", "เมื่อวานซืน", "วานซืน", "วันก่อนเมื่อวาน")
    for grain, units in words.UNIT_WORDS.items():
        if grain == "day":
            continue
        en = [u for u in units if not is_thai(u[0]) and len(u) > 1]
        th = [u for u in units if is_thai(u[0])]
        for u in en:
            for w in words.THIS_EN:
                add(grain, 0, f"{w} {u}")
            add(grain, 0, f"{u} to date", f"{u} so far", f"so far this {u}", f"this {u} so far")
            for w in words.LAST_EN:
                add(grain, -1, f"{w} {u}")
            if len(u) > 2 and not u.endswith("s"):  # typed without the space: "lastmonth", "thisyear"
                add(grain, 0, f"this{u}")
                add(grain, -1, f"last{u}")
            add(grain, -2, f"{u} before last", f"the {u} before last")
        for u in en:
            for since in ("since the start of", "since the beginning of", "from the start of", "from the beginning of",
                          "since start of", "from start of", "since beginning of", "since begin of",
                          "from beginning of", "from begin of"):
                add(grain, 0, f"{since} the {u}", f"{since} this {u}", f"{since} {u}")
            add(grain, 0, f"start of {u} to date", f"start of the {u} to date", f"beginning of the {u} to now",
                f"since the {u} started", f"since the {u} began", f"since the {u} opened")
            # month-end words: "the month that just closed", "the quarter we just closed"
            add(grain, -1, *(f"the {u} {that}just {closed}" for that in ("that ", "we ", "") for closed in
                             ("closed", "ended", "finished", "wrapped up")))
        for u in th:
            add(grain, 0, f"{u}นี้", f"{u}ปัจจุบัน", f"ตั้งแต่ต้น{u}", f"{u}นี้ถึงตอนนี้", f"ตั้งแต่ต้น{u}นี้")
            for upto in ("ถึงวันนี้", "ถึงตอนนี้", "ถึงปัจจุบัน", "จนถึงวันนี้", "จนถึงตอนนี้", "จนถึงปัจจุบัน",
                         "จนถึงตอนนี้", "ถึงล่าสุด", "จนถึงล่าสุด"):
                add(grain, 0, f"ต้น{u}{upto}", f"ตั้งแต่ต้น{u}{upto}")
            for w in words.LAST_TH:
                add(grain, -1, f"{u}{w}", f"ตั้งแต่ต้น{u}{w}ถึงสิ้น{u}{w}", f"ต้น{u}{w}ถึงสิ้น{u}{w}",
                    f"ตั้งแต่ต้น{u}{w}จนถึงสิ้น{u}{w}", f"ตั้งแต่ต้น{u}{w}จนจบ{u}{w}", f"ทั้ง{u}{w}")
            add(grain, -2, f"{u}ก่อนโน้น", f"{u}ก่อนหน้านั้น")
            add(grain, -1, *(f"{u}ที่เพิ่ง{closed}{gone}" for closed in ("ปิด", "จบ", "ผ่าน") for gone in ("", "ไป", "มา")))
    add("week", 0, "wtd")
    add("month", 0, "mtd", "เอ็มทีดี", "ต้นเดือนถึงวันนี้", "ต้นเดือนถึงปัจจุบัน", "ต้นเดือนจนถึงวันนี้", "ต้นเดือนจนถึงตอนนี้")
    add("quarter", 0, "qtd", "คิวทีดี", "ต้นไตรมาสถึงวันนี้")
    add("year", 0, "ytd", "วายทีดี", "ต้นปีถึงวันนี้", "ต้นปีถึงปัจจุบัน", "ต้นปีจนถึงวันนี้", "this calendar year")
    add("year", -1, "last calendar year")
    add("fiscal_year", 0, "fiscal year to date", "fiscal ytd", "fytd", "ปีงบประมาณปัจจุบัน")
    return out


def _future_phrases() -> list[str]:
    out = ["tomorrow", "พรุ่งนี้", "วันพรุ่งนี้", "the future", "อนาคต"]
    for _grain, units in words.UNIT_WORDS.items():
        for u in units:
            if is_thai(u[0]):
                out += [f"{u}{w}" for w in words.NEXT_TH]
            elif len(u) > 1:
                out += [f"{w} {u}" for w in words.NEXT_EN]
    return out


class _Vocab:
    """Every phrase the grammar knows, as a character trie plus a flat list for fuzzy matching."""

    def __init__(self, specs: tuple[KpiSpec, ...]):
        self.root = _Root()
        # what fuzzy matching offers, folded and listed when a typo first needs it (see _fuzzy_lists):
        # (text, shown as or None for a phrase added with fuzzy=True, meaning)
        self._fuzzy: list[tuple[str, str | None, Meaning]] = []
        self._lists: tuple[list[str], list[tuple[str, Meaning]], dict[str, tuple[list[str], list[int]]]] | None = None
        self._lists_lock = threading.Lock()
        self._thai: list[tuple[str, Meaning]] = []  # every Thai phrase, folded, for _spelled
        self._skeletons: dict[str, tuple[str, Meaning] | None] | None = None
        for w in (*words.FILLER_EN, *words.FILLER_TH, *words.HONORIFICS, *words.CHAT_PHRASES):
            self.add(w, ("filler", None))
        for w in words.GREETINGS:
            self.add(w, ("greeting", None))
        for w in words.HELP:
            self.add(w, ("help", None), fuzzy=len(w) > 3)
        for spec in specs:
            for name in spec.names():
                for variant in _name_variants(name):
                    self.add(variant, ("kpi", spec.key), fuzzy="_" not in variant)
        for family, (_default, ws) in words.TOPICS.items():
            for w in ws:
                self.add(w, ("topic", family), fuzzy=len(w) >= 4)
        for (grain, offset), phrases in _current_phrases().items():
            for p in phrases:
                self.add(p, ("period", PeriodSpec("current", grain=grain, offset=offset)),
                         fuzzy=offset in (0, -1) and (len(p) >= 8 and (" " in p or p.isalpha()) or is_thai(p[0]) and len(p) >= 5))
        # "ตั้งแต่ต้นเดือนที่แล้ว": from the start of last month to now (ตั้งแต่ต้นเดือน alone is this month)
        for grain, units in words.UNIT_WORDS.items():
            for u in (u for u in units if is_thai(u[0]) and grain != "day"):
                for w in words.LAST_TH:
                    self.add(f"ตั้งแต่ต้น{u}{w}", ("period", PeriodSpec(
                        "since", inner=PeriodSpec("current", grain=grain, offset=-1))))
        # a month's whole name misspelt ("septmber", "febuary", "กรกฏาคม"): offered, and read when clearly
        # the one meant; short names and abbreviations are too close to other words
        for name, n in (*MONTHS_EN.items(), *MONTHS_TH.items()):
            if len(name) >= 5 and "." not in name:
                self._choice(name, name, ("period", PeriodSpec("recent", grain="month", key=f"{n:02d}")))
        for p in _future_phrases():
            self.add(p, ("future", None))
        for p in ("past week", "the past week", "over the past week"):
            self.add(p, ("period", PeriodSpec("rolling", days=7)))
        for p in ("past month", "the past month", "over the past month"):
            self.add(p, ("period", PeriodSpec("rolling", grain="month", n=1)))
        for p in ("past year", "the past year", "over the past year", "past 12 months"):
            self.add(p, ("period", PeriodSpec("rolling", grain="month", n=12)))
        self._dims()
        self._compare()
        self._rank()
        for w in words.MINE_REP:
            self.add(w, ("mine", "rep"))
        for w in words.MINE_TEAM:
            self.add(w, ("mine", "team"))
        for w in words.CHART:
            self.add(w, ("chart", True), fuzzy=len(w) > 4)
        for w in ("may i", "may we", "can i", "might"):
            self.add(w, ("filler", None))
        # "on avrage": offered, so that a typo of it is read as it; "average" alone is left to the KPIs
        # that start with it ("avrage order value")
        self._choice("on average", "on average", ("filler", None))
        for w in words.NEGATIONS:
            self.add(w, ("negation", None))
        for what, ws in words.UNSUPPORTED.items():
            for w in ws:
                self.add(w, ("unsupported", what))
        for grain, ws in words.TREND.items():
            for w in ws:
                self.add(w, ("trend", grain))

    @property
    def choices(self) -> list[str]:
        return self._fuzzy_lists()[0]

    @property
    def choice_info(self) -> list[tuple[str, Meaning]]:
        """(shown as, meaning) of each of `choices`."""
        return self._fuzzy_lists()[1]

    @property
    def by_first(self) -> dict[str, tuple[list[str], list[int]]]:
        """The fuzzy choices by their first letter: (texts, their indexes in `choices`)."""
        return self._fuzzy_lists()[2]

    @property
    def skeletons(self) -> dict[str, tuple[str, Meaning] | None]:
        """Thai phrases by their thai_skeleton (None: phrases that mean different things share it);
        built when a Thai typo first needs it."""
        if self._skeletons is None:
            with self._lists_lock:
                if self._skeletons is None:
                    self._skeletons = _by_skeleton(self._thai)
        return self._skeletons

    def _fuzzy_lists(self):  # noqa: ANN202
        if self._lists is None:
            with self._lists_lock:
                if self._lists is None:
                    choices: list[str] = []
                    info: list[tuple[str, Meaning]] = []
                    seen: set[str] = set()
                    for text, shown, meaning in self._fuzzy:
                        if shown is None:  # a phrase: offered as it folds
                            text = shown = fold(text)
                            if not text:
                                continue
                        t = fold(text)
                        if t and t not in seen:
                            seen.add(t)
                            choices.append(t)
                            info.append((shown, meaning))
                    by_first: dict[str, tuple[list[str], list[int]]] = {}
                    for k, c in enumerate(choices):
                        texts, idx = by_first.setdefault(c[0], ([], []))
                        texts.append(c)
                        idx.append(k)
                    self._lists = (choices, info, by_first)
        return self._lists

    def _dims(self) -> None:
        # "by" and a dimension word are two tokens put together after scanning (_combine): the trie
        # stays small, and "by" before anything else is just a word
        for by in (*words.BY_EN, *words.BY_TH):
            self.add(by, ("by", None))
        for w in words.WHICH_EN:
            self.add(w, ("whichword", None))
        for w in words.WHICH_TH_AFTER:
            self.add(w, ("whichafter", None))
        for dim in DIMENSIONS:
            en, th = words.DIM_WORDS_EN.get(dim, (dim,)), words.DIM_WORDS_TH.get(dim, ())
            for w in en:
                self.add(w, ("dimword", (dim, w in words.PLURAL_DIM_WORDS)), fuzzy=len(w) > 3)
                if w not in words.DIM_SHORTHAND:  # understood when typed, never offered for a typo ("reg")
                    self._choice(f"by {w}", f"by {en[0]}", ("breakdown", dim))
                    self._choice(w, f"by {en[0]}", ("breakdown", dim))
            for w in th:
                self.add(w, ("dimword", (dim, True)))
                self._choice(f"แยกตาม{w}", f"แยกตาม{th[0]}", ("breakdown", dim))
                self._choice(w, f"แยกตาม{th[0]}", ("breakdown", dim))
        for w in words.WHO:
            self.add(w, ("which", "rep"))

    def _compare(self) -> None:
        for vs in (*words.VS_EN, *words.VS_TH):
            self.add(vs, ("vs", None))
            sep = "" if is_thai(vs[0]) else " "
            for w in (*words.TARGET_EN, *words.TARGET_TH):
                if is_thai(w[0]) == is_thai(vs[0]):
                    self.add(f"{vs}{sep}{w}", ("target", None))
        for w in words.YOY:
            self.add(w, ("compare", "yoy"), fuzzy=len(w) > 4)
        self._choice("vs last year", "vs last year", ("compare", "yoy"))
        for w in (*words.PREVIOUS, "the one before", "the one before that"):
            self.add(w, ("compare", "previous"))
        for w in ("prev", "previous", "prior", "before", "last", "ก่อนหน้า"):
            self.add(w, ("prevword", None))
        for grain, units in words.UNIT_WORDS.items():  # "vs the month before": the previous period
            for u in units:
                if not is_thai(u[0]) and len(u) > 2 and grain != "fiscal_year":
                    self.add(f"the {u} before", ("compare", "previous"))
                    self.add(f"{u} before", ("compare", "previous"))
                    self.add(f"the {u} before it", ("compare", "previous"))
                    self.add(f"the {u} before that", ("compare", "previous"))
        for grain, ws in words.OVER_PERIOD.items():
            for w in ws:
                self.add(w, ("over", grain))

    def _rank(self) -> None:
        for kind, ws in (("best", words.RANK_BEST), ("worst", words.RANK_WORST), ("high", words.RANK_HIGH),
                         ("low", words.RANK_LOW), ("list", words.RANK_LIST)):
            for w in ws:
                if w in words.RANK_TOP_STYLE:
                    kind_w = "top" if kind == "best" else "bottom"
                else:
                    kind_w = kind
                self.add(w, ("rank", (kind_w, None)))
        self.add("leaderboard", ("rank", ("list", None)))

    def add(self, phrase: str, meaning: Meaning, fuzzy: bool = False) -> None:
        c = phrase[:1]
        if c.isascii() and c.isalnum():
            # folding keeps a first ASCII letter or digit (lowercased), so the branch is known and the
            # folding can wait for it
            self.root.later(c.lower(), phrase, False, meaning)
        else:
            p = fold(phrase)
            if not p:
                return
            self.root.later(p[0], p, True, meaning)
            if len(p) >= 3 and is_thai(p[0]):
                self._thai.append((p, meaning))
        if fuzzy:
            self._fuzzy.append((phrase, None, meaning))

    def _choice(self, text: str, shown: str, meaning: Meaning) -> None:
        self._fuzzy.append((text, shown, meaning))


def _by_skeleton(phrases: Iterable[tuple[str, Meaning]]) -> dict[str, tuple[str, Meaning] | None]:
    out: dict[str, tuple[str, Meaning] | None] = {}
    for p, meaning in phrases:
        sk = thai_skeleton(p)
        if sk not in out:
            out[sk] = (p, meaning)
        elif out[sk] is not None and _meaning_key(out[sk][1]) != _meaning_key(meaning):  # type: ignore[index]
            out[sk] = None
    return out


def _lex_skeletons(lex: Lexicon) -> dict[str, tuple[str, Meaning] | None]:
    """The same for a lexicon's Thai names, kept on it (a lexicon is rebuilt when its data change)."""
    found = getattr(lex, "_thai_skeletons", None)
    if found is None:
        found = _by_skeleton((p, ("entity", ents)) for p, ents in lex.phrases.items()
                             if len(p) >= 3 and is_thai(p[0]))
        object.__setattr__(lex, "_thai_skeletons", found)
    return found


def _name_variants(name: str) -> tuple[str, ...]:
    """How people type a catalogue name: "lead->qualified", "lead to qualified" for "lead→qualified";
    Thai without "การ" after อัตรา or without "ของ", and ลีด for lead."""
    out = [name]
    if "→" in name:
        out += [name.replace("→", "->"), name.replace("→", " to "), name.replace("→", " ")]
    if _THAI_RE.search(name):
        more = []
        for n in out:
            more += [n.replace("อัตราการ", "อัตรา"), n.replace("ของ", ""), n.replace("lead", "ลีด"),
                     n.replace(" lead", "ลีด"), n.replace("อัตราการ", "อัตรา").replace("ของ", "")]
        out += more
    return tuple(dict.fromkeys(x for x in out if x.strip()))


@lru_cache(maxsize=8)
def _vocab(specs: tuple[KpiSpec, ...]) -> _Vocab:
    return _Vocab(specs)


# ---------------------------------------------------------------- tokens


@dataclass(frozen=True)
class _Tok:
    # kpi, topic, period, future, compare, over, vs, prevword, target, breakdown, which, rank, mine,
    # chart, help, greeting, filler, dimword, entity, mention, filter, number, unknown
    kind: str
    value: object
    start: int  # in the folded text
    end: int


class _Text:
    """The folded text being parsed, with the way back to what was typed."""

    def __init__(self, folded: Folded, lang: str, vocab: _Vocab, lex: Lexicon, opts: ParseOptions):
        self.f, self.s, self.lang, self.vocab, self.lex, self.opts = folded, folded.s, lang, vocab, lex, opts
        self.th = lang == "th"

    def typed(self, a: int, b: int) -> str:
        return self.f.typed(a, b)

    def msg(self, en: str, th: str) -> str:
        return _bi(en, th, self.lang)


class _Bi(str):
    """A message in the question's language that also knows its other language: the bot answers a
    person in their own language, which may not be the question's (Slack set to Thai, asked in English)."""

    texts: dict[str, str]


def _bi(en: str, th: str, lang: str) -> _Bi:
    out = _Bi(th if lang == "th" else en)
    out.texts = {"en": en, "th": th}
    return out


def _cut(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


def _error(message: str, lang: str, **kw) -> QueryError:
    texts = {k: _cut(v) for k, v in getattr(message, "texts", {}).items()}
    return QueryError(_cut(str(message)), lang=lang, texts=texts, **kw)


def _q(word: str) -> str:
    """A word quoted back to the user, cut so that pasted junk cannot flood the reply."""
    word = " ".join(word.split())
    return word if len(word) <= _QUOTE else word[: _QUOTE - 1] + "…"


def _match_trie(t: _Text, i: int) -> _Tok | None:
    toks = _match_trie_all(t, i)
    return toks[0] if toks else None


def _match_trie_all(t: _Text, i: int) -> list[_Tok]:
    """Known phrases at s[i], longest first. Between Thai words a space is optional, both in the text
    and in the phrase, because Thai writers put spaces where they like."""
    s, n = t.s, len(t.s)
    found: dict[int, Meaning] = {}
    stack: list[tuple[dict, int, bool]] = [(t.vocab.root, i, False)]
    while stack:
        node, j, skipped = stack.pop()
        term = node.get(_END)
        if term is not None and not skipped and j > i and j not in found:
            meaning, last = term
            if _ends_ok(s, j, last):
                found[j] = meaning
        if j < n:
            ch = s[j]
            nxt = node.get(ch)
            if nxt is not None:
                stack.append((nxt, j + 1, False))
            if ch == " " and j > i and (is_thai(s[j - 1]) or (j + 1 < n and is_thai(s[j + 1]))):
                stack.append((node, j + 1, True))
        sp = node.get(" ")
        if sp is not None and j > i and j < n and s[j] != " " and (is_thai(s[j - 1]) or is_thai(s[j])):
            stack.append((sp, j, True))
    return [_Tok(m[0], m[1], i, j) for j, m in sorted(found.items(), reverse=True)]


def _filter_value(t: _Text, j: int, dim_typed: str) -> tuple[str, int]:
    """The value after `dim:` as typed, and where it ends."""
    s, n = t.s, len(t.s)
    if j < n and s[j] in "\"'“‘":
        close = {'"': '"', "'": "'", "“": "”", "‘": "’"}[s[j]]
        k = s.find(close, j + 1)
        if k < 0 and close in "”’":
            k = s.find('"' if close == "”" else "'", j + 1)
        if k < 0:
            raise _error(t.msg(f'The quote after "{_q(dim_typed)}:" is not closed.',
                               f'เครื่องหมายคำพูดหลัง "{_q(dim_typed)}:" ไม่ได้ปิด'), t.lang, word=_q(dim_typed))
        return t.typed(j + 1, k), k + 1
    m = _MENTION_RE.match(s, j)
    if m:
        return "@" + t.typed(m.start(1), m.end(1)), m.end()
    k = j
    while k < n and s[k] != " ":
        # Thai runs on without spaces: ทีม:ภาคเหนือเดือนนี้ is a value and then a period.
        if k > j and is_thai(s[k - 1]) and (_period_at(t, k) or _grammar_word_at(t, k)):
            break
        k += 1
    while k > j and s[k - 1] in ",?!.;:":
        k -= 1
    return t.typed(j, k), k


def _grammar_word_at(t: _Text, k: int) -> bool:
    tok = _match_trie(t, k)
    return tok is not None and tok.kind in ("period", "by", "compare", "chart", "vs", "filler")


def _period_at(t: _Text, i: int) -> tuple[int, PeriodSpec] | None:
    try:
        return match_period(t.s, i, t.opts.fiscal_year_start_month)
    except PeriodTextError:
        return None


def _dim_words() -> dict[str, str]:
    out = {}
    for dim in DIMENSIONS:
        for w in (*words.DIM_WORDS_EN.get(dim, (dim,)), *words.DIM_WORDS_TH.get(dim, ())):
            out[fold(w)] = dim
        out[dim] = dim
    return out


_DIM_WORDS = _dim_words()


_KNOWN_DIM_RE = recache.compile(
    "(" + "|".join(re.escape(w) for w in sorted(_DIM_WORDS, key=len, reverse=True)) + r") ?: ?")


def _match_filter(t: _Text, i: int) -> _Tok | None:
    """`team:enterprise`, `ทีม:ภาคเหนือ`, `rep:<@U123>`; an unknown `xyz:value` is named back."""
    s = t.s
    if not _starts_ok(s, i):
        return None
    m = _KNOWN_DIM_RE.match(s, i)
    if m is None or (m.end(1) < len(s) and is_word(s[m.end(1)]) and not is_thai(s[m.start(1)])):
        m2 = _ANY_DIM_RE.match(s, i)
        if m2 is None:
            return None
        typed = t.typed(m2.start(1), m2.end(1))
        dims = [d for d in _DIM_WORDS if not is_thai(d[0])]
        from rapidfuzz import fuzz, process  # here, as in _candidates

        found = process.extractOne(m2.group(1), dims, scorer=fuzz.ratio, score_cutoff=70)
        sugg = [_DIM_WORDS[found[0]]] if found else []
        th = f'ไม่รู้จักตัวกรอง "{_q(typed)}"'
        th += f' หมายถึง "{sugg[0]}" หรือเปล่า?' if sugg else f" ใช้ได้: {', '.join(DIMENSIONS)}"
        en = f'I don\'t know the filter "{_q(typed)}".'
        en += (f' Did you mean "{sugg[0]}"?' if sugg
               else f" Filters are dim:value with dim one of {', '.join(DIMENSIONS)}.")
        raise _error(t.msg(en, th), t.lang, word=_q(typed), suggestions=sugg)
    if s[m.end() - 1] == " " and s[:i].rstrip().endswith((" by", "by", "per", "แยกตาม")):
        return None  # "this year by product: win rate": a breakdown, then a colon between parts
    dim = _DIM_WORDS[m.group(1)]
    dim_typed = t.typed(m.start(1), m.end(1))
    value, end = _filter_value(t, m.end(), dim_typed)
    known = t.lex.match(s, m.end()) if m.end() < len(s) and s[m.end()] not in "\"'“‘<" else None
    if s[m.end() - 1] == " " and dim != "rep" and (known is None or not any(e.dim == dim for e in known[1])):
        return None  # "the midmarket team: deals closed": a colon between parts, not team:deals
    if known is not None and known[0] > end and any(e.dim == dim for e in known[1]):
        value, end = t.typed(m.end(), known[0]), known[0]  # a name of several words: rep:somchai jaidee
    if not value:
        raise _error(t.msg(f"{_q(dim_typed)}: needs a value, e.g. {dim}:something",
                           f"{_q(dim_typed)}: ต้องมีค่า เช่น {dim}:ชื่อ"), t.lang, word=_q(dim_typed))
    return _Tok("filter", (dim, value), i, end)


def _bad_period(t: _Text, typed: str, exc: PeriodTextError) -> QueryError:
    return _error(t.msg(f'"{_q(typed)}" is not a real period ({exc.why_en}).',
                        f'"{_q(typed)}" ไม่ใช่ช่วงเวลาที่มีจริง ({exc.why_th})'), t.lang, word=_q(typed))


def _scan(t: _Text, start: int, stop: int | None = None) -> list[_Tok]:
    s = t.s
    n = len(s) if stop is None else stop
    toks: list[_Tok] = []
    i = start
    while i < n:
        c = s[i]
        if c == " ":
            i += 1
            continue
        cands: list[tuple[_Tok, float]] = []
        trie: list[_Tok] = []
        if c == "<":
            m = _MENTION_RE.match(s, i)
            if m:  # a bare Slack mention names the rep
                cands.append((_Tok("mention", t.typed(m.start(1), m.end(1)), i, m.end()), 10))
        if _starts_ok(s, i) and (c.isalnum() or is_thai(c)):
            f = _match_filter(t, i)
            if f is not None:
                cands.append((f, 10))
            try:
                p = match_period(s, i, t.opts.fiscal_year_start_month)
            except PeriodTextError as exc:
                raise _bad_period(t, t.typed(i, exc.end), exc) from None
            if p is not None:
                cands.append((_Tok("period", replace(p[1], text=t.typed(i, p[0])), i, p[0]), _PRIORITY["period"]))
            trie = _match_trie_all(t, i)
            if trie:
                cands.append((trie[0], _PRIORITY[trie[0].kind]))
            ent = t.lex.match(s, i)
            if ent is not None:
                strong = any(e.strength >= EXACT for e in ent[1])
                cands.append((_Tok("entity", ent[1], i, ent[0]), 6 if strong else 4.5))
            m = _RANK_N_RE.match(s, i)
            if m and _ends_ok(s, m.end(), s[m.end() - 1]):
                kind = "worst" if m.group(1) in ("bottom", "bot", "worst") else "best"  # "bot 5", "#1"
                cands.append((_Tok("rank", (kind if m.group(1) in ("best", "worst") else
                                           ("top" if kind == "best" else "bottom"), count(m.group(2))),
                                   i, m.end()), 9))
            m = _LAUGH_RE.match(s, i)
            if m and _ends_ok(s, m.end(), "5"):
                cands.append((_Tok("filler", None, i, m.end()), 5))
            m = _NUMBER_RE.match(s, i)
            if m and i > 0 and s[i - 1] == "#" and 0 < int(m.group()) <= 100:
                cands.append((_Tok("rank", ("top", int(m.group())), i - 1, m.end()), 9))  # "#1 rep"
            elif m:
                cands.append((_Tok("number", int(m.group()), i, m.end()), 1))
            m = _PREV_N_RE.match(s, i)
            if m and _ends_ok(s, m.end(), s[m.end() - 1]):
                cands.append((_Tok("compare", "previous", i, m.end()), 9))
            m = _COUNT_WORD_RE.match(s, i)
            if m:
                cands.append((_Tok("number", NUMBER_WORDS[m.group(1)], i, m.end()), 1))
        if cands:
            tok = max(cands, key=lambda x: (x[0].end, x[1]))[0]
            if trie and tok is trie[0] and len(trie) > 1:
                tok = _lookahead(t, trie, n)
            toks.append(tok)
            i = tok.end
            continue
        j = i + 1
        if is_word(c):
            while j < n and (is_word(s[j]) or s[j] in "'-"):
                j += 1
            owner = _possessive(t, i, j)
            toks.append(_Tok("entity", owner, i, j) if owner else _Tok("unknown", None, i, j))
        elif is_thai(c):
            toks.append(_Tok("unknown", None, i, j))
        elif invisible(c):
            pass
        else:  # punctuation, symbols, emoji: nothing to read
            toks.append(_Tok("filler", None, i, j))
        i = j
    return _since(t, toks)


# "since last week", "ตั้งแต่เดือนที่แล้ว", "since the start of yesterday": a period said relative to today,
# after a word that starts a span, runs from that period's first day up to now
_SINCE_RE = recache.compile(r"(?:(?:^|(?<= ))(?:since|starting(?: from)?)|ตั้งแต่|นับตั้งแต่|นับจาก)"
                            r"(?: (?:the )?(?:start|beginning) of(?: the)?| ?ต้น)? ?$")


def _since(t: _Text, toks: list[_Tok]) -> list[_Tok]:
    out: list[_Tok] = []
    for tok in toks:
        spec = tok.value
        if tok.kind == "period" and isinstance(spec, PeriodSpec) and spec.kind in ("current", "key", "recent"):
            m = _SINCE_RE.search(t.s, 0, tok.start)
            if m is not None:
                k = len(out)
                while k > 0 and out[k - 1].start >= m.start():
                    k -= 1
                if k < len(out) and all(x.kind in ("unknown", "filler") for x in out[k:]):
                    del out[k:]
                    if spec.grain == "fiscal_year" or (spec.key or "").upper().startswith("FY"):
                        spec = replace(spec, fiscal_start=t.opts.fiscal_year_start_month)
                    tok = _Tok("period", PeriodSpec("since", inner=spec, text=t.typed(m.start(), tok.end)),
                               m.start(), tok.end)
        out.append(tok)
    return out


_GRAIN_ORDER = {"day": 0, "week": 1, "month": 2, "quarter": 3, "half": 4, "year": 5, "fiscal_year": 5}


def _spec_grain(p: PeriodSpec) -> str | None:
    """The grain a typed period spans, where its words say it (a trend inside it must be finer)."""
    if p.kind in ("current", "recent"):
        return {"named_day": "day", "quarter_start": None, "month_day": None}.get(p.grain or "", p.grain)
    if p.kind == "key" and p.key:
        k = p.key.upper()
        if k.startswith("FY"):
            return {"": "fiscal_year", "Q": "quarter", "H": "half"}.get(k.partition("-")[2][:1])
        if len(k) == 4:
            return "year"
        return {"Q": "quarter", "H": "half", "W": "week"}.get(k[5:6], "month" if len(k) == 7 else "day")
    if p.kind == "rolling" and p.grain:
        return p.grain if (p.n or 1) == 1 else {"week": "month", "month": "quarter", "quarter": "year"}.get(p.grain)
    return None


_UNIT_SAID = [(grain, recache.compile(r"(?:^|\s|เดียวกัน|ของ)(?:" + "|".join(re.escape(u) for u in units) + r")(?:\s|$|เดียวกัน)"))
              for grain, units in (("week", ("week", "wk", "สัปดาห์", "อาทิตย์")), ("month", ("month", "mo", "mth", "เดือน")),
                                   ("quarter", ("quarter", "qtr", "ไตรมาส")))]


def _unit_said(text: str) -> str | None:
    """The period unit a comparison names ("same quarter last year": quarter), if one."""
    for grain, rx in _UNIT_SAID:
        if rx.search(text):
            return grain
    return None


def _same_unit(said: str) -> str | None:
    """The unit of "the same time last month", "ช่วงเดียวกันสัปดาห์ที่แล้ว": the period compared with is that
    much earlier. None when the words are not of that form."""
    if "same" in said:
        return _unit_said(said)
    if "เดียวกัน" in said:
        return next((g for g, ws in (("week", ("สัปดาห์", "อาทิตย์")), ("month", ("เดือน",)), ("quarter", ("ไตรมาส",)))
                     if any(w in said for w in ws)), None)
    return None


def _span_holds(p: PeriodSpec, grain: str) -> bool:
    """A range whose words give no grain is made of whole periods of `grain` from its first day: one
    typed in months ("since july", "from may to september") of months and days, one typed in days of
    days. Weeks start on Mondays and a rolling window at the hour asked, so their first point would
    reach back before the period: those stay refused."""
    if p.kind == "range" and p.start is not None:
        by_month = p.start[2] == 0 and (p.end is None or p.end[2] == 0)
        return grain in (("day", "month") if by_month else ("day",))
    return False


def _possessive(t: _Text, i: int, j: int) -> list | None:
    """A rep's name or nickname with its apostrophe left out ("fahs win rate", "noks deals")."""
    if j - i < 4 or t.s[j - 1] != "s" or t.s[j - 2] in "s'":
        return None
    ent = t.lex.match(t.s[:j - 1], i)
    if ent is None or ent[0] != j - 1:
        return None
    found = [e for e in ent[1] if e.dim == "rep"]
    return found or None


def _reach(t: _Text, i: int, n: int) -> int:
    """How far the known thing at s[i] (after spaces) reaches; -1 when nothing known starts there."""
    return _next_phrase(t, i, n)[0]


def _lookahead(t: _Text, trie: list[_Tok], n: int) -> _Tok:
    """The longest phrase, unless it leaves an unknown word where a shorter one would let the next
    phrase read on ("vs last" + "month" is worse than "vs" + "last month"). Chat words never eat the
    start of a longer phrase: "ของ" + "เดือนที่แล้ว" (of last month), not "ของเดือน" + "ที่" + "แล้ว",
    which would leave only chat words and answer this month."""
    longest = trie[0]
    after = _reach(t, longest.end, n)
    if after >= 0 and longest.kind != "filler":
        return longest
    for alt in trie[1:]:
        if after < 0:
            if _reach(t, alt.end, n) > longest.end:
                return alt
            continue
        # a chat phrase that ate the start of something that means more, when the text reads on after
        # it ("ขอ" + "งบ" + "อย" does not: "ของ" + "บอย"). Ending with it counts only where a Thai
        # phrase was typed apart ("พี่ครับ ผมปิดได้": the ผม is the asker, not "ครับผม"); "for the exec
        # meeting" is chat as a whole
        end, meaningful = _next_phrase(t, alt.end, n)
        apart = is_thai(t.s[alt.end - 1]) and t.s[alt.end:alt.end + 1] == " "
        if meaningful and (end > longest.end or (end == longest.end and apart)) and _reach(t, end, n) >= 0:
            return alt
    return longest


def _next_phrase(t: _Text, i: int, n: int) -> tuple[int, bool]:
    """Where the longest known phrase at s[i] (after spaces) ends (n + 1 at the end of the text, -1 when
    nothing known starts there), and whether it is more than chat."""
    s = t.s
    while i < n and s[i] == " ":
        i += 1
    if i >= n:
        return n + 1, False
    if not _starts_ok(s, i):
        return -1, False
    best, meaningful = -1, False
    trie = _match_trie(t, i)
    if trie is not None:
        best, meaningful = trie.end, trie.kind not in ("filler", "greeting")
    try:
        p = match_period(s, i, t.opts.fiscal_year_start_month)
    except PeriodTextError:
        p = None
    ent = t.lex.match(s, i)
    for end in (p[0] if p else -1, ent[0] if ent else -1):
        if end > best or (end == best and end > 0):
            best, meaningful = end, True
    return best, meaningful


def _combine(t: _Text, toks: list[_Tok]) -> list[_Tok]:
    """Two-word pieces: "by" + a dimension word is a breakdown ("by team", "แยกตามทีม", "all regions"),
    "which" + one ("which team", "ทีมไหน") asks for a breakdown too; "vs" + last year, previous, a
    year-over-year phrase is the comparison. What is left of these words says nothing."""
    out: list[_Tok] = []
    k = 0
    while k < len(toks):
        tok = toks[k]
        nxt = toks[k + 1] if k + 1 < len(toks) else None
        if tok.kind in ("by", "whichword") and nxt is not None and nxt.kind == "dimword":
            kind = "breakdown" if tok.kind == "by" else "which"
            out.append(_Tok(kind, nxt.value[0], tok.start, nxt.end))  # type: ignore[index]
            k += 2
            continue
        if tok.kind == "dimword" and nxt is not None and nxt.kind == "whichafter":
            out.append(_Tok("which", tok.value[0], tok.start, nxt.end))  # type: ignore[index]
            k += 2
            continue
        if tok.kind == "vs" and nxt is not None:
            spec = nxt.value if nxt.kind == "period" else None
            if nxt.kind == "compare" or (isinstance(spec, PeriodSpec) and spec.kind == "current"
                                         and spec.grain == "year" and spec.offset == -1):
                out.append(_Tok("compare", nxt.value if nxt.kind == "compare" else "yoy", tok.start, nxt.end))
                k += 2
                continue
            if nxt.kind == "prevword":
                out.append(_Tok("compare", "previous", tok.start, nxt.end))
                k += 2
                continue
        if tok.kind == "prevword":
            # "revenue prev": compared with the previous period, as always; a lone "last" says
            # something (last what?) and is asked back
            alone = t.s[tok.start:tok.end] in ("last", "before")
            tok = replace(tok, kind="unknown" if alone else "compare", value=None if alone else "previous")
        if tok.kind in ("by", "whichword", "whichafter") and not (nxt is not None and nxt.kind == "unknown"
                                                                and tok.kind != "whichafter"):
            tok = replace(tok, kind="filler")  # before a word not yet read, kept: it may be a typo of a dimension
        out.append(tok)
        k += 1
    return out


_LIST_JOINS = frozenset(("/", ",", "and", "or", "&", "+", "และ", "กับ", "หรือ"))
_EITHER_WAY = frozenset(fold(w) for w in words.EITHER_WAY)
# "how many deals will Nok close", "is my team going to hit target": where a figure will end up
_WILL_RE = recache.compile(r"\bwill (?:\S+ ){1,4}?(?:close|win|hit|make|reach|sell|land|finish|end|book|bring in|get)\b"
                           r"|\b(?:is|are|am) (?:\S+ ){1,3}?going to (?:close|win|hit|make|reach|sell|land|finish|end"
                           r"|book|bring in|get)\b")
_PER_DAY_RE = recache.compile(r"\b(?:per|a|each) day\b|\bdivided by the days\b|วันละ|ต่อวัน")
_WHOLE_COMPANY = frozenset(("company", "the company", "company wide", "company-wide", "whole", "overall", "all up"))
_AGENT_BY = frozenset(("by", "per"))  # "deals closed by Nok and Bee": who closed them, not a split


_MEASURE_KINDS = frozenset(("type", "action"))
_ACTION_KPIS = frozenset(("content_engagement", "rep_activity"))  # KPIs that count things people do
_ASKED_BACK = frozenset(("loyal", "end_to_end"))  # words.TOPICS said to fit two KPIs
_SPLIT_AFTER = frozenset(("split out", "broken out", "split", "separately", "each", "แยก", "แยกกัน"))


def _listed_values(t: _Text, toks: list[_Tok], k: int, first: int | None = None) -> tuple[str, int, set[str]] | None:
    """After a word that splits, two or more values of one dimension and nothing else are that dimension
    listed out: a breakdown by it (which shows each), not a filter by two values.
    (dimension, index of the last value, the values)"""
    dims: set[str] | None = None
    values: list[_Tok] = []
    j, last = (k + 1 if first is None else first), None
    while j < len(toks):
        x = toks[j]
        if x.kind == "entity":
            dims = {e.dim for e in x.value} if dims is None else dims & {e.dim for e in x.value}  # type: ignore[union-attr]
            values.append(x)
            last = j
        elif not (x.kind in ("filler", "vs", "unknown") and t.s[x.start:x.end] in _LIST_JOINS) or last is None:
            break
        j += 1
    if len(values) < 2 or not dims or len(dims) != 1 or last is None:
        return None
    dim = next(iter(dims))
    if first is None and dim == "rep" and t.s[toks[k].start:toks[k].end] in _AGENT_BY:
        return None
    return dim, last, {e.value for x in values for e in x.value if e.dim == dim}  # type: ignore[union-attr]


# ---------------------------------------------------------------- corrections


@dataclass(frozen=True)
class _Cand:
    score: float
    shown: str  # what the suggestion reads as
    phrase: str  # the phrase to scan in its place
    meaning: tuple  # what it means, to tell two readings apart
    window: tuple[int, int]  # the folded span it replaces


def _unknown_spans(toks: list[_Tok], s: str = "") -> list[tuple[int, int]]:
    """Runs of unknown tokens (token indexes, end exclusive); chat words inside a run do not split
    it (ฤดูกาล is not ฤ + ดู + กาล), unless one is a word of its own between spaces in `s` ("wn rate
    by reigon" is two typos, each mended on its own)."""
    spans: list[tuple[int, int]] = []
    cur: list[int] | None = None
    for k, tok in enumerate(toks):
        if tok.kind == "unknown":
            if cur is None:
                cur = [k, k + 1]
            else:
                cur[1] = k + 1
            if s and k > 0 and s[toks[k - 1].start:toks[k - 1].end] in ("by", "per") and s[tok.start:tok.end].isascii():
                # the word after "by" is a dimension of its own: "by tem lst quartr" is "by team" and
                # "last quarter", never "by" and "the last quarter"
                spans.append((cur[0], cur[1]))
                cur = None
        elif cur is not None and (tok.kind != "filler" or (
                s and s[tok.start:tok.end].isascii() and tok.start > 0 and s[tok.start - 1] == " "
                and s[tok.end:tok.end + 1] in (" ", ""))):
            spans.append((cur[0], cur[1]))
            cur = None
    if cur is not None:
        spans.append((cur[0], cur[1]))
    return spans


_NEIGHBOURS = frozenset({"kpi", "topic", "unknown", "dimword", "entity", "compare", "number", "filler", "by",
                         "vs", "whichword"})


def _windows(toks: list[_Tok], a: int, b: int) -> list[tuple[int, int]]:
    """The unknown run toks[a:b] alone, and with a known word next to it ("pipline velocity",
    "ยอดขายย"), so a typo inside a longer name is matched against the whole name."""
    out = [(a, b)]
    if a > 0 and toks[a - 1].kind in _NEIGHBOURS:
        out.append((a - 1, b))
        if a > 1 and toks[a - 2].kind in _NEIGHBOURS and toks[a - 2].kind != "filler":
            out.append((a - 2, b))  # "cost per leed": a short typo at the end of a three-word name
    if b < len(toks) and toks[b].kind in _NEIGHBOURS:
        out.append((a, b + 1))
        if a > 0 and toks[a - 1].kind in _NEIGHBOURS:
            out.append((a - 1, b + 1))
    return out


def _meaning_key(meaning: Meaning) -> tuple:
    kind, value = meaning
    if kind == "entity":
        return ("entity",) + tuple(sorted((e.dim, e.value) for e in value))  # type: ignore[union-attr]
    if kind == "period":
        return ("period", replace(value, text=""))  # type: ignore[type-var]
    if kind in ("dimword", "breakdown", "which"):
        return ("dim", value[0] if kind == "dimword" else value)  # type: ignore[index]
    if kind == "topic" and words.TOPICS[str(value)][0]:
        return ("kpi", repr(words.TOPICS[str(value)][0]))  # "revenues" reads as the KPI "revenue"
    return (kind, repr(value))


def _candidates(t: _Text, toks: list[_Tok], a: int, b: int) -> list[_Cand]:
    """Known phrases close to the unknown run toks[a:b], best first, one per meaning."""
    # imported here: a question read without a typo never needs it (~15 ms of a fresh `kpibot ask`)
    from rapidfuzz import fuzz, process

    found: dict[tuple, _Cand] = {}
    for wa, wb in _windows(toks, a, b):
        start, end = toks[wa].start, toks[wb - 1].end
        g = t.s[start:end][:60]
        if not g.strip() or g.isdigit():
            continue
        cutoff = 85 if len(g) < 4 else _SUGGEST_SCORE
        known = " ".join(t.s[toks[k].start:toks[k].end] for k in range(wa, wb) if toks[k].kind != "unknown")
        glued = all(t.s[toks[k].end:toks[k + 1].start] == "" for k in range(wa, wb - 1))
        hits: list[tuple[float, str, str, Meaning]] = []
        texts, index = t.vocab.by_first.get(g[0], ([], []))
        for _choice, score, pos in process.extract(g, texts, scorer=fuzz.ratio, limit=5, score_cutoff=cutoff):
            idx = index[pos]
            shown, meaning = t.vocab.choice_info[idx]
            hits.append((score, shown, t.vocab.choices[idx], meaning))
        # names are words of their own: looked up for the unknown words alone, not with a neighbour
        if t.lex.fuzzy and (wa, wb) == (a, b):
            for phrase, score, _idx in process.extract(g, t.lex.fuzzy_by_first.get(g[0], []), scorer=fuzz.ratio,
                                                       limit=5, score_cutoff=max(cutoff, 78)):
                ents = visible_only(t.lex.phrases[phrase], t.opts.visible)
                if ents:
                    hits.append((score, phrase, phrase, ("entity", tuple(ents))))
        named = {str(toks[k].value) for k in range(wa, wb) if toks[k].kind == "kpi"}
        said = [t.s[toks[k].start:toks[k].end] for k in range(wa, wb) if toks[k].kind == "kpi"]
        for score, shown, phrase, meaning in hits:
            # a reading that only keeps the known word drops the unknown one: fine for a letter
            # typed twice ("ยอดขายย"), never for a separate word ("win rate zzz")
            unknown_len = sum(toks[k].end - toks[k].start for k in range(wa, wb) if toks[k].kind == "unknown")
            if known and (not glued or unknown_len > 1) and fuzz.ratio(phrase.replace("_", " "), known) >= 90:
                continue
            if named and not _keeps_kpi(meaning, named, phrase, said):
                continue  # "deals i opened" is not "deals spend": a KPI said plainly is not mended into another
            _keep(found, _Cand(score, shown, phrase, meaning, (start, end)))
    # on a tie the longer window (it explains more of the text), then alphabetical for stable output
    return sorted(found.values(), key=lambda c: (-c.score, c.window[0] - c.window[1], c.shown))


def _keeps_kpi(meaning: Meaning, named: set[str], phrase: str, said: list[str]) -> bool:
    """Whether a reading of a window holding these KPI words still means one of them, or is a longer
    KPI name built on them ("sales cyle": "sales cycle")."""
    kind, value = meaning
    if kind == "kpi":
        return str(value) in named or all(w in phrase for w in said)
    if kind == "topic":
        return any(str(value) in words.FAMILIES.get(k, ()) or words.TOPICS[str(value)][0] == k for k in named)
    return True


def _keep(found: dict[tuple, _Cand], cand: _Cand) -> None:
    key = _meaning_key(cand.meaning)
    old = found.get(key)
    if old is None or (cand.score, cand.window[1] - cand.window[0]) > (old.score, old.window[1] - old.window[0]):
        found[key] = cand


def _correct(t: _Text, toks: list[_Tok], reading: Reading, want_kpi: bool) -> list[_Tok]:
    """Unknown words corrected when one reading is clearly best; QueryError otherwise."""
    for _round in range(_FUZZY_SPANS + 1):
        spans = _unknown_spans(toks, t.s)
        if not spans:
            return toks
        a, b = spans[0]
        spelled = _spelled(t, toks, a)
        if spelled is not None:
            toks = _apply(t, toks, spelled)
            reading.corrections.append({"typed": t.typed(*spelled.window), "read_as": spelled.shown})
            continue
        cands = _candidates(t, toks, a, b)
        if cands:
            best = cands[0]
            margin = _FIX_MARGIN if best.score >= _FIX_SURE else _FIX_MARGIN_LOW
            rival = next((c for c in cands[1:] if c.score > best.score - margin and not _agrees(best, c)), None)
            typed_span = t.s[best.window[0]:best.window[1]]
            digits = any(ch.isdigit() for ch in typed_span)
            if (best.score >= _FIX_SCORE and rival is None and len(typed_span) >= _FIX_MIN_LEN
                    and not digits):
                toks = _apply(t, toks, best)
                reading.corrections.append({"typed": t.typed(*best.window), "read_as": best.shown})
                continue
        if b == a + 1 and a > 0 and toks[a].end == toks[a].start + 1 and is_thai(t.s[toks[a].start]) \
                and toks[a - 1].end == toks[a].start and t.s[toks[a].start - 1] == t.s[toks[a].start]:
            # a Thai letter typed twice at the end of a known word ("เดือนก่อนน"): a slip, said as one
            prev = toks[a - 1]
            reading.corrections.append({"typed": t.typed(prev.start, toks[a].end), "read_as": t.typed(prev.start, prev.end)})
            toks = [*toks[:a], replace(toks[a], kind="filler"), *toks[b:]]
            continue
        raise _unknown_error(t, toks, spans, cands, want_kpi)
    raise _unknown_error(t, toks, _unknown_spans(toks, t.s), [], want_kpi)


_SPELLED_MAX = 40  # characters a Thai misspelling is looked up over


def _spelled(t: _Text, toks: list[_Tok], a: int) -> _Cand | None:
    """A Thai run that is a known phrase spelt another way (ไตรมาศที่แล้ว, สัปดา, เหนีอ): the longest text
    from the run's start, to a token's end, whose thai_skeleton is one phrase's (and one meaning's)."""
    if not is_thai(t.s[toks[a].start]):
        return None
    # from the run's start, or from a Thai word or two glued before it ("ต้นทุนต่อลืด": the whole name)
    starts = [toks[a].start]
    for j in (a - 1, a - 2):
        if j < 0 or toks[j].end != starts[-1] or not is_thai(t.s[toks[j].start]):
            break
        starts.append(toks[j].start)
    lex = _lex_skeletons(t.lex)
    for p in reversed(starts):
        ends = sorted({tok.end for tok in toks[a:] if tok.end - p <= _SPELLED_MAX}, reverse=True)
        for q in ends:
            sk = thai_skeleton(t.s[p:q])
            if len(sk) < 3:
                break
            hit = t.vocab.skeletons.get(sk) or lex.get(sk)
            if hit is None:
                continue
            phrase, meaning = hit
            if meaning[0] == "entity":
                ents = visible_only(meaning[1], t.opts.visible)  # type: ignore[arg-type]
                if not ents:
                    continue
                meaning = ("entity", tuple(ents))
            return _Cand(100.0, phrase, phrase, meaning, (p, q))
    return None


def _agrees(best: _Cand, other: _Cand) -> bool:
    """A reading of part of the same words that says the same: "custmer" as the topic "customers"
    beside "custmer satisfaction" as CSAT is no rival."""
    if best.meaning[0] != "kpi" or other.meaning[0] != "topic":
        return False
    if other.window[1] <= best.window[0] or best.window[1] <= other.window[0]:
        return False  # "forecst in" as the topic "forecasting" beside "forecst" as the KPI: the same word
    return str(other.meaning[1]) in words.FAMILIES.get(str(best.meaning[1]), ())


def _apply(t: _Text, toks: list[_Tok], cand: _Cand) -> list[_Tok]:
    """The tokens with the candidate's meaning in place of its window."""
    kind, value = cand.meaning
    if kind == "entity":
        new = _Tok("entity", value, *cand.window)
    else:
        # a filler keeps the phrase it was read as: rules look for some ("on avrage" is "on average")
        new = _Tok(kind, cand.phrase if kind == "filler" else value, *cand.window)
        if kind == "period":
            new = _Tok("period", replace(value, text=t.typed(*cand.window)), *cand.window)  # type: ignore[type-var]
    out = [tok for tok in toks if tok.end <= cand.window[0] or tok.start >= cand.window[1]]
    after = min((tok for tok in out if tok.start >= new.end), key=lambda x: x.start, default=None)
    spec = new.value
    if (isinstance(spec, PeriodSpec) and spec.grain == "month" and after is not None and after.kind == "period"
            and after.value.kind == "key" and len(after.value.key or "") == 4 and not t.s[new.end:after.start].strip()):
        # a misspelt month with its year ("septmber 2025") is that month of that year, as typed right
        out.remove(after)
        new = _Tok("period", PeriodSpec("key", key=f"{after.value.key}-{spec.key}", text=t.typed(new.start, after.end)),
                   new.start, after.end)
    out.append(new)
    return sorted(out, key=lambda x: x.start)


def _unknown_error(t: _Text, toks: list[_Tok], spans: list[tuple[int, int]], cands: list[_Cand],
                   want_kpi: bool) -> QueryError:
    a, b = spans[0]
    if not cands:
        for a2, b2 in spans[1:_FUZZY_SPANS]:
            cands = _candidates(t, toks, a2, b2)
            if cands:
                a, b = a2, b2
                break
    alone = (toks[a].start, toks[b - 1].end)
    # a reading that takes in a neighbouring word is offered only when it is close
    cands = [c for c in cands if c.window == alone or c.score >= _FIX_SCORE - 4]
    if want_kpi and cands:  # no KPI was recognised: a KPI match is the fix that matters
        cands = sorted(cands, key=lambda c: (c.meaning[0] not in ("kpi", "topic"), -c.score))
    top = [c for c in cands if c.score >= cands[0].score - 10][:3] if cands else []
    window = top[0].window if top else alone
    word = _q(t.typed(*window))
    shown = [c.shown for c in top if c.window == window] or [c.shown for c in top]
    choices = [(c.shown, _replaced(t, c.window, c.phrase)) for c in top]
    th = (f'ไม่เข้าใจ "{word}" หมายถึง ' + " หรือ ".join(f'"{x}"' for x in shown) + " หรือเปล่า?" if shown
          else f'ไม่เข้าใจ "{word}" ลองพิมพ์ /kpi list เพื่อดูรายการ KPI หรือ /kpi help')
    if shown:
        en = f'I didn\'t understand "{word}". Did you mean ' + " or ".join(f'"{x}"' for x in shown) + "?"
    else:
        en = f'I didn\'t understand "{word}". Try /kpi list for the KPIs, or /kpi help.'
    return _error(t.msg(en, th), t.lang, word=word, suggestions=shown, choices=choices)


def _replaced(t: _Text, window: tuple[int, int], phrase: str) -> str:
    """The question as typed with one span replaced (for the buttons of a question back)."""
    f = t.f
    a = f.omap[window[0]]
    b = f.omap[window[1]] if window[1] < len(f.omap) else len(f.original)
    return " ".join((f.original[:a] + phrase + " " + f.original[b:]).split())


# ---------------------------------------------------------------- parse


def _coerce(text: object) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes):
        return text.decode("utf-8", errors="replace")
    if not isinstance(text, str):
        raise QueryError("I can only read text.")
    return text


def parse(text: str, catalogue: dict[str, KpiSpec] | None = None, lexicon: Lexicon | None = None,
          options: ParseOptions | None = None) -> Query | HelpRequest:
    """What a person typed after /kpi -> the question it asks. Raises QueryError (one line for people)."""
    raw = _coerce(text)
    lang = "th" if _THAI_RE.search(raw) else "en"
    for a, b in _SLACK_ENTITIES:
        raw = raw.replace(a, b)
    raw = _SLACK_NOISE_RE.sub(" ", _STRUCK_RE.sub(" ", raw))
    raw = _SNAKE_PERIOD_RE.sub(lambda m: (m.group(1) + " ") if m.group(1) else " to ", _FLAGS_RE.sub(" ", raw))
    raw = without_close_words(_DAYS_LEFT_RE.sub(" ", raw))
    # a line break ends a sentence as a full stop does (a letter pasted in Thai has no other mark)
    raw = _LINE_BREAKS_RE.sub(" / ", raw.strip())
    raw = _SPACES_RE.sub(" ", raw).strip()
    if len(raw) > MAX_CHARS:
        raise _error(_bi(f"That is too long ({len(raw)} characters); ask about one KPI in under {MAX_CHARS}.",
                         f"ข้อความยาวเกินไป ({len(raw)} ตัวอักษร) กรุณาถามไม่เกิน {MAX_CHARS} ตัวอักษร", lang), lang)
    cat = default_catalogue() if catalogue is None else catalogue
    opts = options or ParseOptions()
    vocab, lex = _vocab(tuple(cat.values())), lexicon or _shipped_lexicon()
    folded = fold_text(raw)
    try:
        return _read(_Text(spoken_numbers(folded), lang, vocab, lex, opts), cat, raw)
    except QueryError:
        # Thai typed in Latin letters, English typed in Thai letters: read again in the other script, only
        # when the question as typed does not read (a Thai-script word some alias already knows stays so)
        other = english_in_thai(karaoke_thai(folded))
        if other is folded:
            raise
        try:
            return _read(_Text(spoken_numbers(other), lang, vocab, lex, opts), cat, raw)
        except QueryError as exc:
            if exc.choices:
                raise  # read in the other script it is a question back ("yod kai Somsak": which Somsak?)
        raise


def _read(t: _Text, cat: dict[str, KpiSpec], raw: str) -> Query | HelpRequest:
    s = t.s
    start = 5 if s.startswith("/kpi") and (len(s) == 4 or s[4] == " ") else 0
    toks = _corrected(t, _signed(t, _defined(t, _scan(t, start), cat)))
    try:
        return _Builder(t, toks, cat, Reading(text=raw)).build()
    except QueryError:
        q = _without_aside(t, toks, cat, raw) or _without_tail(t, toks, cat, raw) or _letter(t, toks, cat, raw)
        if q is None:
            raise
        return q


# A correction typed in the question: "revenue last month — sorry, last quarter", "by rep, I mean by
# channel", "Q3... no wait, Q2", "ของนก อ๊ะ ไม่ใช่ ของพิม". What follows the marker replaces what was said
# before it of the same kind; the marker itself says nothing. Bare "wait" ("how long do leads wait") and
# bare "ไม่ใช่" (a negation) are not markers.
_CORRECTION_RE = recache.compile(
    r"(?:^|(?<=[ ,;.\-–—/]))(?:sorry|no sorry|sorry no|no wait|wait no|oh wait|i mean|i meant|oops|whoops|"
    r"make that|scratch that|correction|เอ้ย|เอ๊ย|อ๊ะ ?ไม่ใช่|อุ๊ย ?ไม่ใช่|อ๊ะ|อุ๊ย|แก้เป็น)(?=[ ,:;.!]|$)")
_CORRECTED_KINDS = (frozenset(("period",)), frozenset(("by", "dimword", "breakdown")), frozenset(("kpi", "topic")),
                    frozenset(("rank",)))


def _named_dims(tok: _Tok) -> set[str]:
    """The dimensions a token names a value of ("Nok", "<@U…>", "team:smb", "my")."""
    if tok.kind == "entity" and isinstance(tok.value, tuple) and tok.value and isinstance(tok.value[0], Entity):
        return {e.dim for e in tok.value}
    if tok.kind == "mention":
        return {"rep"}
    if tok.kind == "filter":
        return {str(tok.value[0])}  # type: ignore[index]
    if tok.kind == "mine":
        return {"rep", "team"} if tok.value == "team" else {"rep"}
    return set()


_WHOSE = frozenset(("rep", "team"))
# what may follow a correction marker besides what it corrects: "— sorry, for the smb team", "I mean it's Q2"
_CORRECTION_KINDS = frozenset(("period", "by", "dimword", "breakdown", "kpi", "rank", "entity", "mention", "filter",
                               "mine", "greeting"))
_CORRECTION_FILLER = frozenset(("the", "a", "an", "for", "in", "of", "at", "on", "by", "to", "it's", "its", "i mean",
                                "mean", "meant", "i meant", "i", "please", "pls", "s", "ของ", "ที่", "ใน", "เป็น", "แทน",
                                "ครับ", "ค่ะ", "คะ", "นะ", "จ้า", "จ้ะ"))


def _only_a_correction(t: _Text, after: list[_Tok]) -> bool:
    """Whether the words after a correction marker are only what it corrects (a period, a breakdown, a
    KPI, a ranking, whose figure), not a remark ("sorry if I asked yesterday"), an addition ("and win
    rate too"), a comparison ("sorry, vs last year") or a topic word ("I mean it this time")."""
    if not any(tok.kind in _CORRECTION_KINDS - {"greeting"} for tok in after):
        return False
    for tok in after:
        said = t.s[tok.start:tok.end]
        if tok.kind == "filler":
            if any(ch.isalnum() for ch in said) and said not in _CORRECTION_FILLER:
                return False
        elif tok.kind not in _CORRECTION_KINDS:
            return False
    return True


def _corrected(t: _Text, toks: list[_Tok]) -> list[_Tok]:
    for m in _CORRECTION_RE.finditer(t.s):
        a, b = m.span()
        if not any(tok.start == a for tok in toks) or not any(tok.end == b for tok in toks):
            continue
        before = [k for k, tok in enumerate(toks) if tok.end <= a]
        after = [tok for tok in toks if tok.start >= b]
        if not _only_a_correction(t, after):
            continue  # "sorry, I asked last week too", "sorry, and win rate too": a remark or an addition
        if any(toks[k].kind in ("vs", "compare") for k in before) and any(tok.kind == "period" for tok in after):
            continue  # "this month vs last month — sorry, last year": which of the two it corrects is unsaid
        drop: set[int] = set()
        for kinds in _CORRECTED_KINDS:
            if any(tok.kind in kinds for tok in after):
                drop.update(k for k in before if toks[k].kind in kinds)
        named = set().union(*(_named_dims(tok) for tok in after))
        if named & _WHOSE:
            named |= _WHOSE  # "my revenue — sorry, for the smb team": whose figure is said again
        drop.update(k for k in before if _named_dims(toks[k]) & named)
        toks = [replace(tok, kind="filler", value=None) if k in drop or a <= tok.start and tok.end <= b else tok
                for k, tok in enumerate(toks)]
    return toks


# what an aside may not hold: a word the question after it could be missing
_ASIDE_KEEPS = frozenset(("kpi", "target", "period", "by", "dimword", "breakdown", "rank", "compare", "vs", "which",
                          "whichword", "whichafter", "mine", "prevword", "over", "help", "negation", "unsupported",
                          "future", "filter", "chart", "trend"))
_ASIDE_ENDS = frozenset((",", ":", "-", ";", ".", "?", "!", "/", ">"))


def _marks(t: _Text, toks: list[_Tok]) -> list[int]:
    """Where the punctuation that ends a clause stands (_ASIDE_ENDS), by token index."""
    return [k for k, x in enumerate(toks) if x.kind == "filler" and t.s[x.start:x.end] in _ASIDE_ENDS]
# what a trailing remark may not hold: the same, and any person or value, but a "which"/"who" alone
# ("that's who I'm coaching first") and "help" say nothing there
_TAIL_KEEPS = (_ASIDE_KEEPS - {"whichword", "whichafter", "help"}) | {"entity", "mention"}


def _without_tail(t: _Text, toks: list[_Tok], cat: dict[str, KpiSpec], raw: str) -> Query | HelpRequest | None:
    """"who on my team has the lowest win rate? that's who I'm coaching first", "… last quarter - she
    says her deals are dragging": a remark after the question, which fails it, is left out when the
    question before it is whole and the remark names nothing (no KPI, period, person or value)."""
    for k in reversed(_marks(t, toks)):
        if k == 0:
            break
        head, tail = toks[:k], toks[k + 1:]
        if not any(any(ch.isalnum() for ch in t.s[x.start:x.end]) for x in tail):
            continue  # a mark at the end ("…?"): nothing after it to leave out
        # a KPI's weak word ("her deals are dragging") in a remark names no KPI of its own
        if any(x.kind in _TAIL_KEEPS and not (x.kind == "kpi" and t.s[x.start:x.end] in _TOPIC_WORDS) for x in tail):
            return None
        if any(t.s[x.start:x.end] in _RESTRICTING or t.s[x.start:x.end] in _ADDING for x in tail):
            return None  # "… / Just ERP Cloud.", "… / And how many deals did we close?": more than a remark
        reading = Reading(text=raw)
        try:
            q = _Builder(t, head, cat, reading).build()
        except QueryError:
            continue
        if isinstance(q, Query):
            # … but only of the question's own KPI: "win rate for Nok. her revenue too" asks for a second
            weak = {_TOPIC_WORDS[t.s[x.start:x.end]] for x in tail if x.kind == "kpi"}
            if weak - set(words.FAMILIES.get(q.kpi, ())):
                return None
            reading.assumptions.append({"code": "aside", "text": t.typed(tail[0].start, tail[-1].end)})
        return q
    return None


# A KPI said by its definition, as the time from one event to another: "from opening a deal to
# winning it", "between the lead arriving and the deal being won", "นับจากเปิดดีลจนชนะ".
_DEAL_START = r"(?:open(?:ing|ed)?|creat(?:ing|ed|e)|start(?:ing|ed)?) (?:(?:a|an|the|my|our) )?(?:deal|opp|opportunity)s?"
_DEAL_OPENED = r"(?:the day |when )?(?:it'?s|it is|it was|a deal is|the deal is|the deal was) (?:opened|created|started)"
_WHEN = r"(?:(?:the )?(?:moment|day|time|point|date) (?:that |when )?)?"
_LEAD_START = (_WHEN + r"(?:(?:(?:a|the) )?lead'?s creation|lead creation|(?:(?:a|the|my|our) )?leads? (?:first )?(?:com(?:ing|es) in|arriv(?:ing|es|ed)|(?:is |was |being )?created"
               r"|showing up|shows up|lands|landing)|(?:the )?first (?:lead|contact|touch))")
_WON = (_WHEN + r"(?:(?:a|the|that|its|their|my|our|his|her) deal |it |they )?(?:being |is |gets |getting |was )?(?:closed[- ]?won|won|win(?:ning)?|clos(?:ing|ed|e)|"
        r"sign(?:ing|ed)?)(?: (?:it|them|the deal|a deal))?")
_GAP = r" (?:(?:\S+ ){0,2}?)(?:to|until|till|and|through) "
_NOT_COUNTED = r"(?! ?(?:กี่|ได้กี่|จำนวน))"
# who closes it, said inside the definition ("จนผมปิดดีลได้"): kept as its own token by _defined
_WHO_TH = r"(?:(?:ผม|ฉัน|หนู|ดิฉัน|เรา|ทีมเรา|ทีมผม) ?)?"  # "เปิดดีลจนปิดได้กี่ดีล" counts deals; the time is asked otherwise
_DEFINED = (
    (recache.compile(r"(?:from|between) (?:" + _DEAL_START + ")" + _GAP + _WON), "sales_cycle"),
    (recache.compile(r"(?:to |and )?(?:win|close|sign) (?:a|the|my) deal,? (?:from|after|since) " + _DEAL_OPENED),
     "sales_cycle"),
    (recache.compile(r"(?:from|between) (?:" + _LEAD_START + ")" + _GAP + _WON), "time_to_close"),
    (recache.compile(r"(?:from|between) (?:" + _LEAD_START + ")" + _GAP + r"(?:(?:it|the lead|they|a lead) )?"
                     r"(?:being |is |was |gets |getting |got |becoming |becomes )?(?:sales[- ])?qualified"),
     "lead_to_qualified_time"),
    (recache.compile(r"(?:ตั้งแต่|นับตั้งแต่|นับจาก|จาก) ?(?:วันที่ ?)?(?:เปิด|สร้าง|เริ่ม)(?:ดีล|โอกาสการขาย)?(?: ?ในระบบ)? ?"
                     r"(?:จนถึง|จน|ถึง|ไปจน|กระทั่ง) ?(?:วันที่ ?)?(?:ชนะ|ปิดชนะ|ปิดได้|ปิดการขาย|ปิดดีลได้|ปิด|ได้ดีล)(?:ดีล)?(?:ได้)?"),
     "sales_cycle"),
    (recache.compile(r"(?:ตั้งแต่|นับตั้งแต่|นับจาก|จาก) ?(?:วันที่ ?)?(?:ได้|มี)? ?(?:ลีด|lead)(?:เข้ามา|เข้า|มา)? ?"
                     r"(?:จนถึง|จน|ถึง|ไปจน) ?(?:วันที่ ?)?" + _WHO_TH
                     + r"(?:ชนะ|ปิดชนะ|ปิดได้|ปิดการขาย|ปิดดีลได้|ปิด|ได้ดีล)(?:ดีล)?(?:ได้)?" + _NOT_COUNTED),
     "time_to_close"),
    # "ดีลผมใช้เวลาปิดเฉลี่ยกี่วัน นับจากเปิดดีล": counted from the deal's opening, with the time asked
    (recache.compile(r"^(?=.*(?:ใช้เวลา|กี่วัน|นานแค่ไหน|นานเท่า)).*?(?P<d>(?:นับ ?)?(?:จาก|ตั้งแต่) ?(?:วันที่ ?)?"
                     r"(?:เปิด|สร้าง)(?:ดีล|โอกาสการขาย))(?! ?(?:จน|ถึง|ไปจน|กระทั่ง))"), "sales_cycle"),
    # "เปิดดีลจนปิดได้" (no ตั้งแต่), "(ลีด…) กว่าจะกลายเป็นดีลที่ชนะ": กว่าจะ is the wait until it happens
    (recache.compile(r"(?:เปิด|สร้าง)(?:ดีล|โอกาสการขาย) ?(?:จนถึง|จน|ไปจน|กระทั่ง) ?(?:ชนะ|ปิดได้|ปิดการขาย|ปิด)(?:ดีล)?(?:ได้)?"
                     + _NOT_COUNTED), "sales_cycle"),
    (recache.compile(r"กว่าจะ ?(?:กลาย|ปิด)?(?:มา)?เป็น ?ดีล ?(?:ที่)?(?:ชนะ|ปิดได้)" + _NOT_COUNTED), "time_to_close"),
    # the share of scores of 4 or 5 is CSAT's own definition (kpis.md)
    (recache.compile(r"(?:rat(?:ed|e|ing)|scor(?:ed|e|ing)|gave|give|giving|giv(?:es|ing)) (?:(?:us|our \S+) )?(?:a )?"
                     r"(?:4|four) (?:or|and|to|-|/|or a) ?(?:5|five)(?: stars?)?|(?:4|four) (?:or|and|-|to) (?:5|five) stars?"
                     r"|(?:(?:rat|scor)ed (?:us )?)?(?:a )?(?:4|four) out of (?:5|five) or (?:better|higher|more|above)"),
     "csat"),
    (recache.compile(r"(?:ให้)?คะแนน ?(?:4|สี่) ?(?:หรือ|-|ถึง|กับ) ?(?:5|ห้า)|(?:ให้)?คะแนน ?(?:4|สี่) ?(?:ขึ้นไป|ขึ้น)"
                     r"|ให้ ?(?:4|สี่) ?(?:หรือ|-|ถึง|กับ) ?(?:5|ห้า) ?คะแนน"),
     "csat"),
)


def _defined(t: _Text, toks: list[_Tok], cat: dict[str, KpiSpec]) -> list[_Tok]:
    """The words of a KPI's definition made one KPI token, when they start and end on tokens' edges."""
    for rx, key in _DEFINED:
        if key not in cat:
            continue
        m = rx.search(t.s)
        if m is None:
            continue
        a, b = m.span("d") if "d" in rx.groupindex else m.span()
        if not any(tok.start == a for tok in toks) or not any(tok.end == b for tok in toks):
            continue
        inside = [tok for tok in toks if a <= tok.start and tok.end <= b]
        if any(tok.kind in ("kpi", "entity", "period") and tok.value != key
               and not (tok.kind == "kpi" and tok.value in _EVENT_KPIS) for tok in inside):
            continue  # "from opening a deal in october to…": the words say more than the definition
        # whose deals, said inside it ("from a lead landing to my deal being won", "จนผมปิดดีลได้", "her
        # deal"), still says whose figure it is: the KPI token ends where that word starts, the rest is filler
        mine = [tok for tok in inside if tok.kind == "mine" or t.s[tok.start:tok.end] in _PRONOUNS][:1]
        kept = [_Tok("kpi", key, a, b)]
        if mine and mine[0].start > a:
            kept = [_Tok("kpi", key, a, mine[0].start), mine[0]]
            if mine[0].end < b:
                kept.append(_Tok("filler", None, mine[0].end, b))
        # the events it runs between, named again around it ("ทีมไหนปิดดีลเร็วสุด นับจากเปิดดีลจนชนะ"),
        # are those of the definition, not a second KPI
        toks = sorted([tok if tok.kind != "kpi" or tok.value not in _EVENT_KPIS else replace(tok, kind="filler")
                       for tok in toks if tok.end <= a or tok.start >= b] + kept,
                      key=lambda x: x.start)
    return toks


_EVENT_KPIS = frozenset(("deals_closed", "lead_volume"))
_COUNT_WORDS = frozenset(("how many", "number of", "count", "count of", "กี่", "จำนวน", "กี่ดีล"))
_AVERAGE_WORDS = frozenset(("avg", "average", "on average", "on avg", "mean", "เฉลี่ย", "โดยเฉลี่ย"))
_EACH = ("each", "every", "แต่ละ", "ทุก")
_BRING_IN = frozenset(("bring in", "brings in", "brought in", "bring", "make", "makes", "made", "earn", "earned",
                       "generate", "generated", "sell", "sells", "ทำ", "ทำได้", "หาได้"))


# KPIs measured over won deals: "won deals" beside one says which deals, not a second KPI
_OVER_WON_DEALS = frozenset(("sales_cycle", "avg_deal_size", "time_to_close"))
_BOOKED = frozenset(("booked", "book", "books", "booking", "bookings"))
_PERCENT_RE = recache.compile(r"%|เปอร์เซ็น|percent|pct")
# a ranking said against the target ("furthest from target", "ห่างเป้ามากที่สุด"): attainment's
_TARGET_RANK_RE = recache.compile(r"target|quota|(?:its|their|my|our) number|เป้า")
# "the leads I got": "I" right after what is counted is whose figure (grammar._Builder._i_did)
_I_DID_RE = recache.compile(r" i (?:" + "|".join(words.WEAK_I_VERBS) + r")(?![\w'])")
# a meeting named after its owner ("Malee's standup", "Nok's 1:1")
_MEETINGS = frozenset((*words.CHAT_NOUNS, *words.CHAT_NOUNS_AFTER, "meeting", "meetings", "deck", "slides"))


# the verbs of a favour: "for me" after them is the favour ("can you pull csat for me"); "show me … for me"
# and "please" are how the asker's own figure is asked for too
_FAVOUR_WORDS = frozenset(("pull", "get", "check", "grab", "find", "send", "run", "look", "fetch", "share", "dig",
                           "compile", "prepare", "put", "bring", "wants", "want", "needs", "need", "asked", "asks"))


# words that point back at a person named before them ("before my 1:1 with Pim: how is her win rate")
_PRONOUNS = frozenset(("he", "she", "her", "his", "him", "hers", "he's", "she's", "เขา", "เค้า", "ของเขา", "ของเค้า"))


def _without_aside(t: _Text, toks: list[_Tok], cat: dict[str, KpiSpec], raw: str) -> Query | None:
    """"in a cab - my avg deal size l90d", "walking into a client mtg, my csat…": a question that fails
    on words before a comma, colon, dash or the end of a sentence is read without them, when what
    follows is a whole question and they say nothing it could use: no KPI, breakdown or "my"; a period
    or a value it filters by only where it names its own ("quarter closes dec 31 - my attainment qtd",
    "Jeab wants it - how many deals did I close")."""
    for k in _marks(t, toks):
        aside, rest = toks[:k], toks[k + 1:]
        if not any(any(ch.isalnum() for ch in t.s[x.start:x.end]) for x in rest):
            return None  # "asdf jkl;;": nothing after the mark
        own_period = any(x.kind == "period" for x in rest)
        if any(t.s[x.start:x.end] in _NARROWING or (x.kind == "topic" and x.value in _ASKED_BACK) for x in aside):
            return None  # "only new business: win rate": which rows the question counts; "start to finish, …"
        keeps = any(x.kind in _ASIDE_KEEPS and not (x.kind in ("period", "prevword", "future") and own_period)
                    for x in aside)
        if keeps and any(x.kind == "kpi" for x in aside):
            return None
        reading = Reading(text=raw)
        try:
            q = _Builder(t, rest, cat, reading).build()
        except QueryError:
            if keeps:
                return None
            continue
        if isinstance(q, HelpRequest):
            return q  # "hi, I'm on the marketing team - what can this bot answer?": who asks is no KPI
        if keeps:
            return None
        own = set(q.filters) | ({"rep"} if q.mine == "rep" else set()) | ({"team"} if q.mine == "team" else set())
        dims = set(cat[q.kpi].filters) - own
        named = [x for x in aside if x.kind == "entity" and any(e.dim in dims for e in x.value)]  # type: ignore[union-attr]
        reps = {e.value for x in named for e in x.value if e.dim == "rep"}  # type: ignore[union-attr]
        for x in aside:  # a Slack mention names a rep too ("before coaching <@U…>, show me her …")
            rid = t.lex.rep_for_slack(str(x.value)) if x.kind == "mention" and "rep" in dims else None
            if rid is not None:
                named.append(_Tok("entity", (Entity("rep", rid, t.lex.rep_label(rid)),), x.start, x.end))
                reps.add(rid)
        pointed = any(x.kind == "filler" and t.s[x.start:x.end] in _PRONOUNS for x in rest)
        if named and not (pointed and len(reps) == 1 and all(
                all(e.dim == "rep" for e in x.value) for x in named)):  # type: ignore[union-attr]
            return None
        if named:  # "… with Pim: how is her win rate": her is Pim
            q = replace(q, filters={**q.filters, "rep": reps.pop()})
        if aside:
            reading.assumptions.append({"code": "aside", "text": t.typed(aside[0].start, aside[-1].end)})
        return q
    return None


_OPENINGS = tuple(sorted({fold(w) for w in words.LETTER_OPENINGS}, key=len, reverse=True))
_SIGNOFFS = tuple(sorted({fold(w) for w in words.SIGNOFFS}, key=len, reverse=True))
_STRONG_ENDS = frozenset((".", "?", "!", "/"))
# what the rest of a letter may hold whatever the request: chat and words the parser does not know
# (the letter's own story), a deadline ("by tomorrow", "next week's review"), a mention, "could you help";
# never a negation ("… excluding renewals."): what it leaves out would be answered in
_LETTER_QUIET = frozenset(("filler", "greeting", "unknown", "future", "mention", "help", "trend", "number"))
_LETTER_TOPICS = frozenset(("deals", "customers"))  # what sales letters talk about whatever they ask
# before a question, what narrows the rows it counts ("only new business: win rate"); "just" there is
# mostly time ("Bee just finished onboarding — …")
_NARROWING = frozenset(("only", "except", "excluding", "excluded", "exclude", "without", "เฉพาะ", "ยกเว้น", "ไม่รวม"))
# words that add to a question after it ("… and how many deals?", "… also by region")
_ADDING = frozenset(("and", "also", "plus", "too", "as well", "และ", "อีกอย่าง"))
# words that narrow the rows a request counts: around it in a letter they keep it unanswered
_RESTRICTING = _NARROWING | frozenset(("just", "but", "minus", "sorry", "actually", "instead", "meant", "rather",
                                       "wait", "make it", "make that", "change it to", "correction", "แค่",
                                       "เท่านั้น", "ขอแก้", "แก้เป็น"))
_OPENING_CHARS = 40
_LETTER_RUN = 4  # clauses a request may span ("the CSAT of mid-market customers, compared with last year")


def _starts(t: _Text, tok: _Tok, phrases: tuple[str, ...]) -> bool:
    """Does the text from this token on start with one of these phrases (a whole word of them)?"""
    s = t.s
    for p in phrases:
        if s.startswith(p, tok.start):
            end = tok.start + len(p)
            if is_thai(p[-1]) or end >= len(s) or not is_word(s[end]):
                return True
    return False


def _signed(t: _Text, toks: list[_Tok]) -> list[_Tok]:
    """"… last quarter? / Thanks, / Ton": a sign-off after a mark and the name that signs it say nothing
    about the question (Ton is who asks, not whose win rate); they are made chat words."""
    end = _signoff(t, toks, _marks(t, toks))
    if end is None or not any(x.kind not in _QUIET for x in toks[:end]):
        return toks
    tail = toks[end + 1:]
    if not all(x.kind in _QUIET or x.kind in ("unknown", "dimword") or x.kind == "entity" and all(
            e.dim in _SIGNED_DIMS for e in x.value) for x in tail):  # type: ignore[union-attr]
        return toks  # "thanks, and revenue by team too": more than a signature
    if any(t.s[x.start:x.end] in _ADDING or t.s[x.start:x.end] == "ด้วย" for x in tail):
        return toks  # "thanks, and only for Golf": an addition, not a signature
    return toks[:end + 1] + [replace(x, kind="filler") if x.kind in ("entity", "dimword") else x for x in tail]


_SIGNED_DIMS = frozenset(("rep", "team", "region", "segment"))  # what a signature says of who signs it


def _signoff(t: _Text, toks: list[_Tok], marks: list[int], lo: int = 0) -> int | None:
    """The first mark from `lo` on that a sign-off follows ("… ? / Thanks, / Ton")."""
    return next((k for k in marks if k >= lo and k + 1 < len(toks) and _starts(t, toks[k + 1], _SIGNOFFS)), None)


def _letter(t: _Text, toks: list[_Tok], cat: dict[str, KpiSpec], raw: str) -> Query | HelpRequest | None:
    """A request pasted from an email or a long message ("Hi team, / Hope you're well. We're putting
    the slides together. / Could you share the win rate by region for last quarter? / Thanks, / Ton").
    Its opening (a greeting and whom it greets, up to the first mark) and its closing (from a sign-off
    on: the signature) are left out, and the request is the run of clauses between marks that reads as
    a whole question. Only when nothing else in the letter says what the request could use: another
    KPI, a breakdown, a period (unless the request names its own), a ranking, a comparison, "my"
    before what it owns, or a value the request does not filter by already."""
    marks = _marks(t, toks)
    if not marks:
        return None
    lo, hi = 0, len(toks)
    first = next((k for k, x in enumerate(toks) if k not in marks), None)
    if first is not None and _starts(t, toks[first], _OPENINGS):
        stop = next((k for k in marks if k > first), None)
        # "Dear Sales Ops,", "เรียนผู้ดูแลระบบ /": a greeting and whom it greets, no more
        if stop is not None and toks[stop].start - toks[first].start <= _OPENING_CHARS:
            lo = stop + 1
    end = _signoff(t, toks, marks, lo)
    if end is not None:
        hi = end
    strong = sum(1 for k in marks if lo <= k < hi and t.s[toks[k].start:toks[k].end] in _STRONG_ENDS)
    if lo == 0 and hi == len(toks) and strong < 2:
        return None  # not a letter: one clause around a question is the aside's or the remark's
    segs, a = [], lo
    for k in [m for m in marks if lo <= m < hi] + [hi]:
        if any(any(ch.isalnum() for ch in t.s[x.start:x.end]) for x in toks[a:k]):
            segs.append((a, k))
        a = k + 1
    for length in range(min(len(segs), _LETTER_RUN), 0, -1):
        for i in range(len(segs) - length + 1):
            a, b = segs[i][0], segs[i + length - 1][1]
            body = toks[a:b]
            reading = Reading(text=raw)
            try:
                q = _Builder(t, body, cat, reading).build()
            except QueryError:
                continue
            rest = [x for x in toks[lo:a] + toks[b:hi] if t.s[x.start:x.end] not in _ASIDE_ENDS]
            if isinstance(q, HelpRequest):
                if any(x.kind == "help" for x in body) and not any(x.kind == "kpi" for x in rest):
                    return q
                continue
            if any(t.s[toks[c].start:toks[c].end] in _ADDING for c, _ in segs[:i] + segs[i + length:]):
                continue  # a clause of its own that adds ("… / And how many deals did we close?")
            if not _says_nothing_more(t, rest, body, q, cat, lo > 0 or hi < len(toks)):
                continue
            left = [x for x in toks if x.end <= body[0].start or x.start >= body[-1].end]
            if left:
                reading.assumptions.append({"code": "aside", "text": t.typed(left[0].start, left[-1].end)})
            return q
    return None


def _says_nothing_more(t: _Text, rest: list[_Tok], body: list[_Tok], q: Query, cat: dict[str, KpiSpec],
                       lettered: bool) -> bool:
    """Nothing in the rest of a letter adds to its request (_letter); `lettered`: it has an opening or
    a closing, so it is a letter and not a list of bullets ("- ยอดขาย / - วินเรท": two KPIs)."""
    periods = {str(x.value) for x in body if x.kind == "period"}
    filters = set(cat[q.kpi].filters)
    families = set(words.FAMILIES.get(q.kpi, ()))
    if any(t.s[x.start:x.end] in _RESTRICTING for x in rest):
        return False  # "Only new business.", "Renewals excluded.": which of the rows, in words not read
    for i, x in enumerate(rest):
        k = x.kind
        if k in _LETTER_QUIET:
            continue
        after = next((y for y in rest[i + 1:i + 3] if y.kind != "filler"), None)
        family = _TOPIC_WORDS.get(t.s[x.start:x.end]) if k == "kpi" else x.value if k == "topic" else None
        if (k == "kpi" and x.value == q.kpi or family in families
                or lettered and k == "topic" and family in _LETTER_TOPICS):
            continue  # the request's own KPI, or what a letter talks about around it ("our deals are slow")
        if k == "period" and (str(x.value) in periods or periods and getattr(x.value, "grain", None) in ("day", "week")):
            # the request's own period named again ("the Q3 review doc: … in Q3"), or a day of the story
            # ("ตามที่ประชุมเมื่อวันจันทร์") beside a request with a period of its own
            continue
        if k == "entity" and (all(e.dim not in filters and e.dim != "rep" for e in x.value)  # type: ignore[union-attr]
                              or any(q.filters.get(e.dim) == e.value for e in x.value)):  # type: ignore[union-attr]
            continue  # a value the KPI cannot be filtered by ("proposal", "a clearer view"), or its own
        if k == "dimword" and x.value[0] in {q.breakdown, *q.filters, q.mine}:  # type: ignore[index]
            continue
        # "my request below", "ตามที่คุยกันไว้", "ลูกค้ารายใหญ่": about nothing the request reads
        if k == "mine" and (q.mine is not None or after is None
                            or after.kind not in ("dimword", "breakdown", "entity", "kpi", "topic", "target")):
            continue
        if k == "by" and (after is None or after.kind not in ("dimword", "breakdown", "entity")
                          or after.kind == "dimword" and after.value[0] == q.breakdown):  # type: ignore[index]
            continue
        if k in ("compare", "vs") and q.compare is not None:
            continue
        if k == "target" and q.kpi == "target_attainment":
            continue
        return False
    return True


@lru_cache(maxsize=1)
def _shipped_lexicon() -> Lexicon:
    return Lexicon.shipped()


# ---------------------------------------------------------------- building the query

# "above 30%", "more than 10", "เกิน 40%": a value held against the answer (_Builder._thresholds)
_THRESHOLD_RE = recache.compile(
    r"(above|below|over|under|more than|less than|fewer than|greater than|higher than|lower than|at least|at most|"
    r"exceed(?:ed|s|ing)?|cross(?:ed|es|ing)?|beyond|hit|reach(?:ed)?|เกินกว่า|เกิน|ต่ำกว่า|สูงกว่า|มากกว่า|น้อยกว่า|"
    r"ไม่ถึง|ทะลุ|แตะ|ไม่ต่ำกว่า|ไม่เกิน) ?(\d[\d,.]*) ?(%|percent|pct|เปอร์เซ็นต์|เปอร์เซ็น|mb|m|k|million|mn|"
    r"ล้านบาท|ล้าน|แสน|พันบาท|พัน|บาท|baht|thb)?(?![a-z0-9])")
_LISTING = frozenset(("by", "breakdown", "rank", "which", "whichword", "whichafter"))
_MOVED_MOST_RE = recache.compile(r"(?<![a-z])(?:improved|increased|grew|raised|lifted|boosted|dropped|lowered|cut|"
                                 r"decreased|reduced) (?:its |their |his |her |the |our )?(?:[a-z]+ ){1,3}?(?:the )?"
                                 r"(?:most|least)(?![a-z])")
_MONEY_UNITS = frozenset(("m", "mb", "k", "million", "mn", "ล้านบาท", "ล้าน", "แสน", "พันบาท", "พัน", "บาท", "baht", "thb"))
# the words of a fall, for a ranking by change turned to the worst first
_DOWN_WORDS = ("declin", "drop", "wors", "least", "fell", "fall", "down", "slip", "slid", "decreas", "shrank",
               "แย่", "ตก", "ลด", "ร่วง", "ดิ่ง")
_QUIET = frozenset({"filler", "greeting"})
# what makes "help" part of a question rather than a request for the usage ("win rate help" is the help
# on win rate; "win rate last quarter, can you help?" is the win rate)
_ASKED = frozenset({"period", "compare", "over", "entity", "mention", "filter", "breakdown", "by", "rank", "mine"})
_ATTACH = frozenset({"filler"})  # what may stand between a word and the entity it qualifies


class _Builder:
    def __init__(self, t: _Text, toks: list[_Tok], cat: dict[str, KpiSpec], reading: Reading):
        self.t, self.toks, self.cat, self.reading = t, toks, cat, reading
        self.lang = t.lang
        self.used: set[int] = set()  # indexes of tokens consumed as context of another
        self.name = ""  # the KPI as typed
        self.trend: str | None = None  # a trend grain finer than the period ("monthly … this year")
        self.late: list[tuple[int, list[Entity]]] = []  # entities found while reading the KPI (_values_for)

    def err(self, en: str, th: str, **kw) -> QueryError:
        return _error(_bi(en, th, self.lang), self.lang, **kw)

    def typed(self, tok: _Tok) -> str:
        return self.t.typed(tok.start, tok.end)

    # ------------------------------------------------------------ entry

    def build(self) -> Query | HelpRequest:
        t = self.t
        kinds = {tok.kind for tok in self.toks}
        if kinds <= _QUIET | {"help"} and ("help" in kinds or "greeting" in kinds or not self._words()):
            return HelpRequest(lang=self.lang)  # type: ignore[arg-type]
        if "help" in kinds and not kinds & _ASKED:
            return self._help()
        # "… revenue in october vs last year, can you help with that?": the question is what is asked
        self.toks = [replace(tok, kind="filler") if tok.kind == "help" else tok for tok in self.toks]
        kinds.discard("help")
        self._for_me_set_off()
        self._meeting_owner()
        self._i_did()
        self._stuck_counted()
        self._will()
        self._thresholds()
        self._comparatives()
        self._moved_most()
        for tok in self.toks:  # refused before anything is corrected
            if tok.kind == "negation":
                word = self.typed(tok)
                raise self.err(f'"{_q(word)}": I can\'t leave anything out of a KPI. Ask for the whole, or by team, '
                               "region, … to see each part.",
                               f'"{_q(word)}": ตัด/ไม่รวมบางส่วนออกไม่ได้ ลองถามยอดรวม หรือแยกตามทีม ภูมิภาค ฯลฯ เพื่อดูแต่ละส่วน',
                               word=word)
            if tok.kind == "unsupported":
                word = self.typed(tok)
                if tok.value == "open" and self._about_stages() and not self._counted():
                    continue  # "ดีลค้างอยู่ในขั้นตอน qualification นานแค่ไหน": deals stuck in a stage
                if tok.value == "open" and "pipeline_velocity" in self.cat and _PER_DAY_RE.search(self.t.s):
                    # "open deals times win odds times deal size, divided by the days": the velocity's definition
                    k = self.toks.index(tok)
                    self.toks[k] = _Tok("kpi", "pipeline_velocity", tok.start, tok.end)
                    continue
                if tok.value == "change_rank" and (self._about_revenue() or self._grew_alone(tok)):
                    continue  # "whose revenue improved the most", "which team grew the most": revenue growth
                en, th = _UNSUPPORTED_MESSAGES[str(tok.value)]
                raise self.err(f'"{_q(word)}": {en}', f'"{_q(word)}": {th}', word=word)
        # left after the check above only beside a stage: deals stuck there, the time in stage; or
        # beside revenue: its growth, ranked best first
        self.toks = [_Tok("kpi", "stage_duration", tok.start, tok.end) if tok.kind == "unsupported"
                     and tok.value == "open" and "stage_duration" in self.cat else tok for tok in self.toks]
        changed = [tok for tok in self.toks if tok.kind == "unsupported" and tok.value == "change_rank"]
        for tok in changed:
            k = self.toks.index(tok)
            best = "worst" if any(w in self.typed(tok) for w in _DOWN_WORDS) else "best"
            self.toks[k:k + 1] = [_Tok("kpi", "revenue_growth", tok.start, tok.end),
                                  _Tok("rank", (best, None), tok.end, tok.end)]
        self._listed()
        self._times_done()
        kinds = {tok.kind for tok in self.toks}
        has_kpi = bool(kinds & {"kpi", "topic", "target"})
        self.toks = _combine(t, self.toks)
        self.toks = _combine(t, _correct(t, self.toks, self.reading, want_kpi=not has_kpi))
        for tok in self.toks:
            if tok.kind == "future":
                raise self.err(f'"{_q(self.typed(tok))}" is in the future: I can only answer for periods '
                               f"that have started.",
                               f'"{_q(self.typed(tok))}" ยังมาไม่ถึง ถามได้เฉพาะช่วงเวลาที่เริ่มแล้ว', word=self.typed(tok))
        self._values_named_by_their_dimension()
        self._teams_named_by_a_rep()
        self._average_rep()
        self._named_before()
        self._booked()
        self._record_tokens()
        ents = self._entities()
        spec = self._kpi(ents)
        self.name = self.name or spec.name(self.lang)
        self._absorb_per_rep(spec)
        filters, mine = self._filters(spec, ents + self.late)
        period, compare, compare_period = self._periods(spec)
        breakdown, rank = self._breakdown(spec, filters)
        self._leftovers(spec)
        chart = any(tok.kind in ("chart", "trend") for tok in self.toks)
        return Query(kpi=spec.key, period=period, breakdown=breakdown, filters=filters, compare=compare,  # type: ignore[arg-type]
                     chart=chart, trend=self.trend, lang=self.lang, compare_period=compare_period,  # type: ignore[arg-type]
                     rank=rank, mine=mine, reading=self.reading)

    def _will(self) -> None:
        m = _WILL_RE.search(self.t.s)
        if m is not None and not m.group(0).startswith(("will you", "will u")):
            word = self.t.typed(m.start(), m.end())
            en, th = _UNSUPPORTED_MESSAGES["projection"]
            raise self.err(f'"{_q(word)}": {en}', f'"{_q(word)}": {th}', word=word)

    def _times_done(self) -> None:
        """"how many times have I viewed content": how often something was done is the count of the KPI
        that counts those actions; "how many times did I hit quota" (a count of periods) stays unread."""
        counted = any(x.kind == "kpi" and x.value in _ACTION_KPIS
                      or x.kind == "entity" and any(e.dim in _MEASURE_KINDS for e in x.value)  # type: ignore[union-attr]
                      for x in self.toks)
        for k, tok in enumerate(self.toks[1:], 1):
            if (counted and tok.kind == "unknown" and self.typed(tok).lower() == "times"
                    and self.t.s[self.toks[k - 1].start:self.toks[k - 1].end] == "how many"):
                self.toks[k] = replace(tok, kind="filler")

    def _listed(self) -> None:
        """"split into calls, emails and meetings", "แยก view/click/share": the values listed after a word that
        splits are a breakdown by their dimension. Said alone they still name the KPI they belong to, and the
        same value said elsewhere ("ยอดวิว … แยก view/click/share") is one of them, not a filter."""
        for k, tok in enumerate(self.toks):
            if tok.kind == "entity" and (k == 0 or self.toks[k - 1].kind != "by"):
                # "how many calls, emails and meetings does a rep log", "เปิดดู คลิก แชร์ กี่ครั้ง": the kinds of
                # activity or content action listed, with no word that splits, are all of them counted together
                found = _listed_values(self.t, self.toks, k - 1, first=k)
                if found is not None and found[0] in _MEASURE_KINDS and len(found[2]) >= 3:  # two: which two?
                    dim, last, _ = found
                    after = self.toks[last + 1] if last + 1 < len(self.toks) else None
                    if after is not None and self.t.s[after.start:after.end] in _SPLIT_AFTER:
                        # "views, clicks and shares split out": listed to be shown each
                        self.toks[k:last + 2] = [_Tok("breakdown", dim, tok.start, after.end)]
                        return
                    filler = [replace(x, kind="filler", value=None) for x in self.toks[k:last + 1]]
                    self.toks[k:last + 1] = self._owner(dim, tok.start) + filler
                    self.reading.assumptions.append({"code": "aside", "text": self.t.typed(tok.start, self.toks[last].end)})
                    return
            found = _listed_values(self.t, self.toks, k) if tok.kind == "by" else None
            if found is None:
                continue
            dim, last, values = found
            new = [*self._owner(dim, tok.start), _Tok("breakdown", dim, tok.start, self.toks[last].end)]
            rest = [x if not (x.kind == "entity" and {e.dim for e in x.value} == {dim}  # type: ignore[union-attr]
                              and {e.value for e in x.value} <= values) else replace(x, kind="filler", value=None)  # type: ignore[union-attr]
                    for x in self.toks[:k] + self.toks[last + 1:]]
            self.toks = rest[:k] + new + rest[k:]
            return

    def _owner(self, dim: str, at: int) -> list[_Tok]:
        """With no KPI said, the one KPI that breaks down by `dim` (action: content engagement), as a
        token at `at`; none when a KPI is said or several KPIs have the dimension."""
        if any(x.kind in ("kpi", "topic", "target") for x in self.toks):
            return []
        owners = [key for key, spec in self.cat.items() if dim in spec.breakdowns]
        return [_Tok("kpi", owners[0], at, at)] if len(owners) == 1 else []

    def _for_me_set_off(self) -> None:
        """"…, for me, fiscal year to date": set off by marks on both sides, "for me" says whose figure;
        "can you check the win rate for me" asks a favour and stays chat."""
        marks = set(_marks(self.t, self.toks))
        if any(x.kind in ("entity", "filter", "mention", "mine", "by", "breakdown", "which", "whichword", "rank")
               or (x.kind == "filler" and self.typed(x).lower() in _WHOLE_COMPANY) for x in self.toks):
            return  # whose figure is said otherwise ("for the smb team, for me, please"), or ranks people
        for k, tok in enumerate(self.toks):
            if tok.kind != "filler" or self.typed(tok).lower() != "for me":
                continue
            if (k - 1 in marks and k + 1 in marks) or self._named_for_me(k):
                self.toks[k] = _Tok("mine", "rep", tok.start, tok.end)

    def _meeting_owner(self) -> None:
        """"for Malee's standup: win rate by team": whose meeting it is says nothing about whose figure,
        unless "her"/"his" points back at them ("before Nok's 1:1, her win rate")."""
        if any(self.typed(x).lower() in _PRONOUNS for x in self.toks):
            return
        for k, tok in enumerate(self.toks):
            if tok.kind != "entity" or not any(e.dim == "rep" for e in tok.value):  # type: ignore[union-attr]
                continue
            j = k + 1
            while j < len(self.toks) and self.toks[j].kind == "filler" and self.typed(self.toks[j]) in ("'", "’", "s"):
                j += 1
            if j > k + 1 and j < len(self.toks) and self.toks[j].kind == "filler" \
                    and self.typed(self.toks[j]).lower() in _MEETINGS:
                self.toks[k] = _Tok("filler", None, tok.start, tok.end)

    def _i_did(self) -> None:
        """"the leads I got", "deals I opened": "I" is whose figure right after what is counted; elsewhere
        ("I got asked for revenue") the words are chat."""
        for tok in self.toks:
            m = _I_DID_RE.match(self.t.s, tok.end) if tok.kind in ("kpi", "topic") else None
            if m is None:
                continue
            inside = [j for j, x in enumerate(self.toks) if m.start() < x.end and x.start < m.end()]
            if inside and all(self.toks[j].kind in ("filler", "unknown", "mine") for j in inside) \
                    and self.toks[inside[0]].start >= m.start() + 1 and self.toks[inside[-1]].end <= m.end():
                self.toks[inside[0]:inside[-1] + 1] = [_Tok("mine", "rep", m.start() + 1, m.end())]
                return

    def _named_for_me(self, k: int) -> bool:
        """"avg deal size for me, last 90 days": "for me" right after the KPI that opens the question is
        whose figure; after a request ("can you pull csat for me") it is a favour."""
        if k == 0 or self.toks[k - 1].kind != "kpi" or self.t.s[self.toks[k].end:].startswith(" to "):
            return False  # "revenue for me to send": a favour
        spec = self.cat.get(str(self.toks[k - 1].value))
        if spec is not None and "rep" not in spec.filters:
            return False  # "CAC for me": no rep has one of their own; the favour
        return all(x.kind in ("filler", "greeting") and not (set(self.typed(x).lower().split()) & _FAVOUR_WORDS)
                   for x in self.toks[:k - 1])

    def _stuck_counted(self) -> None:
        """"how many deals are stuck in negotiation": a count of open deals in a stage, which is the
        open pipeline (not a KPI here); "how long are deals stuck" is the time in stage."""
        s = self.t.s
        stuck = [tok for tok in self.toks if tok.kind == "kpi" and tok.value == "stage_duration"
                 and ("stuck" in s[tok.start:tok.end] or "ค้าง" in s[tok.start:tok.end])]
        if stuck and self._counted():
            word = self.typed(stuck[0])
            en, th = _UNSUPPORTED_MESSAGES["open"]
            raise self.err(f'"{_q(word)}": {en}', f'"{_q(word)}": {th}', word=word)

    def _thresholds(self) -> None:
        """"is our win rate above 30%", "did the team cross 5M in revenue", "เกิน 40% หรือยัง": a value to hold
        the answer against, which the answer shows (the words are left out, the reading line says so); in
        a list ("which reps are below 20% win rate", "reps with more than 10 deals") a filter by value,
        which kpibot does not do: refused."""
        s = self.t.s
        listed = any(tok.kind in _LISTING for tok in self.toks)
        for m in _THRESHOLD_RE.finditer(s):
            a, b = m.start(), m.end()
            if m.group(1) in ("over", "under") and not m.group(3):
                continue  # "over 30 days" is a period; "over 30%" a threshold
            inside = [tok for tok in self.toks if a <= tok.start < b]
            if not inside or inside[0].start != a or any(tok.end > b and tok.kind != "number" for tok in inside):
                continue  # inside a word or a longer phrase ("more than 10 deals": deals stays the KPI)
            k = self.toks.index(inside[0])
            end = max(b, inside[-1].end)
            # "deals over 1M", "customers above 100k": which deals or customers to count, not a total
            sized = m.group(3) in _MONEY_UNITS and any(
                x.kind == "kpi" and x.value in ("deals_closed", "lead_volume")
                or x.kind == "topic" and x.value in ("deals", "leads", "orders", "customers") for x in self.toks[:k])
            if listed or sized:
                self.toks[k:k + len(inside)] = [_Tok("unsupported", "threshold", a, end)]
            else:
                self.toks[k:k + len(inside)] = [_Tok("filler", None, a, end)]
                self.reading.assumptions.append({"code": "threshold", "text": self.t.typed(a, end)})

    def _moved_most(self) -> None:
        """"which rep improved win rate the most", "who increased revenue the most": a verb of change
        and "the most" with the KPI between them is a ranking by change, as "… improved the most" is."""
        for m in _MOVED_MOST_RE.finditer(self.t.s):
            verb = next((x for x in self.toks if x.start == m.start()), None)
            if verb is not None and verb.kind in ("unknown", "filler"):
                k = self.toks.index(verb)
                self.toks[k] = _Tok("unsupported", "change_rank", verb.start, verb.end)

    def _comparatives(self) -> None:
        """"did we close more deals this week than last week", "is CAC any lower than last year": the
        word that says which way is asked is left out; the comparison is the "than" and what follows."""
        s = self.t.s
        for i, tok in enumerate(self.toks):
            if tok.kind != "unknown" or s[tok.start:tok.end] not in words.COMPARATIVES:
                continue
            than = next((j for j in range(i + 1, min(i + 7, len(self.toks)))
                         if self.toks[j].kind == "vs" and s[self.toks[j].start:self.toks[j].end] == "than"), None)
            # … and only between two periods: "revenue more than 3 months ago" or "are deals bigger than
            # last quarter" (bigger: the deal size? more: older than?) say more than a comparison
            if than is not None and any(x.kind == "period" for x in self.toks[:than]):
                self.toks[i] = replace(tok, kind="filler")

    def _grew_alone(self, tok: _Tok) -> bool:
        """"which team grew the most": growth with no KPI named is the revenue's."""
        return (self.typed(tok).lower().startswith(("grew", "grow", "grown", "โต"))
                and not any(x.kind in ("kpi", "topic", "target") for x in self.toks))

    def _about_revenue(self) -> bool:
        """The question is about revenue (its growth is what can be ranked by change)."""
        return "revenue_growth" in self.cat and any(
            (tok.kind == "kpi" and tok.value in ("revenue", "revenue_growth"))
            or (tok.kind == "topic" and tok.value in ("revenue", "growth")) for tok in self.toks)

    def _counted(self) -> bool:
        """A count is asked ("how many", "กี่"), not a time ("how long", "นานแค่ไหน")."""
        s = self.t.s
        return (not any(tok.kind == "topic" and tok.value == "time" for tok in self.toks)
                and any(tok.kind == "filler" and s[tok.start:tok.end] in _COUNT_WORDS for tok in self.toks))

    def _words(self) -> bool:
        """Anything but punctuation?"""
        return any(any(ch.isalnum() or is_thai(ch) for ch in self.t.s[tok.start:tok.end]) for tok in self.toks)

    def _help(self) -> HelpRequest:
        self.toks = _combine(self.t, self.toks)
        kpis = [tok for tok in self.toks if tok.kind == "kpi" and tok.value in self.cat]
        spans = _unknown_spans(self.toks)
        if spans:
            cands = _candidates(self.t, self.toks, *spans[0])
            if cands:
                raise _unknown_error(self.t, self.toks, spans, cands, want_kpi=not kpis)
        return HelpRequest(topic=str(kpis[0].value) if kpis else None, lang=self.lang)  # type: ignore[arg-type]

    def _record_tokens(self) -> None:
        for tok in self.toks:
            if tok.kind in ("filler",):
                continue
            value = tok.value
            if tok.kind == "entity":
                value = [f"{e.dim}:{e.value}" for e in value]  # type: ignore[union-attr]
            elif isinstance(value, PeriodSpec):
                value = {k: v for k, v in value.__dict__.items() if v not in (None, "", 0) or k == "kind"}
            self.reading.tokens.append({"kind": tok.kind, "text": self.typed(tok), "value": value})

    # ------------------------------------------------------------ neighbours

    def _about_stages(self) -> bool:
        """The question names a stage, or stages: "stuck" deals are then the time in stage."""
        for tok in self.toks:
            if tok.kind == "dimword" and tok.value[0] == "stage":  # type: ignore[index]
                return True
            if tok.kind == "entity" and any(e.dim == "stage" for e in tok.value):  # type: ignore[union-attr]
                return True
        return False

    def _values_named_by_their_dimension(self) -> None:
        """A topic word beside its dimension's word is that value: "qualification stage" is the stage
        (not qualified leads), as "north region" is the region."""
        for k, tok in enumerate(self.toks):
            if tok.kind == "entity" and len({e.dim for e in tok.value}) > 1:  # type: ignore[union-attr]
                # "the midmarket team": a name two dimensions share, said with one's word, is that one's
                for j in self._near(k, {"dimword"}):
                    named = [e for e in tok.value if e.dim == self.toks[j].value[0]]  # type: ignore[union-attr,index]
                    if named:
                        self.toks[k] = _Tok("entity", tuple(named), tok.start, tok.end)
                        self.used.add(j)
                        if named[0].dim == "segment":
                            # "ลูกค้ากลุ่ม smb", "customers in segment smb": the customer word says the same,
                            # unless it says per whom ("revenue per customer in the smb segment")
                            self.used.update(i for i in self._near(j, {"topic"}) + self._near(k, {"topic"})
                                             if self.toks[i].value == "customers"
                                             and not (i > 0 and (self.toks[i - 1].kind == "by" or self.typed(
                                                 self.toks[i - 1]).lower() in ("per", "ต่อ", "each", "a"))))
                        break
                continue
            if tok.kind != "topic":
                continue
            for j in self._near(k, {"dimword"}):
                ents = self._topic_values(tok, {self.toks[j].value[0]})  # type: ignore[index]
                if ents:
                    self.toks[k] = _Tok("entity", ents, tok.start, tok.end)
                    break

    def _booked(self) -> None:
        """"how much did the Bangkok region book": with no KPI named, how much was booked is revenue."""
        s = self.t.s
        if "revenue" not in self.cat or any(tok.kind in ("kpi", "topic", "target") for tok in self.toks):
            return
        if not any(tok.kind == "filler" and s[tok.start:tok.end] == "how much" for tok in self.toks):
            return
        for k, tok in enumerate(self.toks):
            if tok.kind == "filler" and s[tok.start:tok.end] in ("book", "booked", "bring in", "brought in", "make", "made"):
                self.toks[k] = replace(tok, kind="kpi", value="revenue")
                return

    def _named_before(self) -> None:
        """"ทีมนี้", "that team", "the same region": a dimension's word pointing back at the value the
        question names, not a breakdown by it."""
        s = self.t.s
        for k, tok in enumerate(self.toks):
            if tok.kind != "dimword":
                continue
            dim = tok.value[0]  # type: ignore[index]
            after = s[self.toks[k + 1].start:self.toks[k + 1].end] if k + 1 < len(self.toks) else ""
            before = s[max(0, tok.start - 9):tok.start].rstrip()
            if after in ("นี้", "นั้น") or before.endswith((" this", " that", " same")) or before in ("this", "that"):
                if any(x.kind == "entity" and any(e.dim == dim for e in x.value)  # type: ignore[union-attr]
                       for x in self.toks):
                    self.used.add(k)

    def _average_rep(self) -> None:
        """"how much does each rep bring in on average", "an average rep's revenue", "เซลส์คนนึงทำรายได้เฉลี่ย":
        what one rep brings in on average is revenue per rep, not revenue by rep."""
        if "revenue_per_rep" not in self.cat:
            return
        s = self.t.s
        text = {k: s[tok.start:tok.end] for k, tok in enumerate(self.toks)}
        if not any(tok.kind == "filler" and (text[k] in _AVERAGE_WORDS or tok.value in _AVERAGE_WORDS)
                   for k, tok in enumerate(self.toks)):
            return
        reps = [k for k, tok in enumerate(self.toks)
                if (tok.kind == "dimword" and tok.value[0] == "rep")  # type: ignore[index]
                or (tok.kind == "breakdown" and tok.value == "rep" and text[k].startswith(_EACH))]
        kpis = [k for k, tok in enumerate(self.toks) if tok.kind in ("kpi", "topic", "target")]
        money = [k for k in kpis if self.toks[k].value == "revenue" or (
            self.toks[k].kind == "topic" and words.TOPICS[str(self.toks[k].value)][0] == "revenue")]
        brings = any(tok.kind == "filler" and text[k] in _BRING_IN for k, tok in enumerate(self.toks))
        if not reps or kpis != money or not (money or brings):
            return
        for k in money + reps[1:]:
            self.toks[k] = replace(self.toks[k], kind="filler")
        for k in reps:  # "เซลส์หนึ่งคน", "one rep": the one is the average rep
            for j in (k - 1, k + 1):
                if 0 <= j < len(self.toks) and self.toks[j].kind == "number" and text[j] in ("1", "one", "หนึ่ง"):
                    self.toks[j] = replace(self.toks[j], kind="filler")
        self.toks[reps[0]] = replace(self.toks[reps[0]], kind="kpi", value="revenue_per_rep")

    def _teams_named_by_a_rep(self) -> None:
        """"Jeab's team", "ทีมพี่เจี๊ยบ", "ทีมของนก": the team a rep (or their manager) is in."""
        toks, s = self.toks, self.t.s
        for k, tok in enumerate(toks):
            if tok.kind != "dimword" or tok.value[0] != "team":  # type: ignore[index]
                continue
            before = k - 1
            while before >= 0 and toks[before].kind == "filler" and s[toks[before].start:toks[before].end] in ("'", "’", "s"):
                before -= 1
            after = k + 1
            while after < min(len(toks), k + 3) and toks[after].kind == "filler":  # ของ, พี่, คุณ
                after += 1
            if before >= 0 and not is_thai(s[tok.start]):
                j = before  # Jeab's team, noks team, jeab team: a person's name (checked below) before "team"
            elif self.lang == "th" and after < len(toks) and is_thai(s[tok.start]):
                j = after  # ทีมพี่เจี๊ยบ
            else:
                continue
            owner = toks[j]
            if owner.kind != "entity" or any(e.dim != "rep" for e in owner.value):  # type: ignore[union-attr]
                if j == after and j > k + 1 and all(s[x.start:x.end] in ("พี่", "ของพี่") for x in toks[k + 1:j]):
                    # "ทีมพี่" with no name after it: the one speaking calls themself พี่, so their own team
                    self.toks[k:j] = [_Tok("mine", "team", tok.start, toks[j - 1].end)]
                    return
                continue
            teams = {(self.t.lex.reps.get(e.value) or RepEntry(e.value)).team for e in owner.value}  # type: ignore[union-attr]
            if len(teams) != 1 or None in teams:
                continue
            team = str(teams.pop())
            ent = self.t.lex.value_by_text("team", team) or Entity("team", team, team)
            a, b = sorted((j, k))
            self.toks[a:b + 1] = [_Tok("entity", (ent,), toks[a].start, toks[b].end)] + [
                _Tok("filler", None, x.start, x.end) for x in toks[a + 1:b + 1]]
            return

    def _topic_values(self, tok: _Tok, dims: set[str] | tuple[str, ...]) -> tuple[Entity, ...]:
        """The values of these dimensions that a topic word names too, as typed (none: not a value)."""
        found = self.t.lex.match(self.t.s[:tok.end], tok.start)
        if found is None or found[0] != tok.end:
            return ()
        return tuple(e for e in found[1] if e.dim in dims)

    def _asked_by(self) -> set[str]:
        """The dimensions a breakdown or a "which …" asks for."""
        return {str(tok.value) for tok in self.toks if tok.kind in ("breakdown", "which")}

    def _fits(self, families: set[str], dims: set[str], by: set[str]) -> list[str]:
        """The KPIs of all these topic families that can be filtered by dims and broken down by `by`."""
        return [k for k, spec in self.cat.items()
                if families <= _families(spec) and dims <= set(spec.filters) and by <= set(spec.breakdowns)]

    def _near(self, k: int, kinds: set[str], span: int = 1) -> list[int]:
        """Indexes of tokens of these kinds right before or after token k (chat words skipped)."""
        out = []
        for step in (-1, 1):
            j, seen = k + step, 0
            while 0 <= j < len(self.toks) and seen < span:
                tok = self.toks[j]
                if tok.kind in _ATTACH or (tok.kind == "mine" and "dimword" in kinds):
                    j += step
                    continue
                if tok.kind in kinds and j not in self.used:
                    out.append(j)
                seen += 1
                j += step
        return out

    # ------------------------------------------------------------ entities

    def _entities(self) -> list[tuple[int, list[Entity]]]:
        """Entity tokens (mentions included) with what the words around them allow."""
        out: list[tuple[int, list[Entity]]] = []
        lex = self.t.lex
        for k, tok in enumerate(self.toks):
            if tok.kind == "mention":
                rid = lex.rep_for_slack(str(tok.value))
                ents = [Entity("rep", rid, lex.rep_label(rid), EXACT)] if rid else \
                    [Entity("rep", "@" + str(tok.value), "@" + str(tok.value), EXACT)]
                out.append((k, ents))
            elif tok.kind == "entity":
                ents = list(tok.value)  # type: ignore[arg-type]
                dims = {e.dim for e in ents}
                for j in self._near(k, {"dimword"}):
                    d = self.toks[j].value[0]  # type: ignore[index]
                    if d in dims:
                        ents = [e for e in ents if e.dim == d]
                        self.used.add(j)
                        break
                if len({e.dim for e in ents}) > 1 and "segment" in dims:
                    for j in self._near(k, {"topic"}):
                        if self.toks[j].value == "customers":
                            ents = [e for e in ents if e.dim == "segment"]
                            self.used.add(j)
                            break
                    else:
                        # "ความพึงพอใจลูกค้า smb": the customer word is part of the KPI's own name
                        if any(self.toks[j].kind == "kpi" and any(
                                w in self.typed(self.toks[j]).lower() for w in words.SEGMENT_CONTEXT)
                               for j in (k - 1, k + 1) if 0 <= j < len(self.toks)):
                            ents = [e for e in ents if e.dim == "segment"]
                if all(e.dim != "segment" for e in ents) and k > 0 \
                        and self.toks[k - 1].kind == "kpi" and self.toks[k - 1].end == tok.start \
                        and self.typed(self.toks[k - 1]).endswith("ลูกค้า"):
                    # "ความพึงพอใจของลูกค้าองค์กร": the KPI's name took the ลูกค้า of "ลูกค้าองค์กร", a segment
                    seg = [e for e in self.t.lex.phrases.get(fold("ลูกค้า" + self.typed(tok)), ()) if e.dim == "segment"]
                    ents = seg or ents
                if len({e.dim for e in ents}) > 1 and "team" in dims and any(
                        self.typed(self.toks[j]).lower().strip() in words.PEOPLE_WORDS
                        for j in (k - 1, k + 1) if 0 <= j < len(self.toks)):
                    ents = [e for e in ents if e.dim == "team"]  # "the enterprise guys" are people: a team
                out.append((k, ents))
        return out

    # ------------------------------------------------------------ KPI

    def _kpi(self, ents: list[tuple[int, list[Entity]]]) -> KpiSpec:
        toks = self.toks
        # a KPI name that is also a topic word ("revenue", "deals", "ลีด") is weak: beside a KPI of its
        # family it only repeats it ("rev growth"); alone it still names its KPI
        named = [tok for tok in toks if tok.kind == "kpi" and self.t.s[tok.start:tok.end] not in _TOPIC_WORDS]
        for k, tok in enumerate(toks):
            if tok.kind == "kpi" and self.t.s[tok.start:tok.end] in _TOPIC_WORDS:
                if named and k > 0 and self.t.s[toks[k - 1].start:toks[k - 1].end] in _COUNT_WORDS and any(
                        self.t.s[x.start:x.end] in _ADDING for x in toks[:k - 1]):
                    continue  # "win rate and how many deals we closed": the deals counted are a KPI of their own
                toks[k] = replace(tok, kind="topic", value=_TOPIC_WORDS[self.t.s[tok.start:tok.end]])
        if any(tok.kind == "kpi" and tok.value in self.cat and tok.value not in ("revenue", "deals_closed")
               for tok in toks) and not any(tok.kind == "topic" and tok.value in ("revenue", "money") for tok in toks):
            for k, tok in enumerate(toks):  # "is win rate up or down vs last month": how it moved, not revenue's growth
                if tok.kind == "topic" and tok.value == "growth" and self.t.s[tok.start:tok.end] in _EITHER_WAY:
                    toks[k] = replace(tok, kind="filler", value=None)
        strong = [(k, tok) for k, tok in enumerate(toks) if tok.kind == "kpi" and tok.value in self.cat]
        weak = [(k, tok) for k, tok in enumerate(toks) if tok.kind == "topic" and k not in self.used]
        keys = list(dict.fromkeys(str(tok.value) for _, tok in strong))
        if not keys and not weak and "target_attainment" in self.cat and any(
                tok.kind == "target" or (tok.kind == "rank" and _TARGET_RANK_RE.search(self.t.s[tok.start:tok.end]))
                for tok in toks):
            # "vs target" alone, "who is furthest from target"; after another KPI it adds nothing
            keys = ["target_attainment"]
        families = list(dict.fromkeys(str(tok.value) for _, tok in weak))
        if (len(keys) == 2 and "deals_closed" in keys and not self._joins_another()
                and not self._said(_COUNT_WORDS | _ADDING | {"&", "+", "กับ", ","})
                and set(keys) - {"deals_closed"} <= _OVER_WON_DEALS):
            # "avg sales cycle for ERP deals won last quarter": the won deals are what it is measured over
            keys = [k for k in keys if k != "deals_closed"]
        if (keys == ["deals_closed"] and families == ["revenue"] and self._said(_COUNT_WORDS)
                and all(self.t.s[tok.start:tok.end] in _BOOKED for _, tok in weak)):
            families = []  # "how many won deals were booked": counted, not their money
        if len(keys) > 1:
            raise self._two_kpis(keys)
        if strong:
            self.name = self.typed(strong[0][1])  # as typed, so "cac" stays "cac" in a reply
        # a count asked as a share of what it counts is the ratio: "ดีลที่ปิดไปแล้วเราชนะกี่เปอร์เซ็นต์" (of
        # closed deals, the share won), "what share of my leads got qualified"
        ratio = next((r for (count, topic), r in _SHARE_OF.items() if keys == [count] and any(
            tok.kind == "topic" and tok.value == topic for tok in toks)), None)
        if ratio in self.cat and _PROPORTION_RE.search(self.t.s):
            keys = [ratio]
        if ("revenue" in self.cat and (keys == ["deals_closed"] or (not keys and "deals" in families))
                and {"money", "revenue"} & set(families) and set(families) <= {"money", "revenue", "deals"}
                and not self._said(_COUNT_WORDS | _ADDING) and not self._joins_another()
                and not any(tok.kind == "kpi" and self.t.s[tok.start:tok.end].startswith(tuple(_COUNT_WORDS))
                            for tok in toks)):
            # the money won deals brought in is revenue ("how much money did the deals we won bring in",
            # "ดีลที่ปิดชนะ รวมเป็นเงินเท่าไหร่"); averaged over them, it is the deal size
            avg = self._said(_AVERAGE_WORDS) and "avg_deal_size" in self.cat
            keys, families = ["avg_deal_size" if avg else "revenue"], []
        if ("target_attainment" in self.cat and (keys == ["revenue"] or (not keys and families == ["revenue"]))
                and any(tok.kind == "target" for tok in toks)
                and (any(tok.kind == "rank" for tok in toks) or _PERCENT_RE.search(self.t.s))):
            # "ใครทำยอดเทียบเป้าได้ต่ำสุด", "lowest revenue vs target", "ยอดผมเทียบเป้าได้กี่ %": ranked against the
            # target, or as a share of it, is attainment
            keys, families = ["target_attainment"], []
        if keys == ["deals_closed"] and "avg_deal_size" in self.cat and "size" in families:
            keys = ["avg_deal_size"]  # "ปิดดีลได้เฉลี่ยดีลละกี่บาท": what each closed deal is worth
            families = [f for f in families if f != "size"]
        if keys:
            key = self._timed(keys[0], ents)
            fam = _families(self.cat[key])
            families = self._values_for(self.cat[key], families, fam)
            other = [f for f in families if f not in fam]
            if other:
                alt = _family_default(other[0], self.cat)
                if alt and alt != key:
                    raise self._two_kpis([key, alt])
                word = next(self.typed(tok) for _, tok in weak if tok.value == other[0])
                raise self.err(f'"{_q(word)}" does not go with {self.cat[key].name_en}: ask about one KPI.',
                               f'"{_q(word)}" ไม่เกี่ยวกับ{self.cat[key].name_th} ถามทีละ KPI', word=word)
            return self.cat[key]
        if families:
            return self._from_topics(families, ents)
        return self._inferred(ents)

    def _joins_another(self) -> bool:
        """"ยอดขายกับจำนวนดีล", "revenue & deals": a joining word right before another KPI or topic word
        ("ตกลงซื้อกับเรา", with us, joins nothing)."""
        for k, tok in enumerate(self.toks[:-1]):
            if self.t.s[tok.start:tok.end] in ("กับ", "&", "+") and self.toks[k + 1].kind in ("kpi", "topic"):
                return True
        return False

    def _said(self, phrases: frozenset[str]) -> bool:
        """Whether a word or phrase of `phrases` stands as one of the question's tokens."""
        return any(self.t.s[tok.start:tok.end] in phrases for tok in self.toks)

    def _values_for(self, spec: KpiSpec, families: list[str], fam: set[str]) -> list[str]:
        """A topic word of another family that is a value this KPI filters by is that value: "ค้างอยู่ในขั้น
        qualification" is the stage for the time in stage, not qualified leads."""
        for k, tok in enumerate(self.toks):
            if tok.kind != "topic" or tok.value in fam or k in self.used:
                continue
            ents = self._topic_values(tok, spec.filters)
            if ents:
                self.toks[k] = _Tok("entity", ents, tok.start, tok.end)
                self.late.append((k, list(ents)))
        left = {str(tok.value) for k, tok in enumerate(self.toks) if tok.kind == "topic" and k not in self.used}
        return [f for f in families if f in left]

    def _timed(self, key: str, ents: list[tuple[int, list[Entity]]]) -> str:
        """A count ranked by how long it takes is the time of the same things: "ใครปิดดีลนานที่สุด" (who
        closes deals slowest) is the sales cycle by rep, when one KPI of that topic is a time and fits."""
        fam = _families(self.cat[key])
        if "time" in fam or not any(tok.kind == "rank" and fold(self.typed(tok)) in words.SPEED_RANKS
                                    for tok in self.toks):
            return key
        topic = fam - {"revenue", "money"}
        fits = self._fits(topic | {"time"}, self._filter_dims(ents), self._asked_by()) if topic else []
        if len(fits) > 1:  # the time's own KPI among them (deals: the sales cycle)
            fits = [k for k in fits if k == _family_default("time", self.cat)]
        return fits[0] if len(fits) == 1 else key

    def _two_kpis(self, keys: list[str]) -> QueryError:
        names = [self.cat[k].name(self.lang) for k in keys[:3]]
        choices = [(n, self._question_with_kpi(k)) for n, k in zip(names, keys[:3], strict=True)]
        return self.err(f"One KPI at a time, please: {' or '.join(names)}?",
                        f"ถามได้ครั้งละหนึ่ง KPI: {' หรือ '.join(names)}?", choices=choices, suggestions=names)

    def _question_with_kpi(self, key: str) -> str:
        """The question with every KPI or topic word replaced by one KPI's name (a choice's button)."""
        parts, put = [], False
        for tok in self.toks:
            if tok.kind in ("kpi", "topic", "target"):
                if not put:
                    parts.append(self.cat[key].name(self.lang))
                    put = True
                continue
            parts.append(self.typed(tok))
        return " ".join(p for p in parts if p)

    def _from_topics(self, families: list[str], ents: list[tuple[int, list[Entity]]]) -> KpiSpec:
        """Topic words only: the one KPI of their families that fits the rest of the question."""
        for family, ranks in (("time", words.SPEED_RANKS), ("costs", words.PRICE_RANKS)):
            if family not in families and any(tok.kind == "rank" and fold(self.typed(tok)) in ranks
                                              for tok in self.toks):
                families = [*families, family]  # "which channel qualifies leads fastest": a time
        if "growth" in families and "time" in families:
            families = [f for f in families if f != "time"]  # "how fast is revenue growing": its growth
        if "pipeline" in families and "time" in families:
            # "how fast do deals (does money) move through the pipeline": its velocity; without a time
            # word, deals or money in the pipeline are the open pipeline, which is not a KPI here
            families = [f for f in families if f not in ("deals", "revenue")]
        if set(families) == {"money"} and "revenue" in self.cat and any(
                tok.kind == "filler" and self.t.s[tok.start:tok.end] in _BRING_IN for tok in self.toks):
            return self.cat["revenue"]  # "how much money did we bring in": money brought in is revenue
        dims = self._filter_dims(ents)
        defaults = [d for f in families if (d := _family_default(f, self.cat))]
        # "how long do deals sit in each stage": time in stage
        fits = self._fits(set(families), dims, self._asked_by())
        if _PROPORTION_RE.search(self.t.s):
            # "what share of deals do we win", "ลีดกี่เปอร์เซ็นต์": of the KPIs that fit, the ratios
            ratios = [k for k in fits if self.cat[k].unit == "ratio"]
            if len(ratios) == 1:
                return self.cat[ratios[0]]
        if (fits == ["aov"] and not {"size", "orders"} & set(families) and not self._said(_AVERAGE_WORDS)
                and "customers" in families):
            # "revenue from new customers": no KPI narrows revenue to some customers; the order value is
            # asked with an order or an average ("how much does a customer spend per order")
            word = next(self.typed(tok) for tok in self.toks if tok.kind == "topic" and tok.value == "customers")
            raise self.err(f'"{_q(word)}": revenue cannot be narrowed to some customers; ask "revenue by segment", '
                           f'"average order value" or "repeat rate".',
                           f'"{_q(word)}": ยอดขายแยกเฉพาะลูกค้าบางกลุ่มแบบนี้ไม่ได้ ลองถาม "ยอดขายแยกตามกลุ่มลูกค้า" '
                           f'"มูลค่าเฉลี่ยต่อออเดอร์" หรือ "อัตราการซื้อซ้ำ"', word=word)
        pick = [k for k in dict.fromkeys(defaults) if k in fits]
        if _ASKED_BACK & set(families) and len(fits) > 1:
            pick = []  # "start to finish": from the deal's opening or the lead's? asked, not guessed
        if len(pick) == 1:
            return self.cat[pick[0]]
        if len(fits) == 1:
            return self.cat[fits[0]]
        if not fits and len(set(defaults)) == 1:
            return self.cat[defaults[0]]  # the filters that do not fit are refused by name below
        options = list(dict.fromkeys([*pick, *fits, *defaults]))[:3]
        words_typed = [self.typed(tok) for tok in self.toks if tok.kind == "topic"]
        if not options:
            raise self.err(f'Which KPI do you mean by "{_q(" ".join(words_typed))}"? Try /kpi list.',
                           f'"{_q(" ".join(words_typed))}" หมายถึง KPI ตัวไหน? ลองพิมพ์ /kpi list',
                           word=" ".join(words_typed))
        names = [self.cat[k].name(self.lang) for k in options]
        choices = [(n, self._question_with_kpi(k)) for n, k in zip(names, options, strict=True)]
        return_err = self.err(f'Which one do you mean by "{_q(" ".join(words_typed))}": {", ".join(names)}?',
                              f'"{_q(" ".join(words_typed))}" หมายถึงตัวไหน: {", ".join(names)}?',
                              word=" ".join(words_typed), suggestions=names, choices=choices)
        raise return_err

    def _filter_dims(self, ents: list[tuple[int, list[Entity]]]) -> set[str]:
        dims = {tok.value[0] for tok in self.toks if tok.kind == "filter"}  # type: ignore[index]
        for _, es in ents:
            ds = {e.dim for e in es}
            if len(ds) == 1:
                dims |= ds
        return dims

    def _inferred(self, ents: list[tuple[int, list[Entity]]]) -> KpiSpec:
        """No KPI word: one that the filters or the ranking leave no doubt about, or a question back."""
        dims = self._filter_dims(ents)
        specific = dims & {"type", "action", "stage"}
        if specific:
            fits = [k for k, spec in self.cat.items() if dims <= set(spec.filters)]
            if len(fits) == 1:
                self.reading.assumptions.append({"code": "kpi_from_filter", "kpi": fits[0]})
                return self.cat[fits[0]]
        ranking = any(tok.kind in ("rank", "which") for tok in self.toks)
        by = self._asked_by()
        by |= {str(tok.value[0]) for k, tok in enumerate(self.toks)  # type: ignore[index]
               if ranking and tok.kind == "dimword" and k not in self.used}  # "smb team" is a filter
        if ranking and len(by) == 1 and not ("revenue" in self.cat and by <= set(self.cat["revenue"].breakdowns)):
            # "which stage takes the longest": the one KPI that can rank stages; of several, asked back
            fits = self._fits(set(), dims, by)
            if len(fits) == 1:
                self.reading.assumptions.append({"code": "kpi_for_ranking", "kpi": fits[0]})
                return self.cat[fits[0]]
            if fits:
                names = [self.cat[k].name(self.lang) for k in fits[:3]]
                typed = self.t.typed(0, len(self.t.s)).strip()
                raise self.err(f"Ranked by which KPI: {', '.join(names)}?",
                               f"จัดอันดับด้วย KPI ตัวไหน: {', '.join(names)}?", suggestions=names,
                               choices=[(n, f"{n} {typed}") for n in names])
        if ranking and "revenue" in self.cat:
            self.reading.assumptions.append({"code": "kpi_for_ranking", "kpi": "revenue"})
            return self.cat["revenue"]
        named = [self.typed(self.toks[k]) for k, _ in ents]
        if named:
            raise self.err(f'Which KPI for "{_q(named[0])}"? e.g. "revenue {named[0]} this month"; try /kpi list.',
                           f'ต้องการดู KPI ตัวไหนของ "{_q(named[0])}"? เช่น "ยอดขาย {named[0]} เดือนนี้" '
                           f"ลองพิมพ์ /kpi list")
        raise self.err('Which KPI? Start with one, e.g. "win rate last quarter"; try /kpi list.',
                       'ต้องการดู KPI ตัวไหน? เช่น "รายได้ เดือนนี้" ลองพิมพ์ /kpi list เพื่อดูรายการ')

    def _absorb_per_rep(self, spec: KpiSpec) -> None:
        """"activities per rep", "รายได้ต่อคน": per rep is the KPI's own definition, not a breakdown."""
        if spec.key in words.RATED_BY_REPS:
            self.used.update(k for k, tok in enumerate(self.toks)
                             if tok.kind == "dimword" and tok.value[0] == "rep")  # type: ignore[index]
        if spec.key == "stage_duration" and not any(tok.kind in ("rank", "which", "whichword") for tok in self.toks):
            # "ดีลค้างอยู่ในขั้นตอนการขายนานเท่าไหร่": the stages are the KPI's own; "slowest stage" ranks them
            self.used.update(k for k, tok in enumerate(self.toks)
                             if tok.kind == "dimword" and tok.value[0] == "stage")  # type: ignore[index]
        if spec.key not in words.PER_REP_KPIS:
            return
        for k, tok in enumerate(self.toks):
            if tok.kind == "dimword" and tok.value[0] == "rep":  # type: ignore[index]
                self.used.add(k)  # "เซลส์ทำกิจกรรมกี่ครั้ง", "how busy were the reps": who the KPI is about
            if tok.kind == "breakdown" and tok.value == "rep" and self.t.s[tok.start:tok.end].startswith(
                    ("per ", "per", "ต่อ")):
                self.used.add(k)

    # ------------------------------------------------------------ filters

    def _filters(self, spec: KpiSpec, ents: list[tuple[int, list[Entity]]]) -> tuple[dict[str, str], str | None]:
        out: dict[str, str] = {}
        shown: dict[str, str] = {}
        lex = self.t.lex
        for tok in self.toks:
            if tok.kind != "filter":
                continue
            dim, value = tok.value  # type: ignore[misc]
            value = str(value)
            if dim == "rep":
                if value.startswith("@"):
                    rid = lex.rep_for_slack(value[1:])
                    value = rid or value
                else:
                    reps = lex.rep_by_text(value)
                    if len({e.value for e in reps}) == 1:
                        value = reps[0].value
                    elif len(visible_only(list(reps), self.t.opts.visible)) > 1:
                        raise self._ambiguous(value, tok, list(reps))  # rep:somsak, two Somsaks: ask which
            else:
                e = lex.value_by_text(dim, value)
                if e is not None and e.in_store:
                    value = e.value
            self._put(spec, out, shown, dim, value, f"{dim}:{value}")
        for k, es in ents:
            tok = self.toks[k]
            typed = self.typed(tok)
            allowed = [e for e in es if e.dim in spec.filters]
            if not allowed:
                dims = ", ".join(dict.fromkeys(dim_word(e.dim, self.lang) for e in es))
                raise self.err(f'{_q(self.name)} cannot be filtered by {dims} ("{_q(typed)}"); it can be '
                               f"filtered by {_dims_text(spec.filters, 'en') or 'nothing'}.",
                               f'{_q(self.name)} กรองตาม{dims}ไม่ได้ ("{_q(typed)}")'
                               + (f" กรองได้ตาม: {_dims_text(spec.filters, 'th')}" if spec.filters else ""),
                               word=typed)
            distinct = list(dict.fromkeys((e.dim, e.value) for e in allowed))
            if len(distinct) > 1:
                raise self._ambiguous(typed, tok, allowed)
            e = allowed[0]
            self.reading.entities.append({"text": typed, "dim": e.dim, "value": e.value, "label": e.label})
            self._put(spec, out, shown, e.dim, e.value, typed)
        mine = None
        for k, tok in enumerate(self.toks):
            if tok.kind == "mine":
                m = str(tok.value)
                nxt = self._next_content(k)
                after = self.toks[nxt] if nxt is not None else None
                if m == "rep" and after is not None and (
                        after.kind == "rank" or (after.kind == "dimword" and after.value[0] == "rep")  # type: ignore[index]
                        or (after.kind == "breakdown" and after.value == "rep")):
                    m = "team"  # "my reps", "my top 3 reps": the asker's team
                if mine is not None and mine != m:
                    mine = "rep" if "rep" in (mine, m) else m
                else:
                    mine = m
        if mine == "rep" and "rep" not in spec.filters:
            raise self.err(f"{spec.name_en} is not counted per rep, so there is no “my” figure; ask for "
                           f"the total.", f"{spec.name_th} ไม่ได้คิดรายคน จึงไม่มีตัวเลขของคุณ ลองดูยอดรวม")
        if mine == "team" and "team" not in spec.filters:
            raise self.err(f"{spec.name_en} is not counted per team; ask for the total.",
                           f"{spec.name_th} ไม่ได้คิดรายทีม ลองดูยอดรวม")
        if mine == "rep" and "rep" in out:
            raise self.err("“my” and another rep in one question: ask about one of them.",
                           "ถามถึงของคุณและของตัวแทนขายอีกคนพร้อมกันไม่ได้ เลือกอย่างใดอย่างหนึ่ง")
        if mine == "team" and "team" in out:
            raise self.err("“my team” and another team in one question: ask about one of them.",
                           "ถามถึงทีมของคุณและทีมอื่นพร้อมกันไม่ได้ เลือกอย่างใดอย่างหนึ่ง")
        return out, mine

    def _put(self, spec: KpiSpec, out: dict[str, str], shown: dict[str, str], dim: str, value: str,
             typed: str) -> None:
        if dim not in spec.filters:
            raise self.err(f"{_q(self.name)} cannot be filtered by {dim}"
                           + (f"; it can be filtered by {_dims_text(spec.filters, 'en')}." if spec.filters else "."),
                           f"{_q(self.name)} กรองตาม{dim_word(dim, 'th')}ไม่ได้"
                           + (f" กรองได้ตาม: {_dims_text(spec.filters, 'th')}" if spec.filters else ""),
                           word=dim)
        if dim in out and out[dim] != value:
            by = f"by {dim}" if self.lang == "en" else f"แยกตาม{dim_word(dim, 'th')}"
            raise self.err(f"One value per filter, please: {_q(shown[dim])} or {_q(typed)}? To see each, "
                           f"ask {by}.",
                           f"ระบุ{dim_word(dim, 'th')}ได้ค่าเดียว: {_q(shown[dim])} หรือ {_q(typed)} "
                           f"ถ้าต้องการดูทุกค่า ลองถาม{by}", suggestions=[by])
        out[dim] = value
        shown[dim] = typed

    def _ambiguous(self, typed: str, tok: _Tok, ents: list[Entity]) -> QueryError:
        """One word, several things: ask which, naming only reps this person may see."""
        visible = visible_only(ents, self.t.opts.visible)
        names = self.t.lex.names
        labels = []
        for e in visible[:3]:
            if e.dim == "rep":
                labels.append(e.label)
            else:
                shown = names.display(e.dim, e.value, self.lang) if names else e.label
                labels.append(f"{dim_word(e.dim, self.lang)} {shown}")
        choices = []
        for e, label in zip(visible[:3], labels, strict=True):
            repl = f"{e.dim}:{_quoted(e.value)}"
            choices.append((label, _replaced(self.t, (tok.start, tok.end), repl)))
        if len(visible) < 2:
            return self.err(f'"{_q(typed)}" names {len(ents)} things; say which (e.g. rep:ID, team:NAME).',
                            f'"{_q(typed)}" ตรงกับหลายรายการ ระบุให้ชัด เช่น rep:รหัส หรือ team:ชื่อ', word=typed)
        more = len(visible) - len(labels)
        tail_en = f" (and {more} more: use the full name)" if more > 0 else ""
        tail_th = f" (และอีก {more} รายการ พิมพ์ชื่อเต็ม)" if more > 0 else ""
        return self.err(f'"{_q(typed)}" could be {" or ".join(labels)}{tail_en}: which one?',
                        f'"{_q(typed)}" หมายถึง {" หรือ ".join(labels)}{tail_th}?', word=typed,
                        suggestions=labels, choices=choices)

    # ------------------------------------------------------------ periods and comparison

    def _periods(self, spec: KpiSpec) -> tuple[PeriodSpec | None, str, PeriodSpec | None]:
        toks = self.toks
        main: list[tuple[int, PeriodSpec]] = []
        versus: list[tuple[int, PeriodSpec]] = []
        compares: set[str] = set()
        over: str | None = None
        for k, tok in enumerate(toks):
            if tok.kind == "period":
                spec_p = tok.value
                assert isinstance(spec_p, PeriodSpec)
                if spec_p.future:
                    raise self.err(f'"{_q(self.typed(tok))}" is in the future: I can only answer for periods '
                                   "that have started.",
                                   f'"{_q(self.typed(tok))}" ยังมาไม่ถึง ถามได้เฉพาะช่วงเวลาที่เริ่มแล้ว',
                                   word=self.typed(tok))
                if spec_p.kind == "current":
                    spec_p = replace(spec_p, text=self.typed(tok))
                if spec_p.kind in ("current", "key") and spec_p.fiscal_start != self.t.opts.fiscal_year_start_month \
                        and (spec_p.grain == "fiscal_year" or (spec_p.key or "").upper().startswith("FY")):
                    spec_p = replace(spec_p, fiscal_start=self.t.opts.fiscal_year_start_month)
                (versus if self._after_vs(k) else main).append((k, spec_p))
            elif tok.kind == "compare":
                compares.add(str(tok.value))
            elif tok.kind == "over":
                over = str(tok.value)
                compares.add("previous")
        for k, tok in enumerate(toks):
            if tok.kind == "vs" and not any(j > k for j, _ in versus):
                nxt = self._next_content(k)
                if nxt is not None and toks[nxt].kind in ("entity", "mention"):
                    raise self.err(f'Comparing "{_q(self.typed(toks[nxt]))}" with another value is not something '
                                   "I can do in one answer; ask for a breakdown instead.",
                                   f'เทียบ "{_q(self.typed(toks[nxt]))}" กับค่าอื่นในคำตอบเดียวไม่ได้ ลองถามแบบแยกตาม…แทน',
                                   word=self.typed(toks[nxt]))
        period = self._one(main)
        if over and period is None:
            period = PeriodSpec("current", grain=over)
        if period is None:
            # "… compare same quarter last year", "เทียบเดือนเดียวกันปีที่แล้ว": this quarter, this month
            for tok in toks:
                grain = _unit_said(self.t.s[tok.start:tok.end]) if tok.kind == "compare" else None
                if grain is not None:
                    period = PeriodSpec("current", grain=grain)
                    break
        for tok in toks:
            said = self.t.s[tok.start:tok.end]
            unit = _same_unit(said) if tok.kind == "compare" else None
            grain = _spec_grain(period) if period is not None and unit is not None else None
            if unit is not None and period is not None and (grain != unit if grain is not None
                                                            else period.kind in ("since", "range")):
                # "this week vs the same time last month": the previous period is of the period's own kind
                raise self.err(f'"{_q(self.typed(tok))}" with "{_q(period.text)}": I compare a period with the one '
                               "before it of the same kind, or with two periods you name "
                               '("this week vs last week", "Nov 1-18 vs Oct 1-18").',
                               f'"{_q(self.typed(tok))}" กับ "{_q(period.text)}": เทียบได้กับช่วงก่อนหน้าแบบเดียวกัน '
                               'หรือระบุสองช่วงเอง เช่น "สัปดาห์นี้ เทียบ สัปดาห์ที่แล้ว"', word=self.typed(tok))
        trend = next((tok for tok in toks if tok.kind == "trend"), None)
        if trend is not None:
            grain = str(trend.value)
            if period is None:
                period = PeriodSpec("current", grain=grain)  # "monthly revenue": this month, with the trend
            else:
                p_grain = _spec_grain(period)
                if p_grain is not None and _GRAIN_ORDER.get(grain, 9) < _GRAIN_ORDER.get(p_grain, 0):
                    self.trend = grain  # "monthly revenue this year": the months of this year
                elif p_grain is None and _span_holds(period, grain):
                    self.trend = grain  # "month by month since july", "รายวัน ตั้งแต่ 1 พ.ย."
                elif p_grain != grain:
                    raise self.err(f'"{_q(self.typed(trend))}" with "{_q(period.text)}": the trend follows the '
                                   f'period asked for; ask e.g. "revenue this {grain} chart".',
                                   f'"{_q(self.typed(trend))}" กับ "{_q(period.text)}": กราฟแนวโน้มเป็นไปตามช่วงเวลาที่ถาม '
                                   f'ลองถามเช่น "รายได้ เดือนนี้ กราฟ"')
        compare_period = self._one(versus) if versus else None
        if len(compares) > 1:
            raise self.err("Compare with the previous period or with last year, not both.",
                           "เลือกเทียบกับช่วงก่อนหรือปีก่อนอย่างใดอย่างหนึ่ง")
        compare = "yoy" if compares == {"yoy"} else "previous"
        if compare_period is not None:
            if compares:
                raise self.err("One comparison at a time, please.", "เทียบได้ทีละแบบ")
            if period is None and compare_period.kind == "current" and compare_period.offset == -1 \
                    and compare_period.grain != spec.default_grain:
                # "win rate vs last quarter": this quarter so far against the last one
                period = PeriodSpec("current", grain=compare_period.grain, text=compare_period.text)
            compare, compare_period = self._compare_with(period, compare_period)
        return period, compare, compare_period

    def _next_content(self, k: int) -> int | None:
        for j in range(k + 1, len(self.toks)):
            if self.toks[j].kind not in _QUIET:
                return j
        return None

    def _after_vs(self, k: int) -> bool:
        for j in range(k - 1, -1, -1):
            kind = self.toks[j].kind
            if kind in _QUIET:
                continue
            return kind == "vs"
        return False

    def _one(self, found: list[tuple[int, PeriodSpec]]) -> PeriodSpec | None:
        if not found:
            return None
        specs = [sp for _, sp in found]
        whole = [sp for sp in specs if WHOLE_YEAR.fullmatch(fold(sp.text))]
        if whole and len(whole) < len(specs) and all(_spec_grain(sp) in ("year", "fiscal_year")
                                                     for sp in specs if sp not in whole):
            specs = [sp for sp in specs if sp not in whole]  # "ปีที่แล้วทั้งปี", "2025 full year": that year
        distinct = {replace(sp, text="") for sp in specs}  # "this year ytd" says one thing twice
        if len(distinct) > 1:
            first = replace(specs[0], text="")
            a, b = specs[0].text, next(sp.text for sp in specs if replace(sp, text="") != first)
            raise self.err(f'Only one period, please: I found "{_q(a)}" and "{_q(b)}".',
                           f'ระบุช่วงเวลาได้ช่วงเดียว: พบ "{_q(a)}" และ "{_q(b)}"')
        spec = specs[0]
        if spec.kind == "key" and not (spec.key or "").upper().startswith("FY") and "-H" not in (spec.key or ""):
            try:  # the patterns validate already; this keeps parser and engine agreeing on keys
                periods.parse_period_key(spec.key or "")
            except periods.PeriodError:
                raise self.err(f'"{_q(spec.text)}" is not a real period.', f'"{_q(spec.text)}" ไม่ใช่ช่วงเวลาที่มีจริง',
                               word=spec.text) from None
        return spec

    def _compare_with(self, period: PeriodSpec | None, other: PeriodSpec) -> tuple[str, PeriodSpec | None]:
        """"vs last month" after this month is the usual like-for-like previous period; any other
        period after "vs" is compared with as named."""
        if period is not None and replace(period, text="") == replace(other, text=""):
            return "previous", None  # "last quarter vs the previous quarter": the one before it
        if other.kind == "current" and (period is None or (period.kind == "current" and period.grain == other.grain)):
            base_offset = period.offset if period is not None else 0
            if period is None or other.offset == base_offset - 1:
                if period is not None or other.offset == -1:
                    return "previous", None
        return "period", other

    # ------------------------------------------------------------ breakdown and ranking

    def _breakdown(self, spec: KpiSpec, filters: dict[str, str]) -> tuple[str | None, Rank | None]:
        toks = self.toks
        dims: list[tuple[str, str]] = []  # (dim, typed)
        for k, tok in enumerate(toks):
            if k in self.used:
                continue
            if tok.kind in ("breakdown", "which"):
                dims.append((str(tok.value), self.typed(tok)))
        ranks = [(k, tok) for k, tok in enumerate(toks) if tok.kind == "rank"]
        dimwords = [(k, tok) for k, tok in enumerate(toks) if tok.kind == "dimword" and k not in self.used]
        plural = False
        if ranks or dims:
            for k, tok in dimwords:
                dim, pl = tok.value  # type: ignore[misc]
                dims.append((dim, self.typed(tok)))
                plural = plural or pl
                self.used.add(k)
        if ranks and not dims:
            if any(tok.value[0] == "list" and self.t.s[tok.start:tok.end].startswith("leader")
                   for _, tok in ranks) or "rep" in spec.breakdowns:
                dims.append(("rep", ""))
                self.reading.assumptions.append({"code": "breakdown_for_ranking", "by": "rep"})
        distinct = list(dict.fromkeys(d for d, _ in dims))
        if len(distinct) > 1:
            raise self.err(f"One breakdown at a time, please: by {' or by '.join(distinct)}.",
                           f"แยกได้ทีละแบบ: {_dims_text(tuple(distinct), 'th')}")
        breakdown = distinct[0] if distinct else None
        if breakdown and breakdown not in spec.breakdowns:
            name = self.name
            th = f"{_q(name)} แยกตาม{dim_word(breakdown, 'th')}ไม่ได้"
            th += (f" แยกได้ตาม: {_dims_text(spec.breakdowns, 'th')}" if spec.breakdowns else " และไม่มีการแยกย่อย")
            if spec.breakdowns:
                en = (f"{_q(name)} cannot be broken down by {breakdown}; "
                      f"{_q(name)} can be broken down by {_dims_text(spec.breakdowns, 'en')}.")
            else:
                en = f"{_q(name)} cannot be broken down (by {breakdown} or anything else)."
            raise self.err(en, th, word=breakdown, suggestions=[f"by {d}" for d in spec.breakdowns])
        rank = self._rank(spec, ranks, plural) if breakdown else None
        return breakdown, rank

    def _rank(self, spec: KpiSpec, ranks: list[tuple[int, _Tok]], plural: bool) -> Rank | None:
        if not ranks:
            return None
        kinds = [tok.value[0] for _, tok in ranks]  # type: ignore[index]
        ns = [tok.value[1] for _, tok in ranks if tok.value[1]]  # type: ignore[index]
        for k, _tok in ranks:
            for j in self._near(k, {"number"}, span=2):
                ns.append(int(self.toks[j].value))  # type: ignore[arg-type]
                self.used.add(j)
        for k, tok in enumerate(self.toks):
            if tok.kind == "number" and k not in self.used:
                nxt = self._next_content(k)
                if nxt is not None and (self.toks[nxt].kind in ("dimword", "rank", "breakdown", "which")
                                        or nxt in self.used):
                    ns.append(int(tok.value))  # type: ignore[arg-type]
                    self.used.add(k)
        order_kind = next((x for x in kinds if x != "list"), "list")
        if spec.key in words.SPEED_KPIS and any(fold(self.typed(tok)) in words.SPEED_RANKS for _, tok in ranks):
            # "the slowest pipeline velocity" is the lowest one: the KPI is a speed, not a time
            order_kind = {"high": "low", "low": "high"}.get(order_kind, order_kind)
        if any(tok.kind == "kpi" and any(w in self.typed(tok).lower() for w in words.INVERSE_WORDS.get(spec.key, ()))
               for tok in self.toks):
            # "which segment churned the most": the most churn is the least retention
            order_kind = {"high": "low", "low": "high", "best": "worst", "worst": "best", "top": "bottom",
                          "bottom": "top"}.get(order_kind, order_kind)
        best_desc = spec.higher_is_better
        order = {"best": "desc" if best_desc else "asc", "top": "desc" if best_desc else "asc",
                 "worst": "asc" if best_desc else "desc", "bottom": "asc" if best_desc else "desc",
                 "high": "desc", "low": "asc", "list": "desc" if best_desc else "asc"}[order_kind]
        if ns:
            n = ns[0]
        elif order_kind == "list":
            n = None
        elif order_kind in ("top", "bottom"):
            # Thai has no plural: a Thai top list is 5, unless it asks who ("ใครเป็น top seller")
            who = any(tok.kind == "which" for tok in self.toks)
            n = words.RANK_DEFAULT_N if plural or (self.t.th and not who) else 1
            if n == words.RANK_DEFAULT_N:
                self.reading.assumptions.append({"code": "rank_n", "n": n})
        else:
            n = 1
        if n is not None and not 1 <= n <= 1000:
            raise self.err("A ranking shows 1 to 1000 rows.", "แสดงอันดับได้ 1 ถึง 1000 รายการ")
        if n is None and order == ("desc" if best_desc else "asc"):
            return None  # every row, best first: what a breakdown is anyway
        return Rank(order=order, n=n)  # type: ignore[arg-type]

    # ------------------------------------------------------------ what is left

    def _leftovers(self, spec: KpiSpec) -> None:
        """Words that were read but used for nothing: a bare "team" ("by team"?), a stray number."""
        for k, tok in enumerate(self.toks):
            if k in self.used:
                continue
            if tok.kind == "dimword":
                dim = tok.value[0]  # type: ignore[index]
                if any(x.kind == "entity" and any(e.dim == dim for e in x.value)  # type: ignore[union-attr]
                       for x in self.toks):
                    continue  # "…ทีมมิดมาร์เก็ต… ของทีมนี้", "smb: how is the team doing": the one named
                typed = self.typed(tok)
                by = f"by {dim}" if self.lang == "en" else f"แยกตาม{dim_word(dim, 'th')}"
                raise self.err(f'I didn\'t understand "{_q(typed)}" here. Did you mean "{by}", or a {dim} by name?',
                               f'ไม่เข้าใจ "{_q(typed)}" หมายถึง "{by}" หรือระบุชื่อ{dim_word(dim, "th")}?',
                               word=typed, suggestions=[by],
                               choices=[(by, _replaced(self.t, (tok.start, tok.end), by))])
            if tok.kind == "number":
                typed = self.typed(tok)
                raise self.err(f'I didn\'t understand "{_q(typed)}". Periods look like 2026, Q2 2026 or last 30 days.',
                               f'ไม่เข้าใจ "{_q(typed)}" ช่วงเวลาเขียนแบบ 2569, ไตรมาส 2 2569 หรือ 30 วันที่ผ่านมา',
                               word=typed)


_UNSUPPORTED_MESSAGES = {
    "threshold": ("I can't keep only the ones above or below a value; ask e.g. \"win rate by rep this quarter\" and "
                  "read the ranking, or ask about one team or rep and compare its value yourself.",
                  "เลือกเฉพาะรายการที่สูงหรือต่ำกว่าค่าที่กำหนดไม่ได้ ลองถามเช่น \"วินเรทรายคน ไตรมาสนี้\" แล้วดูอันดับ "
                  "หรือถามทีละทีม/ทีละคนแล้วเทียบค่าเอง"),
    "qualified_cost": ("cost per qualified lead is not a KPI here; cost per lead divides spend by every lead "
                       "created, e.g. \"cost per lead last month\".",
                       "ไม่มี KPI ต้นทุนต่อ qualified lead มีต้นทุนต่อลีดที่หารด้วยลีดทั้งหมด เช่น \"ต้นทุนต่อลีด เดือนที่แล้ว\""),
    "projection": ("I answer with what has happened, in periods that have started, not where a figure will end up; "
                   "ask e.g. \"revenue this quarter\" for the quarter so far, or \"forecast accuracy last quarter\".",
                   "ตอบได้เฉพาะสิ่งที่เกิดขึ้นแล้วในช่วงเวลาที่เริ่มแล้ว คาดการณ์ตัวเลขปลายงวดไม่ได้ ลองถามเช่น \"รายได้ ไตรมาสนี้\" "
                   "หรือ \"ความแม่นยำการพยากรณ์ ไตรมาสที่แล้ว\""),
    "change_rank": ("I rank by the value in a period, not by how much it changed; ask e.g. \"win rate by rep this "
                    "quarter vs last quarter\" to see each rep's change, or \"revenue growth by rep\" for revenue.",
                    "จัดอันดับได้ตามค่าของช่วงเวลา ไม่ใช่ตามการเปลี่ยนแปลง ลองถามเช่น \"วินเรทรายคน ไตรมาสนี้ เทียบไตรมาสที่แล้ว\" "
                    "เพื่อดูการเปลี่ยนแปลงของแต่ละคน หรือ \"การเติบโตของรายได้ รายคน\" สำหรับรายได้"),
    "lost": ("lost deals are not a KPI here; win rate compares won with lost deals, e.g. \"win rate last month\".",
             "ไม่มี KPI ดีลที่แพ้ ลองดูอัตราการชนะดีล ซึ่งเทียบดีลที่ชนะกับที่แพ้ เช่น \"วินเรท เดือนที่แล้ว\""),
    "open": ("the open pipeline is not a KPI here; try \"pipeline velocity\" or \"deals closed\".",
             "ไม่มี KPI ดีลที่ยังเปิดอยู่ ลองดู \"ความเร็วของ pipeline\" หรือ \"ดีลที่ปิดได้\""),
    "activity_cost": ("what activities cost is not in kpibot's data; spend is, by channel: e.g. \"cost per lead by "
                      "channel this month\", or \"rep activity this month\" for how many there were.",
                      "ไม่มีข้อมูลค่าใช้จ่ายของกิจกรรม มีค่าใช้จ่ายตามช่องทาง เช่น \"ต้นทุนต่อลีด แยกตามช่องทาง เดือนนี้\" "
                      "หรือ \"กิจกรรมของตัวแทนขาย เดือนนี้\" สำหรับจำนวนกิจกรรม"),
    "profit": ("profit and margins are not in kpibot's data; revenue and deal size are, e.g. \"revenue this month\".",
               "ไม่มีข้อมูลกำไร ลองดูรายได้หรือขนาดดีลเฉลี่ย เช่น \"รายได้ เดือนนี้\""),
    "schedule": ("I answer when asked and can't send a report by email or on a schedule; `/kpi digest on` brings "
                 "your weekly digest by DM every Monday.",
                 "ส่งรายงานทางอีเมลหรือตามเวลาไม่ได้ ถามได้ทุกเมื่อ และพิมพ์ `/kpi digest on` เพื่อรับสรุปประจำสัปดาห์ทาง DM "
                 "ทุกวันจันทร์"),
}
_TOPIC_WORDS = {fold(w): family for family, (_d, ws) in words.TOPICS.items() for w in ws}


def _family_default(family: str, cat: dict[str, KpiSpec]) -> str | None:
    d = words.TOPICS.get(family, (None, ()))[0]
    return d if d in cat else None


def _dims_text(dims: tuple[str, ...], lang: str) -> str:
    return ", ".join(dim_word(d, lang) if lang == "th" else d for d in dims)


def _quoted(value: str) -> str:
    return f'"{value}"' if (" " in value or ":" in value) else value
