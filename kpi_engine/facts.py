"""The facts the write-time rollups keep (kpi_engine/rollups.py) and the engine reads (Calc.roll).

A fact is a set of rows (won or lost deals by close, leads by creation, ...) placed in a day of the
business zone by one instant, with a few sums (counts, amounts, seconds). Each cube of a fact keeps
those sums per day and key (rep; team and region; product; ...) in rollup_days, and running totals in
rollup_cum, so a question about whole days reads two rows per key whatever the period's length.

What a key means is the same SQL as the row path's (kpi_engine.calc dimension maps): a rep's team
and region are the reps table's, a customer's segment and region the accounts table's; those cubes
are recomputed when the reps or accounts change (rollups.Touched).

Days are numbered (ts + utcoffset(ts)) // 86400 in the business zone: day d is the local date
1970-01-01 + d, the same number in Python and in SQL (DayClock.sql).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from kpi_engine.calc import (
    ACT_DIMS,
    CONTENT_DIMS,
    CUSTOMER_DIMS,
    DAY,
    LEAD_DIMS,
    OPP_DIMS,
    STAGE_DIMS,
    SURVEY_DIMS,
    TRAINING_DIMS,
)

_BIAS = 100_000  # days added before an integer division so it floors on both databases (no negatives)
HORIZON = 366  # gaps: days of running totals kept per first-purchase day (the longest period read)


# ---------------------------------------------------------------- days in the business zone


class DayClock:
    """Local day numbers of one zone: day(ts), the first instant of a day, and the same in SQL."""

    def __init__(self, tz: ZoneInfo):
        self.tz = tz
        self.name = tz.key

    def offset(self, ts: int) -> int:
        off = datetime.fromtimestamp(ts, self.tz).utcoffset()
        return int(off.total_seconds()) if off is not None else 0

    def day(self, ts: int) -> int:
        return (ts + self.offset(ts)) // DAY

    def days(self, instants: list[int]) -> set[int]:
        """The days of many instants (the offsets looked up once per change, not per instant)."""
        if not instants:
            return set()
        lo = min(instants)
        changes = self.transitions(lo, max(instants))
        if not changes:
            off = self.offset(lo)
            return {(t + off) // DAY for t in instants}
        ats = [a for a, _ in changes]
        offs = [self.offset(lo)] + [o for _, o in changes]
        return {(t + offs[bisect.bisect_right(ats, t)]) // DAY for t in instants}

    def start(self, day: int) -> int:
        """The first instant of local day `day` (its midnight, or later when midnight is skipped)."""
        lo, hi = day * DAY - 15 * 3600, day * DAY + 15 * 3600  # every zone is within ±14 h of UTC
        while hi - lo > 1:  # smallest t with day(t) >= day
            mid = (lo + hi) // 2
            if self.day(mid) >= day:
                hi = mid
            else:
                lo = mid
        return hi

    def is_start(self, ts: int) -> bool:
        return self.day(ts - 1) < self.day(ts)

    def transitions(self, lo: int, hi: int) -> list[tuple[int, int]]:
        """(instant, offset from then on) for every offset change in [lo, hi]."""
        out: list[tuple[int, int]] = []
        step = 6 * 3600  # no zone changes its offset twice within six hours
        t, off = lo, self.offset(lo)
        while t < hi:
            nxt = min(t + step, hi)
            o2 = self.offset(nxt)
            if o2 != off:
                a, b = t, nxt  # offset(a) == off, offset(b) != off
                while b - a > 1:
                    mid = (a + b) // 2
                    if self.offset(mid) == off:
                        a = mid
                    else:
                        b = mid
                out.append((b, o2))
                off = o2
            t = nxt
        return out

    def sql(self, col: str, lo: int | None, hi: int | None) -> str:
        """SQL for day(col), valid for col in [lo, hi] (the offsets in force there)."""
        if lo is None or hi is None:
            lo = hi = 0
        off = str(self.offset(lo))
        changes = self.transitions(lo, hi) if hi > lo else []
        if changes:
            whens = " ".join(f"WHEN {col} < {at} THEN {prev}"
                             for (at, _), prev in zip(changes, [off] + [str(o) for _, o in changes[:-1]],
                                                      strict=True))
            off = f"(CASE {whens} ELSE {changes[-1][1]} END)"
        return f"(({col} + {off} + {_BIAS * DAY}) / {DAY} - {_BIAS})"

    def split(self, s: int, e: int) -> tuple[int, int, list[tuple[int, int]]]:
        """[s, e) as whole days [ds, de) plus the instants outside them (at most two partial ranges)."""
        ds = self.day(s)
        head = None
        if not self.is_start(s):
            ds += 1
            head = (s, self.start(ds))
        de = self.day(e)
        tail_start = self.start(de)
        if ds >= de:
            return ds, ds, [(s, e)] if s < e else []
        parts = [head] if head else []
        if tail_start < e:
            parts.append((tail_start, e))
        return ds, de, parts


@lru_cache(maxsize=8)
def clock_for(tz_key: str) -> DayClock:
    return DayClock(ZoneInfo(tz_key))


# ---------------------------------------------------------------- facts and cubes


@dataclass(frozen=True)
class Cube:
    name: str
    dims: tuple[str, ...]  # stored as k1 (and k2)
    # "rows": from the fact's rows; "reps": team and region of the fact's rep cube (reps joined);
    # "sum:<cube>": the total of another cube's keys
    source: str = "rows"


@dataclass(frozen=True)
class Fact:
    name: str
    table: str  # FROM item with alias, and joins every row needs
    time: str  # the instant column that places a row in a day
    measures: tuple[tuple[str, str], ...]  # (name, SQL aggregate) -> v0, v1, ...
    dims: dict[str, str]
    cubes: tuple[Cube, ...]
    where: tuple[str, ...] = ()
    rep_col: str | None = None
    account_col: str | None = None
    extra_joins: dict[str, str] = field(default_factory=dict)  # alias prefix -> join, when a dim reads it
    shift: str | None = None  # the day is that of time + this parameter (run ends: last purchase + window)
    params: tuple[str, ...] = ()  # parameters of the definition (retention window), recorded in rollup_meta
    horizon: int | None = None  # keep running totals of key k1 (a day number) only up to k1 + horizon

    def __post_init__(self) -> None:
        if not 1 <= len(self.measures) <= 4:  # rollup_days has v0..v3, rollup_cum c0..c3
            raise ValueError(f"fact {self.name}: 1 to 4 measures, not {len(self.measures)}")

    def cube(self, name: str) -> Cube:
        return next(c for c in self.cubes if c.name == name)

    def key_dims(self, cube: Cube, clock: DayClock, lo: int | None, hi: int | None) -> tuple[str, str]:
        """SQL of k1 and k2 over the fact's rows ("" for NULL and for an unused k2)."""
        exprs = [f"COALESCE(CAST({self.dim_sql(d, clock, lo, hi)} AS TEXT), '')" for d in cube.dims]
        return (exprs + ["''", "''"])[0], (exprs + ["''", "''"])[1]

    def dim_sql(self, dim: str, clock: DayClock, lo: int | None, hi: int | None) -> str:
        expr = self.dims[dim]
        m = _DAY_OF.fullmatch(expr)
        if m:  # a day number of another instant column (gaps: the earlier purchase's day)
            return f"({clock.sql(m.group(1), lo, hi)} + {_BIAS})"
        return expr

    def joins(self, exprs: list[str]) -> list[str]:
        """The joins that SQL over the rep (r.), the account (a.) or an extra alias needs."""
        text = " ".join(exprs)
        out = []
        needs_rep = bool(self.rep_col) and bool(re.search(r"(?<![\w.])r\.", text))
        needs_acct = bool(self.account_col) and bool(re.search(r"(?<![\w.])a\.", text))
        wanted = text + (" " + self.rep_col if needs_rep else "") + (" " + self.account_col if needs_acct else "")
        for prefix, join in self.extra_joins.items():
            if re.search(r"(?<![\w.])" + re.escape(prefix), wanted):
                out.append(join)
        if needs_rep:
            out.append(f"LEFT JOIN reps r ON r.rep_id = {self.rep_col}")
        if needs_acct:
            out.append(f"LEFT JOIN accounts a ON a.account_id = {self.account_col}")
        return out


_DAY_OF = re.compile(r"\{day:([\w.]+)\}")


def _rep_cubes(*more: Cube, total_from: str | None = None) -> tuple[Cube, ...]:
    base = (Cube("rep", ("rep",)), Cube("tr", ("team", "region"), "reps"), *more)
    return (*base, Cube("", (), f"sum:{total_from or 'tr'}"))


_WON = "o.status = 'won'"
# a won deal's cycle in bins of whole days (kpis._median_cycle): a day each up to 30 days, a week
# each up to 380, 30 days each beyond, so a cube of bins stays small whatever the cycles
_CYC = f"((o.closed_at - o.created_at) / {DAY})"
CYCLE_BIN = (f"CASE WHEN {_WON} THEN CASE WHEN {_CYC} < 30 THEN {_CYC} WHEN {_CYC} < 380"
             f" THEN 30 + ({_CYC} - 30) / 7 ELSE 80 + ({_CYC} - 380) / 30 END END")


def cycle_bin_days(b: int) -> tuple[int, int]:
    """The whole days of cycle [lo, hi) a bin of CYCLE_BIN holds."""
    if b < 30:
        return b, b + 1
    if b < 80:
        return 30 + (b - 30) * 7, 30 + (b - 29) * 7
    return 380 + (b - 80) * 30, 380 + (b - 79) * 30

FACTS: dict[str, Fact] = {f.name: f for f in (
    # won and lost deals by close: revenue, deals, ADS, win rate, sales cycle, pipeline velocity
    Fact("closed", "opportunities o", "o.closed_at",
         (("won", f"SUM(CASE WHEN {_WON} THEN 1 ELSE 0 END)"),
          ("lost", "SUM(CASE WHEN o.status = 'lost' THEN 1 ELSE 0 END)"),
          ("amt", f"SUM(CASE WHEN {_WON} THEN o.amount ELSE 0 END)"),
          ("cyc", f"SUM(CASE WHEN {_WON} THEN o.closed_at - o.created_at ELSE 0 END)")),
         {**OPP_DIMS, "cbin": CYCLE_BIN},
         (Cube("rep", ("rep",)), Cube("tr", ("team", "region"), "reps"), Cube("product", ("product",)),
          Cube("segment", ("segment",)), Cube("cbin", ("cbin",)), Cube("", (), "sum:product")),
         where=("o.status IN ('won', 'lost')",), rep_col="o.owner_rep_id", account_col="o.account_id"),
    # deals by creation: the open pipeline at an instant is created before it minus closed before it
    Fact("created", "opportunities o", "o.created_at", (("n", "COUNT(*)"),), OPP_DIMS, _rep_cubes(),
         rep_col="o.owner_rep_id", account_col="o.account_id"),
    # won deals with a known lead, by close: time to close
    Fact("ttc", "opportunities o JOIN leads l ON l.lead_id = o.lead_id", "o.closed_at",
         (("n", "COUNT(*)"), ("d", "SUM(o.closed_at - l.created_at)")),
         {**OPP_DIMS, "channel": "l.channel"}, _rep_cubes(Cube("channel", ("channel",)), total_from="channel"),
         where=(_WON,), rep_col="o.owner_rep_id", account_col="o.account_id"),
    # leads by creation (volume; qualified at any time, for conversion) and by qualification
    Fact("leads", "leads l", "l.created_at", (("n", "COUNT(*)"), ("q", "COUNT(l.qualified_at)")), LEAD_DIMS,
         _rep_cubes(Cube("channel", ("channel",)), total_from="channel"), rep_col="l.owner_rep_id"),
    Fact("qualified", "leads l", "l.qualified_at", (("n", "COUNT(*)"), ("d", "SUM(l.qualified_at - l.created_at)")),
         LEAD_DIMS, _rep_cubes(Cube("channel", ("channel",)), total_from="channel"), rep_col="l.owner_rep_id"),
    Fact("acts", "activities act", "act.occurred_at", (("n", "COUNT(*)"),), ACT_DIMS,
         _rep_cubes(Cube("type", ("type",)), total_from="type"), rep_col="act.rep_id"),
    Fact("content", "content_events ce", "ce.occurred_at", (("n", "COUNT(*)"),), CONTENT_DIMS,
         _rep_cubes(Cube("action", ("action",)), total_from="action"), rep_col="ce.rep_id"),
    Fact("surveys", "surveys sv", "sv.responded_at",
         (("n", "COUNT(*)"), ("good", "SUM(CASE WHEN sv.score >= 4 THEN 1 ELSE 0 END)"), ("total", "SUM(sv.score)")),
         SURVEY_DIMS, _rep_cubes(Cube("segment", ("segment",)), total_from="segment"),
         rep_col="sv.rep_id", account_col="sv.account_id"),
    Fact("trainings", "trainings tr", "tr.held_on", (("n", "COUNT(*)"), ("r", "SUM(tr.rating)")), TRAINING_DIMS,
         _rep_cubes(), rep_col="tr.rep_id"),
    Fact("orders", "orders od", "od.ordered_at", (("n", "COUNT(*)"), ("amt", "SUM(od.amount)")), CUSTOMER_DIMS,
         (Cube("sr", ("segment", "region")), Cube("", (), "sum:sr")), account_col="od.account_id"),
    # stage exits: time in stage (by stage; by the deal owner's team)
    Fact("exits", "stage_changes sc", "sc.exited_at", (("n", "COUNT(*)"), ("d", "SUM(sc.exited_at - sc.entered_at)")),
         STAGE_DIMS, (Cube("stage", ("stage",)), Cube("tr", ("team", "region")), Cube("", (), "sum:stage")),
         rep_col="o.owner_rep_id",
         extra_joins={"o.": "LEFT JOIN opportunities o ON o.opportunity_id = sc.opportunity_id"}),
    # purchases (models.Purchase): all of them, first ones (new customers), and pairs of consecutive
    # ones by the later one's day, keyed by the earlier one's day ("ad", a day number + _BIAS, so
    # text order is number order): the customers buying in P are its purchases minus the pairs inside it
    Fact("purch", "purchases p", "p.t", (("n", "COUNT(*)"),), CUSTOMER_DIMS,
         (Cube("sr", ("segment", "region")), Cube("", (), "sum:sr")), account_col="p.account_id"),
    Fact("first", "purchases p", "p.t", (("n", "COUNT(*)"),), CUSTOMER_DIMS,
         (Cube("sr", ("segment", "region")), Cube("", (), "sum:sr")), where=("p.prev_t IS NULL",),
         account_col="p.account_id"),
    Fact("gaps", "purchases p", "p.t", (("n", "COUNT(*)"),), {**CUSTOMER_DIMS, "ad": "{day:p.prev_t}"},
         (Cube("as", ("ad", "segment")), Cube("ar", ("ad", "region")), Cube("a", ("ad",), "sum:as")),
         where=("p.prev_t IS NOT NULL",), account_col="p.account_id", horizon=HORIZON),
    # retention's runs of activity (kpis._retention_rolled): a run starts at a purchase more than the
    # window after the one before (or the first), and ends the window after a purchase with none
    # within the window after it
    Fact("runs_s", "purchases p", "p.t", (("n", "COUNT(*)"),), CUSTOMER_DIMS,
         (Cube("sr", ("segment", "region")), Cube("", (), "sum:sr")),
         where=("(p.prev_t IS NULL OR p.t - p.prev_t > {w})",), account_col="p.account_id", params=("w",)),
    Fact("runs_e", "purchases p", "p.t", (("n", "COUNT(*)"),), CUSTOMER_DIMS,
         (Cube("sr", ("segment", "region")), Cube("", (), "sum:sr")),
         where=("(p.next_t IS NULL OR p.next_t - p.t > {w})",), account_col="p.account_id", shift="w",
         params=("w",)),
)}

PURCHASE_FACTS = ("purch", "first", "gaps", "runs_s", "runs_e")

# which facts a write to a table touches, and by which of its instant columns
TABLE_FACTS: dict[str, tuple[tuple[str, str], ...]] = {
    "opportunities": (("closed", "closed_at"), ("created", "created_at"), ("ttc", "closed_at")),
    "leads": (("leads", "created_at"), ("qualified", "qualified_at")),
    "activities": (("acts", "occurred_at"),),
    "content_events": (("content", "occurred_at"),),
    "surveys": (("surveys", "responded_at"),),
    "trainings": (("trainings", "held_on"),),
    "orders": (("orders", "ordered_at"),),
}


def fact_params(config) -> dict[str, int]:
    """The parameters facts depend on, from the app config."""
    return {"w": int(config.retention.window_days) * DAY}


def params_text(fact: Fact, params: dict[str, int]) -> str:
    return ",".join(f"{p}={params[p]}" for p in fact.params)
