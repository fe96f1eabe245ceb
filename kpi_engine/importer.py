"""`kpibot import`: CSV files (canonical, or another export through a mapping) into the store.

The rules are data.md's: idempotent upserts by each table's key, all or
nothing, every bad row reported with file, line, column and reason.

How it stays fast and small: files are read with the csv module in batches;
each batch is validated, compared with the rows it would replace and written
with one executemany of a precompiled INSERT … ON CONFLICT, all in one
transaction that is rolled back when an invalid row was found. Only the keys
seen in the current file (for duplicate detection, about 40 bytes a key, see
_SeenKeys) grow with its size. A table empty when its file starts is bulk loaded
on SQLite: its secondary indexes are dropped and built once after its rows, in
the same transaction. The transaction holds the store's write lock from before
its first read (_write_lock): imports at once run one after the other.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import os
import re
import stat
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, bindparam, select, text, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from config.app_config import AppConfig
from kpi_engine import derive, freshness, periods, rollups
from kpi_engine.catalogue import catalogue
from kpi_engine.mapping import (
    MAPPINGS_DIR,
    SHORTHANDS,
    BoundTable,
    Mapping,
    MappingError,
    TableMapping,
    ValueIssue,
    canonical_columns,
    key_columns,
    load_mapping,
)
from kpi_engine.models import TABLES

Progress = Callable[[str, int, int, int], None]

# Errors kept in the report; the count goes on past it so a file of a million bad rows costs no memory.
KEPT_ERRORS = 1000
_SAMPLE_LINES = 5
# A quoted value may hold line breaks (a comment of a few paragraphs); a row over this many physical
# lines is taken for a quote left open that swallowed the rows after it, and fails the import.
MAX_ROW_LINES = 50

DATE_HELP = "is not a date (use ISO 8601, e.g. 2026-05-04)"
DATE_RANGE_HELP = f"is outside the years {periods.YEARS[0]}–{periods.YEARS[1]} kpibot reads"
BE_OFFSET = 543  # a Buddhist-era year is the Common-Era year + 543: Thai exports often write 2569 for 2026
NUMBER_HELP = "is not a number (use a plain decimal, e.g. 1234.5)"
# No amount of a sales business comes near 10^15, and below it no sum of rows can overflow a float:
# a value beyond it is a typo or another column's digits, and would make totals read "inf"
MAX_NUMBER = 1e15
NUMBER_RANGE_HELP = (f"is beyond ±{MAX_NUMBER:,.0f} (10^15), the largest number kpibot reads: a typo, or "
                     f"digits of another column (a phone number, an id)?")

# Zero-width characters come along when an id is pasted from a chat or a web page; invisible, so
# never meant as part of a value, and a second record if kept
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_BLANKS = frozenset(ch for ch in map(chr, range(0x3001)) if ch.isspace()) | frozenset(INVISIBLE)
_BLANK_TEXT = "".join(sorted(_BLANKS))
_DROP_INVISIBLE = str.maketrans("", "", INVISIBLE)

SLACK_ID_FORM = ("(U or W then capital letters and digits, e.g. U04ABC123; in Slack: the person's profile > ⋮ > "
                 "Copy member ID)")
# Slack's own ids are capitals and digits; the underscore is let through for the ids made up in tests
# and emulators (U_ME): what this catches is what people type instead, a @name, an e-mail, a mention
_SLACK_ID = re.compile(r"[UW][A-Z0-9_]+")

# Column kinds per table; a trailing * marks a required value. A model column not
# listed here (an optional one added beyond data.md) is read as optional text.
# rep / account are strings that are checked (with a warning only) against known ids.
KINDS: dict[str, dict[str, str]] = {
    "reps": {"rep_id": "str*", "name": "str", "team": "str", "region": "str", "email": "str",
             "slack_user_id": "slack_id", "role": "str", "hired_on": "ts", "left_on": "ts", "name_th": "str",
             "nickname": "str"},
    "accounts": {"account_id": "str*", "name": "str", "segment": "str", "region": "str", "churned_at": "ts"},
    "leads": {"lead_id": "str*", "created_at": "ts*", "channel": "str*", "campaign": "str",
              "owner_rep_id": "rep", "qualified_at": "ts"},
    "opportunities": {"opportunity_id": "str*", "created_at": "ts*", "status": "status*", "amount": "num",
                      "account_id": "account", "owner_rep_id": "rep", "stage": "str", "closed_at": "ts",
                      "lead_id": "str", "product": "str", "currency": "currency"},
    "stage_changes": {"opportunity_id": "str*", "stage": "str*", "entered_at": "ts*"},
    "activities": {"activity_id": "str*", "rep_id": "rep*", "type": "activity_type*", "occurred_at": "ts*",
                   "opportunity_id": "str", "account_id": "account"},
    "orders": {"order_id": "str*", "account_id": "account*", "ordered_at": "ts*", "amount": "num*",
               "currency": "currency"},
    "spend": {"date": "date*", "channel": "str*", "category": "spend_category*", "amount": "num*",
              "period": "spend_period"},
    "forecasts": {"period": "period_key*", "amount": "num*", "submitted_at": "ts*", "team": "str"},
    "targets": {"period": "period_key*", "metric": "metric*", "value": "num*", "team": "str", "rep_id": "rep"},
    "surveys": {"response_id": "str*", "responded_at": "ts*", "score": "score*", "account_id": "account",
                "rep_id": "rep", "comment": "str"},
    "trainings": {"feedback_id": "str*", "held_on": "ts*", "rating": "rating*", "rep_id": "rep", "session": "str"},
    "content_events": {"event_id": "str*", "content_id": "str*", "occurred_at": "ts*",
                       "action": "content_action*", "rep_id": "rep"},
}
ENUMS = {
    "status": ("open", "won", "lost"),
    "activity_type": ("call", "email", "meeting", "other"),
    "spend_category": ("marketing", "sales"),
    "spend_period": ("day", "week", "month"),
    "content_action": ("view", "click", "share"),
}
REFERENCE_KINDS = ("rep", "account")


# ---------------------------------------------------------------- report


@dataclass(frozen=True)
class RowIssue:
    """One problem, at one place. Aggregated warnings carry the number of rows in `count`."""

    file: str
    line: int | None
    column: str
    reason: str
    value: str | None = None
    count: int = 1

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.column:
            parts.append(self.column)
        shown = self.value if self.value is None or len(self.value) <= 60 else self.value[:57] + "..."
        parts.append(self.reason if shown is None else f'"{shown}" {self.reason}')
        return ": ".join(parts)


@dataclass
class TableCounts:
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # invalid rows left out (only with skip_invalid)
    dropped: int = 0  # rows a mapping drops on purpose (skip_when_empty, distinct); see warnings


@dataclass
class FileLines:
    """Where every physical line of one source file went: lines = header + rows + blank + inside + repeated.
    When the file could not be split into records, `unread` lines after the break were not read."""

    lines: int = 0
    header: int = 0
    rows: int = 0  # records read (each in its table's `read`)
    blank: int = 0  # blank lines and ",,,," rows
    inside: int = 0  # the extra lines of rows whose quoted values hold line breaks
    multiline: int = 0  # rows spanning more than one line
    repeated: int = 0  # lines repeating the header (files joined into one), skipped
    unread: int = 0
    stopped_at: int | None = None

    def format(self, file: str) -> str:
        parts = [f"{self.header} header"] if self.header else []
        parts.append(f"{self.rows:,} row{'s' if self.rows != 1 else ''}")
        if self.blank:
            parts.append(f"{self.blank:,} blank")
        if self.inside:
            parts.append(f"{self.inside:,} more inside the quoted values of {self.multiline:,} multi-line "
                         f"row{'s' if self.multiline != 1 else ''}")
        if self.repeated:
            parts.append(f"{self.repeated:,} repeating the header")
        if self.unread:
            parts.append(f"{self.unread:,} from line {self.stopped_at:,} on not read (see the error)")
        return f"{file}: {self.lines:,} line{'s' if self.lines != 1 else ''}: {', '.join(parts)}"


@dataclass
class ImportReport:
    tables: dict[str, TableCounts] = field(default_factory=dict)
    errors: list[RowIssue] = field(default_factory=list)  # the first KEPT_ERRORS
    warnings: list[RowIssue] = field(default_factory=list)
    error_count: int = 0
    written: bool = False
    files: dict[str, FileLines] = field(default_factory=dict)
    # a file that cannot be split into records (broken quoting, ragged rows, not UTF-8): nothing
    # is written, with or without skip_invalid, since which rows it holds is unknown
    structural: bool = False

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def counts(self, table: str) -> TableCounts:
        return self.tables.setdefault(table, TableCounts())

    def add_error(self, issue: RowIssue) -> None:
        self.error_count += 1
        if len(self.errors) < KEPT_ERRORS:
            self.errors.append(issue)

    def format_issues(self, limit: int = 20) -> str:
        """Errors, then warnings, one a line; at most `limit` errors and a count of the rest."""
        lines = [str(e) for e in self.errors[:limit]]
        more = self.error_count - min(limit, len(self.errors))
        if more > 0:
            lines.append(f"… and {more} more error{'s' if more != 1 else ''}")
        lines += [f"warning: {w}" for w in self.warnings[:limit]]
        if len(self.warnings) > limit:
            lines.append(f"… and {len(self.warnings) - limit} more warnings")
        return "\n".join(lines)

    def format_summary(self) -> str:
        out = []
        for name, c in self.tables.items():
            extra = f", {c.dropped} dropped by the mapping" if c.dropped else ""
            out.append(f"{name}: {c.read} read, {c.inserted} inserted, {c.updated} updated, "
                       f"{c.unchanged} unchanged, {c.skipped} skipped{extra}")
        out += [f.format(name) for name, f in self.files.items()]
        return "\n".join(out)


class ImportFailed(Exception):
    """Invalid rows were found and nothing was written; `report` lists them."""

    def __init__(self, report: ImportReport):
        n = report.error_count
        why = " (a file that cannot be split into rows is never imported in part)" if report.structural else ""
        stopped = [f.format(name) for name, f in report.files.items() if f.unread]
        super().__init__(f"import failed, nothing was written{why}: {n} problem{'s' if n != 1 else ''}\n"
                         + "\n".join([report.format_issues(), *stopped]))
        self.report = report


class ImportInputError(ValueError):
    """PATH cannot be imported at all (missing, no canonical file, wrong name); for people."""


# ---------------------------------------------------------------- value conversion


class _Bad(Exception):
    def __init__(self, reason: str):
        self.reason = reason


_SIXTY = {f"{i:02d}": i for i in range(60)}


class _Clock:
    """ISO text -> epoch seconds, with the forms exports write made cheap.

    Bare dates and naive `YYYY-MM-DDTHH:MM:SS` stamps hit caches: midnight per
    date, and the instant of HH:00 per date+hour, kept only for an hour whose
    UTC offset is the same at HH:00:00 and HH:59:59, so an hour with a DST change
    always takes the exact path. Everything else goes through periods.parse_instant.
    """

    _MAX_CACHED = 200_000

    def __init__(self, tz):
        self.tz = tz
        self._midnights: dict[str, int] = {}
        self._hours: dict[str, int] = {}
        self._utc_hours: dict[str, int] = {}  # "YYYY-MM-DDTHH" read as UTC -> epoch (for stamps with an offset)
        self._offsets: dict[str, int] = {"Z": 0, "z": 0}

    def date_only(self, s: str) -> str:
        if len(s) != 10 or s not in self._midnights:
            try:
                if len(s) != 10 or s[4] != "-" or s[7] != "-":
                    raise ValueError(s)
                self.instant(s)
            except ValueError:
                raise _Bad(DATE_HELP) from None
        return s

    def instant(self, s: str) -> int:
        n = len(s)
        if n == 10:
            v = self._midnights.get(s)
            if v is not None:
                return v
        elif n == 19:
            base = self._hours.get(s[:13])
            if base is not None and s[13] == ":" and s[16] == ":":
                mi, se = _SIXTY.get(s[14:16]), _SIXTY.get(s[17:19])
                if mi is not None and se is not None:
                    return base + mi * 60 + se
        elif n > 19:
            v = self._with_offset(s)
            if v is not None:
                return v
        return self._slow(s)

    def _with_offset(self, s: str) -> int | None:
        """`YYYY-MM-DD HH:MM:SS[.fff](Z|±HH[:MM])`, what databases and most exports write: no zone rules
        are involved, so the UTC hour is cached whatever the business timezone. None: not this form."""
        if s[4] != "-" or s[7] != "-" or s[10] not in "T " or s[13] != ":" or s[16] != ":":
            return None
        i, n = 19, len(s)
        frac = s[i] == "."
        if frac:
            i += 1
            while i < n and s[i].isdigit():
                i += 1
        off = self._offsets.get(s[i:])
        if off is None:
            m = re.fullmatch(r"([+-])(\d\d):?(\d\d)?", s[i:])
            if m is None or int(m.group(2)) > 23 or int(m.group(3) or 0) > 59:
                return None
            off = (1 if m.group(1) == "+" else -1) * (int(m.group(2)) * 3600 + int(m.group(3) or 0) * 60)
            self._offsets[s[i:]] = off
        base = self._utc_hours.get(s[:13])
        if base is None:
            try:
                if not periods.YEARS[0] <= int(s[:4]) <= periods.YEARS[1]:
                    return None  # the exact path says why
                base = int(datetime(int(s[:4]), int(s[5:7]), int(s[8:10]), int(s[11:13]), tzinfo=UTC).timestamp())
            except ValueError:
                return None  # not a date: the exact path says why
            if len(self._utc_hours) >= self._MAX_CACHED:
                self._utc_hours.clear()
            self._utc_hours[s[:13]] = base
        mi, se = _SIXTY.get(s[14:16]), _SIXTY.get(s[17:19])
        if mi is None or se is None:
            return None
        v = base + mi * 60 + se - off
        return None if frac and v < 0 else v  # before 1970 a fraction rounds the other way: exact path

    def _slow(self, s: str) -> int:
        try:
            dt = periods.parse_instant(s, self.tz)
        except ValueError:
            raise _Bad(DATE_HELP) from None
        if not periods.YEARS[0] <= dt.year <= periods.YEARS[1]:
            raise _Bad(_date_range_help(dt.year))
        epoch = periods.to_epoch(dt)
        if len(self._midnights) + len(self._hours) >= self._MAX_CACHED:
            self._midnights.clear()
            self._hours.clear()
        n = len(s)
        if n == 10 and s[4] == "-" and s[7] == "-":
            self._midnights[s] = epoch
        elif n == 19 and s[4] == "-" and s[7] == "-" and s[10] in "T ":
            top = dt.replace(minute=0, second=0, microsecond=0)
            if top.utcoffset() == top.replace(minute=59, second=59).utcoffset():
                self._hours[s[:13]] = periods.to_epoch(top)
        return epoch


def _date_range_help(year: int) -> str:
    ce = year - BE_OFFSET
    if periods.YEARS[0] <= ce <= periods.YEARS[1] and year > periods.YEARS[1]:
        return (f"{DATE_RANGE_HELP}: {year} looks like a Buddhist-era year (พ.ศ. {year} = {ce}); write "
                f"Common-Era years ({ce})")
    return DATE_RANGE_HELP


def _number(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise _Bad(NUMBER_HELP) from None
    if not -MAX_NUMBER < v < MAX_NUMBER:  # also false for nan
        raise _Bad(NUMBER_HELP if not math.isfinite(v) else NUMBER_RANGE_HELP)
    return v


def _slack_member_id(s: str) -> str:
    if _SLACK_ID.fullmatch(s):
        return s
    if s.startswith("<@") and s.endswith(">"):
        inner = s[2:-1].split("|")[0]
        if _SLACK_ID.fullmatch(inner):
            raise _Bad(f"is a Slack mention, not a member id: write {inner} alone")
    if _SLACK_ID.fullmatch(s.upper()) and any(ch.isdigit() for ch in s):
        raise _Bad(f"is not a Slack member id: member ids are in capitals ({s.upper()})")
    if s.startswith("@"):
        raise _Bad(f"is a Slack name, not a member id {SLACK_ID_FORM}")
    if "@" in s:
        raise _Bad(f"is an e-mail address, not a Slack member id {SLACK_ID_FORM}")
    raise _Bad(f"is not a Slack member id {SLACK_ID_FORM}")


def _enum(allowed: tuple[str, ...]):
    table = {a: a for a in allowed}
    reason = f"is not one of {', '.join(allowed)}"

    def conv(s: str) -> str:
        v = table.get(s) or table.get(s.lower())
        if v is None:
            raise _Bad(reason)
        return v

    return conv


def _one_to_five(whole: bool):
    def conv(s: str):
        try:
            v = _number(s)
        except _Bad as b:
            if b.reason is NUMBER_RANGE_HELP:
                raise _Bad("is outside 1–5") from None
            raise
        if whole and v != int(v):
            raise _Bad("is not a whole number from 1 to 5")
        if not 1 <= v <= 5:
            raise _Bad("is outside 1–5")
        return int(v) if whole else v

    return conv


class _Converters:
    """Text -> stored value per column kind, for one import (timezone, base currency)."""

    def __init__(self, config: AppConfig):
        self.clock = _Clock(config.tz)
        self.base = config.currency.upper()
        self._keys: dict[str, tuple[str, int, int]] = {}
        self._spans: dict[tuple[str, str], tuple[int, int]] = {}
        self._metrics = list(catalogue())

    def for_kind(self, kind: str):
        if kind in ("str", "rep", "account"):
            return None
        if kind == "ts":
            return self.clock.instant
        if kind == "date":
            return self.clock.date_only
        if kind == "num":
            return _number
        if kind in ENUMS:
            return _enum(ENUMS[kind])
        if kind == "score":
            return _one_to_five(whole=True)
        if kind == "rating":
            return _one_to_five(whole=False)
        if kind == "currency":
            return self.currency
        if kind == "period_key":
            return self.period_key
        if kind == "metric":
            return self.metric
        if kind == "slack_id":
            return _slack_member_id
        raise AssertionError(kind)

    def currency(self, s: str) -> str:
        code = s.upper()
        if code != self.base:
            raise _Bad(f"is not the base currency {self.base} and no exchange rate is loaded "
                       f"(kpibot has no exchange-rate table yet; if all your data is in {code}, "
                       f"set currency = \"{code}\" in the config)")
        return code

    def period_key(self, s: str) -> str:
        v = self._keys.get(s)
        if v is None:
            try:
                naive, grain = periods.parse_period_key(s)
                start, end = periods.key_span(s, self.clock.tz)
            except periods.PeriodError:
                raise _Bad("is not a period key (use 2026, 2026-Q2, 2026-05 or 2026-W19)") from None
            norm = periods.period_key(naive, grain)
            v = (norm, periods.to_epoch(start), periods.to_epoch(end))
            self._keys[s] = self._keys[norm] = v
        return v[0]

    def key_span(self, key: str) -> tuple[int, int]:
        """[start, end) of a key period_key() has returned."""
        return self._keys[key][1:]

    def spend_span(self, day: str, period: str) -> tuple[int, int]:
        v = self._spans.get((day, period))
        if v is None:
            start = datetime.fromisoformat(day)
            end = periods.shift(start, period, 1)
            v = (self.clock.instant(day), periods.to_epoch(end.replace(tzinfo=self.clock.tz)))
            if len(self._spans) >= _Clock._MAX_CACHED:
                self._spans.clear()
            self._spans[(day, period)] = v
        return v

    def metric(self, s: str) -> str:
        key = s.lower()
        if key in self._metrics:
            return key
        close = difflib.get_close_matches(key, self._metrics, n=1)
        hint = f" (did you mean {close[0]}?)" if close else f" (see `kpibot kpis`; e.g. {self._metrics[0]})"
        raise _Bad(f"is not a KPI key{hint}")


# ---------------------------------------------------------------- row rules beyond single values

_INVALID = object()  # a value that failed conversion: later rules must not report it again


def _check_opportunity(pos):
    st, cr, cl, am = pos["status"], pos["created_at"], pos["closed_at"], pos["amount"]

    def check(out, line):
        """(column, reason, quote the value?, column whose value the reason quotes in brackets)"""
        status, closed = out[st], out[cl]
        if status is _INVALID or closed is _INVALID:
            return ()
        created = out[cr]
        if status == "open":
            if closed is None:
                return ()  # the common case, decided without building a list
            issues = [("closed_at", "must be empty when status is open", True, None)]
        elif closed is None:
            issues = [("closed_at", f"is required when status is {status}", False, None)]
        else:
            issues = []
        if status == "won" and out[am] is None:
            issues.append(("amount", "is required when status is won", False, None))
        if closed is not None and created is not _INVALID and closed < created:
            issues.append(("closed_at", "is before created_at", True, "created_at"))
        return issues

    return check


def _check_rep(pos, linked: dict[str, tuple[int, str]]):
    """A Slack user linked to two reps of one file: their "my …" questions would read only one of them.
    `linked` (slack_user_id -> first line, rep_id) is left filled for the check against stored reps."""
    rid, sid = pos["rep_id"], pos["slack_user_id"]

    def check(out, line):
        slack, rep = out[sid], out[rid]
        if slack is None or slack is _INVALID or rep is _INVALID:
            return ()
        first = linked.setdefault(slack, (line, rep))
        if first[0] == line or first[1] == rep:  # the same rep twice is reported as a duplicate id
            return ()
        return [("slack_user_id", f"is also rep {first[1]}'s (line {first[0]}): a Slack user links to one rep, "
                                  f"whose numbers their \"my …\" questions read", True, None)]

    return check


def _derive_spend(pos, conv: _Converters):
    d, p, s, e = pos["date"], pos["period"], pos["start_at"], pos["end_at"]

    def fill(out):
        out[s], out[e] = conv.spend_span(out[d], out[p])

    return fill


def _derive_key_span(pos, conv: _Converters):
    k, s, e = pos["period"], pos["start_at"], pos["end_at"]

    def fill(out):
        out[s], out[e] = conv.key_span(out[k])

    return fill


def _row_function(plan, fail, warn_ref, known):
    """Compile a column plan to one straight-line function `row_fn(values, out, line, row) -> bad`.

    Why generated code: a loop over (position, converter, flags) tuples per
    column was most of the import's Python time; unrolled it is about half.
    """
    ns = {"_Bad": _Bad, "_INVALID": _INVALID, "fail": fail, "warn_ref": warn_ref}
    src = ["def row_fn(values, out, line, row):", "    bad = False"]
    for p, i, conv, c, req, ref, ident in plan:
        # an id loses zero-width characters too: a literal, so the line costs no lookup
        strip = f"strip({_BLANK_TEXT!r})" if ident else "strip()"
        src += [f"    raw = values[{i}].{strip}", "    if raw:"]
        if conv is not None:
            ns[f"conv{p}"] = conv
            src += ["        try:",
                    f"            out[{p}] = conv{p}(raw)",
                    "        except _Bad as b:",
                    f"            out[{p}] = _INVALID",
                    "            bad = True",
                    f"            fail(line, {c!r}, raw, b.reason, row, values)"]
        else:
            src.append(f"        out[{p}] = raw")
            if ref is not None:
                ns[f"known{p}"] = known[ref]
                src += [f"        if raw not in known{p}:", f"            warn_ref(line, {c!r}, {ref!r}, raw)"]
        if req:
            src += ["    else:",
                    f"        out[{p}] = _INVALID",
                    "        bad = True",
                    f"        fail(line, {c!r}, None, 'is required but empty', row, values)"]
    src.append("    return bad")
    exec("\n".join(src), ns)  # noqa: S102 - the source is built above from column names only
    return ns["row_fn"]


# ---------------------------------------------------------------- writing


# tables whose rows are purchases (kpis.md), as derive.refresh_purchases names them
_PURCHASE_KIND = {"opportunities": "won", "orders": "order"}


class _Writer:
    """Upserts batches of one table; counts inserted / updated / unchanged against the stored rows."""

    _PREFETCH = 2000  # keys per lookup: 4 key columns x 2000 stays under both databases' parameter limits

    def __init__(self, conn: Connection, table: str, dbcols: list[str]):
        t = TABLES[table].__table__
        self.conn = conn
        keys = key_columns(table)
        self.key_pos = [dbcols.index(k) for k in keys]
        dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
        ins = dialect.insert(t)
        upd = {c: ins.excluded[c] for c in dbcols if c not in keys}
        stmt = (ins.on_conflict_do_update(index_elements=keys, set_=upd) if upd
                else ins.on_conflict_do_nothing(index_elements=keys))
        compiled = stmt.compile(dialect=conn.dialect, column_keys=dbcols)
        self.sql = compiled.string
        self.names = None if compiled.positional else dbcols
        if compiled.positional:
            assert list(compiled.positiontup) == dbcols, compiled.positiontup
        # PostgreSQL: a batch is one INSERT … SELECT FROM unnest(one array per column) and a lookup one
        # JOIN unnest(key arrays): a few parameters and a short statement, prepared once, instead of a
        # statement per row (executemany) or thousands of placeholders psycopg parses every time
        self.pg: tuple[str, str] | None = None
        if conn.dialect.name == "postgresql":
            start = self.sql.index(" VALUES (")
            end = self.sql.index(") ON CONFLICT", start)
            casts = {c: t.c[c].type.compile(dialect=conn.dialect) for c in dbcols}
            if all(re.fullmatch(r"[A-Z ]+", x) for x in casts.values()):  # plain types: VARCHAR, BIGINT, FLOAT
                q = conn.dialect.identifier_preparer.quote
                cols = ", ".join(q(c) for c in dbcols)
                arrays = ", ".join(f"%s::{casts[c]}[]" for c in dbcols)
                write = f"{self.sql[:start]} SELECT * FROM unnest({arrays}) AS v({cols}){self.sql[end + 1:]}"
                karrays = ", ".join(f"%s::{casts[k]}[]" for k in keys)
                kcols = ", ".join(q(k) for k in keys)
                look = (f"SELECT {', '.join(f't.{q(c)}' for c in dbcols)} FROM {q(table)} t "
                        f"JOIN unnest({karrays}) AS k({kcols}) USING ({kcols})")
                self.pg = (write, look)
        self.select = select(*[t.c[c] for c in dbcols])
        kc = [t.c[k] for k in keys]
        target = kc[0] if len(kc) == 1 else tuple_(*kc)
        self.lookup = self.select.where(target.in_(bindparam("keys", expanding=True)))
        # A table empty when its file starts needs no lookups: keys repeated within the
        # file are rejected as duplicates, so every written row is new.
        self.fresh = conn.execute(select(kc[0]).limit(1)).first() is None
        self.account_pos = dbcols.index("account_id") if "account_id" in dbcols else None
        self.dbcols = dbcols
        self.replaced: list[tuple] = []  # the stored rows that write() overwrote (derived data follows them)
        self.wrote = False
        self.table = table

    def drop_indexes(self) -> list[str]:
        """On SQLite, drop the secondary indexes of a table empty at the start of its file; returns
        the statements that recreate them. Building an index once over all rows is far cheaper than
        keeping 5+ B-trees up to date row by row. DDL is transactional on SQLite, so a failed
        import rolls the drop back with the rows."""
        if not self.fresh or self.conn.dialect.name != "sqlite":
            return []
        rows = self.conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
            (self.table,)).all()
        if not rows:
            return []
        # pysqlite opens a transaction only before DML: make sure the DROPs are inside one
        if not self.conn.connection.dbapi_connection.in_transaction:
            self.conn.exec_driver_sql("BEGIN")
        for name, _ in rows:
            self.conn.exec_driver_sql(f'DROP INDEX "{name}"')
        return [sql for _, sql in rows]

    def key(self, row):
        kp = self.key_pos
        return row[kp[0]] if len(kp) == 1 else tuple(row[i] for i in kp)

    def write(self, rows: list[tuple], counts: TableCounts) -> list[tuple]:
        """Write what is new or changed; returns those rows."""
        keys = [] if self.fresh else [self.key(r) for r in rows]
        existing = {}
        if self.pg is not None and keys:
            kp = self.key_pos
            params = tuple([r[i] for r in rows] for i in kp)
            for r in self.conn.exec_driver_sql(self.pg[1], params):
                t = tuple(r)
                existing[self.key(t)] = t
        for i in range(0, len(keys) if self.pg is None else 0, self._PREFETCH):
            for r in self.conn.execute(self.lookup, {"keys": keys[i : i + self._PREFETCH]}):
                t = tuple(r)
                existing[self.key(t)] = t
        if not existing:
            changed = rows
            counts.inserted += len(rows)
        else:
            changed = []
            for k, r in zip(keys, rows, strict=True):
                old = existing.get(k)
                if old is None:
                    counts.inserted += 1
                elif old != r:
                    counts.updated += 1
                    self.replaced.append(old)
                else:
                    counts.unchanged += 1
                    continue
                changed.append(r)
        if changed:
            self.wrote = True
            if self.pg is not None:
                self._write_pg(changed)
            else:
                params = changed if self.names is None else [dict(zip(self.names, r, strict=True)) for r in changed]
                self.conn.exec_driver_sql(self.sql, params)
        return changed

    def _write_pg(self, rows: list[tuple]) -> None:
        self.conn.exec_driver_sql(self.pg[0], tuple(map(list, zip(*rows, strict=True))))  # type: ignore[index]


# ---------------------------------------------------------------- duplicate keys

# above any line number: the line of a key seen in an earlier file of the same table (see _SeenKeys.retag)
_FILE_TAG = 1 << 40


class _SeenKeys:
    """The keys of one file with the line each was first seen on, in about 40 bytes a key.

    The latest keys are kept exactly in a dict. Every _CHUNK keys they move out: their
    64-bit hashes, lines and ordinals into sorted numpy runs (merged as they grow, so a
    lookup searches a few), their text into one joined string per chunk, and their hashes
    into a bit filter that spares almost every new key the search. A hash found in a run is
    confirmed against the stored key text, so a hash collision is never taken for a duplicate.
    """

    _CHUNK = 16384
    _BITS = 1 << 26  # the filter: 8 MB (first() masks with _BITS - 1 written out)

    def __init__(self):
        self.recent: dict = {}
        self.moved = 0  # keys moved out of `recent`
        self.bits: bytearray | None = None
        self.runs: list = []  # (sorted hashes, lines, ordinals), numpy arrays
        self.texts: list[str] = []  # per chunk: repr of its keys, joined by NUL (which repr escapes)
        self._split: tuple[int, list[str]] = (-1, [])

    def first(self, key, line: int) -> int:
        """The line `key` was first seen on; `line` (and remembered) when it is new.
        (_Run._source inlines these steps in its loop.)"""
        first = self.recent.setdefault(key, line)
        if first == line:
            bits = self.bits
            if bits is not None:  # some keys were moved out
                b = hash(key) & 0x3FFFFFF
                if bits[b >> 3] >> (b & 7) & 1:
                    first = self.older(key, line)
            if first == line and len(self.recent) >= self._CHUNK:
                self._move_out()
        return first

    def retag(self, tag: int) -> None:
        """The keys seen so far become another file's: a line L becomes tag * _FILE_TAG + L, so a key of
        the next file is told apart as repeating one of an earlier file rather than one of its own."""
        base = tag * _FILE_TAG
        recent = self.recent
        for k, v in recent.items():
            if v < _FILE_TAG:
                recent[k] = v + base
        if self.runs:
            import numpy as np

            self.runs = [(h, np.where(ln < _FILE_TAG, ln + base, ln), o) for h, ln, o in self.runs]

    def older(self, key, line: int) -> int:
        """After a filter hit: the line of `key` among the moved-out keys, else `line`."""
        old = self._search(key)
        if old is None:
            return line
        del self.recent[key]  # a later repeat finds the first line again
        return old

    def _move_out(self) -> None:
        import numpy as np

        keys = list(self.recent)
        n = len(keys)
        hashes = np.fromiter(map(hash, keys), dtype=np.int64, count=n)
        lines = np.fromiter(self.recent.values(), dtype=np.int64, count=n)
        ordinals = np.arange(self.moved, self.moved + n, dtype=np.int64)
        self.texts.append("\0".join(map(repr, keys)))
        if self.bits is None:
            self.bits = bytearray(self._BITS // 8)
        bits = np.frombuffer(self.bits, dtype=np.uint8)
        b = hashes & (self._BITS - 1)
        np.bitwise_or.at(bits, b >> 3, (1 << (b & 7)).astype(np.uint8))
        order = np.argsort(hashes, kind="stable")
        self.runs.append((hashes[order], lines[order], ordinals[order]))
        while len(self.runs) > 1 and len(self.runs[-2][0]) <= 2 * len(self.runs[-1][0]):
            b2, b1 = self.runs.pop(), self.runs.pop()
            hs = np.concatenate((b1[0], b2[0]))
            order = np.argsort(hs, kind="stable")
            self.runs.append((hs[order], np.concatenate((b1[1], b2[1]))[order],
                              np.concatenate((b1[2], b2[2]))[order]))
        self.moved += n
        self.recent.clear()

    def _search(self, key) -> int | None:
        h, text = hash(key), repr(key)
        found = None
        for hashes, lines, ordinals in self.runs:
            i = int(hashes.searchsorted(h, "left"))
            j = int(hashes.searchsorted(h, "right"))
            for x in range(i, j):
                ordinal = int(ordinals[x])
                if self._text(ordinal) == text and (found is None or int(lines[x]) < found):
                    found = int(lines[x])
        return found

    def _text(self, ordinal: int) -> str:
        chunk, at = divmod(ordinal, self._CHUNK)
        if self._split[0] != chunk:
            self._split = (chunk, self.texts[chunk].split("\0"))
        return self._split[1][at]


# ---------------------------------------------------------------- sources


@dataclass
class _Source:
    table: str
    path: Path
    mapped: TableMapping | None = None  # None: a canonical file
    bound: BoundTable | None = None

    @property
    def file(self) -> str:
        return self.path.name


class _Warnings:
    """One warning line per (file, column, kind), with a count and the first lines."""

    def __init__(self):
        self._agg: dict[tuple, list] = {}

    def add(self, file: str, column: str, kind: str, line: int, value: str | None) -> None:
        a = self._agg.get((file, column, kind))
        if a is None:
            self._agg[(file, column, kind)] = [1, [line], value]
        else:
            a[0] += 1
            if len(a[1]) < _SAMPLE_LINES:
                a[1].append(line)

    def issues(self, written: bool) -> list[RowIssue]:
        """`written`: whether the import writes its rows; a failed one must not say they were."""
        out = []
        # a failed import lists these after its errors: say they are not among the reasons
        kept = "imported anyway" if written else "not an error (imported once the errors are fixed)"
        for (file, column, kind), (n, lines, value) in self._agg.items():
            shown = ", ".join(map(str, lines)) + (", …" if n > len(lines) else "")
            rows, refer, have = (f"{n} rows", "refer", "have") if n != 1 else ("1 row", "refers", "has")
            eg = f'e.g. "{value}"; ' if value else ""
            reasons = {
                "rep": f"{rows} {refer} to a rep not in reps ({eg}lines {shown}); {kept}",
                "account": f"{rows} {refer} to an account not in accounts ({eg}lines {shown}); {kept}",
                "header": f"the header line is repeated on line{'s' if n != 1 else ''} {shown} (files joined into "
                          f"one?); skipped, not read as {'rows' if n != 1 else 'a row'}",
                "trailing": f"{rows} {have} more fields than the header, all empty (lines {shown}); ignored",
                "multiline": f"{rows} {have} a quoted value with line breaks (starting on lines {shown}); "
                             f"read as one row each",
                "skip_when_empty": f"{rows} skipped because {column} is empty (lines {shown}), "
                                   f"as the mapping's skip_when_empty says",
            }
            out.append(RowIssue(file, lines[0], column, reasons[kind], None, n))
        return out


def _plan(path: Path, mapping: Mapping | None, report: ImportReport) -> list[_Source]:
    if not path.exists():
        if path.is_symlink():
            raise ImportInputError(f"{path} is a link to {os.readlink(path)}, which does not exist (a share or "
                                   f"drive not mounted?)")
        raise ImportInputError(f"{path} does not exist")
    if not path.is_file() and not path.is_dir():
        raise ImportInputError(f"{path} {_not_regular(path)}")
    if path.is_file():
        if path.suffix.lower() != ".csv" and (why := _not_text(path)) is not None:
            raise ImportInputError(f"{path.name} {why}")
        folder, only = path.parent, path.name
    else:
        folder, only = path, None
    # a link that leads nowhere is listed too: a table's file that cannot be read is named, not left out
    csvs = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv" and not p.is_dir())
    if only is not None:
        csvs = [p for p in csvs if p.name == only] or [path]
    sources: list[_Source] = []
    named: set[str] = set()
    if mapping is not None:
        for tm in mapping.tables:
            if only is not None and tm.source != only:
                continue
            p = _source_path(tm, folder, mapping)
            sources.append(_Source(tm.target, p, tm))
            named.add(tm.source)
        if only is not None and not sources:
            raise ImportInputError(f"the mapping {mapping.path.name} reads no file called {only}")
    if mapping is None:
        _shipped_mapping_hint(path, {p.name for p in csvs})
    mapped_tables = {s.table for s in sources}
    for p in csvs:
        if p.name in named or (mapping is not None and p.name in mapping.ignore):
            continue
        table = p.stem.lower()
        if table in TABLES and table not in mapped_tables:
            sources.append(_Source(table, p))
        elif only is not None and mapping is None:
            raise ImportInputError(
                f"{p.name}: a single file must be named after its table ({', '.join(f'{t}.csv' for t in TABLES)})"
            )
        else:
            why = (f"its table is filled by the mapping {mapping.path.name} (tables: {', '.join(TABLES)})"
                   if table in mapped_tables
                   else f"the name is not a canonical table ({_meant(p) or 'tables: ' + ', '.join(TABLES)})")
            report.warnings.append(RowIssue(p.name, None, "", f"ignored: {why}"))
    if not sources:
        found = [f"{p.name}{f' ({m})' if (m := _meant(p)) else ''}" for p in csvs][:10]
        zips = sorted(p.name for p in folder.iterdir() if p.suffix.lower() == ".zip")[:3]
        held = (f"; found {', '.join(found)}" if found else "; it holds no .csv file"
                + (f" but {', '.join(zips)}: unzip it into the folder first" if zips else ""))
        raise ImportInputError(
            f"nothing to import in {path}: no CSV named after a canonical table "
            f"(e.g. opportunities.csv){' and no file the mapping reads' if mapping else ''}{held}"
        )
    for s in sources:
        _readable(s.path)
    order = list(TABLES)
    # reps and accounts first, so references to them from the same import are known
    sources.sort(key=lambda s: order.index(s.table))
    for s in sources:
        if s.mapped is not None:
            header = _read_header(s.path)
            s.bound = s.mapped.bind(header or [])
            missing = [c for c, k in KINDS[s.table].items() if k.endswith("*") and c not in s.bound.columns]
            if missing:
                raise MappingError(f"{s.mapped.where}: required column(s) {', '.join(missing)} of "
                                   f"{s.table} are not mapped")
    return sources


def _not_regular(path: Path) -> str:
    """Why `path`, neither a file nor a folder, cannot be imported."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISFIFO(mode):
        return ("is a pipe (`kpibot import <(…)` or a FIFO), not a file or a folder: kpibot reads a file more than "
                "once, so save the export to a file first and import that")
    return "is not a file or a folder (a device or a socket?): kpibot imports CSV files"


def _readable(path: Path) -> None:
    """A table's file that cannot be opened stops the import before anything is read: left out, the
    import would look complete."""
    if path.is_file():
        return
    if path.is_symlink() and not path.exists():
        raise ImportInputError(f"{path}: cannot read the file: it is a link to {os.readlink(path)}, which does not "
                               f"exist (a share or drive not mounted?); nothing was written")
    raise ImportInputError(f"{path}: cannot read the file: it {_not_regular(path)}; nothing was written")


def _shipped_mapping_hint(path: Path, names: set[str]) -> None:
    """A folder holding the files a shipped mapping reads, imported without it, would fail on headers
    that look nothing like the canonical ones: say which mapping reads them instead."""
    for short, fname in sorted(SHORTHANDS.items()):
        try:
            m = load_mapping(MAPPINGS_DIR / fname)
        except MappingError:
            continue
        sources = {tm.source for tm in m.tables}
        if sources <= names and any(Path(src).stem.lower() not in TABLES for src in sources):
            held = f"{path.name} is" if path.is_file() else f"{path} holds {', '.join(sorted(sources))}:"
            raise ImportInputError(f"{held} the export the shipped mapping {short!r} reads; import it with: "
                                   f"kpibot import {path} --mapping {short}")


def _meant(p: Path) -> str:
    """'did you mean leads.csv?' for a file name close to a table's: a download's copy number
    ("leads (1).csv"), a date or "export" around the name, a singular, a typo; '' if none is."""
    stem = re.sub(r"\s*\(\d+\)$", "", p.stem.lower()).strip()
    words = [w for w in re.split(r"[\s_\-.]+", stem) if w and not w.isdigit() and w not in ("export", "copy")]
    tries = ["_".join(words), *words, stem]
    for t in tries:
        near = difflib.get_close_matches(t, list(TABLES), n=1, cutoff=0.75)
        if near:
            return f"did you mean {near[0]}.csv?"
    return ""


def _source_path(tm: TableMapping, folder: Path, mapping: Mapping) -> Path:
    """A mapping's `source`, found inside the imported folder or else the mapping file's own folder.
    A mapping cannot read anything else: not an absolute path, not `..`, not a link leading out
    (a mapping file shared with you must not import /etc/passwd or your SSH keys as reps)."""
    name = tm.source
    rel = Path(name)
    if rel.is_absolute() or rel.drive or name.startswith(("~", "\\")):
        raise MappingError(f"{tm.where}: source {name!r} is an absolute path; a source is a file name "
                           f"inside the imported folder ({folder})")
    if ".." in rel.parts or ".." in Path(name.replace("\\", "/")).parts:
        raise MappingError(f"{tm.where}: source {name!r} leads out of the imported folder with '..'; a source "
                           f"is a file name inside the imported folder ({folder})")
    roots = [folder]
    if mapping.path.parent.resolve() != folder.resolve() and mapping.path.parent.resolve() != MAPPINGS_DIR.resolve():
        roots.append(mapping.path.parent)
    for root in roots:
        p = root / rel
        if not p.exists() and not p.is_symlink():
            continue
        real, base = p.resolve(), root.resolve()
        if not real.is_relative_to(base):
            raise MappingError(f"{tm.where}: source {name!r} is a link to {real}, outside {root}; "
                               f"refused (copy the file into the folder instead)")
        if not real.is_file():
            raise MappingError(f"{tm.where}: source {name!r} in {root} is not a file")
        return p
    where = " or ".join(str(r) for r in roots)
    raise MappingError(f"{tm.where}: source {name} is not in {where}")


_WORD_GAPS = re.compile(r"[\s\-]+")


def _column_name(h: str) -> str:
    """The column a header cell names: case, surrounding spaces and zero-width characters aside, and
    spaces or hyphens between words read as underscores, as CRMs write them ("Opportunity ID")."""
    return _WORD_GAPS.sub("_", h.translate(_DROP_INVISIBLE).strip().lower())


def _name_ends(name: str) -> frozenset[str] | None:
    """The last characters a field can have for _column_name to make it `name` (None: any)."""
    if not name:
        return _BLANKS | {""}
    c = name[-1]
    if not c.isascii():
        return None
    ends = {c, c.upper()}
    if c == "k":
        ends.add("\u212a")  # the Kelvin sign: of all characters beyond ASCII, the only one lowered into it
    if c == "_":
        ends.add("-")
    return frozenset(ends) | _BLANKS


def _header_again(row: list[str], names: list[str], kinds: dict[str, str]) -> str | None:
    """For a row whose first field reads as the header's first name: "" when the row is the header
    again (two exports joined: the rows after it read as before), why the file cannot be read on when
    it is a header of other columns, None when it is a row after all."""
    found = [_column_name(v) for v in row]
    if found == names:
        return ""
    named = [n for n in found if n]
    known = set(names) | set(kinds)
    if len(named) >= 2 and all(n in known for n in named):
        return (f"a header line again, with other columns than line 1's ({', '.join(v.strip() for v in row)}): "
                f"two exports joined into one file? The rows after it cannot be read by line 1's header: "
                f"import them as a file of their own")
    return None


def _read_header(path: Path) -> list[str] | None:
    """The header a mapping is bound to; a header that is not readable CSV stops the import here."""
    if (why := _not_text(path)) is not None:
        raise ImportInputError(f"{path.name}:1: {why}")
    with _open_source(path) as fb, io.TextIOWrapper(fb, encoding="utf-8-sig", newline="", errors="replace") as f:
        reader = csv.reader(f, strict=True)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise ImportInputError(f"{path.name}:1: header: {_read_problem(exc, 1, reader.line_num)}") from None
        if reader.line_num > MAX_ROW_LINES:
            raise ImportInputError(f"{path.name}:1: {_long_row(1, reader.line_num)}")
        if header is not None and (why := _other_separator(header)) is not None:
            raise ImportInputError(f"{path.name}:1: {why}")
        return header


# ---------------------------------------------------------------- the import


def import_path(
    engine: Engine,
    path: Path,
    *,
    config: AppConfig,
    mapping: Path | str | None = None,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    batch_size: int = 5000,
    origin: str = "import",
    fresh_to: int | None = None,
    before_commit: Callable[[Connection, ImportReport], None] | None = None,
) -> ImportReport:
    """Import a folder of CSV files, or one file, into the store (data.md, Import rules).

    Raises ImportFailed (nothing written) when invalid rows exist and not skip_invalid;
    ImportInputError / MappingError, before anything is read, for an unusable PATH or mapping.

    In the import's transaction, each imported table is recorded as fresh up to `fresh_to` (default:
    now) by `origin` (kpi_engine.freshness), then `before_commit(conn, report)` runs: a sync records
    its watermarks there, so they commit with the rows or not at all (an exception rolls back both).
    """
    report = ImportReport()
    m = load_mapping(mapping) if mapping is not None else None
    sources = _plan(Path(path), m, report)
    run = _Run(engine, config, report, skip_invalid, progress, max(1, batch_size), sources)
    run.config, run.origin, run.fresh_to, run.before_commit = config, origin, fresh_to, before_commit
    run.execute()
    return report


class _Run:
    def __init__(self, engine, config, report, skip_invalid, progress, batch_size, sources):
        self.engine, self.report, self.skip_invalid = engine, report, skip_invalid
        self.progress, self.batch_size, self.sources = progress, batch_size, sources
        self.conv = _Converters(config)
        self.touched = rollups.Touched(rollups.Rollups.from_config(config))
        self.bulk: set[str] = set()  # tables loaded in bulk: statistics refreshed after the import
        self.warn = _Warnings()
        self.total_bytes = sum(s.path.stat().st_size for s in sources)
        self.bytes_before = 0
        self.known: dict[str, set[str]] = {}
        self.left = Counter(s.table for s in sources)  # the sources of each table not read yet
        self.shared: dict[str, tuple[_SeenKeys, list[str]]] = {}
        self.config: AppConfig | None = None
        self.origin, self.fresh_to, self.before_commit = "import", None, None

    @property
    def writing(self) -> bool:
        # after the first invalid row an all-or-nothing import only validates: it will be rolled back
        return not self.report.structural and (self.skip_invalid or self.report.error_count == 0)

    def execute(self) -> None:
        try:
            self._execute()
        except BaseException as exc:
            # Ctrl-C lands wherever the process is: in a statement, in a rollback or a pool's reset after
            # one (which then fail in turn, with the interrupt as their context), or after the commit.
            # Whichever error comes out, the import was interrupted, and whether it was written is known.
            if _interrupted(exc) and not isinstance(exc, ImportInterrupted):
                raise ImportInterrupted(self.report.written) from None
            raise

    def _execute(self) -> None:
        with self.engine.connect() as conn, _temp_on_disk(conn):
            trans = conn.begin()
            try:
                _write_lock(conn)  # before anything is read: what the store holds decides how rows are written
                self.known = {
                    "rep": {r[0] for r in conn.execute(text("SELECT rep_id FROM reps"))},
                    "account": {r[0] for r in conn.execute(text("SELECT account_id FROM accounts"))},
                }
                self._store_warnings(conn)
                for s in self.sources:
                    self._source(conn, s)
                    self.bytes_before += s.path.stat().st_size
                self.report.warnings.extend(self.warn.issues(self.writing))
                if not self.writing:
                    trans.rollback()
                    for c in self.report.tables.values():
                        c.inserted = c.updated = c.unchanged = 0
                    raise ImportFailed(self.report)
                if self.bulk:
                    rollups.analyze_in_transaction(conn)
                self._record(conn)
                if self.before_commit is not None:
                    self.before_commit(conn, self.report)
                trans.commit()
                self.report.written = True
            finally:
                if trans.is_active:
                    trans.rollback()
        if self.bulk and self.report.written:
            rollups.vacuum_analyze(self.engine, self.bulk)  # interrupted here: written, statistics not refreshed

    def _error(self, file, line, column, reason, value=None) -> None:
        self.report.add_error(RowIssue(file, line, column, reason, value))

    def _store_warnings(self, conn: Connection) -> None:
        """An import read in another currency or timezone than the store's rows, or into the demo company."""
        if self.config is None:
            return
        has_data = any(conn.execute(text(f"SELECT 1 FROM {t} LIMIT 1")).first() is not None
                       for t in dict.fromkeys([*(s.table for s in self.sources), "opportunities", "orders"]))
        for msg in freshness.mismatch_warnings(conn, currency=self.conv.base, timezone=self.config.timezone,
                                               origin=self.origin, has_data=has_data):
            self.report.warnings.append(RowIssue("store", None, "", msg))

    def _record(self, conn: Connection) -> None:
        """The imported tables' freshness and the store's currency and timezone, with the rows."""
        now = int(time.time())  # the wall clock of the write, like a row's created_at
        freshness.record(conn, [s.table for s in self.sources], fresh_to=self.fresh_to or now,
                         origin=self.origin, now=now)
        if self.config is not None:
            facts = {"currency": self.conv.base, "timezone": self.config.timezone}
            if "origin" not in freshness.facts(conn):
                facts["origin"] = self.origin if self.origin == "demo" else "import"
            freshness.remember(conn, **facts)

    def _broken(self, file, line, reason) -> None:
        """The file cannot be split into rows: reported, and nothing is written."""
        self.report.structural = True
        self._error(file, line, "", reason)

    def _seen_keys(self, table: str, file: str) -> tuple[_SeenKeys, list[str]]:
        """The keys of `table` seen so far, and the files they were read from: this file's alone,
        unless other files of this import fill the table too (two teams' exports, through a mapping)."""
        self.left[table] -= 1
        shared = self.shared.pop(table, None)
        if shared is None:
            shared = (_SeenKeys(), [])
        else:
            shared[0].retag(len(shared[1]))
        shared[1].append(file)
        if self.left[table]:
            self.shared[table] = shared
        return shared

    def _slack_shared(self, conn: Connection, file: str, column: str, linked: dict[str, tuple[int, str]]) -> None:
        """A Slack user this file links to a rep that a rep stored before (or by another file of this
        import) links to as well: only one of them answers their "my …" questions. A warning: the file
        alone is right, and which of the two is wrong only the person importing knows."""
        reps: dict[str, list[str]] = {}
        for sid, rid in conn.execute(text("SELECT slack_user_id, rep_id FROM reps WHERE slack_user_id IS NOT NULL")):
            reps.setdefault(sid, []).append(rid)
        for sid, (line, rep) in linked.items():
            others = sorted(r for r in reps.get(sid, ()) if r != rep)
            if others and rep in reps[sid]:
                self.report.warnings.append(RowIssue(
                    file, line, column, f"is also rep {', '.join(others)}'s, a rep not in this file: a Slack user "
                                        f"links to one rep, whose numbers their \"my …\" questions read; empty it "
                                        f"in the other rep's row", sid))

    def _canonical_header(self, file: str, header: list[str], names: list[str], kinds: dict[str, str]) -> bool:
        """Report what is odd in a canonical file's header; False: a required column is missing or one is
        there twice, so no row can be read."""
        report = self.report
        extra = [h.strip() for h, n in zip(header, names, strict=True) if n and n not in kinds]
        if extra:
            report.warnings.append(RowIssue(file, 1, "", f"extra column(s) ignored: {', '.join(extra)}"))
        unnamed = [str(i) for i, n in enumerate(names, 1) if not n]
        if unnamed:
            which = f"column {unnamed[0]} has" if len(unnamed) == 1 else f"columns {', '.join(unnamed)} have"
            report.warnings.append(RowIssue(file, 1, "", f"{which} no name in the header, so no table column: "
                                                         f"its values are not read (a spreadsheet's row numbers, "
                                                         f"or a comma at the end of the header line?)"))
        twice = sorted({n for n in names if n in kinds and names.count(n) > 1})
        for n in twice:
            spellings = [h.strip() for h, x in zip(header, names, strict=True) if x == n]
            also = f" (as {', '.join(spellings)})" if len(set(spellings)) > 1 else ""
            self._error(file, 1, n, f"appears more than once in the header{also}")
        missing = [c for c, k in kinds.items() if k.endswith("*") and c not in names]
        others = {n: h.strip() for h, n in zip(header, names, strict=True) if n and n not in kinds}
        for c in missing:
            near = difflib.get_close_matches(c, list(others), n=1, cutoff=0.6)
            hint = f' (is "{others[near[0]]}" it? name that column {c})' if near else ""
            self._error(file, 1, c, f"required column is missing from the header{hint}")
        return not (missing or twice)

    def _source(self, conn: Connection, src: _Source) -> None:
        table, file, report = src.table, src.file, self.report
        counts = report.counts(table)
        kinds = {c: KINDS[table].get(c, "str") for c in canonical_columns(table)}
        dbcols = [c.name for c in TABLES[table].__table__.columns if c.name != "exited_at"]
        pos = {c: i for i, c in enumerate(dbcols)}
        keys = key_columns(table)
        template = [("day" if c == "period" and table == "spend" else "" if c in keys else None) for c in dbcols]

        # a file feeding two tables is read twice, with the same lines: each read counts them afresh
        lines = report.files[file] = FileLines()
        if (why := _not_text(src.path)) is not None:
            self._broken(file, 1, why)
            lines.lines = lines.unread = _count_lines(src.path)
            lines.stopped_at = 1
            return
        with _open_source(src.path) as fb:
            # strict: a closing quote followed by text is an error, not silently glued to the value
            reader = csv.reader(io.TextIOWrapper(fb, encoding="utf-8-sig", newline=""), strict=True)
            try:
                header = next(reader, None)
            except (csv.Error, UnicodeDecodeError) as exc:
                at = _problem_line(exc, src.path, 1)
                self._broken(file, at, _read_problem(exc, at, reader.line_num, src.path))
                lines.lines = lines.unread = _count_lines(src.path)
                lines.stopped_at = 1
                return
            if header is None:
                self._error(file, 1, "", "the file is empty (a header line is needed)")
                return
            lines.header = reader.line_num
            if lines.header > MAX_ROW_LINES:
                self._broken(file, 1, _long_row(1, reader.line_num))
                lines.lines = lines.unread = _count_lines(src.path)
                lines.stopped_at, lines.header = 1, 0
                return
            bound = src.bound
            names = [_column_name(h) for h in header]
            if bound is None:
                if (why := _other_separator(header)) is not None:
                    # one field a line: which values the rows hold is unknown, so even --skip-invalid writes none
                    self._broken(file, 1, why)
                if why is not None or not self._canonical_header(file, header, names, kinds):
                    lines.rows = _skip_rows(reader, counts)
                    counts.read += lines.rows
                    lines.lines = _count_lines(src.path)
                    lines.blank = lines.lines - lines.header - lines.rows
                    return
                cols = names
                spelled = {n: h.strip() for h, n in reversed(list(zip(header, names, strict=True)))}
                origin = {c: spelled.get(c, c) for c in kinds}
            else:
                cols = bound.columns
                origin = {c: bound.origin.get(c, c) for c in kinds}
            ncols = len(header)
            known = self.known

            def shown(row, values, column, value):
                """The text to quote for `column`: what the source file says, less what is invisible (the
                zero-width characters an id lost), so a quoted id reads as it was taken."""
                if bound is not None:
                    text_ = bound.shown(row, column, value)
                    return text_.strip(_BLANK_TEXT) if text_ else text_
                return values[cols.index(column)].strip(_BLANK_TEXT) if column in cols else ""

            def fail(line, column, raw, reason, row, values):
                self._error(file, line, origin[column], reason, None if raw is None else shown(row, values, column, raw))

            def warn_ref(line, column, ref, raw):
                warn(file, origin[column], ref, line, raw)

            plan = []
            for c, k in kinds.items():
                if c in cols:
                    kind = k.rstrip("*")
                    ref = kind if kind in REFERENCE_KINDS else None
                    plan.append((pos[c], cols.index(c), self.conv.for_kind(kind), c, k.endswith("*"), ref,
                                 c in keys or ref is not None or c.endswith("_id")))
            row_fn = _row_function(plan, fail, warn_ref, known)
            check = _check_opportunity(pos) if table == "opportunities" else None
            linked: dict[str, tuple[int, str]] = {}
            if table == "reps" and "slack_user_id" in cols:
                check = _check_rep(pos, linked)
            fill = (_derive_spend(pos, self.conv) if table == "spend"
                    else _derive_key_span(pos, self.conv) if table in ("forecasts", "targets") else None)
            key_pos = [pos[k] for k in keys]
            single_key = key_pos[0] if len(key_pos) == 1 else None
            key_label = "+".join(origin[k] for k in keys)
            own_ids = known[{"reps": "rep", "accounts": "account"}[table]] if table in ("reps", "accounts") else None
            seen, earlier = self._seen_keys(table, file)
            recent, seen_chunk = seen.recent, seen._CHUNK
            batch: list[tuple] = []
            affected: set[str] = set()
            writer = _Writer(conn, table, dbcols)
            dropped = writer.drop_indexes() if self.writing else []
            skip_invalid, batch_size = self.skip_invalid, self.batch_size
            warn = self.warn.add
            last = lines.header
            read_before = counts.read
            stopped_at = None
            skip_warn = bound is not None and bound.skip_index
            # PostgreSQL cannot store a NUL in text (SQLite would, silently): found once per file, so rows
            # are only searched for it in a file that has one
            nul = _has_nul(src.path)
            # a line repeating the header (files joined into one) is looked at only when its first field
            # ends as the header's first name can: ids seldom do, so almost no row is normalised
            name0 = names[0] if names else ""
            tails = _name_ends(name0)
            try:
                for row in reader:
                    line, last = last + 1, reader.line_num
                    if last != line:  # a quoted value with line breaks
                        if last - line >= MAX_ROW_LINES:
                            self._broken(file, line, _long_row(line, last))
                            stopped_at = line
                            break
                        lines.multiline += 1
                        lines.inside += last - line
                        warn(file, "", "multiline", line, None)
                    if not row or (not row[0] and not "".join(row).strip()):
                        lines.blank += 1
                        continue  # blank lines, and the ",,,," rows spreadsheets leave at the end
                    if (tails is None or row[0][-1:] in tails) and _column_name(row[0]) == name0:
                        again = _header_again(row, names, kinds)
                        if again is not None:
                            if again:
                                self._broken(file, line, again)
                                stopped_at = line
                                break
                            lines.repeated += 1
                            warn(file, "", "header", line, None)
                            continue
                    counts.read += 1
                    if nul and "\x00" in "".join(row):
                        at = next(i for i, v in enumerate(row) if "\x00" in v)
                        self._error(file, line, header[at].strip() if at < ncols else f"field {at + 1}",
                                    "holds a NUL character (byte 0), which no database stores in text: remove "
                                    "it (is this a binary file?)")
                        counts.skipped += 1
                        continue
                    if len(row) != ncols:
                        if len(row) > ncols and not "".join(row[ncols:]).strip():
                            warn(file, "", "trailing", line, None)  # empty extra fields: nothing lost
                        else:
                            # a value with an unquoted comma, or a missing one: no telling which field
                            # holds what, so neither guessing nor skipping the row is safe
                            self._broken(file, line, _ragged(len(row), ncols, line, last))
                            skip_invalid = False
                            counts.skipped += 1
                            continue
                    if bound is None:
                        values = row
                    else:
                        if skip_warn:
                            why = bound.skip_reason(row)
                            if why is not None:
                                counts.dropped += 1
                                warn(file, why, "skip_when_empty", line, None)
                                continue
                        try:
                            values = bound.convert(row, line)
                        except ValueIssue as vi:
                            self._error(file, line, vi.column, vi.reason, vi.value)
                            counts.skipped += 1
                            continue
                        if values is None:  # a repeat of a distinct key
                            counts.dropped += 1
                            continue
                    out = template.copy()
                    bad = row_fn(values, out, line, row)
                    if check is not None:
                        for c, reason, with_value, other in check(out, line):
                            value = shown(row, values, c, out[pos[c]]) if with_value else None
                            if other is not None:
                                reason = f"{reason} ({shown(row, values, other, out[pos[other]])})"
                            self._error(file, line, origin[c], reason, value)
                            bad = True
                    if not bad:
                        k = out[single_key] if single_key is not None else tuple(out[i] for i in key_pos)
                        first = recent.setdefault(k, line)  # seen.first(k, line), inlined
                        if first == line:
                            bits = seen.bits
                            if bits is not None:
                                b = hash(k) & 0x3FFFFFF
                                if bits[b >> 3] >> (b & 7) & 1:
                                    first = seen.older(k, line)
                            if first == line and len(recent) >= seen_chunk:
                                seen._move_out()
                        if first != line:
                            kv = " / ".join(shown(row, values, c, out[pos[c]]) for c in keys)
                            if first < _FILE_TAG:
                                self._error(file, line, key_label, f"duplicates line {first}", kv)
                            elif bound is not None and bound.distinct:
                                counts.dropped += 1  # the first row of a key is kept, whichever file it is in
                                continue
                            else:
                                other, at = earlier[first // _FILE_TAG - 1], first % _FILE_TAG
                                self._error(file, line, key_label, f"duplicates {other} line {at}: both files fill "
                                                                   f"{table} in this import, and an id must be in "
                                                                   f"one of them", kv)
                            bad = True
                    if bad:
                        counts.skipped += 1
                        continue
                    if fill is not None:
                        fill(out)
                    if own_ids is not None:
                        own_ids.add(out[0])
                    if skip_invalid or report.error_count == 0:
                        batch.append(tuple(out))
                        if len(batch) >= batch_size:
                            self._flush(writer, batch, counts, affected, table)
                            batch = []
                            self._progress(table, counts, fb)
                    elif batch:
                        batch = []
            except (csv.Error, UnicodeDecodeError) as exc:
                stopped_at = _problem_line(exc, src.path, last + 1)
                self._broken(file, stopped_at, _read_problem(exc, last + 1, reader.line_num, src.path))
            lines.rows = counts.read - read_before
            if stopped_at is None:
                lines.lines = reader.line_num
            else:  # the lines from the broken row on, up to the end of the file
                accounted = lines.header + lines.rows + lines.blank + lines.inside + lines.repeated
                lines.lines = max(_count_lines(src.path), accounted)
                lines.unread, lines.stopped_at = lines.lines - accounted, accounted + 1
            if batch and self.writing:
                self._flush(writer, batch, counts, affected, table)
            if linked and self.writing:
                self._slack_shared(conn, file, origin["slack_user_id"], linked)
            with _lean_sorts(conn, bool(dropped), -16384):
                with _lean_sorts(conn, bool(dropped), -2048):
                    for sql in dropped:  # the indexes dropped for a bulk load, built once over all its rows
                        conn.exec_driver_sql(sql)
                if table == "stage_changes" and writer.fresh and writer.wrote and self.writing:
                    # every stored stage change is this file's: all exits, all exit hours
                    derive.refresh_stage_exits_and_hours(conn, None, self.touched)
                elif affected and self.writing:
                    if table == "stage_changes":
                        derive.refresh_stage_exits_and_hours(conn, sorted(affected), self.touched)
                    elif table in derive.HOURLY:  # the hours written rows lie in, now or before
                        derive.refresh_hourly(conn, table, affected)
                    else:  # opportunities, orders: the purchase chains of the customers touched
                        derive.refresh_purchase_accounts(conn, affected, self.touched)
                if self.writing:  # the rollups of every day and key the file's rows touched
                    self.touched.apply(conn)
            if writer.fresh and writer.wrote and self.writing and counts.inserted >= _BULK_ROWS:
                self.bulk.add(table)
            self._progress(table, counts, fb)

    def _flush(self, writer: _Writer, batch, counts, affected, table) -> None:
        changed = writer.write(batch, counts)
        self.touched.written(writer.conn, table, writer.dbcols, changed, writer.replaced, writer.fresh)
        if table == "stage_changes":
            if not writer.fresh:
                affected.update(r[0] for r in changed)
        elif table in _PURCHASE_KIND:
            # the customers of the written rows, and those the replaced rows belonged to
            # (a purchase moved to another customer, or no longer won, leaves its old chain)
            acct = writer.account_pos
            affected.update(r[acct] for r in changed if r[acct] is not None)
            affected.update(r[acct] for r in writer.replaced if r[acct] is not None)
        elif table in derive.HOURLY:
            at = writer.dbcols.index(derive.HOURLY[table][0])
            affected.update(derive.hour_of(r[at]) for r in changed)
            affected.update(derive.hour_of(r[at]) for r in writer.replaced)
        writer.replaced.clear()

    def _progress(self, table, counts, fb) -> None:
        if self.progress is not None:
            self.progress(table, counts.read, self.bytes_before + fb.tell(), self.total_bytes)


_BULK_ROWS = 10_000  # a first load of at least this many rows refreshes the planner's statistics


class ImportInterrupted(KeyboardInterrupt):
    """Ctrl-C during an import; `import_written`: whether its transaction had committed by then."""

    def __init__(self, written: bool):
        super().__init__("interrupted")
        self.import_written = written


def _interrupted(exc: BaseException) -> bool:
    """Whether a Ctrl-C is this error or what it arose from."""
    seen = 0
    e: BaseException | None = exc
    while e is not None and seen < 20:
        if isinstance(e, KeyboardInterrupt):
            return True
        e, seen = e.__context__ or e.__cause__, seen + 1
    return False


def _write_lock(conn: Connection) -> None:
    """Take the store's write lock for the import's whole transaction, before it reads anything: whether a
    table is empty (a first load, written without lookups and with its rollups summed from its own rows),
    the stored rows a batch is compared with and the rollups refreshed from them must all be what the
    import commits over. Two imports (or syncs) at once then run one after the other, the second seeing
    the first's rows; without it both could take an empty table for a first load, and the later commit's
    rollups would drop the other's rows.

    SQLite: BEGIN IMMEDIATE (waits as long as the busy timeout for another writer, then fails as "locked",
    exit 4). PostgreSQL: a transaction-level advisory lock keyed by database and schema, held until commit
    or rollback; its statements after it see what an import before it committed (READ COMMITTED)."""
    if conn.dialect.name == "sqlite":
        # pysqlite opens a (deferred) transaction only before DML; this one takes the write lock at once
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        from kpi_engine.db import import_lock_key

        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": import_lock_key(conn)})


@contextmanager
def _temp_on_disk(conn: Connection):
    """On SQLite, sorts and temporary B-trees spill to temporary files during an import rather than
    to memory (the store's setting), so big sorts do not grow the process. SQLite refuses the change
    inside a transaction: set before the import's opens, restored after it ends."""
    if conn.dialect.name != "sqlite":
        yield
        return
    temp = conn.exec_driver_sql("PRAGMA temp_store").scalar()
    conn.exec_driver_sql("PRAGMA temp_store = FILE")
    conn.commit()  # ends SQLAlchemy's autobegun (empty) transaction
    with _restored(conn, f"PRAGMA temp_store = {int(temp)}"):
        yield


@contextmanager
def _lean_sorts(conn: Connection, bulk: bool, cache_size: int):
    """On SQLite, after a bulk load: a smaller page cache, which also sizes the sorter's in-memory runs
    (with the store's 64 MB cache the sorts of a million rows hold >100 MB of runs). 16 MB for the
    derived tables and rollups, whose joins and lookups still need pages cached; 2 MB for the index
    builds, which only sort: small runs sort in the CPU's caches, and at 1M opportunities the seven
    builds took 4.2 s CPU against 5.8 s with 16 MB. Temporary files are on disk for the whole import
    (see _Run.execute)."""
    if not bulk or conn.dialect.name != "sqlite":
        yield
        return
    was = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = {int(cache_size)}")
    with _restored(conn, f"PRAGMA cache_size = {int(was)}", end=False):
        yield


@contextmanager
def _restored(conn: Connection, pragma: str, end: bool = True):
    """Run `pragma` (a setting put back) when the block ends. `end`: the block's transaction is over by then
    (rolled back first: nothing after a commit; after a failed one, a full disk, it ends it) and the pragma
    is committed. When the block raises, the setting is put back only on a connection still usable, and a
    failure to do so never hides the block's error: a Ctrl-C (KeyboardInterrupt) in the middle of a
    statement leaves SQLAlchemy's connection invalidated, where any statement raises PendingRollbackError,
    and the import must stop as interrupted, not with that error's traceback (the connection is discarded)."""
    def put_back() -> None:
        if end:
            conn.rollback()
        if conn.invalidated:
            return
        conn.exec_driver_sql(pragma)
        if end:
            conn.commit()

    try:
        yield
    except BaseException:
        try:
            put_back()
        except Exception:  # noqa: BLE001, S110 - the block's own error is the one to report
            pass
        raise
    put_back()


def _has_nul(path: Path) -> bool:
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            if b"\x00" in chunk:
                return True
    return False


def _open_source(path: Path):
    """A source file opened for reading; one that cannot be (permissions, a folder) stops the import
    before anything is written, naming it."""
    try:
        return path.open("rb")
    except OSError as exc:
        raise ImportInputError(f"{path}: cannot read the file ({exc.strerror or exc}); nothing was "
                               f"written") from None


def _skip_rows(reader, counts: TableCounts) -> int:
    """Rows of a file whose header is unusable: all skipped, none checked."""
    n = 0
    try:
        for row in reader:
            if row:
                n += 1
    except (csv.Error, UnicodeDecodeError):
        pass
    counts.skipped += n
    return n


def _count_lines(path: Path) -> int:
    """Physical lines as the csv module counts them (a last line without a newline counts)."""
    n, last = 0, b"\n"
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


def _ragged(n: int, ncols: int, line: int, last: int) -> str:
    if n > ncols:
        why = "a value holding a comma must be in double quotes"
    else:
        why = f"every row needs all {ncols} (an empty value is still a field: ,,)"
    spans = f" (the row runs to line {last}: is a quote opened on line {line} closed too late?)" if last != line else ""
    return f"has {n} field{'s' if n != 1 else ''} where the header has {ncols}{spans}: {why}"


def _long_row(line: int, last: int) -> str:
    return (f"one row runs from line {line} to line {last} ({last - line + 1} lines): a quote opened here is "
            f"probably never closed, swallowing the rows after it (a quote inside a quoted value is written \"\")")


def _problem_line(exc: Exception, path: Path, line: int) -> int:
    """The line of a decoding error: text is decoded in chunks, so the reader's count is not it."""
    if isinstance(exc, UnicodeDecodeError):
        with path.open("rb") as f:
            for n, raw in enumerate(f, 1):
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError:
                    return n
    return line


_SAVE_AS = 'in Excel: File > Save As > "CSV UTF-8 (Comma delimited)"'
_NOT_TEXT = {  # the first bytes of files that are not text at all
    b"PK\x03\x04": "is an Excel workbook (.xlsx) or another zip file, not CSV text",
    b"\xd0\xcf\x11\xe0": "is an Excel 97-2003 workbook (.xls), not CSV text",
    b"%PDF": "is a PDF document, not CSV text",
}
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _not_text(path: Path) -> str | None:
    """Why a file is not CSV text at all, from its first bytes; None: it may be."""
    with _open_source(path) as f:
        head = f.read(4)
    if head.startswith(b"PK\x03\x04") and (what := _zip_kind(path)) is not None:
        return what
    for magic, what in _NOT_TEXT.items():
        if head.startswith(magic):
            return f"{what}: save it as CSV ({_SAVE_AS}); nothing in it was read"
    if head.startswith(_UTF16_BOMS):
        return f"is UTF-16 text (what Excel saves as \"Unicode Text\"), not UTF-8: save it as CSV ({_SAVE_AS})"
    return None


def _zip_kind(path: Path) -> str | None:
    """What a zip file is, from the names inside it: CRMs send their exports as a zip of CSV files.
    None: not readable as a zip (the generic message covers it)."""
    try:
        with zipfile.ZipFile(path) as z:
            names = [i.filename for i in z.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if any(n.startswith("xl/") for n in names):
        return f"is an Excel workbook (.xlsx), not CSV text: save it as CSV ({_SAVE_AS}); nothing in it was read"
    if "content.xml" in names:
        return f"is an OpenDocument spreadsheet (.ods), not CSV text: save it as CSV ({_SAVE_AS}); nothing in it was read"
    inside = sorted(Path(n).name for n in names if n.lower().endswith(".csv"))
    held = f", holding {', '.join(inside[:5])}{', …' if len(inside) > 5 else ''}" if inside else ""
    return (f"is a zip archive{held}, not CSV text: unzip it and import the folder it gives "
            f"(e.g. unzip {path.name} -d {path.stem} && kpibot import {path.stem}); nothing in it was read")


def _not_utf8(path: Path) -> str:
    """Why a file is not UTF-8, from its first line that is not. Thai Windows saves "CSV (Comma delimited)"
    in Windows-874 (TIS-620), the most likely 8-bit text here, so a line that reads as Thai in it is
    named as such."""
    raw = b""
    with path.open("rb") as f:
        for raw in f:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                break
    high = [b for b in raw if b >= 0x80]
    # Thai letters are 0xA1-0xFB there, and Thai text is about half consonants (0xA1-0xCE); accented
    # Latin letters (é is 0xE9) fall among the vowels and tone marks, so they never pass for Thai
    if (len(high) >= 2 and all(0xA1 <= b <= 0xFB and not 0xDB <= b <= 0xDE for b in high)
            and sum(b <= 0xCE for b in high) * 3 >= len(high)):
        return (f"is not UTF-8 text: it reads as Thai in Windows-874 (TIS-620), what Excel saves as \"CSV "
                f"(Comma delimited)\" on Thai Windows; save it as CSV UTF-8 ({_SAVE_AS})")
    return f"is not UTF-8 text (save the file as CSV UTF-8; {_SAVE_AS})"


def _other_separator(header: list[str]) -> str | None:
    """What separates a one-field header that is really several columns: Excel in many locales saves
    "CSV" with semicolons, and a tab-separated export is often named .csv."""
    if len(header) == 1:
        for sep, name in ((";", "semicolons (;)"), ("\t", "tabs"), ("|", "bars (|)")):
            if len([h for h in header[0].split(sep) if h.strip()]) >= 2:
                return (f"the header is separated by {name}, not commas: kpibot reads comma-separated CSV "
                        f"({_SAVE_AS})")
    return None


def _read_problem(exc: Exception, line: int, at: int, path: Path | None = None) -> str:
    """What is wrong with the row starting on `line`, the reader having stopped on line `at`."""
    if isinstance(exc, UnicodeDecodeError):
        return _not_utf8(path) if path is not None else "is not UTF-8 text (save the file as CSV UTF-8)"
    msg = str(exc)
    if "unexpected end of data" in msg:
        return (f"a quote opened in this row is never closed: the file ends inside it (line {at}), so the rows "
                f"after it cannot be told apart (a quote inside a quoted value is written \"\")")
    if "expected after" in msg:
        where = (f"a quote opened on line {line} closes on line {at}, and is followed by text"
                 if at > line else "a quoted value is followed by text before the next comma")
        return f"{where} (a quote inside a quoted value is written \"\"); nothing after it was read"
    if "field larger than field limit" in msg:
        if at == line:  # no line break inside the value: nothing points at a quote
            return (f"a value runs over {csv.field_size_limit():,} characters: the line is too long to be a row "
                    f"of a CSV export; nothing after it was read")
        return (f"a value runs over {csv.field_size_limit():,} characters (to line {at}): a quote opened "
                f"here is probably never closed; nothing after it was read")
    return f"is not readable CSV ({exc}); nothing after it was read"
