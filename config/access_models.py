"""Who may see what in Slack (issue: /kpi in Slack). Owned by the bot; read by the config loader."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

AlertAction = Literal["acknowledge", "snooze", "resolve"]
ALERT_ACTIONS: tuple[AlertAction, ...] = ("acknowledge", "snooze", "resolve")


class AlertActionRule(BaseModel):
    """What one role may do to alerts: on which alerts (`alerts`) and which buttons (`actions`).

    alerts: "all" every alert; "team" alerts about their own team and about its reps (and their own);
    "self" alerts about themselves only (a rule `per = "rep"`, or `filter = {rep = …}`); "none".
    A company-wide alert (no team or rep in its scope) is "all" only.
    """

    model_config = ConfigDict(extra="forbid")

    alerts: Literal["all", "team", "self", "none"]
    actions: list[AlertAction] = list(ALERT_ACTIONS)


# keys: a reps.role; "rep" for any role not listed; "full" for the Slack ids in `full`; "unlisted" for
# Slack users who are not reps (they act on nothing unless the config says so)
DEFAULT_ALERT_ACTIONS: dict[str, AlertActionRule] = {
    "head": AlertActionRule(alerts="all"),
    "admin": AlertActionRule(alerts="all"),
    "full": AlertActionRule(alerts="all"),
    "manager": AlertActionRule(alerts="team"),
    "rep": AlertActionRule(alerts="self"),
    "unlisted": AlertActionRule(alerts="none", actions=[]),
}


class AccessConfig(BaseModel):
    """Who sees rep-level numbers in Slack (bot/access.py applies it; docs/slack.md has the table).

    Totals are for everyone in the workspace. A manager's `by rep` is narrowed to their team; a plain
    rep's `by rep` shows their own line and their team's total, and `rep:<someone else>` is refused.
    """

    model_config = ConfigDict(extra="forbid")

    # Slack user ids who see every rep's numbers
    full: list[str] = []
    # roles (reps.role) that see every rep's numbers, and roles that see their own team's
    full_roles: list[str] = ["head", "admin"]
    team_roles: list[str] = ["manager"]
    # a Slack user who is not a rep: "all" (e.g. sales ops) or "totals" (no rep-level numbers)
    unlisted: Literal["all", "totals"] = "all"
    # workspaces whose users may ask; empty = only the bot's own workspace (auth.test)
    allowed_team_ids: list[str] = []
    # [access.alert_actions.<role>]: who may acknowledge, snooze or resolve which alerts; the roles named
    # replace the defaults of the same name, the others keep them (DEFAULT_ALERT_ACTIONS)
    alert_actions: dict[str, AlertActionRule] = dict(DEFAULT_ALERT_ACTIONS)

    @field_validator("alert_actions", mode="after")
    @classmethod
    def _with_defaults(cls, v: dict[str, AlertActionRule]) -> dict[str, AlertActionRule]:
        return {**DEFAULT_ALERT_ACTIONS, **{k.lower(): r for k, r in v.items()}}


class UserPrefs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lang: Literal["en", "th"] | None = None
