"""Names of dimension values as people read and type them, in English and Thai.

    names = DimensionNames(config.display_names)
    names.display("team", "smb", "th")        -> "SMB"
    names.display("region", "north", "th")    -> "ภาคเหนือ"
    names.display("channel", "", "en")        -> "no channel"
    names.typed_forms("region")               -> {"ภาคเหนือ": "north", "เหนือ": "north", …}

Stored values stay the keys everywhere (filters, JSON `key`, config); these names are for text,
tables, charts and for recognising what people type. Shipped defaults live in dimension_names.toml;
an install adds or overrides entries in its config ([display_names.<dimension>."<value>"]).
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from kpi_engine.format import dimension as dimension_word

_DEFAULTS = Path(__file__).with_name("dimension_names.toml")
# Stored values this short and lower-case are acronyms (smb, emea, b2b): shown in capitals.
_ACRONYM_MAX = 3


@dataclass(frozen=True)
class ValueName:
    en: str | None = None
    th: str | None = None
    aliases: tuple[str, ...] = ()


def normalise(text: str) -> str:
    """The form names are compared in: NFC, case-folded, `_`/`-` as spaces, single spaces."""
    s = unicodedata.normalize("NFC", text).casefold().replace("_", " ").replace("-", " ")
    return " ".join(s.split())


def tidy(value: str) -> str:
    """A stored value with no configured name, as people would write it."""
    v = value.strip()
    if v.isascii() and v.isalpha() and v.islower() and len(v) <= _ACRONYM_MAX:
        return v.upper()
    if v.islower():
        v = v.replace("_", " ")
        return v[:1].upper() + v[1:]
    return v


@lru_cache(maxsize=1)
def _shipped() -> dict[str, dict[str, ValueName]]:
    return _parse(tomllib.loads(_DEFAULTS.read_text(encoding="utf-8")))


def _parse(data: Mapping[str, Any]) -> dict[str, dict[str, ValueName]]:
    out: dict[str, dict[str, ValueName]] = {}
    for dim, values in data.items():
        for value, entry in (values or {}).items():
            e = entry if isinstance(entry, Mapping) else {}
            out.setdefault(dim, {})[value] = ValueName(
                en=e.get("en") or None, th=e.get("th") or None, aliases=tuple(e.get("aliases") or ()))
    return out


class DimensionNames:
    """Shipped names merged with an install's overrides (same shape as dimension_names.toml)."""

    def __init__(self, overrides: Mapping[str, Any] | None = None):
        merged = {dim: dict(vals) for dim, vals in _shipped().items()}
        for dim, vals in _parse(_plain(overrides or {})).items():
            for value, name in vals.items():
                old = merged.setdefault(dim, {}).get(value, ValueName())
                merged[dim][value] = ValueName(en=name.en or old.en, th=name.th or old.th,
                                               aliases=tuple(dict.fromkeys(old.aliases + name.aliases)))
        self._names = merged
        self._typed: dict[str, dict[str, str]] = {}

    def entry(self, dim: str, value: str | None) -> ValueName | None:
        return self._names.get(dim, {}).get(value or "")

    def display(self, dim: str, value: str | None, lang: str = "en") -> str:
        """What a reader sees for a stored value (an empty one reads "no <dimension>")."""
        e = self.entry(dim, value)
        if e is not None:
            name = e.th if lang == "th" else e.en
            if name:
                return name
            if e.en:
                return e.en
        if not value or value == "(none)":
            word = dimension_word(dim, lang)
            return f"ไม่ระบุ{word}" if lang == "th" else f"no {word}"
        return tidy(value)

    def typed_forms(self, dim: str) -> dict[str, str]:
        """Every configured way to type a value of this dimension (normalised) -> the stored value:
        both display names and the aliases. Stored values themselves are not listed (the caller
        knows which values exist in the data)."""
        if dim not in self._typed:
            forms: dict[str, str] = {}
            for value, e in self._names.get(dim, {}).items():
                for form in (e.en, e.th, *e.aliases):
                    if form:
                        forms.setdefault(normalise(form), value)
            self._typed[dim] = forms
        return self._typed[dim]

    def dimensions(self) -> tuple[str, ...]:
        return tuple(self._names)


def _plain(obj: Any) -> Any:
    """Pydantic models from the config as plain dicts."""
    if hasattr(obj, "model_dump"):
        return obj.model_dump()
    if isinstance(obj, Mapping):
        return {k: _plain(v) for k, v in obj.items()}
    return obj
