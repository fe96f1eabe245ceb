"""The sandbox without a browser: mrkdwn and Block Kit to HTML (escaping first), the page's guards,
and `kpibot run`'s refusals (port in use, corrupt or foreign SQLite) through run/start_service."""

from __future__ import annotations

import socket
import sqlite3
from datetime import datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from config.app_config import load_config
from config.settings import Settings
from kpi_engine.db import StoreError
from kpibot.run import ServiceError, run_service, start_service
from sandbox import BlockKitRenderer, Channel, MrkdwnRenderer, Sandbox, SandboxError, create_app
from sandbox.workspace import channels_from_config
from slack_emulator import SlackEmulator

BKK = ZoneInfo("Asia/Bangkok")
USERS = {
    "U0SOMCHAI": {"id": "U0SOMCHAI", "name": "Somchai", "real_name": "Somchai Jaidee"},
    "U0KPIBOT": {"id": "U0KPIBOT", "name": "kpibot", "real_name": "KPI Bot", "is_bot": True},
}


class Tags(HTMLParser):
    """Every start tag and attribute the browser would build from a fragment."""

    def __init__(self, fragment: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(fragment)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def names(self) -> set[str]:
        return {t for t, _ in self.tags}

    def attributes(self) -> set[str]:
        return {a for _, attrs in self.tags for a in attrs}


@pytest.fixture
def md() -> MrkdwnRenderer:
    return MrkdwnRenderer({"U0SOMCHAI": "Somchai Jaidee"}, {"C0SALES": "sales"}, BKK)


@pytest.fixture
def bk() -> BlockKitRenderer:
    return BlockKitRenderer(USERS, {"C0SALES": "sales"}, tz=BKK)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings_for(tmp_path, port: int, db: str = "kpibot.db") -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / db}", port=port, _env_file=None)


# ---------------------------------------------------------------------- mrkdwn


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("*Revenue* is up", "<b>Revenue</b> is up"),
        ("_note_ and ~old~", "<i>note</i> and <s>old</s>"),
        ("`win_rate` is a key", '<code class="bk-code">win_rate</code> is a key'),
        ("```*not bold* <@U0SOMCHAI>```", '<pre class="bk-pre">*not bold* &lt;@U0SOMCHAI&gt;</pre>'),
        ("2*3*4 and snake_case_name", "2*3*4 and snake_case_name"),
        ("line one\nline two", "line one<br>line two"),
        (":white_check_mark: done :chart_with_upwards_trend:", "✅ done 📈"),
        (":not_an_emoji_we_know:", ":not_an_emoji_we_know:"),
        ("&lt;b&gt; &amp; co", "&lt;b&gt; &amp; co"),
        ("> quoted\nafter", '<blockquote class="bk-quote">quoted</blockquote>after'),
        ("รายได้ *เดือนนี้*", "รายได้ <b>เดือนนี้</b>"),
    ],
)
def test_mrkdwn_formatting(md, text, expected):
    assert md.mrkdwn(text) == expected


def test_mrkdwn_links_mentions_and_specials(md):
    out = md.mrkdwn("see <https://example.com/a?b=1&amp;c=2|the *report*> by <@U0SOMCHAI> in <#C0SALES> <!here>")
    assert '<a href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">' in out
    assert "the *report*</a>" in out  # a link label is text, not markup
    assert '<span class="bk-mention" data-user="U0SOMCHAI">@Somchai Jaidee</span>' in out
    assert "#sales" in out
    assert "@here" in out


def test_mrkdwn_unknown_user_and_date(md):
    assert "@U0NOBODY" in md.mrkdwn("<@U0NOBODY>")
    # 2026-05-04 02:00 UTC is 09:00 in Bangkok
    assert md.mrkdwn("<!date^1777860000^{date_num} {time}|fallback>") == "2026-05-04 09:00"


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<javascript:alert(1)|click me>",
        "<data:text/html,<b>x</b>|x>",
        '<img src=x onerror="alert(1)">',
        "*<script>alert(1)</script>*",
        "<https://ok.example|<img src=x onerror=alert(1)>>",
        '<https://ok.example" onmouseover="alert(1)|x>',
        "\x00 0\x00 placeholder smuggling",
    ],
)
def test_mrkdwn_is_inert(md, text):
    html = md.mrkdwn(text)
    tags = Tags(html)
    assert tags.names() <= {"a", "b", "i", "s", "span", "code", "pre", "br", "blockquote"}
    assert not any(a.startswith("on") for a in tags.attributes())
    for tag, attrs in tags.tags:
        if tag == "a":
            assert (attrs["href"] or "").startswith(("http://", "https://", "mailto:"))


def test_script_in_message_text_renders_inert(bk):
    message = {"ts": "1778000000.000100", "user": "U0SOMCHAI", "text": "<script>alert('x')</script> hi"}
    html = bk.message(message, channel="C0SALES")
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; hi" in html


def test_hostile_block_fields_are_escaped(bk):
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "<img src=x onerror=alert(1)>"}},
        {
            "type": "actions",
            "block_id": 'b"><script>',
            "elements": [
                {
                    "type": "button",
                    "action_id": 'a" onclick="alert(1)',
                    "value": "<script>",
                    "url": "javascript:alert(1)",
                    "text": {"type": "plain_text", "text": "<b>Go</b>"},
                }
            ],
        },
        {"type": "image", "image_url": "javascript:alert(1)", "alt_text": '"><script>'},
    ]
    message = {"ts": "1.0", "bot_id": "B0KPIBOT", "user": "U0KPIBOT", "blocks": blocks,
               "attachments": [{"color": "red;background:url(https://evil.example)", "text": "x"}]}
    html = bk.message(message, channel="C0SALES")
    tags = Tags(html)
    assert "script" not in tags.names() and "img" not in tags.names()
    assert not any(a.startswith("on") for a in tags.attributes())
    assert "data-url" not in tags.attributes()  # a javascript: URL is never offered to the page
    assert "evil.example" not in html
    button = next(attrs for tag, attrs in tags.tags if tag == "button" and "data-action-id" in attrs)
    assert button["data-action-id"] == 'a" onclick="alert(1)'
    assert button["data-value"] == "<script>"


# ---------------------------------------------------------------------- Block Kit


def test_blocks_render_like_slack(bk):
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": ":bar_chart: Weekly digest", "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Revenue* ฿1.2M"},
         "fields": [{"type": "mrkdwn", "text": "*Win rate*\n28.4 %"}, {"type": "plain_text", "text": "CAC"}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "_as of 09:00_"},
                                         {"type": "image", "image_url": "/files/F1/x.png", "alt_text": "dot"}]},
        {"type": "divider"},
        {"type": "image", "image_url": "/files/F0EMU000001/chart.png", "alt_text": "trend",
         "title": {"type": "plain_text", "text": "Trend"}},
        {"type": "image", "image_url": "https://cdn.example/chart.png", "alt_text": "outside"},
        {"type": "actions", "block_id": "alert_actions", "elements": [
            {"type": "button", "action_id": "alert_ack", "value": "k1", "style": "primary",
             "text": {"type": "plain_text", "text": "Acknowledge"}},
            {"type": "button", "action_id": "alert_snooze", "value": "k1:1d", "style": "danger",
             "text": {"type": "plain_text", "text": "Snooze 1 day"}},
            {"type": "button", "action_id": "alert_explain", "value": "k1",
             "text": {"type": "plain_text", "text": "Explain"}},
        ]},
        {"type": "mystery_block"},
    ]
    message = {"ts": "1778000000.000100", "bot_id": "B0KPIBOT", "user": "U0KPIBOT", "text": "fallback",
               "blocks": blocks, "reply_count": 3, "latest_reply": "1778000100.000100", "edited": {"ts": "2"}}
    html = bk.message(message, channel="C0KPI")
    assert '<div class="bk-header">📊 Weekly digest</div>' in html
    assert "fallback" not in html  # text is only the notification fallback when blocks exist
    assert '<div class="bk-fields"><div class="bk-field"><b>Win rate</b><br>28.4 %</div>' in html
    assert '<div class="bk-context"><span class="bk-context-text"><i>as of 09:00</i></span>' in html
    assert '<hr class="bk-divider">' in html
    assert '<img class="bk-image-img" src="/files/F0EMU000001/chart.png" alt="trend"' in html
    assert "🖼 outside" in html and "cdn.example/chart.png\"" in html  # shown as a placeholder, not fetched
    assert 'class="bk-button bk-primary" data-action-id="alert_ack" data-value="k1" data-block-id="alert_actions"' \
        in html
    assert 'class="bk-button bk-danger" data-action-id="alert_snooze"' in html
    assert 'class="bk-button " data-action-id="alert_explain"' in html
    assert '<span class="thread-count">3 replies</span>' in html
    assert "(edited)" in html
    assert "[mystery_block block]" in html
    assert '<span class="app-badge">APP</span>' in html


def test_ephemeral_and_thread_rendering(bk):
    eph = {"ts": "1778000000.000200", "user": "U0SOMCHAI", "subtype": "ephemeral", "text": "only *you*"}
    html = bk.message(eph, channel="C0SALES", ephemeral=True)
    assert "Only visible to you" in html and 'data-ephemeral="1"' in html
    assert "KPI Bot" in html  # the author of an ephemeral is the bot, not the person it is shown to
    reply = {"ts": "2.0", "user": "U0SOMCHAI", "text": "thanks", "thread_ts": "1.0", "reply_count": 2}
    assert "thread-link" not in bk.message(reply, channel="C0SALES", in_thread=True)


def test_attachments_files_and_rich_text(bk):
    message = {
        "ts": "1.0", "user": "U0SOMCHAI",
        "blocks": [{"type": "rich_text", "elements": [
            {"type": "rich_text_section", "elements": [
                {"type": "text", "text": "hello ", "style": {"bold": True}},
                {"type": "user", "user_id": "U0SOMCHAI"},
                {"type": "link", "url": "javascript:alert(1)", "text": "bad"}]},
            {"type": "rich_text_list", "style": "ordered", "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": "one"}]}]}]}],
        "attachments": [{"color": "danger", "title": "CAC spike", "text": "*up* 40 %",
                         "fields": [{"title": "Week", "value": "W19", "short": True}]}],
        "files": [{"id": "F1", "name": "c.png", "title": "Chart", "mimetype": "image/png",
                   "url_private": "/files/F1/c.png"}],
    }
    html = bk.message(message, channel="C0SALES")
    assert "<b>hello </b>" in html and "@Somchai Jaidee" in html
    assert "javascript:" not in html and ">bad<" in html
    assert '<ol class="bk-list"><li>one</li></ol>' in html
    assert 'style="--att-color:#e01e5a"' in html and "<b>up</b> 40 %" in html
    assert '<img class="bk-image-img" src="/files/F1/c.png" alt="Chart"' in html


def test_home_view(bk):
    view = {"type": "home", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "Your numbers"}}]}
    assert "Your numbers" in bk.view(view)
    assert bk.view(None) == ""


# ---------------------------------------------------------------------- workspace and page guards


@pytest.fixture
def sandbox():
    clock = datetime(2026, 5, 13, 12, 0, tzinfo=BKK)
    with SlackEmulator() as emu:
        yield Sandbox(emulator=emu, bot_events_url="http://127.0.0.1:9/slack/events", signing_secret="s",
                      channels=channels_from_config(load_config()), tz=BKK, clock=lambda: clock)


def test_channels_come_from_the_config():
    assert [(c.id, c.purpose) for c in channels_from_config(load_config())] == [
        ("leadership", "Digests"), ("sales-alerts", "Alerts")]


def test_as_of_replays_a_day(sandbox):
    assert sandbox.as_of(None) == datetime(2026, 5, 13, 12, 0, tzinfo=BKK)
    assert sandbox.as_of("2026-05-13") == datetime(2026, 5, 13, 12, 0, tzinfo=BKK)
    assert sandbox.as_of("2026-05-04") == datetime(2026, 5, 4, 9, 0, tzinfo=BKK)
    with pytest.raises(SandboxError, match="future"):
        sandbox.as_of("2026-05-14")
    with pytest.raises(SandboxError, match="not a date"):
        sandbox.as_of("next tuesday")


def test_view_shows_channels_dm_and_only_own_ephemerals(sandbox):
    emu = sandbox.emulator
    emu.add_message("leadership", "hello <b>", user="U0ANNA")
    emu.new_response_url("leadership", "U0ANNA")
    emu._post_ephemeral("leadership", "U0ANNA", text="for Anna", blocks=None, thread_ts=None, source="test")
    view = sandbox.view("U0SOMCHAI", "leadership")
    ids = [c["id"] for c in view["channels"]]
    assert ids[:3] == ["leadership", "sales-alerts", "D0SOMCHAI"]
    assert "hello &lt;b&gt;" in view["messages_html"]
    assert "for Anna" not in view["messages_html"]
    assert "for Anna" in sandbox.view("U0ANNA", "leadership")["messages_html"]
    with pytest.raises(SandboxError):
        sandbox.view("U0NOBODY", "leadership")


def test_command_text_is_escaped_like_slack():
    from sandbox.workspace import slack_escape

    users = [{"id": "U0SOMCHAI", "name": "Somchai"}, {"id": "U0ANNA", "name": "Anna"}]
    assert slack_escape("revenue rep:@somchai", users) == "revenue rep:<@U0SOMCHAI|somchai>"
    assert slack_escape("cac rep:@U0ANNA <b> & co", users) == "cac rep:<@U0ANNA|anna> &lt;b&gt; &amp; co"
    assert slack_escape("mail a@b.example @nobody", users) == "mail a@b.example @nobody"


def test_ack_body_becomes_the_answer_and_a_slow_ack_is_reported(sandbox, monkeypatch):
    """Slack shows a slash command's ack body to the person, and gives up on an app after 3 s."""
    ack = b'{"response_type": "ephemeral", "text": "*quick* answer"}'
    monkeypatch.setattr(sandbox, "_send", lambda body: (200, {"Content-Type": "application/json"}, ack, 0.05))
    assert sandbox.command("U0SOMCHAI", "leadership", "/kpi revenue").to_json() == {
        "ok": True, "message": "", "warning": False}
    assert sandbox.emulator.ephemerals(user="U0SOMCHAI")[-1]["text"] == "*quick* answer"

    monkeypatch.setattr(sandbox, "_send", lambda body: (200, {}, b"", 3.4))
    slow = sandbox.command("U0SOMCHAI", "leadership", "/kpi revenue")
    assert slow.warning and "3.4 s" in slow.message and "operation_timeout" in slow.message

    monkeypatch.setattr(sandbox, "_send", lambda body: (401, {}, b"invalid signature", 0.01))
    with pytest.raises(SandboxError, match="HTTP 401"):
        sandbox.command("U0SOMCHAI", "leadership", "/kpi revenue")


def test_unknown_command_is_refused(sandbox):
    with pytest.raises(SandboxError, match="/deploy is not a valid command"):
        sandbox.command("U0SOMCHAI", "leadership", "/deploy now")


# Starlette 1.x nudges TestClient users towards httpx2; httpx is what the dev extras install.
@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_page_refuses_cross_site_posts_and_sets_csp(sandbox):
    from starlette.testclient import TestClient

    with TestClient(create_app(sandbox), base_url="http://127.0.0.1:3000") as client:
        page = client.get("/")
        assert page.status_code == 200 and "KPI Sandbox" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        body = {"user": "U0SOMCHAI", "channel": "leadership", "text": "hi"}
        # A form post from another site is a "simple request" a browser sends without asking.
        assert client.post("/api/message", data=body).status_code == 415
        assert client.post("/api/message", json=body, headers={"Origin": "https://evil.example"}).status_code == 403
        assert client.post("/api/message", json=body, headers={"Origin": "http://127.0.0.1:3000"}).status_code == 200
        assert sandbox.emulator.messages("leadership")[-1]["text"] == "hi"
        assert client.get("/api/view", params={"user": "U0SOMCHAI", "channel": "leadership"}).json()["channels"]
        assert client.post("/api/digest", json={"as_of": "2026-05-01"}).json()["error"].startswith("digest is not")
    with TestClient(create_app(sandbox), base_url="http://attacker.example") as client:
        assert client.get("/").status_code == 400  # DNS rebinding: only loopback host names are served


def test_sandbox_refuses_a_non_loopback_bot_url():
    with SlackEmulator() as emu, pytest.raises(ValueError, match="loopback"):
        Sandbox(emulator=emu, bot_events_url="http://10.0.0.5/slack/events", signing_secret="s",
                channels=[Channel("c", "c")], tz=BKK)


# ---------------------------------------------------------------------- kpibot run refusals


def test_port_in_use_is_one_clear_line(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ServiceError) as raised:
            start_service(settings_for(tmp_path, port), load_config())
        assert f"port {port}" in str(raised.value) and f"PORT={port + 1} kpibot run" in str(raised.value)
        with pytest.raises(SystemExit) as exited:
            run_service(settings_for(tmp_path, port), load_config())
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"kpibot: port {port} on 127.0.0.1 is already in use")
    assert not (tmp_path / "kpibot.db").exists()  # refused before touching the store


def test_default_port_suggests_3001(tmp_path):
    from kpibot.run import _port_error

    assert "PORT=3001 kpibot run" in str(_port_error(OSError(98, "in use"), "127.0.0.1", 3000))


@pytest.mark.parametrize("kind", ["corrupt", "foreign"])
def test_unusable_sqlite_file_is_refused_and_left_untouched(tmp_path, capsys, kind):
    db = tmp_path / "kpibot.db"
    if kind == "corrupt":
        db.write_bytes(b"this is not a database, it is a shopping list\n" * 200)
    else:
        with sqlite3.connect(db) as con:
            con.execute("CREATE TABLE recipes (name TEXT, minutes INT)")
            con.execute("INSERT INTO recipes VALUES ('tom yum', 25)")
        con.close()
    before = db.read_bytes()
    port = free_port()
    with pytest.raises(StoreError, match="left untouched"):
        start_service(settings_for(tmp_path, port), load_config())
    with pytest.raises(SystemExit) as exited:
        run_service(settings_for(tmp_path, port), load_config())
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and str(db) in err
    assert db.read_bytes() == before
    # The page's port was released again: nothing is left running after a refusal.
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))
        again.listen(1)


def test_sandbox_only_listens_on_loopback(tmp_path):
    with pytest.raises(ServiceError, match="only listens on this machine"):
        start_service(settings_for(tmp_path, 0), load_config(), host="0.0.0.0")


# ---------------------------------------------------------------------- the service, without a browser


def test_sandbox_service_starts_answers_and_stops(tmp_path):
    """What the browser test does, minus the browser: so a machine without Chromium still checks it."""
    import json
    import urllib.request

    from slack_emulator import post_to_app

    port = free_port()
    printed: list[str] = []
    now = datetime(2026, 5, 13, 12, 0, tzinfo=BKK)
    handle = start_service(settings_for(tmp_path, port), load_config(), clock=lambda: now, out=printed.append)
    try:
        assert handle.mode == "sandbox" and handle.url == f"http://127.0.0.1:{port}/"
        assert any("filling it with the demo company" in line for line in printed)
        assert any(handle.url in line for line in printed)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(handle.url, timeout=10) as page:
            assert "KPI Sandbox" in page.read().decode()
        with opener.open(f"{handle.url}api/events", timeout=10) as events:
            assert events.readline().startswith(b"retry:")

        handle.sandbox.command("U0ANNA", "leadership", "/kpi win rate this quarter")
        answer = handle.emulator.wait_for(lambda e: e.ephemerals(user="U0ANNA"), timeout=10)[-1]
        assert answer["text"].startswith("Win rate")
        view = handle.sandbox.view("U0ANNA", "leadership")
        assert "Only visible to you" in view["messages_html"]

        # The bot behind the page checks signatures like in production: a forged request changes nothing.
        body = handle.emulator.slash_command_payload("/kpi", "revenue", "U0ANNA", "leadership")
        status, _, _ = post_to_app(handle.bot_events_url, "not-the-secret", body)
        assert status == 401
        assert json.loads(opener.open(f"{handle.url}healthz", timeout=10).read())["ok"] is True
    finally:
        handle.stop()
    # Stopped means the port is free again: the next `kpibot run` can have it at once.
    start_service(settings_for(tmp_path, port), load_config(), clock=lambda: now, out=printed.append).stop()


def test_with_slack_credentials_it_serves_slack_not_the_sandbox(tmp_path):
    """The other branch of `kpibot run`: the bot on PORT for Slack (here the emulator stands in)."""
    from pydantic import SecretStr

    from slack_emulator import post_to_app

    now = datetime(2026, 5, 13, 12, 0, tzinfo=BKK)
    with SlackEmulator(bot_token="xoxb-real") as slack:
        settings = Settings(database_url=f"sqlite:///{tmp_path / 'k.db'}", port=free_port(), _env_file=None,
                            slack_bot_token=SecretStr("xoxb-real"), slack_signing_secret=SecretStr("real-secret"),
                            slack_api_base_url=slack.api_url)
        printed: list[str] = []
        handle = start_service(settings, load_config(), clock=lambda: now, out=printed.append)
        try:
            assert handle.mode == "http" and handle.sandbox is None and handle.emulator is None
            assert handle.bot_events_url == f"http://127.0.0.1:{settings.port}/slack/events"
            assert printed == [f"kpibot: serving Slack at {handle.bot_events_url}"]
            assert handle.scheduler is not None
            body = slack.slash_command_payload("/kpi", "help", "U0ANNA", "C0SALES")
            status, _, _ = post_to_app(handle.bot_events_url, "real-secret", body)
            assert status == 200
            assert slack.wait_for(lambda e: e.ephemerals(user="U0ANNA"), timeout=10)
            with pytest.raises(ServiceError, match=f"port {settings.port} on 127.0.0.1 is already in use"):
                start_service(settings, load_config(), clock=lambda: now, out=printed.append)
        finally:
            handle.stop()
