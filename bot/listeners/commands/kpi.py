"""`/kpi`: acknowledged on the request's thread, answered by the answer pool through the response_url."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext

from bot import admit, flows
from bot.deps import BotDeps


def register(app: App, deps: BotDeps) -> None:
    def kpi(ack: Ack, body: dict, context: BoltContext) -> None:
        admit.command(deps, ack, body, context.get("request_id") or "-", flows.kpi_command)

    app.command("/kpi")(kpi)
