"""From what a person typed after /kpi to the blocks they see: plain functions, no Slack I/O.

    reply = answer_question(deps, "win rate by team 2026-Q2", "U123", as_of)
    reply.blocks, reply.text, reply.chart

Every text gets a reply: an answer, help, a did-you-mean, or a polite refusal. Only unexpected
failures (a database down) raise, and the listener turns those into a message with a request id.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from bot import blocks as bk
from bot import i18n, sharing
from bot.access import AccessDenied, Scoped, Viewer, clearance_for, scope_query, unlinked_note, viewer_for
from bot.deps import BotDeps
from kpi_engine import format as fmt
from kpi_engine.answer_text import USAGE_EN, USAGE_TH, help_text
from kpi_engine.catalogue import catalogue
from kpi_engine.dimnames import DimensionNames
from kpi_engine.disclosure import Clearance
from kpi_engine.engine import Answer
from kpi_engine.grammar import parse
from kpi_engine.periods import Period, PeriodError
from kpi_engine.query import HelpRequest, Query, QueryError
from kpi_engine.reading import for_user, reading_line

log = logging.getLogger(__name__)

Kind = Literal["answer", "help", "error", "denied"]


@dataclass
class Reply:
    kind: Kind
    blocks: list[dict]
    text: str
    lang: str
    answer: Answer | None = None
    query: Query | None = None  # as answered: narrowed to what the person may see
    as_of: datetime | None = None
    chart: bool = False
    notes: list[str] = field(default_factory=list)
    plan: Plan | None = None
    share_value: str | None = None
    shared_by: str | None = None
    shared_in: str | None = None  # the channel a shared answer was shared into
    reading: str | None = None  # how the question was read, shown under the title
    table_blocks: bool = False  # breakdowns as a Block Kit table ([slack] table_blocks)
    names: DimensionNames | None = None  # display names of dimension values (the engine's)

    def payload(self, response_type: str = "ephemeral", **extra) -> dict:
        return {"response_type": response_type, "text": bk.fallback_text(self.text), "blocks": self.blocks, **extra}


def viewer(deps: BotDeps, user_id: str) -> Viewer:
    return viewer_for(user_id, deps.engine.rep_for_slack_user(user_id), deps.config.access)


@dataclass
class Plan:
    """A question understood and narrowed to what the person may see, not yet computed."""

    text: str
    user_id: str
    as_of: datetime
    lang: str
    query: Query
    scoped: Scoped
    chart: bool
    # what the person may see: every number of the answer, its trend and chart pass the engine's rule
    clearance: Clearance | None = None
    viewer: Viewer | None = None


def plan_question(deps: BotDeps, text: str, user_id: str, as_of: datetime) -> Plan | Reply:
    """Parse and check access (cheap); a Reply when there is nothing to compute (help, error, refusal)."""
    as_of = as_of.replace(microsecond=0)  # what a share button can carry, so a share shows the same
    text = text if isinstance(text, str) else ""
    who = viewer(deps, user_id)
    cl = clearance_for(who, deps.engine)
    # names in suggestions and errors: only the reps this person may see
    visible = None if cl.reps is None else cl.visible
    try:
        parsed = deps.engine.parse(text, visible=visible)
    except QueryError as exc:
        lang = deps.langs.for_question(exc.lang, user_id)
        return _error_reply(exc.message_for(lang), lang, text, exc, as_of)

    lang = deps.langs.for_question(parsed.lang, user_id)
    if isinstance(parsed, HelpRequest):
        return help_reply(HelpRequest(topic=parsed.topic, lang=lang))  # type: ignore[arg-type]

    q = replace(parsed, lang=lang)
    try:
        # "my revenue": the asker's own rep, or a refusal; never the company figure
        q = for_user(q, who.rep.rep_id if who.rep else None, who.rep.team if who.rep else None)
        scoped = scope_query(who, q, deps.engine, lang)
    except AccessDenied as exc:
        return Reply("denied", bk.notice_blocks(f"🔒 {exc.message}"), exc.message, lang)
    except QueryError as exc:
        return _error_reply(exc.message_for(lang), lang, text, exc, as_of)
    if scoped.own_line is not None and scoped.query.rank is not None:
        # only their own line is shown, so there is nothing to rank (and the reading says so)
        scoped = replace(scoped, query=replace(scoped.query, rank=None))
    return Plan(text, user_id, as_of, lang, scoped.query, scoped, q.chart, cl, who)


def answer_plan(deps: BotDeps, plan: Plan, *, trend: list[tuple[Period, float | None]] | None = None,
                shareable: bool = True, shared_by: str | None = None, shared_in: str | None = None) -> Reply:
    """Compute the answer (the expensive part) and its blocks, with `trend` if already known."""
    try:
        a = deps.engine.answer(plan.query, plan.as_of, clearance=plan.clearance)
    except QueryError as exc:
        return _error_reply(exc.message_for(plan.lang), plan.lang, plan.text, exc, plan.as_of)
    except PeriodError as exc:
        return _error_reply(str(exc), plan.lang, plan.text, None, plan.as_of)
    notes = [i18n.t(plan.scoped.note_key, plan.lang, **dict(plan.scoped.note_args))] if plan.scoped.note_key else []
    unlinked = unlinked_note(plan.viewer, deps.config.access, plan.lang) if plan.viewer else None
    if unlinked:
        notes.append(unlinked)
    if a.extra.get("hidden", {}).get("value"):
        shareable = False  # a hidden number: nothing to share
    reply = Reply("answer", [], bk.answer_text(a, plan.lang), plan.lang, a, plan.query, plan.as_of, plan.chart,
                  notes)
    reply.plan = plan
    reply.reading = reading_line(a, plan.query, deps.engine.names, plan.lang, deps.engine.lexicon().rep_label)
    reply.table_blocks = deps.config.slack.table_blocks
    reply.names = deps.engine.names
    reply.share_value = sharing.encode(plan.text, plan.as_of, sharing.new_answer_id()) if shareable else None
    reply.shared_by, reply.shared_in = shared_by, shared_in
    return with_trend(reply, trend)


def with_trend(reply: Reply, trend: list[tuple[Period, float | None]] | None) -> Reply:
    """The answer's blocks, with the sparkline when `trend` is given (and the answer has a value)."""
    a, plan = reply.answer, reply.plan
    assert a is not None and plan is not None
    lang = plan.lang
    reply.blocks = bk.answer_blocks(
        a, lang=lang, rows=_rows(a, plan.scoped, lang, reply.names), trend=trend if a.value is not None else None,
        notes=reply.notes, share_value=reply.share_value, shared_by=reply.shared_by, shared_in=reply.shared_in,
        table_blocks=reply.table_blocks,
        as_of_text=i18n.t("as_of", lang, when=fmt.moment(plan.as_of, lang)), as_of=plan.as_of,
        reading=reply.reading,
    )
    return reply


def trend_for(deps: BotDeps, plan: Plan) -> list[tuple[Period, float | None]] | None:
    """The sparkline's series, or None: a trend is decoration, an answer goes out without it."""
    if deps.spark_periods < 2:
        return None
    try:
        return deps.engine.series(plan.query, plan.as_of, n=deps.spark_periods, clearance=plan.clearance)
    except (QueryError, PeriodError) as exc:
        # a mistake in the question (a filter value that does not exist): the answer tells the person,
        # computed beside this; one line at INFO, no traceback
        log.info("trend for %s skipped: %s", plan.query.kpi, " ".join(str(exc).split())[:200])
        return None
    except Exception:
        log.exception("trend for %s failed", plan.query.kpi)
        return None


def answer_question(
    deps: BotDeps,
    text: str,
    user_id: str,
    as_of: datetime,
    *,
    shareable: bool = True,
    shared_by: str | None = None,
    shared_in: str | None = None,
) -> Reply:
    """The whole reply to `text` for this person at `as_of`, trend included, computed in this thread.

    A shared answer names `shared_by` and has no button. (flows.kpi_command computes the trend
    alongside instead, so a slow trend never delays the number.)
    """
    plan = plan_question(deps, text, user_id, as_of)
    if isinstance(plan, Reply):
        return plan
    reply = answer_plan(deps, plan, shareable=shareable, shared_by=shared_by, shared_in=shared_in)
    if shared_by and reply.answer is not None and reply.answer.extra.get("hidden", {}).get("value"):
        # a share of a number the sharer may not see: never into the channel, only back to them
        return Reply("denied", reply.blocks, reply.text, reply.lang)
    if reply.kind == "answer" and reply.answer is not None and reply.answer.value is not None:
        reply = with_trend(reply, trend_for(deps, plan))
    return reply


def help_reply(req: HelpRequest) -> Reply:
    lang = req.lang
    cat = catalogue()
    if req.topic and req.topic in cat:
        topic = help_text(req).replace("kpibot ask", "/kpi")
        return Reply("help", bk.help_blocks("", [], lang, topic_text=topic), topic.splitlines()[0], lang)
    usage = (USAGE_TH if lang == "th" else USAGE_EN).replace("kpibot ask", "/kpi")
    lines = [f"{s.key:<24} {s.name(lang)}" for s in cat.values()]
    return Reply("help", bk.help_blocks(usage, lines, lang), i18n.t("how_to_ask", lang), lang)


def _rows(a: Answer, scoped: Scoped, lang: str, names) -> list[bk.TableRow] | None:
    if a.breakdown is None:
        return None
    unit, cur = a.spec.unit, a.currency
    def shown(r: dict) -> str:  # a hidden row keeps its line and says why (kpi_engine.disclosure)
        return r.get("hidden") or fmt.value(r["value"], unit, cur, lang)

    if scoped.own_line is not None:
        # No rank: a rep's place among colleagues is itself a fact about the others.
        rows = [bk.TableRow(None, r["label"], shown(r)) for r in a.breakdown if r["key"] == scoped.own_line]
    else:
        rows = [bk.TableRow(None if r.get("hidden") else i, r["label"], shown(r))
                for i, r in enumerate(a.breakdown, 1)]
    if scoped.team_total is not None:
        team = names.display("team", scoped.team_total, lang) if names else scoped.team_total
        hidden = a.extra.get("hidden", {})
        total = (disclosure_text(hidden, lang) if hidden.get("value") else fmt.value(a.value, unit, cur, lang))
        rows.append(bk.TableRow(None, i18n.t("team_total", lang, team=team), total, total=True))
    return rows


def disclosure_text(hidden: dict, lang: str) -> str:
    from kpi_engine.disclosure import hidden_text

    return hidden_text(hidden.get("k", 3), lang, hidden.get("reason", "few_reps"))


def _error_reply(message: str, lang: str, text: str, exc: QueryError | None, as_of: datetime) -> Reply:
    """A refusal in the asker's language with at most three buttons: the readings the grammar found
    too close to choose between, else the did-you-mean suggestions put back into the question."""
    reruns = []
    for label, question in (exc.choices if exc else [])[:3]:
        value = sharing.encode(question, as_of)
        if value:
            reruns.append((label, value))
    if not reruns:
        for sugg in (exc.suggestions if exc else [])[:3]:
            fixed = corrected(text, exc.word if exc else None, sugg)
            value = sharing.encode(fixed, as_of) if fixed else None
            if value:
                reruns.append((sugg, value))
    return Reply("error", bk.error_blocks(message, lang, reruns[:3]), message, lang, as_of=as_of)


def corrected(text: str, word: str | None, suggestion: str) -> str | None:
    """`text` with the misunderstood word replaced by the suggestion, when that reads as a question."""
    if not word or not text:
        return None
    word = word.rstrip("…")
    candidates = []
    if suggestion.startswith("by "):
        candidates.append(re.compile(r"\bby\s+" + re.escape(word), re.IGNORECASE))
    candidates.append(re.compile(re.escape(word), re.IGNORECASE))
    for pattern in candidates:
        m = pattern.search(text)
        if m is None:
            continue
        fixed = text[: m.start()] + suggestion + text[m.end():]
        try:
            parse(fixed)
        except QueryError:
            continue
        return fixed
    return None
