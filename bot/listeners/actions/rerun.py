"""The "did you mean" buttons under a question the bot did not understand."""

from __future__ import annotations

import re

from slack_bolt import Ack, App, BoltContext

from bot import flows
from bot.blocks import RERUN_ACTION
from bot.deps import BotDeps


def register(app: App, deps: BotDeps) -> None:
    def ack_rerun(ack: Ack) -> None:
        ack()

    def do_rerun(body: dict, context: BoltContext) -> None:
        flows.rerun(deps, body, context.get("request_id") or "-")

    app.action(re.compile(rf"^{RERUN_ACTION}_\d+$"))(ack=ack_rerun, lazy=[do_rerun])
