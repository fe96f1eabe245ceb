"""Failures after the ack reach the person and the log with one request id; Slack's 429s are retried."""

from __future__ import annotations

import logging
import re
import threading
import time

import pytest

from bot.blocks import SHARE_ACTION
from tests.test_bot_harness import SALES, message_text

# the service under test, wired to the emulator (fixtures `rig`, `make_rig`)
pytest_plugins = ["tests.test_bot_harness"]
SLACK_ONLY = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # Slack mechanics, not SQL


@SLACK_ONLY
def test_a_failing_response_url_falls_back_to_post_ephemeral_and_logs_the_request_id(rig, caplog):
    caplog.set_level(logging.INFO)
    rig.emu.inject("response_url", status=500, times=None)
    answer = rig.ask("revenue 2026-05")
    assert answer["source"] == "chat.postEphemeral" and "Revenue" in message_text(answer)
    assert re.search(r"request [0-9a-f]{12}: response_url answered 500", caplog.text)


@SLACK_ONLY
def test_an_engine_failure_after_the_ack_reaches_the_user_and_the_log_with_one_request_id(rig, caplog):
    def broken(*a, **kw):
        raise RuntimeError("database went away")

    rig.engine.answer = broken  # type: ignore[method-assign]
    status, elapsed, _ = rig.command("revenue 2026-05")
    assert status == 200 and elapsed < 3.0
    error = rig.emu.wait_for(lambda e: e.ephemerals(user="U1")[0])
    rid = re.search(r"request `([0-9a-f]{12})`", message_text(error)).group(1)
    logged = [r for r in caplog.records if rid in r.getMessage()]
    assert logged and logged[0].levelno == logging.ERROR and logged[0].exc_info


@SLACK_ONLY
def test_429_on_chat_post_message_is_retried_when_sharing(rig):
    answer = rig.ask("revenue 2026-05")
    rig.emu.inject("chat.postMessage", status=429, retry_after=1)
    assert rig.click(answer, SHARE_ACTION)[0] == 200
    shared = rig.emu.wait_for(lambda e: e.messages(SALES)[0], timeout=60)
    assert "<@U1>" in message_text(shared)
    assert [c.status for c in rig.emu.calls("chat.postMessage")] == [429, 200]


@SLACK_ONLY
def test_429_on_file_upload_is_retried(rig):
    rig.emu.inject("files.getUploadURLExternal", status=429, retry_after=1)
    rig.ask("revenue 2026-05 chart")
    files = rig.emu.wait_for(lambda e: [f for f in e.files() if f["completed"]], timeout=60)
    assert len(files) == 1
    assert [c.status for c in rig.emu.calls("files.getUploadURLExternal")] == [429, 200]


@SLACK_ONLY
def test_a_chart_that_cannot_be_uploaded_is_reported_to_the_user(rig):
    rig.emu.inject("files.getUploadURLExternal", status=500, times=None)
    rig.ask("revenue 2026-05 chart")
    note = rig.emu.wait_for(lambda e: [m for m in e.ephemerals(user="U1") if "chart" in m["text"].lower()][0])
    assert re.search(r"request `[0-9a-f]{12}`", note["text"])


@SLACK_ONLY
def test_a_slow_trend_never_delays_the_answer_it_follows_by_replacing_it(rig):
    series = rig.engine.series
    release = threading.Event()

    def slow_series(*a, **kw):
        release.wait(60)  # the trend is held back until the answer has been seen without it
        return series(*a, **kw)

    rig.engine.series = slow_series  # type: ignore[method-assign]
    try:
        answer = rig.ask("revenue 2026-05")
    finally:
        release.set()
    assert "Trend" not in message_text(answer) and "฿5,000" in message_text(answer)
    replaced = rig.emu.wait_for(
        lambda e: [m for m in e.ephemerals(user="U1") if "Trend" in message_text(m)][0], timeout=60)
    assert replaced["ts"] == answer["ts"] and len(rig.emu.ephemerals(user="U1")) == 1


@SLACK_ONLY
def test_a_typo_in_a_filter_value_logs_one_info_line_and_no_traceback(rig, caplog):
    caplog.set_level(logging.DEBUG)
    reply = rig.ask("revenue region:mars")
    assert 'No region called "mars"' in message_text(reply)
    # the sparkline is computed beside the answer and also meets the typo: wait for its line
    deadline = time.monotonic() + 60
    while not [r for r in caplog.records if "trend for" in r.getMessage()] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert [r for r in caplog.records if r.levelno == logging.INFO and "mars" in r.getMessage()]


def test_idempotent_calls_are_retried_after_a_dropped_connection_and_posts_are_not():
    """slack_sdk's connection-error retry is kept beside the 429 one, for calls that cannot land twice."""
    import json
    from collections import Counter
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from bot.app import make_client
    from config.settings import Settings

    hits: Counter[str] = Counter()

    class DropsFirst(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            method = self.path.rstrip("/").rsplit("/", 1)[-1]
            self.rfile.read(int(self.headers.get("content-length") or 0))
            hits[method] += 1
            if hits[method] == 1:
                self.close_connection = True  # no answer at all: the connection drops
                return
            body = json.dumps({"ok": True, "user": {"id": "U1", "locale": "en-US"}, "channel": "C1",
                               "ts": "1.000001"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), DropsFirst)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = make_client(Settings(_env_file=None, slack_bot_token="xoxb-retry-test",
                                      slack_api_base_url=f"http://127.0.0.1:{server.server_address[1]}/api/"))
        assert client.users_info(user="U1")["ok"] and hits["users.info"] == 2
        with pytest.raises(Exception):  # noqa: B017 (slack_sdk raises the connection error as it got it)
            client.chat_postMessage(channel="C1", text="hi")
        assert hits["chat.postMessage"] == 1  # a post is never sent again: it might have landed
    finally:
        server.shutdown()
        server.server_close()
