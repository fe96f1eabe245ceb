"""Shared pieces of the scheduler tests (this module holds no tests itself)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from config.app_config import AppConfig

BKK = ZoneInfo("Asia/Bangkok")
ANCHOR = date(2026, 11, 25)  # a Wednesday: the demo's CAC spike week is W47, its retention drop 2026-Q3


def at(text: str, tz: ZoneInfo = BKK) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


def config(**over) -> AppConfig:
    return AppConfig.model_validate(over)


def demo_store(store):
    """The demo company (small) in `store`, anchored at ANCHOR."""
    from kpi_engine import demo

    demo.generate(store, seed=7, scale="small", anchor=ANCHOR)
    return store


def client_for(emu, timeout: int = 5):
    from slack_sdk import WebClient

    return WebClient(token="xoxb-test", base_url=emu.api_url, timeout=timeout)


@pytest.fixture
def emu():
    from slack_emulator import SlackEmulator

    with SlackEmulator() as e:
        yield e


def keys_in(messages: list[dict]) -> list[str]:
    """The idempotency keys of posted messages (thread replies included)."""
    out = []
    for m in messages:
        for x in [m, *m.get("replies", [])]:
            k = ((x.get("metadata") or {}).get("event_payload") or {}).get("key")
            if k:
                out.append(k)
    return out
