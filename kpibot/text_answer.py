"""Answers for a terminal: value, comparison with arrow, target, breakdown table."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from kpi_engine import format as fmt
from kpi_engine.catalogue import catalogue
from kpi_engine.engine import Answer
from kpi_engine.query import HelpRequest, Query, QueryError

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


def render_answer(console: Console, a: Answer, reading: str | None = None) -> None:
    lang = a.lang
    console.print(headline(a), style="bold", markup=False)
    if reading:
        console.print(f"  {reading}", style="dim", markup=False)
    console.print(f"  {fmt.value(a.value, a.spec.unit, a.currency, lang)}", style="bold", markup=False)
    good = a.good_change
    style = None if good is None else ("green" if good else "red")
    console.print(f"  {comparison_line(a)}", style=style, markup=False)
    t = target_line(a)
    if t:
        console.print(f"  {t}", markup=False)
    if a.filters:
        shown = " ".join(f"{k}:{','.join(v)}" for k, v in a.filters.items())
        console.print(f"  {fmt.word('filtered', lang)}: {shown}", markup=False)
    note = a.note()
    if note:
        console.print(f"  {note}", style="yellow", markup=False)
    if a.breakdown:
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        table.add_column("#", justify="right")
        table.add_column(fmt.dimension(a.by or "", lang))
        table.add_column(a.spec.name(lang), justify="right")
        for i, row in enumerate(a.breakdown, 1):
            # a row the disclosure rule hid says so (kpi_engine.disclosure)
            table.add_row(str(i), row["label"], row.get("hidden") or fmt.value(row["value"], a.spec.unit,
                                                                                a.currency, lang))
        console.print(table)
        if a.rank is not None and a.rows_total is not None and a.rows_total > len(a.breakdown):
            console.print(f"  {fmt.word('and_more', lang, n=a.rows_total - len(a.breakdown))}", style="dim",
                          markup=False)
    console.print(f"  {a.spec.description(lang)}", style="dim", markup=False)
    if a.data_to is not None:
        console.print(f"  {fmt.data_to(a.data_to, a.period.tz, lang, now=a.period.end)}", style="dim", markup=False)


def explain_text(text: str, query: Query | None, error: QueryError | None) -> str:
    """`kpibot ask --explain`: the tokens, entities, corrections and assumptions, and the final query."""
    from kpi_engine.reading import Reading, query_json

    lines = [f"Question: {text}"]
    reading = query.reading if query is not None and isinstance(query.reading, Reading) else None
    if reading is not None:
        lines.append("Tokens:")
        lines += [f"  {t['kind']:<10} {t['text']!r}" + (f" -> {t['value']}" if t.get("value") not in (None, "")
                                                         else "") for t in reading.tokens]
        if reading.entities:
            lines.append("Entities:")
            lines += [f"  {e['text']!r} -> {e['dim']}:{e['value']} ({e['label']})" for e in reading.entities]
        if reading.corrections:
            lines.append("Corrections:")
            lines += [f"  {c['typed']!r} read as {c['read_as']!r}" for c in reading.corrections]
        if reading.assumptions:
            lines.append("Assumptions:")
            lines += [f"  {a}" for a in reading.assumptions]
    if query is not None:
        lines.append("Query:")
        lines += [f"  {k}: {v}" for k, v in query_json(query).items() if v not in (None, {}, False)]
    if error is not None:
        lines.append(f"Not answered: {error.message}")
        lines += [f"  choice: {label} -> {q!r}" for label, q in error.choices]
    return "\n".join(lines)


def render_catalogue(console: Console) -> None:
    table = Table(show_header=True, header_style="bold")
    for col in ("key", "name", "ชื่อ", "unit", "good", "breakdowns"):
        table.add_column(col)
    for s in catalogue().values():
        table.add_row(s.key, s.name_en, s.name_th, s.unit, "↑" if s.higher_is_better else "↓", ", ".join(s.breakdowns))
    console.print(table)
