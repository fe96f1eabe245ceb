"""The Slack emulator, driven over real HTTP on 127.0.0.1 by slack_sdk (and a Bolt app)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RateLimitErrorRetryHandler, builtin_handlers
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from slack_emulator import BOT_USER_ID, SlackEmulator, post_to_app, sign_request

TOKEN = "xoxb-sandbox-token"
SECRET = "sandbox-signing-secret"
SALES = "C0SALES"
SOMCHAI = "U0SOMCHAI"

BUTTON_BLOCKS = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Revenue* 1.2M THB"}},
    {
        "type": "actions",
        "block_id": "kpi_actions",
        "elements": [
            {
                "type": "button",
                "action_id": "refresh",
                "value": "revenue",
                "text": {"type": "plain_text", "text": "Refresh"},
            },
        ],
    },
]


@pytest.fixture
def emu():
    with SlackEmulator(bot_token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
def client(emu):
    # No retry handlers: each test decides what retries, so recorded call counts are exact.
    return WebClient(token=TOKEN, base_url=emu.api_url, retry_handlers=[])


def _post_raw(url: str, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> dict:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": content_type, **(headers or {})}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


# --------------------------------------------------------------------------- Web API methods


def test_lifecycle_urls_and_auth_test(emu, client):
    assert emu.url.startswith("http://127.0.0.1:") and emu.api_url == emu.url + "/api/"
    auth = client.auth_test()
    assert (auth["team_id"], auth["user_id"], auth["ok"]) == ("T0SANDBOX", BOT_USER_ID, True)
    assert auth["bot_id"] and auth["team"]


def test_post_message_with_metadata_comes_back_in_history(emu, client):
    metadata = {"event_type": "kpi_digest", "event_payload": {"period": "2026-W48", "kpi": "revenue"}}
    posted = client.chat_postMessage(
        channel=SALES, text="Weekly digest", blocks=BUTTON_BLOCKS, metadata=metadata
    )
    assert posted["channel"] == SALES

    history = client.conversations_history(channel=SALES, include_all_metadata=True)
    [message] = history["messages"]
    assert (message["ts"], message["text"], message["blocks"]) == (
        posted["ts"],
        "Weekly digest",
        BUTTON_BLOCKS,
    )
    assert message["metadata"] == metadata
    assert "metadata" not in client.conversations_history(channel=SALES)["messages"][0]
    assert emu.messages(SALES)[0]["metadata"] == metadata


def test_ts_are_unique_increasing_and_history_is_newest_first_with_paging(emu, client):
    tss = [client.chat_postMessage(channel=SALES, text=f"m{i}")["ts"] for i in range(5)]
    assert len(set(tss)) == 5 and tss == sorted(tss, key=float)
    assert all(len(ts.split(".")[1]) == 6 for ts in tss)

    first = client.conversations_history(channel=SALES, limit=2)
    assert [m["text"] for m in first["messages"]] == ["m4", "m3"] and first["has_more"]
    second = client.conversations_history(
        channel=SALES, limit=2, cursor=first["response_metadata"]["next_cursor"]
    )
    assert [m["text"] for m in second["messages"]] == ["m2", "m1"]

    window = client.conversations_history(channel=SALES, oldest=tss[1], latest=tss[3])
    assert [m["text"] for m in window["messages"]] == ["m2"]
    inclusive = client.conversations_history(channel=SALES, oldest=tss[1], latest=tss[3], inclusive=True)
    assert [m["text"] for m in inclusive["messages"]] == ["m3", "m2", "m1"]
    assert [m["text"] for m in emu.messages(SALES)] == ["m0", "m1", "m2", "m3", "m4"]


def test_chat_update_edits_the_stored_message(emu, client):
    ts = client.chat_postMessage(channel=SALES, text="Revenue: loading…")["ts"]
    client.chat_update(
        channel=SALES,
        ts=ts,
        text="Revenue: 1.2M",
        blocks=BUTTON_BLOCKS,
        metadata={"event_type": "kpi_answer", "event_payload": {"v": 2}},
    )
    [message] = emu.messages(SALES)
    assert (message["text"], message["blocks"], message["metadata"]["event_payload"]) == (
        "Revenue: 1.2M",
        BUTTON_BLOCKS,
        {"v": 2},
    )
    assert "edited" in message

    with pytest.raises(SlackApiError) as missing:
        client.chat_update(channel=SALES, ts="1.000001", text="nope")
    assert missing.value.response["error"] == "message_not_found"


def test_thread_replies_stay_out_of_history(emu, client):
    parent = client.chat_postMessage(channel=SALES, text="Alert: revenue dropped")["ts"]
    client.chat_postMessage(channel=SALES, text="Details", thread_ts=parent)
    client.chat_postMessage(channel=SALES, text="More details", thread_ts=parent)

    history = client.conversations_history(channel=SALES)["messages"]
    assert [m["text"] for m in history] == ["Alert: revenue dropped"]
    assert history[0]["reply_count"] == 2
    thread = client.conversations_replies(channel=SALES, ts=parent)["messages"]
    assert [m["text"] for m in thread] == ["Alert: revenue dropped", "Details", "More details"]
    assert [r["text"] for r in emu.replies(SALES, parent)] == ["Details", "More details"]
    assert [r["text"] for r in emu.messages(SALES)[0]["replies"]] == ["Details", "More details"]


def test_post_ephemeral_is_visible_to_one_user_only(emu, client):
    answer = client.chat_postEphemeral(
        channel=SALES, user=SOMCHAI, text="Only you see this", blocks=BUTTON_BLOCKS
    )
    [ephemeral] = emu.ephemerals(SOMCHAI)
    assert (ephemeral["ts"], ephemeral["channel"], ephemeral["text"]) == (
        answer["message_ts"],
        SALES,
        "Only you see this",
    )
    assert emu.ephemerals("U0ANNA") == []
    assert emu.messages(SALES) == [] and client.conversations_history(channel=SALES)["messages"] == []


def test_views_publish_stores_the_home_tab_per_user(emu, client):
    view = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Your KPIs"}}]}
    published = client.views_publish(user_id=SOMCHAI, view=view)["view"]
    client.views_publish(user_id=SOMCHAI, view={**view, "blocks": []}, hash=published["hash"])

    assert [v["blocks"] for v in emu.views(SOMCHAI)] == [view["blocks"], []]
    assert emu.home_view(SOMCHAI)["id"] == published["id"]
    assert emu.views("U0ANNA") == [] and emu.home_view("U0ANNA") is None
    with pytest.raises(SlackApiError) as stale:
        client.views_publish(user_id=SOMCHAI, view=view, hash=published["hash"])
    assert stale.value.response["error"] == "hash_conflict"


def test_files_upload_v2_end_to_end(emu, client):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    parent = client.chat_postMessage(channel=SALES, text="Weekly chart")["ts"]
    result = client.files_upload_v2(
        channel=SALES,
        content=png,
        filename="revenue.png",
        title="Revenue",
        initial_comment="Revenue by week",
        thread_ts=parent,
    )

    [stored] = emu.files()
    assert (stored["content"], stored["title"], stored["completed"]) == (png, "Revenue", True)
    assert result["file"]["id"] == stored["id"]
    [share] = emu.replies(SALES, parent)
    assert share["text"] == "Revenue by week" and share["files"][0]["id"] == stored["id"]
    with urllib.request.urlopen(share["files"][0]["url_private"], timeout=5) as served:
        assert served.read() == png
    assert [c.method for c in emu.calls()][-3:] == [
        "files.getUploadURLExternal",
        "upload_url",
        "files.completeUploadExternal",
    ]


def test_users_info_and_registered_users(emu, client):
    plain = client.users_info(user=SOMCHAI)["user"]
    assert (plain["name"], plain["tz"], plain["tz_offset"]) == ("Somchai", "Asia/Bangkok", 7 * 3600)
    assert "locale" not in plain
    assert client.users_info(user=SOMCHAI, include_locale=True)["user"]["locale"] == "th-TH"

    emu.add_user("U0NOK", "Nok", tz="Asia/Tokyo", locale="ja-JP")
    assert client.users_info(user="U0NOK", include_locale=True)["user"]["locale"] == "ja-JP"
    with pytest.raises(SlackApiError) as unknown:
        client.users_info(user="U0NOBODY")
    assert unknown.value.response["error"] == "user_not_found"


def test_form_bodies_with_json_encoded_fields_and_token_field(emu, client):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "form"}}]
    client.api_call(
        "chat.postMessage",
        params={
            "channel": SALES,
            "text": "via form",
            "blocks": json.dumps(blocks),
            "metadata": json.dumps({"event_type": "e", "event_payload": {"n": 1}}),
        },
    )
    body = urlencode({"token": TOKEN, "channel": SALES, "text": "token in form"}).encode()
    assert _post_raw(emu.api_url + "chat.postMessage", body, "application/x-www-form-urlencoded")["ok"]

    first, second = emu.messages(SALES)
    assert (first["blocks"], first["metadata"]["event_payload"]) == (blocks, {"n": 1})
    assert second["text"] == "token in form"
    assert "token" not in emu.calls("chat.postMessage")[1].params


def test_invalid_auth_for_a_wrong_or_missing_token(emu):
    with pytest.raises(SlackApiError) as wrong:
        WebClient(token="xoxb-wrong", base_url=emu.api_url).chat_postMessage(channel=SALES, text="x")
    assert wrong.value.response["error"] == "invalid_auth"
    missing = _post_raw(emu.api_url + "auth.test", b"", "application/x-www-form-urlencoded")
    assert missing == {"ok": False, "error": "invalid_auth"}
    assert emu.messages(SALES) == []


def test_unknown_methods_are_answered_and_recorded(emu, client):
    with pytest.raises(SlackApiError) as unknown:
        client.api_call("chat.scheduleMessage", json={"channel": SALES, "text": "later", "post_at": 1})
    assert unknown.value.response["error"] == "unknown_method"
    [call] = emu.calls("chat.scheduleMessage")
    assert call.params["text"] == "later" and call.error == "unknown_method"


def test_reset_forgets_traffic_but_keeps_users(emu, client):
    client.chat_postMessage(channel=SALES, text="x")
    emu.add_user("U0NOK", "Nok")
    emu.reset()
    assert emu.calls() == [] and emu.messages(SALES) == [] and emu.files() == []
    assert "U0NOK" in {u["id"] for u in emu.users()}


def test_state_endpoint_serves_a_json_snapshot(emu, client):
    client.chat_postMessage(channel=SALES, text="hello sandbox")
    with urllib.request.urlopen(emu.url + "/_emulator/state", timeout=5) as response:
        state = json.loads(response.read())
    sales = next(c for c in state["channels"] if c["id"] == SALES)
    assert sales["messages"][0]["text"] == "hello sandbox"
    assert state["calls"][-1]["method"] == "chat.postMessage"


def test_only_loopback_addresses():
    with pytest.raises(ValueError):
        SlackEmulator(host="0.0.0.0")
    with pytest.raises(ValueError):
        post_to_app("http://10.1.2.3/slack/events", SECRET, b"{}")


# --------------------------------------------------------------------------- faults


def test_rate_limit_is_retried_by_slack_sdk_and_applied_once(emu, monkeypatch):
    # The handler sleeps Retry-After plus up to one random second; the random part would make this test slow.
    monkeypatch.setattr(builtin_handlers, "random", SimpleNamespace(random=lambda: 0.0))
    retrying = WebClient(token=TOKEN, base_url=emu.api_url, retry_handlers=[RateLimitErrorRetryHandler()])
    emu.inject("chat.postMessage", status=429, retry_after=0)

    retrying.chat_postMessage(channel=SALES, text="digest")

    assert [c.status for c in emu.calls("chat.postMessage")] == [429, 200]
    assert [m["text"] for m in emu.messages(SALES)] == ["digest"]


def test_rate_limit_answer_carries_retry_after(emu, client):
    emu.inject("chat.postMessage", status=429, retry_after=2)
    with pytest.raises(SlackApiError) as limited:
        client.chat_postMessage(channel=SALES, text="digest")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "2"
    assert limited.value.response["error"] == "ratelimited"
    assert emu.messages(SALES) == []


def test_server_error_raises_and_stores_nothing(emu, client):
    emu.inject("chat.postMessage", status=500, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as failed:
            client.chat_postMessage(channel=SALES, text="x")
        assert failed.value.response.status_code == 500
    client.chat_postMessage(channel=SALES, text="third time lucky")
    assert [c.status for c in emu.calls("chat.postMessage")] == [500, 500, 200]
    assert [m["text"] for m in emu.messages(SALES)] == ["third time lucky"]


def test_injected_slack_error_code(emu, client):
    emu.inject("chat.postMessage", error="not_in_channel")
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel=SALES, text="x")
    assert refused.value.response["error"] == "not_in_channel" and emu.messages(SALES) == []


def test_delay_slows_the_answer_then_applies_the_call(emu, client):
    emu.inject("chat.postMessage", delay=0.3)
    started = time.monotonic()
    client.chat_postMessage(channel=SALES, text="slow")
    assert time.monotonic() - started >= 0.3
    assert [m["text"] for m in emu.messages(SALES)] == ["slow"]


def test_client_timeout_during_a_delay_still_lands_the_message(emu):
    # What real Slack does too: a timed-out call may have been applied, so blind retries duplicate.
    impatient = WebClient(token=TOKEN, base_url=emu.api_url, timeout=0.1, retry_handlers=[])
    emu.inject("chat.postMessage", delay=0.4)
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        impatient.chat_postMessage(channel=SALES, text="late")
    assert emu.wait_for(lambda e: e.messages(SALES), timeout=2)[0]["text"] == "late"


def test_inject_rejects_a_fault_that_does_nothing(emu):
    with pytest.raises(ValueError):
        emu.inject("chat.postMessage")


# --------------------------------------------------------------------------- response_url sink


def test_response_url_defaults_to_ephemeral_and_later_answers_replace_the_first(emu):
    url = emu.new_response_url(SALES, SOMCHAI)
    assert url.startswith(emu.url + "/response/")
    webhook = WebhookClient(url)

    first = webhook.send(text="Working on it…")
    assert (first.status_code, first.body) == (200, "ok")
    webhook.send(text="Revenue: 1.2M", blocks=BUTTON_BLOCKS, replace_original=True)

    [ephemeral] = emu.ephemerals(SOMCHAI)
    assert (ephemeral["text"], ephemeral["blocks"], ephemeral["channel"]) == (
        "Revenue: 1.2M",
        BUTTON_BLOCKS,
        SALES,
    )
    assert emu.messages(SALES) == []
    assert [c.params["text"] for c in emu.calls("response_url")] == ["Working on it…", "Revenue: 1.2M"]


def test_response_url_in_channel_posts_a_normal_message(emu):
    url = emu.new_response_url(SALES, SOMCHAI)
    WebhookClient(url).send_dict({"response_type": "in_channel", "text": "Revenue for everyone"})
    assert [m["text"] for m in emu.messages(SALES)] == ["Revenue for everyone"]
    assert emu.ephemerals() == []


def test_response_url_replaces_and_deletes_the_linked_message(emu, client):
    ts = client.chat_postMessage(channel=SALES, text="Revenue 1.1M", blocks=BUTTON_BLOCKS)["ts"]
    url = emu.new_response_url(SALES, SOMCHAI, message_ts=ts)

    WebhookClient(url).send(text="Revenue 1.2M (refreshed)", replace_original=True)
    [message] = emu.messages(SALES)
    assert (message["ts"], message["text"], "blocks" in message) == (ts, "Revenue 1.2M (refreshed)", False)

    WebhookClient(url).send(delete_original=True)
    assert emu.messages(SALES) == []


def test_response_url_faults_limits_and_unknown_urls(emu):
    url = emu.new_response_url(SALES, SOMCHAI)
    webhook = WebhookClient(url)
    emu.inject("response_url", status=500)
    assert webhook.send(text="lost").status_code == 500
    assert emu.ephemerals() == []

    assert [webhook.send(text=f"try {i}").status_code for i in range(5)] == [200] * 5
    used = webhook.send(text="sixth")
    assert (used.status_code, used.body) == (404, "used_url")
    assert WebhookClient(emu.url + "/response/nope").send(text="x").status_code == 404
    assert [c.status for c in emu.calls("response_url")] == [500, 200, 200, 200, 200, 200, 404, 404]


# --------------------------------------------------------------------------- waiting and listening


def test_wait_for_returns_once_the_change_happens(emu, client):
    threading.Timer(0.05, lambda: client.chat_postMessage(channel=SALES, text="from a worker")).start()
    messages = emu.wait_for(lambda e: e.messages(SALES), timeout=2)
    assert messages[0]["text"] == "from a worker"


def test_wait_for_timeout_explains_what_it_waited_for(emu, client):
    client.chat_postMessage(channel=SALES, text="not the one")
    with pytest.raises(TimeoutError) as timed_out:
        emu.wait_for(lambda e: len(e.messages(SALES)) == 2, timeout=0.1)
    text = str(timed_out.value)
    assert "len(e.messages(SALES)) == 2" in text and "chat.postMessage -> 200" in text


def test_wait_for_treats_a_lookup_error_as_not_yet(emu, client):
    threading.Timer(0.05, lambda: client.chat_postMessage(channel=SALES, text="ready")).start()
    assert emu.wait_for(lambda e: e.messages(SALES)[0]["text"] == "ready", timeout=2)


def test_concurrent_posts_get_distinct_ts_and_are_all_stored(emu, client):
    def post(i):
        client.chat_postMessage(channel=SALES, text=f"m{i}")

    workers = [threading.Thread(target=post, args=(i,)) for i in range(20)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    stored = emu.messages(SALES)
    assert len({m["ts"] for m in stored}) == 20
    assert [m["ts"] for m in stored] == sorted((m["ts"] for m in stored), key=float)


def test_subscribers_see_every_change_until_unsubscribed(emu, client):
    events = []
    emu.subscribe(events.append)
    client.chat_postMessage(channel=SALES, text="x")
    assert {"call", "message"} <= {e["type"] for e in events}
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)

    emu.unsubscribe(events.append)
    seen = len(events)
    client.chat_postMessage(channel=SALES, text="y")
    assert len(events) == seen


def test_a_failing_subscriber_does_not_break_the_emulator(emu, client):
    def broken(event):
        raise RuntimeError("sandbox page went away")

    emu.subscribe(broken)
    assert client.chat_postMessage(channel=SALES, text="still fine")["ok"]


# --------------------------------------------------------------------------- driving an app like Slack


def test_sign_request_matches_slack_sdk_signature_verifier(emu):
    body = emu.slash_command_payload("/kpi", "revenue", SOMCHAI, SALES)
    headers = sign_request(SECRET, body)
    assert SignatureVerifier(SECRET).is_valid_request(body, headers)
    assert not SignatureVerifier("another-secret").is_valid_request(body, headers)
    stale = sign_request(SECRET, body, timestamp=int(time.time()) - 600)
    assert not SignatureVerifier(SECRET).is_valid_request(body, stale)


def test_slash_command_payload_fields(emu):
    fields = {
        k: v[0]
        for k, v in parse_qs(emu.slash_command_payload("/kpi", "revenue th", SOMCHAI, SALES).decode()).items()
    }
    assert (
        fields["command"],
        fields["text"],
        fields["user_id"],
        fields["channel_id"],
        fields["team_id"],
    ) == ("/kpi", "revenue th", SOMCHAI, SALES, "T0SANDBOX")
    assert fields["response_url"].startswith(emu.url + "/response/") and fields["trigger_id"]
    assert (fields["channel_name"], fields["user_name"]) == ("sales", "Somchai")


def test_block_action_payload_shape(emu, client):
    ts = client.chat_postMessage(channel=SALES, text="Revenue", blocks=BUTTON_BLOCKS)["ts"]
    body = emu.block_action_payload("refresh", "revenue", SOMCHAI, SALES, message=emu.messages(SALES)[0])
    payload = json.loads(parse_qs(body.decode())["payload"][0])

    assert payload["type"] == "block_actions"
    assert payload["user"] == {
        "id": SOMCHAI,
        "username": "Somchai",
        "name": "Somchai",
        "team_id": "T0SANDBOX",
    }
    assert payload["team"]["id"] == "T0SANDBOX" and payload["channel"]["id"] == SALES
    assert payload["message"]["ts"] == ts and payload["container"]["message_ts"] == ts
    assert "channel" not in payload["message"] and "replies" not in payload["message"]
    [action] = payload["actions"]
    assert (action["action_id"], action["block_id"], action["value"], action["type"]) == (
        "refresh",
        "kpi_actions",
        "revenue",
        "button",
    )
    assert action["action_ts"] and action["text"]["text"] == "Refresh"

    WebhookClient(payload["response_url"]).send(text="refreshed", replace_original=True)
    assert emu.messages(SALES)[0]["text"] == "refreshed"


class _BoltHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        response = self.server.app.dispatch(BoltRequest(body=body, headers=dict(self.headers.items())))
        self.send_response(response.status)
        for name, values in response.headers.items():
            for value in values:
                self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def bolt_app_url(emu):
    app = App(client=WebClient(token=TOKEN, base_url=emu.api_url), signing_secret=SECRET)

    @app.command("/kpi")
    def kpi(ack, respond, command):
        ack()
        respond(text=f"Revenue for {command['text']}", blocks=BUTTON_BLOCKS)

    @app.action("refresh")
    def refresh(ack, respond, body):
        ack()
        respond(text=f"Refreshed {body['actions'][0]['value']}", replace_original=True)

    @app.event("app_home_opened")
    def home(client, event):
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": []})

    server = ThreadingHTTPServer(("127.0.0.1", 0), _BoltHandler)
    server.app = app
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    server.shutdown()
    server.server_close()


def test_a_bolt_app_driven_end_to_end(emu, bolt_app_url):
    status, _, _ = post_to_app(
        bolt_app_url, SECRET, emu.slash_command_payload("/kpi", "revenue", SOMCHAI, SALES)
    )
    assert status == 200
    [answer] = emu.wait_for(lambda e: e.ephemerals(SOMCHAI), timeout=2)
    assert answer["text"] == "Revenue for revenue"

    click = emu.block_action_payload("refresh", "revenue", SOMCHAI, SALES, message=answer)
    assert post_to_app(bolt_app_url, SECRET, click)[0] == 200
    emu.wait_for(lambda e: e.ephemerals(SOMCHAI)[0]["text"] == "Refreshed revenue", timeout=2)

    assert post_to_app(bolt_app_url, SECRET, emu.app_home_opened_event(SOMCHAI))[0] == 200
    emu.wait_for(lambda e: e.home_view(SOMCHAI), timeout=2)


def test_a_bolt_app_rejects_a_wrong_signature(emu, bolt_app_url):
    status, _, _ = post_to_app(
        bolt_app_url, "not-the-secret", emu.slash_command_payload("/kpi", "", SOMCHAI, SALES)
    )
    assert status == 401
