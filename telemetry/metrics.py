"""Prometheus metrics (prometheus-client): what a kpibot process counts, and what it reads at scrape time.

Counters and histograms are process-wide (the default registry, with the client's process and
platform metrics): the bot counts commands, actions and latencies, the outbox sender counts
deliveries, syncs count rows and errors. State that lives in the store (outbox depth, alert states,
job and sync times, freshness) is read when Prometheus scrapes, by a StoreCollector the service
registers in a registry of its own, so two services in one process (tests) never collide.

    render(extra_registry) -> (body, content type)   # what GET /metrics answers
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

# Slack wants an ack within 3 s; answers within a second or so feel immediate.
_ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
_ANSWER_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)

COMMANDS = Counter("kpibot_commands_total", "Slash commands received", ["command"])
ACTIONS = Counter("kpibot_actions_total", "Interactive actions (button clicks) received", ["action"])
EVENTS = Counter("kpibot_events_total", "Slack events received", ["event"])
ACK_SECONDS = Histogram("kpibot_ack_seconds", "From a Slack request reaching the app to its acknowledgement",
                        ["kind", "kpi"], buckets=_ACK_BUCKETS)
ANSWER_SECONDS = Histogram("kpibot_answer_seconds", "From /kpi received to its answer delivered to Slack",
                           ["kpi", "result"], buckets=_ANSWER_BUCKETS)
FAILURES = Counter("kpibot_failures_total", "Failures by kind (answer, delivery, listener, job, sync, …)", ["kind"])
DELIVERIES = Counter("kpibot_outbox_deliveries_total", "Outbox delivery attempts by result", ["kind", "result"])
SYNC_ROWS = Counter("kpibot_sync_rows_total", "Rows read from sync sources", ["source"])
SYNC_ERRORS = Counter("kpibot_sync_errors_total", "Sync runs that failed", ["source"])
SYNC_RUNS = Counter("kpibot_sync_runs_total", "Sync runs by status", ["source", "status"])
SYNC_SECONDS = Histogram("kpibot_sync_seconds", "Duration of sync runs", ["source"],
                         buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900))
HTTP_SECONDS = Histogram("kpibot_http_request_seconds", "HTTP requests served", ["method", "route", "status"],
                         buckets=_ACK_BUCKETS)
LEADER = Gauge("kpibot_scheduler_leader", "1 while this process is the scheduler leader")
QUEUE_DEPTH = Gauge("kpibot_answer_queue_depth", "Answers waiting for a worker")
IN_FLIGHT = Gauge("kpibot_answers_in_flight", "Answers being computed or delivered")

_queue_lock = threading.Lock()
_queue_sources: dict[int, Callable[[], int]] = {}


def watch_queue(owner: object, depth: Callable[[], int]) -> Callable[[], None]:
    """Report `depth()` (the answers waiting) as kpibot_answer_queue_depth; returns the undo."""
    with _queue_lock:
        _queue_sources[id(owner)] = depth

    def undo() -> None:
        with _queue_lock:
            _queue_sources.pop(id(owner), None)

    return undo


def _queue_depth() -> float:
    with _queue_lock:
        fns = list(_queue_sources.values())
    total = 0
    for fn in fns:
        try:
            total += int(fn())
        except Exception:  # a pool being shut down: nothing waits in it
            continue
    return float(total)


QUEUE_DEPTH.set_function(_queue_depth)


def label(value: str | None, allowed: Iterable[str] | None = None, other: str = "other") -> str:
    """A label value with bounded cardinality: `value` when allowed (or no list is given), else `other`."""
    if not value:
        return "-"
    if allowed is not None and value not in allowed:
        return other
    return value


class StoreCollector(Collector):
    """Scrape-time gauges from a snapshot callback (kpi_engine.status.snapshot on the service's store).

    The snapshot is a dict: outbox {state: n}, outbox_oldest_pending (epoch or None), alerts
    {state: n}, jobs {job: last success epoch}, sync {source: {last_success, failures, last_rows}},
    freshness {table: epoch}, pool {checked_out, size, overflow}. A store that does not answer gives
    kpibot_store_up 0 and nothing else from the store; the scrape itself still succeeds.
    """

    def __init__(self, snapshot: Callable[[], dict[str, Any]], clock: Callable[[], float] = time.time):
        self.snapshot = snapshot
        self.clock = clock

    def describe(self):  # no pre-registration checks: the families depend on the data
        return []

    def collect(self):
        up = GaugeMetricFamily("kpibot_store_up", "1 when the store answered this scrape")
        try:
            s = self.snapshot()
        except Exception as exc:
            log.warning("metrics: the store did not answer (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        now = self.clock()

        depth = GaugeMetricFamily("kpibot_outbox_messages", "Outbox messages by state", labels=["state"])
        for state, n in sorted(s.get("outbox", {}).items()):
            depth.add_metric([state], n)
        yield depth
        oldest = s.get("outbox_oldest_pending")
        age = GaugeMetricFamily("kpibot_outbox_oldest_pending_age_seconds",
                                "Age of the oldest message still waiting to be delivered (0: none)")
        age.add_metric([], max(0.0, now - oldest) if oldest else 0.0)
        yield age

        alerts = GaugeMetricFamily("kpibot_alerts", "Alert (rule, segment) states", labels=["state"])
        for state, n in sorted(s.get("alerts", {}).items()):
            alerts.add_metric([state], n)
        yield alerts

        jobs = GaugeMetricFamily("kpibot_scheduler_job_last_success_timestamp_seconds",
                                 "When each scheduled job last finished without an error", labels=["job"])
        for job, ts in sorted(s.get("jobs", {}).items()):
            if ts:
                jobs.add_metric([job], ts)
        yield jobs

        last = GaugeMetricFamily("kpibot_sync_last_success_timestamp_seconds",
                                 "When each sync source last delivered", labels=["source"])
        fails = GaugeMetricFamily("kpibot_sync_consecutive_failures", "Failed runs in a row per source",
                                  labels=["source"])
        rows = GaugeMetricFamily("kpibot_sync_last_rows", "Rows read by the last successful run", labels=["source"])
        for src, st in sorted(s.get("sync", {}).items()):
            if st.get("last_success"):
                last.add_metric([src], st["last_success"])
            fails.add_metric([src], st.get("failures", 0))
            rows.add_metric([src], st.get("last_rows", 0))
        yield last
        yield fails
        yield rows

        fresh = GaugeMetricFamily("kpibot_data_fresh_to_timestamp_seconds",
                                  "Each table's data is complete up to this time", labels=["table"])
        for table, ts in sorted(s.get("freshness", {}).items()):
            fresh.add_metric([table], ts)
        yield fresh

        pool = GaugeMetricFamily("kpibot_db_pool_connections", "The store's connection pool", labels=["state"])
        for state, n in sorted(s.get("pool", {}).items()):
            pool.add_metric([state], n)
        yield pool


def service_registry(snapshot: Callable[[], dict[str, Any]]) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(StoreCollector(snapshot))
    return reg


def render(extra: CollectorRegistry | None = None) -> tuple[bytes, str]:
    """The exposition of the process-wide metrics plus `extra`'s (the store's)."""
    body = generate_latest(REGISTRY)
    if extra is not None:
        body += generate_latest(extra)
    return body, CONTENT_TYPE_LATEST
