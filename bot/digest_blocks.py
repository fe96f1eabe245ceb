"""Block Kit for the weekly digest: pure functions from schedules.digest.DigestData to a message
that fits Slack's limits (50 blocks, 3,000 characters a section), however many KPIs it lists."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.alert_blocks import SEVERITY_ICON, period_from_json
from bot.blocks import MAX_TEXT, clip, context, cue, escape, fit, header, section
from kpi_engine import format as fmt

if TYPE_CHECKING:
    from schedules.digest import DigestData

WORDS: dict[str, tuple[str, str]] = {
    "title": ("📊 Weekly digest · {week}", "📊 สรุปประจำสัปดาห์ · {week}"),
    "span": ("{start} – {end} · vs {prev}", "{start} – {end} · เทียบกับ {prev}"),
    "pacing": ("Pacing vs target", "ความคืบหน้าเทียบเป้า"),
    "mtd": ("MTD", "เดือนนี้"),
    "qtd": ("QTD", "ไตรมาสนี้"),
    "pace_line": ("{name} {span} {value} · {att} of target to date · heading for {proj} vs {target} ({patt})",
                  "{name} {span} {value} · ทำได้ {att} ของเป้าถึงวันนี้ · คาดว่าจะได้ {proj} เทียบเป้า {target} ({patt})"),
    "movers": ("Biggest movers", "ตัวที่เปลี่ยนมากที่สุด"),
    "no_movers": ("No segment moved noticeably.", "ไม่มีกลุ่มใดเปลี่ยนแปลงอย่างมีนัยสำคัญ"),
    "alerts": ("Open alerts", "การแจ้งเตือนที่ยังเปิดอยู่"),
    "no_alerts": ("No open alerts ✅", "ไม่มีการแจ้งเตือนที่เปิดอยู่ ✅"),
    "acked": ("acknowledged by <@{who}>", "<@{who}> รับทราบแล้ว"),
    "since": ("since {when}", "ตั้งแต่ {when}"),
    "chart": ("Chart in the thread: {kpi}, last {n} weeks.", "กราฟในเธรด: {kpi} {n} สัปดาห์ล่าสุด"),
    "chart_title": ("{kpi}, weekly", "{kpi} รายสัปดาห์"),
    "low_sample": ("low sample", "ตัวอย่างน้อย"),
    "filtered": ("Filtered: {f}", "กรอง: {f}"),
    "as_of": ("as of {when}", "ณ {when}"),
    "na": ("n/a", "ไม่มี"),
}


def w(key: str, lang: str, **kw: Any) -> str:
    en, th = WORDS[key]
    return (th if lang == "th" else en).format(**kw)


def _day(dt: datetime, lang: str) -> str:
    months = fmt.MONTHS_TH if lang == "th" else fmt.MONTHS_EN
    return f"{dt.day} {months[dt.month - 1]}"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.0f} %"


def _chunks(title: str | None, lines: list[str]) -> list[dict]:
    """Sections of at most MAX_TEXT characters each, so a long list is split, never cut."""
    out, cur = [], [f"*{title}*"] if title else []
    for line in lines:
        line = clip(line, MAX_TEXT - 50)
        if cur and sum(len(x) + 1 for x in cur) + len(line) > MAX_TEXT:
            out.append(section("\n".join(cur)))
            cur = []
        cur.append(line)
    if cur:
        out.append(section("\n".join(cur)))
    return out


def kpi_line(line, currency: str, lang: str) -> str:
    value = fmt.value(line.value, line.unit, currency, lang)
    if line.change is not None:
        change = f"{fmt.arrow(line.change)} {fmt.change(line.change, line.change_kind, lang)}"
    elif line.previous is not None:
        change = f"({fmt.value(line.previous, line.unit, currency, lang)})"
    else:
        change = ""
    bits = [f"{cue(line.good)} *{escape(line.name)}* {value}", change]
    if line.low_sample:
        bits.append(f"_({w('low_sample', lang)})_")
    elif line.value is None and line.note:
        bits.append(f"_{escape(line.note)}_")
    return " ".join(b for b in bits if b)


def digest_message(d: DigestData) -> tuple[str, list[dict]]:
    lang, cur = d.lang, d.currency
    week, prev = period_from_json(d.week), period_from_json(d.previous_week)
    week_label = fmt.period_label(week, lang)
    blocks: list[dict] = [header(w("title", lang, week=week_label))]
    end_day = datetime.fromtimestamp(week.end.timestamp() - 1, week.start.tzinfo)
    facts = [w("span", lang, start=_day(week.start, lang), end=_day(end_day, lang) + f" {end_day.year}",
               prev=fmt.period_label(prev, lang))]
    if d.filters:
        facts.append(w("filtered", lang, f=" ".join(f"`{escape(k)}:{escape(v)}`" for k, v in d.filters.items())))
    blocks.append(context(*facts))
    blocks += _chunks(None, [kpi_line(x, cur, lang) for x in d.lines])

    if d.pacing:
        lines = []
        for p in d.pacing:
            lines.append("• " + w("pace_line", lang, name=escape(p.name), span=w(p.span, lang),
                                   value=fmt.value(p.value, p.unit, cur, lang, compact=True),
                                   att=_pct(p.attainment), proj=fmt.value(p.projection, p.unit, cur, lang, compact=True),
                                   target=fmt.value(p.target, p.unit, cur, lang, compact=True),
                                   patt=_pct(p.projected_attainment)))
        blocks.append({"type": "divider"})
        blocks += _chunks(w("pacing", lang), lines)

    blocks.append({"type": "divider"})
    if d.movers:
        lines = []
        for m in d.movers:
            lines.append(f"{cue(m.good)} {escape(m.name)} · {fmt.dimension(m.dim, lang)} *{escape(m.segment)}*: "
                         f"{fmt.value(m.before, m.unit, cur, lang, compact=True)} → "
                         f"{fmt.value(m.now, m.unit, cur, lang, compact=True)} "
                         f"({fmt.change(m.change, m.change_kind, lang)})")
        blocks += _chunks(w("movers", lang), lines)
    else:
        blocks.append(section(f"*{w('movers', lang)}*\n{w('no_movers', lang)}"))

    if d.alerts:
        lines = []
        for a in d.alerts:
            icon = SEVERITY_ICON.get(a.severity, "🟠")
            seg = f" · {escape(a.segment)}" if a.segment else ""
            val = fmt.value(a.value, a.unit, cur, lang) if a.value is not None else w("na", lang)
            when = datetime.fromtimestamp(a.fired_at, week.start.tzinfo) if a.fired_at else None
            extra = [w("since", lang, when=_day(when, lang))] if when else []
            if a.acked_by:
                extra.append(w("acked", lang, who=escape(a.acked_by)))
            lines.append(f"{icon} *{escape(a.title)}*{seg}: {val} ({escape(a.period or '')}) · " + " · ".join(extra))
        blocks += _chunks(w("alerts", lang), lines)
    else:
        blocks.append(section(f"*{w('alerts', lang)}*\n{w('no_alerts', lang)}"))

    foot = []
    if d.chart:
        chart_name = next((x.name for x in d.lines if x.key == d.chart_kpi), d.chart_kpi or "")
        foot.append(w("chart", lang, kpi=escape(chart_name), n=d.chart_weeks))
    foot.append(w("as_of", lang, when=d.as_of[:16].replace("T", " ")))
    if d.data_to is not None:
        foot.append(fmt.data_to(d.data_to, week.start.tzinfo, lang, now=datetime.fromisoformat(d.as_of)))
    blocks.append(context(*foot))

    summary = " · ".join(f"{x.name} {fmt.value(x.value, x.unit, cur, lang, compact=True)}"
                         + (f" ({fmt.change(x.change, x.change_kind, lang)})" if x.change is not None else "")
                         for x in d.lines)
    text = clip(f"{w('title', lang, week=week_label)}: {summary}", MAX_TEXT)
    return text, fit(blocks)


def chart_title(d: DigestData) -> str:
    name = next((x.name for x in d.lines if x.key == d.chart_kpi), d.chart_kpi or "")
    return w("chart_title", d.lang, kpi=name)
