"""The scheduler inside `kpibot run`: digests and alert evaluations on cron triggers, one leader per store.

    handle = start_scheduler(engine, store, config, client)
    ...
    handle.stop()

Jobs come from the config: one per digest subscription (id `digest:<id>`, its cron) and
`alerts` ([alerts].cron, daily 08:00 by default), all in the config's timezone.

Missed runs: APScheduler's memory job store forgets them across a restart, so the ops
store keeps, per job, the scheduled fire time last started (ops_job_runs). Whenever a
process becomes the scheduler (at start, or taking over from a dead leader) it runs
each job's latest scheduled fire time once if that is within the grace window
([scheduler].misfire_grace_hours, 12 h) and was not started (or was started by a
process that never finished it). While running, APScheduler fires the jobs, with
misfire_grace_time and coalesce for a process that was merely slow. A run is claimed
in the store before it starts, so a fire time runs once even if two processes disagree
about who leads for a moment; and everything a run sends goes through the outbox under
an idempotency key, so even a run done twice sends nothing twice.

`Scheduler` is the clock-free core (tests drive `run_due(now)` over simulated weeks);
`start_scheduler` adds the threads: the leader election, APScheduler, and the sender.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from slack_sdk import WebClient
from sqlalchemy import Engine

from config.app_config import AppConfig
from config.schedule_models import DigestConfig
from config.sync_models import SourceConfig
from kpi_engine import periods
from kpi_engine.engine import KpiEngine
from kpi_engine.ops import OpsStore
from kpi_engine.store_errors import StoreError
from kpi_engine.sync import sync_source
from schedules.admin import check_freshness
from schedules.alerts import AlertRunResult, run_alerts
from schedules.digest import (
    build_digest,
    digest_channel,
    digest_key,
    last_week,
    queue_digest,
    queue_personal_digests,
)
from schedules.leader import LeaderLock, SchedulerConflict, lock_for
from schedules.outbox import Sender, runner_id
from telemetry import metrics

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Job:
    id: str  # "digest:<id>", "alerts", "sync:<source>" or "freshness"
    cron: str
    kind: str  # digest | alerts | sync | freshness
    digest: DigestConfig | None = None
    source: SourceConfig | None = None


def build_jobs(config: AppConfig) -> list[Job]:
    jobs: list[Job] = []
    seen: set[str] = set()
    for d in config.digests:
        if d.id in seen:
            raise ValueError(f"digests: id {d.id!r} is used twice; give each [[digests]] its own id")
        seen.add(d.id)
        if d.enabled:
            jobs.append(Job(f"digest:{d.id}", d.cron, "digest", d))
    if config.alerts.enabled and any(r.enabled for r in config.alerts.rules):
        jobs.append(Job("alerts", config.alerts.cron, "alerts"))
    sources = [src for src in config.sources if src.enabled]
    for src in sources:
        jobs.append(Job(f"sync:{src.name}", src.cron, "sync", source=src))
    if sources:
        jobs.append(Job("freshness", config.sync.check_cron, "freshness"))
    return jobs


def trigger(job: Job, tz) -> CronTrigger:
    return CronTrigger.from_crontab(job.cron, timezone=tz)


def fire_times(trig: CronTrigger, after: datetime, until: datetime) -> list[datetime]:
    """Scheduled fire times in (after, until], oldest first.

    On the night clocks go back, a wall time such as 01:30 happens twice; cron means it
    once, so the repeat (fold=1) is dropped.
    """
    def later(t: datetime) -> datetime:
        # in UTC: aware arithmetic is wall-clock, and 1 µs after the second 01:30 would be the first
        return (t.astimezone(UTC) + timedelta(microseconds=1)).astimezone(t.tzinfo)

    out: list[datetime] = []
    t = trig.get_next_fire_time(None, later(after))
    while t is not None and t <= until and len(out) < 10_000:
        if not (t.fold == 1 and out and out[-1].replace(tzinfo=None) == t.replace(tzinfo=None)):
            out.append(t)
        t = trig.get_next_fire_time(t, later(t))
    return out


class Scheduler:
    """Jobs and their catch-up, without threads or a clock: every method is told what time it is."""

    def __init__(self, engine: KpiEngine, store: Engine, config: AppConfig, *, runner: str | None = None,
                 clock: Clock | None = None):
        self.engine = engine
        # a sync reads its source now, however late its run starts: its data is fresh to this clock
        self.clock = clock
        self.store = store
        self.config = config
        self.ops = OpsStore(store)
        self.tz = config.tz
        self.jobs = build_jobs(config)
        self.grace = timedelta(hours=config.scheduler.misfire_grace_hours)
        self.runner = runner or runner_id()
        self._triggers = {j.id: trigger(j, self.tz) for j in self.jobs}
        self._lock = threading.Lock()  # one job at a time in this process

    def job(self, job_id: str) -> Job:
        return next(j for j in self.jobs if j.id == job_id)

    def next_runs(self, now: datetime) -> dict[str, datetime]:
        return {j.id: t for j in self.jobs
                if (t := self._triggers[j.id].get_next_fire_time(None, now)) is not None}

    def last_fire(self, job: Job, now: datetime) -> datetime | None:
        """The job's latest scheduled fire time at or before `now`, if within the grace window."""
        fires = fire_times(self._triggers[job.id], now - self.grace - timedelta(seconds=1), now)
        return fires[-1] if fires else None

    def run_due(self, now: datetime, *, takeover: bool = False, only: str | None = None) -> list[dict[str, Any]]:
        """Run each job whose latest fire time (within grace) has not been started; see the module doc."""
        done = []
        for job in self.jobs:
            if only is not None and job.id != only:
                continue
            fire = self.last_fire(job, now)
            if fire is None:
                continue
            report = self.run_job(job, fire, takeover=takeover)
            if report is not None:
                done.append(report)
        return done

    def run_job(self, job: Job, fire: datetime, *, takeover: bool = False) -> dict[str, Any] | None:
        fire_ts = int(fire.timestamp())
        with self._lock:
            if not self.ops.claim_job(job.id, fire_ts, self.runner, int(time.time()), takeover=takeover):
                return None
            log.info("scheduler: running %s for %s", job.id, fire.isoformat())
            try:
                if job.kind == "digest":
                    assert job.digest is not None
                    out: dict[str, Any] = {"digests": self.run_digest(job.digest, fire)}
                elif job.kind == "sync":
                    assert job.source is not None
                    out = self.run_sync(job.source, fire)
                elif job.kind == "freshness":
                    out = {"stale": check_freshness(self.ops, self.config, self._now(fire))}
                else:
                    out = {"alerts": self.run_alerts(fire).transitions}
            except Exception as exc:
                metrics.FAILURES.labels("job").inc()
                if isinstance(exc, StoreError):  # the database is away or full: one line, not a bug
                    log.warning("scheduler: %s for %s failed: %s", job.id, fire.isoformat(), exc)
                else:
                    log.exception("scheduler: %s for %s failed", job.id, fire.isoformat())
                try:
                    self.ops.finish_job(job.id, fire_ts, self.runner, int(time.time()),
                                        error=f"{type(exc).__name__}: {exc}")
                except StoreError:
                    pass  # the run stays marked as started, unfinished; the error is in the log
                return {"job": job.id, "fire": fire.isoformat(), "error": str(exc)}
            self.ops.finish_job(job.id, fire_ts, self.runner, int(time.time()))
            return {"job": job.id, "fire": fire.isoformat(), **out}

    # ------------------------------------------------------------------ the work

    def run_digest(self, sub: DigestConfig, as_of: datetime, channel: str | None = None) -> dict[str, Any]:
        """Build and queue one subscription's digest unless this week's was queued already."""
        ch = digest_channel(sub, self.config, channel)
        week = last_week(as_of, self.tz)
        key = digest_key(sub, ch, week)
        out = {"id": sub.id, "channel": ch, "key": key, "week": week.label}
        # people's own digests (`/kpi digest on`) have their own keys: due even when the channel's was sent
        personal = queue_personal_digests(self.engine, self.ops, self.config, sub, as_of) if channel is None else []
        if self.ops.existing_keys([key]):
            return out | {"status": "duplicate", "keys": personal}
        d = build_digest(self.engine, self.ops, self.config, sub, as_of, ch)
        keys = queue_digest(self.ops, d)
        return out | {"status": "queued" if keys else "duplicate", "keys": keys + personal, "seconds": d.seconds}

    def run_alerts(self, as_of: datetime, dry_run: bool = False, rule_ids: list[str] | None = None) -> AlertRunResult:
        return run_alerts(self.engine, self.ops, self.config, as_of, dry_run=dry_run, rule_ids=rule_ids)

    def _now(self, fire: datetime) -> datetime:
        return max(fire, self.clock()) if self.clock is not None else fire

    def run_sync(self, source: SourceConfig, fire: datetime) -> dict[str, Any]:
        """One sync run, then its stale-data check (a second failure in a row alerts at once)."""
        now = self._now(fire)
        r = sync_source(self.store, self.config, source, now=now)
        log.log(logging.WARNING if r.failed else logging.INFO, "sync %s: %s, %d rows in %.1f s%s", source.name,
                r.status, r.rows, r.seconds, f": {r.error.splitlines()[0]}" if r.error else "")
        return {"sync": r.to_json(), "stale": check_freshness(self.ops, self.config, now, only=source.name)}


# ------------------------------------------------------------------ the service


@dataclass
class SchedulerHandle:
    """What `kpibot run` holds: stop() on exit; run_*_now for the sandbox's buttons."""

    scheduler: Scheduler
    clock: Clock
    sender: Sender | None
    _lock: LeaderLock
    _stop: threading.Event = field(default_factory=threading.Event)
    _wake: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _aps: BackgroundScheduler | None = None
    _leader: bool = False
    _state_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def is_leader(self) -> bool:
        return self._leader

    def wake(self) -> None:
        """Have the sender look at the outbox now (after something was queued)."""
        self._wake.set()

    def run_digest_now(self, as_of: datetime | None = None, channel: str | None = None,
                       digest_id: str | None = None) -> list[dict[str, Any]]:
        as_of = as_of or self.clock()
        out = [self.scheduler.run_digest(d, as_of, channel) for d in self.scheduler.config.digests
               if d.enabled and (digest_id is None or d.id == digest_id)]
        self.wake()
        return out

    def run_alerts_now(self, as_of: datetime | None = None) -> dict[str, Any]:
        r = self.scheduler.run_alerts(as_of or self.clock())
        self.wake()
        return r.to_json()

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self._wake.set()
        self._lose()
        for t in self._threads:
            t.join(timeout=10)
        self._lock.release()

    # ------------------------------------------------------------------ threads

    def _lead(self) -> None:
        s = self.scheduler
        cfg = s.config.scheduler
        aps = BackgroundScheduler(timezone=s.tz, executors={"default": ThreadPoolExecutor(1)},
                                  job_defaults={"coalesce": True, "max_instances": 1,
                                                "misfire_grace_time": int(cfg.misfire_grace_hours * 3600) or 1})
        for job in s.jobs:
            aps.add_job(self._fire, trigger(job, s.tz), args=[job.id], id=job.id, name=job.id, replace_existing=True)
        # catch-up first, in the same single worker, so it cannot overlap a regular run
        aps.add_job(self._catch_up, id="catch-up", name="catch-up")
        aps.start()
        with self._state_lock:
            self._aps, self._leader = aps, True
        metrics.LEADER.set(1)
        for j, t in s.next_runs(self.clock()).items():
            log.info("scheduler: %s next runs %s", j, t.isoformat())

    def _lose(self) -> None:
        with self._state_lock:
            aps, self._aps, self._leader = self._aps, None, False
        metrics.LEADER.set(0)
        if aps is not None:
            aps.shutdown(wait=False)

    def _catch_up(self) -> None:
        for r in self.scheduler.run_due(self.clock(), takeover=True):
            log.info("scheduler: caught up %s (%s)", r["job"], r["fire"])
        self.wake()

    def _fire(self, job_id: str) -> None:
        self.scheduler.run_due(self.clock(), only=job_id)
        self.wake()

    def _leader_loop(self) -> None:
        poll = self.scheduler.config.scheduler.leader_poll_seconds
        while not self._stop.is_set():
            try:
                if not self._leader:
                    if self._lock.try_acquire():
                        self._lead()
                elif not self._lock.check():
                    log.error("scheduler: lost the scheduler lock; stopping jobs until it is regained")
                    self._lose()
            except StoreError as exc:
                log.warning("scheduler: leader election failed, retrying: %s", exc)
            except Exception:
                log.exception("scheduler: leader election failed; retrying")
            self._stop.wait(poll)

    def _sender_loop(self) -> None:
        poll = self.scheduler.config.scheduler.outbox_poll_seconds
        while not self._stop.is_set():
            if self._leader and self.sender is not None:
                try:
                    self.sender.run_pending()
                except StoreError as exc:
                    log.warning("outbox: the sender's pass failed, retrying: %s", exc)
                except Exception:
                    log.exception("outbox: the sender's pass failed; retrying")
            self._wake.wait(poll)
            self._wake.clear()


def start_scheduler(engine: KpiEngine, store: Engine, config: AppConfig, client: WebClient | None,
                    clock: Clock | None = None, *, lock: LeaderLock | None = None) -> SchedulerHandle:
    """Start the scheduler threads and return at once.

    SQLite: raises SchedulerConflict when another scheduler runs on the same file.
    PostgreSQL: when another process is the scheduler, this one waits and takes over if it dies.
    client None: nothing is sent (messages wait in the outbox for a process that has one).
    """
    clock = clock or (lambda: periods.now(config.tz))
    scheduler = Scheduler(engine, store, config, clock=clock)
    cfg = config.scheduler
    lock = lock or lock_for(store)
    sender = None
    if client is not None:
        sender = Sender(scheduler.ops, client, timeout=cfg.slack_timeout_seconds, stale_after=cfg.outbox_stale_seconds)
    handle = SchedulerHandle(scheduler, clock, sender, lock)
    if not cfg.enabled:
        log.info("scheduler: disabled in the config ([scheduler] enabled = false)")
        return handle
    if store.dialect.name != "postgresql" and not lock.try_acquire():
        raise SchedulerConflict(
            f"another kpibot scheduler is already running on {store.url.database} ({lock.holder()}); "
            f"stop it first, or point DATABASE_URL at another database")
    if store.dialect.name != "postgresql":
        handle._lead()
    handle._threads = [threading.Thread(target=handle._leader_loop, name="kpibot-leader", daemon=True),
                       threading.Thread(target=handle._sender_loop, name="kpibot-sender", daemon=True)]
    for t in handle._threads:
        t.start()
    return handle
