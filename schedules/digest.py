"""The weekly digest: what it says, as data (bot/digest_blocks.py renders it).

For last week (the last complete ISO week before as_of): each KPI's value and change vs
the week before; month- and quarter-to-date pacing against target with a linear
projection to the period's end; the biggest movers by segment; open alerts; one chart.
Reads KPIs only through KpiEngine.

Delivery (queue_digest): one outbox message keyed digest:<id>:<channel>:<week>, and
the chart uploaded into its thread (key …:chart). The same digest built twice is sent once.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from config.app_config import AppConfig
from config.schedule_models import DigestConfig
from kpi_engine import periods
from kpi_engine.engine import Answer, KpiEngine
from kpi_engine.ops import NewMessage, OpsStore
from kpi_engine.periods import Period
from kpi_engine.query import PeriodSpec, Query
from schedules.outbox import DIGEST_EVENT, post, upload

log = logging.getLogger(__name__)


@dataclass
class KpiLine:
    key: str
    name: str
    unit: str
    value: float | None
    previous: float | None
    change: float | None
    change_kind: str
    good: bool | None
    low_sample: bool
    note: str | None


@dataclass
class Pacing:
    key: str
    name: str
    unit: str
    span: str  # mtd | qtd
    period: str  # label
    value: float | None
    target_to_date: float | None
    attainment: float | None  # value vs the target pro-rata to date (inverted when lower is better)
    elapsed: float  # share of the period gone by
    projection: float | None  # linear by elapsed time for sums; the current level for levels
    target: float | None  # the whole period's target
    projected_attainment: float | None


@dataclass
class Mover:
    kpi: str
    name: str
    unit: str
    dim: str
    segment: str
    now: float
    before: float
    change: float  # points for ratios, relative otherwise (as fmt.change expects)
    change_kind: str
    good: bool
    score: float  # |Δ| against the company's level: comparable across KPIs and segments


@dataclass
class OpenAlert:
    rule_id: str
    title: str
    severity: str
    segment: str
    state: str
    fired_at: int | None
    value: float | None
    unit: str
    period: str | None
    acked_by: str | None


@dataclass
class DigestData:
    digest_id: str
    channel: str
    lang: str
    key: str
    week: dict[str, Any]
    previous_week: dict[str, Any]
    as_of: str
    currency: str
    filters: dict[str, str]
    lines: list[KpiLine] = field(default_factory=list)
    pacing: list[Pacing] = field(default_factory=list)
    movers: list[Mover] = field(default_factory=list)
    alerts: list[OpenAlert] = field(default_factory=list)
    chart: bytes | None = None
    chart_kpi: str | None = None
    chart_weeks: int = 12
    seconds: float = 0.0
    data_to: int | None = None  # the oldest freshness of its KPIs' data (kpi_engine.freshness)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["chart"] = None if self.chart is None else {"kpi": self.chart_kpi, "png_bytes": len(self.chart)}
        return d


def digest_channel(sub: DigestConfig, config: AppConfig, override: str | None = None) -> str:
    return override or sub.channel or config.slack.digest_channel


def last_week(as_of: datetime, tz) -> Period:
    return periods.current("week", as_of, tz, -1)


def digest_key(sub: DigestConfig, channel: str, week: Period) -> str:
    return f"digest:{sub.id}:{channel}:{week.label}"


# The digest's questions are independent and mostly wait on the database (which SQLite in WAL
# mode and PostgreSQL both answer in parallel), so a few run at a time; more would only queue.
WORKERS = 4


def build_digest(engine: KpiEngine, ops: OpsStore | None, config: AppConfig, sub: DigestConfig, as_of: datetime,
                 channel: str | None = None, chart: bool = True) -> DigestData:
    started = time.perf_counter()
    tz = config.tz
    lang = sub.lang
    ch = digest_channel(sub, config, channel)
    week = last_week(as_of, tz)
    prev = periods.previous(week)
    d = DigestData(sub.id, ch, lang, digest_key(sub, ch, week), week.to_json(), prev.to_json(),
                   as_of.isoformat(), config.currency, dict(sub.filter))
    filters = dict(sub.filter)
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="digest") as pool:
        answers = {k: pool.submit(engine.answer, Query(k, PeriodSpec("current", grain="week", offset=-1),
                                                       filters=filters, lang=lang), as_of) for k in sub.kpis}
        pacing = [pool.submit(_pacing, engine, sub, k, span, grain, as_of, lang)
                  for k in sub.kpis for span, grain in (("mtd", "month"), ("qtd", "quarter"))]
        breakdowns = {(k, dim, p.label): pool.submit(engine.measure, k, p, as_of, filters or None, dim)
                      for k in _mover_kpis(engine, sub) for dim in sub.movers_by
                      if dim in engine.spec(k).breakdowns and dim not in filters for p in (week, prev)}
        if chart and sub.chart:
            d.chart_kpi, d.chart_weeks = sub.chart_kpi or sub.kpis[0], sub.chart_weeks
            drawn = pool.submit(_chart, engine, sub, d.chart_kpi, as_of, lang, answers.get(d.chart_kpi))
        if ops is not None:
            d.alerts = _open_alerts(engine, ops, config, lang)
        for k, f in answers.items():
            a = f.result()
            if a.data_to is not None:
                d.data_to = a.data_to if d.data_to is None else min(d.data_to, a.data_to)
            d.lines.append(KpiLine(k, a.spec.name(lang), a.spec.unit, a.value, a.comparison.value,
                                   a.comparison.change, a.comparison.change_kind, a.good_change, a.low_sample,
                                   a.note(lang)))
        d.pacing = [x for x in (f.result() for f in pacing) if x is not None]
        rows = {key: dict(f.result().rows or []) for key, f in breakdowns.items()}
        d.movers = _movers(engine, pool, sub, week, prev, as_of, lang,
                           {k: f.result() for k, f in answers.items()}, rows, config.min_sample)
        if chart and sub.chart:
            d.chart = drawn.result()
    d.seconds = round(time.perf_counter() - started, 3)
    return d


def _pacing(engine: KpiEngine, sub: DigestConfig, kpi: str, span: str, grain: str, as_of: datetime,
            lang: str) -> Pacing | None:
    spec = engine.spec(kpi)
    if not spec.target:
        return None
    q = Query(kpi, PeriodSpec("current", grain=grain), filters=dict(sub.filter), lang=lang)
    a = engine.answer(q, as_of)
    if not a.target:
        return None
    p = a.period
    whole = (p.full_end - p.start).total_seconds()
    elapsed = max(0.0, min(1.0, (p.end - p.start).total_seconds() / whole)) if whole else 1.0
    t_to_date = a.target["value"]
    # The whole period's target, asked as of the period's end: targets.py pro-rates by time,
    # so this is exact also when monthly targets differ within a quarter.
    full_q = Query(kpi, PeriodSpec("key", key=p.label), filters=dict(sub.filter), lang=lang)
    full = engine.target_series(full_q, p.full_end, n=1)[-1][1] if p.to_date else t_to_date
    if spec.target == "sum":
        projection = a.value / elapsed if a.value is not None and elapsed > 0 else None
    else:
        projection = a.value
    return Pacing(kpi, spec.name(lang), spec.unit, span, p.label, a.value, t_to_date, a.target.get("attainment"),
                  round(elapsed, 4), projection, full, _attainment(projection, full, spec.higher_is_better))


def _attainment(value: float | None, target: float | None, higher_is_better: bool) -> float | None:
    if value is None or not target:
        return None
    if higher_is_better:
        return value / target
    return target / value if value else None


def _mover_kpis(engine: KpiEngine, sub: DigestConfig) -> list[str]:
    """KPIs whose week-on-week change by segment says something. A quarterly KPI (retention,
    training) barely moves in a week, so its weekly segments are noise, and at 1M rows its
    breakdown is also the digest's most expensive question."""
    if not sub.movers:
        return []
    return [k for k in sub.kpis if engine.spec(k).default_grain not in ("quarter", "year")]


def _movers(engine: KpiEngine, pool: ThreadPoolExecutor, sub: DigestConfig, week: Period, prev: Period,
            as_of: datetime, lang: str, answers: dict[str, Answer],
            rows: dict[tuple[str, str, str], dict[str, float | None]], min_sample: int) -> list[Mover]:
    """The segments whose change moved their KPI most, good and bad, from the breakdowns in `rows`."""
    found: list[Mover] = []
    for (k, dim, label), now in rows.items():
        if label != week.label:
            continue
        before = rows[(k, dim, prev.label)]
        spec = engine.spec(k)
        a = answers[k]
        level = abs(a.comparison.value if a.comparison.value else (a.value or 0.0))
        # a segment without rows sold nothing (0) but has no rate or average (unknown)
        absent = 0.0 if spec.kind in ("sum", "count") else None
        for seg in set(now) | set(before):
            x, y = now.get(seg, absent), before.get(seg, absent)
            if not seg or x is None or y is None or x == y or (x == 0 and y == 0):
                continue
            if spec.change_in_points:
                change, kind = x - y, "points"
            elif y:
                change, kind = (x - y) / abs(y), "relative"
            else:
                continue
            score = abs(x - y) / level if level else abs(change)
            found.append(Mover(k, spec.name(lang), spec.unit, dim, seg, x, y, change, kind,
                               (x > y) == spec.higher_is_better, score))
    out = []
    for side in (True, False):
        ranked = sorted((m for m in found if m.good == side), key=lambda m: (-m.score, m.kpi, m.dim, m.segment))
        out += _big_enough(engine, pool, sub, ranked, week, prev, as_of, min_sample)
    return out


def _big_enough(engine: KpiEngine, pool: ThreadPoolExecutor, sub: DigestConfig, ranked: list[Mover],
                week: Period, prev: Period, as_of: datetime, min_sample: int) -> list[Mover]:
    """The first `sub.movers` of ranked whose ratio rests on enough items in both weeks (kpis.md's
    low-sample guard: a win rate going from 1 of 1 to 0 of 1 is not news). Rows carry no sample
    size, so it is asked per candidate, for a bounded number of candidates, all at once."""
    ratio = [m for m in ranked if engine.spec(m.kpi).unit == "ratio"][:4 * sub.movers] if min_sample else []
    sizes = {id(m): [pool.submit(engine.measure, m.kpi, p, as_of, {**sub.filter, m.dim: m.segment})
                     for p in (week, prev)] for m in ratio}
    kept: list[Mover] = []
    for m in ranked:
        if len(kept) == sub.movers:
            break
        if engine.spec(m.kpi).unit == "ratio" and min_sample:
            if id(m) not in sizes or any((f.result().n or 0) < min_sample for f in sizes[id(m)]):
                continue
        kept.append(m)
    return kept


def _open_alerts(engine: KpiEngine, ops: OpsStore, config: AppConfig, lang: str) -> list[OpenAlert]:
    rules = {r.id: r for r in config.alerts.rules}
    out = []
    for row in ops.open_alerts():
        rule = rules.get(row.rule_id)
        if rule is None:
            continue
        out.append(OpenAlert(row.rule_id, rule.label(lang), rule.severity, row.segment, row.state, row.fired_at,
                             row.value, engine.spec(rule.kpi).unit, row.period, row.acked_by))
    return out


def _chart(engine: KpiEngine, sub: DigestConfig, kpi: str, as_of: datetime, lang: str,
           answer: Future[Answer] | None) -> bytes | None:
    from bot.charts import render_trend

    q = Query(kpi, PeriodSpec("current", grain="week", offset=-1), filters=dict(sub.filter), lang=lang)
    try:
        series = engine.series(q, as_of, n=sub.chart_weeks)
        if all(v is None for _, v in series):
            return None
        targets = engine.target_series(q, as_of, n=sub.chart_weeks) if engine.spec(kpi).target else None
        a = answer.result() if answer is not None else engine.answer(q, as_of)
        return render_trend(a, series, targets, lang)
    except Exception:  # a digest without its chart beats no digest
        log.exception("digest %s: the chart could not be drawn", sub.id)
        return None


# ------------------------------------------------------------------ delivery


def digest_messages(d: DigestData) -> list[NewMessage]:
    from bot.digest_blocks import chart_title, digest_message

    text, blocks = digest_message(d)
    msgs = [post(d.key, d.channel, text, blocks, DIGEST_EVENT,
                 event_payload={"digest": d.digest_id, "week": d.week["label"]})]
    if d.chart:
        title = chart_title(d)
        msgs.append(upload(f"{d.key}:chart", d.channel, f"kpibot-{d.week['label']}.png", d.chart, title, title,
                           thread_of=d.key))
    return msgs


def queue_digest(ops: OpsStore, d: DigestData) -> list[str]:
    """Queue the digest (and its chart) unless this digest was queued before; the keys created."""
    msgs = digest_messages(d)
    with ops.begin() as conn:
        created = ops.enqueue(msgs, int(time.time()), conn)
    return [m.key for m, c in zip(msgs, created, strict=True) if c]
