"""The "Share to channel" button under an answer."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext

from bot import flows
from bot.blocks import SHARE_ACTION
from bot.deps import BotDeps


def register(app: App, deps: BotDeps) -> None:
    def ack_share(ack: Ack) -> None:
        ack()

    def do_share(body: dict, context: BoltContext) -> None:
        flows.share(deps, body, context.get("request_id") or "-")

    app.action(SHARE_ACTION)(ack=ack_share, lazy=[do_share])
