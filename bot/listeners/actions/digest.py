"""The Home tab's "weekly digest by DM" button."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext

from bot import admit, flows
from bot.deps import BotDeps
from bot.digest_optin import TOGGLE_ACTION


def register(app: App, deps: BotDeps) -> None:
    def toggle(ack: Ack, body: dict, context: BoltContext) -> None:
        rid = context.get("request_id") or "-"
        admit.action(deps, ack, body, rid, flows.digest_toggle, deps, body, rid)

    app.action(TOGGLE_ACTION)(toggle)
