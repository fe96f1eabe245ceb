"""Replay protection: a signed request seen before (same signature and timestamp) does nothing.

Slack signs `v0:<timestamp>:<body>`; bolt refuses a timestamp more than five minutes from now, so a
captured request can only be replayed inside that window. This middleware, the first after bolt's
signature check, records each signature in the store (ops_seen_requests, shared by every bot process)
and answers a repeat with an empty 200: nothing is done a second time, and Slack is not made to retry.

    app.middleware(replay_guard(deps))   # bot/app.py, before any other middleware
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltRequest, BoltResponse

from bot.logsafe import safe_logger
from kpi_engine.ops import OpsStore

log = safe_logger("bot.replay")

# bolt's signature check refuses timestamps further than this from now (slack_sdk SignatureVerifier)
WINDOW = 5 * 60
# seen signatures are pruned at most this often per process; kept twice the window, for clock skew
PRUNE_EVERY = 60


def replay_guard(deps: Any, clock: Callable[[], float] = time.time):
    """The middleware. `clock` is the wall clock: the window is Slack's, not the business as_of."""
    ops = OpsStore(deps.engine.store)
    pruned = [0.0]
    lock = threading.Lock()

    def guard(req: BoltRequest, context: Any, next: Callable[[], BoltResponse]) -> BoltResponse:
        signature = (req.headers.get("x-slack-signature") or [""])[0]
        stamp = (req.headers.get("x-slack-request-timestamp") or [""])[0]
        if not signature or not stamp.isdigit():
            return next()  # Socket Mode: no signature, the connection itself is authenticated
        now = clock()
        try:
            first = ops.first_sight(signature, int(stamp), int(now))
            with lock:
                due = now - pruned[0] >= PRUNE_EVERY
                if due:
                    pruned[0] = now
            if due:
                ops.prune_seen(int(now) - 2 * WINDOW)
        except Exception as exc:  # StoreError or the driver's own: the store is down or read-only
            # Without the store nothing a request does can be done either; say so and let it through.
            log.warning("replay check skipped, the store failed: %s", type(exc).__name__)
            return next()
        if first:
            return next()
        log.info("request %s: a replay of a signed request (timestamp %s) ignored", context.get("request_id") or "-",
                 stamp)
        return BoltResponse(status=200, body="")

    return guard
