"""`/kpi`: acknowledged at once (empty ack), answered by a lazy listener through the response_url."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext

from bot import flows
from bot.deps import BotDeps
from telemetry import metrics


def register(app: App, deps: BotDeps) -> None:
    def ack_kpi(ack: Ack) -> None:
        ack()

    def answer_kpi(body: dict, context: BoltContext) -> None:
        with metrics.IN_FLIGHT.track_inprogress():
            flows.kpi_command(deps, body, context.get("request_id") or "-")

    app.command("/kpi")(ack=ack_kpi, lazy=[answer_kpi])
