"""Evaluating alert rules: the KPI for the rule's period (per segment when asked), and each condition.

A rule's periods (current, previous, trailing, the anomaly's weeks or weekdays) are
listed first and read at once, every segment of them, with `engine.measure_many`:
one grouped query per rollup cube for all segments and periods (a KPI the rollups do
not cover reads its rows period by period). Results are cached for the whole run, so
a vs_median and an anomaly condition on the same weeks share them. The minimum-sample
guard reads each breaching segment's sample from the same result when the KPI gives
it per segment (Measure.row_n). Reads KPIs only through KpiEngine.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from datetime import datetime
from statistics import median
from typing import Any

from config.app_config import AppConfig
from config.schedule_models import AlertRule, Anomaly, Change, Threshold, VsMedian, VsTarget
from kpi_engine import notes, periods
from kpi_engine.calc import Measure
from kpi_engine.engine import KpiEngine
from kpi_engine.periods import Period, PeriodError
from kpi_engine.query import PeriodSpec, Query, QueryError

log = logging.getLogger(__name__)

WHOLE = ""  # the segment of a rule without `per`
MAD_TO_SIGMA = 0.6745  # robust z = 0.6745 (x − median) / MAD: a z of 3.5 is Iglewicz–Hoaglin's outlier


@dataclass
class CondResult:
    """One condition on one segment. breached None: not enough data to say."""

    type: str
    breached: bool | None
    data: dict[str, Any] = field(default_factory=dict)  # the numbers behind it, for messages


@dataclass
class Evaluation:
    rule_id: str
    segment: str
    kpi: str
    period: dict[str, Any]  # Period.to_json()
    outcome: str  # breach | ok | no_data | error
    value: float | None
    n: int | None = None
    previous: float | None = None
    reason: str | None = None  # en: what breached, or why there is no data / the error
    reason_th: str | None = None  # the same in Thai (a Thai channel's alert says why in Thai)
    conditions: list[CondResult] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        # what dataclasses.asdict gives, without copying: a per-rep rule turns thousands of
        # evaluations into JSON on every run, and nothing changes an evaluation's period or its
        # conditions' numbers once it is made
        d = {name: getattr(self, name) for name in _EVAL_FIELDS}
        d["conditions"] = [{"type": c.type, "breached": c.breached, "data": c.data} for c in self.conditions]
        return d

    @property
    def breached(self) -> list[CondResult]:
        return [c for c in self.conditions if c.breached]


_EVAL_FIELDS = tuple(f.name for f in fields(Evaluation))


def robust_z(x: float, history: list[float]) -> float | None:
    """Robust z-score of x against history (median/MAD); None with fewer than 3 values."""
    if len(history) < 3:
        return None
    med = median(history)
    mad = median(abs(h - med) for h in history)
    # A flat history has MAD 0; a floor of 1 % of the level keeps one small wobble from
    # reading as infinitely anomalous.
    scale = max(mad, abs(med) * 0.01, 1e-9)
    return MAD_TO_SIGMA * (x - med) / scale


class _Cache:
    """engine.measure results for one run: rules and conditions share periods."""

    def __init__(self, engine: KpiEngine, as_of: datetime):
        self.engine = engine
        self.as_of = as_of
        self._m: dict[tuple, Measure] = {}
        self._v: dict[tuple, dict[str, float | None]] = {}
        self.queries = 0

    @staticmethod
    def _key(kpi: str, p: Period, filters: dict[str, str], by: str | None) -> tuple:
        return kpi, p.start_ts, p.end_ts, tuple(sorted(filters.items())), by

    def prefetch(self, kpi: str, ps: list[Period], filters: dict[str, str], by: str | None) -> None:
        """Every period of a rule not read yet, in one engine call."""
        todo = list({self._key(kpi, p, filters, by): p for p in ps
                     if self._key(kpi, p, filters, by) not in self._m}.values())
        if not todo:
            return
        self.queries += 1
        for p, m in zip(todo, self.engine.measure_many(kpi, todo, self.as_of, filters or None, by), strict=True):
            self._m[self._key(kpi, p, filters, by)] = m

    def measure(self, kpi: str, p: Period, filters: dict[str, str], by: str | None) -> Measure:
        key = self._key(kpi, p, filters, by)
        if key not in self._m:
            self.queries += 1
            self._m[key] = self.engine.measure(kpi, p, self.as_of, filters or None, by, details=False)
        return self._m[key]

    def values(self, kpi: str, p: Period, filters: dict[str, str], by: str | None) -> dict[str, float | None]:
        """Segment → value; built once per measure, since every segment of a rule looks it up."""
        key = (kpi, p.start_ts, p.end_ts, tuple(sorted(filters.items())), by)
        if key not in self._v:
            m = self.measure(kpi, p, filters, by)
            self._v[key] = {WHOLE: m.value} if by is None else {k: v for k, v in (m.rows or []) if k}
        return self._v[key]


def rule_period(rule: AlertRule, as_of: datetime, tz) -> Period:
    return periods.current(rule.grain, as_of, tz, -1 if rule.period == "last" else 0)


class RuleEvaluator:
    def __init__(self, engine: KpiEngine, config: AppConfig, as_of: datetime):
        self.engine = engine
        self.config = config
        self.as_of = as_of
        self.tz = config.tz
        self.cache = _Cache(engine, as_of)
        # periods derived from a rule's period, the same for all its segments (thousands by rep)
        self._derived: dict[tuple, Any] = {}

    def _memo(self, key: tuple, make):
        if key not in self._derived:
            self._derived[key] = make()
        return self._derived[key]

    def _previous(self, p: Period) -> Period:
        return self._memo(("previous", p), lambda: periods.previous(p))

    def _earlier(self, p: Period, n: int) -> list[Period]:
        return self._memo(("earlier", p, n), lambda: periods.earlier(p, n))

    def evaluate(self, rule: AlertRule, known_segments: list[str] = ()) -> list[Evaluation]:  # type: ignore[assignment]
        """Every segment of the rule (those in the data, and `known_segments` that have state)."""
        try:
            return self._evaluate(rule, list(known_segments))
        except Exception as exc:  # a rule that cannot run must not stop the others; its state says why
            if isinstance(exc, QueryError | PeriodError):
                # a mistake in the rule (a filter value the data does not have): one line, no traceback
                log.warning("alert rule %s cannot run: %s", rule.id, " ".join(str(exc).split())[:300])
            else:
                log.exception("alert rule %s could not be evaluated", rule.id)
            p = rule_period(rule, self.as_of, self.tz)
            segs = (list(known_segments) or [WHOLE]) if rule.per else [WHOLE]
            msg = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            return [Evaluation(rule.id, s, rule.kpi, p.to_json(), "error", None, reason=msg) for s in segs]

    def _evaluate(self, rule: AlertRule, known: list[str]) -> list[Evaluation]:
        spec = self.engine.spec(rule.kpi)
        p = rule_period(rule, self.as_of, self.tz)
        self.cache.prefetch(rule.kpi, self._periods(rule, p), rule.filter, rule.per)
        m = self.cache.measure(rule.kpi, p, rule.filter, rule.per)
        cur = self.cache.values(rule.kpi, p, rule.filter, rule.per)
        segments = sorted(set(cur) | {s for s in known if s}) if rule.per else [WHOLE]
        period = p.to_json()  # one for all segments: nothing changes an evaluation's period
        out = []
        for seg in segments:
            value = cur.get(seg)
            ev = Evaluation(rule.id, seg, rule.kpi, period, "ok", value, n=m.n if not rule.per else None)
            if value is None:
                ev.outcome = "no_data"
                if not rule.per and m.reason:
                    ev.reason = notes.render(m.reason, {**m.reason_args, "period": p.label}, "en")
                    ev.reason_th = notes.render(m.reason, {**m.reason_args, "period": _th(p)}, "th")
                else:
                    ev.reason, ev.reason_th = f"No data for {p.label}.", f"ไม่มีข้อมูลของ {_th(p)}"
                out.append(ev)
                continue
            ev.conditions = [self._condition(rule, spec, c, p, seg, value) for c in rule.conditions]
            ev.previous = next((c.data["previous"] for c in ev.conditions if "previous" in c.data), None)
            if ev.breached:
                ev.outcome = "breach"
                ev.reason = "; ".join(describe(c, spec.unit, self.config.currency, "en") for c in ev.breached)
                ev.reason_th = "; ".join(describe(c, spec.unit, self.config.currency, "th") for c in ev.breached)
                small = self._low_sample(rule, spec, p, seg, ev)
                if small:
                    ev.outcome, (ev.reason, ev.reason_th) = "no_data", small
            elif all(c.breached is None for c in ev.conditions):
                ev.outcome = "no_data"
                ev.reason = "Not enough history to evaluate: " + "; ".join(
                    c.data.get("why", c.type) for c in ev.conditions)
                ev.reason_th = "ประวัติไม่พอสำหรับการประเมิน: " + "; ".join(
                    c.data.get("why_th") or c.data.get("why", c.type) for c in ev.conditions)
            out.append(ev)
        return out

    def _periods(self, rule: AlertRule, p: Period) -> list[Period]:
        """Every period the rule's conditions read (as _condition reads them)."""
        out = [p]
        for c in rule.conditions:
            if isinstance(c, Change):
                out.append(periods.previous(p))
            elif isinstance(c, VsMedian):
                out += periods.earlier(p, c.periods)
            elif isinstance(c, Anomaly) and c.series == "weekly":
                wk = self._anomaly_week(rule, p)
                out += [wk, *periods.earlier(wk, c.history_weeks)]
            elif isinstance(c, Anomaly):
                day = periods.current("day", self.as_of, self.tz, -1)
                out += [day, *_same_weekdays(day, c.history_weeks, self.tz)]
        return out

    def _anomaly_week(self, rule: AlertRule, p: Period) -> Period:
        return p if p.grain == "week" else self._memo(
            ("week", rule.period), lambda: periods.current("week", self.as_of, self.tz, -1 if rule.period == "last" else 0))

    def _low_sample(self, rule: AlertRule, spec, p: Period, seg: str, ev: Evaluation) -> tuple[str, str] | None:
        """kpis.md: a ratio from fewer than min_sample items never raises an alert on its own."""
        floor = rule.min_sample if rule.min_sample is not None else (
            self.config.min_sample if spec.unit == "ratio" else 0)
        if not floor:
            return None
        if rule.per:
            whole = self.cache.measure(rule.kpi, p, rule.filter, rule.per)
            if whole.row_n is not None:  # each segment's sample came with the breakdown
                ev.n = whole.row_n.get(seg, 0)
            else:
                ev.n = self.cache.measure(rule.kpi, p, {**rule.filter, rule.per: seg}, None).n
        if ev.n is not None and ev.n < floor:
            return (f"Low sample: {ev.n} < {floor} items in {p.label}; not alerting on it.",
                    f"ตัวอย่างน้อยเกินไป: {ev.n} < {floor} รายการใน {_th(p)} จึงไม่แจ้งเตือน")
        return None

    # ------------------------------------------------------------------ conditions

    def _condition(self, rule: AlertRule, spec, c, p: Period, seg: str, x: float) -> CondResult:
        hib = spec.higher_is_better
        if isinstance(c, Threshold):
            hit = (c.above is not None and x > c.above) or (c.below is not None and x < c.below)
            return CondResult("threshold", hit, {"value": x, "above": c.above, "below": c.below})
        if isinstance(c, Change):
            prev_p = self._previous(p)
            prev = self.cache.values(rule.kpi, prev_p, rule.filter, rule.per).get(seg)
            if prev is None:
                return CondResult("change", None, {"why": f"no value for {prev_p.label}",
                                                   "why_th": f"ไม่มีค่าของ {_th(prev_p)}"})
            pp = (x - prev) * 100
            pct = (x - prev) / abs(prev) * 100 if prev else None
            hit = bool((c.up_pp and pp >= c.up_pp) or (c.down_pp and -pp >= c.down_pp)
                       or (pct is not None and ((c.up_pct and pct >= c.up_pct) or (c.down_pct and -pct >= c.down_pct))))
            return CondResult("change", hit, {"value": x, "previous": prev, "previous_period": prev_p.label,
                                              "pp": pp, "pct": pct, "up_pp": c.up_pp, "down_pp": c.down_pp,
                                              "up_pct": c.up_pct, "down_pct": c.down_pct})
        if isinstance(c, VsMedian):
            hist = self._trailing(rule, p, c.periods, seg)
            if len(hist) < 3:
                return CondResult("vs_median", None, {
                    "why": f"{len(hist)} of {c.periods} earlier periods have data",
                    "why_th": f"มีข้อมูล {len(hist)} จาก {c.periods} ช่วงก่อนหน้า"})
            med = median(hist)
            pct = (x - med) / abs(med) * 100 if med else None
            hit = pct is not None and bool((c.above_pct and pct >= c.above_pct) or (c.below_pct and -pct >= c.below_pct))
            return CondResult("vs_median", hit, {"value": x, "median": med, "pct": pct, "periods": c.periods,
                                                 "history": len(hist), "above_pct": c.above_pct,
                                                 "below_pct": c.below_pct, "grain": p.grain})
        if isinstance(c, VsTarget):
            return self._vs_target(rule, spec, c, p, seg, x)
        if isinstance(c, Anomaly):
            return self._anomaly(rule, hib, c, p, seg, x)
        raise ValueError(f"unknown condition {c!r}")

    def _trailing(self, rule: AlertRule, p: Period, n: int, seg: str) -> list[float]:
        """Values of the n periods before p that have data, oldest first.

        previous() again and again: complete periods before a complete one, and like-for-like
        cuts (the same elapsed time) before a to-date one, so a partial week is never set
        against whole weeks.
        """
        cols = self._columns(rule, ("trailing", p, n), lambda: reversed(self._earlier(p, n)))
        return [v for v in (col.get(seg) for col in cols) if v is not None]

    def _columns(self, rule: AlertRule, key: tuple, ps) -> list[dict[str, float | None]]:
        """Segment → value of each period `ps()` lists, looked up once per rule and not once per
        segment: a rule by rep reads the same eight weeks for each of 2,500 reps."""
        return self._memo(("columns", rule.id, *key), lambda: [
            self.cache.values(rule.kpi, q, rule.filter, rule.per) for q in ps()])

    def _vs_target(self, rule: AlertRule, spec, c: VsTarget, p: Period, seg: str, x: float) -> CondResult:
        if spec.key == "target_attainment":
            t, att = 1.0, x
        else:
            # the target alone (target_series), not a whole answer: value, comparison and target
            filters = {**rule.filter, **({rule.per: seg} if rule.per else {})}
            q = Query(rule.kpi, PeriodSpec("key", key=p.label), filters=filters)
            t = self.engine.target_series(q, self.as_of, n=1, stored=(rule.per,) if rule.per else ())[-1][1]
            att = None if not t else (x / t if spec.higher_is_better else (t / x if x else None))
        if att is None:
            return CondResult("vs_target", None, {"why": f"no target for {p.label}", "why_th": f"ไม่มีเป้าของ {_th(p)}"})
        return CondResult("vs_target", att * 100 < c.below_pct, {"value": x, "target": t, "attainment": att,
                                                                  "below_pct": c.below_pct})

    def _anomaly(self, rule: AlertRule, hib: bool, c: Anomaly, p: Period, seg: str, x: float) -> CondResult:
        if c.series == "weekly":
            wk = self._anomaly_week(rule, p)
            xv = x if wk is p else self.cache.values(rule.kpi, wk, rule.filter, rule.per).get(seg)
            hist = self._trailing(rule, wk, c.history_weeks, seg)
            label, label_th = wk.label, _th(wk)
        else:
            day = self._memo(("day",), lambda: periods.current("day", self.as_of, self.tz, -1))
            same_weekday = self._memo(("weekdays", day, c.history_weeks),
                                      lambda: _same_weekdays(day, c.history_weeks, self.tz))
            xv = self.cache.values(rule.kpi, day, rule.filter, rule.per).get(seg)
            cols = self._columns(rule, ("weekdays", day, c.history_weeks), lambda: same_weekday)
            hist = [v for v in (col.get(seg) for col in cols) if v is not None]
            label, label_th = day.label, _th(day)
        if xv is None or len(hist) < c.min_weeks:
            return CondResult("anomaly", None, {
                "why": f"{len(hist)} weeks of history (needs {c.min_weeks})" if xv is not None
                else f"no value for {label}",
                "why_th": f"มีประวัติ {len(hist)} สัปดาห์ (ต้องมี {c.min_weeks})" if xv is not None
                else f"ไม่มีค่าของ {label_th}"})
        z = robust_z(xv, hist)
        assert z is not None
        bad = z <= -c.z if hib else z >= c.z
        hit = abs(z) >= c.z if c.direction == "both" else bad
        return CondResult("anomaly", hit, {"value": xv, "z": z, "median": median(hist), "history": len(hist),
                                           "series": c.series, "threshold": c.z, "period": label})


def _th(p: Period) -> str:
    from kpi_engine import format as fmt

    return fmt.period_label(p, "th")


def _same_weekdays(day: Period, weeks: int, tz) -> list[Period]:
    return [periods.grain_period(periods.shift(day.start.replace(tzinfo=None), "day", -7 * k), "day", tz, None)
            for k in range(1, weeks + 1)]


# ------------------------------------------------------------------ words


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{abs(x):.0f} %"


def describe(c: CondResult, unit: str, currency: str, lang: str) -> str:
    """One condition's finding as a sentence ("38 % above its trailing 8-week median (฿32,335)")."""
    from kpi_engine import format as fmt

    d = c.data
    th = lang == "th"

    def v(x):
        return fmt.value(x, unit, currency, lang)

    if "why" in d:
        return (d.get("why_th") or d["why"]) if th else d["why"]
    if c.type == "threshold":
        if d.get("below") is not None and d["value"] < d["below"]:
            return f"ต่ำกว่าเกณฑ์ {v(d['below'])}" if th else f"below the {v(d['below'])} threshold"
        return f"สูงกว่าเกณฑ์ {v(d['above'])}" if th else f"above the {v(d['above'])} threshold"
    if c.type == "change":
        if unit == "ratio" and (d.get("up_pp") or d.get("down_pp")):
            pts = f"{abs(d['pp']):.1f} pp" if not th else f"{abs(d['pp']):.1f} จุด"
            up = d["pp"] > 0
        else:
            pts = _pct(d.get("pct"))
            up = (d.get("pct") or 0) > 0
        prev = f"{fmt.key_label(d['previous_period'], lang)} ({v(d['previous'])})"
        if th:
            return f"{'เพิ่มขึ้น' if up else 'ลดลง'} {pts} จาก {prev}"
        return f"{'up' if up else 'down'} {pts} from {prev}"
    if c.type == "vs_median":
        n, g = d["periods"], d.get("grain", "period")
        above = (d.get("pct") or 0) > 0
        if th:
            return f"{'สูงกว่า' if above else 'ต่ำกว่า'}ค่ามัธยฐาน {n} ช่วงก่อนหน้า ({v(d['median'])}) {_pct(d['pct'])}"
        return f"{_pct(d['pct'])} {'above' if above else 'below'} its trailing {n}-{g} median ({v(d['median'])})"
    if c.type == "vs_target":
        if th:
            return f"ทำได้ {d['attainment'] * 100:.0f} % ของเป้า ({v(d['target'])})"
        return f"at {d['attainment'] * 100:.0f} % of target ({v(d['target'])})"
    if c.type == "anomaly":
        kind = ("รายวัน" if d["series"] == "daily" else "รายสัปดาห์") if th else d["series"]
        if th:
            return f"ผิดปกติ ({kind}, z = {d['z']:+.1f} เทียบค่ามัธยฐาน {v(d['median'])} จาก {d['history']} สัปดาห์)"
        return f"anomalous for its {kind} pattern (robust z {d['z']:+.1f} vs a median of {v(d['median'])} " \
               f"over {d['history']} weeks)"
    return c.type
