"""`kpibot ask`: its work, apart from the typer command that parses its options (kpibot/commands.py)
and the start path that answers without typer (kpibot/cli.py); both call `ask`."""

from __future__ import annotations

from typing import Any

from kpibot.guard import UserError, out
from kpibot.termsafe import dumps_json


def check_as_of(text: str | None) -> None:
    """Refuse `--as-of ""`: the engine reads no date as now, and a script's unset variable
    (`--as-of "$DAY"`) would silently answer, or send, today's numbers for another day's."""
    if text is not None and not text:
        raise UserError('--as-of "" is empty: give an ISO date or timestamp (e.g. 2026-05-04), or leave the '
                        'option out for now')


def ask(eng: Any, text: list[str], as_of: str | None, as_json: bool, explain: bool, user: str | None) -> None:
    """Answer `text` with the engine `eng` (its config's timezone reads --as-of)."""
    check_as_of(as_of)
    from kpi_engine.query import HelpRequest, QueryError
    from kpi_engine.reading import for_user, reading_json, reading_line

    words = " ".join(text)
    who = clearance = None
    rep = eng.rep_for_slack_user(user) if user else None
    if user:  # the same access as in Slack: names, numbers and refusals
        from bot.access import clearance_for, viewer_for

        who = viewer_for(user, rep, eng.config.access)
        clearance = clearance_for(who, eng)
    try:
        parsed = eng.parse(words, visible=clearance.visible if clearance and clearance.reps is not None else None)
    except QueryError as exc:
        if explain:
            from kpibot.text_answer import explain_text

            out.print(explain_text(words, None, exc), markup=False)
        raise
    if isinstance(parsed, HelpRequest):
        if as_json:
            from kpi_engine.catalogue import catalogue

            print(dumps_json({"help": True, "kpis": [s.to_json() for s in catalogue().values()]},
                             indent=2))
        else:
            from kpi_engine.answer_text import help_text

            out.print(help_text(parsed), markup=False)
        return
    query = for_user(parsed, rep.rep_id if rep else None, rep.team if rep else None)
    scoped = None
    if who is not None:
        from bot.access import AccessDenied, scope_query

        try:
            scoped = scope_query(who, query, eng, query.lang)
        except AccessDenied as exc:
            raise UserError(exc.message) from None
        query = scoped.query
    from kpi_engine.periods import parse_as_of

    answer = eng.answer(query, parse_as_of(as_of, eng.config.tz), clearance=clearance)
    if scoped is not None:
        from bot.access import own_line_only

        answer = own_line_only(answer, scoped)  # as Slack shows a rep their `by rep`: their line only
    rep_label = eng.lexicon().rep_label
    if as_json:
        print(dumps_json(answer.to_json() | {"reading": reading_json(answer, query, eng.names, rep_label)},
                         indent=2))
        return
    from kpibot.text_answer import explain_text, render_answer  # the renderer only for people, not --json

    render_answer(out.console, answer, reading_line(answer, query, eng.names, answer.lang, rep_label))
    if explain:
        out.print(explain_text(words, query, None), markup=False)
