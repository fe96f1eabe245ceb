"""An answer's lines as plain text, in English or Thai: the headline, the comparison, the target,
and the usage help. Shared by every surface (Slack blocks, the Home tab, the terminal)."""

from __future__ import annotations

from kpi_engine import format as fmt
from kpi_engine.catalogue import catalogue
from kpi_engine.engine import Answer
from kpi_engine.query import HelpRequest

USAGE_EN = """Ask for a KPI, then optionally a period, a breakdown, filters:
  kpibot ask win rate by team last quarter
  kpibot ask revenue 2026-05 vs last year
  kpibot ask retention region:west
  kpibot ask รายได้ เดือนนี้
Periods: today, this/last week|month|quarter|year, ytd, mtd, qtd, last 30 days, 2026, 2026-05, May 2026,
         2026-Q2, Q2 2026, 2026-W19 (Thai: เดือนนี้, เดือนที่แล้ว, ไตรมาสนี้, ปีนี้, …)
Breakdowns: by rep|team|region|channel|product|segment|stage (Thai: แยกตาม…)
Filters: team:enterprise region:west channel:referral rep:@U123 rep:somchai   Compare: vs last year"""

USAGE_TH = """พิมพ์ชื่อ KPI ตามด้วยช่วงเวลา การแยกย่อย หรือการกรอง (ไม่บังคับ):
  /kpi อัตราการชนะดีล ไตรมาสที่แล้ว แยกตามทีม
  /kpi รายได้ เดือนนี้ เทียบปีที่แล้ว
ช่วงเวลา: วันนี้ สัปดาห์นี้ เดือนนี้ เดือนที่แล้ว ไตรมาสนี้ ปีนี้ 2026-Q2 …
แยกตาม: ตัวแทนขาย ทีม ภูมิภาค ช่องทาง สินค้า กลุ่มลูกค้า ขั้นตอน
กรอง: team:enterprise region:west rep:@U123"""


def help_text(req: HelpRequest) -> str:
    lang = req.lang
    cat = catalogue()
    if req.topic and req.topic in cat:
        s = cat[req.topic]
        aliases = ", ".join(s.aliases[:6])
        by = ", ".join(fmt.dimension(d, lang) for d in s.breakdowns) or "—"
        return (f"{s.name(lang)} ({s.key}) — {s.description(lang)}\n"
                f"aliases: {aliases}\nbreakdowns: {by}")
    lines = [USAGE_TH if lang == "th" else USAGE_EN, ""]
    lines += [f"  {s.key:<24} {s.name(lang)}" for s in cat.values()]
    return "\n".join(lines)


def headline(a: Answer, lang: str | None = None) -> str:
    lang = lang or a.lang
    period = fmt.period_label(a.period, lang)
    return f"{a.spec.name(lang)} · {period}"


def comparison_line(a: Answer, lang: str | None = None) -> str:
    lang = lang or a.lang
    c = a.comparison
    base = fmt.period_label(c.period, lang)
    if a.compare == "yoy":
        base += f" ({fmt.word('year_ago', lang)})"
    prev = fmt.value(c.value, a.spec.unit, a.currency, lang) if c.value is not None else fmt.word("no_data", lang)
    if c.change is None:
        return f"{fmt.word('vs', lang)} {base}: {prev}"
    return f"{fmt.arrow(c.change)} {fmt.change(c.change, c.change_kind, lang)} {fmt.word('vs', lang)} {base} ({prev})"


def target_line(a: Answer, lang: str | None = None) -> str | None:
    lang = lang or a.lang
    t = a.target
    if not t:
        return None
    unit = "currency" if a.spec.key == "target_attainment" else a.spec.unit
    target = fmt.value(t["value"], unit, a.currency, lang, whole=True)
    shown = fmt.value(a.value, unit, a.currency, lang, whole=True) if a.spec.key != "target_attainment" else None
    att = "" if t.get("attainment") is None else \
        f" · {fmt.word('attainment', lang)} {fmt.attainment(t['attainment'], shown, target)}"
    return f"{fmt.word('target', lang)} {target}{att}"
