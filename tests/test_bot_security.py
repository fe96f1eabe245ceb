"""Bad requests and bad input over real HTTP: 401 without side effects, and any text gets an answer."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slack_emulator import post_to_app
from tests.test_bot_harness import SECRET, TOKEN, message_text

# the service under test, wired to the emulator (fixtures `rig`, `make_rig`)
pytest_plugins = ["tests.test_bot_harness"]
SLACK_ONLY = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # Slack mechanics, not SQL


def _no_traffic_after(rig, calls_before: int) -> None:
    rig.barrier(user="U2")  # anything the refused requests set off would have been taken up by now
    new = rig.emu.calls()[calls_before:]
    assert not [c.method for c in new if '"U1"' in json.dumps(c.params)]
    assert rig.emu.ephemerals(user="U1") == []


@SLACK_ONLY
def test_forged_stale_or_unsigned_requests_get_401_and_do_nothing(rig):
    calls = len(rig.emu.calls())
    body = rig.emu.slash_command_payload("/kpi", "revenue", "U1", "C0SALES")
    assert post_to_app(rig.events_url, "not-the-secret", body)[0] == 401
    assert post_to_app(rig.events_url, SECRET, body, timestamp=int(time.time()) - 6 * 60)[0] == 401
    # signed for one body, sent with another
    status, _, _ = post_to_app(rig.events_url, SECRET, body,
                               headers={"X-Slack-Signature": "v0=" + "0" * 64})
    assert status == 401
    request = urllib.request.Request(rig.events_url, data=body, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=5)
        raise AssertionError("an unsigned request was accepted")
    except urllib.error.HTTPError as exc:
        assert exc.code == 401
    # undecodable bytes are a bad signature, not a server error
    assert post_to_app(rig.events_url, "x", b"\xff\xfe" * 10, "application/x-www-form-urlencoded")[0] == 401
    _no_traffic_after(rig, calls)


SPECIAL = st.sampled_from([
    "'; DROP TABLE opportunities; --", "revenue' OR 1=1 --", "rep:'; DELETE FROM reps; --",
    "รายได้ เดือนนี้ 🚀🔥", "💰💰💰", "\x00\x01\x02 revenue \x1b[31m", "a" * 5000, "ก" * 5000,
    "win rate by rep rep:@U1 team:\u200b", "&lt;script&gt;alert(1)&lt;/script&gt;", "<@U2|nok>", "\ufeff\u202e",
    "revenue 9999-99", "revenue 2030", "revenue last 100000 days", "chart chart chart", "/kpi /kpi",
])
TEXT = st.one_of(SPECIAL, st.text(max_size=5000), st.text(alphabet=st.sampled_from(list("revnu winratby 2026-Q")),
                                                          max_size=60))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
def test_any_text_gets_an_answer_message_and_never_a_5xx(rig, text):
    before = len(rig.emu.ephemerals(user="U1"))
    status, elapsed, _ = rig.command(text)
    assert status == 200 and elapsed < 3.0
    reply = rig.emu.wait_for(lambda e: e.ephemerals(user="U1")[before:][:1][0], timeout=60)
    assert message_text(reply).strip()
    assert "request `" not in message_text(reply), "an unexpected error instead of an answer"


@SLACK_ONLY
def test_log_lines_never_carry_tokens(rig, caplog):
    caplog.set_level(logging.DEBUG)
    rig.ask("revenue chart")
    rig.emu.wait_for(lambda e: e.files())
    assert caplog.records
    assert "Authorization" in caplog.text  # Web API requests were logged, headers and all
    assert TOKEN not in caplog.text and SECRET not in caplog.text
