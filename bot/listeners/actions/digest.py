"""The Home tab's "weekly digest by DM" button."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext

from bot import flows
from bot.deps import BotDeps
from bot.digest_optin import TOGGLE_ACTION


def register(app: App, deps: BotDeps) -> None:
    def ack_toggle(ack: Ack) -> None:
        ack()

    def do_toggle(body: dict, context: BoltContext) -> None:
        flows.digest_toggle(deps, body, context.get("request_id") or "-")

    app.action(TOGGLE_ACTION)(ack=ack_toggle, lazy=[do_toggle])
