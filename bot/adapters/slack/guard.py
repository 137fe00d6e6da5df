"""What reaches learnbot's HTTP endpoint before anyone is authenticated, and what gets logged.

A body over `MAX_BODY` bytes is refused with 413 before it is read; a POST to /slack/events
without a valid signature gets 401 before its body is parsed; a signed body that is not what
Slack sends gets 400; nothing here or below logs a request body, and every log record stays
on one line (`OneLine`), so a value someone typed cannot forge a log line.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from slack_sdk.signature import SignatureVerifier

from bot.adapters.slack.manifest import EVENTS_PATH

log = logging.getLogger(__name__)
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

MAX_BODY = 1024 * 1024  # Slack's own payloads are a few kB; a modal with 100 blocks stays far below this


QUIET = ("slack_sdk", "slack_bolt", "learnbot.bolt", "waitress", "urllib3")


class OneLine(logging.Filter):
    """Every log record on one line: newlines and carriage returns in messages (user data) escaped,
    so a value someone typed cannot forge a log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "\n" in message or "\r" in message:
            record.msg, record.args = message.replace("\r", "\\r").replace("\n", "\\n"), None
        return True


def configure_logging(level: str) -> None:
    """`learnbot serve`'s logging: one line per record on stderr, third-party loggers at WARNING
    (their debug and info lines can carry payloads), never a request body."""
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, OneLine) for f in handler.filters):
            handler.addFilter(OneLine())
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # a burst is normal: acks are queued work


def _reply(start_response: Callable[..., Any], status: str, text: str) -> list[bytes]:
    data = (text + "\n").encode()
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data)))]
    start_response(status, headers)
    return [data]


def _length(environ: dict[str, Any]) -> int | None:
    try:
        return max(0, int(environ.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return None


def _well_formed(body: bytes, content_type: str) -> bool:
    """What Slack sends: a JSON object, or a form whose `payload` (when present) is a JSON object."""
    try:
        text = body.decode("utf-8")
        if content_type.startswith("application/json"):
            return isinstance(json.loads(text), dict)
        fields = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text)))
        return "payload" not in fields or isinstance(json.loads(fields["payload"]), dict)
    except ValueError:
        return False


def guarded(bolt: WsgiApp, signing_secret: str) -> WsgiApp:
    """Size cap, signature and shape checks in front of Bolt's WSGI handler, plus /healthz."""
    verifier = SignatureVerifier(signing_secret)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz":
            return _reply(start_response, "200 OK", "ok")
        length = _length(environ)
        if length is None:
            return _reply(start_response, "400 Bad Request", "bad Content-Length")
        if length > MAX_BODY:
            return _reply(start_response, "413 Payload Too Large", "request body too large")
        if path != EVENTS_PATH or method != "POST":
            return bolt(environ, start_response)  # OAuth pages: GETs with a query string, no body
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            "x-slack-request-timestamp": environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""),
            "x-slack-signature": environ.get("HTTP_X_SLACK_SIGNATURE", ""),
        }
        try:
            signed = verifier.is_valid_request(body, headers)
        except (ValueError, TypeError):  # a timestamp that is not a number, a body that is not text
            signed = False
        if not signed:
            return _reply(start_response, "401 Unauthorized", "invalid request signature")
        if not _well_formed(body, environ.get("CONTENT_TYPE") or ""):
            return _reply(start_response, "400 Bad Request", "malformed request body")
        environ = {**environ, "wsgi.input": io.BytesIO(body)}
        try:
            return bolt(environ, start_response)
        except Exception:
            log.exception("the Slack request could not be handled (body not logged)")
            return _reply(start_response, "400 Bad Request", "request could not be handled")

    return application
