from __future__ import annotations

from slack_bolt import App

from bot.deps import BotDeps
from bot.listeners.actions import alerts, digest, rerun, share


def register(app: App, deps: BotDeps) -> None:
    share.register(app, deps)
    rerun.register(app, deps)
    digest.register(app, deps)
    alerts.register_alert_actions(app, deps)
