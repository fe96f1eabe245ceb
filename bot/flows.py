"""The work done after an ack: answer, deliver, chart, share, home tab. Listeners are one call into here.

Each flow catches everything: an error becomes a private message to the person naming the request
id, and a log line with the same id, so support can find one from the other.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError

from bot import answers, charts, delivery, digest_optin, home, i18n, sharing
from bot import blocks as bk
from bot.deps import BotDeps
from bot.logsafe import safe_logger
from kpi_engine import format as fmt
from kpi_engine.ops import OpsStore
from kpi_engine.store_errors import StoreError, StoreUnavailable
from telemetry import metrics
from telemetry.logs import fields, user_hash

log = safe_logger("bot.flows")

_SAFE_NAME = re.compile(r"[^a-z0-9_-]+")


def error_payload(lang: str, request_id: str, exc: BaseException | None = None) -> dict[str, Any]:
    """The private reply to a question that failed: a database outage is named as such."""
    key = ("store_unavailable" if isinstance(exc, StoreUnavailable) else "store_error" if isinstance(exc, StoreError)
           else "error")
    text = i18n.t(key, lang, rid=request_id)
    return {"response_type": "ephemeral", "replace_original": False, "text": text,
            "blocks": bk.notice_blocks(f"⚠️ {text}")}


def kpi_command(deps: BotDeps, body: dict[str, Any], request_id: str) -> None:
    """`/kpi TEXT`: the answer privately through response_url, then the chart when asked for.

    The sparkline is computed beside the answer; when it is not ready within the answer budget the
    answer goes out without it and is replaced once the trend is known.
    """
    started = time.perf_counter()
    user, channel = body.get("user_id"), body.get("channel_id")
    url = body.get("response_url")
    text = body.get("text") or ""
    late: Future | None = None
    if digest_optin.parse(text) is not None:  # a bot subcommand, before the KPI grammar
        digest_command(deps, body, text, request_id)
        return
    try:
        plan = answers.plan_question(deps, text, user or "", deps.now())
        if isinstance(plan, answers.Reply):
            reply = plan
        else:
            trend = deps.submit_trend(plan.query.kpi, lambda: answers.trend_for(deps, plan))
            answer_started = time.perf_counter()
            reply = answers.answer_plan(deps, plan)
            if reply.kind == "answer":
                deps.record_answer(plan.query.kpi, time.perf_counter() - answer_started)
            if trend is not None and reply.kind == "answer":
                try:
                    left = deps.answer_budget - (time.perf_counter() - started)
                    reply = answers.with_trend(reply, trend.result(timeout=max(0.02, left)))
                except FutureTimeout:
                    late = trend
            elif trend is not None:
                trend.cancel()
    except Exception as exc:
        metrics.FAILURES.labels("store" if isinstance(exc, StoreError) else "answer").inc()
        _log_failure(exc, "request %s: /kpi failed (user %s, %d chars)", request_id, user_hash(user), len(text),
                     extra=fields(request_id=request_id, user_hash=user_hash(user)))
        delivery.reply_privately(deps.client, url, channel, user,
                                 error_payload(_lang(deps, user), request_id, exc), request_id)
        return
    delivered = delivery.post_response(url, reply.payload(), deps.client, request_id)
    if not delivered:
        late = None  # chat.postEphemeral messages cannot be replaced
        delivered = delivery.post_ephemeral(deps.client, channel, user, reply.payload(), request_id)
    elapsed = time.perf_counter() - started
    kpi = reply.query.kpi if reply.query else None
    metrics.ANSWER_SECONDS.labels(kpi or "-", reply.kind if delivered else "undelivered").observe(elapsed)
    if not delivered:
        metrics.FAILURES.labels("delivery").inc()
    log.info("request %s: /kpi %s %s in %.0f ms%s%s", request_id, reply.kind, kpi or "-", elapsed * 1000,
             "" if delivered else " (NOT delivered)", " (trend follows)" if late else "",
             extra=fields(request_id=request_id, user_hash=user_hash(user), kpi=kpi, kind=reply.kind,
                          latency_ms=round(elapsed * 1000, 1), delivered=delivered))
    if late is not None:
        late.add_done_callback(lambda f: _late_trend(deps, reply, f, url, request_id))
    if reply.chart and reply.kind == "answer":
        post_chart(deps, reply, channel, user, url, request_id)


def _late_trend(deps: BotDeps, reply: answers.Reply, done: Future, url: str | None, request_id: str) -> None:
    try:
        trend = done.result()
        if trend:
            updated = answers.with_trend(reply, trend)
            delivery.post_response(url, updated.payload(replace_original=True), deps.client, request_id)
    except Exception:
        log.exception("request %s: adding the trend failed", request_id)


def post_chart(deps: BotDeps, reply: answers.Reply, channel: str | None, user: str | None, url: str | None,
               request_id: str, *, private: bool = True) -> bool:
    """Render the trend and upload it where the answer's audience is.

    A private answer's chart goes to the bot's DM with the asker, not to the channel the question came
    from: a file shared into a channel is seen by everyone in it, and Slack has no ephemeral file. (An
    ephemeral image block would need the PNG at a URL Slack's servers fetch without the user's login,
    so anyone holding the link could open it.) The asker gets a private note saying where it is.
    `private=False` (a shared answer) uploads it into `channel` beside the shared message.
    """
    a, q, as_of = reply.answer, reply.query, reply.as_of
    assert a is not None and q is not None and as_of is not None
    try:
        n = deps.chart_periods
        # the chart's points pass the same disclosure rule as the answer's numbers
        cl = reply.plan.clearance if reply.plan is not None else None
        series = deps.engine.series(q, as_of, n=n, clearance=cl)
        targets = deps.engine.target_series(q, as_of, n=n, clearance=cl) if a.target is not None else None
        png = charts.render_trend(a, series, targets, reply.lang)
        name = _SAFE_NAME.sub("-", f"{a.spec.key}-{a.period.label}".lower()).strip("-") or "kpi"
        title = f"{a.spec.name(reply.lang)} · {bk.short_period(a.period, reply.lang)}"
        if deps.client is None or not channel or (private and not user):
            raise RuntimeError("no Slack client or conversation for the chart")
        target = channel
        if private:
            target = deps.client.conversations_open(users=user)["channel"]["id"]
        deps.client.files_upload_v2(channel=target, file=png, filename=f"{name}.png", title=title,
                                    initial_comment=f"<@{user}>: {bk.escape(bk.answer_text(a, reply.lang))}",
                                    alt_txt=title)
        if private and target != channel:
            note = i18n.t("chart_in_dm", reply.lang)
            delivery.reply_privately(deps.client, url, channel, user,
                                     {"response_type": "ephemeral", "replace_original": False, "text": note,
                                      "blocks": bk.notice_blocks(note)}, request_id)
        return True
    except (SlackApiError, SlackClientError, OSError, RuntimeError, ValueError) as exc:
        log.error("request %s: chart upload failed: %s", request_id, _describe(exc))
    except Exception:
        log.exception("request %s: chart failed", request_id)
    text = i18n.t("chart_failed", reply.lang, rid=request_id)
    delivery.reply_privately(deps.client, url, channel, user,
                             {"response_type": "ephemeral", "text": text, "blocks": bk.notice_blocks(text)},
                             request_id)
    return False


def _where(body: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """Who pressed a button, in which conversation, and the response_url to answer on."""
    user = (body.get("user") or {}).get("id")
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    return user, channel, body.get("response_url")


def _question(deps: BotDeps, body: dict[str, Any], kind: str):
    """The (text, as_of) a share or did-you-mean button carries."""
    action = (body.get("actions") or [{}])[0]
    decoded = sharing.decode(action.get("value"), deps.config.tz)
    if decoded is None:
        raise ValueError(f"{kind} button value is not a question")
    return decoded


def share(deps: BotDeps, body: dict[str, Any], request_id: str) -> None:
    """The Share button: the same question at the same "now", posted for the channel, naming the sharer
    and the channel, with its chart when the question asked for one. Once per answer and channel (the
    share ledger): a second press, or a replayed request, gets "already shared by … at …" privately."""
    user, channel, url = _where(body)
    action = (body.get("actions") or [{}])[0]
    ops = OpsStore(deps.engine.store)
    aid = sharing.answer_id(action.get("value"), user)
    claimed = False
    try:
        text, as_of = _question(deps, body, "share")
        first, done = ops.claim_share(aid, channel or "-", user or "", int(deps.now().timestamp()))
        if not first:
            lang = _lang(deps, user)
            when = fmt.moment(datetime.fromtimestamp(done.shared_at, deps.config.tz), lang)
            note = i18n.t("already_shared", lang, channel=done.channel, who=done.shared_by, when=when)
            log.info("request %s: answer %s already shared in %s by %s", request_id, aid, done.channel,
                     user_hash(done.shared_by))
            delivery.reply_privately(deps.client, url, channel, user,
                                     {"response_type": "ephemeral", "replace_original": False, "text": note,
                                      "blocks": bk.notice_blocks(note)}, request_id)
            return
        claimed = True
        reply = answers.answer_question(deps, text, user or "", as_of, shareable=False, shared_by=user,
                                        shared_in=channel)
    except Exception as exc:
        if claimed:
            ops.release_share(aid, channel or "-", user or "")
        _log_failure(exc, "request %s: share failed", request_id)
        delivery.reply_privately(deps.client, url, channel, user,
                                 error_payload(_lang(deps, user), request_id, exc), request_id)
        return
    if reply.kind != "answer":
        # The person may no longer see it (access changed since): tell only them, never the channel.
        ops.release_share(aid, channel or "-", user or "")
        delivery.reply_privately(deps.client, url, channel, user, reply.payload(), request_id)
        return
    if not (_post_in_channel(deps, channel, reply, request_id)
            or delivery.post_response(url, reply.payload("in_channel", replace_original=False), deps.client,
                                      request_id)):
        ops.release_share(aid, channel or "-", user or "")  # nothing was posted: pressing again may work
        delivery.reply_privately(deps.client, None, channel, user, error_payload(reply.lang, request_id),
                                 request_id)
        return
    if reply.chart:
        post_chart(deps, reply, channel, user, url, request_id, private=False)


def _post_in_channel(deps: BotDeps, channel: str | None, reply: answers.Reply, request_id: str) -> bool:
    if deps.client is None or not channel:
        return False
    try:
        deps.client.chat_postMessage(channel=channel, text=bk.fallback_text(reply.text), blocks=reply.blocks,
                                     unfurl_links=False)
        return True
    except (SlackApiError, SlackClientError, OSError) as exc:
        # Not in the channel (a private one, a DM): the response_url can still post there.
        log.info("request %s: chat.postMessage for a share failed (%s); trying the response_url", request_id,
                 _describe(exc))
        return False


def rerun(deps: BotDeps, body: dict[str, Any], request_id: str) -> None:
    """A "did you mean" button: answer the corrected question in place of the error."""
    user, channel, url = _where(body)
    try:
        text, _ = _question(deps, body, "rerun")
        # A correction is a new question: answered as of now, not as of the typo.
        reply = answers.answer_question(deps, text, user or "", deps.now())
    except Exception as exc:
        _log_failure(exc, "request %s: rerun failed", request_id)
        delivery.reply_privately(deps.client, url, channel, user,
                                 error_payload(_lang(deps, user), request_id, exc), request_id)
        return
    delivery.reply_privately(deps.client, url, channel, user, reply.payload(replace_original=True), request_id)
    if reply.chart and reply.kind == "answer":
        post_chart(deps, reply, channel, user, url, request_id)


def digest_command(deps: BotDeps, body: dict[str, Any], text: str, request_id: str) -> None:
    """`/kpi digest on|off`: switch the person's own weekly digest by DM."""
    user, channel, url = body.get("user_id"), body.get("channel_id"), body.get("response_url")
    try:
        lang = _lang(deps, user)
        msg, blocks = digest_optin.command_reply(deps, user or "", text, lang, deps.now())
    except Exception as exc:
        _log_failure(exc, "request %s: /kpi digest failed (user %s)", request_id, user)
        delivery.reply_privately(deps.client, url, channel, user,
                                 error_payload(_lang(deps, user), request_id, exc), request_id)
        return
    log.info("request %s: /kpi digest %s by %s", request_id, digest_optin.parse(text), user)
    delivery.reply_privately(deps.client, url, channel, user,
                             {"response_type": "ephemeral", "text": bk.fallback_text(msg), "blocks": blocks},
                             request_id)
    if user:
        publish_home(deps, user, request_id)  # the Home tab's toggle follows


def digest_toggle(deps: BotDeps, body: dict[str, Any], request_id: str) -> None:
    """The Home tab's digest button: switch, then publish the tab again."""
    user = (body.get("user") or {}).get("id")
    action = (body.get("actions") or [{}])[0]
    if not user:
        return
    try:
        digest_optin.switch(deps, user, action.get("value") == "on", _lang(deps, user), deps.now())
    except Exception:
        log.exception("request %s: the digest toggle failed for %s", request_id, user)
        return
    publish_home(deps, user, request_id)


def publish_home(deps: BotDeps, user_id: str, request_id: str) -> None:
    try:
        view = home.home_view(deps, user_id, deps.now())
        if deps.client is None:
            raise RuntimeError("no Slack client")
        deps.client.views_publish(user_id=user_id, view=view)
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.error("request %s: views.publish for %s failed: %s", request_id, user_id, _describe(exc))
    except Exception:
        log.exception("request %s: home tab for %s failed", request_id, user_id)


def _log_failure(exc: BaseException, msg: str, *args: Any, extra: dict[str, Any] | None = None) -> None:
    """A database outage is not a bug: one WARNING line saying what is wrong; anything else with its traceback."""
    if isinstance(exc, StoreError):
        log.warning(msg + ": %s", *args, exc, extra=extra)
    else:
        log.error(msg, *args, exc_info=exc, extra=extra)


def _lang(deps: BotDeps, user: str | None) -> str:
    try:
        return deps.langs.for_user(user)
    except Exception:
        return deps.config.language


def _describe(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return f"{exc.response.status_code} {exc.response.get('error')}"
    return f"{type(exc).__name__}: {exc}"
