"""Text as people type it in chat, folded into one form to match on, with the way back.

    n = fold_text("ยอดขายยยย เเยกตามทีม")
    n.s            -> "ยอดขาย แยกตามทีม"   (what the grammar matches on)
    n.typed(0, 6)  -> "ยอดขายยยย"           (the same span as typed, for replies)

What is folded, and why:
- Unicode NFC, case-folding, Thai digits as ASCII digits, full-width Latin as ASCII.
- Invisible characters (zero-width spaces, joiners, controls) and runs of white space become one
  space: Thai is pasted with zero-width spaces between words.
- Thai spelling as typed on a Thai keyboard, where different key sequences look the same on screen:
  two sara e (เเ) for sara ae (แ); nikhahit + sara aa for sara am (ำ), also with a tone mark
  typed between them; a tone mark typed before the upper or lower vowel of its syllable; the same
  vowel sign or tone mark typed twice.
- Elongation in chat ("ยอดขายยยย", "จ้าาา", "pleeease"): a letter repeated three or more times
  counts once. No word of either language has a letter three times in a row; digits are left alone
  (5 5 5 is Thai for laughing, and 2000 is a number).
- A hyphen between two Latin letters is a space ("win-rate"), curly apostrophes are straight.

The rules are a handful of character rewrites (the same ideas as PyThaiNLP's `normalize`, written
here so that the CLI does not import a large NLP package to answer one question).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_SPACES_RE = re.compile(r"\s+")

SARA_E = "\u0e40"
SARA_AE = "\u0e41"
NIKHAHIT = "\u0e4d"
SARA_AA = "\u0e32"
SARA_AM = "\u0e33"
TONE_MARKS = frozenset("\u0e48\u0e49\u0e4a\u0e4b")
# vowel signs written above or below a consonant, and the other marks that sit on it
UPPER_LOWER_VOWELS = frozenset("\u0e31\u0e34\u0e35\u0e36\u0e37\u0e38\u0e39\u0e3a")
_NO_REPEAT = frozenset(TONE_MARKS | UPPER_LOWER_VOWELS | set("\u0e30\u0e32\u0e33\u0e45\u0e47\u0e4c\u0e4d\u0e4e"))


def is_thai(c: str) -> bool:
    return "\u0e00" <= c <= "\u0e7f"


def is_word(c: str) -> bool:
    """A character of a Latin word or a number (Thai is matched by phrase, never split on these)."""
    return (c.isalnum() or c == "_") and not is_thai(c)


def ends_ok(s: str, j: int) -> bool:
    """May a phrase end before s[j]? Not inside a Latin word or number, and not before a Thai vowel
    sign or tone mark (they belong to the syllable the phrase would cut)."""
    if j >= len(s):
        return True
    last, nxt = s[j - 1], s[j]
    if is_word(last) and is_word(nxt):
        return False
    return not (is_thai(last) and ("\u0e30" <= nxt <= "\u0e3a" or "\u0e45" <= nxt <= "\u0e4e"))


def invisible(c: str) -> bool:
    # Zero-width spaces separate Thai words in pasted text; control characters mean nothing; a lone
    # surrogate cannot even be encoded to send back.
    return c.isspace() or unicodedata.category(c) in ("Cc", "Cf", "Cs")


@dataclass(frozen=True)
class Folded:
    original: str  # as typed (NFC)
    s: str  # folded, to match on
    omap: tuple[int, ...]  # index in `original` of each character of `s`

    def typed(self, a: int, b: int) -> str:
        """s[a:b] as the user typed it, minus invisible characters that would garble a reply."""
        if b <= a or a >= len(self.omap):
            return ""
        b = min(b, len(self.omap))
        # up to the next folded character: letters folded away (elongation) belong to this span
        raw = self.original[self.omap[a]:self.omap[b] if b < len(self.omap) else len(self.original)]
        return " ".join("".join(" " if invisible(c) else c for c in raw).split())


def _fold_char(ch: str) -> str:
    if "\u0e50" <= ch <= "\u0e59":  # Thai digits
        return chr(ord(ch) - 0x0E50 + 0x30)
    if "\uff01" <= ch <= "\uff5e":  # full-width ASCII
        return chr(ord(ch) - 0xFEE0).casefold()
    if ch in "’‘`´":
        return "'"
    if ch in "–—−":
        return "-"
    return ch.casefold()


_ELONGATED_RE = re.compile(r"([^\W\d_])\1{2,}|([\u0e30-\u0e4e])\2{2,}")


def _elongated(text: str) -> set[int]:
    """Indexes of the letters after the first of a run of three or more of the same letter."""
    drop: set[int] = set()
    for m in _ELONGATED_RE.finditer(text.casefold() if len(text.casefold()) == len(text) else text):
        drop.update(range(m.start() + 1, m.end()))
    return drop


def fold_text(text: str) -> Folded:
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    omap: list[int] = []

    def put(c: str, k: int) -> None:
        out.append(c)
        omap.append(k)

    drop = _elongated(text)
    for k, ch in enumerate(text):
        if k in drop:
            continue
        if invisible(ch):
            if out and out[-1] != " ":
                put(" ", k)
            continue
        for f in _fold_char(ch):
            prev = out[-1] if out else ""
            if f == SARA_E and prev == SARA_E:
                out[-1] = SARA_AE
                continue
            if f == SARA_AA and prev == NIKHAHIT:
                out[-1] = SARA_AM
                continue
            if f == SARA_AA and prev in TONE_MARKS and len(out) > 1 and out[-2] == NIKHAHIT:
                out[-2], out[-1] = prev, SARA_AM  # nikhahit, tone, sara aa -> tone, sara am
                continue
            if f in UPPER_LOWER_VOWELS and prev in TONE_MARKS:
                out[-1] = f  # a tone mark typed before its vowel: vowel first
                put(prev, k)
                continue
            if f in _NO_REPEAT and f == prev:
                continue
            put(f, k)
    # Slack's _italic_ and *bold* marks around words are formatting; an underscore inside a word
    # ("time_to_close") stays
    for i, c in enumerate(out):
        if c == "_" and not (0 < i < len(out) - 1 and out[i - 1].isalnum() and out[i + 1].isalnum()):
            out[i] = " "
    # a hyphen between two Latin letters separates words ("win-rate", "mid-market")
    for i in range(1, len(out) - 1):
        if out[i] == "-" and out[i - 1].isalpha() and out[i + 1].isalpha() and not is_thai(out[i - 1]) \
                and not is_thai(out[i + 1]):
            out[i] = " "
    while out and out[-1] == " ":
        out.pop()
        omap.pop()
    return Folded(text, "".join(out), tuple(omap))


_PLAIN_RE = re.compile(r"[a-z0-9 ./:'%&>()#\u0e01-\u0e4c\u0e4e\u0e4f\u0e5a\u0e5b→]*")
# what fold_text would change in a text of _PLAIN_RE's characters
_NEEDS_FOLD_RE = re.compile("เเ|[\u0e48-\u0e4b][\u0e31\u0e34-\u0e3a]|([\u0e30-\u0e4e])\\1")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """The folded form alone (for building vocabularies)."""
    low = text.lower()
    if _PLAIN_RE.fullmatch(low) and not _ELONGATED_RE.search(low) and not _NEEDS_FOLD_RE.search(low):
        return " ".join(low.split())  # what fold_text does to plain ASCII, without its per-letter walk
    return _SPACES_RE.sub(" ", fold_text(text).s).strip()


# ---------------------------------------------------------------- Thai spelling


# A consonant (with ิ or ุ) under the thanthakhat is written but not said: people drop it when typing
# fast (สัปดา for สัปดาห์, เปอเซ็น for เปอร์เซ็นต์)
_TH_SILENT_RE = re.compile("[\u0e01-\u0e2e][\u0e34\u0e38]?\u0e4c")
# letters that sound alike and are mixed up (ไตรมาศ, เหนีอ), tone marks left off or misplaced (เฉลีย)
_TH_ALIKE = str.maketrans({"ศ": "ส", "ษ": "ส", "ณ": "น", "ฎ": "ด", "ฏ": "ต", "ภ": "พ", "ธ": "ท", "ฒ": "ท",
                           "ฑ": "ท", "ฐ": "ถ", "ญ": "ย", "ฬ": "ล", "ฆ": "ค", "\u0e37": "\u0e35",
                           "\u0e34": "\u0e35", "\u0e38": "\u0e39",  # short and long i, u mixed up (ดิล)
                           "\u0e47": None, "\u0e48": None, "\u0e49": None, "\u0e4a": None, "\u0e4b": None})


def thai_skeleton(text: str) -> str:
    """Thai folded to how it sounds, for telling a misspelling from an unknown word: two spellings
    with one skeleton are the same word typed two ways."""
    return _TH_SILENT_RE.sub("", text).translate(_TH_ALIKE)
