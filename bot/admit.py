"""Acknowledge on the request's thread, hand the work to the answer pool (bot/workers.py).

The ack never waits for a worker: when many questions are waiting, the ack itself says "working on
it"; when the queue is full, it says the bot is busy (English or Thai, as the person asks). Button
clicks cannot carry a message in their ack, so their notice is posted by the small notice pool.
Nothing here calls Slack or the database on the request's thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack

from bot import blocks as bk
from bot import delivery, i18n
from bot.deps import BotDeps
from bot.logsafe import safe_logger
from bot.workers import Admission, Workers

log = safe_logger("bot.admit")


def command(deps: BotDeps, ack: Ack, body: dict[str, Any], request_id: str,
            work: Callable[[BotDeps, dict[str, Any], str], None]) -> Admission:
    """A slash command: queue `work(deps, body, request_id)` and ack, with a notice when it must wait."""
    admission = _workers(deps).answers.submit(work, deps, body, request_id)
    if admission is Admission.ACCEPTED:
        ack()
        return admission
    _log(admission, deps, request_id, body.get("command") or "command")
    lang = deps.langs.without_asking(body.get("user_id"), body.get("text") or "")
    ack(response_type="ephemeral", text=i18n.t("working" if admission is Admission.QUEUED else "busy", lang))
    return admission


def action(deps: BotDeps, ack: Ack, body: dict[str, Any], request_id: str, work: Callable[..., None],
           *args: Any) -> Admission:
    """A button click: ack, queue `work(*args)`; a click that must wait or is shed gets a private notice."""
    ack()
    admission = _workers(deps).answers.submit(work, *args)
    if admission is Admission.ACCEPTED:
        return admission
    _log(admission, deps, request_id, "action")
    user = (body.get("user") or {}).get("id")
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    text = i18n.t("working" if admission is Admission.QUEUED else "busy", deps.langs.without_asking(user))
    payload = {"response_type": "ephemeral", "replace_original": False, "text": text,
               "blocks": bk.notice_blocks(text)}
    if _workers(deps).notices.submit(delivery.reply_privately, deps.client, body.get("response_url"), channel, user,
                                   payload, request_id) is Admission.REJECTED:
        log.warning("request %s: the notice could not be queued either", request_id)
    return admission


def event(deps: BotDeps, request_id: str, work: Callable[..., None], *args: Any) -> Admission:
    """An event (Home tab opened): queued, or dropped with a log line when the bot is overloaded."""
    admission = _workers(deps).answers.submit(work, *args)
    if admission is Admission.REJECTED:
        _log(admission, deps, request_id, "event")
    return admission


def _workers(deps: BotDeps) -> Workers:
    assert deps.workers is not None, "build_app gives the deps their workers"
    return deps.workers


def _log(admission: Admission, deps: BotDeps, request_id: str, what: str) -> None:
    waiting = _workers(deps).answers.depth()
    if admission is Admission.REJECTED:
        # load, not a fault: one line, so an operator sees the shedding and can size [bot] for it
        log.warning("request %s: %s shed, the answer queue is full (%d waiting)", request_id, what, waiting)
    else:
        log.info("request %s: %s queued behind %d others; told the person", request_id, what, waiting)
