"""Mapping files: turn another export's CSV files into the canonical tables of data.md.

A mapping is a TOML file:

    [mapping]
    name = "Maven CRM Sales Opportunities"     # for people reading the file
    ignore = ["products.csv"]                  # files in the folder left out on purpose (no warning)

    [[table]]
    target = "opportunities"                   # canonical table it fills
    source = "sales_pipeline.csv"              # CSV file in the imported folder
    skip_when_empty = ["engage_date"]          # source columns; such rows are dropped with one warning
    distinct = false                           # true: keep the first row of each key, drop the rest

    [table.columns]                            # canonical column = rule
    opportunity_id = "opportunity_id"          # a source column (rename)
    status = { from = "deal_stage", map = { Won = "won", Engaging = "open" }, strict = false }
    owner_rep_id = { from = "sales_agent", slug = true }
    ordered_at = { from = "date", format = "yyyymmdd" }
    order_id = { template = "{customer_id}-{date}-{_line}" }
    currency = { const = "" }

A rule is a source column name, or a table with exactly one of `from` (a
source column), `template` (`{column}` fields and `{_line}`, the source line
number) or `const`, then optionally, applied in this order: `map` (values not
in it pass through unchanged, or are an error with `strict = true`), `slug`
(lower case, words joined by "-"), `format` (`yyyymmdd` or a strptime format
such as `%d/%m/%Y`; the result is an ISO date, or an ISO timestamp when the
format has a time). Values are stripped of surrounding spaces first. Canonical
columns that no rule names are left empty.

This module only compiles rules; the importer reads the files, so errors in
data rows still name the source file, its line and the source column.
"""

from __future__ import annotations

import difflib
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from config.toml_file import read_toml
from kpi_engine.models import TABLES

MAPPINGS_DIR = Path(__file__).with_name("mappings")
SHORTHANDS = {"maven": "maven_crm.toml", "maven_crm": "maven_crm.toml", "cdnow": "cdnow.toml"}

# filled by the importer, never by a mapping
DERIVED_COLUMNS = {"start_at", "end_at", "exited_at"}
_RULE_KEYS = {"from", "template", "const", "map", "strict", "slug", "format"}
_TABLE_KEYS = {"target", "source", "columns", "skip_when_empty", "distinct"}


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names the file and the key."""


class ValueIssue(Exception):
    """A source value a rule cannot convert (strict map miss, date not in the format)."""

    def __init__(self, column: str, value: str, reason: str):
        super().__init__(reason)
        self.column, self.value, self.reason = column, value, reason


def canonical_columns(table: str) -> list[str]:
    return [c.name for c in TABLES[table].__table__.columns if c.name not in DERIVED_COLUMNS]


def key_columns(table: str) -> list[str]:
    return [c.name for c in TABLES[table].__table__.primary_key.columns]


@lru_cache(maxsize=4096)
def slug(text: str) -> str:
    """'Moses Frase' -> 'moses-frase'. Letters of any script stay (with their marks, so Thai
    names keep their vowels); everything else separates words."""
    kept = "".join(ch if unicodedata.category(ch)[0] in "LMN" else " " for ch in text.lower())
    return "-".join(kept.split())


def _did_you_mean(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


@dataclass(frozen=True)
class Rule:
    target: str
    source: str | None = None
    template: str | None = None
    const: str | None = None
    map: dict[str, str] = field(default_factory=dict)
    strict: bool = False
    slug: bool = False
    format: str | None = None

    @property
    def template_fields(self) -> list[str]:
        if self.template is None:
            return []
        return [f for _, f, _, _ in string.Formatter().parse(self.template) if f is not None]

    @property
    def origin(self) -> str:
        """The column a person should look at when this rule's value is wrong."""
        if self.source is not None:
            return self.source
        if self.template is not None:
            return "+".join(f for f in self.template_fields if f != "_line") or self.target
        return self.target


@dataclass(frozen=True)
class TableMapping:
    target: str
    source: str
    rules: tuple[Rule, ...]
    skip_when_empty: tuple[str, ...] = ()
    distinct: bool = False
    where: str = ""  # "maven_crm.toml: [[table]] 3 (opportunities)", for messages

    def bind(self, header: list[str]) -> BoundTable:
        """Check the rules against the source file's header and compile them to one row function."""
        index = {name: i for i, name in enumerate(header)}

        def need(col: str, what: str) -> int:
            if col not in index:
                close = difflib.get_close_matches(col, list(index), n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                raise MappingError(
                    f"{self.where}: {what} reads source column {col!r}, which {self.source} does not have"
                    f"{hint} (its columns: {', '.join(header)})"
                )
            return index[col]

        for col in self.skip_when_empty:
            need(col, "skip_when_empty")
        getters = [_compile(rule, need, self.where) for rule in self.rules]
        return BoundTable(
            columns=[r.target for r in self.rules],
            origin={r.target: r.origin for r in self.rules},
            source_index={r.target: index[r.source] for r in self.rules if r.source is not None},
            getters=getters,
            skip_index=[(c, index[c]) for c in self.skip_when_empty],
            key_positions=[i for i, r in enumerate(self.rules) if r.target in key_columns(self.target)],
            distinct=self.distinct,
        )


@dataclass
class BoundTable:
    """A table mapping compiled against one header: source row -> canonical values."""

    columns: list[str]
    origin: dict[str, str]
    source_index: dict[str, int]
    getters: list[Callable[[list[str], int], str]]
    skip_index: list[tuple[str, int]]
    key_positions: list[int]
    distinct: bool
    _seen: set = field(default_factory=set)

    def skip_reason(self, row: list[str]) -> str | None:
        for col, i in self.skip_index:
            if i >= len(row) or not row[i].strip():
                return col
        return None

    def convert(self, row: list[str], line: int) -> list[str] | None:
        """Canonical values in `columns` order; None for a repeat of a distinct key. Raises ValueIssue."""
        values = [g(row, line) for g in self.getters]
        if self.distinct:
            key = tuple(values[i] for i in self.key_positions)
            if key in self._seen:
                return None
            self._seen.add(key)
        return values

    def shown(self, row: list[str], column: str, value) -> str | None:
        """The value to quote in a message about `column`: the source text when there is one."""
        i = self.source_index.get(column)
        if i is not None and i < len(row):
            return row[i].strip()
        return None if value is None else str(value)


def _compile(rule: Rule, need: Callable[[str, str], int], where: str) -> Callable[[list[str], int], str]:
    what = f"columns.{rule.target}"
    if rule.const is not None:
        const = rule.const

        def base(row, line):
            return const
    elif rule.template is not None:
        parts = []
        for literal, fname, spec, conv in string.Formatter().parse(rule.template):
            if spec or conv:
                raise MappingError(f"{where}: {what}: template {rule.template!r}: only plain {{column}} fields are allowed")
            parts.append((literal, None if fname is None else (-1 if fname == "_line" else need(fname, what))))

        def base(row, line):
            out = []
            for literal, i in parts:
                out.append(literal)
                if i is not None:
                    out.append(str(line) if i < 0 else (row[i].strip() if i < len(row) else ""))
            return "".join(out)
    else:
        src = need(rule.source, what)

        def base(row, line):
            return row[src].strip() if src < len(row) else ""

    fn = base
    if rule.map:
        fn = _with_map(fn, rule)
    if rule.slug:
        prev_slug = fn

        def fn(row, line):  # noqa: F811 - each step wraps the previous one
            return slug(prev_slug(row, line))
    if rule.format:
        fn = _with_format(fn, rule)
    return fn


def _with_map(inner, rule: Rule):
    table, strict, origin = rule.map, rule.strict, rule.origin

    def fn(row, line):
        v = inner(row, line)
        out = table.get(v)
        if out is not None:
            return out
        if strict and v:
            raise ValueIssue(origin, v, f"is not one of the mapped values ({', '.join(table)})")
        return v

    return fn


def _with_format(inner, rule: Rule):
    fmt, origin = rule.format, rule.origin
    if fmt.lower() == "yyyymmdd":
        # the fast form for the many exports that write 19970101; validated, then ISO
        def fn(row, line):
            v = inner(row, line)
            if not v:
                return v
            if len(v) == 8 and v.isdigit():
                try:
                    datetime(int(v[:4]), int(v[4:6]), int(v[6:8]))
                    return f"{v[:4]}-{v[4:6]}-{v[6:8]}"
                except ValueError:
                    pass
            raise ValueIssue(origin, v, "is not a date in the format yyyymmdd (e.g. 19970101)")

        return fn
    has_time = any(d in fmt for d in ("%H", "%I", "%M", "%S", "%z"))

    def fn(row, line):
        v = inner(row, line)
        if not v:
            return v
        try:
            dt = datetime.strptime(v, fmt)
        except ValueError:
            raise ValueIssue(origin, v, f"is not a date in the format {fmt}") from None
        return dt.isoformat() if has_time else dt.date().isoformat()

    return fn


@dataclass(frozen=True)
class Mapping:
    name: str
    path: Path
    tables: tuple[TableMapping, ...]
    ignore: frozenset[str] = frozenset()


def resolve_mapping(name_or_path: str | Path) -> Path:
    """`maven`, `cdnow` (the shipped mappings) or a path to a mapping file."""
    text = str(name_or_path)
    if text in SHORTHANDS:
        return MAPPINGS_DIR / SHORTHANDS[text]
    p = Path(text)
    if p.exists():
        return p
    shipped = MAPPINGS_DIR / f"{text}.toml"
    if shipped.exists():
        return shipped
    raise MappingError(
        f"mapping {text!r} not found: give a mapping file's path or one of {', '.join(sorted(SHORTHANDS))}"
    )


def load_mapping(path: str | Path) -> Mapping:
    p = resolve_mapping(path)
    fname = p.name
    raw = read_toml(p, MappingError, "mapping file", name=fname)
    meta = raw.get("mapping", {})
    if not isinstance(meta, dict):
        raise MappingError(f"{fname}: [mapping] must be a table")
    unknown = set(meta) - {"name", "ignore"}
    if unknown:
        raise MappingError(f"{fname}: [mapping]: unknown key(s) {', '.join(sorted(unknown))} (known: name, ignore)")
    ignore = meta.get("ignore", [])
    if not isinstance(ignore, list) or not all(isinstance(s, str) for s in ignore):
        raise MappingError(f"{fname}: [mapping]: ignore must be a list of file names")
    unknown = set(raw) - {"mapping", "table"}
    if unknown:
        raise MappingError(f"{fname}: unknown top-level key(s) {', '.join(sorted(unknown))} (use [mapping] and [[table]])")
    entries = raw.get("table")
    if isinstance(entries, dict):
        raise MappingError(f"{fname}: [table] is written with single brackets: write [[table]], one per "
                           f"table filled (each says target, source and its columns)")
    if not isinstance(entries, list) or not entries:
        raise MappingError(f"{fname}: no [[table]] entries (each says target, source and its columns)")
    for i, e in enumerate(entries, 1):
        if not isinstance(e, dict):
            shown = repr(e) if len(repr(e)) <= 40 else repr(e)[:39] + "…"
            raise MappingError(f"{fname}: table = [...] is a list of values ({shown} is entry {i}): write one "
                               f"[[table]] section per table filled, each with target, source and [table.columns]")
    tables = tuple(_table(fname, i, e) for i, e in enumerate(entries, 1))
    return Mapping(name=str(meta.get("name", p.stem)), path=p, tables=tables, ignore=frozenset(ignore))


def _table(fname: str, i: int, e: dict) -> TableMapping:
    target = e.get("target")
    where = f"{fname}: [[table]] {i}" + (f" ({target})" if isinstance(target, str) else "")
    unknown = set(e) - _TABLE_KEYS
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(_TABLE_KEYS))})")
    if not isinstance(target, str) or target not in TABLES:
        raise MappingError(
            f"{where}: target {target!r} is not a canonical table{_did_you_mean(str(target), TABLES)} "
            f"(tables: {', '.join(TABLES)})"
        )
    source = e.get("source")
    if not isinstance(source, str) or not source.strip():
        raise MappingError(f"{where}: source must name a CSV file in the imported folder")
    skip = e.get("skip_when_empty", [])
    if not isinstance(skip, list) or not all(isinstance(s, str) for s in skip):
        raise MappingError(f"{where}: skip_when_empty must be a list of source column names")
    distinct = e.get("distinct", False)
    if not isinstance(distinct, bool):
        raise MappingError(f"{where}: distinct must be true or false")
    cols = e.get("columns")
    if not isinstance(cols, dict) or not cols:
        raise MappingError(f"{where}: [table.columns] is missing or empty")
    allowed = canonical_columns(target)
    rules = []
    for col, spec in cols.items():
        if col not in allowed:
            raise MappingError(
                f"{where}: columns.{col}: {target} has no column {col!r}{_did_you_mean(col, allowed)} "
                f"(columns: {', '.join(allowed)})"
            )
        rules.append(_rule(f"{where}: columns.{col}", col, spec))
    return TableMapping(target, source.strip(), tuple(rules), tuple(skip), distinct, where)


def _rule(where: str, col: str, spec) -> Rule:
    if isinstance(spec, str):
        return Rule(target=col, source=spec)
    if not isinstance(spec, dict):
        raise MappingError(f"{where}: give a source column name or a table such as {{ from = \"col\" }}")
    unknown = set(spec) - _RULE_KEYS
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(_RULE_KEYS))})")
    kinds = [k for k in ("from", "template", "const") if k in spec]
    if len(kinds) != 1:
        raise MappingError(f"{where}: needs exactly one of from, template, const (has {', '.join(kinds) or 'none'})")
    for k in ("from", "template", "const", "format"):
        if k in spec and not isinstance(spec[k], str):
            raise MappingError(f"{where}: {k} must be a string")
    for k in ("strict", "slug"):
        if k in spec and not isinstance(spec[k], bool):
            raise MappingError(f"{where}: {k} must be true or false")
    vmap = spec.get("map", {})
    if not isinstance(vmap, dict) or not all(isinstance(v, str) for v in vmap.values()):
        raise MappingError(f"{where}: map must be a table of strings, e.g. {{ Won = \"won\" }}")
    if spec.get("strict") and not vmap:
        raise MappingError(f"{where}: strict needs a map")
    fmt = spec.get("format")
    if fmt is not None and fmt.lower() != "yyyymmdd" and "%" not in fmt:
        raise MappingError(f"{where}: format {fmt!r} is neither yyyymmdd nor a strftime format such as %d/%m/%Y")
    rule = Rule(
        target=col,
        source=spec.get("from"),
        template=spec.get("template"),
        const=spec.get("const"),
        map=dict(vmap),
        strict=spec.get("strict", False),
        slug=spec.get("slug", False),
        format=fmt,
    )
    if rule.template is not None:
        try:
            rule.template_fields  # noqa: B018 - parsing is the check
        except ValueError as exc:
            raise MappingError(f"{where}: template {rule.template!r} is not valid ({exc})") from exc
    return rule
