"""The scheduler: fire times in Bangkok and across daylight saving, catch-up after downtime, one
leader per store (PostgreSQL advisory lock, SQLite file lock), and two schedulers over many
simulated weeks sending nothing twice. Time is passed in, never slept through."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from kpi_engine.engine import KpiEngine
from kpi_engine.ops import OpsStore
from schedules.leader import FileLock, PgAdvisoryLock, SchedulerConflict
from schedules.outbox import Sender
from schedules.service import Scheduler, build_jobs, fire_times, start_scheduler, trigger
from tests import test_sched_support
from tests.test_sched_support import ANCHOR, BKK, at, client_for, config, demo_store, keys_in

emu = test_sched_support.emu  # the Slack emulator fixture

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def _fires(cfg, job_id: str, start: datetime, n: int) -> list[datetime]:
    job = next(j for j in build_jobs(cfg) if j.id == job_id)
    return fire_times(trigger(job, cfg.tz), start, start + timedelta(days=400))[:n]


# ------------------------------------------------------------------ fire times


def test_next_runs_in_bangkok_from_an_injected_clock(tmp_path):
    from kpi_engine.db import open_store

    cfg = config()
    store = open_store(f"sqlite:///{tmp_path / 'k.db'}")
    s = Scheduler(KpiEngine(store, cfg), store, cfg)
    nxt = s.next_runs(at("2026-11-27T10:00"))  # a Friday morning in Bangkok
    assert nxt["digest:weekly"] == at("2026-11-30T09:00")  # Monday 09:00 Bangkok
    assert nxt["alerts"] == at("2026-11-28T08:00")
    assert nxt["digest:weekly"].utcoffset() == timedelta(hours=7)
    # the same, through APScheduler itself, with the process clock frozen (UTC 03:00 = Bangkok 10:00)
    from apscheduler.schedulers.background import BackgroundScheduler

    with freeze_time("2026-11-27 03:00:00"):
        aps = BackgroundScheduler(timezone=BKK)
        for job in s.jobs:
            aps.add_job(print, trigger(job, BKK), id=job.id)
        aps.start(paused=True)
        try:
            assert aps.get_job("digest:weekly").next_run_time == at("2026-11-30T09:00")
            assert aps.get_job("alerts").next_run_time == at("2026-11-28T08:00")
        finally:
            aps.shutdown(wait=False)


@pytest.mark.parametrize("zone,spring", [(LONDON, "2026-03-29"), (NEW_YORK, "2026-03-08")])
def test_monday_digest_stays_at_nine_local_across_daylight_saving(zone, spring):
    cfg = config(timezone=zone.key)
    fires = _fires(cfg, "digest:weekly", datetime(2026, 3, 1, tzinfo=zone), 6)
    assert all(f.hour == 9 and f.minute == 0 and f.weekday() == 0 for f in fires)
    offsets = {f.utcoffset() for f in fires}
    assert len(offsets) == 2  # standard time before the change, summer time after
    switch = datetime.fromisoformat(spring).replace(tzinfo=zone)
    assert all((f.utcoffset() == switch.utcoffset()) == (f < switch) for f in fires)


def test_a_wall_time_that_happens_twice_when_clocks_go_back_runs_once():
    cfg = config(timezone="Europe/London", alerts={"cron": "30 1 * * *"})
    fires = _fires(cfg, "alerts", datetime(2026, 10, 24, tzinfo=LONDON), 3)
    assert [f.date().isoformat() for f in fires] == ["2026-10-24", "2026-10-25", "2026-10-26"]
    # and on the night clocks go forward, 01:30 does not exist: it runs once, an hour later in summer time
    spring = _fires(cfg, "alerts", datetime(2026, 3, 28, 12, tzinfo=LONDON), 2)
    assert [f.date().isoformat() for f in spring] == ["2026-03-29", "2026-03-30"]


# ------------------------------------------------------------------ catch-up


def _light_config(**over):
    # a short digest keeps these tests quick; the digest itself is tested elsewhere
    base = {"digests": [{"id": "weekly", "channel": "C0LEAD", "kpis": ["revenue", "cac"], "movers_by": [],
                         "chart": False}],
            "alerts": {"channel": "C0ALERT"}}
    return config(**(base | over))


def test_catch_up_runs_a_missed_run_once_within_grace_and_not_after(store):
    demo_store(store)
    cfg = _light_config()
    s = Scheduler(KpiEngine(store, cfg), store, cfg)
    # the service was down over Monday 09:00 and comes back at 11:30: the digest runs, once
    monday = at("2026-11-23T11:30")
    done = s.run_due(monday, takeover=True)
    assert sorted(r["job"] for r in done) == ["alerts", "digest:weekly"]  # alerts: 08:00 that day
    assert s.run_due(monday) == [] and s.run_due(monday + timedelta(minutes=30), takeover=True) == []
    keys = [m.key for m in s.ops.messages()]
    assert "digest:weekly:C0LEAD:2026-W47" in keys
    # down from Tuesday 07:00 to Wednesday 21:00 (13 h after Wednesday's 08:00): that run is not made up
    assert s.run_due(at("2026-11-24T07:00")) == []
    assert s.run_due(at("2026-11-25T21:00"), takeover=True) == []
    # …while 11 h late it still is
    assert [r["job"] for r in s.run_due(at("2026-11-25T19:00"), takeover=True)] == ["alerts"]


def test_a_run_left_unfinished_by_a_dead_scheduler_is_taken_over(store):
    cfg = _light_config(digests=[])
    ops = OpsStore(store)
    fire = at("2026-11-23T08:00")
    assert ops.claim_job("alerts", int(fire.timestamp()), "dead-runner", int(time.time()))
    s = Scheduler(KpiEngine(store, cfg), store, cfg)
    assert s.run_due(fire + timedelta(hours=1)) == []  # someone is on it…
    done = s.run_due(fire + timedelta(hours=1), takeover=True)  # …but on taking over, it is redone
    assert [r["job"] for r in done] == ["alerts"]
    assert ops.job_runs()["alerts"]["status"] == "done"


# ------------------------------------------------------------------ one leader


def test_a_second_scheduler_on_one_sqlite_file_refuses_to_start(tmp_path):
    from kpi_engine.db import open_store

    cfg = config(digests=[], alerts={"enabled": False})
    store = open_store(f"sqlite:///{tmp_path / 'kpibot.db'}")
    eng = KpiEngine(store, cfg)
    first = start_scheduler(eng, store, cfg, None)
    try:
        assert first.is_leader
        with pytest.raises(SchedulerConflict) as err:
            start_scheduler(eng, store, cfg, None)
        msg = str(err.value)
        assert "already running" in msg and "kpibot.db" in msg and "pid" in msg
    finally:
        first.stop()
    again = start_scheduler(eng, store, cfg, None)  # once the first is gone, a new one may start
    again.stop()


def test_the_file_lock_dies_with_its_process(tmp_path):
    import subprocess
    import sys

    db = tmp_path / "kpibot.db"
    code = ("import sys, time; from pathlib import Path; from schedules.leader import FileLock; "
            "lock = FileLock(Path(sys.argv[1])); assert lock.try_acquire(); print('locked', flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE)
    try:
        assert child.stdout.readline().strip() == b"locked"
        assert not FileLock(db).try_acquire()
        child.kill()
        child.wait(10)
        lock = FileLock(db)
        assert lock.try_acquire()  # no stale lock after a crash
        lock.release()
    finally:
        if child.poll() is None:
            child.kill()


def _until(check, timeout: float = 60.0) -> bool:
    """Poll `check` until it holds (the event itself, with a limit generous enough for a busy machine)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _pg_only(store):
    if store.dialect.name != "postgresql":
        pytest.skip("PostgreSQL leader election")


def test_postgres_standby_takes_over_when_the_leader_dies(store):
    _pg_only(store)
    cfg = config(digests=[], alerts={"enabled": False}, scheduler={"leader_poll_seconds": 0.1})
    eng = KpiEngine(store, cfg)
    a = start_scheduler(eng, store, cfg, None)
    b = start_scheduler(eng, store, cfg, None)
    try:
        _until(lambda: a.is_leader or b.is_leader)
        leader, standby = (a, b) if a.is_leader else (b, a)
        # one at a time: the lock the leader holds cannot be taken by anyone else (a third session)
        probe = PgAdvisoryLock(store)
        assert not probe.try_acquire()
        probe.release()
        assert leader.is_leader and not standby.is_leader
        leader.stop()  # its session ends, and the advisory lock with it
        assert _until(lambda: standby.is_leader)
    finally:
        a.stop()
        b.stop()


class _Process:
    """One `kpibot run`, driven by hand: its own lock session, scheduler and sender."""

    def __init__(self, store, cfg, emu):
        self.lock = PgAdvisoryLock(store)
        self.scheduler = Scheduler(KpiEngine(store, cfg), store, cfg)
        self.sender = Sender(OpsStore(store), client_for(emu))
        self.leader = False
        self.alive = True
        self.runs: list[tuple[str, str]] = []

    def tick(self, now: datetime) -> None:
        if not self.alive:
            return
        became = False
        if not self.leader:
            self.leader = became = self.lock.try_acquire()
        elif not self.lock.check():
            self.leader = False
        if self.leader:
            self.runs += [(r["job"], r["fire"]) for r in self.scheduler.run_due(now, takeover=became)]
            self.sender.drain(timeout=10)

    def die(self) -> None:
        self.alive = False
        self.lock.release()


def test_two_schedulers_on_postgres_over_many_weeks_send_nothing_twice(store, emu):
    _pg_only(store)
    demo_store(store)
    cfg = _light_config(alerts={"channel": "C0ALERT", "cron": "0 8 * * thu"})
    a, b = _Process(store, cfg, emu), _Process(store, cfg, emu)
    start, end = at("2026-09-21T00:00"), at(f"{ANCHOR.isoformat()}T12:00")
    now, step, i = start, timedelta(hours=12), 0
    while now <= end:
        for p in (a, b) if i % 2 == 0 else (b, a):  # both try, in alternating order
            p.tick(now)
        if now == at("2026-10-22T00:00"):
            # the leader dies having started a run it never finishes
            leader = a if a.leader else b
            fire = at("2026-10-22T08:00")
            leader.scheduler.ops.claim_job("alerts", int(fire.timestamp()), leader.scheduler.runner,
                                           int(time.time()))
            leader.die()
        now += step
        i += 1
    assert a.runs and b.runs  # both led, one after the other
    assert not set(a.runs) & set(b.runs)  # never the same fire twice
    digests = keys_in(emu.messages("C0LEAD"))
    mondays = {f"2026-W{w}" for w in range(38, 48)}  # 21 Sep … 23 Nov report weeks 38 … 47
    assert sorted(k.rsplit(":", 1)[-1] for k in digests) == sorted(mondays)
    alerts = keys_in(emu.messages("C0ALERT"))
    assert alerts and len(alerts) == len(set(alerts))
    assert ("alerts", at("2026-10-22T08:00").isoformat()) in a.runs + b.runs  # the unfinished run was redone
    states = {m.state for m in OpsStore(store).messages()}
    assert states <= {"sent", "superseded"}
