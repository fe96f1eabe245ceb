"""Block Kit for the weekly digest: pure functions from kpi_engine.digest_data.DigestData to a message
that fits Slack's limits (50 blocks, 3,000 characters a section), however many KPIs it lists.
The channel's digest, a manager's team digest and a rep's own read alike; every date, period and
dimension value goes through kpi_engine.format and the engine's display names."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.alert_blocks import SEVERITY_ICON, period_from_json
from bot.blocks import MAX_TEXT, clip, context, cue, escape, fallback_text, fit, header, section
from kpi_engine import format as fmt
from kpi_engine.digest_data import DigestData, Mover, TeamLine

WORDS: dict[str, tuple[str, str]] = {
    "title": ("📊 Weekly digest · {week}", "📊 สรุปประจำสัปดาห์ · {week}"),
    "title_team": ("📊 {team} team · {week}", "📊 ทีม{team} · {week}"),
    "title_self": ("📊 Your week · {week}", "📊 สัปดาห์ของคุณ · {week}"),
    "for_team": ("Your team's digest: your reps, your targets, your open alerts.",
                 "สรุปของทีมคุณ: ตัวแทนขาย เป้าหมาย และการแจ้งเตือนของทีม"),
    "for_self": ("Your own numbers, {name}.", "ตัวเลขของคุณ {name}"),
    "personal_off": ("`/kpi digest off` stops these messages.", "พิมพ์ `/kpi digest off` เพื่อหยุดรับข้อความนี้"),
    "by_team": ("By team · {kpi}", "แยกตามทีม · {kpi}"),
    "by_rep": ("Your reps · {kpi}", "ตัวแทนขายในทีม · {kpi}"),
    "mtd_att": ("MTD {att} of target", "เดือนนี้ {att} ของเป้า"),
    "open_alerts": ("{n} open alert", "การแจ้งเตือน {n} รายการ"),
    "open_alerts_n": ("{n} open alerts", "การแจ้งเตือน {n} รายการ"),
    "one_deal": ("one deal, {deal}", "ดีลเดียว: {deal}"),
    "two_deals": ("two deals, {deals}", "สองดีล: {deals}"),
    "through": ("to {day}", "ถึง {day}"),
    "span": ("{start} · vs {prev}", "{start} · เทียบกับ {prev}"),
    "pacing": ("Pacing vs target", "ความคืบหน้าเทียบเป้า"),
    "mtd": ("MTD", "เดือนนี้"),
    "qtd": ("QTD", "ไตรมาสนี้"),
    "pace_line": ("{name} {span} {value} · {att} of target to date · heading for {proj} vs {target} ({patt})",
                  "{name} {span} {value} · ทำได้ {att} ของเป้าถึงวันนี้ · คาดว่าจะได้ {proj} เทียบเป้า {target} ({patt})"),
    "movers": ("Movers that matter", "กลุ่มที่เปลี่ยนแปลงอย่างมีนัยสำคัญ"),
    "no_movers": ("No segment moved beyond its usual weekly range on enough deals.",
                  "ไม่มีกลุ่มใดเปลี่ยนเกินช่วงปกติรายสัปดาห์โดยมีจำนวนรายการเพียงพอ"),
    "alerts": ("Open alerts", "การแจ้งเตือนที่ยังเปิดอยู่"),
    "no_alerts": ("No open alerts ✅", "ไม่มีการแจ้งเตือนที่เปิดอยู่ ✅"),
    "acked": ("acknowledged by <@{who}>", "<@{who}> รับทราบแล้ว"),
    "snoozed": ("😴 snoozed until {until}", "😴 เลื่อนถึง {until}"),
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


def _pct(x: float | None) -> str:
    return fmt.attainment(x)


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


def _deals(m: Mover, cur: str, lang: str) -> str:
    if not m.deals:
        return ""
    bits = [f"{escape(x.account)} {fmt.money(x.amount, cur, compact=True)}" for x in m.deals]
    if len(bits) == 1:
        return " — " + w("one_deal", lang, deal=bits[0])
    return " — " + w("two_deals", lang, deals=", ".join(bits))


def mover_line(m: Mover, cur: str, lang: str) -> str:
    label = m.label or m.segment
    return (f"{cue(m.good)} {escape(m.name)} · {fmt.dimension(m.dim, lang)} *{escape(label)}*: "
            f"{fmt.value(m.before, m.unit, cur, lang, compact=True)} → "
            f"{fmt.value(m.now, m.unit, cur, lang, compact=True)} "
            f"({fmt.change(m.change, m.change_kind, lang)}){_deals(m, cur, lang)}")


def member_line(t: TeamLine, cur: str, lang: str) -> str:
    value = fmt.value(t.value, t.unit, cur, lang, compact=True)
    change = f" {fmt.arrow(t.change)} {fmt.change(t.change, t.change_kind, lang)}" if t.change is not None else ""
    bits = [f"{cue(t.good)} *{escape(t.label)}* {value}{change}"]
    if t.attainment is not None:
        bits.append(w("mtd_att", lang, att=fmt.attainment(t.attainment)))
    if t.open_alerts:
        bits.append(w("open_alerts" if t.open_alerts == 1 else "open_alerts_n", lang, n=t.open_alerts))
    return " · ".join(bits)


def pace_line(p, cur: str, lang: str) -> str:
    proj = fmt.value(p.projection, p.unit, cur, lang, compact=True, whole=True)
    target = fmt.value(p.target, p.unit, cur, lang, compact=True, whole=True)
    span = w(p.span, lang)
    if p.through:
        span += f" ({w('through', lang, day=fmt.day(date.fromisoformat(p.through), lang, with_year=False))})"
    return "• " + w("pace_line", lang, name=escape(p.name), span=span,
                    value=fmt.value(p.value, p.unit, cur, lang, compact=True), att=fmt.attainment(p.attainment),
                    proj=proj, target=target, patt=fmt.attainment(p.projected_attainment, proj, target))


def _title(d: DigestData, week_label: str) -> str:
    if d.audience == "team":
        return w("title_team", d.lang, team=d.scope_label, week=week_label)
    if d.audience == "self":
        return w("title_self", d.lang, week=week_label)
    return w("title", d.lang, week=week_label)


def digest_message(d: DigestData) -> tuple[str, list[dict]]:
    lang, cur = d.lang, d.currency
    tz = ZoneInfo(d.tz)
    week, prev = period_from_json(d.week), period_from_json(d.previous_week)
    week_label = fmt.period_label(week, lang)
    title = _title(d, week_label)
    blocks: list[dict] = [header(title)]
    facts = [w("span", lang, start=fmt.day_span(week.start, fmt.last_day(week), lang),
               prev=fmt.period_label(prev, lang))]
    if d.audience == "team":
        facts.append(w("for_team", lang))
    elif d.audience == "self":
        facts.append(w("for_self", lang, name=escape(d.scope_label)))
    elif d.filters:
        facts.append(w("filtered", lang, f=" ".join(f"`{escape(k)}:{escape(v)}`" for k, v in d.filters.items())))
    blocks.append(context(*facts))
    blocks += _chunks(None, [kpi_line(x, cur, lang) for x in d.lines])

    if d.pacing:
        blocks.append({"type": "divider"})
        blocks += _chunks(w("pacing", lang), [pace_line(p, cur, lang) for p in d.pacing])

    if d.teams:
        lead = next((x.name for x in d.lines if x.key == d.teams[0].kpi), d.teams[0].kpi)
        blocks.append({"type": "divider"})
        blocks += _chunks(w("by_rep" if d.split_by == "rep" else "by_team", lang, kpi=escape(lead)),
                          ["• " + member_line(t, cur, lang) for t in d.teams])

    if d.audience != "self":
        blocks.append({"type": "divider"})
        if d.movers:
            blocks += _chunks(w("movers", lang), [mover_line(m, cur, lang) for m in d.movers])
        else:
            blocks.append(section(f"*{w('movers', lang)}*\n{w('no_movers', lang)}"))

    if d.alerts:
        lines = []
        for a in d.alerts:
            icon = SEVERITY_ICON.get(a.severity, "🟠")
            seg = f" · {escape(a.segment_label or a.segment)}" if a.segment else ""
            val = fmt.value(a.value, a.unit, cur, lang) if a.value is not None else w("na", lang)
            when = datetime.fromtimestamp(a.fired_at, tz) if a.fired_at else None
            extra = [w("since", lang, when=fmt.day(when, lang, with_year=False))] if when else []
            if a.acked_by:
                extra.append(w("acked", lang, who=escape(a.acked_by)))
            if a.snoozed_until:
                until = fmt.moment(datetime.fromtimestamp(a.snoozed_until, tz), lang)
                extra.append(w("snoozed", lang, until=until))
            period = a.period_label or a.period or ""
            lines.append(f"{icon} *{escape(a.title)}*{seg}: {val} ({escape(period)}) · " + " · ".join(extra))
        blocks += _chunks(w("alerts", lang), lines)
    else:
        blocks.append(section(f"*{w('alerts', lang)}*\n{w('no_alerts', lang)}"))

    foot = []
    if d.chart:
        chart_name = next((x.name for x in d.lines if x.key == d.chart_kpi), d.chart_kpi or "")
        foot.append(w("chart", lang, kpi=escape(chart_name), n=d.chart_weeks))
    foot.append(w("as_of", lang, when=fmt.moment(datetime.fromisoformat(d.as_of), lang, tz)))
    if d.data_to is not None:
        foot.append(fmt.data_to(d.data_to, tz, lang, now=datetime.fromisoformat(d.as_of)))
    if d.recipient:
        foot.append(w("personal_off", lang))
    blocks.append(context(*foot))

    summary = " · ".join(f"{x.name} {fmt.value(x.value, x.unit, cur, lang, compact=True)}"
                         + (f" ({fmt.change(x.change, x.change_kind, lang)})" if x.change is not None else "")
                         for x in d.lines)
    text = clip(fallback_text(f"{title}: {summary}"), MAX_TEXT)
    return text, fit(blocks)


def chart_title(d: DigestData) -> str:
    name = next((x.name for x in d.lines if x.key == d.chart_kpi), d.chart_kpi or "")
    return w("chart_title", d.lang, kpi=name)
