"""The bot under test: the real service (uvicorn on a free loopback port) wired to the Slack emulator
and the hand-made company of fixtures.py, on SQLite and PostgreSQL. Other test_bot_* files import `rig`."""

from __future__ import annotations

import copy
import json
import time
import urllib.request
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.service import BotHandle, start_bot
from config.access_models import AccessConfig
from config.app_config import AppConfig
from config.settings import Settings
from kpi_engine.engine import KpiEngine
from slack_emulator import SlackEmulator, post_to_app
from tests.fixtures import TABLES, load

TOKEN = "xoxb-test-0000-secret-token"
SECRET = "test-signing-secret-3141"
BKK = ZoneInfo("Asia/Bangkok")
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=BKK)
SALES = "C0SALES"

# The fixture company plus a team manager and a head of sales (reps.role), each linked to Slack.
REPS = [
    {**r, "role": ""} for r in TABLES["reps"]
] + [
    {"rep_id": "m1", "name": "Malee Manager", "team": "ent", "region": "bkk", "slack_user_id": "UMGR",
     "role": "manager", "hired_on": "2024-01-01"},
    {"rep_id": "h1", "name": "Hansa Head", "team": "", "region": "", "slack_user_id": "UHEAD", "role": "head",
     "hired_on": "2024-01-01"},
]
USERS = {  # Slack user -> (name, locale)
    "U1": ("somchai", "en-US"),  # rep r1, team ent
    "U2": ("nok", "en-US"),  # rep r2, team smb
    "UMGR": ("malee", "en-US"),
    "UHEAD": ("hansa", "en-US"),
    "UOPS": ("ops", "en-US"),  # not a rep
    "UTHAI": ("thai", "th-TH"),  # not a rep, Slack in Thai
}


def tables() -> dict[str, list[dict]]:
    t = copy.deepcopy(TABLES)
    t["reps"] = copy.deepcopy(REPS)
    return t


class Rig:
    def __init__(self, emu: SlackEmulator, handle: BotHandle, engine: KpiEngine, config: AppConfig):
        self.emu, self.handle, self.engine, self.config = emu, handle, engine, config

    @property
    def events_url(self) -> str:
        return self.handle.url + "/slack/events"

    def post(self, body: bytes | str, **kw) -> tuple[int, dict, bytes]:
        return post_to_app(self.events_url, SECRET, body, **kw)

    def command(self, text: str, user: str = "U1", channel: str = SALES, team_id: str | None = None):
        kw = {"team_id": team_id} if team_id else {}
        body = self.emu.slash_command_payload("/kpi", text, user, channel, **kw)
        started = time.perf_counter()
        status, headers, raw = self.post(body)
        return status, time.perf_counter() - started, raw

    def ask(self, text: str, user: str = "U1", channel: str = SALES, timeout: float = 60.0) -> dict:
        """Send /kpi TEXT and return the ephemeral answer it produced."""
        before = len(self.emu.ephemerals(user=user))
        status, elapsed, _ = self.command(text, user, channel)
        assert status == 200, f"/kpi {text!r} -> HTTP {status}"
        assert elapsed < 3.0
        return self.emu.wait_for(lambda e: e.ephemerals(user=user)[before:][:1][0], timeout=timeout)

    def barrier(self, user: str = "U2") -> None:
        """Ask something valid and wait for its answer. Work is queued first in, first out, so whatever an
        earlier request set off has been taken up by then: an event to wait for instead of a sleep when
        checking that a refused request did nothing."""
        self.ask("help", user=user)

    def click(self, message: dict, action_id: str, user: str = "U1", channel: str = SALES) -> tuple[int, bytes]:
        value = next(el["value"] for b in message["blocks"] if b["type"] == "actions"
                     for el in b["elements"] if el["action_id"] == action_id)
        body = self.emu.block_action_payload(action_id, value, user, channel, message=message)
        status, _, raw = self.post(body)
        return status, raw


def message_text(message: dict) -> str:
    """Everything a person reads in a message: text, section texts and fields, context elements."""
    parts = [message.get("text") or ""]
    for b in message.get("blocks") or []:
        if isinstance(b.get("text"), dict):
            parts.append(b["text"].get("text", ""))
        for f in b.get("fields") or []:
            parts.append(f.get("text", ""))
        for el in b.get("elements") or []:
            if isinstance(el, dict):
                parts.append(el.get("text", "") if isinstance(el.get("text"), str)
                             else (el.get("text") or {}).get("text", ""))
    return "\n".join(parts)


@pytest.fixture
def make_rig(store, tmp_path):
    started: list[tuple[SlackEmulator, BotHandle]] = []

    def make(access: AccessConfig | None = None, **config_kw) -> Rig:
        if not started:
            load(store, tmp_path / "csv", tables())
        # the fixture company has two selling reps, so any total a rep asks for is one colleague's
        # number plus their own: the disclosure rule is off here (min_reps 1) and tested where the
        # company is big enough (tests/test_bot_disclosure.py, test_disclosure_leaks.py) and below
        config = AppConfig(access=access or AccessConfig(min_reps=1), **config_kw)
        engine = KpiEngine(store, config)
        emu = SlackEmulator(bot_token=TOKEN).start()
        for uid, (name, locale) in USERS.items():
            emu.add_user(uid, name, locale=locale)
        settings = Settings(_env_file=None, slack_bot_token=TOKEN, slack_signing_secret=SECRET,
                            slack_api_base_url=emu.api_url, port=0)
        handle = start_bot(settings, config, engine, clock=lambda: NOW, host="127.0.0.1", port=0)
        started.append((emu, handle))
        return Rig(emu, handle, engine, config)

    yield make
    for emu, handle in started:
        handle.stop()
        emu.stop()


@pytest.fixture
def rig(make_rig) -> Rig:
    return make_rig()


def test_readyz_reports_the_store_its_schema_and_slack(rig):
    from kpi_engine.db import SCHEMA_HEAD

    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(rig.handle.url + "/readyz",
                                                                           timeout=5) as resp:
        assert resp.status == 200
        body = json.loads(resp.read())
    assert body["ready"] is True and body["store"] == "ok" and body["schema"] == SCHEMA_HEAD
    assert body["slack"].startswith("ok")


def test_the_service_uses_the_configured_web_api(rig):
    # build_app made its WebClient from SLACK_API_BASE_URL: its auth.test reached the emulator.
    assert rig.emu.calls("auth.test")
