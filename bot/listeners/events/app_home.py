"""`app_home_opened`: publish the person's numbers to their Home tab (in the answer pool)."""

from __future__ import annotations

from slack_bolt import App, BoltContext

from bot import admit, flows
from bot.deps import BotDeps


def register(app: App, deps: BotDeps) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict, context: BoltContext) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        rid = context.get("request_id") or "-"
        admit.event(deps, rid, flows.publish_home, deps, event["user"], rid)
