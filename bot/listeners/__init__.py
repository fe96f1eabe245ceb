"""Listener registration, in the bolt-python starter template's shape: one small module per listener."""

from __future__ import annotations

from slack_bolt import App

from bot.deps import BotDeps
from bot.listeners import actions, commands, events


def register_listeners(app: App, deps: BotDeps) -> None:
    commands.register(app, deps)
    actions.register(app, deps)
    events.register(app, deps)
