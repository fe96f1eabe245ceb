"""What an operator sees: /metrics, JSON logs with an access log, and `kpibot outbox list|retry|purge`."""

from __future__ import annotations

import io
import json
import logging
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console

from kpi_engine.ops import OpsStore
from kpibot import ops_cmd
from schedules.outbox import ALERT_EVENT, DIGEST_EVENT, Sender, edit, post, upload
from telemetry.logs import JsonFormatter, configure, user_hash
from tests import test_sched_support
from tests.test_sched_support import client_for, config

emu = test_sched_support.emu
# the service under test, wired to the emulator (fixtures `rig`, `make_rig`)
pytest_plugins = ["tests.test_bot_harness"]


def _scrape(url: str) -> dict[str, dict[tuple, float]]:
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url + "/metrics", timeout=5) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
        body = resp.read().decode()
    out: dict[str, dict[tuple, float]] = {}
    for fam in text_string_to_metric_families(body):
        for s in fam.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def _value(m: dict, name: str, **labels) -> float:
    return m.get(name, {}).get(tuple(sorted(labels.items())), 0.0)


def test_metrics_count_commands_time_acks_and_answers_by_kpi_and_read_the_store(rig):
    before = _scrape(rig.handle.url)
    ops = OpsStore(rig.engine.store)
    now = int(time.time())
    ops.enqueue([post("digest:x:C0:2026-W01", "C0", "hi", None, DIGEST_EVENT)], now - 120)
    rig.ask("win rate 2026-Q2")
    rig.ask("blorp quux")  # not understood (a clear typo like "revnue" is read, and said)
    m = _scrape(rig.handle.url)
    assert _value(m, "kpibot_commands_total", command="/kpi") - _value(before, "kpibot_commands_total",
                                                                        command="/kpi") == 2
    assert _value(m, "kpibot_ack_seconds_count", kind="command", kpi="win_rate") >= 1
    assert _value(m, "kpibot_ack_seconds_count", kind="command", kpi="unknown") >= 1
    assert _value(m, "kpibot_answer_seconds_count", kpi="win_rate", result="answer") >= 1
    assert _value(m, "kpibot_store_up") == 1
    assert _value(m, "kpibot_outbox_messages", state="pending") == 1
    assert 110 <= _value(m, "kpibot_outbox_oldest_pending_age_seconds") < 600
    assert "kpibot_answer_queue_depth" in m and "kpibot_db_pool_connections" in m
    assert _value(m, "kpibot_data_fresh_to_timestamp_seconds", table="opportunities") > 1.7e9  # the fixture import
    assert _value(m, "kpibot_http_request_seconds_count", method="POST", route="/slack/events", status="200") >= 2


def test_json_logs_carry_request_id_user_hash_kpi_and_latency_with_an_access_log(rig):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)


    def answered() -> list[dict]:
        lines = [json.loads(x) for x in stream.getvalue().splitlines() if x.strip()]
        return [x for x in lines if x["logger"] == "bot.flows" and x.get("kpi") == "win_rate"]

    try:
        rig.ask("win rate 2026-Q2", user="U2")
        deadline = time.time() + 5  # the line is written just after the answer reached Slack
        while not answered() and time.time() < deadline:
            time.sleep(0.01)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    lines = [json.loads(x) for x in stream.getvalue().splitlines() if x.strip()]
    [answer] = answered()
    assert answer["user_hash"] == user_hash("U2") and answer["user_hash"] != "U2"
    assert "U2" not in json.dumps(answer)  # the raw id is nowhere in the line
    assert answer["latency_ms"] > 0 and answer["level"] == "INFO"
    [access] = [x for x in lines if x["logger"] == "kpibot.access" and x.get("path") == "/slack/events"]
    assert access["status"] == 200 and access["method"] == "POST" and access["latency_ms"] >= 0
    assert access["request_id"] == answer["request_id"]  # one id for the HTTP request and its answer


def test_log_level_and_format_come_from_the_environment(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setenv("KPIBOT_LOG_LEVEL", "info")
    monkeypatch.setenv("KPIBOT_LOG_FORMAT", "json")
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure(stream=stream)
        logging.getLogger("x").debug("hidden")
        logging.getLogger("x").info("shown", extra={"kpi": "cac"})
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    [line] = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert line["msg"] == "shown" and line["kpi"] == "cac" and line["logger"] == "x"


# ---------------------------------------------------------------------- kpibot outbox


def _failed(ops: OpsStore, key: str, channel: str, error: str) -> None:
    ops.enqueue([post(key, channel, "x", None, ALERT_EVENT)], int(time.time()) - 60)
    row = ops.message(key)
    assert ops.claim(row, "test", int(time.time()))
    ops.mark_failed(row.id, "test", error)


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=200, highlight=False), buf


def test_outbox_list_shows_failed_and_pending_with_why_and_when(store):
    ops = OpsStore(store)
    _failed(ops, "alert:a:*:1:firing", "C0GONE", "Slack refused it: channel_not_found")
    ops.enqueue([post("digest:w:C0:2026-W01", "C0", "x", None, DIGEST_EVENT)], int(time.time()))
    out, buf = _console()
    assert ops_cmd.outbox_list(store, config(), ["failed", "pending", "sending"], 50, False, out) == 0
    text = buf.getvalue()
    assert "outbox: pending 1, sending 0, sent 0, failed 1" in text
    assert "[failed] post → C0GONE  alert:a:*:1:firing" in text and "why: Slack refused it: channel_not_found" in text
    assert "[pending] post → C0  digest:w:C0:2026-W01" in text
    with pytest.raises(ops_cmd.OpsInputError, match="--state 'bogus'"):
        ops_cmd.outbox_list(store, config(), ["bogus"], 50, False, out)


def test_outbox_retry_queues_a_failed_message_with_its_thread_and_delivers_it(store, emu):
    ops = OpsStore(store)
    _failed(ops, "alert:a:*:1:firing", "C0ALERTS", "Slack refused it: not_in_channel")
    ops.enqueue([post("alert:a:*:1:resolved", "C0ALERTS", "ok", None, ALERT_EVENT, thread_of="alert:a:*:1:firing")],
                int(time.time()))
    Sender(ops, client_for(emu)).run_pending()  # the reply fails: its message was never delivered
    assert ops.message("alert:a:*:1:resolved").state == "failed"
    out, buf = _console()
    with pytest.raises(ops_cmd.OpsInputError, match="no outbox message"):
        ops_cmd.outbox_retry(store, config(), "nope", False, int(time.time()), lambda: client_for(emu), out)
    code = ops_cmd.outbox_retry(store, config(), str(ops.message("alert:a:*:1:firing").id), False,
                                int(time.time()), lambda: client_for(emu), out)
    assert code == 0, buf.getvalue()
    assert ops.message("alert:a:*:1:firing").state == "sent" and ops.message("alert:a:*:1:resolved").state == "sent"
    [msg] = emu.messages("C0ALERTS")
    assert len(msg["replies"]) == 1
    with pytest.raises(ops_cmd.OpsInputError, match="not failed"):
        ops_cmd.outbox_retry(store, config(), "alert:a:*:1:firing", False, int(time.time()), lambda: None, out)


def test_outbox_purge_frees_old_content_and_keeps_what_guards_against_resends(store, emu):
    ops = OpsStore(store)
    d = "digest:w:C0DIGEST:2026-W01"
    ops.enqueue([post(d, "C0DIGEST", "digest", [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 500}}],
                      DIGEST_EVENT),
                 upload(f"{d}:chart", "C0DIGEST", "chart.png", b"\x89PNG" + b"0" * 20_000, "t", "t", thread_of=d),
                 edit(f"{d}:edit:1", d, "C0DIGEST", "digest v2", None)], int(time.time()))
    Sender(ops, client_for(emu)).drain(timeout=10)
    assert {m.state for m in ops.messages()} == {"sent"}
    out, buf = _console()
    ops_cmd.outbox_purge(store, config(), 30, False, int(time.time()), out)
    assert "0 deleted" in buf.getvalue() and len(ops.messages()) == 3  # nothing is 30 days old yet
    ops_cmd.outbox_purge(store, config(), 1, True, int(time.time()) + 2 * 86400, out)
    assert len(ops.messages()) == 3  # a dry run
    ops_cmd.outbox_purge(store, config(), 1, False, int(time.time()) + 2 * 86400, out)
    assert "2 deleted" in buf.getvalue() and "1 emptied" in buf.getvalue()
    [row] = ops.messages()
    assert row.key == d and row.payload == {} and row.ts  # the receipt
    assert ops.existing_keys([d]) == {d}  # a rerun of that week's digest still finds it sent
