"""The sandbox's first minute without a browser: what empty conversations suggest, and the fonts the
page serves itself so emoji and Thai render on a machine that has neither."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from sandbox import Channel, Sandbox, create_app, fonts
from slack_emulator import SlackEmulator

starlette_testclient = pytest.importorskip("starlette.testclient")


@pytest.fixture
def sandbox():
    with SlackEmulator() as emu:
        yield Sandbox(emulator=emu, bot_events_url="http://127.0.0.1:9/slack/events", signing_secret="s",
                      channels=[Channel("leadership", "leadership", purpose="Digests"),
                                Channel("sales-alerts", "sales-alerts", purpose="Alerts")],
                      tz=ZoneInfo("Asia/Bangkok"))


def _actions(view: dict) -> list[dict]:
    return view["empty"]["actions"]


def test_empty_conversations_suggest_what_belongs_there(sandbox):
    dm = sandbox.view("U0ANNA", sandbox.dm_id("U0ANNA"))
    assert dm["empty"]["title"] == "Try these"
    commands = [a["command"] for a in _actions(dm)]
    assert "/kpi digest on" in commands and any("รายได้" in c for c in commands) and len(commands) <= 6
    alerts = sandbox.view("U0ANNA", "sales-alerts")
    assert [a.get("job") for a in _actions(alerts)] == ["alerts"]  # not "Send digest now" here
    assert "Send digest now" not in str(alerts["empty"])
    digests = sandbox.view("U0ANNA", "leadership")
    assert [a.get("job") for a in _actions(digests)] == ["digest"]
    sandbox.emulator.add_message("leadership", "hello", user="U0ANNA")
    assert "empty" not in sandbox.view("U0ANNA", "leadership")


def test_the_page_serves_its_emoji_and_thai_fonts(sandbox):
    with starlette_testclient.TestClient(create_app(sandbox), base_url="http://127.0.0.1:3000") as client:
        page = client.get("/").text
        assert '<link rel="stylesheet" href="/fonts.css">' in page
        css = client.get("/fonts.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        if fonts.thai_font() is not None:
            assert "font-family: 'Noto Sans Thai'" in css.text
            thai = client.get("/fonts/thai.ttf")
            assert thai.status_code == 200 and thai.content[:4] == b"\x00\x01\x00\x00"
        assert fonts.emoji_font() is not None, "no emoji font in sandbox/vendor/fonts: run `make install`"
        assert "font-family: 'Noto Color Emoji'" in css.text and "U+1F000-1FAFF" in css.text
        assert "U+0030" not in css.text  # digits never come from the emoji font
        emoji = client.get("/fonts/emoji.ttf")
        assert emoji.status_code == 200 and emoji.content[:4] == b"\x00\x01\x00\x00"
        assert emoji.headers["cache-control"] == "max-age=86400"  # ten megabytes, fetched once
        assert client.get("/").headers["cache-control"] == "no-store"
