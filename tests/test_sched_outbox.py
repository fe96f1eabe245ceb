"""Delivery through the outbox: faults from the local Slack emulator, and a sender killed mid-send,
each ending with exactly one message in Slack.

What involves the database's concurrency (claims, two senders, a killed sender, dedup) runs on
SQLite and PostgreSQL; the Slack fault cases, whose database side is the same few statements,
run on SQLite only, to keep the suite quick (they wait out real Retry-After and timeouts)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from kpi_engine.ops import NewMessage, OpsStore
from schedules.outbox import ALERT_EVENT, DIGEST_EVENT, Sender, edit, post, upload
from tests import test_sched_support
from tests.test_sched_support import client_for, keys_in

emu = test_sched_support.emu  # the Slack emulator fixture

CH = "C0DIGEST1"


@pytest.fixture
def lite(tmp_path):
    from kpi_engine.db import open_store

    eng = open_store(f"sqlite:///{tmp_path / 'outbox.db'}")
    yield eng
    eng.dispose()


def _sender(ops, emu, **kw) -> Sender:
    kw.setdefault("timeout", 5)
    kw.setdefault("backoff_base", 0.05)
    return Sender(ops, client_for(emu), **kw)


def _queue(ops: OpsStore, *msgs: NewMessage) -> list[bool]:
    return ops.enqueue(list(msgs), int(time.time()))


def test_a_message_goes_out_once_with_its_key_in_the_metadata(store, emu):
    ops = OpsStore(store)
    m = post("digest:weekly:C0DIGEST1:2026-W47", CH, "hello", None, DIGEST_EVENT, event_payload={"week": "2026-W47"})
    assert _queue(ops, m) == [True]
    assert _queue(ops, m) == [False]  # the same key again: nothing new
    out = _sender(ops, emu).drain(timeout=10)
    assert out.sent == [m.key]
    _sender(ops, emu).drain(timeout=2)  # another sender finds nothing to do
    [msg] = emu.messages(CH)
    assert msg["metadata"] == {"event_type": "kpibot_digest",
                               "event_payload": {"week": "2026-W47", "key": m.key}}
    row = ops.message(m.key)
    assert row.state == "sent" and row.ts == msg["ts"] and row.channel_id == CH


def test_rate_limit_is_waited_out_as_slack_asks(lite, emu):
    ops = OpsStore(lite)
    emu.inject("chat.postMessage", status=429, retry_after=1)
    _queue(ops, post("k429", CH, "x", None, ALERT_EVENT))
    started = time.time()
    _sender(ops, emu).drain(timeout=15)
    calls = emu.calls("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].time - calls[0].time >= 0.95  # Retry-After honoured
    assert len(emu.messages(CH)) == 1 and time.time() - started < 10
    # a 429 means "not posted": no need to look in the channel before trying again
    assert not emu.calls("conversations.history")


def test_server_errors_are_retried_and_checked_before_resending(lite, emu):
    ops = OpsStore(lite)
    emu.inject("chat.postMessage", status=500, times=2)
    _queue(ops, post("k500", CH, "x", None, ALERT_EVENT))
    _sender(ops, emu, uncertain_wait=0.05).drain(timeout=15)
    assert [c.status for c in emu.calls("chat.postMessage")] == [500, 500, 200]
    assert len(emu.calls("conversations.history")) == 2  # a 5xx may have posted: looked first, twice
    assert keys_in(emu.messages(CH)) == ["k500"]


def test_a_timed_out_post_that_did_land_is_found_not_sent_again(lite, emu):
    ops = OpsStore(lite)
    # Slack answers after 0.8 s, but applies the post; the client gives up after 0.3 s
    emu.inject("chat.postMessage", delay=0.8)
    _queue(ops, post("kslow", CH, "x", None, ALERT_EVENT))
    out = _sender(ops, emu, timeout=0.3).drain(timeout=20)
    assert out.found == ["kslow"] and not out.sent
    assert keys_in(emu.messages(CH)) == ["kslow"]
    assert len(emu.calls("chat.postMessage")) == 1
    row = ops.message("kslow")
    assert row.state == "sent" and row.ts == emu.messages(CH)[0]["ts"]


def test_a_timeout_that_did_not_land_is_sent_again_once(lite, emu):
    ops = OpsStore(lite)
    emu.inject("chat.postMessage", status=500, delay=0.6)  # slow, then failed: nothing was posted
    _queue(ops, post("klost", CH, "x", None, ALERT_EVENT))
    _sender(ops, emu, timeout=0.3).drain(timeout=20)
    assert keys_in(emu.messages(CH)) == ["klost"]


def test_thread_replies_uploads_and_edits_follow_their_message(lite, emu):
    ops = OpsStore(lite)
    emu.inject("chat.postMessage", status=429, retry_after=1)  # the parent is held up…
    _queue(ops, post("p", CH, "digest", None, DIGEST_EVENT),
           upload("p:chart", CH, "chart.png", b"\x89PNG-fake", "Chart", "Chart", thread_of="p"),
           post("p:reply", CH, "reply", None, ALERT_EVENT, thread_of="p"))
    _sender(ops, emu).drain(timeout=10)  # …and its thread waits for it, then follows
    [msg] = emu.messages(CH)
    assert [r.get("files", [{}])[0].get("title") for r in msg["replies"]] == ["Chart", None]
    assert msg["replies"][1]["text"] == "reply"
    assert emu.files()[0]["content"] == b"\x89PNG-fake"
    # an edit goes to the same message; of two unsent edits only the newest is sent
    _queue(ops, edit("p:edit:1", "p", CH, "old edit", None))
    ops.supersede_updates("p")
    _queue(ops, edit("p:edit:2", "p", CH, "new edit", None))
    _sender(ops, emu).drain(timeout=10)
    assert emu.messages(CH)[0]["text"] == "new edit"
    assert [c.params["text"] for c in emu.calls("chat.update")] == ["new edit"]


def test_an_upload_that_may_have_happened_is_looked_up_by_its_file_name(lite, emu):
    ops = OpsStore(lite)
    _queue(ops, post("q", CH, "digest", None, DIGEST_EVENT))
    _sender(ops, emu).drain(timeout=10)
    emu.inject("files.completeUploadExternal", delay=0.8)
    _queue(ops, upload("q:chart", CH, "chart.png", b"png", "Chart", "Chart", thread_of="q"))
    _sender(ops, emu, timeout=0.3).drain(timeout=20)
    assert len(emu.messages(CH)[0]["replies"]) == 1
    assert len(emu.calls("files.completeUploadExternal")) == 1


def test_content_slack_rejects_fails_at_once_and_blocks_nothing_else(store, emu):
    ops = OpsStore(store)
    too_many = [{"type": "divider"}] * 51
    _queue(ops, post("bad", CH, "x", too_many, ALERT_EVENT), post("good", CH, "y", None, ALERT_EVENT))
    out = _sender(ops, emu).drain(timeout=10)
    assert out.failed == ["bad"] and out.sent == ["good"]
    assert "invalid_blocks" in ops.message("bad").last_error
    assert keys_in(emu.messages(CH)) == ["good"]


def test_two_senders_at_once_send_each_message_once(store, emu):
    import threading

    ops = OpsStore(store)
    _queue(ops, *[post(f"m{i}", CH, f"m{i}", None, ALERT_EVENT) for i in range(12)])
    emu.inject("chat.postMessage", delay=0.05, times=None)
    senders = [_sender(ops, emu) for _ in range(3)]
    threads = [threading.Thread(target=s.drain, kwargs={"timeout": 20}) for s in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(keys_in(emu.messages(CH))) == sorted(f"m{i}" for i in range(12))


# ------------------------------------------------------------------ a sender killed mid-delivery

_CHILD = textwrap.dedent("""
    import sys
    from slack_sdk import WebClient
    from kpi_engine.db import open_store
    from kpi_engine.ops import OpsStore
    from schedules.outbox import Sender
    store = open_store(sys.argv[1])
    Sender(OpsStore(store), WebClient(token="xoxb-test", base_url=sys.argv[2]), timeout=30).run_pending()
    print("finished", flush=True)
""")


def _wait(pred, timeout=15.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("landed", [True, False], ids=["post-landed", "post-lost"])
def test_a_sender_killed_during_delivery_is_finished_by_the_next_exactly_once(store_url, store, emu, landed):
    ops = OpsStore(store)
    _queue(ops, post("digest:weekly:C0DIGEST1:2026-W48", CH, "digest", None, DIGEST_EVENT))
    # landed: the POST reaches Slack and is applied 1 s later, after the sender is dead;
    # lost: Slack fails it after 1 s, so nothing was posted by the dead sender.
    emu.inject("chat.postMessage", delay=1.0, status=200 if landed else 503)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, store_url, emu.api_url], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert _wait(lambda: ops.message("digest:weekly:C0DIGEST1:2026-W48").state == "sending"), \
            child.stderr.read().decode() if child.poll() is not None else "the child never claimed the message"
        time.sleep(0.4)  # the POST is in flight at the emulator
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    row = ops.message("digest:weekly:C0DIGEST1:2026-W48")
    assert row.state == "sending"  # never marked sent: the crash window
    # the restarted sender: it waits for the dead one's request to land, looks, and acts on what it finds
    out = _sender(ops, emu, timeout=1, uncertain_wait=2).drain(timeout=20)
    assert keys_in(emu.messages(CH)) == ["digest:weekly:C0DIGEST1:2026-W48"]
    assert (out.found, out.sent) == ((["digest:weekly:C0DIGEST1:2026-W48"], []) if landed
                                     else ([], ["digest:weekly:C0DIGEST1:2026-W48"]))
    row = ops.message("digest:weekly:C0DIGEST1:2026-W48")
    assert row.state == "sent" and row.ts == emu.messages(CH)[0]["ts"]


def test_a_channel_given_by_name_is_looked_up_within_slacks_page_limit(lite, emu):
    """conversations.list takes at most 999 a page (1000 is refused by Slack)."""
    ops = OpsStore(lite)
    # an upload needs the channel's id, so the name is looked up first
    _queue(ops, upload("u:chart", "leadership", "chart.png", b"png", "Chart", "Chart"))
    _sender(ops, emu).drain(timeout=30)
    calls = emu.calls("conversations.list")
    assert calls and all(int(c.params["limit"]) <= 999 for c in calls)
