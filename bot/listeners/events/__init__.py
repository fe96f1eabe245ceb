from __future__ import annotations

from slack_bolt import App

from bot.deps import BotDeps
from bot.listeners.events import app_home


def register(app: App, deps: BotDeps) -> None:
    app_home.register(app, deps)
