"""Block Kit for alerts: the alert message (edited in place as its state changes), the thread
replies (resolution, reminder, explanation) and the buttons. Pure functions from data to blocks,
within Slack's limits (bot.blocks.fit, clip)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.blocks import MAX_TEXT, button, clip, context, escape, fallback_text, fit, header, section
from kpi_engine import format as fmt
from kpi_engine.periods import Period

ACK_ACTION = "kpibot_alert_ack"
SNOOZE_1D_ACTION = "kpibot_alert_snooze_1d"
SNOOZE_7D_ACTION = "kpibot_alert_snooze_7d"
EXPLAIN_ACTION = "kpibot_alert_explain"
RESOLVE_ACTION = "kpibot_alert_resolve"
ALERT_ACTIONS = (ACK_ACTION, SNOOZE_1D_ACTION, SNOOZE_7D_ACTION, RESOLVE_ACTION, EXPLAIN_ACTION)

SEVERITY_ICON = {"critical": "🔴", "warning": "🟠", "info": "🔵"}

WORDS: dict[str, tuple[str, str]] = {
    "firing": ("Alert", "แจ้งเตือน"),
    "resolved": ("Resolved", "กลับสู่ปกติแล้ว"),
    "no_data": ("No data", "ไม่มีข้อมูล"),
    "error": ("Cannot be evaluated", "ประเมินไม่ได้"),
    "ack": ("Acknowledge", "รับทราบ"),
    "snooze_1d": ("Snooze 1 day", "เลื่อน 1 วัน"),
    "snooze_7d": ("Snooze 7 days", "เลื่อน 7 วัน"),
    "explain": ("Explain", "อธิบายสาเหตุ"),
    "resolve": ("Resolve", "ปิดการแจ้งเตือน"),
    "acked_by": ("Acknowledged by <@{who}> · {when}", "<@{who}> รับทราบแล้ว · {when}"),
    "snoozed": ("😴 Snoozed by {who} until {until}", "😴 {who} เลื่อนการแจ้งเตือนถึง {until}"),
    "someone": ("someone", "ผู้ใช้"),
    "since": ("Firing since {when}", "แจ้งเตือนตั้งแต่ {when}"),
    "resolved_at": ("Resolved {when}", "กลับสู่ปกติ {when}"),
    "no_data_since": ("No data since {when}: {why}", "ไม่มีข้อมูลตั้งแต่ {when}: {why}"),
    "error_since": ("Could not be evaluated since {when}: {why}", "ประเมินไม่ได้ตั้งแต่ {when}: {why}"),
    "resolved_reply": ("✅ Resolved: {kpi} is {value} for {period}.", "✅ กลับสู่ปกติ: {kpi} อยู่ที่ {value} ในช่วง {period}"),
    "reminder": ("⏰ Still firing: {kpi} is {value} for {period} ({why}).",
                 "⏰ ยังผิดปกติ: {kpi} อยู่ที่ {value} ในช่วง {period} ({why})"),
    "why": ("Why", "สาเหตุ"),
    "explain_title": ("What moved {kpi}: {period} vs {prev}", "อะไรทำให้ {kpi} เปลี่ยน: {period} เทียบกับ {prev}"),
    "spend": ("Spend", "ค่าใช้จ่าย"),
    "new_customers": ("New customers", "ลูกค้าใหม่"),
    "lost_customers": ("Customers lost", "ลูกค้าที่เสียไป"),
    "by": ("by {dim}", "แยกตาม{dim}"),
    "driver_numerator": ("Mostly the {name} side moved.", "ส่วนที่เปลี่ยนมากคือ {name}"),
    "driver_denominator": ("Mostly the {name} side moved.", "ส่วนที่เปลี่ยนมากคือ {name}"),
    "nothing_moved": ("No breakdown to show for this KPI.", "ไม่มีรายละเอียดแยกย่อยสำหรับ KPI นี้"),
    "rule": ("rule `{id}`", "กฎ `{id}`"),
    "segment": ("{dim}: *{seg}*", "{dim}: *{seg}*"),
}

# what the formula parts are called (explain's numerator/denominator names)
PARTS: dict[str, tuple[str, str]] = {
    "spend": ("spend", "ค่าใช้จ่าย"),
    "new_customers": ("new customers", "ลูกค้าใหม่"),
    "retained": ("retained customers", "ลูกค้าที่รักษาไว้"),
    "customers_at_start": ("customers at the start", "ลูกค้า ณ ต้นช่วง"),
    "won": ("won deals", "ดีลที่ชนะ"),
    "closed": ("closed deals", "ดีลที่ปิด"),
    "qualified": ("qualified leads", "lead ที่ผ่านการคัดกรอง"),
    "leads": ("leads", "lead"),
    "repeat_customers": ("repeat customers", "ลูกค้าที่ซื้อซ้ำ"),
    "customers": ("customers", "ลูกค้า"),
    "satisfied": ("satisfied responses", "คำตอบที่พึงพอใจ"),
    "responses": ("responses", "คำตอบ"),
    "revenue": ("revenue", "รายได้"),
    "deals": ("deals", "ดีล"),
    "order_revenue": ("order revenue", "ยอดสั่งซื้อ"),
    "orders": ("orders", "คำสั่งซื้อ"),
    "marketing_spend": ("marketing spend", "ค่าการตลาด"),
    "active_reps": ("active reps", "ตัวแทนขายที่ทำงาน"),
    "activities": ("activities", "กิจกรรม"),
    "events": ("content events", "การใช้เนื้อหา"),
}


def w(key: str, lang: str, **kw: Any) -> str:
    en, th = WORDS[key]
    return (th if lang == "th" else en).format(**kw)


def part(name: str, lang: str) -> str:
    en, th = PARTS.get(name, (name.replace("_", " "), name.replace("_", " ")))
    return th if lang == "th" else en


@dataclass
class AlertView:
    """Everything an alert message shows; built by schedules.alerts from the stored state."""

    rule_id: str
    title: str  # the rule's name in the message language
    severity: str
    kpi_name: str
    unit: str
    currency: str
    lang: str
    tz: Any
    segment: str  # "" for the whole selection
    per: str | None
    filters: dict[str, str]
    state: str  # firing | resolved | no_data | error | pending | ok
    period_label: str
    value: float | None
    findings: list[str]  # condition findings in `lang`
    reason: str | None  # why no data / the error
    since: int | None
    fired_at: int | None
    resolved_at: int | None
    acked_by: str | None = None
    acked_at: int | None = None
    snoozed_until: int | None = None
    snoozed_by: str | None = None
    mention: str | None = None
    explain: dict[str, Any] | None = None
    button_value: str = ""
    segment_label: str = ""  # the segment's display name (a team's name, a rep's name)
    data_to: int | None = None  # freshness of the KPI's data at the evaluation (epoch seconds)


def period_from_json(p: dict[str, Any]) -> Period:
    """A period stored as Period.to_json(), back as a Period (for its label in either language)."""
    start, end = datetime.fromisoformat(p["start"]), datetime.fromisoformat(p["end"])
    return Period(p["label"], start, end, p["grain"], end)


def _when(ts: int | None, tz: Any, lang: str) -> str:
    if ts is None:
        return "—"
    return fmt.moment(datetime.fromtimestamp(ts, tz), lang)


def _scope(v: AlertView) -> str:
    bits = [w("segment", v.lang, dim=fmt.dimension(v.per, v.lang), seg=escape(v.segment_label or v.segment))] \
        if v.per else []
    bits += [f"`{escape(k)}:{escape(x)}`" for k, x in v.filters.items()]
    return " · ".join(bits)


def alert_message(v: AlertView) -> tuple[str, list[dict]]:
    """The alert's one message: posted when it fires, edited on ack, snooze, no data and resolution."""
    lang = v.lang
    value = fmt.value(v.value, v.unit, v.currency, lang)
    icon = {"resolved": "✅", "no_data": "⚪", "error": "⚠️"}.get(v.state, SEVERITY_ICON.get(v.severity, "🟠"))
    status = w(v.state if v.state in ("resolved", "no_data", "error") else "firing", lang)
    title = f"{icon} {status}: {v.title}"
    scope = _scope(v)
    lines = [f"*{escape(v.kpi_name)}* · {escape(v.period_label)}: *{value}*" + (f" · {scope}" if scope else "")]
    lines += [f"• {escape(f)}" for f in v.findings]
    blocks: list[dict] = [header(title), section("\n".join(lines))]
    drivers = explain_summary(v.explain, v.kpi_name, v.currency, lang)
    if drivers:
        blocks.append(section(f"*{w('why', lang)}:*\n" + "\n".join(escape(d) for d in drivers)))
    facts = []
    if v.state == "resolved":
        facts.append(w("resolved_at", lang, when=_when(v.resolved_at, v.tz, lang)))
    elif v.state == "no_data":
        facts.append(w("no_data_since", lang, when=_when(v.since, v.tz, lang), why=escape(v.reason or "")))
    elif v.state == "error":
        facts.append(w("error_since", lang, when=_when(v.since, v.tz, lang), why=escape(v.reason or "")))
    else:
        facts.append(w("since", lang, when=_when(v.fired_at, v.tz, lang)))
    if v.acked_by:
        facts.append("✅ " + w("acked_by", lang, who=escape(v.acked_by), when=_when(v.acked_at, v.tz, lang)))
    if v.snoozed_until and v.state != "resolved":
        who = f"<@{escape(v.snoozed_by)}>" if v.snoozed_by else w("someone", lang)
        facts.append(w("snoozed", lang, who=who, until=_when(v.snoozed_until, v.tz, lang)))
    if v.data_to is not None:
        facts.append(fmt.data_to(v.data_to, v.tz, lang))
    facts.append(w("rule", lang, id=escape(v.rule_id)))
    blocks.append(context(*facts))
    buttons = []
    if v.state != "resolved":
        if not v.acked_by:
            buttons.append(button(w("ack", lang), ACK_ACTION, v.button_value, "primary"))
        buttons += [button(w("snooze_1d", lang), SNOOZE_1D_ACTION, v.button_value),
                    button(w("snooze_7d", lang), SNOOZE_7D_ACTION, v.button_value),
                    button(w("resolve", lang), RESOLVE_ACTION, v.button_value)]
    buttons.append(button(w("explain", lang), EXPLAIN_ACTION, v.button_value))
    blocks.append({"type": "actions", "block_id": "kpibot_alert_actions", "elements": buttons})
    text = fallback_text(f"{title} — {v.kpi_name} {v.period_label}: {value}")
    if v.mention and v.state == "firing":
        text = f"{v.mention} {text}"
        blocks.insert(1, section(v.mention))
    return clip(text, MAX_TEXT), fit(blocks)


def resolved_reply(v: AlertView) -> tuple[str, list[dict]]:
    text = w("resolved_reply", v.lang, kpi=v.kpi_name, value=fmt.value(v.value, v.unit, v.currency, v.lang),
             period=v.period_label)
    return clip(fallback_text(text), MAX_TEXT), [section(escape(text))]


def reminder_reply(v: AlertView) -> tuple[str, list[dict]]:
    text = w("reminder", v.lang, kpi=v.kpi_name, value=fmt.value(v.value, v.unit, v.currency, v.lang),
             period=v.period_label, why="; ".join(v.findings))
    return clip(fallback_text(text), MAX_TEXT), [section(escape(text))]


# ------------------------------------------------------------------ explanations


def _signed(x: float | None, unit: str, currency: str, lang: str) -> str:
    if x is None:
        return "—"
    s = fmt.value(abs(x), unit, currency, lang, compact=True)
    return ("+" if x > 0 else "−" if x < 0 else "±") + s


def _rel(now: float | None, before: float | None) -> str:
    if now is None or not before:
        return ""
    return f" ({(now - before) / abs(before) * 100:+.0f} %)"


def _table_title(t: dict[str, Any], kpi_name: str, lang: str) -> str:
    dim = fmt.dimension(t.get("dim") or "", lang)
    what = kpi_name if t["what"] == "kpi" else w(t["what"], lang)
    return f"{what} {w('by', lang, dim=dim)}"


def explain_summary(e: dict[str, Any] | None, kpi_name: str, currency: str, lang: str) -> list[str]:
    """Two or three lines for the alert itself: the formula's parts and the biggest mover of each table."""
    if not e:
        return []
    out = []
    parts = e.get("parts") or {}
    if "numerator" in parts and "denominator" in parts:
        bits = []
        for side in ("numerator", "denominator"):
            p = parts[side]
            unit = "currency" if p["name"] in ("spend", "revenue", "order_revenue", "marketing_spend") else "count"
            bits.append(f"{part(p['name'], lang)} {fmt.value(p['before'], unit, currency, lang, compact=True)} → "
                        f"{fmt.value(p['now'], unit, currency, lang, compact=True)}{_rel(p['now'], p['before'])}")
        out.append(" · ".join(bits))
        if e.get("driver"):
            out.append(w(f"driver_{e['driver']}", lang, name=part(parts[e["driver"]]["name"], lang)))
    for t in e.get("tables", [])[:3]:
        rows = [r for r in t.get("rows", []) if r.get("change")]
        if not rows:
            continue
        top = rows[0]
        out.append(f"{_table_title(t, kpi_name, lang)}: {top.get('label') or top['key']} "
                   f"{_signed(top['change'], t['unit'], currency, lang)}")
    return out


def explain_blocks(e: dict[str, Any], kpi_name: str, currency: str, lang: str) -> tuple[str, list[dict]]:
    """The full driver breakdown, posted in the alert's thread behind the Explain button."""
    title = w("explain_title", lang, kpi=kpi_name, period=e.get("period", ""), prev=e.get("previous_period", ""))
    unit = e.get("unit", "count")
    head = (f"*{escape(kpi_name)}*: {fmt.value(e.get('previous'), unit, currency, lang)} → "
            f"*{fmt.value(e.get('value'), unit, currency, lang)}*")
    blocks: list[dict] = [section(f"*{escape(title)}*\n{head}")]
    summary = explain_summary({**e, "tables": []}, kpi_name, currency, lang)
    if summary:
        blocks.append(context(*[escape(s) for s in summary]))
    for t in e.get("tables", []):
        lines = []
        for r in t.get("rows", [])[:10]:
            u = t["unit"]
            line = (f"{escape(str(r.get('label') or r['key']))}: {fmt.value(r['before'], u, currency, lang, compact=True)} → "
                    f"{fmt.value(r['now'], u, currency, lang, compact=True)}")
            if t.get("formula") and r.get("denominator_now") is not None:
                line += (f" ({part(t['numerator'], lang)} {_num(r.get('numerator_before'))}→"
                         f"{_num(r.get('numerator_now'))}, {part(t['denominator'], lang)} "
                         f"{_num(r.get('denominator_before'))}→{_num(r.get('denominator_now'))})")
            elif r.get("change"):
                line += f" ({_signed(r['change'], u, currency, lang)})"
            lines.append("• " + line)
        if lines:
            blocks.append(section(f"*{escape(_table_title(t, kpi_name, lang))}*\n" + "\n".join(lines)))
    if len(blocks) == 1:
        blocks.append(context(w("nothing_moved", lang)))
    return clip(fallback_text(title), MAX_TEXT), fit(blocks)


def _num(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:,.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:,.1f}"
