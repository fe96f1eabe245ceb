"""The disclosure rule: which numbers a person may be shown, decided from the reps each number covers.

A number may be shown to someone only if every rep it covers is visible to them, or it covers at
least `k` reps ([access] min_reps) of which at least two they cannot see (so subtracting the lines
they may see never isolates one rep). The same rule holds for every cell: a total, a filtered total,
each breakdown row, the comparison period, each point of a trend.

"Covers" is read from the rows: the distinct reps whose rows of the KPI's source fall in the cell
(period, filters, breakdown key), counted in the database as (key, rep) pairs, never by loading a
table. A cell with no rows at all covers the reps its rep filters select (an empty figure for a lone
rep still says something about that rep).

Complementary suppression, as statistical disclosure control does it: within a group of cells that
add up to a shown total (the rows of a breakdown, the points of a trend, the values of one filter
dimension under the others), the suppressed cells together must pass the rule too, else the
smallest other cells are suppressed with them (only cells the KPI gives a value count: a cell
without one adds nothing to the total); a filtered total is hidden when its value of a filter
is hidden in the pattern of that filter's dimension, so a parent total minus its shown siblings never
gives it away. The pattern is chosen by rep counts and keys only, never by values, so the same
question asked twice (or by a different route) hides the same cells.

A dimension's pattern under a parent counts every value a person can name (not only the rows the
KPI lists: a region whose only rep sold nothing has none) and every hidden cell, value or not. A
cell hidden by another filter's pattern passes the rule on its own, and cells that pass it added to
hidden cells that pass it together still pass it together, so the patterns of a question's filters
do not undo one another.

Knows nothing of Slack: a caller passes a Clearance (the reps a person may see, or all of them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache

from kpi_engine import periods
from kpi_engine.calc import (
    ACT_DIMS,
    CONTENT_DIMS,
    LEAD_DIMS,
    OPP_DIMS,
    STAGE_DIMS,
    SURVEY_DIMS,
    TRAINING_DIMS,
    Filters,
    in_list,
)
from kpi_engine.periods import Period
from kpi_engine.sql import text

# the values of a row dimension (product, channel) that have no rows under a parent, as one cell
ABSENT = "\x00absent"

# the dimensions that select reps by who they are (the rest select rows: a product, a channel)
REP_ATTRS = {"rep": "r.rep_id", "team": "r.team", "region": "r.region"}
# a breakdown with more rows than this is not cross-checked row by row against the other filters'
# patterns (a question per row); team, region, product and the like have far fewer
_CROSS_CHECK_ROWS = 200


def _fkey(filters: Filters) -> tuple:
    return tuple(sorted((d, tuple(v)) for d, v in filters.values.items()))


# KPIs computed from the question's period and the one it is compared with (growth: now ÷ before)
TWO_PERIODS = frozenset({"revenue_growth"})
# KPIs whose value is computed from the target (attainment: revenue ÷ target): with the revenue, which
# is shown on its own, the value gives the target away, so where the target is one rep's the value is too
FROM_TARGET = frozenset({"target_attainment"})
# details that are one item, not a count over reps: the median of three deals is one of them, and
# with the mean and the count beside it gives the other two away to someone who knows one
SINGLE_ITEM_DETAILS = frozenset({"median_days"})
# an answer's details that break its value down (rep activity by type): each is a breakdown too
DETAIL_DIMS = {"by_type": "type", "by_action": "action", "mean_days_by_stage": "stage"}


@dataclass(frozen=True)
class Clearance:
    """What one person may see: every rep (`reps` None), or these rep ids; `company_only` for someone
    who may see whole-company figures and nothing narrowed to a team, region or rep."""

    reps: frozenset[str] | None = None
    k: int = 3
    company_only: bool = False

    @property
    def sees_all(self) -> bool:
        return self.reps is None and not self.company_only

    def visible(self, rep_id: str) -> bool:
        """Whether this person may read a rep's name (did-you-mean, refusals)."""
        return self.reps is None or rep_id in self.reps

    def safe(self, covered: Iterable[str]) -> bool:
        """The rule for one cell, given the reps it covers."""
        if self.reps is None:
            return True
        covered = set(covered)
        hidden = covered - self.reps
        return not hidden or (len(covered) >= self.k and len(hidden) >= min(2, self.k))


@dataclass(frozen=True)
class Source:
    """Where a KPI's rows are and which rep each belongs to, for counting the reps a cell covers."""

    base: str
    rep: str
    where: tuple[str, ...]
    dims: dict[str, str]
    account: str | None = None
    lookback_days: int = 0  # rows of the `lookback_days` before the period end count too
    lookback_only: bool = False  # only those: the window is the `lookback_days` before the period end
    # the rows of each part of the formula a number is built from (win rate's won deals beside its
    # won-or-lost ones): each part must pass the rule on its own, as a ratio shown with its sample
    # size gives its numerator away
    parts: tuple[Source, ...] = ()


_WON = ("o.status = 'won'", "o.closed_at >= :s", "o.closed_at < :e")
_CLOSED = ("o.status IN ('won', 'lost')", "o.closed_at >= :s", "o.closed_at < :e")
_OPP = "opportunities o"
_LEADS_IN = ("l.created_at >= :s", "l.created_at < :e")
SOURCES: dict[str, Source] = {
    **{k: Source(_OPP, "o.owner_rep_id", _WON, OPP_DIMS, "o.account_id")
       for k in ("revenue", "revenue_growth", "target_attainment", "avg_deal_size", "deals_closed",
                 "sales_cycle", "revenue_per_rep", "forecast_accuracy")},
    "win_rate": Source(_OPP, "o.owner_rep_id", _CLOSED, OPP_DIMS, "o.account_id",
                       parts=(Source(_OPP, "o.owner_rep_id", _WON, OPP_DIMS, "o.account_id"),)),
    # only won deals with a lead count (the KPI joins them): a deal without one covers nobody here
    "time_to_close": Source(_OPP + " JOIN leads l ON l.lead_id = o.lead_id", "o.owner_rep_id", _WON,
                            dict(OPP_DIMS, channel="l.channel"), "o.account_id"),
    # velocity blends the open pipeline at the end with the deals closed in the 90 days before it
    # (its average deal size, win rate and cycle, shown beside it, are those closed deals' alone)
    "pipeline_velocity": Source(_OPP, "o.owner_rep_id", ("o.created_at < :e",
                                                         "(o.closed_at IS NULL OR o.closed_at >= :s)"),
                                OPP_DIMS, "o.account_id", lookback_days=90,
                                parts=tuple(Source(_OPP, "o.owner_rep_id", w, OPP_DIMS, "o.account_id",
                                                   lookback_days=90, lookback_only=True) for w in (_WON, _CLOSED))),
    "lead_conversion": Source("leads l", "l.owner_rep_id", _LEADS_IN, LEAD_DIMS,
                              parts=(Source("leads l", "l.owner_rep_id", (*_LEADS_IN, "l.qualified_at IS NOT NULL"),
                                            LEAD_DIMS),)),
    # spend over the leads of the period: the lead count beside it is the reps' leads
    "cost_per_lead": Source("leads l", "l.owner_rep_id", _LEADS_IN, LEAD_DIMS),
    "lead_volume": Source("leads l", "l.owner_rep_id", ("l.created_at >= :s", "l.created_at < :e"), LEAD_DIMS),
    "lead_to_qualified_time": Source("leads l", "l.owner_rep_id", ("l.qualified_at >= :s", "l.qualified_at < :e"),
                                     LEAD_DIMS),
    "rep_activity": Source("activities act", "act.rep_id", ("act.occurred_at >= :s", "act.occurred_at < :e"),
                           ACT_DIMS),
    "content_engagement": Source("content_events ce", "ce.rep_id", ("ce.occurred_at >= :s", "ce.occurred_at < :e"),
                                 CONTENT_DIMS),
    "csat": Source("surveys sv", "sv.rep_id", ("sv.responded_at >= :s", "sv.responded_at < :e"), SURVEY_DIMS,
                   "sv.account_id",
                   parts=(Source("surveys sv", "sv.rep_id", ("sv.responded_at >= :s", "sv.responded_at < :e",
                                                             "sv.score >= 4"), SURVEY_DIMS, "sv.account_id"),)),
    "training_effectiveness": Source("trainings tr", "tr.rep_id", ("tr.held_on >= :s", "tr.held_on < :e"),
                                     TRAINING_DIMS),
    "stage_duration": Source("stage_changes sc LEFT JOIN opportunities o ON o.opportunity_id = sc.opportunity_id",
                             "o.owner_rep_id", ("sc.exited_at >= :s", "sc.exited_at < :e"), STAGE_DIMS),
}
# cac, retention, aov, repeat_rate: customers and spend, not attributed to reps


@dataclass
class Verdict:
    """What may be shown of one answer: its value, its comparison, and which breakdown rows."""

    value: bool = True
    comparison: bool = True
    hidden_rows: set[str] = field(default_factory=set)
    reason: str = "few_reps"  # or "company_only"
    hidden_details: dict[str, set[str]] = field(default_factory=dict)  # details name -> its keys hidden
    target: bool = True  # the target beside the value (a sum of reps' quotas is about those reps)

    @property
    def anything_hidden(self) -> bool:
        return (not (self.value and self.comparison and self.target) or bool(self.hidden_rows)
                or any(self.hidden_details.values()))


class Coverage:
    """Counts the reps behind cells of one KPI on one connection."""

    def __init__(self, conn, kpi: str, clearance: Clearance, as_of_ts: int,
                 lister: Callable[[Period, Filters, str], dict[str, bool]] | None = None,
                 compare: object = "previous", target_metric: str | None = None, target_mode: str = "sum"):
        # lister: the rows the KPI itself gives for a breakdown, key -> has a value; only those add up
        # to the total, so only they can give a hidden cell away by subtraction
        self.lister = lister
        # for a KPI computed from two periods (revenue growth), the other period of each number
        # (compare: as the question compares); shown beside its period's own total it gives the other away
        self.base_of: Callable[[Period], Period] | None = (
            (lambda p: periods.comparison_base(p, compare)) if kpi in TWO_PERIODS else None)
        # the target metric shown beside this KPI's value (kpi_engine.targets), if any, and how its rows
        # combine ("sum": a team without a target row of its own has its reps' quotas added up)
        self.target_metric = target_metric
        self.target_mode = target_mode
        self.conn = conn
        self.kpi = kpi
        self.src = SOURCES.get(kpi)
        self.cl = clearance
        self.as_of_ts = as_of_ts
        self._ok: dict[tuple, bool] = {}
        self._memo: dict[tuple, object] = {}

    # ------------------------------------------------------------ counting

    def pairs(self, period: Period, filters: Filters, by: str | None,
              src: Source | None = None) -> dict[str, set[str]]:
        """Breakdown key -> the reps with rows in that cell ("" for the whole selection when by is None);
        `src`: one part of the KPI's source instead of the whole."""
        src = src or self.src
        if src is None:
            return {}
        dims = src.dims
        where, params, used = list(src.where), {}, []
        for dim, vals in filters.values.items():
            expr = dims.get(dim)
            if expr is None:
                continue
            where.append(in_list(expr, vals, f"d_{dim}", params))
            used.append(expr)
        key = dims.get(by) if by else None
        if key:
            used.append(key)
        joins = ""
        if any(u.startswith("r.") for u in used):
            joins += f" LEFT JOIN reps r ON r.rep_id = {src.rep}"
        if src.account and any(u.startswith("a.") for u in used):
            joins += f" LEFT JOIN accounts a ON a.account_id = {src.account}"
        end = min(period.end_ts, self.as_of_ts) if period.start_ts < self.as_of_ts else period.end_ts
        start = period.start_ts
        if src.lookback_only:
            start = periods.to_epoch(period.end - timedelta(days=src.lookback_days))
        elif src.lookback_days:
            start = min(start, periods.to_epoch(period.end - timedelta(days=src.lookback_days)))
        params.update({"s": start, "e": end})
        k = f"COALESCE(CAST({key} AS VARCHAR(200)), '')" if key else "''"
        sql = (f"SELECT DISTINCT {k} AS k, {src.rep} AS rep FROM {src.base}{joins}"
               f" WHERE {' AND '.join(where)} AND {src.rep} IS NOT NULL")
        out: dict[str, set[str]] = {}
        for kk, rep in self.conn.execute(text(sql), params):
            out.setdefault(str(kk), set()).add(str(rep))
        return out

    def population(self, filters: Filters, by: str | None = None) -> dict[str, set[str]]:
        """The reps a cell's rep filters select (by a rep attribute when `by` is one), rows or not."""
        where, params = [], {}
        for dim, vals in filters.values.items():
            if dim not in REP_ATTRS or (self.src and self.src.dims.get(dim, "").startswith("a.")):
                continue
            where.append(in_list(REP_ATTRS[dim], vals, f"p_{dim}", params))
        key = REP_ATTRS.get(by) if by else None
        k = f"COALESCE({key}, '')" if key else "''"
        sql = f"SELECT {k} AS k, r.rep_id FROM reps r" + (f" WHERE {' AND '.join(where)}" if where else "")
        out: dict[str, set[str]] = {}
        for kk, rep in self.conn.execute(text(sql), params):
            out.setdefault(str(kk), set()).add(str(rep))
        return out

    # ------------------------------------------------------------ the rule on cells and groups

    def _narrowed(self, filters: Filters, by: str | None = None) -> bool:
        """Whether a cell is narrowed to a team, region or rep (all a company-only person may not see)."""
        if self.src is None:
            return False
        dims = [d for d in filters.values if d in REP_ATTRS] + ([by] if by in REP_ATTRS else [])
        return any(not self.src.dims.get(d, "r.").startswith("a.") for d in dims)

    def cell_ok(self, period: Period, filters: Filters) -> bool:
        """Whether a filtered total may be shown: its own reps (those of each part of its formula too),
        and its place in the pattern of each of its filters' dimensions when the total above it is
        shown (so parent minus shown siblings does not give it away; a hidden parent gives nothing
        away); for a KPI of two periods, the other period's total as well; for a KPI computed from
        its target (attainment), the reps whose quotas make that target (target_ok)."""
        if self.cl.sees_all or self.src is None:
            return True
        return self.rows_ok(period, filters) and (self.kpi not in FROM_TARGET or self.target_ok(period, filters))

    def rows_ok(self, period: Period, filters: Filters) -> bool:
        """cell_ok from the reps with rows alone (what complements are chosen by: a cell hidden for its
        target is hidden on top of the pattern, never instead of a cell in it)."""
        ok = self._cell_ok(period, filters)
        if ok and self.base_of is not None:
            ok = self._cell_ok(self.base_of(period), filters)
        return ok

    def _cell_ok(self, period: Period, filters: Filters) -> bool:
        if self.cl.company_only and self._narrowed(filters):
            return False  # and what is not narrowed follows the rule with no rep visible
        memo = (period.start_ts, period.end_ts, _fkey(filters))
        if memo in self._ok:
            return self._ok[memo]
        own = self._covered(period, filters)
        ok = self.cl.safe(own) and all(self.cl.safe(self._covered(period, filters, part)) for part in self.src.parts)
        if ok and own <= (self.cl.reps or frozenset()):
            self._ok[memo] = True  # every rep in it is one they may see: they could add it up anyway
            return True
        for dim, vals in filters.values.items():
            if not ok:
                break
            if dim not in self.src.dims or len(vals) != 1:
                continue
            parent = filters.without(dim)
            if self._cell_ok(period, parent):
                cells, hidden = self.pattern(period, parent, dim, self._listed(period, parent, dim),
                                             asked=str(vals[0]))
                ok = self._key(cells, dim, str(vals[0])) not in hidden
        self._ok[memo] = ok
        return ok

    def _listed(self, period: Period, parent: Filters, dim: str) -> dict[str, bool] | None:
        if self.lister is None:
            return None
        memo = ("listed", period.start_ts, period.end_ts, _fkey(parent), dim)
        if memo not in self._memo:
            self._memo[memo] = self.lister(period, parent, dim)
        return self._memo[memo]

    def _covered(self, period: Period, filters: Filters, src: Source | None = None) -> set[str]:
        got = self.pairs(period, filters, None, src).get("", set())
        return got or self.population(filters).get("", set())

    def _group(self, period: Period, filters: Filters, by: str) -> dict[str, set[str]]:
        """Each value of `by` under `filters` -> the reps it covers (its rep population when it has no rows)."""
        cells = self.pairs(period, filters, by)
        if by in REP_ATTRS and not self.src.dims.get(by, "").startswith("a."):
            for kk, reps in self.population(filters, by).items():
                if not cells.get(kk):
                    cells[kk] = reps
        return cells

    def rows_hidden(self, period: Period, filters: Filters, by: str, keys: dict[str, bool],
                    total_shown: bool = True) -> set[str]:
        """The breakdown rows to hide (keys: the rows listed, key -> has a value): unsafe ones, and
        their complements when the total is shown."""
        keys = {str(x): has for x, has in keys.items()}
        if self.cl.sees_all or self.src is None:
            return set()
        if self.cl.company_only and self._narrowed(filters, by):
            return set(keys)
        hidden: set[str] = set()
        for when in [period] + ([self.base_of(period)] if self.base_of is not None else []):
            force: set[str] = set()
            for part in self.src.parts:  # a row whose part of the formula is one rep's
                for x, reps in self.pairs(when, filters, by, part).items():
                    if x in keys and not self.cl.safe(reps):
                        force.add(x)
            _, h = self.pattern(when, filters, by, keys, complement=total_shown, force=force)
            # A row is also the filtered total filters + by:row, a cell of each other filter's pattern
            # ("revenue by team region:bkk" holds team:ent region:bkk, which team:ent's pattern over
            # regions may hide to cover a lone rep in the north): hidden there, hidden here too. Per
            # rep rows are left out: a rep's row is shown only to whoever may see that rep.
            if filters.values and by != "rep" and by in self.src.dims and len(keys) <= _CROSS_CHECK_ROWS:
                more = {x for x in keys if x not in h and x not in ("", ABSENT)
                        and not self._cell_ok(when, Filters({**filters.values, by: (x,)}))}
                if more:
                    _, h = self.pattern(when, filters, by, keys, complement=total_shown, force=force | more)
            hidden |= h
        if self.kpi in FROM_TARGET:  # each row's value gives its own target away (a team's: its reps' quotas)
            hidden |= self.targets_hidden(period, filters, by, keys)
        return hidden & set(keys)

    def _rep_dim(self, by: str) -> bool:
        return by in REP_ATTRS and not self.src.dims.get(by, "").startswith("a.")

    def _key(self, cells: dict[str, set[str]], by: str, value: str) -> str:
        """The key a filter value has in its dimension's pattern: a value of a row dimension (product,
        channel) with no rows under the parent is one of the ABSENT values."""
        if value in cells or self._rep_dim(by):
            return value
        return ABSENT if ABSENT in cells else value

    def pattern(self, period: Period, parent: Filters, by: str, listed: dict[str, bool] | None,
                complement: bool = True, asked: str | None = None,
                force: set[str] | frozenset[str] = frozenset()) -> tuple[dict[str, set[str]], set[str]]:
        """The suppression pattern of one dimension under one parent: its cells (value -> reps covered)
        and the keys hidden. The same for the breakdown `by` under `parent` and for every filtered
        total `parent` + `by:value`, whichever is asked first, so no route shows what another hides.

        Every value a person can name counts, not only the rows the KPI lists: a value without rows
        here still covers the reps its rep filters select (a region whose only rep sold nothing), is
        hidden when that is narrow, and a parent minus its shown siblings gives those hidden siblings
        away together, whether or not they add to it (the person cannot tell). Values of a row
        dimension (product, channel) without rows stand as one ABSENT cell: it may be hidden (and then
        counts), but never hides something else, as it may name no real value. The key "" (rows
        without a value of `by`) cannot be asked for, so in the filters' view it is always hidden."""
        rep_dim = self._rep_dim(by)
        memo = ("pattern", period.start_ts, period.end_ts, _fkey(parent), by, asked if rep_dim else None,
                None if listed is None else tuple(sorted((str(x), h) for x, h in listed.items())), complement,
                tuple(sorted(force)))
        if memo in self._memo:  # every row of a breakdown asks its parent's pattern again
            return self._memo[memo]
        out = self._pattern(period, parent, by, listed, complement, asked, force)
        self._memo[memo] = out
        return out

    def _pattern(self, period: Period, parent: Filters, by: str, listed: dict[str, bool] | None,
                 complement: bool, asked: str | None, force) -> tuple[dict[str, set[str]], set[str]]:
        cells = self._group(period, parent, by)
        rep_dim = self._rep_dim(by)
        pop = set() if rep_dim else self.population(parent).get("", set())
        listed = {} if listed is None else {str(x): has for x, has in listed.items()}
        for x in [*listed, *([asked] if asked is not None and rep_dim else [])]:
            cells.setdefault(x, set() if rep_dim else pop)
        if not rep_dim and pop:
            cells[ABSENT] = pop
        # a cell of reps the person may all see hides nothing by being hidden: they can add it up
        # a cell of reps the person may all see covers nothing by being hidden: they can add it up
        seen = self.cl.reps or frozenset()
        fixed = {x for x, reps in cells.items() if not reps or x in ("", ABSENT) or reps <= seen}
        askable = set(cells) - {"", ABSENT}
        views = [set(listed), askable, askable | {ABSENT}, set(cells)]
        forced = ({""} | set(force)) & set(cells)
        return cells, protect(cells, self.cl, forced, complement=complement, views=views, fixed=fixed)

    # ------------------------------------------------------------ targets made of reps' quotas

    def _quota_scope(self, filters: Filters) -> tuple[str, str] | None:
        """Whose quotas a cell's target is made of, as kpi_engine.targets.target_for builds it: ("rep",
        id) for one rep's, ("team", name) for a team's when it has no target row of its own (then its
        reps' quotas added up); None when it is a row set for a team or the company (about no rep), or
        when the cell has no target (a region, product or channel slice, several reps)."""
        if self.target_metric is None:
            return None
        f = filters.values
        if any(v for d, v in f.items() if d not in ("team", "rep")):
            return None
        if f.get("rep"):
            return ("rep", str(f["rep"][0])) if len(f["rep"]) == 1 else None
        if f.get("team") and self.target_mode == "sum" and str(f["team"][0]) not in self._own_target_teams():
            return ("team", str(f["team"][0]))
        return None

    def _own_target_teams(self) -> frozenset[str]:
        """The teams with a target row of their own for the target metric (any period, as target_for
        asks): their target is that row, about no rep."""
        memo = ("own_teams",)
        if memo not in self._memo:
            rows = self.conn.execute(text("SELECT DISTINCT team FROM targets WHERE metric = :m AND rep_id = ''"
                                          " AND team <> ''"), {"m": self.target_metric})
            self._memo[memo] = frozenset(str(t) for (t,) in rows)
        return self._memo[memo]

    def _quota_rows(self, team: str | None, start_ts: int, end_ts: int) -> dict[str, list[tuple[str, int, int]]]:
        """Team -> its reps' quota rows (rep, start, end) of the target metric overlapping [start, end):
        one team's, or every team's (team None) in one read."""
        params: dict = {"m": self.target_metric, "s": start_ts, "e": end_ts}
        sql = ("SELECT r.team, tg.rep_id, tg.start_at, tg.end_at FROM targets tg JOIN reps r ON r.rep_id = tg.rep_id"
               " WHERE tg.metric = :m AND tg.rep_id <> '' AND tg.start_at < :e AND tg.end_at > :s")
        if team is not None:
            sql += " AND r.team = :t"
            params["t"] = team
        out: dict[str, list[tuple[str, int, int]]] = {}
        for t, rep, s, e in self.conn.execute(text(sql), params):
            out.setdefault(str(t), []).append((str(rep), int(s), int(e)))
        return out

    def _quotas_ok(self, rows: list[tuple[str, int, int]], period: Period) -> bool:
        """Whether a sum of quotas over a period passes the rule. Its rows pro-rate by calendar day
        (targets.py), so any stretch of days between two of their boundaries is the same reps' sum,
        and can be had by asking the periods around it and subtracting (a quarter minus two of its
        months, a month to date minus a week): each such stretch must pass the rule on its own, not
        only the whole period."""
        tz = period.start.tzinfo
        lo, hi = _day(period.start_ts, tz), _day(period.end_ts, tz)
        spans = []
        for rep, s, e in rows:
            ds, de = _day(s, tz), _day(e, tz)
            if de > ds and min(de, hi) > max(ds, lo):
                spans.append((rep, max(ds, lo), min(de, hi)))
        cuts = sorted({lo, hi, *(d for _, a, b in spans for d in (a, b))})
        for a, b in zip(cuts, cuts[1:], strict=False):
            reps = {rep for rep, s, e in spans if s <= a and e >= b}
            if reps and not self.cl.safe(reps):
                return False
        return True

    def target_ok(self, period: Period, filters: Filters) -> bool:
        """Whether the target of a cell (and what is computed from it) may be shown: a rep's quota to
        whoever may see the rep; a team's sum of its reps' quotas when every stretch of it passes the
        rule for the reps whose quotas it adds up (_quotas_ok); a target row of a team or of the
        company always (it is about no rep)."""
        return not self.targets_hidden_points([period], filters)

    def targets_hidden_points(self, points: list[Period], filters: Filters) -> set[int]:
        """The periods (indexes) whose target of this cell may not be shown: one read for them all."""
        if self.cl.sees_all or not points:
            return set()
        scope = self._quota_scope(filters)
        if scope is None:
            return set()
        if scope[0] == "rep":
            return set() if self.cl.safe({scope[1]}) else set(range(len(points)))
        memo = ("quota_rows", scope[1], min(p.start_ts for p in points), max(p.end_ts for p in points))
        if memo not in self._memo:
            self._memo[memo] = self._quota_rows(scope[1], memo[2], memo[3]).get(scope[1], [])
        rows = self._memo[memo]
        return {i for i, p in enumerate(points) if not self._quotas_ok(rows, p)}

    def targets_hidden(self, period: Period, filters: Filters, by: str, keys: dict[str, bool]) -> set[str]:
        """The rows of a breakdown by team or rep whose own target (target_for's by_key: each team's,
        each rep's) may not be shown; every team's quotas in one read."""
        if self.cl.sees_all or self.target_metric is None or by not in ("team", "rep"):
            return set()
        f = filters.values
        if any(v for d, v in f.items() if d not in ("team", "rep")) or len(f.get("rep") or ()) > 1:
            return set()  # no target for the slice: no row has one
        if by == "rep":
            return {x for x in keys if x and not self.cl.safe({x})}
        if self.target_mode != "sum":
            return set()
        own = self._own_target_teams()
        rows = self._quota_rows(None, period.start_ts, period.end_ts)
        return {x for x in keys if x not in own and not self._quotas_ok(rows.get(x, []), period)}

    def series_hidden(self, points: list[Period], filters: Filters, has: list[bool]) -> set[int]:
        """The points of a trend to hide (has: whether each has a value): those the rule hides, and
        complements (the points add up to the span they cover, which may be asked for on its own)."""
        if self.cl.sees_all or self.src is None:
            return set()
        if self.cl.company_only and self._narrowed(filters):
            return set(range(len(points)))
        cells = {str(i): self._covered(p, filters) for i, p in enumerate(points)}
        forced = {str(i) for i, p in enumerate(points) if not self.rows_ok(p, filters)}
        adds = {str(i) for i, h in enumerate(has) if h}
        hidden = {int(i) for i in protect(cells, self.cl, forced, adds=adds)}
        if self.kpi in FROM_TARGET:  # each point's value gives its target away
            hidden |= self.targets_hidden_points(points, filters)
        return hidden

    def verdict(self, period: Period, base: Period, filters: Filters, by: str | None,
                keys: dict[str, bool] | None = None, details: dict | None = None) -> Verdict:
        """The whole answer: its value, its comparison, its breakdown rows and the rows of the
        details that break its value down."""
        v = Verdict(reason="company_only" if self.cl.company_only else "few_reps")
        if self.cl.sees_all or self.src is None:
            return v
        rows_ok = self.rows_ok(period, filters)
        v.target = self.target_ok(period, filters)
        # attainment: revenue ÷ attainment is the target, of this period and of the one compared with
        v.value = rows_ok and (v.target or self.kpi not in FROM_TARGET)
        v.comparison = v.value and self.cell_ok(base, filters)
        if by:
            # a hidden total is never the sum of shown rows: it has an unsafe row (all safe rows make a
            # safe total), which stays hidden
            v.hidden_rows = self.rows_hidden(period, filters, by, keys or {}, total_shown=rows_ok)
        for name, dim in DETAIL_DIMS.items():
            rows = (details or {}).get(name)
            if v.value and isinstance(rows, dict) and rows and dim in self.src.dims:
                v.hidden_details[name] = self.rows_hidden(period, filters, dim, {str(x): True for x in rows})
        return v


# quota rows share a few boundaries (month and quarter starts), checked again for every period
@lru_cache(maxsize=4096)
def _day(ts: int, tz) -> int:
    return periods.day_number(ts, tz)


def protect(cells: dict[str, set[str]], cl: Clearance, forced: Iterable[str] = (), complement: bool = True,
            adds: set[str] | None = None, views: list[set[str]] | None = None,
            fixed: Iterable[str] = ()) -> set[str]:
    """The keys of a group to hide: every unsafe cell, then (while the hidden cells that add to the
    total would together be unsafe, i.e. the total minus the shown cells would give them away) the
    smallest other such cell, by reps covered and then key, never by value. `adds`: the cells with a
    value (None: all); one without adds nothing to the total, so it neither gives away nor covers.
    No complements when the total is hidden.

    `views`: instead of `adds`, the sets of cells a person may see side by side (a breakdown's
    rows; every value they can ask for as a filter): in each, all the hidden cells together must
    pass the rule, value or not (a hidden cell's emptiness is hidden too); `fixed` cells are never
    hidden to cover others. A view that cannot be made safe hides the whole group."""
    hidden = {x for x, reps in cells.items() if not cl.safe(reps)} | (set(forced) & set(cells))
    if not complement:
        return hidden
    if views is not None:
        return _protect_views(cells, cl, hidden, [v & set(cells) for v in views], set(fixed))
    adds = set(cells) if adds is None else adds & set(cells)
    rest = sorted((x for x in adds if x not in hidden), key=lambda x: (len(cells[x]), x))
    union: set[str] = set().union(*(cells[x] for x in hidden & adds))
    while union and rest and not cl.safe(union):
        x = rest.pop(0)
        hidden.add(x)
        union |= cells[x]
    return hidden


def _protect_views(cells: dict[str, set[str]], cl: Clearance, hidden: set[str], views: list[set[str]],
                   fixed: set[str]) -> set[str]:
    # hiding a cell for one view can make another unsafe again (a visible-only union gains a hidden
    # rep), so go round until every view passes; each turn hides one more cell, so it ends
    while True:
        for view in views:
            union: set[str] = set().union(*(cells[x] for x in hidden & view))
            if not union or cl.safe(union):
                continue
            rest = sorted((x for x in view - hidden - fixed), key=lambda x: (len(cells[x]), x))
            if not rest:
                return set(cells)
            hidden.add(rest[0])
            break
        else:
            return hidden


def hidden_text(k: int, lang: str, reason: str = "few_reps") -> str:
    if reason == "company_only":
        return "ซ่อน: ดูได้เฉพาะยอดรวมทั้งบริษัท" if lang == "th" else "hidden: company totals only"
    return f"ซ่อน: น้อยกว่า {k} คน" if lang == "th" else f"hidden: fewer than {k} reps"

