"""The "Share to channel" button under an answer."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext

from bot import admit, flows
from bot.blocks import SHARE_ACTION
from bot.deps import BotDeps


def register(app: App, deps: BotDeps) -> None:
    def share(ack: Ack, body: dict, context: BoltContext) -> None:
        rid = context.get("request_id") or "-"
        admit.action(deps, ack, body, rid, flows.share, deps, body, rid)

    app.action(SHARE_ACTION)(share)
