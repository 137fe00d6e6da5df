"""A fake Slack for tests and benchmarks: the Web API and response_urls over HTTP, and Socket Mode.

`FakeSlack` is a small threaded HTTP server on 127.0.0.1 that answers the Web API methods
learnbot calls, records every call (method, parameters, token), and can be told to answer
HTTP 429 with Retry-After or a Slack error, to answer slowly, to drop the connection after
processing a call (the caller cannot tell whether it arrived), or to do all of these at random
(`chaos`). `conversations.history` returns what was posted, with metadata. `FakeSocketMode` is
a minimal websocket server that plays Slack's side of Socket Mode. `sign()` makes the headers
of a real signed request.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import random
import socket
import struct
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse

from slack_sdk.signature import SignatureVerifier

BOT_USER = "UBOT"
TEAM = "T0001"


@dataclass
class Call:
    """One request the fake received: the API method (or `response_url`), its parameters and token."""

    method: str
    params: dict[str, Any]
    token: str | None = None
    response: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


def _decode(params: dict[str, Any]) -> dict[str, Any]:
    """Form posts carry blocks and views as JSON strings: decode them so tests read structures."""
    out = dict(params)
    for key in ("blocks", "view", "attachments"):
        if isinstance(out.get(key), str):
            with contextlib.suppress(ValueError):
                out[key] = json.loads(out[key])
    return out


class _Server(ThreadingHTTPServer):
    # The stdlib's listen backlog of 5 drops connections from many concurrent senders (outbox
    # dispatchers), and a dropped SYN costs a one-second retransmit: far from real Slack.
    request_queue_size = 256

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timed out, was killed) is part of what the fake plays; say nothing.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeSlack:
    """Slack's Web API on a local port; `url` is the base URL to give WebClient (SLACK_API_URL)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.socket_url: str | None = None
        self.installing_team = ("T0002", "Beta")  # the workspace an OAuth install (oauth.v2.access) is for
        self._changed = threading.Condition()
        self._plans: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = {}
        self._delays: dict[str, float] = {}
        self._chaos: dict[str, _Chaos] = {}
        self._ts = itertools.count(1)
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/api/"

    def __enter__(self) -> FakeSlack:
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ---- telling the fake what to do ----

    def response_url(self, name: str = "r") -> str:
        return f"http://127.0.0.1:{self.port}/respond/{name}"

    def rate_limit(self, method: str, *, retry_after: int = 1, times: int = 1) -> None:
        """The next `times` calls of `method` get HTTP 429 with this Retry-After."""
        for _ in range(times):
            self._plan(method, 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})

    def fail(self, method: str, error: str, *, times: int = 1) -> None:
        """The next `times` calls of `method` get HTTP 200 with ok=false and this Slack error."""
        for _ in range(times):
            self._plan(method, 200, {"ok": False, "error": error}, {})

    def slow(self, method: str, seconds: float) -> None:
        """Every call of `method` takes this long to answer, like a slow Slack or a slow network."""
        with self._changed:
            self._delays[method] = seconds

    def drop(self, method: str, *, times: int = 1) -> None:
        """The next `times` calls of `method` take effect (a post is posted) but the connection is then
        closed without an answer, as when a network drops after Slack processed the request."""
        for _ in range(times):
            self._plan(method, _DROP, {}, {})

    def chaos(
        self,
        method: str,
        *,
        delay: tuple[float, float] = (0.0, 0.0),
        rate_limited: float = 0.0,
        errors: float = 0.0,
        dropped: float = 0.0,
        retry_after: int = 1,
        seed: int = 0,
    ) -> None:
        """Every call of `method` waits a random time in `delay`; then, at these rates, gets HTTP 429
        (Retry-After), HTTP 500 (not processed), or is processed and its connection dropped."""
        with self._changed:
            self._chaos[method] = _Chaos(
                delay, rate_limited, errors, dropped, retry_after, random.Random(seed)
            )

    def calm(self, method: str) -> None:
        """No more random delays or faults for `method` (planned answers and `slow` still apply)."""
        with self._changed:
            self._chaos.pop(method, None)

    def _plan(self, method: str, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        with self._changed:
            self._plans.setdefault(method, []).append((status, body, headers))

    # ---- reading what happened ----

    def called(self, method: str) -> list[Call]:
        with self._changed:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until `method` was called `count` times (the work after an ack is asynchronous)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self.calls if c.method == method]
                if len(found) >= count or time.monotonic() >= deadline:
                    return found
                self._changed.wait(max(0.0, deadline - time.monotonic()))

    def settle(self, quiet: float = 0.3) -> None:
        """Wait until no call arrived for `quiet` seconds (at least `quiet` from now, even with no calls).

        A heuristic: to assert that an app posted nothing more, wait for the app itself to finish
        (`SlackApp.finish()` in tests/slack_harness.py).
        """
        began = time.monotonic()
        while True:
            with self._changed:
                last = max(began, self.calls[-1].at if self.calls else 0.0)
            if time.monotonic() - last >= quiet:
                return
            time.sleep(quiet / 3)

    def delivered_keys(self) -> list[str]:
        """The outbox keys (message metadata) of every chat.postMessage that took effect, in order."""
        with self._changed:
            return [
                c.params["metadata"]["event_payload"]["key"]
                for c in self.calls
                if c.method == "chat.postMessage"
                and c.response.get("ok")
                and isinstance(c.params.get("metadata"), dict)
            ]

    def reset(self) -> None:
        with self._changed:
            self.calls.clear()

    # ---- answering ----

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel") or "C0"
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://acme.slack.com/",
                "team": "Acme",
                "user": "learnbot",
                "team_id": TEAM,
                "user_id": BOT_USER,
                "bot_id": "BBOT",
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":  # a real-time ts, so history's `oldest` works as on Slack
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            message = {"ts": ts, "text": params.get("text"), "blocks": params.get("blocks"), "user": BOT_USER}
            if params.get("thread_ts"):
                message["thread_ts"] = params["thread_ts"]
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "conversations.history":
            return self._history(channel, params)
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1700000000.{next(self._ts):06d}"}
        if method == "chat.update":
            return {"ok": True, "channel": channel, "ts": params.get("ts"), "text": params.get("text")}
        if method == "chat.getPermalink":
            ts = str(params.get("message_ts", "")).replace(".", "")
            return {
                "ok": True,
                "channel": channel,
                "permalink": f"https://acme.slack.com/archives/{channel}/p{ts}",
            }
        if method in ("views.publish", "views.open", "views.update"):
            view = params.get("view") or {}
            return {"ok": True, "view": {**view, "id": "V0001", "hash": "h1"}}
        if method == "users.info":
            user = params.get("user", "")
            profile = self.users.get(
                user, {"display_name": f"user {user}", "email": f"{user.lower()}@example.com"}
            )
            return {
                "ok": True,
                "user": {
                    "id": user,
                    "real_name": profile.get("display_name"),
                    "tz": "Europe/London",
                    "profile": profile,
                },
            }
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(params.get("users", "X")).split(",")[0]}}
        if method == "oauth.v2.access":
            return {
                "ok": True,
                "app_id": "A0001",
                "access_token": "xoxb-installed-token",
                "token_type": "bot",
                "scope": "chat:write,commands",
                "bot_user_id": BOT_USER,
                "team": {"id": self.installing_team[0], "name": self.installing_team[1]},
                "enterprise": None,
                "is_enterprise_install": False,
                "authed_user": {"id": "U0INSTALLER"},
            }
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url}
        if method == "files.getUploadURLExternal":  # files_upload_v2, step 1 of 3
            file_id = f"F{next(self._ts):08d}"
            upload_url = f"http://127.0.0.1:{self.port}/upload/{file_id}"
            return {"ok": True, "upload_url": upload_url, "file_id": file_id}
        if method == "files.completeUploadExternal":  # step 3 (step 2 posts the bytes to the upload URL)
            files = params["files"]
            files = json.loads(files) if isinstance(files, str) else files
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
        return {"ok": True}

    def _history(self, channel: str, params: dict[str, Any]) -> dict[str, Any]:
        """What was posted in `channel` after `oldest`, newest first, with metadata when asked for."""
        oldest = float(params.get("oldest") or 0)
        limit = int(params.get("limit") or 100)
        metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        with self._changed:
            posted = [
                c
                for c in self.calls
                if c.method == "chat.postMessage"
                and c.response.get("ok")
                and c.response.get("channel") == channel
            ]
        messages = []
        for call in reversed(posted):
            message = dict(call.response["message"])
            if float(message["ts"]) <= oldest:
                continue
            if metadata and call.params.get("metadata"):
                message["metadata"] = call.params["metadata"]
            messages.append(message)
        start = int(params.get("cursor") or 0)
        page = messages[start : start + limit]
        more = start + limit < len(messages)
        cursor = str(start + limit) if more else ""
        return {"ok": True, "messages": page, "has_more": more, "response_metadata": {"next_cursor": cursor}}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
                return

            def _params(self) -> dict[str, Any]:
                query = dict(parse_qsl(urlparse(self.path).query))
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if urlparse(self.path).path.startswith("/upload/"):  # a file's bytes, as uploaded
                    return {**query, "content": raw.decode("utf-8", "replace")}
                if "json" in (self.headers.get("Content-Type") or ""):
                    return {**query, **(json.loads(raw or b"{}"))}
                return _decode({**query, **dict(parse_qsl(raw.decode()))})

            def _handle(self) -> None:
                path = urlparse(self.path).path
                params = self._params()
                auth = self.headers.get("Authorization") or ""
                token = auth.removeprefix("Bearer ") or params.get("token") or None
                method = "response_url" if path.startswith("/respond/") else path.removeprefix("/api/")
                method = "upload" if path.startswith("/upload/") else method
                with fake._changed:
                    plan = fake._plans.get(method)
                    planned = bool(plan)
                    status, body, headers = plan.pop(0) if plan else (200, None, {})
                    chaos = fake._chaos.get(method)
                    if chaos is not None and not planned:
                        status, body, headers = chaos.pick(status, body, headers)
                    pause = fake._delays.get(method, 0.0) + (chaos.pause() if chaos else 0.0)
                time.sleep(pause)
                dropped = status == _DROP
                if body is None or dropped:
                    body = {"ok": True} if method == "response_url" else fake._answer(method, params)
                with fake._changed:
                    fake.calls.append(Call(method, params, token, body))
                    fake._changed.notify_all()
                if dropped:  # processed, but the caller never hears back
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = _handle
            do_GET = _handle

        return Handler


_DROP = -1  # a planned "status": process the call, then close the connection without answering


@dataclass
class _Chaos:
    """Random delays and faults for one method (see `FakeSlack.chaos`)."""

    delay: tuple[float, float]
    rate_limited: float
    errors: float
    dropped: float
    retry_after: int
    rng: random.Random

    def pause(self) -> float:
        low, high = self.delay
        return self.rng.uniform(low, high) if high > 0 else 0.0

    def pick(
        self, status: int, body: dict[str, Any] | None, headers: dict[str, str]
    ) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        roll = self.rng.random()
        if roll < self.rate_limited:
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(self.retry_after)}
        roll -= self.rate_limited
        if roll < self.errors:
            return 500, {"ok": False, "error": "internal_error"}, {}
        roll -= self.errors
        if roll < self.dropped:
            return _DROP, None, {}
        return status, body, headers


# ---- signed requests, as Slack sends them ----


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """The two headers Slack adds: request timestamp and the v0 HMAC-SHA256 signature."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature or ""}


def post(url: str, body: str, content_type: str, headers: dict[str, str]) -> tuple[int, str]:
    """POST and return (status, body) whatever the status is."""
    request = urllib.request.Request(
        url, data=body.encode(), method="POST", headers={"Content-Type": content_type, **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def event_body(event: dict[str, Any], event_id: str, team: str = TEAM) -> str:
    """An Events API callback wrapping `event`, as JSON text."""
    return json.dumps(
        {
            "token": "unused",
            "team_id": team,
            "api_app_id": "A0001",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team, "user_id": BOT_USER, "is_bot": True}],
        }
    )


def form_body(fields: dict[str, str]) -> str:
    return urlencode(fields)


def payload_body(payload: dict[str, Any]) -> str:
    """Interactivity (buttons, views, shortcuts) arrives as a form with one `payload` JSON field."""
    return urlencode({"payload": json.dumps(payload)})


# ---- Socket Mode ----

_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class FakeSocketMode:
    """Slack's side of one Socket Mode websocket: says hello, sends envelopes, collects acks."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self._listener.getsockname()[1]}/link"
        self.acks: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        self._conn: socket.socket | None = None
        self._send_lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                request += chunk
            key = next(
                line.split(":", 1)[1].strip()
                for line in request.decode("latin-1").split("\r\n")
                if line.lower().startswith("sec-websocket-key:")
            )
            accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
            conn.sendall(
                (
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
                ).encode()
            )
            with self._changed:
                self._conn = conn
                self._changed.notify_all()
            self.send({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}})
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def wait_connected(self, timeout: float = 5.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self._conn is not None, timeout)

    def send(self, message: dict[str, Any], opcode: int = 0x1) -> None:
        self._frame(json.dumps(message).encode(), opcode)

    def _frame(self, data: bytes, opcode: int) -> None:
        length = len(data)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, length)
        elif length < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 127, length)
        assert self._conn is not None
        with self._send_lock:
            self._conn.sendall(header + data)

    def _read(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        while True:
            head = reader.read(2)
            if len(head) < 2:
                return
            opcode, length = head[0] & 0x0F, head[1] & 0x7F
            if length == 126:
                length = struct.unpack("!H", reader.read(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", reader.read(8))[0]
            mask = reader.read(4) if head[1] & 0x80 else b"\0\0\0\0"
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(reader.read(length)))
            if opcode == 0x9:
                self._frame(data, 0xA)
            elif opcode == 0x8:
                return
            elif opcode == 0x1:
                with self._changed:
                    self.acks.append(json.loads(data))
                    self._changed.notify_all()

    def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any] | None:
        with self._changed:
            self._changed.wait_for(
                lambda: any(a.get("envelope_id") == envelope_id for a in self.acks), timeout
            )
            return next((a for a in self.acks if a.get("envelope_id") == envelope_id), None)

    def close(self) -> None:
        self._listener.close()
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.shutdown(socket.SHUT_RDWR)
            self._conn.close()
