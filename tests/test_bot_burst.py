"""Acks within Slack's 3 seconds whatever the answers are doing: signed requests to the running bot.

The answer work is held at a gate (the engine's answer waits for an Event), which is what a burst of
heavy questions looks like from the ack's side: every worker busy, questions piling up.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.workers import Admission
from config.app_config import BotConfig
from tests.test_bot_harness import message_text

# the service under test, wired to the emulator (fixtures `rig`, `make_rig`)
pytest_plugins = ["tests.test_bot_harness"]
pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # Slack mechanics, not SQL

ACK_LIMIT = 3.0  # Slack's; the acks here never wait for a worker, so they are far below it


class Gate:
    """Holds every engine answer until opened; counts the answers that reached it."""

    def __init__(self, rig):
        self.open = threading.Event()
        self.entered = threading.Semaphore(0)
        self._answer = rig.engine.answer
        rig.engine.answer = self  # type: ignore[method-assign]

    def __call__(self, *a, **kw):
        self.entered.release()
        assert self.open.wait(120), "the test never opened the gate"
        return self._answer(*a, **kw)

    def wait_entered(self, n: int = 1) -> None:
        for _ in range(n):
            assert self.entered.acquire(timeout=60), "no answer reached the engine"


def _ack_text(raw: bytes) -> str:
    import json

    return json.loads(raw).get("text", "") if raw.strip() else ""


def test_a_burst_with_every_worker_busy_is_acked_at_once_and_all_answered(make_rig):
    rig = make_rig(bot=BotConfig(answer_workers=2, answer_queue=64, working_notice_after=2))
    gate = Gate(rig)
    users = ["U1", "U2", "UMGR", "UHEAD"]
    questions = [(users[i % 4], q) for i in range(5) for q in ("revenue by rep 2026-05", "win rate by team 2026-Q2",
                                                                 "revenue 2026-05 chart", "deals closed by region 2026")]
    with ThreadPoolExecutor(len(questions)) as pool:
        acks = list(pool.map(lambda uq: rig.command(uq[1], user=uq[0]), questions))
    # every ack came back while both workers were still held at the gate
    assert not gate.open.is_set()
    assert [s for s, _, _ in acks] == [200] * len(questions)
    assert max(t for _, t, _ in acks) < ACK_LIMIT
    told = [_ack_text(raw) for _, _, raw in acks]
    # the two running and the two first waiting got a plain ack; the rest were told to wait, at once
    assert sum("Working on it" in t for t in told) >= len(questions) - 4
    assert all(t == "" or "Working on it" in t for t in told)
    gate.open.set()
    answered = rig.emu.wait_for(lambda e: len(e.ephemerals()) >= len(questions) and e.ephemerals(), timeout=120)
    assert len(answered) == len(questions)
    assert not [m for m in answered if "request `" in message_text(m)], "an error instead of an answer"


def test_a_full_queue_sheds_with_a_clear_message_in_the_askers_language(make_rig, caplog):
    caplog.set_level(logging.INFO)
    rig = make_rig(bot=BotConfig(answer_workers=1, answer_queue=2, working_notice_after=5))
    gate = Gate(rig)
    assert rig.command("revenue 2026-05")[0] == 200
    gate.wait_entered()  # the one worker is busy with it
    for _ in range(2):  # the queue's two places
        status, _, raw = rig.command("revenue 2026-04")
        assert status == 200 and _ack_text(raw) == ""
    status, elapsed, raw = rig.command("revenue 2026-03")
    assert status == 200 and elapsed < ACK_LIMIT
    assert "too many questions" in _ack_text(raw)
    status, _, raw = rig.command("รายได้ เดือนนี้", user="UTHAI")
    assert status == 200 and "ขออภัย" in _ack_text(raw)
    shed = [r for r in caplog.records if "shed" in r.getMessage()]
    assert len(shed) == 2 and all(r.levelno == logging.WARNING and not r.exc_info for r in shed)
    gate.open.set()
    answered = rig.emu.wait_for(lambda e: len(e.ephemerals()) >= 3 and e.ephemerals(), timeout=60)
    rig.barrier(user="U2")  # anything else queued would have been taken up by now
    assert len(rig.emu.ephemerals(user="U1")) == 3 == len(answered)
    assert rig.emu.ephemerals(user="UTHAI") == []  # the shed question was not answered later


def test_a_hung_response_url_delays_no_other_ack_or_answer(make_rig):
    rig = make_rig()
    hang = rig.emu.inject("response_url", delay=25, times=1)  # the first answer's post hangs
    assert rig.command("revenue 2026-05", user="U2")[0] == 200
    deadline = time.monotonic() + 60
    while hang.times and time.monotonic() < deadline:  # the emulator has taken the fault: the post hangs now
        time.sleep(0.02)
    assert hang.times == 0
    for month in ("2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"):
        answer = rig.ask(f"revenue {month}", user="U1")  # asserts the ack was 200 within 3 s
        assert "Revenue" in message_text(answer)
    # the hung post timed out (outbound calls have a timeout) and the answer went by chat.postEphemeral
    late = rig.emu.wait_for(lambda e: e.ephemerals(user="U2")[0], timeout=90)
    assert late["source"] == "chat.postEphemeral"


def test_stopping_drains_the_accepted_answers(make_rig):
    rig = make_rig(bot=BotConfig(answer_workers=1, answer_queue=8, working_notice_after=8))
    gate = Gate(rig)
    for month in ("2026-03", "2026-04", "2026-05"):
        assert rig.command(f"revenue {month}")[0] == 200
    gate.wait_entered()
    stopper = threading.Thread(target=rig.handle.stop)
    stopper.start()
    while not rig.handle.readiness.draining:  # stopping has begun (/readyz answers 503)
        time.sleep(0.01)
    gate.open.set()
    stopper.join(60)
    assert not stopper.is_alive()
    assert len(rig.emu.ephemerals(user="U1")) == 3  # every acknowledged question was answered before the stop
    assert rig.handle.workers.answers.submit(print) is Admission.REJECTED  # refuses, never blocks


def test_queue_depth_is_a_prometheus_gauge(make_rig):
    import urllib.request

    rig = make_rig(bot=BotConfig(answer_workers=1, answer_queue=8, working_notice_after=8))
    gate = Gate(rig)
    for month in ("2026-03", "2026-04", "2026-05"):
        assert rig.command(f"revenue {month}")[0] == 200
    gate.wait_entered()
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(rig.handle.url + "/metrics",
                                                                           timeout=30) as resp:
        text = resp.read().decode()
    gate.open.set()
    depth = next(line for line in text.splitlines() if line.startswith("kpibot_answer_queue_depth "))
    assert float(depth.split()[1]) == 2.0
