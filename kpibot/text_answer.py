"""Answers for a terminal: value, comparison with arrow, target, breakdown table."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from kpi_engine import format as fmt
from kpi_engine.answer_text import comparison_line, headline, target_line
from kpi_engine.catalogue import catalogue
from kpi_engine.engine import Answer
from kpi_engine.query import Query, QueryError


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
