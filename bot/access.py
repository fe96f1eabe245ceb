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
from config.access_models import AccessConfig
from kpi_engine.digest_data import Audience
from kpi_engine.disclosure import Clearance
from kpi_engine.engine import KpiEngine, RepInfo
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
