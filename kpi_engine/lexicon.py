"""The things a question can name, taken from the store: dimension values and reps.

    lex = Lexicon.build(values={"team": ["smb", "enterprise"], …}, reps=[RepEntry(…)], names=names)
    lex.match("ยอดขายภาคเหนือ", 6)   -> (14, (Entity("region", "north", …),))

A value is known by its stored form ("mid-market"), its English and Thai names and aliases from
dimension_names.toml (and the config's [display_names]), and a product also by a run of the words of
its name ("ERP" or "cloud" for "ERP Cloud"; a run several products share is asked back). A rep is known by full name, first
name, Thai name and Thai first name, nicknames (the optional reps columns name_th and nickname),
and Slack user id (mentions). One phrase may name several things ("enterprise" is a team and a
segment; two reps are called Somsak): the grammar decides from the rest of the question, or asks.

Built once per data version by `KpiEngine.lexicon()`; matching is a dictionary walk over the
prefixes of known phrases, so its cost does not grow with the number of reps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import product

from kpi_engine.dimnames import DimensionNames
from kpi_engine.textnorm import ends_ok, fold, is_thai

# A rep-visibility predicate (rep_id -> may this person see the name?). Everything that suggests or
# echoes rep names takes one; None means every rep is visible.
Visible = Callable[[str], bool] | None

VALUE_DIMS = ("team", "region", "product", "segment", "channel", "stage", "type", "action")
_SEPARATORS = (",", ";", "/", "|")

# how sure a phrase names its entity: a full name or stored value, a display name or alias, a part
# of a name (first name, nickname, acronym) that may as well be an ordinary word
EXACT, NAME, PART = 3, 2, 1


@dataclass(frozen=True)
class Entity:
    dim: str  # one of VALUE_DIMS, or "rep"
    value: str  # stored value, or rep_id
    label: str  # what people read: display name, or the rep's name
    strength: int = NAME
    in_store: bool = True  # False: a shipped name of a value this store does not have (yet)


@dataclass(frozen=True)
class RepEntry:
    rep_id: str
    name: str | None = None
    name_th: str | None = None
    nickname: str | None = None  # one or more, separated by , ; / or |
    slack_user_id: str | None = None
    team: str | None = None
    region: str | None = None

    def nicknames(self) -> list[str]:
        out = [self.nickname or ""]
        for sep in _SEPARATORS:
            out = [part for x in out for part in x.split(sep)]
        return [x.strip() for x in out if x.strip()]

    def label(self) -> str:
        return self.name or self.name_th or self.rep_id


def _first_word(name: str) -> str | None:
    parts = name.split()
    return parts[0] if len(parts) > 1 else None


# English words of product names as Thai writes them (ERP Cloud: อีอาร์พีคลาวด์); the first form is used
_TH_SAID = {"cloud": ("คลาวด์", "คลาว"), "backup": ("แบ็กอัพ", "แบ็คอัพ", "แบคอัพ", "แบ็คอัป", "แบ็กอัป"),
            "terminal": ("เทอร์มินัล", "เทอมินอล"), "payroll": ("เพย์โรล", "เพโรล"),
            "analytics": ("อนาไลติกส์", "อนาลิติกส์", "อนาไลติก"), "platform": ("แพลตฟอร์ม", "แพลทฟอร์ม"),
            "erp": ("อีอาร์พี",), "pos": ("พีโอเอส",), "crm": ("ซีอาร์เอ็ม",), "suite": ("สวีท", "ซูท"),
            "data": ("ดาต้า", "ดาตา"), "hr": ("เอชอาร์",), "security": ("ซีเคียวริตี้", "ซิเคียวริตี้", "ซีเคียวริตี"),
            "managed": ("แมเนจ", "แมเนจด์", "เมเนจ"), "software": ("ซอฟต์แวร์", "ซอฟแวร์"),
            "service": ("เซอร์วิส", "เซอร์วิซ"), "services": ("เซอร์วิส",), "marketing": ("มาร์เก็ตติ้ง",),
            "sales": ("เซลส์",), "support": ("ซัพพอร์ต",), "license": ("ไลเซนส์",), "hardware": ("ฮาร์ดแวร์",)}


@dataclass
class Lexicon:
    version: str = ""
    phrases: dict[str, tuple[Entity, ...]] = field(default_factory=dict)
    # the lengths of the phrases that start with each pair of letters, longest first: a match tries
    # those few lengths instead of every prefix
    lengths: dict[str, tuple[int, ...]] = field(default_factory=dict)
    reps: dict[str, RepEntry] = field(default_factory=dict)
    slack: dict[str, str] = field(default_factory=dict)  # slack user id (folded) -> rep_id
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    names: DimensionNames | None = None
    # fuzzy matching: the phrases worth offering, by their first letter (a typo rarely hits the first
    # letter, and comparing with one letter's names instead of all keeps a miss under a millisecond)
    fuzzy: list[str] = field(default_factory=list)
    fuzzy_by_first: dict[str, list[str]] = field(default_factory=dict)

    # ------------------------------------------------------------ build

    @classmethod
    def build(cls, values: Mapping[str, Iterable[str]], reps: Iterable[RepEntry] = (),
              names: DimensionNames | None = None, version: str = "") -> Lexicon:
        lex = cls(version=version, names=names)
        lex._building = {}
        names = names or DimensionNames()
        lex.values = {d: tuple(sorted({v for v in values.get(d, ()) if v})) for d in VALUE_DIMS}
        stored = {d: set(vs) for d, vs in lex.values.items()}
        for dim in VALUE_DIMS:
            for value in lex.values[dim]:
                label = names.display(dim, value, "en")
                lex._add(value, Entity(dim, value, label, EXACT))
                lex._add(value.replace("_", " ").replace("-", " "), Entity(dim, value, label, EXACT))
            for form, value in names.typed_forms(dim).items():
                label = names.display(dim, value, "en")
                lex._add(form, Entity(dim, value, label, NAME, in_store=value in stored[dim]))
        lex._add_product_parts()
        for rep in reps:
            lex._add_rep(rep)
        lex.phrases = {p: tuple(ents.values()) for p, ents in lex._building.items()}
        del lex._building
        lengths: dict[str, set[int]] = {}
        for p in lex.phrases:
            lengths.setdefault(p[:2], set()).add(len(p))
        lex.lengths = {k: tuple(sorted(v, reverse=True)) for k, v in lengths.items()}
        lex._prefer_stored()
        lex.fuzzy = [p for p, ents in lex.phrases.items()
                     if len(p) >= 4 or (len(p) >= 3 and any(e.strength >= NAME for e in ents))]
        for p in lex.fuzzy:
            lex.fuzzy_by_first.setdefault(p[0], []).append(p)
        return lex

    @classmethod
    def shipped(cls, names: DimensionNames | None = None) -> Lexicon:
        """Without a store: the values dimension_names.toml (and the config) name, no reps."""
        names = names or DimensionNames()
        values = {d: [v for v in set(names.typed_forms(d).values())] for d in VALUE_DIMS}
        return cls.build(values, (), names, version="shipped")

    def _add(self, phrase: str, ent: Entity) -> None:
        p = fold(phrase)
        if not p or (len(p) < 2 and not is_thai(p[0])):
            return
        variants = [p]
        if " " in p and any(is_thai(c) for c in p):
            variants.append(p.replace(" ", ""))  # Thai names are typed with or without their space
        key = (ent.dim, ent.value)
        for v in variants:
            ents = self._building.get(v)
            if ents is None:
                ents = self._building[v] = {}
            old = ents.get(key)
            if old is None or old.strength < ent.strength:
                ents[key] = ent

    def _add_product_parts(self) -> None:
        """A product by a run of the words of its name, as people shorten it: "ERP" for "ERP Cloud",
        "payroll" or "HR & Payroll" for "HR & Payroll Suite", "analytics" for "Data Analytics
        Platform". A run that several products share names them all ("cloud": ERP Cloud or Cloud
        Backup?), so the question is asked back; a run that is already a phrase (a value, a chat word
        is weaker anyway) is left to it."""
        parts: dict[str, dict[str, Entity]] = {}
        for ents in list(self._building.values()):
            for e in ents.values():
                if e.strength != EXACT or e.dim != "product":
                    continue
                words = e.value.split()
                for a in range(len(words)):
                    for b in range(a + 1, len(words) + 1):
                        run = words[a:b]
                        said = [_TH_SAID.get(w.lower()) for w in run]
                        if all(said):  # "อีอาร์พีคลาวด์", "คลาวด์": as Thai writes the English words
                            for forms in product(*said):  # type: ignore[misc]
                                parts.setdefault(fold("".join(forms)), {})[e.value] = e
                        if b - a == len(words) or not (run[0].isalnum() and run[-1].isalnum()):
                            continue
                        if b - a == 1 and (run[0].isdigit() or len(run[0]) < (2 if run[0].isupper() else 3)):
                            continue
                        parts.setdefault(fold(" ".join(run)), {})[e.value] = e
        for phrase, ents in parts.items():
            if phrase not in self._building:
                for e in ents.values():
                    self._add(phrase, Entity(e.dim, e.value, e.label, PART))

    def _add_rep(self, rep: RepEntry) -> None:
        self.reps[rep.rep_id] = rep
        label = rep.label()
        if rep.slack_user_id:
            self.slack[rep.slack_user_id.casefold()] = rep.rep_id
        for full in (rep.name, rep.name_th):
            if not full:
                continue
            self._add(full, Entity("rep", rep.rep_id, label, EXACT))
            first = _first_word(full)
            if first and (len(first) >= 3 or is_thai(first[0])):
                self._add(first, Entity("rep", rep.rep_id, label, PART))
        for nick in rep.nicknames():
            if len(nick) >= 2:
                self._add(nick, Entity("rep", rep.rep_id, label, PART))

    def _prefer_stored(self) -> None:
        """A phrase that names values this store has never names the shipped ones it lacks."""
        for p, ents in self.phrases.items():
            if any(e.in_store for e in ents) and not all(e.in_store for e in ents):
                self.phrases[p] = tuple(e for e in ents if e.in_store)

    # ------------------------------------------------------------ lookups

    def match(self, s: str, i: int) -> tuple[int, tuple[Entity, ...]] | None:
        """The longest known phrase at s[i] that ends on a word boundary."""
        n = len(s)
        for length in self.lengths.get(s[i:i + 2], ()):
            j = i + length
            if j <= n:
                ents = self.phrases.get(s[i:j])
                if ents and ends_ok(s, j):
                    return j, ents
        return None

    def rep_for_slack(self, user_id: str) -> str | None:
        return self.slack.get(user_id.casefold())

    def rep_label(self, rep_id: str) -> str:
        rep = self.reps.get(rep_id)
        return rep.label() if rep else rep_id

    def rep_by_text(self, text: str) -> tuple[Entity, ...]:
        """Reps a whole text names exactly (rep:somchai): full name, first name, nickname or id."""
        if text in self.reps:
            return (Entity("rep", text, self.rep_label(text), EXACT),)
        ents = self.phrases.get(fold(text), ())
        return tuple(e for e in ents if e.dim == "rep")

    def value_by_text(self, dim: str, text: str) -> Entity | None:
        """The value of `dim` a whole text names exactly (team:SMB, region:ภาคเหนือ)."""
        for e in self.phrases.get(fold(text), ()):
            if e.dim == dim:
                return e
        return None


def visible_only(ents: Iterable[Entity], visible: Visible) -> list[Entity]:
    """Entities a person may have named back to them: values always, reps only when visible."""
    return [e for e in ents if e.dim != "rep" or visible is None or visible(e.value)]
