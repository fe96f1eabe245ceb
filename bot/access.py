"""Who may see what: rep-level numbers for the people config allows, and a rep's own line for the rest.

A question is narrowed before the engine answers it (a manager's `by rep` becomes `by rep team:<theirs>`),
and the breakdown rows are filtered after for the one case a filter cannot express (a rep's own line
beside the team total). Every number is then passed through the engine's disclosure rule with the
person's Clearance (clearance_for): the reps they may see, so a total of one rep they may not see is
hidden however the question was put (kpi_engine/disclosure.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from bot import i18n
from config.access_models import AccessConfig, AlertAction, AlertActionRule
from kpi_engine.digest_data import Audience
from kpi_engine.disclosure import Clearance
from kpi_engine.engine import Answer, KpiEngine, RepInfo
from kpi_engine.query import Query

Scope = Literal["all", "team", "self", "totals", "company", "none"]


class AccessDenied(Exception):
    """A question this person may not ask; `message` is one polite line in their language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Viewer:
    user_id: str
    rep: RepInfo | None
    scope: Scope

    @property
    def team(self) -> str | None:
        return self.rep.team if self.rep else None


@dataclass(frozen=True)
class Scoped:
    """A question as this viewer may have it answered, and what to do with the breakdown rows."""

    query: Query
    own_line: str | None = None  # keep only this rep's row (plus a team total line)
    team_total: str | None = None  # the team whose total the answer's value now is
    note_key: str | None = None
    note_args: tuple[tuple[str, str], ...] = ()


def viewer_for(user_id: str, rep: RepInfo | None, access: AccessConfig) -> Viewer:
    if user_id in access.full:
        return Viewer(user_id, rep, "all")
    if rep is None:  # not linked to a rep: fails closed unless the config says otherwise
        return Viewer(user_id, None, access.unlisted)
    role = (rep.role or "rep").lower()
    if role in {r.lower() for r in access.full_roles}:
        return Viewer(user_id, rep, "all")
    if role in {r.lower() for r in access.team_roles} and rep.team:
        return Viewer(user_id, rep, "team")
    return Viewer(user_id, rep, "self")


def clearance_for(viewer: Viewer, engine: KpiEngine) -> Clearance:
    """The engine-level view of what this person may see: the rep ids whose numbers they may read."""
    if viewer.scope == "all":
        return engine.clearance(None)
    if viewer.scope in ("totals", "none"):
        return engine.clearance(frozenset())
    if viewer.scope == "company":
        return engine.clearance(frozenset(), company_only=True)
    me = viewer.rep
    assert me is not None
    if viewer.scope == "team" and me.team:
        return engine.clearance(frozenset(engine.team_reps(me.team)) | {me.rep_id})
    return engine.clearance(frozenset({me.rep_id}))


def unlinked_note(viewer: Viewer, access: AccessConfig, lang: str) -> str | None:
    """What an unlinked person is told about their limited view, and how to get linked."""
    if viewer.rep is not None or viewer.scope not in ("company", "none", "totals"):
        return None
    key = "unlinked_none" if viewer.scope == "none" else "unlinked_company"
    return i18n.t(key, lang, contact=access.link_contact, user=viewer.user_id)


def scope_query(viewer: Viewer, q: Query, engine: KpiEngine, lang: str) -> Scoped:
    """The question narrowed to what the viewer may see; AccessDenied when it cannot be.

    Raises the engine's QueryError for a `rep:` value that names nobody, as the engine would.
    """
    if viewer.scope == "all":
        return Scoped(q)
    cl = clearance_for(viewer, engine)
    asked_rep = engine.resolve_rep(q.filters["rep"], lang, cl.visible) if "rep" in q.filters else None
    by_rep = q.breakdown == "rep"

    if viewer.scope == "none":
        raise AccessDenied(i18n.t("unlinked_none", lang, contact=engine.config.access.link_contact,
                                  user=viewer.user_id))
    if viewer.scope in ("totals", "company"):
        if asked_rep is not None or by_rep:
            raise AccessDenied(i18n.t("no_rep_numbers", lang))
        return Scoped(q)

    me = viewer.rep
    assert me is not None
    team = me.team
    asked_team = q.filters.get("team")
    if viewer.scope == "team":
        if asked_rep is not None and asked_rep.team != team:
            raise AccessDenied(i18n.t("other_team_rep", lang, team=team))
        if by_rep:
            if asked_team is not None and asked_team.casefold() != (team or "").casefold():
                raise AccessDenied(i18n.t("other_team_rep", lang, team=team))
            filters = {**q.filters, "team": team} if asked_rep is None else q.filters
            return Scoped(replace(q, filters=filters), note_key="team_only", note_args=(("team", team or ""),))
        return Scoped(q)

    # a plain rep
    if asked_rep is not None and asked_rep.rep_id != me.rep_id:
        raise AccessDenied(i18n.t("other_rep", lang, who=asked_rep.name or asked_rep.rep_id))
    if not by_rep:
        return Scoped(q)
    if asked_rep is not None or not team:
        filters = {**q.filters, "rep": me.rep_id}
        return Scoped(replace(q, filters=filters), own_line=me.rep_id, note_key="own_line_no_team")
    if asked_team is not None and asked_team.casefold() != team.casefold():
        raise AccessDenied(i18n.t("other_team_rep", lang, team=team))
    return Scoped(replace(q, filters={**q.filters, "team": team}), own_line=me.rep_id, team_total=team,
                  note_key="own_line_only")


def own_line_only(answer: Answer, scoped: Scoped) -> Answer:
    """The answer as a rep reads it when their `by rep` was narrowed to their own line (Scoped.own_line):
    their row only, with no colleague's key among the hidden rows and no count of rows, which would say
    which colleagues had anything (bot/answers.py shows Slack the same; `kpibot ask --user` prints this)."""
    if scoped.own_line is None or answer.breakdown is None:
        return answer
    rows = [r for r in answer.breakdown if str(r["key"]) == scoped.own_line]
    extra = dict(answer.extra)
    if "hidden" in extra:
        extra["hidden"] = {**extra["hidden"],
                           "rows": [k for k in extra["hidden"].get("rows", []) if k == scoped.own_line]}
    return replace(answer, breakdown=rows, rows_total=len(rows), extra=extra)


def digest_audience(engine: KpiEngine, config, user_id: str, lang: str) -> Audience | None:
    """What a person's own digest covers, by the same scopes as their answers: the company for those
    who see everything (or only totals: a company digest has no rep-level lines), their team for a
    manager (their reps, their targets, their alerts), their own numbers for a rep; None for someone
    who may see nothing. Every number in it passes the disclosure rule with their clearance."""
    v = viewer_for(user_id, engine.rep_for_slack_user(user_id), config.access)
    if v.scope == "none":
        return None
    cl = clearance_for(v, engine)
    if v.scope in ("all", "totals", "company"):
        # someone who may not see rep lines: movers by what is not a rep's (product, segment, channel)
        return Audience("company", {}, user_id, lang, label="",
                        movers_by=None if v.scope == "all" else ("product", "segment", "channel"), clearance=cl)
    me = v.rep
    assert me is not None
    if v.scope == "team" and me.team:
        return Audience("team", {"team": me.team}, user_id, lang, label=engine.names.display("team", me.team, lang),
                        team=me.team, rep_id=me.rep_id, members=frozenset(engine.team_reps(me.team)),
                        movers_by=("rep", "region"), clearance=cl)
    return Audience("self", {"rep": me.rep_id}, user_id, lang, label=me.name or me.rep_id, team=me.team,
                    rep_id=me.rep_id, movers_by=(), clearance=cl)


def allowed_teams(access: AccessConfig, own_team_id: str | None) -> set[str]:
    """Workspaces whose people may ask: the configured list, else only the bot's own (auth.test)."""
    if access.allowed_team_ids:
        return set(access.allowed_team_ids)
    return {own_team_id} if own_team_id else set()


# ------------------------------------------------------------------ alert buttons


@dataclass(frozen=True)
class AlertScope:
    """Whom an alert is about: the company, one team, or one rep (and that rep's team)."""

    kind: Literal["company", "team", "rep"]
    team: str | None = None
    rep: str | None = None


def alert_scope(engine: KpiEngine, rule, segment: str) -> AlertScope:
    """A rule's alert for `segment`: `per = "rep"` (or a rep filter) is about a rep, `per = "team"` (or
    a team filter) about a team; anything else (per region, per channel, none) is company-wide."""
    rep = segment if rule.per == "rep" and segment else rule.filter.get("rep")
    if rep:
        try:
            info = engine.resolve_rep(rep)
        except Exception:  # a rep no longer in the store: the alert is still theirs, their team unknown
            return AlertScope("rep", rule.filter.get("team"), rep)
        return AlertScope("rep", info.team, info.rep_id)
    team = segment if rule.per == "team" and segment else rule.filter.get("team")
    if team:
        return AlertScope("team", team)
    return AlertScope("company")


def alert_role(user_id: str, rep: RepInfo | None, access: AccessConfig) -> tuple[str, AlertActionRule]:
    """The [access.alert_actions] entry that applies to this Slack user, and its key."""
    rules = access.alert_actions
    if user_id in access.full and "full" in rules:
        return "full", rules["full"]
    if rep is None:
        return "unlisted", rules["unlisted"]
    role = (rep.role or "rep").lower()
    key = role if role in rules else "rep"
    return key, rules[key]


def _covers(rule: AlertActionRule, rep: RepInfo | None, scope: AlertScope) -> bool:
    if rule.alerts == "all":
        return True
    if rule.alerts == "none" or rep is None or scope.kind == "company":
        return False
    if scope.kind == "rep" and scope.rep == rep.rep_id:
        return True  # "self" and "team" alike act on alerts about themselves
    if rule.alerts == "team" and rep.team:
        return (scope.team or "").casefold() == rep.team.casefold()
    return False


def may_act_on_alert(user_id: str, rep: RepInfo | None, access: AccessConfig, scope: AlertScope,
                     action: AlertAction) -> bool:
    _, rule = alert_role(user_id, rep, access)
    return action in rule.actions and _covers(rule, rep, scope)


ROLE_NAMES = {"head": ("the head of sales", "หัวหน้าฝ่ายขาย"), "admin": ("an admin", "ผู้ดูแลระบบ"),
              "manager": ("a manager", "ผู้จัดการ"), "rep": ("a rep", "พนักงานขาย")}


def who_may(access: AccessConfig, scope: AlertScope, action: AlertAction, lang: str, team_label: str = "",
            rep_label: str = "") -> str:
    """Who the config lets do `action` on an alert of `scope`, as one phrase ("the head of sales, an
    admin or ENT's manager"); "full" (a list of people) reads as the people named by the admins."""
    th = lang == "th"
    out: list[str] = []
    for key, rule in access.alert_actions.items():
        if action not in rule.actions or rule.alerts == "none" or key in ("unlisted", "full"):
            continue
        name = ROLE_NAMES.get(key, (key, key))[1 if th else 0]
        if rule.alerts == "all":
            out.append(name)
        elif scope.kind != "company" and rule.alerts == "team" and scope.team:
            team = team_label or scope.team
            out.append(f"{name}ของทีม {team}" if th else f"{name} of team {team}")
        elif scope.kind == "rep" and rule.alerts in ("self", "team"):
            who = rep_label or scope.rep or ""
            out.append(f"{who} เอง" if th else f"{who} themselves")
    if "full" in access.alert_actions and access.full and action in access.alert_actions["full"].actions \
            and access.alert_actions["full"].alerts != "none":
        out.append("ผู้ที่ผู้ดูแลระบบกำหนด" if th else "the people the admins named")
    out = list(dict.fromkeys(out))
    if not out:
        return "ไม่มีใคร" if th else "nobody"
    if th:
        return " หรือ ".join(out)
    return out[0] if len(out) == 1 else ", ".join(out[:-1]) + " or " + out[-1]
