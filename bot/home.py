"""The App Home tab: a person's own numbers if a rep, their team's if a manager, the company's otherwise."""

from __future__ import annotations

import logging
from datetime import datetime

from bot import blocks as bk
from bot import digest_optin, i18n
from bot.access import clearance_for, unlinked_note, viewer_for
from bot.deps import BotDeps
from kpi_engine import format as fmt
from kpi_engine.answer_text import target_line
from kpi_engine.disclosure import hidden_text
from kpi_engine.engine import RepInfo
from kpi_engine.query import PeriodSpec, Query
from kpi_engine.store_errors import StoreError

log = logging.getLogger(__name__)

HOME_KPIS = ("revenue", "deals_closed", "win_rate")
HOME_GRAINS = (("month", "this_month"), ("quarter", "this_quarter"))


def home_scope(deps: BotDeps, rep: RepInfo | None) -> tuple[str, dict[str, str]]:
    """("self" | "team" | "company", filters) for the person's Home tab."""
    access = deps.config.access
    if rep is None:
        return "company", {}
    role = (rep.role or "rep").lower()
    if role in {r.lower() for r in access.full_roles}:
        return "company", {}
    if role in {r.lower() for r in access.team_roles} and rep.team:
        return "team", {"team": rep.team}
    return "self", {"rep": rep.rep_id}


def home_view(deps: BotDeps, user_id: str, as_of: datetime) -> dict:
    lang = deps.langs.for_user(user_id)
    rep = deps.engine.rep_for_slack_user(user_id)
    scope, filters = home_scope(deps, rep)
    who = viewer_for(user_id, rep, deps.config.access)
    cl = clearance_for(who, deps.engine)  # every number on the tab passes the engine's disclosure rule
    if scope == "self":
        title = i18n.t("home_you", lang, name=(rep.name if rep else None) or user_id)
    elif scope == "team":
        title = i18n.t("home_team", lang, team=deps.engine.names.display("team", rep.team, lang) if rep else "")
    else:
        title = i18n.t("home_company", lang)
    blocks: list[dict] = [bk.header(i18n.t("home_title", lang)), bk.section(f"*{bk.escape(title)}*")]
    note = unlinked_note(who, deps.config.access, lang)
    if note:
        blocks.append(bk.context(note))
    for key in HOME_KPIS if who.scope != "none" else ():
        spec = deps.engine.spec(key)
        fields = []
        for grain, word in HOME_GRAINS:
            fields.append({"type": "mrkdwn", "text": _cell(deps, key, grain, filters, lang, as_of, i18n.t(word, lang),
                                                           cl)})
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*{bk.escape(spec.name(lang))}*"},
                       "fields": fields})
        blocks.append({"type": "divider"})
    blocks += digest_optin.home_blocks(deps, user_id, lang)
    blocks.append(bk.context(i18n.t("updated", lang, when=fmt.moment(as_of, lang, deps.config.tz))))
    return {"type": "home", "blocks": bk.fit(blocks)}


def _cell(deps: BotDeps, key: str, grain: str, filters: dict[str, str], lang: str, as_of: datetime,
          label: str, clearance=None) -> str:
    q = Query(kpi=key, period=PeriodSpec("current", grain=grain), filters=dict(filters), lang=lang)  # type: ignore[arg-type]
    try:
        a = deps.engine.answer(q, as_of, clearance=clearance)
    except StoreError as exc:  # the database is away: one line, not a traceback per cell
        log.warning("home tab: %s %s: %s", key, grain, exc)
        return f"*{label}*\n—"
    except Exception:
        # One failing number must not blank the whole tab.
        log.exception("home tab: %s %s failed", key, grain)
        return f"*{label}*\n—"
    lines = [f"*{label}*", fmt.value(a.value, a.spec.unit, a.currency, lang)]
    if a.extra.get("hidden", {}).get("value"):
        h = a.extra["hidden"]
        return bk.clip(f"*{label}*\n_{bk.escape(hidden_text(h['k'], lang, h['reason']))}_", 2000)
    if a.value is None:
        lines[-1] += f"  _{fmt.word('no_data', lang)}_"
    if a.comparison.change is not None:
        lines[-1] += (f"  {bk.cue(a.good_change)} {fmt.arrow(a.comparison.change)} "
                      f"{fmt.change(a.comparison.change, a.comparison.change_kind, lang)}")
    t = target_line(a, lang)
    if t:
        lines.append(f"🎯 {bk.escape(t)}")
    return bk.clip("\n".join(lines), 2000)
