"""The bot's own pools for work done after an ack, so acknowledging never waits behind it.

Slack gives a request 3 seconds to be acknowledged. Listeners acknowledge on the request's own
thread and hand the work (engine queries, charts, posts to Slack) to an `AnswerPool`: a fixed number
of threads and a bounded first-in-first-out queue. `submit` never blocks; it says how the work was
taken so the listener can tell the person at once:

    ACCEPTED a worker is free or few answers wait ahead: a plain ack
    QUEUED   many answers wait ahead: the ack says "working on it", the answer follows
    REJECTED the queue is full (or the bot is stopping): the ack says so, nothing runs

    workers = Workers.from_config(config.bot)
    admission = workers.answers.submit(fn, *args)
    workers.shutdown(20.0)   # stop taking work, let what was accepted finish
"""

from __future__ import annotations

import enum
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.logsafe import safe_logger
from telemetry import metrics

log = safe_logger("bot.workers")


class Admission(enum.Enum):
    ACCEPTED = "accepted"
    QUEUED = "queued"
    REJECTED = "rejected"


_STOP = object()


class AnswerPool:
    def __init__(self, workers: int, queue_size: int, busy_after: int, *, name: str = "kpibot-answer",
                 count_in_flight: bool = True):
        if workers < 1 or queue_size < 1:
            raise ValueError("a pool needs at least one worker and room for one waiting task")
        self.name = name
        self.busy_after = busy_after
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._lock = threading.Lock()  # submit's look at the depth and its put are one step
        self._closed = False
        self._count_in_flight = count_in_flight
        self._threads = [threading.Thread(target=self._run, name=f"{name}-{i}", daemon=True) for i in range(workers)]
        for t in self._threads:
            t.start()

    def depth(self) -> int:
        """Tasks waiting for a worker (not those running)."""
        return self._queue.qsize()

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Admission:
        with self._lock:
            if self._closed:
                return Admission.REJECTED
            ahead = self._queue.qsize()
            try:
                self._queue.put_nowait((fn, args, kwargs))
            except queue.Full:
                return Admission.REJECTED
        return Admission.QUEUED if ahead >= self.busy_after else Admission.ACCEPTED

    def _run(self) -> None:
        while True:
            task = self._queue.get()
            try:
                if task is _STOP:
                    return
                fn, args, kwargs = task
                try:
                    if self._count_in_flight:
                        with metrics.IN_FLIGHT.track_inprogress():
                            fn(*args, **kwargs)
                    else:
                        fn(*args, **kwargs)
                except Exception:  # the flows catch their own errors; this is the last line of defence
                    log.exception("%s: a task failed", self.name)
            finally:
                self._queue.task_done()

    def shutdown(self, timeout: float) -> bool:
        """Take no more work, let queued and running tasks finish for at most `timeout` seconds.
        False (and a warning) if some were still running or waiting when time ran out."""
        with self._lock:
            self._closed = True
        deadline = time.monotonic() + timeout
        for _ in self._threads:
            # after the tasks already queued (first in, first out): each worker stops when it gets one
            while True:
                try:
                    self._queue.put(_STOP, timeout=max(0.01, deadline - time.monotonic()))
                    break
                except queue.Full:
                    if time.monotonic() >= deadline:
                        break
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        alive = sum(t.is_alive() for t in self._threads)
        if alive:
            log.warning("stopping: %s still had %d task(s) running and %d waiting after %.0f s; abandoned",
                        self.name, alive, self.depth(), timeout)
            return False
        return True


@dataclass
class Workers:
    """The answer pool and a small one for notices ("busy, try again") that must not wait behind answers."""

    answers: AnswerPool
    notices: AnswerPool

    @classmethod
    def from_config(cls, cfg: Any) -> Workers:
        return cls(
            answers=AnswerPool(cfg.answer_workers, cfg.answer_queue, cfg.working_notice_after),
            # a notice is one short post with a short timeout; if even these pile up, they are dropped
            notices=AnswerPool(2, 256, 1_000_000, name="kpibot-notice", count_in_flight=False),
        )

    def depth(self) -> int:
        return self.answers.depth()

    def shutdown(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        ok = self.answers.shutdown(timeout)
        return self.notices.shutdown(max(0.5, deadline - time.monotonic())) and ok
