"""Who may see what in Slack (issue: /kpi in Slack). Owned by the bot; read by the config loader."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
    """Who sees which numbers in Slack (bot/access.py applies it; docs/access.md has the table).

    Every number anyone is shown passes one rule (kpi_engine/disclosure.py): every rep it covers is
    visible to them, or it covers at least `min_reps` reps. A manager sees their team's reps, a
    plain rep their own numbers; `rep:<someone else>` is refused. Not being linked to a rep fails
    closed: company-wide totals only, unless `unlisted` says otherwise.
    """

    model_config = ConfigDict(extra="forbid")

    # Slack user ids who see every rep's numbers
    full: list[str] = []
    # roles (reps.role) that see every rep's numbers, and roles that see their own team's
    full_roles: list[str] = ["head", "admin"]
    team_roles: list[str] = ["manager"]
    # a Slack user who is not linked to a rep (reps.slack_user_id): "company" (company-wide totals
    # only), "none" (nothing), "totals" (any total of at least min_reps reps, no rep-level lines) or
    # "all" (everything: only ever as an explicit choice, e.g. for sales ops; prefer listing them in `full`)
    unlisted: Literal["company", "none", "totals", "all"] = "company"
    # the fewest reps a number must cover to be shown to someone who may not see all of them
    min_reps: int = Field(3, ge=1)
    # who an unlinked person should ask to be linked (named in the message they get)
    link_contact: str = "your kpibot admin"
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
