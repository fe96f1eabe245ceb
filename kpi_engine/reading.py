"""How a question was read, and the one line every answer shows about it.

    q = parse("win rate team smb q3 vs q2", lexicon=lex)
    q.reading.corrections            -> []
    reading_line(answer, q, names, "en")
        -> "Win rate · team SMB · Q3 2026 (1 Jul–30 Sep 2026) vs Q2 2026 (1 Apr–30 Jun 2026)"

The line is made from the query as answered (after "my" was filled in and access narrowed it) and
the answer's resolved periods, so it can never show one reading while the numbers are another.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from kpi_engine import format as fmt
from kpi_engine.dimnames import DimensionNames
from kpi_engine.query import Query, QueryError


@dataclass
class Reading:
    """What the grammar saw: for `kpibot ask --explain` and the JSON field `reading`."""

    text: str
    tokens: list[dict[str, Any]] = field(default_factory=list)  # {"kind", "text", "value"}
    entities: list[dict[str, Any]] = field(default_factory=list)  # {"text", "dim", "value", "label"}
    corrections: list[dict[str, str]] = field(default_factory=list)  # {"typed", "read_as"}
    assumptions: list[dict[str, Any]] = field(default_factory=list)  # {"code", **args}

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "tokens": self.tokens, "entities": self.entities,
                "corrections": self.corrections, "assumptions": self.assumptions}


# ---------------------------------------------------------------- "my": who is asking


_MINE = {
    "no_rep": ("“my” numbers need your Slack account linked to your rep record (ask whoever imports "
               "the data); meanwhile ask for a rep by name, or the company total.",
               "“ของฉัน” ใช้ได้เมื่อบัญชี Slack ของคุณผูกกับข้อมูลตัวแทนขายของคุณแล้ว (แจ้งผู้ดูแลข้อมูล) "
               "ระหว่างนี้ลองระบุชื่อตัวแทนขาย หรือดูยอดรวมบริษัท"),
    "no_team": ("“my team” needs your rep to have a team; ask for a team by name.",
                "“ทีมของฉัน” ใช้ได้เมื่อตัวแทนขายของคุณมีทีม ลองระบุชื่อทีม"),
    "two_reps": ("“my” and another rep in one question: ask about one of them.",
                 "ถามถึงของคุณและของตัวแทนขายอีกคนพร้อมกันไม่ได้ เลือกอย่างใดอย่างหนึ่ง"),
}


def for_user(q: Query, rep_id: str | None, team: str | None) -> Query:
    """The question with "my"/"my team" made the asking person's rep or team; QueryError (in the
    question's language) when that person has none: never the company figure instead."""
    if q.mine is None:
        return q
    th = q.lang == "th"

    def refuse(key: str, word: str | None = None) -> QueryError:
        en_text, th_text = _MINE[key]
        return QueryError(th_text if th else en_text, lang=q.lang, word=word, texts={"en": en_text, "th": th_text})

    if q.mine == "rep":
        if not rep_id:
            raise refuse("no_rep", "my")
        if q.filters.get("rep") not in (None, rep_id):
            raise refuse("two_reps")
        return replace(q, filters={**q.filters, "rep": rep_id})
    if not rep_id:
        raise refuse("no_rep", "my team")
    if not team:
        raise refuse("no_team", "my team")
    return replace(q, filters={**q.filters, "team": team})


# ---------------------------------------------------------------- the reading line


_W = {
    "you": ("you", "คุณ"),
    "your_team": ("your team", "ทีมของคุณ"),
    "top": ("top {n}", "{n} อันดับแรก"),
    "bottom": ("bottom {n}", "{n} อันดับสุดท้าย"),
    "lowest_first": ("lowest first", "เรียงจากน้อยไปมาก"),
    "highest_first": ("highest first", "เรียงจากมากไปน้อย"),
    "vs": ("vs", "เทียบกับ"),
    "read_as": ("read “{typed}” as “{read_as}”", "อ่าน “{typed}” เป็น “{read_as}”"),
    "kpi_for_ranking": ("ranked by {kpi} (no KPI named)", "จัดอันดับตาม{kpi} (ไม่ได้ระบุ KPI)"),
    "kpi_from_filter": ("KPI taken from the filter", "KPI ตามตัวกรองที่ระบุ"),
    "aside": ("left out “{text}”", "ไม่นับ “{text}”"),
    "threshold": ("the value, to hold against “{text}”", "แสดงค่าจริง เพื่อเทียบกับ “{text}”"),
    "breakdown_for_ranking": ("ranking reps (no breakdown named)", "จัดอันดับรายคน (ไม่ได้ระบุการแยก)"),
    "rank_n": ("{n} rows unless you ask for more", "แสดง {n} รายการ ระบุจำนวนได้"),
    "chart": ("with a trend chart", "พร้อมกราฟแนวโน้ม"),
    "trend_day": ("day by day", "รายวัน"),
    "trend_week": ("week by week", "รายสัปดาห์"),
    "trend_month": ("month by month", "รายเดือน"),
    "trend_quarter": ("quarter by quarter", "รายไตรมาส"),
}


def _w(key: str, lang: str, **kw) -> str:
    en, th = _W[key]
    return (th if lang == "th" else en).format(**kw)


def reading_line(answer, query: Query, names: DimensionNames, lang: str,
                 rep_label=None) -> str:
    """One line saying how the question was read: KPI · filters · breakdown · period (dates) vs
    comparison (dates) · corrections and assumptions. `rep_label(rep_id) -> name` names reps."""
    spec = answer.spec
    parts = [spec.name(lang)]
    for dim, values in answer.filters.items():
        for v in values:
            if dim == "rep":
                who = _w("you", lang) if query.mine == "rep" else (rep_label(v) if rep_label else v)
                parts.append(f"{fmt.dimension('rep', lang)} {who}")
            elif dim == "team" and query.mine == "team":
                parts.append(f"{_w('your_team', lang)} ({names.display(dim, v, lang)})")
            else:
                parts.append(f"{fmt.dimension(dim, lang)} {names.display(dim, v, lang)}")
    if answer.by:
        by = f"{fmt.word('by', lang)}{'' if lang == 'th' else ' '}{fmt.dimension(answer.by, lang)}"
        rank = answer.rank
        if rank is not None:
            best = "desc" if spec.higher_is_better else "asc"
            if rank.n is not None:
                by = f"{_w('top' if rank.order == best else 'bottom', lang, n=rank.n)} {by}"
            else:
                by += f" ({_w('highest_first' if rank.order == 'desc' else 'lowest_first', lang)})"
        parts.append(by)
    base = answer.comparison.period
    parts.append(f"{_period(answer.period, lang)} {_w('vs', lang)} {_period(base, lang)}")
    if query.trend:
        parts.append(_w("trend_" + query.trend, lang))
    elif query.chart:
        parts.append(_w("chart", lang))
    reading = query.reading if isinstance(query.reading, Reading) else None
    if reading is not None:
        for c in reading.corrections:
            parts.append(_w("read_as", lang, typed=c["typed"], read_as=c["read_as"]))
        for a in reading.assumptions:
            args = {k: v for k, v in a.items() if k != "code"}
            if "kpi" in args and args["kpi"] == spec.key:
                args["kpi"] = spec.name(lang)
            parts.append(_w(a["code"], lang, **args))
    return " · ".join(parts)


def _period(p, lang: str) -> str:
    """'Q3 2026 (1 Jul–30 Sep 2026)', 'Nov 2026 (1–18 Nov 2026, to date)'."""
    label = fmt.period_label(p, lang)
    to_date = f" ({fmt.word('to_date', lang)})"
    label = label.removesuffix(to_date)
    dates = fmt.date_range(p, lang)
    if dates in label:  # a rolling window or a run of days is named by its dates already
        return label
    if p.to_date:
        dates += f", {fmt.word('to_date', lang)}"
    return f"{label} ({dates})"


def reading_json(answer, query: Query, names: DimensionNames, rep_label=None) -> dict[str, Any]:
    """The JSON field `reading`: the line in both languages, what was recognised, the final query."""
    reading = query.reading if isinstance(query.reading, Reading) else Reading(text="")
    out = reading.to_json()
    out["line"] = reading_line(answer, query, names, "en", rep_label)
    out["line_th"] = reading_line(answer, query, names, "th", rep_label)
    out["query"] = query_json(query)
    return out


def query_json(q: Query) -> dict[str, Any]:
    def spec(p):
        if p is None:
            return None
        return {k: v for k, v in p.__dict__.items() if v not in (None, "", 0) or k in ("kind",)}

    return {"kpi": q.kpi, "period": spec(q.period), "breakdown": q.breakdown, "filters": dict(q.filters),
            "compare": q.compare, "compare_period": spec(q.compare_period),
            "rank": None if q.rank is None else {"order": q.rank.order, "n": q.rank.n},
            "mine": q.mine, "chart": q.chart, "trend": q.trend, "lang": q.lang}
