"""HTTP plumbing: decoding requests the way slack_sdk encodes them and routing them to the emulator."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from .models import decode_json_params

if TYPE_CHECKING:
    from .core import SlackEmulator

log = logging.getLogger(__name__)

# Bigger than Slack's own limits for anything but files, and a guard against a runaway client.
MAX_BODY = 64 * 1024 * 1024


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), headers=headers or {})

    @classmethod
    def text(cls, status: int, text: str, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, text.encode("utf-8"), "text/plain; charset=utf-8", headers or {})


@dataclass
class ApiRequest:
    params: dict[str, Any]
    token: str | None
    parse_error: str | None = None


def parse_api_request(query: str, headers: Any, body: bytes) -> ApiRequest:
    """Query string, then body (form, JSON or multipart); JSON-in-text fields decoded; token split off."""
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    content_type = (headers.get("Content-Type") or "").lower()
    parse_error = None
    if body:
        if content_type.startswith("application/json"):
            try:
                decoded = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                decoded, parse_error = {}, "invalid_json"
            if not isinstance(decoded, dict):
                decoded, parse_error = {}, "invalid_json"
            params.update(decoded)
        elif content_type.startswith("multipart/form-data"):
            try:
                params.update(_parse_multipart(headers.get("Content-Type"), body))
            except (ValueError, UnicodeDecodeError):
                parse_error = "invalid_form_data"
        else:
            try:
                params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
            except UnicodeDecodeError:
                parse_error = "invalid_form_data"
    token = params.pop("token", None)
    auth = headers.get("Authorization") or ""
    if auth[:7].lower() == "bearer ":
        token = auth[7:].strip()
    return ApiRequest(decode_json_params(params), token if isinstance(token, str) else None, parse_error)


def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise ValueError("not multipart")
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        fields[str(name)] = payload if part.get_filename() else payload.decode("utf-8")
    return fields


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Tests start and stop many emulators; a lingering TIME_WAIT must not block a fresh bind.
    allow_reuse_address = True
    # socketserver's default backlog of 5 makes a burst of parallel clients wait a 1 s SYN retry.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], emulator: SlackEmulator) -> None:
        self.emulator = emulator
        super().__init__(address, EmulatorRequestHandler)


class EmulatorRequestHandler(BaseHTTPRequestHandler):
    server: EmulatorHTTPServer
    server_version = "SlackEmulator/1.0"

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _dispatch(self, verb: str) -> None:
        path, _, query = self.path.partition("?")
        emulator = self.server.emulator
        try:
            body = self._read_body()
            if body is None:
                reply = Reply.text(413, "request_too_large")
            elif path.startswith("/api/"):
                request = parse_api_request(query, self.headers, body)
                reply = emulator._handle_api(unquote(path[len("/api/") :]), request)
            elif verb == "POST" and path.startswith("/response/"):
                reply = emulator._handle_response_url(path[len("/response/") :], body)
            elif verb == "POST" and path.startswith("/upload/"):
                reply = emulator._handle_upload(path[len("/upload/") :], body)
            elif verb == "GET" and path.startswith("/files/"):
                reply = emulator._serve_file(path[len("/files/") :].split("/", 1)[0])
            elif verb == "GET" and path == "/_emulator/state":
                reply = Reply.json(200, emulator.snapshot())
            elif verb == "GET" and path == "/":
                reply = Reply.json(200, {"ok": True, "emulator": "slack", "api_url": emulator.api_url})
            else:
                reply = Reply.json(404, {"ok": False, "error": "not_found"})
            self._send(reply)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up first (its timeout fired during an injected delay): nothing to answer to.
            log.debug("client went away before the answer to %s %s", verb, path)
        except Exception:
            log.exception("Slack emulator failed on %s %s", verb, path)
            try:
                self._send(Reply.json(500, {"ok": False, "error": "internal_error"}))
            except OSError:
                pass

    def _read_body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)
