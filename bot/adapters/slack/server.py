"""Run the Slack app: HTTP (events, commands, interactivity, OAuth) under waitress, or Socket Mode.

The HTTP side is a WSGI app guarded before Bolt sees anything (`guard`: size cap, signature,
shape; no request body is ever logged). `learnbot serve` runs it under waitress (pure Python, maintained):
a fixed pool of worker threads, idle connections held by one event loop rather than a thread
each and closed after `CHANNEL_TIMEOUT`, a cap on connections and on body size. The same
`wsgi_app` runs under any WSGI server (`wsgi_from_env()`), behind a reverse proxy.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from waitress import wasyncore
from waitress.server import create_server

from bot.adapters.slack import SlackAdapter
from bot.adapters.slack.guard import MAX_BODY, WsgiApp, guarded
from bot.adapters.slack.manifest import EVENTS_PATH
from bot.adapters.slack.retries import UNREACHABLE
from bot.config import Settings

log = logging.getLogger(__name__)

THREADS = 16  # requests in flight at once; each only verifies, parses and acks (the work is queued)
CONNECTIONS = 1000  # open connections (idle ones cost a socket, not a thread)
CHANNEL_TIMEOUT = 15  # seconds an idle connection is kept
BACKLOG = 1024


def wsgi_app(adapter: SlackAdapter) -> WsgiApp:
    """Bolt's WSGI handler for /slack/events and the OAuth paths, guarded, plus /healthz."""
    bolt = SlackRequestHandler(adapter.app, path=EVENTS_PATH)
    return guarded(bolt, adapter.settings.slack_signing_secret or "")


def wsgi_from_env() -> WsgiApp:
    """For a WSGI server: settings from the environment, the bot opened as `learnbot serve` does."""
    from bot.app import open_bot
    from bot.config import load_settings
    from bot.router import Router

    settings = load_settings()
    return wsgi_app(SlackAdapter(Router(open_bot(settings)), settings))


class HttpServer:
    """waitress serving one WSGI app; `serve_forever()` until `shutdown()`, then `server_close()`."""

    def __init__(self, app: WsgiApp, host: str, port: int, *, threads: int = THREADS) -> None:
        self._server: Any = create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            connection_limit=CONNECTIONS,
            channel_timeout=CHANNEL_TIMEOUT,
            cleanup_interval=max(1, CHANNEL_TIMEOUT // 3),
            max_request_body_size=MAX_BODY,
            backlog=BACKLOG,
            ident="learnbot",
            expose_tracebacks=False,
        )
        self.server_address = (self._server.effective_host, int(self._server.effective_port))
        self._stop = threading.Event()
        self._stopped = threading.Event()

    def serve_forever(self, poll_interval: float = 0.2) -> None:
        try:
            while not self._stop.is_set():
                wasyncore.loop(timeout=poll_interval, map=self._server._map, count=1)
        finally:
            wasyncore.close_all(self._server._map)
            self._server.task_dispatcher.shutdown()
            self._stopped.set()

    def shutdown(self) -> None:
        self._stop.set()
        self._stopped.wait(5)

    def server_close(self) -> None:
        if not self._stopped.is_set():
            wasyncore.close_all(self._server._map)
            self._server.task_dispatcher.shutdown()


def http_server(adapter: SlackAdapter, host: str = "0.0.0.0", port: int = 3000) -> HttpServer:
    """Slack alone over HTTP bound to host:port; port 0 picks a free one (`learnbot serve` uses bot.serve)."""
    return HttpServer(wsgi_app(adapter), host, port)


def serve_in_thread(adapter: SlackAdapter, host: str = "127.0.0.1", port: int = 0) -> HttpServer:
    """Start `http_server` on a background thread (tests, benchmarks); `shutdown()` stops it."""
    server = http_server(adapter, host, port)
    threading.Thread(target=server.serve_forever, args=(0.05,), name="slack-http", daemon=True).start()
    return server


def start_problem(exc: BaseException, settings: Settings, method: str = "auth.test") -> str | None:
    """What to tell someone whose `learnbot serve` could not talk to Slack at start, or None if `exc`
    is not about that: which URL, what failed, what to check."""
    url = (settings.slack_api_url or WebClient.BASE_URL).rstrip("/") + "/" + method
    if isinstance(exc, UNREACHABLE):
        reason = getattr(exc, "reason", None) or exc
        return (
            f"could not reach Slack at {url} ({reason}). Check this machine's network, DNS, proxy "
            "and firewall (HTTPS to slack.com), and SLACK_API_URL if you set it; then start again."
        )
    if isinstance(exc, SlackApiError | BoltError):
        detail = exc.response.get("error") if isinstance(exc, SlackApiError) else str(exc)
        token = "SLACK_APP_TOKEN (xapp-…, connections:write)" if method != "auth.test" else "SLACK_BOT_TOKEN"
        return (
            f"Slack refused learnbot's token at {url} ({detail}). Check {token}: copy it again from "
            "the app's settings at api.slack.com (see README, 'Install in Slack')."
        )
    return None


def socket_mode_handler(adapter: SlackAdapter, app_token: str) -> SocketModeHandler:
    """Socket Mode: Slack pushes the same payloads over a websocket; no public URL, no signatures."""
    return SocketModeHandler(adapter.app, app_token=app_token, web_client=adapter.client)
