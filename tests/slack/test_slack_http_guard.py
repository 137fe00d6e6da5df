"""What reaches the HTTP endpoint before anyone is authenticated (findings 9, 10, 11).

A body over 1 MB is refused with 413 before it is read; no request body is ever logged;
unsigned or malformed requests get 401 or 400, never a 500 with a traceback; idle
connections cost no thread each (waitress: a fixed pool of workers, one event loop).
"""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
import time
from urllib.parse import urlparse

import pytest

from bot.adapters.slack.guard import MAX_BODY, OneLine, configure_logging, guarded
from storage.models import Question
from tests.fake_slack import FakeSlack, event_body, form_body, sign
from tests.slack_harness import SECRET, SlackApp, rows

MARKER = "forged-log-line-7f3a"


def _address(app: SlackApp) -> tuple[str, int]:
    url = urlparse(app.url)
    return url.hostname or "127.0.0.1", url.port or 80


def _raw(app: SlackApp, head: str, body: bytes = b"", timeout: float = 5.0) -> str:
    """Send raw bytes and return the status line (or what went wrong)."""
    with socket.create_connection(_address(app), timeout=timeout) as conn:
        conn.sendall(head.encode() + body)
        try:
            return conn.recv(200).decode(errors="replace").split("\r\n", 1)[0]
        except TimeoutError:
            return "timed out"


def test_a_huge_body_is_refused_before_it_is_read(slack: SlackApp) -> None:
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 52428800\r\n\r\n"
    )
    assert " 413 " in _raw(slack, head, b'{"type": "')  # 50 MB announced, a few bytes sent


def test_under_any_wsgi_server_a_big_body_gets_413_unread() -> None:
    """The same cap in the WSGI app itself, for gunicorn or another server in front of it."""

    class Unreadable(io.RawIOBase):
        def read(self, *_: object) -> bytes:
            raise AssertionError("the body was read")

    def bolt(*_: object) -> list[bytes]:
        raise AssertionError("Bolt saw the request")

    statuses: list[str] = []
    environ = {
        "PATH_INFO": "/slack/events",
        "REQUEST_METHOD": "POST",
        "CONTENT_LENGTH": str(MAX_BODY + 1),
        "wsgi.input": Unreadable(),
    }
    guarded(bolt, SECRET)(environ, lambda status, _headers: statuses.append(status))
    assert statuses == ["413 Payload Too Large"]


def test_request_bodies_are_never_logged(slack: SlackApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    forged = form_body({"command": "/learn", "text": f"hi\n2026-11-27 ERROR learnbot: {MARKER}"})
    assert slack.send(forged, "application/x-www-form-urlencoded", {})[0] == 401
    unhandled = event_body({"type": "reaction_added", "user": "U0ONE", "reaction": MARKER}, "Ev-unhandled")
    assert slack.send(unhandled, "application/json")[0] in (200, 404)  # signed, but nobody listens
    slack.finish()
    assert caplog.records, "Bolt says it did not handle the reaction"
    assert all(MARKER not in record.getMessage() for record in caplog.records)


def test_logged_user_data_stays_on_one_line() -> None:
    record = logging.LogRecord(
        "x", logging.WARNING, __file__, 1, "users.info failed for %s", ("U1\nFAKE",), None
    )
    assert OneLine().filter(record)
    assert record.getMessage() == "users.info failed for U1\\nFAKE"


def test_serve_keeps_third_party_loggers_at_warning() -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        root.handlers = [logging.StreamHandler(io.StringIO())]
        configure_logging("DEBUG")
        for name in ("slack_sdk", "slack_bolt", "learnbot.bolt", "waitress"):
            assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING
        assert any(isinstance(f, OneLine) for f in root.handlers[0].filters)
    finally:
        root.handlers, root.level = handlers, level


@pytest.mark.parametrize(
    ("body", "content_type", "headers", "status"),
    [
        ("{not json", "application/json", None, 401),
        ("payload=%7Bnot json", "application/x-www-form-urlencoded", None, 401),
        ('{"type": "event_callback"}', "application/json", {"X-Slack-Request-Timestamp": "soon"}, 401),
        ("{not json", "application/json", "signed", 400),
        ("payload=%7Bnot json", "application/x-www-form-urlencoded", "signed", 400),
        ("a=1&&&=%%%", "application/x-www-form-urlencoded", "signed", 400),
        ("[1, 2]", "application/json", "signed", 400),
    ],
)
def test_malformed_requests_get_400_or_401_never_500(
    slack: SlackApp, fake: FakeSlack, body: str, content_type: str, headers: object, status: int
) -> None:
    sent = sign(SECRET, body) if headers == "signed" else (headers or {})
    if isinstance(headers, dict):
        sent = {**headers, "X-Slack-Signature": "v0=00"}
    code, text, _ = slack.send(body, content_type, sent)
    assert code == status
    assert "Traceback" not in text
    slack.finish()
    assert fake.calls == [] and rows(slack, Question) == []


def test_idle_connections_hold_no_thread_each(slack: SlackApp, fake: FakeSlack) -> None:
    before = threading.active_count()
    idle = [socket.create_connection(_address(slack), timeout=5) for _ in range(300)]
    try:
        body = event_body(
            {
                "type": "message",
                "channel_type": "im",
                "user": "U0ONE",
                "text": "hi",
                "ts": "1.1",
                "channel": "D1",
            },
            "Ev-after-idle",
        )
        assert slack.send(body, "application/json")[0] == 200  # served after every idle connection
        time.sleep(0.2)  # let an old-style server start its per-connection threads (none expected)
        assert threading.active_count() - before < 40
    finally:
        for conn in idle:
            conn.close()
    slack.finish()
    assert json.dumps(fake.called("chat.postMessage")[0].params).count("D1") >= 1
