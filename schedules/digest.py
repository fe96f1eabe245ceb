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
from dataclasses import replace
from datetime import datetime

from config.app_config import AppConfig
from config.schedule_models import DigestConfig
from kpi_engine import format as fmt
from kpi_engine import periods
from kpi_engine.digest_data import (  # noqa: F401  (re-exported: the digest's data types live below both layers)
    Audience,
    Deal,
    DigestData,
    KpiLine,
    Mover,
    OpenAlert,
    Pacing,
    TeamLine,
)
from kpi_engine.engine import Answer, KpiEngine
from kpi_engine.ops import NewMessage, OpsStore
from kpi_engine.periods import Period
from kpi_engine.query import PeriodSpec, Query, QueryError
from schedules.alerts import segment_label
from schedules.outbox import DIGEST_EVENT, post, upload
from schedules.rules import robust_z

log = logging.getLogger(__name__)

# A segment moves when this week stands out from its own trailing weeks by this robust z (the
# anomaly rule's statistic), over this many weeks of history.
MOVER_HISTORY_WEEKS = 8
MOVER_MIN_HISTORY = 4


def digest_channel(sub: DigestConfig, config: AppConfig, override: str | None = None) -> str:
    return override or sub.channel or config.slack.digest_channel


def last_week(as_of: datetime, tz) -> Period:
    return periods.current("week", as_of, tz, -1)


def digest_key(sub: DigestConfig, channel: str, week: Period) -> str:
    return f"digest:{sub.id}:{channel}:{week.label}"


# The digest's questions are independent and mostly wait on the database (which SQLite in WAL
# mode and PostgreSQL both answer in parallel), so a few run at a time; more would only queue.
WORKERS = 4


def personal_key(sub: DigestConfig, user_id: str, week: Period) -> str:
    """A person's own digest: its own idempotency key, so it is sent once a week whatever reruns."""
    return f"digest:{sub.id}:dm:{user_id}:{week.label}"


def _day_start(as_of: datetime, tz) -> datetime:
    local = as_of.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def build_digest(engine: KpiEngine, ops: OpsStore | None, config: AppConfig, sub: DigestConfig, as_of: datetime,
                 channel: str | None = None, chart: bool = True, *, audience: Audience | None = None) -> DigestData:
    """The subscription's digest for its channel, or with `audience` a person's own (bot/access.py
    decides what that person's digest covers)."""
    started = time.perf_counter()
    tz = config.tz
    aud = audience or Audience("channel", {}, None, sub.lang)
    lang = aud.lang
    filters = {**sub.filter, **aud.filters}
    ch = aud.recipient or digest_channel(sub, config, channel)
    week = last_week(as_of, tz)
    hist = periods.earlier(week, MOVER_HISTORY_WEEKS)
    prev = hist[0]
    key = personal_key(sub, aud.recipient, week) if aud.recipient else digest_key(sub, ch, week)
    d = DigestData(sub.id, ch, lang, key, week.to_json(), prev.to_json(), as_of.isoformat(), config.currency,
                   dict(filters), audience=aud.kind, scope_label=aud.label, recipient=aud.recipient,
                   tz=config.timezone)
    # pacing runs through the last complete day: the digest goes out in the morning, and a target
    # counts the day in progress whole (targets.py), so a part of today would read as falling behind
    pace_at = _day_start(as_of, tz)
    dims = [dim for dim in ([*aud.movers_by] if aud.movers_by is not None else sub.movers_by) if dim not in filters]
    # a person's digest keeps the KPIs their scope can narrow (no company-only CAC in a rep's week)
    kpis = [k for k in sub.kpis if set(aud.filters) <= set(engine.spec(k).filters)] or list(sub.kpis)
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="digest") as pool:
        answers = {k: pool.submit(engine.answer, Query(k, PeriodSpec("current", grain="week", offset=-1),
                                                       filters=dict(filters), lang=lang), as_of,
                                  clearance=aud.clearance) for k in kpis}
        pacing = [pool.submit(_pacing, engine, config, k, span, grain, pace_at, lang, filters, aud.clearance)
                  for k in kpis for span, grain in (("mtd", "month"), ("qtd", "quarter"))]
        weeks = [week, *hist]
        breakdowns = {(k, dim): [pool.submit(engine.measure, k, p, as_of, filters or None, dim) for p in weeks]
                      for k in _mover_kpis(engine, sub, kpis) for dim in dims if dim in engine.spec(k).breakdowns}
        split = _split_dim(engine, kpis[0], aud, filters)
        members = pool.submit(_member_lines, engine, kpis[0], split, week, prev, pace_at, as_of, lang, filters,
                              aud.clearance) \
            if split else None
        if chart and sub.chart:
            d.chart_kpi, d.chart_weeks = sub.chart_kpi if sub.chart_kpi in kpis else kpis[0], sub.chart_weeks
            drawn = pool.submit(_chart, engine, sub, d.chart_kpi, as_of, lang, answers.get(d.chart_kpi), filters)
        if ops is not None:
            d.alerts = _open_alerts(engine, ops, config, lang, aud, as_of)
        for k, f in answers.items():
            a = f.result()
            if a.data_to is not None:
                d.data_to = a.data_to if d.data_to is None else min(d.data_to, a.data_to)
            d.lines.append(KpiLine(k, a.spec.name(lang), a.spec.unit, a.value, a.comparison.value,
                                   a.comparison.change, a.comparison.change_kind, a.good_change, a.low_sample,
                                   a.note(lang)))
        d.pacing = [x for x in (f.result() for f in pacing) if x is not None]
        rows = {kd: [dict(f.result().rows or []) for f in fs] for kd, fs in breakdowns.items()}
        if aud.clearance is not None and not aud.clearance.sees_all:
            _disclose(engine, aud.clearance, d, rows, weeks, as_of, filters)
        d.movers = _movers(engine, pool, sub, weeks, as_of, lang, {k: f.result() for k, f in answers.items()},
                           rows, config.min_sample, filters)
        if aud.clearance is not None and not aud.clearance.sees_all:
            for m in d.movers:  # a single deal's amount is one rep's number
                m.deals = []
        if members is not None:
            d.split_by = split
            d.teams = members.result()
            if aud.clearance is not None and not aud.clearance.sees_all:
                keys = [t.team for t in d.teams]
                hide = engine.hidden_rows(kpis[0], week, as_of, filters or None, split, keys, aud.clearance)
                # the week before is a number of its own (and the change gives it away with this week's)
                hide_prev = engine.hidden_rows(kpis[0], prev, as_of, filters or None, split, keys, aud.clearance)
                d.teams = [replace(t, value=None, previous=None, change=None, good=None, attainment=None)
                           if t.team in hide else
                           replace(t, previous=None, change=None, good=None) if t.team in hide_prev else t
                           for t in d.teams]
            for t in d.teams:
                t.open_alerts = sum(1 for x in d.alerts if x.segment == t.team)
        if chart and sub.chart:
            d.chart = drawn.result()
    d.seconds = round(time.perf_counter() - started, 3)
    return d


def _pacing(engine: KpiEngine, config: AppConfig, kpi: str, span: str, grain: str, pace_at: datetime,
            lang: str, filters: dict[str, str], clearance=None) -> Pacing | None:
    spec = engine.spec(kpi)
    if not spec.target:
        return None
    q = Query(kpi, PeriodSpec("current", grain=grain), filters=dict(filters), lang=lang)
    # as the person may see it: the month or quarter to date is a number of its own (a week that
    # passes the rule says nothing of it)
    a = engine.answer(q, pace_at, clearance=clearance)
    if not a.target or a.value is None:
        return None
    p = a.period
    tz = config.tz
    total = periods.calendar_days(p.start_ts, periods.to_epoch(p.full_end), tz)
    days = periods.calendar_days(p.start_ts, p.end_ts, tz)
    if not days or not total:
        return None  # the first of the month: nothing to pace yet
    elapsed = days / total
    t_to_date = a.target["value"]
    # The whole period's target, asked as of the period's end: targets.py pro-rates by day,
    # so this is exact also when monthly targets differ within a quarter.
    full_q = Query(kpi, PeriodSpec("key", key=p.label), filters=dict(filters), lang=lang)
    full = engine.target_series(full_q, p.full_end, n=1, clearance=clearance)[-1][1] if p.to_date else t_to_date
    if spec.target == "sum":
        projection = a.value / elapsed if a.value is not None else None
    else:
        projection = a.value
    through = periods.from_epoch(p.end_ts - 1, tz).date().isoformat()
    return Pacing(kpi, spec.name(lang), spec.unit, span, p.label, a.value, t_to_date, a.target.get("attainment"),
                  round(elapsed, 4), projection, full, _attainment(projection, full, spec.higher_is_better),
                  through=through)


def _attainment(value: float | None, target: float | None, higher_is_better: bool) -> float | None:
    if value is None or not target:
        return None
    if higher_is_better:
        return value / target
    return target / value if value else None


def _mover_kpis(engine: KpiEngine, sub: DigestConfig, kpis: list[str]) -> list[str]:
    """KPIs whose week-on-week change by segment says something. A quarterly KPI (retention,
    training) barely moves in a week, so its weekly segments are noise, and at 1M rows its
    breakdown is also the digest's most expensive question."""
    if not sub.movers:
        return []
    return [k for k in kpis if engine.spec(k).default_grain not in ("quarter", "year")]


def _movers(engine: KpiEngine, pool: ThreadPoolExecutor, sub: DigestConfig, weeks: list[Period], as_of: datetime,
            lang: str, answers: dict[str, Answer], rows: dict[tuple[str, str], list[dict[str, float | None]]],
            min_sample: int, filters: dict[str, str]) -> list[Mover]:
    """Segments whose week stands out from their own recent weeks, that rest on enough items in both
    weeks, at most `sub.movers` of them, the largest impact on the company's value first; a move one
    or two deals explain names them, and a deal never makes two movers.

    A segment is a candidate when its robust z (median/MAD of its trailing weeks, the anomaly rule's
    statistic) reaches `sub.movers_z` in the direction of its change against last week.
    """
    week, prev = weeks[0], weeks[1]
    found: list[Mover] = []
    for (k, dim), series in rows.items():
        spec = engine.spec(k)
        a = answers[k]
        level = abs(a.comparison.value if a.comparison.value else (a.value or 0.0))
        # a segment without rows sold nothing (0) but has no rate or average (unknown)
        absent = 0.0 if spec.kind in ("sum", "count") else None
        now_rows, prev_rows = series[0], series[1]
        for seg in set(now_rows) | set(prev_rows):
            x, y = now_rows.get(seg, absent), prev_rows.get(seg, absent)
            if not seg or x is None or y is None or x == y:
                continue
            history = [v for v in (r.get(seg, absent) for r in series[1:]) if v is not None]
            if len(history) < MOVER_MIN_HISTORY:
                continue
            z = robust_z(x, history)
            if z is None or abs(z) < sub.movers_z or (z > 0) != (x > y):
                continue
            if spec.change_in_points:
                change, kind = x - y, "points"
            elif y:
                change, kind = (x - y) / abs(y), "relative"
            else:
                continue
            score = abs(x - y) / level if level else abs(change)
            found.append(Mover(k, spec.name(lang), spec.unit, dim, seg, x, y, change, kind,
                               (x > y) == spec.higher_is_better, score,
                               label=engine.names.display(dim, seg, lang) if dim != "rep" else seg, z=round(z, 2)))
    if not found:
        return []
    found.sort(key=lambda m: (-m.score, m.kpi, m.dim, m.segment))
    # the sample behind each candidate (rows carry no sample size): a bounded number, asked at once
    cands = found[:4 * max(sub.movers, 1)]
    sizes = {id(m): [pool.submit(engine.measure, m.kpi, p, as_of, {**filters, m.dim: m.segment})
                     for p in (week, prev)] for m in cands}
    reps = engine.rep_names([m.segment for m in cands if m.dim == "rep"])
    kept: list[Mover] = []
    for m in cands:
        n_now, n_before = (f.result().n for f in sizes[id(m)])
        m.n_now, m.n_before = n_now, n_before
        if min_sample and ((n_now or 0) < min_sample or (n_before or 0) < min_sample):
            continue
        if m.dim == "rep":
            m.label = reps.get(m.segment, m.segment)
        a = answers[m.kpi]
        spec = engine.spec(m.kpi)
        if spec.kind in ("ratio", "mean") and a.n:
            # a rate or an average moves the company's by its share of the items
            m.score = m.score * min(1.0, (n_now or 0) / a.n)
        kept.append(m)
    kept.sort(key=lambda m: (-m.score, m.kpi, m.dim, m.segment))
    out: list[Mover] = []
    used: set[str] = set()
    for m in kept:
        if len(out) == sub.movers:
            break
        m.deals = _deals_behind(engine, m, week, prev, as_of, filters)
        ids = {x.id for x in m.deals}
        if ids & used:
            continue  # the same deal already made a mover: one deal never makes two
        used |= ids
        out.append(m)
    return out


def _deals_behind(engine: KpiEngine, m: Mover, week: Period, prev: Period, as_of: datetime,
                  filters: dict[str, str]) -> list[Deal]:
    """The one or two won deals that explain a money move, if that few do (at least half of it)."""
    spec = engine.spec(m.kpi)
    if spec.unit != "currency" or not spec.source.startswith("opportunities"):
        return []
    heavy = week if m.now > m.before else prev
    top = [Deal(i, name, amt) for i, name, amt in
           engine.largest_deals(heavy, as_of, {**filters, m.dim: m.segment}, n=2)]
    if spec.kind == "sum":
        moved = abs(m.now - m.before)
    else:  # an average: what the heavier week's deals add up to
        n = m.n_now if heavy is week else m.n_before
        moved = (m.now if heavy is week else m.before) * (n or 0)
    for k in (1, 2):
        if len(top) >= k and sum(x.amount for x in top[:k]) >= 0.5 * moved > 0:
            return top[:k]
    return []


def _disclose(engine: KpiEngine, cl, d: DigestData, rows: dict, weeks: list[Period], as_of: datetime,
              filters: dict[str, str]) -> None:
    """A person's digest with what their clearance may not see taken out (kpi_engine.disclosure):
    pacing of a hidden total, segments whose week is hidden (never a mover), a segment's earlier week
    when that one is hidden (a mover's change would give it away), alerts about a team, a region or a
    rep for someone who sees company totals only."""
    d.pacing = [p for p in d.pacing if engine.shown(p.key, weeks[0], as_of, filters or None, cl)]
    for (k, dim), per_week in rows.items():
        keys = sorted(set().union(*per_week))
        hide = engine.hidden_rows(k, weeks[0], as_of, filters or None, dim, keys, cl)
        for w in per_week:
            for key in hide:
                w.pop(key, None)
        for p, w in zip(weeks[1:], per_week[1:], strict=True):
            for key in engine.hidden_rows(k, p, as_of, filters or None, dim, sorted(w), cl):
                w.pop(key, None)
    if cl.reps is not None and not cl.reps:  # sees no rep: no alert about a rep's, a team's or a region's numbers
        d.alerts = [a for a in d.alerts if not a.segment]
    d.alerts = [a for a in d.alerts if _alert_shown(engine, cl, a, as_of)]


def _alert_shown(engine: KpiEngine, cl, alert: OpenAlert, as_of: datetime) -> bool:
    """Whether an open alert's value may be in this person's digest: the number it shows (its rule's
    KPI, filters and segment, over the period it fired for) passes the rule like any answer."""
    rule = next((r for r in engine.config.alerts.rules if r.id == alert.rule_id), None)
    if rule is None:
        return False
    filters = {**dict(rule.filter), **({rule.per: alert.segment} if rule.per and alert.segment else {})}
    try:
        period = periods.from_key(alert.period, as_of, engine.tz)
    except (periods.PeriodError, ValueError):
        return False  # a period it cannot place is a number it cannot check
    try:
        return engine.shown(rule.kpi, period, as_of, filters, cl)
    except QueryError:
        return False


def _split_dim(engine: KpiEngine, kpi: str, aud: Audience, filters: dict[str, str]) -> str | None:
    """A line per team in the head's digest, per rep in a manager's; none in a rep's own."""
    lead = engine.spec(kpi)
    if aud.kind == "self" or "rep" in filters:
        return None
    dim = "rep" if aud.kind == "team" else "team"
    if dim not in lead.breakdowns or dim in filters and dim != "rep":
        return None
    return dim


def _member_lines(engine: KpiEngine, k: str, dim: str, week: Period, prev: Period, pace_at: datetime,
                  as_of: datetime, lang: str, filters: dict[str, str], clearance=None) -> list[TeamLine]:
    """The lead KPI's week per team (or rep), with its change and month-to-date attainment of target."""
    spec = engine.spec(k)
    now = dict(engine.measure(k, week, as_of, filters or None, dim).rows or [])
    before = dict(engine.measure(k, prev, as_of, filters or None, dim).rows or [])
    every = engine.team_reps(filters["team"], week.start) if dim == "rep" and "team" in filters else \
        engine.dimension_values(k, dim) if dim == "team" else []
    keys = sorted(x for x in set(now) | set(before) | set(every) if x)
    names = engine.rep_names(keys) if dim == "rep" else {}
    absent = 0.0 if spec.kind in ("sum", "count") else None
    out = []
    for key in keys:
        x, y = now.get(key, absent), before.get(key, absent)
        change, kind = None, "points" if spec.change_in_points else "relative"
        if x is not None and y is not None:
            change = (x - y) if spec.change_in_points else ((x - y) / abs(y) if y else None)
        good = None if not change else (change > 0) == spec.higher_is_better
        att = None
        if spec.target and (pace_at > periods.current("month", pace_at, pace_at.tzinfo).start):
            mtd = engine.answer(Query(k, PeriodSpec("current", grain="month"), filters={**filters, dim: key},
                                      lang=lang), pace_at, clearance=clearance)
            att = (mtd.target or {}).get("attainment")
        label = names.get(key, key) if dim == "rep" else engine.names.display(dim, key, lang)
        out.append(TeamLine(key, label, k, spec.unit, x, y, change, kind, good, att))
    sign = -1 if spec.higher_is_better else 1
    out.sort(key=lambda t: (t.value is None, sign * (t.value or 0), t.label))
    return out


def _open_alerts(engine: KpiEngine, ops: OpsStore, config: AppConfig, lang: str,
                 aud: Audience | None = None, as_of: datetime | None = None) -> list[OpenAlert]:
    """Open alerts; for a person's digest only those about their team (or themselves).

    As they were at `as_of`: one that fired later is not open yet, an acknowledgement or a snooze
    made later is not shown (a digest replayed for an earlier week says what that week's said)."""
    rules = {r.id: r for r in config.alerts.rules}
    t = int(as_of.timestamp()) if as_of is not None else None
    silences = [s for s in ops.silences(t) if s.created_at <= t] if t is not None else []
    out = []
    for row in ops.open_alerts(as_of=t):
        rule = rules.get(row.rule_id)
        if rule is None:
            continue
        if aud is not None and aud.kind in ("team", "self") and not _concerns(rule, row.segment, aud):
            continue
        seg_label = segment_label(engine, rule.per, row.segment, lang) if row.segment else ""
        out.append(OpenAlert(row.rule_id, rule.label(lang), rule.severity, row.segment, row.state, row.fired_at,
                             row.value, engine.spec(rule.kpi).unit, row.period, row.acked_by,
                             segment_label=seg_label, period_label=fmt.key_label(row.period, lang),
                             snoozed_until=max((x.ends_at for x in silences if x.rule_id == row.rule_id
                                                and x.segment in (row.segment, "*")), default=None)))
    return out


def _concerns(rule, segment: str, aud: Audience) -> bool:
    if aud.kind == "self":
        return (rule.per == "rep" and segment == aud.rep_id) or rule.filter.get("rep") == aud.rep_id
    return ((rule.per == "team" and segment == aud.team) or rule.filter.get("team") == aud.team
            or (rule.per == "rep" and segment in aud.members))



def _chart(engine: KpiEngine, sub: DigestConfig, kpi: str, as_of: datetime, lang: str,
           answer: Future[Answer] | None, filters: dict[str, str] | None = None) -> bytes | None:
    from bot.charts import render_trend

    q = Query(kpi, PeriodSpec("current", grain="week", offset=-1), filters=dict(filters or sub.filter), lang=lang)
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
    payload = {"digest": d.digest_id, "week": d.week["label"]}
    if d.recipient:
        payload["to"] = d.recipient
    msgs = [post(d.key, d.channel, text, blocks, DIGEST_EVENT, event_payload=payload)]
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


def personal_digests(engine: KpiEngine, ops: OpsStore, config: AppConfig, sub: DigestConfig,
                     as_of: datetime) -> list[DigestData]:
    """The digests of the people who asked for their own (`/kpi digest on`), each scoped by the same
    access rules as their answers (bot.access.digest_audience), not yet built for this week."""
    if not sub.personal:
        return []
    from bot.access import digest_audience

    week = last_week(as_of, config.tz)
    out = []
    for opt in ops.digest_optins():
        if ops.existing_keys([personal_key(sub, opt.user_id, week)]):
            continue
        try:
            aud = digest_audience(engine, config, opt.user_id, opt.lang or sub.lang)
            if aud is not None:
                out.append(build_digest(engine, ops, config, sub, as_of, audience=aud, chart=False))
        except Exception:  # one person's digest must not stop the others'
            log.exception("digest %s: the personal digest for %s could not be built", sub.id, opt.user_id)
    return out


def queue_personal_digests(engine: KpiEngine, ops: OpsStore, config: AppConfig, sub: DigestConfig,
                           as_of: datetime) -> list[str]:
    """Build and queue every opted-in person's digest for the week; the keys created."""
    keys: list[str] = []
    for d in personal_digests(engine, ops, config, sub, as_of):
        keys += queue_digest(ops, d)
    return keys
