"""A bolt middleware that counts what Slack sends and times the acknowledgements.

Commands, actions and events are counted by name (action ids with a running number, such as the
did-you-mean buttons, are counted under one name). The ack time runs from the HTTP request's arrival
(the access-log middleware's stamp) to the ack's response, and for /kpi is labelled with the KPI the
text asks for (a parse of well under a millisecond, done after the ack was built).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext, BoltRequest

from kpi_engine.catalogue import catalogue
from telemetry import metrics
from telemetry.http import RECEIVED_HEADER, REQUEST_ID_HEADER

_NUMBERED = re.compile(r"_\d+$")


def kpi_of(text: str | None) -> str:
    """The KPI key a /kpi text asks for; "help" or "unknown" when there is none."""
    from kpi_engine.grammar import parse
    from kpi_engine.query import HelpRequest

    try:
        q = parse(text or "")
    except Exception:
        return "unknown"
    if isinstance(q, HelpRequest):
        return "help"
    return metrics.label(getattr(q, "kpi", None), catalogue(), "unknown")


def _header(request: BoltRequest, name: bytes) -> str | None:
    v = request.headers.get(name.decode())
    return v[0] if isinstance(v, list) and v else (v if isinstance(v, str) else None)


def instrument(request: BoltRequest, context: BoltContext, body: dict, next: Callable[[], Any]) -> Any:
    rid = _header(request, REQUEST_ID_HEADER)
    if rid and not context.get("request_id"):
        context["request_id"] = rid  # the access log's id, so both logs name the same request
    received = _header(request, RECEIVED_HEADER)
    started = float(received) if received else time.perf_counter()
    if body.get("command"):
        kind, name = "command", str(body["command"])
        metrics.COMMANDS.labels(name).inc()
    elif body.get("type") == "block_actions":
        kind = "action"
        for a in body.get("actions") or []:
            metrics.ACTIONS.labels(_NUMBERED.sub("", str(a.get("action_id") or "-"))).inc()
    elif body.get("type") == "event_callback":
        kind = "event"
        metrics.EVENTS.labels(str((body.get("event") or {}).get("type") or "-")).inc()
    else:
        kind = str(body.get("type") or "other")
    response = next()
    elapsed = time.perf_counter() - started
    kpi = kpi_of(body.get("text")) if kind == "command" and body.get("command") == "/kpi" else "-"
    metrics.ACK_SECONDS.labels(kind, kpi).observe(elapsed)
    return response
