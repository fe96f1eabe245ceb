"""Failures after the ack reach the person and the log with one request id; Slack's 429s are retried."""

from __future__ import annotations

import logging
import re
import threading

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
