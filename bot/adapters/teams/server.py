"""`/api/messages` as a WSGI app, so Teams shares `learnbot serve`'s one HTTP server and port with Slack.

Before the adapter sees anything: a POST only (405), a body over `MAX_BODY` refused before it is
read (413). The adapter then checks the token (401) and the activity's shape (400). The work runs
on the adapter's asyncio loop; a request that cannot be finished in time gets 503 (Teams retries),
never a traceback. No request body or token is ever logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from bot.adapters.teams.adapter import TeamsAdapter

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
MESSAGES_PATH = "/api/messages"
MAX_BODY = 256 * 1024  # activities are a few kB; nothing a person types comes near this
REQUEST_SECONDS = 12.0  # Teams waits about 15 s for an invoke's answer
STATUS = {
    200: "200 OK",
    202: "202 Accepted",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    413: "413 Payload Too Large",
    500: "500 Internal Server Error",
    501: "501 Not Implemented",
    503: "503 Service Unavailable",
}


def _reply(start_response: Callable[..., Any], status: int, body: Any = None) -> Iterable[bytes]:
    data = b"" if body is None else json.dumps(body).encode()
    headers = [("Content-Length", str(len(data)))]
    if data:
        headers.append(("Content-Type", "application/json; charset=utf-8"))
    start_response(STATUS.get(status, f"{status} Status"), headers)
    return [data]


def wsgi_app(adapter: TeamsAdapter) -> WsgiApp:
    """POST /api/messages → the adapter; anything else at this path is refused plainly."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != MESSAGES_PATH:
            return _reply(start_response, 404, {"error": "not found"})
        if environ.get("REQUEST_METHOD") != "POST":
            return _reply(start_response, 405, {"error": "POST activities here"})
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _reply(start_response, 400, {"error": "bad Content-Length"})
        if length > MAX_BODY:
            return _reply(start_response, 413, {"error": "request body too large"})
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        headers = {"Authorization": environ.get("HTTP_AUTHORIZATION") or ""}
        try:
            status, payload = adapter.handle_sync(headers, body, timeout=REQUEST_SECONDS)
        except FutureTimeout:
            log.warning("teams: a request took longer than %.0f s; answered 503", REQUEST_SECONDS)
            return _reply(start_response, 503, {"error": "busy, try again"})
        except Exception:
            log.exception("teams: handling a request failed")
            return _reply(start_response, 500, {"error": "internal error"})
        return _reply(start_response, status, payload)

    return app
