"""start_bot's choice between HTTP and Socket Mode, without reaching Slack."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from pydantic import SecretStr

import bot.service
from config.app_config import AppConfig
from config.settings import Settings
from kpi_engine.engine import KpiEngine
from slack_emulator import SlackEmulator
from tests.test_bot_harness import NOW, TOKEN

pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)


def _get(url: str) -> tuple[int, bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_socket_mode_when_an_app_token_is_set_and_no_unsigned_http_route(store, monkeypatch):
    opened: list[str] = []

    class FakeSocketModeHandler:
        def __init__(self, app, app_token, logger=None):
            opened.append(app_token)

        def connect(self):
            opened.append("connected")

        def close(self):
            opened.append("closed")

    import slack_bolt.adapter.socket_mode as socket_mode

    monkeypatch.setattr(socket_mode, "SocketModeHandler", FakeSocketModeHandler)
    with SlackEmulator(bot_token=TOKEN) as emu:
        settings = Settings(_env_file=None, slack_bot_token=TOKEN, slack_app_token=SecretStr("xapp-1-test"),
                            slack_api_base_url=emu.api_url, port=0)
        handle = bot.service.start_bot(settings, AppConfig(), KpiEngine(store, AppConfig()), clock=lambda: NOW,
                                       host="127.0.0.1", port=0)
        try:
            assert handle.mode == "socket" and handle.events_url is None
            assert opened == ["xapp-1-test", "connected"]
            status, body = _get(handle.url + "/readyz")
            assert status == 200 and json.loads(body)["store"] == "ok"
            request = urllib.request.Request(handle.url + "/slack/events", data=b"{}", method="POST")
            try:
                urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=5)
                raise AssertionError("/slack/events must not exist in Socket Mode")
            except urllib.error.HTTPError as exc:
                assert exc.code in (404, 405)
        finally:
            handle.stop()
        assert opened[-1] == "closed"


def test_http_mode_needs_the_signing_secret(store):
    with SlackEmulator(bot_token=TOKEN) as emu:
        settings = Settings(_env_file=None, slack_bot_token=TOKEN, slack_api_base_url=emu.api_url, port=0)
        with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET"):
            bot.service.start_bot(settings, AppConfig(), KpiEngine(store, AppConfig()), host="127.0.0.1", port=0)


def test_a_database_that_does_not_answer_makes_readyz_503_while_healthz_stays_200(store, monkeypatch):
    from sqlalchemy import create_engine

    with SlackEmulator(bot_token=TOKEN) as emu:
        settings = Settings(_env_file=None, slack_bot_token=TOKEN, slack_signing_secret=SecretStr("s" * 12),
                            slack_api_base_url=emu.api_url, port=0)
        engine = KpiEngine(store, AppConfig())
        handle = bot.service.start_bot(settings, AppConfig(), engine, host="127.0.0.1", port=0)
        try:
            status, body = _get(handle.url + "/readyz")
            assert status == 200 and json.loads(body)["ready"] is True
            # the store goes away: a PostgreSQL nobody listens for (port 1 on loopback)
            monkeypatch.setattr(engine, "store", create_engine("postgresql+psycopg://kpibot@127.0.0.1:1/gone",
                                                               connect_args={"connect_timeout": 2}))
            status, body = _get(handle.url + "/readyz")
            assert status == 503
            assert json.loads(body)["store"] == "unreachable (OperationalError)" and json.loads(body)["ready"] is False
            status, body = _get(handle.url + "/healthz")
            assert status == 200 and json.loads(body) == {"ok": True}  # alive: no restart for a database outage
        finally:
            handle.stop()
