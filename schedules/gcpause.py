"""Batch jobs without the cyclic garbage collector.

An alert run over every rep builds tens of thousands of small dicts that live until the run
ends. Each of them counts toward the collector's next pass, so a run at 1M opportunities
spent a quarter of its time in collections that found nothing to free: what a run makes
is freed by reference counting, and the few cycles it leaves wait for the collector
to resume. Threads share the one collector, so pauses nest: it resumes when the last
job that paused it ends, and only if it was on before the first.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def paused() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
