"""Block Kit for answers, help and errors: pure functions from data to Slack blocks.

Every builder returns blocks that already respect Slack's limits (50 blocks a message, 3,000
characters a section text, 150 a header, 10 fields, 2,000 a button value), so a listener never
has to think about them and Slack never rejects an answer as `invalid_blocks`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot import i18n
from kpi_engine import format as fmt
from kpi_engine.answer_text import comparison_line, headline, target_line
from kpi_engine.engine import Answer
from kpi_engine.periods import Period

MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_HEADER = 150
MAX_FIELDS = 10
MAX_BUTTON_VALUE = 2000
MAX_BUTTON_TEXT = 75
# A breakdown table wider than this wraps on a phone and loses its columns.
LABEL_WIDTH = 24
MAX_TABLE_ROWS = 25

SHARE_ACTION = "kpi_share"
RERUN_ACTION = "kpi_rerun"

_SPARKS = "▁▂▃▄▅▆▇█"


# ------------------------------------------------------------------ text helpers


def display_width(s: str) -> int:
    """Columns a string takes in a monospace font: Thai vowel and tone marks take none, CJK two."""
    w = 0
    for ch in s:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return w


def clip_width(s: str, width: int) -> str:
    if display_width(s) <= width:
        return s
    out, w = [], 0
    for ch in s:
        cw = display_width(ch)
        if w + cw > width - 1:
            break
        out.append(ch)
        w += cw
    return "".join(out) + "…"


def pad(s: str, width: int, right: bool = False) -> str:
    gap = " " * max(0, width - display_width(s))
    return gap + s if right else s + gap


def clip(s: str, limit: int) -> str:
    return s if len(s) <= limit else s[: limit - 1] + "…"


def escape(s: str) -> str:
    """Text from data or users inside mrkdwn: Slack's three control characters, and no stray formatting."""
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fallback_text(s: str) -> str:
    """A message's top-level `text` (notifications, screen readers) with no Slack special syntax left in
    it: `<!channel>`, `<!here>`, `<@U…>`, `<#C…>`, links. The blocks escape such text from users or data
    with escape(); this text is built from the same parts. Only < and > are turned into entities, so a
    part that was already escaped is not escaped twice; an intended mention is added after this."""
    return s.replace("<", "&lt;").replace(">", "&gt;")


def sparkline(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return ""
    lo, hi = min(known), max(known)
    span = hi - lo
    out = []
    for v in values:
        if v is None:
            out.append("·")
        elif span == 0:
            out.append(_SPARKS[3])
        else:
            out.append(_SPARKS[round((v - lo) / span * (len(_SPARKS) - 1))])
    return "".join(out)


def short_period(p: Period, lang: str) -> str:
    """A period label without "(to date)", for axes and trend ends (kpi_engine.format says how)."""
    return fmt.short_period(p, lang)


# ------------------------------------------------------------------ block builders


def header(text: str) -> dict:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, MAX_HEADER), "emoji": True}}


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_TEXT)}}


def context(*texts: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(x, MAX_TEXT)} for x in texts[:10]]}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict:
    b = {"type": "button", "action_id": action_id, "value": value[:MAX_BUTTON_VALUE],
         "text": {"type": "plain_text", "text": clip(text, MAX_BUTTON_TEXT), "emoji": True}}
    if style:
        b["style"] = style
    return b


def fit(blocks: list[dict]) -> list[dict]:
    """The last line of defence for Slack's limits: trims rather than have a message rejected."""
    out = []
    for b in blocks:
        if b.get("type") == "section" and "fields" in b:
            b = {**b, "fields": b["fields"][:MAX_FIELDS]}
        out.append(b)
    if len(out) > MAX_BLOCKS:
        keep_actions = [b for b in out if b.get("type") == "actions"][-1:]
        out = out[: MAX_BLOCKS - len(keep_actions)] + keep_actions
    return out


# ------------------------------------------------------------------ answers


@dataclass(frozen=True)
class TableRow:
    rank: int | None  # None: no rank shown
    label: str
    value: str
    total: bool = False  # a total line, set apart below the ranked rows


def cue(good: bool | None) -> str:
    """Slack text has no colours: a coloured circle says whether the change is good news for this KPI."""
    return {True: "🟢", False: "🔴"}.get(good, "⚪")


def table_text(rows: list[TableRow], dim_label: str, value_label: str, lang: str) -> str:
    """A ranked, aligned table in a code block, cut with "and N more" to fit one section; totals always shown."""
    ranked = [r for r in rows if not r.total]
    totals = [r for r in rows if r.total]
    shown = ranked[:MAX_TABLE_ROWS] + totals
    # a backtick in a name would close the code block early
    labels = {id(r): clip_width(r.label.replace("`", "'"), LABEL_WIDTH) for r in shown}
    rank_w = max([len(str(r.rank)) for r in shown if r.rank is not None] + [1])
    label_w = max([display_width(x) for x in labels.values()] + [display_width(dim_label)])
    # headers are never cut (no "Target attainme…"): each column is as wide as its widest cell
    value_w = max([display_width(r.value) for r in shown] + [display_width(value_label)])

    def line(r: TableRow) -> str:
        rank = "" if r.rank is None else str(r.rank)
        return f"{pad(rank, rank_w, right=True)}  {pad(labels[id(r)], label_w)}  {pad(r.value, value_w, right=True)}"

    head = f"{pad('#', rank_w, right=True)}  {pad(dim_label, label_w)}  {pad(value_label, value_w, right=True)}"
    rule = "-" * display_width(head)
    tail = [rule, *[line(r) for r in totals]] if totals else []
    lines = [head, rule]
    # lengths as sent, after &, < and > became entities; 120 for the fences and "and N more"
    budget = MAX_TEXT - 120 - sum(len(escape(x)) + 1 for x in tail)
    used = sum(len(escape(x)) + 1 for x in lines)
    kept = 0
    for r in ranked[:MAX_TABLE_ROWS]:
        text = line(r)
        if used + len(escape(text)) + 1 > budget:
            break
        lines.append(text)
        used += len(escape(text)) + 1
        kept += 1
    more = len(ranked) - kept
    body = "```\n" + escape("\n".join(lines + tail)) + "\n```"
    if more:
        body += "\n" + fmt.word("and_more", lang, n=more)
    return body


MAX_TABLE_BLOCK_ROWS = 100  # Slack's limit for a table block, header row included


def table_block(rows: list[TableRow], dim_label: str, value_label: str) -> dict:
    """A Block Kit table (one per message): rank, name, value; numbers right-aligned, names wrapped.
    Its columns size themselves in the client, so nothing is cut."""
    ranked = [r for r in rows if not r.total][: MAX_TABLE_BLOCK_ROWS - 1 - sum(1 for r in rows if r.total)]
    shown = ranked + [r for r in rows if r.total]
    with_rank = any(r.rank is not None for r in shown)

    def cell(text: str) -> dict:
        return {"type": "raw_text", "text": text or " "}

    head = ([cell("#")] if with_rank else []) + [cell(dim_label), cell(value_label)]
    body = [([cell("" if r.rank is None else str(r.rank))] if with_rank else []) + [cell(r.label), cell(r.value)]
            for r in shown]
    align = ([{"align": "right"}] if with_rank else []) + [{"is_wrapped": True}, {"align": "right"}]
    return {"type": "table", "column_settings": align, "rows": [head, *body]}


def answer_blocks(
    a: Answer,
    *,
    lang: str,
    rows: list[TableRow] | None = None,
    trend: list[tuple[Period, float | None]] | None = None,
    notes: Sequence[str] = (),
    share_value: str | None = None,
    shared_by: str | None = None,
    shared_in: str | None = None,
    as_of_text: str | None = None,
    table_blocks: bool = False,
    reading: str | None = None,
    as_of: datetime | None = None,
) -> list[dict]:
    """`table_blocks`: a breakdown as a Block Kit table block (clients that have it), else a code block
    sized to its content."""
    unit, cur = a.spec.unit, a.currency
    blocks: list[dict] = [header(headline(a, lang))]
    if reading:
        # how the question was read, right under the title: a misreading shows at a glance
        blocks.append(context(f"🔎 {escape(reading)}"))

    value = fmt.value(a.value, unit, cur, lang)
    lines = [f"*{value}*"]
    lines.append(f"{cue(a.good_change)} {escape(comparison_line(a, lang))}")
    target = target_line(a, lang)
    if target:
        att = (a.target or {}).get("attainment")
        mark = "🎯" if att is None else ("✅" if att >= 1 else "🎯")
        lines.append(f"{mark} {escape(target)}")
    blocks.append(section("\n".join(lines)))

    if trend:
        values = [v for _, v in trend]
        spark = sparkline(values)
        if spark:
            first, last = trend[0][0], trend[-1][0]
            label = i18n.t("trend", lang, n=len(trend), grain=i18n.grain_word(last.grain, lang))
            blocks.append(context(f"{label}: `{spark}`  {escape(short_period(first, lang))} → "
                                  f"{escape(short_period(last, lang))}"))

    if rows:
        dim = fmt.dimension(a.by or "", lang)
        dim = dim[:1].upper() + dim[1:]
        if table_blocks:
            blocks.append(table_block(rows, dim, a.spec.name(lang)))
            more = len([r for r in rows if not r.total]) - (MAX_TABLE_BLOCK_ROWS - 1 - sum(1 for r in rows if r.total))
            if more > 0:
                blocks.append(context(fmt.word("and_more", lang, n=more)))
        else:
            blocks.append(section(table_text(rows, dim, a.spec.name(lang), lang)))

    warn = [a.note(lang)] if a.note(lang) else []
    for n in [*warn, *notes]:
        blocks.append(context(f"⚠️ {escape(n)}" if n in warn else escape(n)))

    facts = []
    if a.filters:
        shown = " ".join(f"`{k}:{','.join(v)}`" for k, v in a.filters.items())
        facts.append(f"{fmt.word('filtered', lang)}: {escape(shown)}")
    if as_of_text:
        facts.append(as_of_text)
    if a.data_to is not None:
        facts.append(fmt.data_to(a.data_to, a.period.tz, lang, now=as_of))
    if shared_by:
        where = (f" ใน <#{shared_in}>" if lang == "th" else f" in <#{shared_in}>") if shared_in else ""
        facts.append(f"{fmt.word('shared_by', lang)} <@{shared_by}>{where}")
    blocks.append(context(f"_{escape(a.spec.description(lang))}_", *facts))

    if share_value:
        blocks.append({"type": "actions", "block_id": "kpi_answer_actions",
                       "elements": [button(fmt.word("share", lang), SHARE_ACTION, share_value, "primary")]})
    return fit(blocks)


def answer_text(a: Answer, lang: str) -> str:
    """The notification / screen-reader text of an answer."""
    return clip(f"{headline(a, lang)}: {fmt.value(a.value, a.spec.unit, a.currency, lang)}", MAX_TEXT)


# ------------------------------------------------------------------ help, errors, refusals


def help_blocks(usage: str, catalogue_lines: list[str], lang: str, topic_text: str | None = None) -> list[dict]:
    if topic_text:
        return fit([section(f"```\n{clip(topic_text, MAX_TEXT - 8)}\n```"), context(i18n.t("try_help", lang))])
    blocks = [header(i18n.t("how_to_ask", lang)),
              section(f"```\n{clip(usage, MAX_TEXT - 8)}\n```"),
              context(i18n.t("usage_extra", lang)),
              section(f"*{i18n.t('catalogue', lang)}*")]
    # Several code blocks rather than one clipped one, so a longer catalogue is never cut silently.
    chunk: list[str] = []
    for line in catalogue_lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > MAX_TEXT - 16:
            blocks.append(section("```\n" + "\n".join(chunk) + "\n```"))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("```\n" + "\n".join(chunk) + "\n```"))
    return fit(blocks)


def error_blocks(message: str, lang: str, reruns: Sequence[tuple[str, str]] = ()) -> list[dict]:
    """A one-line explanation; `reruns` are (label, button value) pairs for corrected questions."""
    blocks = [section(f":grey_question: {escape(message)}")]
    if reruns:
        blocks.append({"type": "actions", "block_id": "kpi_did_you_mean",
                       "elements": [button(label, f"{RERUN_ACTION}_{i}", value)
                                    for i, (label, value) in enumerate(reruns[:3])]})
    blocks.append(context(i18n.t("try_help", lang)))
    return fit(blocks)


def notice_blocks(message: str) -> list[dict]:
    return [section(escape(message))]
