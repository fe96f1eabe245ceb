"""Who may see what in Slack (issue: /kpi in Slack). Owned by the bot; read by the config loader."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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


class UserPrefs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lang: Literal["en", "th"] | None = None
