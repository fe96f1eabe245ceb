"""Delivery the CLI can rely on: a rerun of `kpibot digest` / `kpibot alerts` resumes what Slack
refused before; a run that ends with messages pending says so and exits 3; a post Slack applies
after it was sent again is found later and its second copy deleted (and recorded)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kpi_engine.db import open_store
from kpi_engine.engine import KpiEngine
from kpi_engine.ops import OpsStore
from schedules import cli
from schedules.outbox import ALERT_EVENT, DIGEST_EVENT, Sender, post, upload
from tests import test_sched_support
from tests.test_sched_support import ANCHOR, at, client_for, config, demo_store, keys_in

emu = test_sched_support.emu  # the Slack emulator fixture
ROOT = Path(__file__).resolve().parents[1]
WEEK_KEY = "digest:weekly:C0LEAD:2026-W47"


def _digest_config():
    return config(digests=[{"kpis": ["revenue", "win_rate"], "channel": "C0LEAD"}],
                  scheduler={"slack_timeout_seconds": 2})


def test_a_digest_rerun_resumes_what_slack_refused_instead_of_calling_it_a_duplicate(store, emu):
    demo_store(store)
    cfg = _digest_config()
    eng = KpiEngine(store, cfg)
    emu.inject("chat.postMessage", status=500, times=None)

    first = cli.digest(eng, store, cfg, lambda: client_for(emu), as_of=at("2026-11-23T09:00"), timeout=1.5)
    [item] = first["digests"]
    assert item["status"] == "pending" and item["delivery"][WEEK_KEY] == "pending"
    line = cli.pending_line(first)
    assert line.startswith(f"2 messages not delivered yet, still pending ({WEEK_KEY}: Slack answered 500 "
                           "internal_error); run the same command again to resume them")
    assert emu.messages("C0LEAD") == []

    emu.clear_faults()
    again = cli.digest(eng, store, cfg, lambda: client_for(emu), as_of=at("2026-11-24T10:00"), timeout=60)
    [item] = again["digests"]
    assert item["status"] == "sent" and item["resumed"] is True
    assert set(item["delivery"].values()) == {"sent"} and cli.pending_line(again) is None
    assert keys_in(emu.messages("C0LEAD")) == [WEEK_KEY]
    assert emu.messages("C0LEAD")[0]["replies"][0]["files"][0]["name"].endswith(".png")  # the chart followed
    assert "resumed" in cli.format_preview(again)

    # delivered: now a rerun is the duplicate it says it is, and sends nothing
    third = cli.digest(eng, store, cfg, lambda: client_for(emu), as_of=at("2026-11-24T10:00"))
    assert third["digests"][0]["status"] == "duplicate"
    assert len(emu.calls("chat.postMessage")) == len([c for c in emu.calls("chat.postMessage") if c.status == 500]) + 1


def test_an_alerts_rerun_resumes_the_messages_an_earlier_run_left_pending(store, emu):
    demo_store(store)
    cfg = config(alerts={"channel": "C0AL"}, scheduler={"slack_timeout_seconds": 2})
    eng = KpiEngine(store, cfg)
    when = at(f"{ANCHOR.isoformat()}T08:00")
    emu.inject("chat.postMessage", status=503, times=None)
    first = cli.alerts(eng, store, cfg, lambda: client_for(emu), as_of=when, timeout=1.5)
    assert first["transitions"] and set(first["delivery"].values()) == {"pending"}
    assert cli.pending_line(first).startswith(f"{len(first['delivery'])} messages not delivered yet, still pending")

    emu.clear_faults()
    again = cli.alerts(eng, store, cfg, lambda: client_for(emu), as_of=when, timeout=60)
    assert again["transitions"] == []  # the states moved the first time; only the delivery was owed
    assert sorted(again["resumed"]) == sorted(first["delivery"])
    assert set(again["delivery"].values()) == {"sent"} and cli.pending_line(again) is None
    assert sorted(keys_in(emu.messages("C0AL"))) == sorted(first["delivery"])


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kpibot.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200", **env}, timeout=180)


def test_kpibot_digest_exits_3_in_one_line_while_deliveries_are_pending_then_0_once_resumed(tmp_path, emu):
    db = tmp_path / "kpibot.db"
    demo_store(open_store(f"sqlite:///{db}"))
    toml = tmp_path / "kpibot.toml"
    toml.write_text('[scheduler]\nslack_timeout_seconds = 2\n\n[[digests]]\nkpis = ["revenue"]\nchannel = "C0LEAD"\n')
    env = {"DATABASE_URL": f"sqlite:///{db}", "KPIBOT_CONFIG": str(toml), "SLACK_BOT_TOKEN": "xoxb-test",
           "SLACK_API_BASE_URL": emu.api_url, "SLACK_SIGNING_SECRET": "x"}
    emu.inject("chat.postMessage", status=500, times=None)
    args = ["digest", "--as-of", "2026-11-23T09:00", "--wait", "1"]
    done = _cli(args, env)
    assert done.returncode == 3, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("kpibot: 2 messages not delivered yet, still pending") and "Traceback" not in done.stderr
    assert "[pending] weekly" in done.stdout

    emu.clear_faults()
    done = _cli([*args[:-1], "20"], env)
    assert done.returncode == 0, done.stderr
    assert "[sent] weekly" in done.stdout and "resumed" in done.stdout
    assert keys_in(emu.messages("C0LEAD")) == [WEEK_KEY]


# ------------------------------------------------------------------ a post applied after it was resent


def _until(check, timeout: float = 20.0, step=None):
    """Poll `check` (running `step` between tries) until it is truthy; the event, not a fixed sleep."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got or time.monotonic() > deadline:
            return got
        if step is not None:
            step()
        time.sleep(0.05)


@pytest.mark.parametrize("kind", ["post", "thread reply"])
def test_a_post_slack_applies_after_it_was_resent_is_deleted_and_recorded(store, emu, kind):
    ops = OpsStore(store)
    ch = "C0DIGEST1"
    msgs = [post("p", ch, "digest", None, DIGEST_EVENT)]
    key = "p"
    if kind == "thread reply":
        msgs.append(post("p:reply", ch, "reply", None, ALERT_EVENT, thread_of="p"))
        key = "p:reply"
    sender = Sender(ops, client_for(emu), timeout=0.3, backoff_base=0.05, uncertain_wait=0.4,
                    verify_after=(0.5, 3.0, 6.0))
    if kind == "thread reply":
        ops.enqueue(msgs[:1], int(time.time()))
        sender.drain(timeout=10)
        ops.enqueue(msgs[1:], int(time.time()))
    else:
        ops.enqueue(msgs, int(time.time()))
    # Slack takes the first attempt but applies it 2 s later, long after the lookup found nothing
    emu.inject("chat.postMessage", delay=2.0)
    out = sender.drain(timeout=10)
    assert out.sent == [key]  # looked up, not found, sent again

    def copies():
        return [m for m in emu.messages(ch) for m in [m, *m.get("replies", [])]
                if ((m.get("metadata") or {}).get("event_payload") or {}).get("key") == key]

    assert len(_until(lambda: len(copies()) == 2 and copies())) == 2  # the late one landed: twice in Slack
    kept = ops.message(key).ts
    late = max(c["ts"] for c in copies())
    assert kept < late

    checks = []
    assert _until(lambda: len(copies()) == 1, step=lambda: checks.append(sender.run_checks()))
    assert [c["ts"] for c in copies()] == [kept]  # the later copy went, the recorded one stayed
    assert [c.params["ts"] for c in emu.calls("chat.delete")] == [late]
    record = ops.message(f"{key}:dedupe:{late.replace('.', '-')}")
    assert record.kind == "delete" and record.state == "sent" and record.ts == late
    assert record.payload == {"of": key, "ts": late, "file": None, "kept": kept}
    assert any(o.deleted == [key] for o in checks)
    # the last check finds one copy and closes the verification
    assert _until(lambda: ops.message(f"{key}:verify").state == "sent", step=sender.run_checks, timeout=15)
    assert len(emu.calls("chat.delete")) == 1


def test_an_upload_slack_completes_after_it_was_resent_is_deleted(store, emu):
    ops = OpsStore(store)
    ch = "C0DIGEST1"
    ops.enqueue([post("q", ch, "digest", None, DIGEST_EVENT)], int(time.time()))
    sender = Sender(ops, client_for(emu), timeout=0.3, backoff_base=0.05, uncertain_wait=0.4,
                    verify_after=(0.5, 3.0))
    sender.drain(timeout=10)
    ops.enqueue([upload("q:chart", ch, "chart.png", b"\x89PNG-fake", "Chart", "Chart", thread_of="q")],
                int(time.time()))
    emu.inject("files.completeUploadExternal", delay=2.0)
    sender.drain(timeout=10)

    def shared():
        return [f for f in emu.files() if f["completed"]]

    assert len(_until(lambda: len(shared()) == 2 and shared())) == 2
    kept = ops.message("q:chart").ts
    assert _until(lambda: len(shared()) == 1, step=sender.run_checks)
    assert [f["id"] for f in shared()] == [kept]
    [thread] = emu.messages(ch)
    assert [r["files"][0]["id"] for r in thread["replies"]] == [kept]
