"""The deployment of the README, tested: `kpibot run` processes (real subprocesses) on one store, with the
local Slack emulator as Slack and signed HTTP requests as Slack's.

- two processes on one PostgreSQL database: both answer /kpi, only one schedules; kill -9 the leader
  and the other takes over within 30 s; no digest or alert message is sent twice;
- SIGTERM: the answer in flight is finished, the scheduler lock released, the exit status 0.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import text

from slack_emulator import SlackEmulator, post_to_app
from tests import fixtures
from tests.conftest import ROOT
from tests.test_bot_harness import REPS, SECRET, TOKEN, USERS, tables
from tests.test_sched_support import keys_in

CONFIG = """
[slack]
digest_channel = "C0DIGEST"
alerts_channel = "C0ALERTS"
admin_channel = "C0ADMIN"

[scheduler]
leader_poll_seconds = 0.5
outbox_poll_seconds = 0.5

[[digests]]
id = "weekly"
cron = "* * * * *"
kpis = ["revenue", "win_rate"]
chart = false
movers = 0

[alerts]
cron = "* * * * *"

[[alerts.rules]]
id = "broken_rule"
kpi = "revenue"
grain = "month"
filter = { team = "no-such-team" }
conditions = [{ type = "threshold", below = 1 }]
"""


class Kpibot:
    """One `kpibot run` in its own process, its output read as it comes."""

    def __init__(self, env: dict[str, str], name: str):
        self.name = name
        self.proc = subprocess.Popen([sys.executable, "-m", "kpibot", "run"], env=env, cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.lines: list[str] = []
        self.url: str | None = None
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            m = re.search(r"serving Slack at (http://\S+)/slack/events", line)
            if m:
                self.url = m.group(1)
                self._ready.set()
        self._ready.set()

    def wait_ready(self, timeout: float = 60) -> str:
        assert self._ready.wait(timeout), f"{self.name} did not start: {self.output}"
        assert self.url, f"{self.name} did not start: {self.output}"
        return self.url

    @property
    def output(self) -> str:
        return "\n".join(self.lines[-40:])

    def metric(self, name: str) -> float | None:
        try:
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(f"{self.url}/metrics",
                                                                                   timeout=5) as r:
                body = r.read().decode()
        except OSError:
            return None
        m = re.search(rf"^{re.escape(name)} (\S+)$", body, re.M)
        return float(m.group(1)) if m else None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def emulator():
    emu = SlackEmulator(bot_token=TOKEN).start()
    for uid, (name, locale) in USERS.items():
        emu.add_user(uid, name, locale=locale)
    yield emu
    emu.stop()


def _env(store_url: str, emu: SlackEmulator, config: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "KPIBOT_"))}
    return {**base, "DATABASE_URL": store_url, "KPIBOT_CONFIG": str(config), "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_BASE_URL": emu.api_url, "PORT": "0", "HOST": "127.0.0.1",
            "PYTHONPATH": str(ROOT), "KPIBOT_LOG_LEVEL": "INFO"}


def _ask(emu: SlackEmulator, url: str, text_: str, user: str = "U1") -> dict:
    before = len(emu.ephemerals(user=user))
    body = emu.slash_command_payload("/kpi", text_, user, "C0SALES")
    status, _, _ = post_to_app(f"{url}/slack/events", SECRET, body)
    assert status == 200
    return emu.wait_for(lambda e: e.ephemerals(user=user)[before:][:1][0], timeout=20)


def _runners(store, job: str) -> str | None:
    with store.connect() as c:
        return c.execute(text("SELECT runner FROM ops_job_runs WHERE job_id = :j AND status = 'done'"),
                         {"j": job}).scalar()


@pytest.mark.slow
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_two_processes_on_one_postgresql_one_leader_takeover_on_kill_and_nothing_sent_twice(store, store_url,
                                                                                          emulator, tmp_path):
    fixtures.load(store, tmp_path / "csv", {**tables(), "reps": REPS})
    cfg = tmp_path / "kpibot.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    a, b = Kpibot(_env(store_url, emulator, cfg), "a"), Kpibot(_env(store_url, emulator, cfg), "b")
    try:
        urls = [a.wait_ready(), b.wait_ready()]
        # both answer /kpi, whoever schedules
        for url in urls:
            answer = _ask(emulator, url, "win rate 2026-Q2")
            assert "Win rate" in answer["text"]
        # exactly one leads
        leader_state = _wait(lambda: (a.metric("kpibot_scheduler_leader"), b.metric("kpibot_scheduler_leader"))
                             if {a.metric("kpibot_scheduler_leader"), b.metric("kpibot_scheduler_leader")} == {0.0, 1.0}
                             else None, 30, "one leader")
        leader, standby = (a, b) if leader_state[0] == 1.0 else (b, a)
        # its catch-up sends this week's digest and posts the broken rule to the admin channel, once
        _wait(lambda: emulator.messages("C0DIGEST") and emulator.messages("C0ADMIN"), 60, "the leader's first run")
        assert str(leader.proc.pid) in (_runners(store, "digest:weekly") or "")
        assert standby.metric("kpibot_scheduler_leader") == 0.0

        killed_at = time.monotonic()
        os.kill(leader.proc.pid, signal.SIGKILL)
        leader.proc.wait(10)
        _wait(lambda: standby.metric("kpibot_scheduler_leader") == 1.0, 30, "the standby to take over")
        assert time.monotonic() - killed_at < 30
        # the new leader runs the jobs (at the next minute at the latest) and finds them all done already
        _wait(lambda: str(standby.proc.pid) in (_runners(store, "digest:weekly") or ""), 90,
              "the new leader's digest run")
        _wait(lambda: str(standby.proc.pid) in (_runners(store, "alerts") or ""), 30, "the new leader's alert run")
        answer = _ask(emulator, standby.url, "revenue 2026-05")  # and it still answers
        assert "Revenue" in answer["text"]
        with store.connect() as c:
            unsent = c.execute(text("SELECT count(*) FROM ops_outbox WHERE state <> 'sent'")).scalar()
        assert unsent == 0
        for channel in ("C0DIGEST", "C0ADMIN", "C0ALERTS"):
            keys = keys_in(emulator.messages(channel))
            assert len(keys) == len(set(keys)), f"{channel}: {keys}"
        assert len(emulator.messages("C0DIGEST")) == 1
        assert len(emulator.messages("C0ADMIN")) == 1
    finally:
        a.stop()
        b.stop()


def test_sigterm_finishes_the_answer_in_flight_releases_the_lock_and_exits_0(store_url, emulator, tmp_path):
    from kpi_engine.db import open_store

    store = open_store(store_url)
    fixtures.load(store, tmp_path / "csv", {**tables(), "reps": REPS})
    cfg = tmp_path / "kpibot.toml"
    cfg.write_text(CONFIG.replace('cron = "* * * * *"', 'cron = "0 9 * * mon"'), encoding="utf-8")
    bot = Kpibot(_env(store_url, emulator, cfg), "bot")
    try:
        url = bot.wait_ready()
        emulator.inject("response_url", delay=2.5)  # the answer's delivery takes a while
        before = len(emulator.ephemerals(user="U1"))
        status, _, _ = post_to_app(f"{url}/slack/events", SECRET,
                                   emulator.slash_command_payload("/kpi", "win rate 2026-Q2", "U1", "C0SALES"))
        assert status == 200  # acknowledged: now it is in flight
        _wait(lambda: bot.metric("kpibot_answers_in_flight") == 1.0, 10, "the answer to be in flight")
        stopped_at = time.monotonic()
        bot.proc.send_signal(signal.SIGTERM)
        assert bot.proc.wait(40) == 0, bot.output
        assert time.monotonic() - stopped_at < 30
        assert len(emulator.ephemerals(user="U1")) == before + 1  # delivered before the process ended
        assert "Traceback" not in bot.output
    finally:
        bot.stop()
    if store.dialect.name == "sqlite":
        from schedules.leader import FileLock

        lock = FileLock(Path(store.url.database).resolve())
        assert lock.try_acquire()
        lock.release()
