"""Replays, double clicks and where charts go, through signed requests to the running bot (issue 10,
items 4 and 5)."""

from __future__ import annotations

import logging
import time

import pytest

from bot.blocks import SHARE_ACTION
from kpi_engine.ops import OpsStore
from slack_emulator import post_to_app
from tests.test_bot_harness import SALES, SECRET, message_text

pytest_plugins = ["tests.test_bot_harness"]
SLACK_ONLY = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # Slack mechanics, not SQL
PNG_MAGIC = b"\x89PNG"


def _share_body(rig, answer: dict, user: str = "U1") -> bytes:
    value = next(el["value"] for b in answer["blocks"] if b["type"] == "actions" for el in b["elements"]
                 if el["action_id"] == SHARE_ACTION)
    return rig.emu.block_action_payload(SHARE_ACTION, value, user, SALES, message=answer)


def test_the_same_signed_request_three_times_posts_once(rig, caplog):
    caplog.set_level(logging.INFO, logger="bot.replay")
    answer = rig.ask("revenue 2026-05")
    body = _share_body(rig, answer)
    stamp = int(time.time())
    statuses = [post_to_app(rig.events_url, SECRET, body, timestamp=stamp)[0] for _ in range(3)]
    assert statuses == [200, 200, 200]
    shared = rig.emu.wait_for(lambda e: e.messages(SALES)[0], timeout=10)
    assert "<@U1>" in message_text(shared)
    # the replays were turned away before any listener ran: one INFO line each, nothing else happened
    rig.emu.wait_for(lambda e: len([r for r in caplog.records if "replay" in r.getMessage()]) == 2)
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "bot.replay")
    assert len(rig.emu.messages(SALES)) == 1 and len(rig.emu.calls("chat.postMessage")) == 1
    assert rig.emu.ephemerals(user="U1")[1:] == []  # no "already shared" either: the replay did nothing
    # a slash command replayed is not answered twice
    command = rig.emu.slash_command_payload("/kpi", "revenue 2026-04", "U2", SALES)
    for _ in range(3):
        assert post_to_app(rig.events_url, SECRET, command, timestamp=stamp)[0] == 200
    rig.emu.wait_for(lambda e: e.ephemerals(user="U2"), timeout=10)
    time.sleep(0.3)  # the replays had their chance to answer too
    assert len(rig.emu.ephemerals(user="U2")) == 1


def test_replays_are_known_to_every_process_on_the_store_and_pruned(rig):
    # another bot process shares the store: it sees this one's signatures (the table, not memory)
    other = OpsStore(rig.engine.store)
    now = int(time.time())
    assert other.first_sight("v0=" + "a" * 64, now, now) is True
    assert other.first_sight("v0=" + "a" * 64, now, now) is False
    assert other.first_sight("v0=" + "a" * 64, now + 1, now) is True  # another timestamp: another request
    assert other.prune_seen(now + 2) >= 2
    assert other.first_sight("v0=" + "a" * 64, now, now) is True


def test_share_twice_posts_once_and_says_who_shared_it_where(rig):
    answer = rig.ask("revenue 2026-05")
    assert rig.click(answer, SHARE_ACTION)[0] == 200
    shared = rig.emu.wait_for(lambda e: e.messages(SALES)[0], timeout=10)
    assert f"shared by <@U1> in <#{SALES}>" in message_text(shared)
    assert rig.click(answer, SHARE_ACTION)[0] == 200  # a second press: a new request, same answer
    note = rig.emu.wait_for(lambda e: [m for m in e.ephemerals(user="U1") if "Already shared" in m["text"]][0],
                            timeout=10)
    assert note["text"].startswith(f"Already shared in <#{SALES}> by <@U1> at ")
    assert len(rig.emu.messages(SALES)) == 1
    # another answer (the same question asked again) is another share
    again = rig.ask("revenue 2026-05")
    assert rig.click(again, SHARE_ACTION)[0] == 200
    rig.emu.wait_for(lambda e: len(e.messages(SALES)) == 2, timeout=10)


@SLACK_ONLY
def test_a_failed_share_can_be_pressed_again(rig):
    answer = rig.ask("revenue 2026-05")
    rig.emu.inject("chat.postMessage", status=500, times=None)
    rig.emu.inject("response_url", status=500, times=None)
    rig.click(answer, SHARE_ACTION)
    rig.emu.wait_for(lambda e: [m for m in e.ephemerals(user="U1") if "request `" in m["text"]], timeout=15)
    rig.emu.clear_faults()
    assert rig.click(answer, SHARE_ACTION)[0] == 200
    rig.emu.wait_for(lambda e: len(e.messages(SALES)) == 1, timeout=10)


def test_a_private_charts_never_reaches_the_channel_until_shared(rig):
    answer = rig.ask("revenue chart", user="U1")
    files = rig.emu.wait_for(lambda e: [f for f in e.files() if f["completed"]], timeout=15)
    assert files[0]["content"].startswith(PNG_MAGIC)
    assert files[0]["channels"] == ["D1"]  # the bot's DM with U1 (conversations.open)
    assert rig.emu.messages(SALES) == []
    assert all(SALES not in c.params.get("channel_id", "") and SALES not in c.params.get("channels", "")
               for c in rig.emu.calls("files.completeUploadExternal"))
    note = rig.emu.wait_for(lambda e: [m for m in e.ephemerals(user="U1") if "direct messages" in m["text"]][0])
    assert note["channel"] == SALES
    [dm] = rig.emu.messages("D1")
    assert dm["files"][0]["id"] == files[0]["id"]
    # shared: the answer, then its chart, in the channel for everyone
    assert rig.click(answer, SHARE_ACTION)[0] == 200
    rig.emu.wait_for(lambda e: len([f for f in e.files() if f["completed"]]) == 2, timeout=15)
    posted = rig.emu.wait_for(lambda e: len(e.messages(SALES)) == 2 and e.messages(SALES), timeout=10)
    assert "shared by <@U1>" in message_text(posted[0]) and posted[1]["files"]
    assert rig.emu.files()[1]["channels"] == [SALES]
