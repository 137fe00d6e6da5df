"""Run the Slack app: a threaded HTTP server (events, commands, interactivity, OAuth) or Socket Mode.

The HTTP side is a WSGI app, so the same object runs under gunicorn in production
(`gunicorn 'bot.adapters.slack.server:wsgi_from_env()'`) or the stdlib server `learnbot serve` starts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.adapters.slack import SlackAdapter
from bot.adapters.slack.manifest import EVENTS_PATH

log = logging.getLogger(__name__)
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi_app(adapter: SlackAdapter) -> WsgiApp:
    """Bolt's WSGI handler for /slack/events and the OAuth paths, plus /healthz for load balancers."""
    bolt = SlackRequestHandler(adapter.app, path=EVENTS_PATH)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"ok\n"]
        return bolt(environ, start_response)

    return application


def wsgi_from_env() -> WsgiApp:
    """For a WSGI server: settings from the environment, the bot opened as `learnbot serve` does."""
    from bot.app import open_bot
    from bot.config import load_settings
    from bot.router import Router

    settings = load_settings()
    return wsgi_app(SlackAdapter(Router(open_bot(settings)), settings))


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128


class _QuietHandler(WSGIRequestHandler):
    """Access lines go to our log at debug level, not to stderr."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        log.debug("%s " + format, self.address_string(), *args)


def http_server(adapter: SlackAdapter, host: str = "0.0.0.0", port: int = 3000) -> WSGIServer:
    """A threaded HTTP server (one thread per request) bound to host:port; port 0 picks a free one."""
    return make_server(
        host, port, wsgi_app(adapter), server_class=_ThreadingServer, handler_class=_QuietHandler
    )


def serve_in_thread(adapter: SlackAdapter, host: str = "127.0.0.1", port: int = 0) -> WSGIServer:
    """Start `http_server` on a background thread (tests, benchmarks); `shutdown()` stops it."""
    server = http_server(adapter, host, port)
    threading.Thread(target=server.serve_forever, args=(0.05,), name="slack-http", daemon=True).start()
    return server


def socket_mode_handler(adapter: SlackAdapter, app_token: str) -> SocketModeHandler:
    """Socket Mode: Slack pushes the same payloads over a websocket; no public URL, no signatures."""
    return SocketModeHandler(adapter.app, app_token=app_token, web_client=adapter.client)
