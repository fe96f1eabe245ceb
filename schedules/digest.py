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


def build_digest(engine: KpiEngine, ops: OpsStore | None, config: AppConfig, sub: DigestConfig, as_of: datetime,
                 channel: str | None = None, chart: bool = True) -> DigestData:
    started = time.perf_counter()
    tz = config.tz
    lang = sub.lang
    ch = digest_channel(sub, config, channel)
    week = last_week(as_of, tz)
    d = DigestData(sub.id, ch, lang, digest_key(sub, ch, week), week.to_json(), periods.previous(week).to_json(),
                   as_of.isoformat(), config.currency, dict(sub.filter))
    answers: dict[str, Answer] = {}
    for k in sub.kpis:
        a = engine.answer(Query(k, PeriodSpec("current", grain="week", offset=-1), filters=dict(sub.filter),
                                lang=lang), as_of)
        answers[k] = a
        d.lines.append(KpiLine(k, a.spec.name(lang), a.spec.unit, a.value, a.comparison.value, a.comparison.change,
                               a.comparison.change_kind, a.good_change, a.low_sample, a.note(lang)))
    for k in sub.kpis:
        for span, grain in (("mtd", "month"), ("qtd", "quarter")):
            p = _pacing(engine, sub, k, span, grain, as_of, lang)
            if p is not None:
                d.pacing.append(p)
    d.movers = _movers(engine, sub, week, as_of, lang, answers, config.min_sample)
    if ops is not None:
        d.alerts = _open_alerts(engine, ops, config, lang)
    if chart and sub.chart:
        d.chart_kpi, d.chart_weeks = sub.chart_kpi or sub.kpis[0], sub.chart_weeks
        d.chart = _chart(engine, sub, d.chart_kpi, as_of, lang, answers.get(d.chart_kpi))
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


def _movers(engine: KpiEngine, sub: DigestConfig, week: Period, as_of: datetime, lang: str,
            answers: dict[str, Answer], min_sample: int) -> list[Mover]:
    if not sub.movers:
        return []
    prev = periods.previous(week)
    found: list[Mover] = []
    for k in sub.kpis:
        spec = engine.spec(k)
        a = answers[k]
        level = abs(a.comparison.value if a.comparison.value else (a.value or 0.0))
        for dim in sub.movers_by:
            if dim not in spec.breakdowns or dim in sub.filter:
                continue
            now = dict(engine.measure(k, week, as_of, sub.filter or None, by=dim).rows or [])
            before = dict(engine.measure(k, prev, as_of, sub.filter or None, by=dim).rows or [])
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
        ranked = sorted((m for m in found if m.good == side), key=lambda m: -m.score)
        out += _big_enough(engine, sub, ranked, week, prev, as_of, min_sample)
    return out


def _big_enough(engine: KpiEngine, sub: DigestConfig, ranked: list[Mover], week: Period, prev: Period,
                as_of: datetime, min_sample: int) -> list[Mover]:
    """The first `sub.movers` of ranked whose ratio rests on enough items in both weeks (kpis.md's
    low-sample guard: a win rate going from 1 of 1 to 0 of 1 is not news). Rows carry no sample
    size, so it is asked per candidate, for a bounded number of candidates."""
    kept: list[Mover] = []
    checks = 0
    for m in ranked:
        if len(kept) == sub.movers:
            break
        if engine.spec(m.kpi).unit == "ratio" and min_sample:
            if checks >= 4 * sub.movers:
                continue
            checks += 1
            f = {**sub.filter, m.dim: m.segment}
            if any((engine.measure(m.kpi, p, as_of, f).n or 0) < min_sample for p in (week, prev)):
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
           answer: Answer | None) -> bytes | None:
    from bot.charts import render_trend

    q = Query(kpi, PeriodSpec("current", grain="week", offset=-1), filters=dict(sub.filter), lang=lang)
    try:
        a = answer or engine.answer(q, as_of)
        series = engine.series(q, as_of, n=sub.chart_weeks)
        if all(v is None for _, v in series):
            return None
        targets = engine.target_series(q, as_of, n=sub.chart_weeks) if engine.spec(kpi).target else None
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
