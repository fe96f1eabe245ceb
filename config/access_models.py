"""Who may see what in Slack (issue: /kpi in Slack). Owned by the bot; read by the config loader."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


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


class UserPrefs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lang: Literal["en", "th"] | None = None
