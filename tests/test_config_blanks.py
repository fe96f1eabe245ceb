"""Settings and config values left blank or mistyped, and a Slack token Slack refuses: each is named
where it is set, at load or before anything is queued (the CLI side is in tests/test_faults3.py)."""

from __future__ import annotations

import time

import pytest

from config.app_config import ConfigError
from kpi_engine.config_check import load_config


def _load(tmp_path, body: str):
    p = tmp_path / "c.toml"
    p.write_text(body, encoding="utf-8")
    return load_config(p)


@pytest.mark.parametrize(("body", "where"), [
    ('[slack]\ndigest_channel = ""\n', "slack.digest_channel"),
    ('[slack]\nalerts_channel = " "\n', "slack.alerts_channel"),
    ('[slack]\nadmin_channel = ""\n', "slack.admin_channel"),
    ('[[digests]]\nchannel = ""\n', "digests.0.channel"),
    ('[alerts]\nchannel = ""\n', "alerts.channel"),
    ('[[alerts.rules]]\nid = "r"\nkpi = "revenue"\nchannel = ""\nconditions = [{type = "threshold", above = 1}]\n',
     "alerts.rules.0.channel"),
    ('currency = ""\n', "currency"),
    ('currency = "  "\n', "currency"),
])
def test_a_blank_channel_or_currency_is_refused_naming_the_key(tmp_path, body, where):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, body)
    msg = str(err.value)
    assert msg.startswith(f"{tmp_path / 'c.toml'}: {where}: is empty"), msg
    assert "Value error" not in msg


def test_a_channel_left_out_still_falls_back(tmp_path):
    cfg = _load(tmp_path, '[[digests]]\nkpis = ["revenue"]\n')
    assert cfg.digests[0].channel is None and cfg.slack.digest_channel == "leadership"


@pytest.mark.parametrize("var", ["KPIBOT_CONFIG", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"])
@pytest.mark.parametrize("value", ["", "  "])
def test_a_blank_setting_is_unset(tmp_path, monkeypatch, var, value):
    from config.settings import Settings

    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv(var, value)
    assert getattr(Settings(), var.lower()) is None


@pytest.mark.parametrize(("mapping", "says"), [
    ("mavn", "mapping 'mavn' is not a shipped mapping (did you mean 'maven'?)"),
    ("cdnw", "mapping 'cdnw' is not a shipped mapping (did you mean 'cdnow'?)"),
    ("salesforce", "mapping 'salesforce' is not a shipped mapping; give a mapping file's path or one of cdnow"),
    ("/nowhere/crm.toml", "mapping file /nowhere/crm.toml not found"),
    ("", "mapping is empty"),
])
def test_a_source_mapping_that_names_nothing_fails_the_config_check(tmp_path, mapping, says):
    body = f'[[sources]]\nname = "drop"\nkind = "folder"\npath = "{tmp_path}"\nmapping = "{mapping}"\n'
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, body)
    assert f"c.toml: sources.0.mapping: source drop: {says}" in str(err.value), str(err.value)


@pytest.mark.parametrize("mapping", ["maven", "maven_crm", "cdnow", "crm/mapping.toml", "crm.toml"])
def test_a_shipped_mapping_or_a_relative_path_passes_the_config_check(tmp_path, mapping):
    # a relative path is read from the sync's working folder, which need not be this command's
    body = f'[[sources]]\nname = "drop"\nkind = "folder"\npath = "{tmp_path}"\nmapping = "{mapping}"\n'
    assert _load(tmp_path, body).sources[0].mapping == mapping


def test_a_demo_scale_past_the_bound_is_refused_quoting_what_was_typed():
    from kpi_engine.demo import MAX_OPPORTUNITIES, DemoError, opportunity_count

    assert opportunity_count(str(MAX_OPPORTUNITIES)) == MAX_OPPORTUNITIES
    for bad in ("1e15", MAX_OPPORTUNITIES + 1, "1e308"):
        with pytest.raises(DemoError, match=f"scale {bad!r}: at most 10,000,000 opportunities"):
            opportunity_count(bad)


def test_an_empty_as_of_is_refused_and_a_missing_one_is_not():
    from kpibot.ask_cmd import check_as_of
    from kpibot.guard import UserError

    check_as_of(None)
    check_as_of("2026-05-04")
    with pytest.raises(UserError, match='--as-of "" is empty'):
        check_as_of("")


def test_a_token_slack_refuses_names_the_setting_and_stops_the_drain(tmp_path):
    from slack_sdk import WebClient

    from kpi_engine.db import open_store
    from kpi_engine.ops import OpsStore
    from schedules.outbox import ALERT_EVENT, Sender, post
    from slack_emulator import SlackEmulator

    store = open_store(f"sqlite:///{tmp_path / 'outbox.db'}")
    ops = OpsStore(store)
    ops.enqueue([post("a", "C0ALERTS", "x", None, ALERT_EVENT), post("b", "C0ALERTS", "y", None, ALERT_EVENT)],
                int(time.time()))
    with SlackEmulator(bot_token="xoxb-the-right-one") as emu:
        sender = Sender(ops, WebClient(token="xoxb-WRONG-1234", base_url=emu.api_url), timeout=5,
                        backoff_base=0.05)
        started = time.time()
        out = sender.drain(timeout=30)
        # the drain ends at the refusal, not at its timeout; the second message is not even tried
        assert time.time() - started < 10 and len(emu.calls("chat.postMessage")) == 1
    store.dispose()
    assert sender.token_refused == "invalid_auth" and out.retried == ["a"]
    a, b = ops.message("a"), ops.message("b")
    assert a.state == "pending" and b.state == "pending"
    assert "SLACK_BOT_TOKEN" in a.last_error and "WRONG" not in a.last_error
