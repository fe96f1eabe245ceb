"""What reaches /slack/events that is not from Slack: 401 or 413, one log line, no traceback, no memory.

Raw HTTP over a socket (as curl would send it), so the tests control every header and the chunking.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest

from bot.signature import RequestRejected, verify_request
from slack_emulator import post_to_app, sign_request
from tests.test_bot_harness import SECRET

# the service under test, wired to the emulator (fixtures `rig`, `make_rig`)
pytest_plugins = ["tests.test_bot_harness"]
SQLITE = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # HTTP mechanics, not SQL

MIB = 1024 * 1024


def _raw(url: str, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """Send `head` (request line and headers, without the blank line) and `body`; (status, response)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as s:
        s.sendall(head.encode("latin-1") + b"\r\n\r\n" + body)
        data = b""
        while b"\r\n\r\n" not in data or len(data) < data.index(b"\r\n\r\n") + 4 + _length(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1]), data


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def _post(rig, headers: dict[str, str], body: bytes) -> int:
    path = "/slack/events"
    lines = [f"POST {path} HTTP/1.1", f"Host: {urlsplit(rig.handle.url).netloc}", "Connection: close",
             f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
    return _raw(rig.handle.url, "\r\n".join(lines), body)[0]


def _lines_until_access_line(caplog) -> list[logging.LogRecord]:
    """Our log records for the request, once its access-log line is written: that line comes last (it is
    written after the response went out), so anything else about the request is logged by then."""
    deadline = time.monotonic() + 30
    while not [r for r in caplog.records if r.name == "kpibot.access"] and time.monotonic() < deadline:
        time.sleep(0.01)
    return [r for r in caplog.records if r.name.startswith(("kpibot", "bot"))]


def _variants() -> list[tuple[str, dict[str, str], bytes, int]]:
    form = b"command=%2Fkpi&text=revenue&user_id=U1&channel_id=C0SALES&team_id=T0SANDBOX"
    now = int(time.time())
    signed_stale = sign_request(SECRET, form, now - 10 * 60)
    signed_text_ts = {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=" + "0" * 64}
    return [
        ("json x, no headers", {"Content-Type": "application/json"}, b"x", 401),
        ("form, no headers", {"Content-Type": "application/x-www-form-urlencoded"}, form, 401),
        ("json garbage, no headers", {"Content-Type": "application/json"}, b"{\"a\": [1, 2", 401),
        ("signature only", {"Content-Type": "application/json", "X-Slack-Signature": "v0=abc"}, b"{}", 401),
        ("timestamp only", {"Content-Type": "application/json", "X-Slack-Request-Timestamp": str(now)}, b"{}", 401),
        ("stale but signed", {"Content-Type": "application/x-www-form-urlencoded", **signed_stale}, form, 401),
        ("non-numeric timestamp", {"Content-Type": "application/json", **signed_text_ts}, b"x", 401),
        ("huge timestamp", {"Content-Type": "application/json", "X-Slack-Request-Timestamp": "9" * 400,
                            "X-Slack-Signature": "v0=1"}, b"x", 401),
        ("payload= not JSON", {"Content-Type": "application/x-www-form-urlencoded"}, b"payload=%7Bx", 401),
        ("declared 2 MiB", {"Content-Type": "application/json"}, b"", 413),
    ]


@SQLITE
@pytest.mark.parametrize("name", [v[0] for v in _variants()])
def test_malformed_and_unsigned_requests_get_401_or_413_with_one_log_line(rig, caplog, name):
    _, headers, body, expected = next(v for v in _variants() if v[0] == name)
    caplog.set_level(logging.DEBUG)
    caplog.clear()
    calls = len(rig.emu.calls())
    if name == "declared 2 MiB":  # a Content-Length over the limit is refused before reading the body
        parts = urlsplit(rig.handle.url)
        status = _raw(rig.handle.url, "\r\n".join([
            "POST /slack/events HTTP/1.1", f"Host: {parts.netloc}", "Content-Type: application/json",
            f"Content-Length: {2 * MIB}"]))[0]
    else:
        status = _post(rig, headers, body)
    assert status == expected
    ours = _lines_until_access_line(caplog)
    assert len(ours) == 1, [r.getMessage() for r in ours]
    line = ours[0]
    assert line.levelno in (logging.INFO, logging.WARNING) and not line.exc_info
    assert f" {expected} " in line.getMessage() and "refused" in line.getMessage()
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(rig.emu.calls()) == calls  # nothing reached Slack


@SQLITE
def test_a_signed_body_that_cannot_be_parsed_is_a_400_not_a_500(rig, caplog):
    caplog.set_level(logging.INFO)
    status, _, _ = post_to_app(rig.events_url, SECRET, b"x", "application/json")
    assert status == 400
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelno >= logging.ERROR]


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


@SQLITE
def test_a_huge_chunked_upload_is_refused_while_reading_in_constant_memory(rig, caplog):
    """300 MiB offered in chunks without a Content-Length: the server answers 413 and closes after
    about 1 MiB; what was sent before it closed is what the socket buffers took, not the upload."""
    caplog.set_level(logging.INFO)
    parts = urlsplit(rig.handle.url)
    offered = 300 * MIB
    chunk = b"a" * (256 * 1024)
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    rss_before = _rss_kib()
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as s:
        head = "\r\n".join(["POST /slack/events HTTP/1.1", f"Host: {parts.netloc}", "Content-Type: application/json",
                            "X-Slack-Request-Timestamp: 1", "X-Slack-Signature: v0=0", "Transfer-Encoding: chunked"])
        s.sendall(head.encode() + b"\r\n\r\n")
        answer = bytearray()

        def read() -> None:
            try:
                while data := s.recv(65536):
                    answer.extend(data)
            except OSError:
                pass

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            while sent < offered:
                s.sendall(framed)
                sent += len(chunk)
        except OSError:  # the server closed the connection: the rest of the upload has nowhere to go
            pass
        reader.join(60)
    assert bytes(answer).startswith(b"HTTP/1.1 413"), bytes(answer[:200])
    assert sent < 32 * MIB, f"{sent / MIB:.0f} MiB went in before the server closed the connection"
    assert _rss_kib() - rss_before < 64 * 1024  # far below the 300 MiB offered
    refused = [r for r in _lines_until_access_line(caplog) if "refused" in r.getMessage()]
    assert len(refused) == 1 and "413" in refused[0].getMessage() and not refused[0].exc_info


@SQLITE
def test_a_chunked_signed_body_under_the_limit_is_served(rig):
    """Chunked uploads are read fine when small and signed (the limit is on size, not on chunking)."""
    body = rig.emu.slash_command_payload("/kpi", "help", "U1", "C0SALES")
    parts = urlsplit(rig.handle.url)
    signed = sign_request(SECRET, body)
    chunks = b"".join(f"{len(body[i:i + 50]):x}\r\n".encode() + body[i:i + 50] + b"\r\n"
                      for i in range(0, len(body), 50)) + b"0\r\n\r\n"
    head = "\r\n".join(["POST /slack/events HTTP/1.1", f"Host: {parts.netloc}", "Connection: close",
                        "Content-Type: application/x-www-form-urlencoded", "Transfer-Encoding: chunked",
                        *(f"{k}: {v}" for k, v in signed.items())])
    assert _raw(rig.handle.url, head, chunks)[0] == 200
    assert rig.emu.wait_for(lambda e: e.ephemerals(user="U1"))


def test_verification_is_one_function_returning_what_it_verified():
    body = b"token=x&text=hi"
    now = 1_780_000_000
    verified = verify_request({k.lower(): v for k, v in sign_request("s3cret", body, now).items()}, body,
                              "s3cret", now + 10)
    assert verified.timestamp == now and verified.body == body and verified.signature.startswith("v0=")
    for headers, reason in (({}, "missing"),
                            ({"x-slack-request-timestamp": str(now), "x-slack-signature": "v0=00"}, "bad signature"),
                            ({k.lower(): v for k, v in sign_request("s3cret", body, now - 600).items()}, "away")):
        with pytest.raises(RequestRejected, match=reason) as info:
            verify_request(headers, body, "s3cret", now)
        assert info.value.status == 401
