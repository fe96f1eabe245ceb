"""The one API through which the CLI, the Slack bot and the scheduler read KPIs.

    eng = KpiEngine(open_store(url), config)
    answer = eng.answer(parse("win rate by team last quarter"), as_of)
    answer.to_json()

Time is a parameter: nothing here reads the clock (an answer times how long its period took, to
choose how to run the next one like it: SIDE_AFTER).
"""

from __future__ import annotations

import threading
import time
import unicodedata
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from kpi_engine import driver_rows, freshness, notes, periods
from kpi_engine import format as fmt
from kpi_engine.calc import Calc, Deferred, Filters, Measure, resolve_details
from kpi_engine.catalogue import KpiSpec, catalogue
from kpi_engine.dimnames import DimensionNames
from kpi_engine.disclosure import SINGLE_ITEM_DETAILS, Clearance, Coverage, Verdict, hidden_text
from kpi_engine.entities import LexiconCache
from kpi_engine.kpis import COMPUTE
from kpi_engine.lexicon import Lexicon, Visible
from kpi_engine.periods import Period, PeriodError
from kpi_engine.query import HelpRequest, Query, QueryError, Rank
from kpi_engine.rollread import RollState
from kpi_engine.sql import text

if TYPE_CHECKING:  # the pydantic model: `kpibot ask` may hold a validated copy without pydantic
    from sqlalchemy import Engine

    from config.app_config import AppConfig

# Slow answers compute the comparison period and the target here while the period itself runs. At most
# two at a time, and an answer that finds no free slot runs them itself: an answer waiting for its
# side task holds a connection, so side tasks must never be able to starve the pool.
_SIDE = futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="kpi-side")
_SIDE_SLOTS = threading.BoundedSemaphore(2)
# Handing the comparison to another thread and taking its result back costs about a millisecond of
# thread wake-ups and GIL hand-overs: more than a question read from the rollups takes in all (0.7 ms
# in line against 1.5 ms with a side task, revenue this year at 1M on SQLite). So only a question
# shaped like one whose period took longer than this the last time runs its comparison on the side.
SIDE_AFTER = 0.02
_MAX_SHAPES = 4096
_FIXED_DOMAINS = {"type": ("call", "email", "meeting", "other"), "action": ("view", "click", "share")}
_CUSTOMER_SOURCES = ("purchases", "orders.ordered_at")


@dataclass
class Comparison:
    period: Period
    value: float | None
    change: float | None  # percentage points (as a fraction) for ratios, relative change otherwise
    change_kind: str  # "points" | "relative"

    def to_json(self) -> dict:
        return {"period": self.period.to_json(), "value": self.value, "change": self.change,
                "change_kind": self.change_kind}


@dataclass
class Answer:
    spec: KpiSpec
    value: float | None
    period: Period
    comparison: Comparison
    target: dict | None
    breakdown: list[dict] | None
    details_raw: dict[str, Any]  # may hold Deferred values: see `details`
    note_code: str | None
    note_args: dict[str, Any]
    low_sample: bool
    n: int | None
    filters: dict[str, list[str]]
    by: str | None
    compare: str
    lang: str = "en"
    chart: bool = False
    currency: str = "THB"
    extra: dict[str, Any] = field(default_factory=dict)
    rank: Rank | None = None
    rows_total: int | None = None  # breakdown rows before a ranking kept its first n
    resolver: Callable[[dict[str, Any]], dict[str, Any]] | None = field(default=None, repr=False, compare=False)

    @property
    def details(self) -> dict[str, Any]:
        """What explains the number; a costly part of it (an exact median) is computed on first read."""
        if any(isinstance(v, Deferred) for v in self.details_raw.values()):
            if self.resolver is None:
                self.details_raw = {k: v for k, v in self.details_raw.items() if not isinstance(v, Deferred)}
            else:
                self.details_raw = self.resolver(self.details_raw)
        return self.details_raw
    data_to: int | None = None  # epoch seconds: the data behind it is complete up to here (freshness)

    def note(self, lang: str | None = None) -> str | None:
        lang = lang or self.lang
        args = dict(self.note_args)
        if args.get("period") == self.period.label:  # the period as the reader reads it, not its key
            args["period"] = fmt.period_label(self.period, lang)
        for k in ("first", "last"):
            if isinstance(args.get(k), str) and len(args[k]) == 10:
                try:
                    args[k] = fmt.day(date.fromisoformat(args[k]), lang)
                except ValueError:
                    pass
        return notes.render(self.note_code, args, lang)

    @property
    def good_change(self) -> bool | None:
        """Whether the change vs the comparison is good news for this KPI (None: no change)."""
        ch = self.comparison.change
        if ch is None or ch == 0:
            return None
        return (ch > 0) == self.spec.higher_is_better

    def to_json(self) -> dict:
        return {
            "kpi": self.spec.key,
            "label": self.spec.name_en,
            "label_th": self.spec.name_th,
            "unit": self.spec.unit,
            "currency": self.currency if self.spec.unit in ("currency", "currency_per_day") else None,
            "higher_is_better": self.spec.higher_is_better,
            "value": _clean(self.value),
            "period": self.period.to_json(),
            "comparison": self.comparison.to_json() | {"value": _clean(self.comparison.value),
                                                      "change": _clean(self.comparison.change)},
            "target": self.target,
            "breakdown": self.breakdown,
            "breakdown_by": self.by,
            "rank": None if self.rank is None else {"order": self.rank.order, "n": self.rank.n,
                                                    "rows_total": self.rows_total},
            "filters": self.filters,
            "details": _clean(self.details),
            "n": self.n,
            "low_sample": self.low_sample,
            "note": self.note("en"),
            "note_th": self.note("th"),
            "data_to": (periods.from_epoch(self.data_to, self.period.start.tzinfo).isoformat()
                        if self.data_to is not None else None),
            # what the disclosure rule hid from the person asked for (kpi_engine.disclosure)
            **({"hidden": self.extra["hidden"]} if "hidden" in self.extra else {}),
        }


def _clean(v: Any) -> Any:
    """Round floats for JSON (6 significant decimals is plenty for money and ratios)."""
    if isinstance(v, float):
        return round(v, 6)
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


@dataclass(frozen=True)
class RepInfo:
    rep_id: str
    name: str | None
    team: str | None
    region: str | None
    role: str | None


def _norm(s: str) -> str:
    return " ".join(unicodedata.normalize("NFC", s).casefold().replace("_", " ").replace("-", " ").split())


class KpiEngine:
    def __init__(self, store: Engine, config: AppConfig, use_rollups: bool = True):
        self.store = store
        # False: every number from the rows (what the rollups are checked against, and a way out)
        self.use_rollups = use_rollups
        self.config = config
        self.tz = config.tz
        self.catalogue = catalogue()
        self.names = DimensionNames(config.display_names)
        self._lexicons = LexiconCache()
        # question shape -> its period took longer than side_after the last time (see SIDE_AFTER)
        self.side_after = SIDE_AFTER
        self._slow: dict[tuple, bool] = {}
        self._names: tuple[int, dict[str, str]] | None = None  # (reps' version, every rep's name)
        fmt.set_thai_years(config.thai_years)

    # ------------------------------------------------------------ public API

    def spec(self, key: str) -> KpiSpec:
        return self.catalogue[key]

    def lexicon(self) -> Lexicon:
        """Teams, regions, products, … and reps as questions name them (kpi_engine.lexicon), kept
        until the data changes (kpi_engine.entities)."""
        return self._lexicons.get(self.store, self.names)

    def parse(self, text: str, visible: Visible = None) -> Query | HelpRequest:
        """A question read with this store's names and this install's fiscal year."""
        from kpi_engine.grammar import ParseOptions, parse

        opts = ParseOptions(fiscal_year_start_month=self.config.fiscal_year_start_month, visible=visible)
        return parse(text, self.catalogue, self.lexicon(), opts)

    def periods_of(self, query: Query, as_of: datetime) -> tuple[Period, Period]:
        """The question's period and the one it is compared with; QueryError in the question's
        language when a period cannot be answered (in the future, no such day)."""
        spec = self.catalogue[query.kpi]
        try:
            period = query.resolve_period(as_of, self.tz, spec.default_grain)
            base = query.resolve_comparison(period, as_of, self.tz)
        except PeriodError as exc:
            raise _period_error(query, exc) from None
        return period, base

    def clearance(self, reps: frozenset[str] | None, company_only: bool = False) -> Clearance:
        """What a person may see ([access] min_reps from the config): every rep when `reps` is None."""
        return Clearance(None if reps is None else frozenset(reps), self.config.access.min_reps, company_only)

    def answer(self, query: Query, as_of: datetime, visible: Visible = None,
               clearance: Clearance | None = None) -> Answer:
        """The answer to a question; with a clearance, every number in it that the disclosure rule
        (kpi_engine.disclosure) does not let this person see is hidden and says so."""
        if clearance is not None and visible is None and clearance.reps is not None:
            visible = clearance.visible
        spec = self.catalogue[query.kpi]
        if query.breakdown and query.breakdown not in spec.breakdowns:
            raise QueryError(f"{spec.name_en} cannot be broken down by {query.breakdown}" if query.lang != "th"
                             else f"{spec.name_th} แยกตาม{_dim_th(query.breakdown)}ไม่ได้", lang=query.lang)
        if query.mine is not None and ("rep" if query.mine == "rep" else "team") not in query.filters:
            raise QueryError("“my” needs to know who is asking." if query.lang != "th"
                             else "“ของฉัน” ต้องรู้ว่าใครเป็นผู้ถาม", lang=query.lang)
        period, base = self.periods_of(query, as_of)
        compare: Any = base if query.compare == "period" else query.compare
        with self.store.connect() as conn:
            filters = self._resolve_filters(conn, spec, query.filters, query.lang, visible)
            shape = (spec.key, query.breakdown, tuple(sorted(filters.values)), query.compare, period.grain)
            side = None
            if self._slow.get(shape, self.side_after <= 0) and self._parallel and _SIDE_SLOTS.acquire(blocking=False):
                # the comparison period and the target on a second connection meanwhile: the SQLite and
                # PostgreSQL drivers let go of the GIL while a statement runs, so P and P' overlap
                try:
                    side = _SIDE.submit(self._comparison, spec, base, period, filters, as_of, compare)
                finally:
                    if side is None:
                        _SIDE_SLOTS.release()
                    else:
                        side.add_done_callback(lambda _: _SIDE_SLOTS.release())
            try:
                ctx = _Ctx(self, conn, as_of, compare)
                started = time.perf_counter()
                m = ctx.measure(spec.key, period, filters, query.breakdown)
                if len(self._slow) >= _MAX_SHAPES:
                    self._slow.clear()
                self._slow[shape] = time.perf_counter() - started > self.side_after
                breakdown = self._breakdown(conn, spec, m.rows, query.breakdown) if query.breakdown else None
                prev, tgt = side.result() if side else self._comparison(spec, base, period, filters, as_of,
                                                                        compare, ctx)
                data_to = freshness.data_to(conn, spec)
                verdict = None
                if clearance is not None and not clearance.sees_all:
                    verdict = self._coverage(conn, spec.key, clearance, as_of, ctx).verdict(
                        period, base, filters, query.breakdown,
                        {r["key"]: r["value"] is not None for r in breakdown or []}, m.details)
            except BaseException:
                if side:
                    futures.wait([side])  # never leave the other connection running behind an error
                raise
        target = self._target_json(spec, tgt, m.value)
        breakdown = self._labelled(breakdown, query.breakdown, query.lang)
        change, kind = _change(spec, m.value, prev.value)
        low = spec.unit == "ratio" and m.value is not None and m.n is not None and m.n < self.config.min_sample
        code, args = m.reason, dict(m.reason_args)
        if m.value is None and code is None:
            code = "no_data"
        if low and code is None:
            code, args = "low_sample", {"n": m.n, "min": self.config.min_sample}
        args.setdefault("period", period.label)
        if verdict is not None and breakdown is not None and verdict.hidden_rows:
            breakdown = _hide_rows(breakdown, verdict, clearance, query.lang, query.breakdown)
        rows_total = len(breakdown) if breakdown is not None else None
        if breakdown is not None and query.rank is not None:
            breakdown = _ranked(breakdown, query.rank)
        a = Answer(
            spec=spec, value=m.value, period=period,
            comparison=Comparison(base, prev.value, change, kind),
            target=target, breakdown=breakdown, details_raw=m.details, note_code=code, note_args=args,
            low_sample=low, n=m.n, filters={k: list(v) for k, v in filters.values.items()},
            by=query.breakdown, compare=query.compare, lang=query.lang, chart=query.chart,
            currency=self.config.currency, rank=query.rank if query.breakdown else None, rows_total=rows_total,
            resolver=self._resolve_details,
            data_to=data_to,
        )
        if verdict is not None:
            # one deal's figure (a median) is never shown to someone who may not see every rep
            a.details_raw = {x: y for x, y in a.details_raw.items() if x not in SINGLE_ITEM_DETAILS}
            if verdict.anything_hidden:
                _hide(a, verdict, clearance)
        return a

    def _resolve_details(self, details: dict[str, Any]) -> dict[str, Any]:
        with self.store.connect() as conn:
            return resolve_details(details, conn, RollState(conn, self.config, self.use_rollups))

    def series(self, query: Query, as_of: datetime, n: int = 12,
               clearance: Clearance | None = None) -> list[tuple[Period, float | None]]:
        """The KPI over the n periods of the question's grain ending with its period (oldest first), or
        over the periods of its trend grain inside it ("monthly revenue this year"); with a clearance,
        the points it may not see are None (and say nothing of them)."""
        spec = self.catalogue[query.kpi]
        period, _ = self.periods_of(query, as_of)
        with self.store.connect() as conn:
            filters = self._resolve_filters(conn, spec, query.filters, query.lang)
            ctx = _Ctx(self, conn, as_of, query.compare)
            points = periods.within(period, query.trend, as_of) if query.trend else periods.trailing(period, n)
            values = [ctx.measure(spec.key, p, filters, None, details=False).value for p in points]
            hidden = self._hidden_points(conn, spec.key, points, filters, as_of, clearance,
                                         [v is not None for v in values], ctx)
            return [(p, None if i in hidden else v) for i, (p, v) in enumerate(zip(points, values, strict=True))]

    def target_series(self, query: Query, as_of: datetime, n: int = 12,
                      stored: tuple[str, ...] = (),
                      clearance: Clearance | None = None) -> list[tuple[Period, float | None]]:
        """The target of each period series() returns, in the KPI's own unit (1.0 for target attainment).
        stored: dimensions whose filter values are stored keys read from the data (an alert rule's
        segments), taken as they are instead of checked against every distinct value (a scan of
        the opportunities for products, per segment)."""
        spec = self.catalogue[query.kpi]
        period, _ = self.periods_of(query, as_of)
        with self.store.connect() as conn:
            raw = {d: v for d, v in query.filters.items() if d not in stored or d not in spec.filters}
            filters = self._resolve_filters(conn, spec, raw, query.lang)
            if len(raw) < len(query.filters):
                filters = Filters({**filters.values, **{d: (v,) for d, v in query.filters.items() if d not in raw}})
            ctx = _Ctx(self, conn, as_of, query.compare)
            points = periods.trailing(period, n)
            hidden: set[int] = set()
            if clearance is not None and not clearance.sees_all:
                values = [ctx.measure(spec.key, p, filters, None, details=False).value for p in points]
                cov = self._coverage(conn, spec.key, clearance, as_of, ctx)
                # a point's target is hidden with its value, and on its own when it is one rep's quota (or
                # a team's sum of too few): the rule the answer's target passes, period by period
                hidden = cov.series_hidden(points, filters, [v is not None for v in values]) \
                    | cov.targets_hidden_points(points, filters)
            out: list[tuple[Period, float | None]] = []
            for i, p in enumerate(points):
                t = None if i in hidden else self._target(ctx, spec, p, filters, None)
                out.append((p, None if t is None else (1.0 if spec.key == "target_attainment" else t["value"])))
            return out

    def _hidden_points(self, conn, key: str, points: list[Period], filters: Filters, as_of: datetime,
                       clearance: Clearance | None, has: list[bool], ctx: _Ctx) -> set[int]:
        if clearance is None or clearance.sees_all:
            return set()
        return self._coverage(conn, key, clearance, as_of, ctx).series_hidden(points, filters, has)

    def _coverage(self, conn, key: str, clearance: Clearance, as_of: datetime, ctx: _Ctx | None = None) -> Coverage:
        """The disclosure rule on this connection, told which rows the KPI itself gives a breakdown."""
        ctx = ctx or _Ctx(self, conn, as_of, "previous")

        def lister(period: Period, filters: Filters, by: str) -> dict[str, bool]:
            rows = ctx.measure(key, period, filters, by, details=False).rows or []
            return {str(k): v is not None for k, v in rows if v is not None or k}

        spec = self.catalogue[key]
        # the target beside the KPI, as _target_total reads it
        metric, mode = ("revenue", "sum") if key == "target_attainment" else (key, spec.target) if spec.target \
            else (None, "sum")
        return Coverage(conn, key, clearance, int(as_of.timestamp()), lister, ctx.compare, metric, mode)

    def shown(self, key: str, period: Period, as_of: datetime, filters: dict[str, str] | None,
              clearance: Clearance | None) -> bool:
        """Whether the disclosure rule lets this person see the KPI for this period and selection
        (what digests and alerts ask before they show a number they computed with measure())."""
        if clearance is None or clearance.sees_all:
            return True
        with self.store.connect() as conn:
            f = self._resolve_filters(conn, self.catalogue[key], filters or {}, "en")
            return self._coverage(conn, key, clearance, as_of).cell_ok(period, f)

    def hidden_rows(self, key: str, period: Period, as_of: datetime, filters: dict[str, str] | None, by: str,
                    keys: list[str], clearance: Clearance | None) -> set[str]:
        """The rows of a breakdown (as measure() returns them) this person may not see."""
        if clearance is None or clearance.sees_all:
            return set()
        with self.store.connect() as conn:
            f = self._resolve_filters(conn, self.catalogue[key], filters or {}, "en")
            cov = self._coverage(conn, key, clearance, as_of)
            listed = cov.lister(period, f, by) if cov.lister else {}
            keys_has = {str(k): listed.get(str(k), True) for k in keys}
            return cov.rows_hidden(period, f, by, keys_has, total_shown=cov.rows_ok(period, f))

    def measure(self, key: str, period: Period, as_of: datetime, filters: dict[str, str] | None = None,
                by: str | None = None, details: bool = True) -> Measure:
        """One KPI for one period without comparison or target: what alert rules evaluate (they need
        no details) and explanations read (details, all computed)."""
        with self.store.connect() as conn:
            f = self._resolve_filters(conn, self.catalogue[key], filters or {}, "en")
            ctx = _Ctx(self, conn, as_of, "previous")
            m = ctx.measure(key, period, f, by, details=details)
            m.details = resolve_details(m.details, conn, ctx.rolls)
            return m

    def measure_many(self, key: str, periods_: list[Period], as_of: datetime, filters: dict[str, str] | None = None,
                     by: str | None = None) -> list[Measure]:
        """One KPI for many periods (an alert rule's current, previous and trailing ones), every
        segment of `by` at once: the rollups of all of them are read in one grouped query per cube
        (rows only where the rollups do not cover the question). No details."""
        with self.store.connect() as conn:
            f = self._resolve_filters(conn, self.catalogue[key], filters or {}, "en")
            ctx = _Ctx(self, conn, as_of, "previous")
            for p in periods_:
                ctx.rolls.prefetch.update(ctx.rolls.days_read(p.start_ts, p.end_ts))
                if key == "pipeline_velocity":  # and its lookback, the 90 days before the end
                    ctx.rolls.prefetch.update(ctx.rolls.days_read(periods.to_epoch(p.end - timedelta(days=90)),
                                                                  p.end_ts))
            return [ctx.measure(key, p, f, by, details=False) for p in periods_]

    def largest_deals(self, period: Period, as_of: datetime, filters: dict[str, str] | None = None,
                      n: int = 3) -> list[tuple[str, str, float]]:
        """The n largest won deals closed in the period for the selection: (id, account, amount)."""
        from kpi_engine.deals import largest_won

        with self.store.connect() as conn:
            f = self._resolve_filters(conn, self.catalogue["revenue"], filters or {}, "en")
            return largest_won(_Ctx(self, conn, as_of, "previous").calc(period, f, None, details=False), n)

    def dimension_values(self, key: str, dim: str) -> list[str]:
        """Every stored value of a dimension as it applies to this KPI (for per-segment alert rules)."""
        with self.store.connect() as conn:
            return sorted(self._domain(conn, self.catalogue[key], dim))

    def new_customers_by(self, period: Period, as_of: datetime, by: str = "channel") -> dict[str, int]:
        """CAC's denominator split up: customers whose first purchase is in the period, counted by the
        channel of the lead behind their first won deal in it ("" when that purchase was an order or had
        no lead), or by the account's segment or region. What alert explanations show for CAC."""
        if by == "channel":
            key = "COALESCE(l.channel, '')"
            pick = ("(SELECT o.lead_id FROM opportunities o WHERE o.account_id = nc.account_id AND o.status = 'won'"
                    " AND o.closed_at >= :s AND o.closed_at < :e ORDER BY o.closed_at LIMIT 1)")
            join = f"LEFT JOIN leads l ON l.lead_id = {pick}"
        elif by in ("segment", "region"):
            key, join = f"COALESCE(a.{by}, '')", "LEFT JOIN accounts a ON a.account_id = nc.account_id"
        else:
            raise ValueError(f"new customers cannot be split by {by!r}")
        # a customer's first purchase ever, in P (models.Purchase)
        sql = (f"SELECT {key} AS k, COUNT(*) AS n FROM (SELECT p.account_id FROM purchases p"
               f" WHERE p.t >= :s AND p.t < :e AND p.prev_t IS NULL) nc {join} GROUP BY {key}")
        with self.store.connect() as conn:
            rows = conn.execute(text(sql), {"s": period.start_ts, "e": min(period.end_ts, int(as_of.timestamp()))})
            return {str(k): int(n) for k, n in rows}

    def rep_for_slack_user(self, user_id: str) -> RepInfo | None:
        with self.store.connect() as conn:
            row = conn.execute(text("SELECT rep_id, name, team, region, role FROM reps WHERE slack_user_id = :u"),
                               {"u": user_id}).first()
        if row is None:
            return None
        return RepInfo(row[0], row[1], row[2], row[3], (row[4] or "rep").lower())

    def resolve_rep(self, value: str, lang: str = "en", visible: Visible = None) -> RepInfo:
        """The rep a `rep:` filter value names (id, name, or @Slack user id); QueryError when none or many."""
        with self.store.connect() as conn:
            rep_id = self._resolve_rep(conn, value, lang, visible)
            row = conn.execute(text("SELECT rep_id, name, team, region, role FROM reps WHERE rep_id = :r"),
                               {"r": rep_id}).one()
        return RepInfo(row[0], row[1], row[2], row[3], (row[4] or "rep").lower())

    def team_reps(self, team: str, active_from: datetime | None = None) -> list[str]:
        """The team's reps (those still there at `active_from`, when given)."""
        sql = "SELECT rep_id FROM reps WHERE team = :t"
        params: dict[str, Any] = {"t": team}
        if active_from is not None:
            sql += " AND (left_on IS NULL OR left_on >= :a)"
            params["a"] = int(active_from.timestamp())
        with self.store.connect() as conn:
            return [r[0] for r in conn.execute(text(sql + " ORDER BY rep_id"), params)]

    def rep_names(self, rep_ids: list[str]) -> dict[str, str]:
        """The names of these reps, looked up with .get: for many ids, every rep's name is in it."""
        with self.store.connect() as conn:
            return dict(self._rep_names(conn, rep_ids))

    def data_to(self, key: str) -> int | None:
        """Up to when the data behind a KPI is complete (kpi_engine.freshness); None if unrecorded."""
        return freshness.data_to(self.store, self.catalogue[key])

    def is_empty(self) -> bool:
        with self.store.connect() as conn:
            return all(conn.execute(text(f"SELECT 1 FROM {t} LIMIT 1")).first() is None
                       for t in ("opportunities", "leads", "orders", "spend", "reps"))

    # ------------------------------------------------------------ internals

    @property
    def _parallel(self) -> bool:
        """A second connection sees the same data (not so for an in-memory SQLite database)."""
        url = self.store.url
        return not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))

    def _comparison(self, spec: KpiSpec, base: Period, period: Period, filters: Filters, as_of: datetime,
                    compare: str, ctx: _Ctx | None = None) -> tuple[Measure, float | None]:
        """The KPI over the comparison period, and the target of the period (its own connection unless
        a context is given)."""
        if ctx is None:
            with self.store.connect() as conn:
                return self._comparison(spec, base, period, filters, as_of, compare, _Ctx(self, conn, as_of, compare))
        return ctx.measure(spec.key, base, filters, None, details=False), self._target_total(ctx, spec, period, filters)

    def _target_total(self, ctx: _Ctx, spec: KpiSpec, period: Period, filters: Filters) -> float | None:
        from kpi_engine.targets import target_for

        if spec.key == "target_attainment":
            metric, mode = "revenue", "sum"
        elif spec.target:
            metric, mode = spec.key, spec.target
        else:
            return None
        return target_for(ctx.calc(period, filters, None, details=False), metric, mode).total

    def _target(self, ctx: _Ctx, spec: KpiSpec, period: Period, filters: Filters, value: float | None):
        return self._target_json(spec, self._target_total(ctx, spec, period, filters), value)

    def _target_json(self, spec: KpiSpec, t: float | None, value: float | None) -> dict | None:
        if t is None:
            return None
        if spec.key == "target_attainment":
            return {"value": round(t, 6), "metric": "revenue", "attainment": _clean(value)}
        att = None
        if value is not None and t:
            att = value / t if spec.higher_is_better else (t / value if value else None)
        return {"value": round(t, 6), "metric": spec.key, "attainment": _clean(att)}

    def _breakdown(self, conn, spec: KpiSpec, rows, by: str) -> list[dict]:
        # best first, then by key; keys without a value last, by key. Sorted as plain tuples, without
        # a key function per row: a breakdown by rep has thousands (keys are distinct, so the value
        # at the end of each tuple is never compared)
        sign = -1 if spec.higher_is_better else 1
        rows = rows or []
        valued = sorted([(sign * v if v else 0, k, v) for k, v in rows if v is not None])
        blank = sorted([k for k, v in rows if v is None and k])
        labels = self._rep_names(conn, [k for _, k, _ in valued] + blank) if by == "rep" else {}
        get = labels.get
        out = [{"key": k, "label": get(k) or k or "(none)",
                "value": round(v, 6) if v.__class__ is float else _clean(v)} for _, k, v in valued]
        out += [{"key": k, "label": get(k) or k, "value": None} for k in blank]
        return out

    def _labelled(self, rows: list[dict] | None, by: str | None, lang: str) -> list[dict] | None:
        """Breakdown rows keep the stored value as `key`; `label` is what people read (a rep's name,
        or the dimension value's display name in the question's language)."""
        if not rows or by in (None, "rep"):
            return rows
        return [{**r, "label": self.names.display(by, r["key"], lang)} for r in rows]

    def _rep_names(self, conn, rep_ids: list[str]) -> dict[str, str]:
        ids = [r for r in rep_ids if r]
        if not ids:
            return {}
        # Past a few dozen ids, reading the whole (small) reps table is cheaper than naming each id as a
        # bound parameter: building and compiling a statement of 150 parameters costs more than the read.
        if len(ids) > 32:  # every rep's name: a name the caller does not look up costs less than a filter
            return self._all_rep_names(conn)
        marks = ", ".join(f":r{j}" for j in range(len(ids)))
        rows = conn.execute(text(f"SELECT rep_id, name FROM reps WHERE rep_id IN ({marks})"),
                            {f"r{j}": v for j, v in enumerate(ids)})
        return {rid: name for rid, name in rows if name}

    def _all_rep_names(self, conn) -> dict[str, str]:
        """Every rep's name, kept while the reps table's version is the one they were read at. Triggers
        raise it on every write to reps (migration 0009), so one row read says whether the thousands
        of names are still current. Read-only for callers: the same dict serves later answers."""
        got = driver_rows.rows(conn, "SELECT version FROM table_versions WHERE name = 'reps'")
        version = got[0][0] if got else None
        kept = self._names
        if version is not None and kept is not None and kept[0] == version:
            return kept[1]
        # the version is read first: a change committed in between makes the next answer read again
        names = {rid: name for rid, name in driver_rows.rows(conn, "SELECT rep_id, name FROM reps") if name}
        if version is not None:
            self._names = (version, names)
        return names

    def _domain(self, conn, spec: KpiSpec, dim: str) -> set[str]:
        if dim in _FIXED_DOMAINS:
            return set(_FIXED_DOMAINS[dim])
        customer = spec.source in _CUSTOMER_SOURCES or spec.key in ("csat",) and dim == "segment"
        sql = {
            "team": "SELECT DISTINCT team FROM reps",
            "region": "SELECT DISTINCT region FROM accounts" if customer else "SELECT DISTINCT region FROM reps",
            "segment": "SELECT DISTINCT segment FROM accounts",
            "channel": "SELECT DISTINCT channel FROM leads UNION SELECT DISTINCT channel FROM spend",
            "product": "SELECT DISTINCT product FROM opportunities",
            "stage": "SELECT DISTINCT stage FROM stage_changes",
        }[dim]
        return {r[0] for r in conn.execute(text(sql)) if r[0]}

    def _resolve_filters(self, conn, spec: KpiSpec, raw: dict[str, str], lang: str,
                         visible: Visible = None) -> Filters:
        th = lang == "th"
        out: dict[str, tuple[str, ...]] = {}
        for dim, value in raw.items():
            if dim not in spec.filters:
                allowed = ", ".join(spec.filters) or "nothing"
                raise QueryError(f"{spec.name_th} กรองตาม{_dim_th(dim)}ไม่ได้" if th else
                                 f"{spec.name_en} cannot be filtered by {dim} (it can be filtered by {allowed})",
                                 word=f"{dim}:{value}", lang=lang)
            if dim == "rep":
                out[dim] = (self._resolve_rep(conn, value, lang, visible),)
                continue
            domain = self._domain(conn, spec, dim)
            by_norm = {_norm(v): v for v in domain}
            hit = by_norm.get(_norm(value))
            if hit is None:
                typed = self.names.typed_forms(dim).get(_norm(value))  # a name or alias of a stored value
                hit = typed if typed in domain else None
            if hit is None:
                from rapidfuzz import process  # here: only a value nobody has needs it

                guess = process.extractOne(_norm(value), list(by_norm), score_cutoff=60)
                known = ", ".join(sorted(domain)[:12]) or ("ยังไม่มีในข้อมูล" if th else "none in the data yet")
                if th:
                    hint = f' หมายถึง "{dim}:{by_norm[guess[0]]}" หรือเปล่า?' if guess else ""
                    msg = f'ไม่มี{_dim_th(dim)}ชื่อ "{value}"{hint} ที่มีอยู่: {known}'
                else:
                    hint = f' Did you mean "{dim}:{by_norm[guess[0]]}"?' if guess else ""
                    msg = f'No {dim} called "{value}".{hint} Known: {known}.'
                raise QueryError(msg, word=f"{dim}:{value}", lang=lang,
                                 suggestions=[f"{dim}:{by_norm[guess[0]]}"] if guess else [])
            out[dim] = (hit,)
        return Filters(out)

    def _resolve_rep(self, conn, value: str, lang: str, visible: Visible = None) -> str:
        th = lang == "th"
        v = value.strip()
        if v.startswith("@"):
            row = conn.execute(text("SELECT rep_id FROM reps WHERE slack_user_id = :u"), {"u": v[1:]}).first()
            if row is None:
                raise QueryError(f"ผู้ใช้ Slack {v} ยังไม่ได้ผูกกับตัวแทนขาย" if th else
                                 f"Slack user {v} is not linked to a rep (reps.slack_user_id).", word=v, lang=lang)
            return row[0]
        # an exact id is the common case (alert rules per rep, share buttons): one index lookup,
        # not a read of every rep
        row = conn.execute(text("SELECT rep_id FROM reps WHERE rep_id = :r"), {"r": v}).first()
        if row is not None:
            return row[0]
        reps = list(conn.execute(text("SELECT rep_id, name, name_th, nickname FROM reps")))
        nv = _norm(v)

        def names(r) -> list[str]:
            return [_norm(x) for x in (r[1], r[2]) if x] + [_norm(x) for x in (r[3] or "").replace(";", ",").split(",")
                                                             if x.strip()]

        exact = [r for r in reps if _norm(r[0]) == nv or nv in names(r)]
        if not exact:
            exact = [r for r in reps if any(nv in n.split() for n in names(r))]
        if not exact:
            exact = [r for r in reps if any(nv in n for n in names(r))]
        if len(exact) == 1:
            return exact[0][0]
        shown = [r for r in exact if visible is None or visible(r[0])]
        if len(exact) > 1:
            # only names the asker may see, and not how many others there are
            listed = ", ".join(f"{r[1] or r[2] or r[0]} (rep:{r[0]})" for r in shown[:5])
            if visible is not None:
                raise QueryError(f'"rep:{v}" ตรงกับตัวแทนขายมากกว่าหนึ่งคน{": " + listed if listed else ""} ระบุรหัส'
                                 if th else f'"rep:{v}" matches more than one rep{": " + listed if listed else ""}.'
                                 " Use the rep id.", word=v, lang=lang)
            raise QueryError(f'"rep:{v}" ตรงกับตัวแทนขาย {len(exact)} คน: {listed} ระบุรหัส' if th else
                             f'"rep:{v}" matches {len(exact)} reps: {listed}. Use the rep id.', word=v, lang=lang)
        choices = {(r[1] or r[0]): r[0] for r in reps if visible is None or visible(r[0])}
        from rapidfuzz import process  # here: only a rep nobody has needs it

        guess = process.extractOne(v, list(choices), score_cutoff=60)
        if th:
            hint = f' หมายถึง "{guess[0]}" (rep:{choices[guess[0]]}) หรือเปล่า?' if guess else ""
            raise QueryError(f'ไม่มีตัวแทนขายชื่อ "{v}"{hint}', word=v, lang=lang)
        hint = f' Did you mean "{guess[0]}" (rep:{choices[guess[0]]})?' if guess else ""
        raise QueryError(f'No rep called "{v}".{hint}', word=v, lang=lang)

    def span(self, conn, source: str) -> tuple[int, int] | None:
        if source == "purchases":
            a = self.span(conn, "opportunities.closed_won")
            b = self.span(conn, "orders.ordered_at")
            both = [x for x in (a, b) if x]
            return (min(x[0] for x in both), max(x[1] for x in both)) if both else None
        table, col = source.split(".")
        where, lo_col, hi_col = "", col, col
        if col == "closed_won":
            where, lo_col, hi_col = " WHERE status = 'won'", "closed_at", "closed_at"
        elif table == "spend":
            lo_col, hi_col = "start_at", "end_at"
        elif table == "stage_changes":
            lo_col, hi_col = "entered_at", "exited_at"
        # each bound its own subquery: SQLite answers a lone MIN or MAX with one index seek,
        # but MIN and MAX in one SELECT walk the whole index
        sql = (f"SELECT (SELECT MIN({lo_col}) FROM {table}{where}),"
               f" (SELECT MAX({hi_col}) FROM {table}{where})")
        lo, hi = conn.execute(text(sql)).one()
        return None if lo is None else (int(lo), int(hi if hi is not None else lo))


def _dim_th(dim: str) -> str:
    from kpi_engine.format import dimension

    return dimension(dim, "th")


def _period_error(query: Query, exc: PeriodError) -> QueryError:
    """A period that cannot be answered, said in the question's language."""
    msg = str(exc)
    if query.lang == "th":
        if "in the future" in msg:
            what = msg.split(" is in the future")[0]
            before = msg.partition("for the one before, ask for ")[2]
            msg = f"ช่วง {what} ยังมาไม่ถึง ถามได้เฉพาะช่วงเวลาที่เริ่มแล้ว" + (
                f" (ถ้าหมายถึงครั้งก่อน พิมพ์ {before})" if before else "")
        else:
            msg = "ช่วงเวลานี้ใช้ไม่ได้: " + msg
    return QueryError(msg, lang=query.lang)


def _hide_rows(rows: list[dict], v: Verdict, cl: Clearance | None, lang: str, by: str | None) -> list[dict]:
    """Hidden rows keep their place in the table but lose their value, and go last (their order
    among the others would say how big they are); a rep the person may not see is not named."""
    k = cl.k if cl else 3
    shown = [r for r in rows if str(r["key"]) not in v.hidden_rows]
    hidden = sorted((r for r in rows if str(r["key"]) in v.hidden_rows), key=lambda r: str(r["key"]))
    anon = "(ตัวแทนขายคนอื่น)" if lang == "th" else "(another rep)"
    return shown + [{**r, "value": None, "hidden": hidden_text(k, lang, v.reason),
                     **({"label": anon} if by == "rep" and cl is not None and not cl.visible(str(r["key"])) else {})}
                    for r in hidden]


def _hide(a: Answer, v: Verdict, cl: Clearance | None) -> None:
    """An answer with the numbers the verdict does not allow taken out, saying so."""
    k = cl.k if cl else 3
    a.extra["hidden"] = {"value": not v.value, "comparison": not v.comparison,
                         "rows": sorted(v.hidden_rows), "reason": v.reason, "k": k}
    if not v.target:
        a.target = None
        a.details_raw = {x: y for x, y in a.details_raw.items() if x != "target"}
    if not v.comparison or not v.value:
        a.comparison = Comparison(a.comparison.period, None, None, a.comparison.change_kind)
    for name, keys in v.hidden_details.items():
        if keys and isinstance(a.details_raw.get(name), dict):
            a.details_raw = {**a.details_raw, name: {x: y for x, y in a.details_raw[name].items() if str(x) not in keys}}
    if not v.value:
        a.value, a.n, a.low_sample, a.target = None, None, False, None
        a.details_raw, a.resolver = {}, None
        a.note_code = "hidden_company" if v.reason == "company_only" else "hidden"
        a.note_args = {"k": k, "period": a.period.label}


def _ranked(rows: list[dict], rank: Rank) -> list[dict]:
    """A breakdown in the ranking's order (rows without a value last), cut to its first n."""
    sign = -1 if rank.order == "desc" else 1
    ordered = sorted(rows, key=lambda r: (r["value"] is None, sign * (r["value"] or 0), r["key"]))
    return ordered if rank.n is None else ordered[: rank.n]


def _change(spec: KpiSpec, now: float | None, before: float | None) -> tuple[float | None, str]:
    if spec.change_in_points:
        return (None if now is None or before is None else now - before), "points"
    if now is None or before is None or before == 0:
        return None, "relative"
    return (now - before) / abs(before), "relative"


class _Ctx:
    """One answer's worth of state: a connection, as_of and cached data spans."""

    def __init__(self, eng: KpiEngine, conn, as_of: datetime, compare: str):
        self.eng = eng
        self.conn = conn
        self.as_of_ts = int(as_of.timestamp())
        self.compare = compare
        self._spans: dict[str, tuple[int, int] | None] = {}
        self.rolls = RollState(conn, eng.config, eng.use_rollups)

    def calc(self, period: Period, filters: Filters, by: str | None, details: bool = True) -> Calc:
        return Calc(self.conn, self.eng.config, period, self.as_of_ts, filters, by, self.compare, self.measure,
                    details=details, rolls=self.rolls)

    def _span(self, source: str):
        if source not in self._spans:
            self._spans[source] = self.eng.span(self.conn, source)
        return self._spans[source]

    def measure(self, key: str, period: Period, filters: Filters, by: str | None, details: bool = True) -> Measure:
        """One KPI for one period; details=False when only value, n and rows will be read."""
        spec = self.eng.catalogue[key]
        span = self._span(spec.source)
        src = spec.source.split(".")[0]
        if span is None:
            return Measure(None, reason="empty_source", reason_args={"source": src, "period": period.label})
        if period.end_ts <= span[0] or period.start_ts > span[1]:
            fmt = self.eng.tz
            return Measure(None, reason="outside_span", reason_args={
                "period": period.label, "source": src,
                "first": periods.from_epoch(span[0], fmt).date().isoformat(),
                "last": periods.from_epoch(span[1], fmt).date().isoformat()})
        m = COMPUTE[key](self.calc(period, filters, by, details))
        m.reason_args.setdefault("period", period.label)
        return m
