"""A local fake of the Bot Framework connector Teams bots talk to, recording every call.

It answers what learnbot's SDK client sends: `POST /v3/conversations/{id}/activities` (a new
message), `POST …/activities/{replyToId}` (a reply in a thread), `PUT …/activities/{id}` (an
update), `POST /v3/conversations` (a new thread in a channel, recorded under the channel's id) and
`GET …/members/{userId}` (member lookup, from `members`). `fail(status, …)` makes the
next calls answer an error (429 or 503 with Retry-After, 403, …). It also serves a JWKS at `/keys`
for token tests. Tests wait for calls (`wait_for`), never for a fixed time.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit


@dataclass
class Call:
    method: str
    path: str
    conversation: str
    reply_to: str | None
    body: dict[str, Any]
    authorization: str | None
    at: float = field(default_factory=time.monotonic)  # when it arrived (for the benchmark's latencies)

    @property
    def card(self) -> dict[str, Any] | None:
        for attachment in self.body.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return attachment["content"]
        return None

    @property
    def text(self) -> str:
        """What a person reads: the message text, or every text in the card, one per line."""
        return readable(card_text(self.card) if self.card else str(self.body.get("text") or ""))


def readable(markdown: str) -> str:
    """Markdown as a person reads it: escapes and emphasis markers gone (links and mentions stay)."""
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", markdown.replace("\u200b", ""))
    return re.sub(r"\\(.)", r"\1", text)


def card_text(card: Any) -> str:
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                out.append(str(node.get("text")))
            for key, value in node.items():
                if key not in ("data", "msteams") and isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card.get("body") if isinstance(card, dict) else card)
    return "\n".join(out)


def buttons(card: dict[str, Any] | None) -> list[str]:
    return [a["title"] for a in (card or {}).get("actions", []) if a.get("type") == "Action.Execute"]


@dataclass
class _Failure:
    status: int
    retry_after: str | None
    count: int


@dataclass
class FakeConnector:
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    jwks: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    calls: list[Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._changed = threading.Condition()
        self._failures: list[_Failure] = []
        self._numbers = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                path = urlsplit(self.path).path
                if path == "/keys":
                    return self._send(200, fake.jwks)
                parts = [unquote(p) for p in path.strip("/").split("/")]
                if len(parts) == 5 and parts[:2] == ["v3", "conversations"] and parts[3] == "members":
                    member = fake.members.get(parts[4])
                    fake._record("GET", path, parts[2], None, {}, self.headers.get("Authorization"))
                    return self._send(200, member) if member else self._send(404, {"error": "no member"})
                return self._send(404, {"error": "unknown path"})

            def _activity(self, method: str) -> None:
                path = urlsplit(self.path).path
                parts = [unquote(p) for p in path.strip("/").split("/")]
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if parts == ["v3", "conversations"] and method == "POST":  # a new thread in a channel
                    failure = fake._failure()
                    if failure is not None:
                        return self._send(failure.status, {"error": {"code": "Failure"}})
                    channel = ((body.get("channelData") or {}).get("channel") or {}).get("id") or ""
                    activity = body.get("activity") or {}
                    number = fake._record(
                        "POST", path, channel, None, activity, self.headers.get("Authorization")
                    )
                    return self._send(
                        201, {"id": f"{channel};messageid={number}", "activityId": f"activity-{number}"}
                    )
                if len(parts) < 4 or parts[:2] != ["v3", "conversations"] or parts[3] != "activities":
                    return self._send(404, {"error": "unknown path"})
                failure = fake._failure()
                if failure is not None:
                    headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
                    return self._send(failure.status, {"error": {"code": "Failure"}}, headers)
                target = parts[4] if len(parts) > 4 else None
                number = fake._record(method, path, parts[2], target, body, self.headers.get("Authorization"))
                return self._send(200 if method == "PUT" else 201, {"id": target or f"activity-{number}"})

            def do_POST(self) -> None:  # noqa: N802
                self._activity("POST")

            def do_PUT(self) -> None:  # noqa: N802
                self._activity("PUT")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def _record(
        self, method: str, path: str, conversation: str, target: str | None, body: Any, auth: str | None
    ) -> int:
        with self._changed:
            self._numbers += 1
            self.calls.append(Call(method, path, conversation, target, body, auth))
            self._changed.notify_all()
            return self._numbers

    def _failure(self) -> _Failure | None:
        with self._changed:
            if not self._failures:
                return None
            failure = self._failures[0]
            failure.count -= 1
            if failure.count <= 0:
                self._failures.pop(0)
            return failure

    def fail(self, status: int, *, retry_after: str | None = None, count: int = 1) -> None:
        """The next `count` activity posts answer `status` (with Retry-After when given)."""
        with self._changed:
            self._failures.append(_Failure(status, retry_after, count))

    def posts(self) -> list[Call]:
        with self._changed:
            return [c for c in self.calls if c.method != "GET"]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Call]:
        """The activity posts and updates once there are at least `count` of them."""
        with self._changed:
            done = self._changed.wait_for(
                lambda: len([c for c in self.calls if c.method != "GET"]) >= count, timeout
            )
            posted = [c for c in self.calls if c.method != "GET"]
        assert done, f"expected {count} messages at the connector, got {len(posted)}: {posted}"
        return posted

    def reset(self) -> None:
        with self._changed:
            self.calls.clear()
            self._failures.clear()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
