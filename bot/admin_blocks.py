"""Block Kit for the operators' channel ([slack].admin_channel): stale data from a sync source, and
alert rules that cannot be evaluated. Pure functions from plain values to (text, blocks)."""

from __future__ import annotations

from typing import Any

from bot.blocks import MAX_TEXT, clip, context, escape, fallback_text, fit, header, section
from kpi_engine import format as fmt

WORDS: dict[str, tuple[str, str]] = {
    "stale_title": ("🟠 Stale data: {source}", "🟠 ข้อมูลไม่อัปเดต: {source}"),
    "fresh_title": ("✅ Data flowing again: {source}", "✅ ข้อมูลกลับมาอัปเดตแล้ว: {source}"),
    "no_delivery": ("No delivery from source *{source}* since {when} (limit {limit} h).",
                    "แหล่งข้อมูล *{source}* ไม่ได้ส่งข้อมูลตั้งแต่ {when} (กำหนด {limit} ชม.)"),
    "never": ("Source *{source}* has not delivered yet (first run {when}).",
              "แหล่งข้อมูล *{source}* ยังไม่เคยส่งข้อมูล (รันครั้งแรก {when})"),
    "failing": ("The last {n} runs failed: {error}", "การซิงก์ล้มเหลว {n} ครั้งติดต่อกัน: {error}"),
    "last_ok": ("Last delivery {when}.", "ส่งข้อมูลล่าสุด {when}"),
    "what_to_do": ("Answers, digests and alerts show how old their data is meanwhile. `kpibot sync --source {source}` "
                   "runs it by hand and prints the error.",
                   "ระหว่างนี้คำตอบ สรุป และการแจ้งเตือนจะแสดงอายุของข้อมูล ใช้ `kpibot sync --source {source}` "
                   "เพื่อรันเองและดูข้อผิดพลาด"),
    "resolved_reply": ("✅ {source} delivered again at {when}.", "✅ {source} ส่งข้อมูลอีกครั้งเมื่อ {when}"),
    "since": ("Stale since {when}", "ไม่อัปเดตตั้งแต่ {when}"),
    "resolved_at": ("Resolved {when}", "กลับสู่ปกติ {when}"),
    "rule_error_title": ("⚠️ Alert rule cannot be evaluated: {rule}", "⚠️ ประเมินกฎการแจ้งเตือนไม่ได้: {rule}"),
    "rule_error": ("Rule `{id}`{seg} could not be evaluated at {when}: {why}",
                   "กฎ `{id}`{seg} ประเมินไม่ได้เมื่อ {when}: {why}"),
    "rule_error_hint": ("It is retried at every evaluation; its alerts stay as they were meanwhile.",
                        "ระบบจะลองใหม่ทุกครั้งที่ประเมิน ระหว่างนี้การแจ้งเตือนของกฎนี้คงสถานะเดิม"),
    "rule_recovered": ("✅ Rule `{id}`{seg} evaluates again ({when}).", "✅ กฎ `{id}`{seg} ประเมินได้อีกครั้ง ({when})"),
}


def w(key: str, lang: str, **kw: Any) -> str:
    en, th = WORDS[key]
    return (th if lang == "th" else en).format(**kw)


def stale_message(*, source: str, state: str, lang: str, tz: Any, last_success: int | None, first_run: int | None,
                  limit_hours: float, failures: int, error: str | None, since: int | None,
                  resolved_at: int | None) -> tuple[str, list[dict]]:
    """The stale-data alert of one source: posted when it fires, edited as it changes and when it resolves."""
    resolved = state == "resolved"
    title = w("fresh_title" if resolved else "stale_title", lang, source=source)
    lines = []
    if last_success:
        lines.append(w("no_delivery", lang, source=escape(source), when=fmt.date_time(last_success, tz, lang),
                       limit=f"{limit_hours:g}") if not resolved
                     else w("last_ok", lang, when=fmt.date_time(last_success, tz, lang)))
    elif first_run:
        lines.append(w("never", lang, source=escape(source), when=fmt.date_time(first_run, tz, lang)))
    if failures and error and not resolved:
        shown = "\n".join(f"> {escape(clip(x, 300))}" for x in error.splitlines()[:4])
        lines.append(w("failing", lang, n=failures, error="\n" + shown))
    if not resolved:
        lines.append(w("what_to_do", lang, source=escape(source)))
    blocks = [header(title), section("\n".join(lines) or title)]
    facts = [w("resolved_at", lang, when=fmt.date_time(resolved_at, tz, lang))] if resolved and resolved_at else \
        ([w("since", lang, when=fmt.date_time(since, tz, lang))] if since else [])
    if facts:
        blocks.append(context(*facts))
    return clip(fallback_text(f"{title} — {lines[0] if lines else ''}".replace("*", "")), MAX_TEXT), fit(blocks)


def stale_resolved_reply(source: str, when: int, tz: Any, lang: str) -> tuple[str, list[dict]]:
    text = w("resolved_reply", lang, source=source, when=fmt.date_time(when, tz, lang))
    return clip(fallback_text(text), MAX_TEXT), [section(escape(text))]


def rule_error_message(*, rule_id: str, rule_name: str, segment: str, reason: str, when: int, tz: Any,
                       lang: str) -> tuple[str, list[dict]]:
    seg = f" ({segment})" if segment else ""
    title = w("rule_error_title", lang, rule=rule_name)
    body = w("rule_error", lang, id=escape(rule_id), seg=escape(seg), when=fmt.date_time(when, tz, lang),
             why=escape(clip(reason or "", 1500)))
    blocks = [header(title), section(body), context(w("rule_error_hint", lang))]
    return clip(fallback_text(f"{title}: {reason}"), MAX_TEXT), fit(blocks)


def rule_recovered_reply(rule_id: str, segment: str, when: int, tz: Any, lang: str) -> tuple[str, list[dict]]:
    seg = f" ({segment})" if segment else ""
    text = w("rule_recovered", lang, id=rule_id, seg=seg, when=fmt.date_time(when, tz, lang))
    return clip(fallback_text(text), MAX_TEXT), [section(escape(text))]
