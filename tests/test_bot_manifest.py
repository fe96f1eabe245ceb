"""The Slack app manifest asks for what the code uses, and points every URL at the route that serves it."""

from __future__ import annotations

from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

MANIFEST = Path(__file__).resolve().parents[1] / "slack_manifest.yml"


def test_manifest_has_the_command_scopes_interactivity_home_and_events():
    m = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    (command,) = m["features"]["slash_commands"]
    assert command["command"] == "/kpi" and command["usage_hint"] and command["should_escape"] is True
    assert m["features"]["app_home"]["home_tab_enabled"] is True
    assert set(m["oauth_config"]["scopes"]["bot"]) >= {
        "commands", "chat:write", "chat:write.public", "files:write", "users:read",
        "channels:history", "groups:history", "im:history"}
    s = m["settings"]
    assert s["interactivity"]["is_enabled"] is True
    assert s["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    assert s["socket_mode_enabled"] is False
    for url in (command["url"], s["interactivity"]["request_url"], s["event_subscriptions"]["request_url"]):
        assert url == "https://YOUR-HOST/slack/events"
