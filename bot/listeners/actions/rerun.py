"""The "did you mean" buttons under a question the bot did not understand."""

from __future__ import annotations

import re

from slack_bolt import Ack, App, BoltContext

from bot import admit, flows
from bot.blocks import RERUN_ACTION
from bot.deps import BotDeps


def register(app: App, deps: BotDeps) -> None:
    def rerun(ack: Ack, body: dict, context: BoltContext) -> None:
        rid = context.get("request_id") or "-"
        admit.action(deps, ack, body, rid, flows.rerun, deps, body, rid)

    app.action(re.compile(rf"^{RERUN_ACTION}_\d+$"))(rerun)
