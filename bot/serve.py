"""`learnbot serve`: every configured platform on one HTTP server and one port, one start sequence.

Slack over HTTP gets `/slack/events` (and its OAuth pages), Teams gets `/api/messages`, and
`/healthz` answers `ok` whatever is served; one waitress server routes by path. Slack in Socket
Mode connects out over a websocket instead, while the HTTP server keeps `/healthz` (and Teams).
The adapters never import each other: this module, above both, composes them. `bot.cli` only
parses the arguments and checks the configuration before calling `serve`.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from bot.config import Settings

log = logging.getLogger("learnbot")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
EXIT_USAGE = 2
ANONYMOUS_WARNING = (
    "WARNING: TEAMS_ALLOW_ANONYMOUS=1: Teams requests without a token are accepted and replies are sent "
    "without one. This is for local testing against a fake connector only; never expose this port."
)


class CannotListen(Exception):
    """The HTTP server could not bind host:port; the message says which and why."""


def teams_problems(settings: Settings) -> list[str]:
    """What is missing for Teams, by variable name (never the values)."""
    if settings.teams_allow_anonymous or not settings.teams_app_id:
        return []
    problems = []
    if not (settings.teams_app_password or settings.teams_cert_pfx_file):
        problems.append("TEAMS_APP_ID is set but neither TEAMS_APP_PASSWORD nor TEAMS_CERT_PFX_FILE is")
    if not settings.teams_tenant_id:
        problems.append("TEAMS_TENANT_ID is not set (the bot's single tenant, from its Azure registration)")
    if settings.teams_cert_pfx_file and not settings.teams_cert_pfx_file.is_file():
        problems.append("TEAMS_CERT_PFX_FILE does not name a readable file")
    return problems


def quiet_sdk_logs(settings: Settings) -> None:
    """The Agents SDK logs every send with its ids at INFO, and may log payloads at DEBUG: warnings only.
    In anonymous mode its per-turn 'App ID is not provided' warning says nothing new: errors only."""
    logging.getLogger("microsoft_agents").setLevel(logging.WARNING)
    if settings.teams_allow_anonymous and not settings.teams_app_id:
        logging.getLogger("microsoft_agents.hosting.core.connector.client.user_token_client").setLevel(
            logging.ERROR
        )


def routes(slack: WsgiApp | None, teams: WsgiApp | None) -> WsgiApp:
    """One WSGI app: /api/messages to Teams, everything else to Slack (its guard answers /healthz)."""
    from bot.adapters.teams.server import MESSAGES_PATH

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if teams is not None and path == MESSAGES_PATH:
            return teams(environ, start_response)
        if slack is not None:
            return slack(environ, start_response)
        status, body = ("200 OK", b"ok") if path == "/healthz" else ("404 Not Found", b"not found")
        start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    return app


class Served:
    """The adapters behind one server; `stop()` shuts a running server and everything down."""

    def __init__(self, server: Any, slack: Any, teams: Any, *, slack_http: bool = True) -> None:
        self.server, self.slack, self.teams = server, slack, teams
        self.slack_http = slack is not None and slack_http
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.close()

    def close(self) -> None:
        """Close the server (no new requests), then let each adapter finish its queued work."""
        self.server.server_close()
        if self.teams is not None:
            self.teams.stop()
        if self.slack is not None:
            self.slack.work.wait_idle(5)
            self.slack.work.shutdown()


def build(settings: Settings, router: Any, *, slack_http: bool, host: str, port: int) -> Served:
    """The HTTP server for the configured platforms (bound, not started): Slack over HTTP when `slack_http`.

    Slack comes first: its token check (auth.test) is what most often stops a start."""
    from bot.adapters.slack.server import HttpServer

    slack = teams = None
    slack_app = teams_app = None
    if settings.has_slack:
        from bot.adapters.slack import SlackAdapter
        from bot.adapters.slack.server import wsgi_app as slack_wsgi

        slack = SlackAdapter(router, settings)  # checks the bot token with auth.test
        slack_app = slack_wsgi(slack) if slack_http else None
    if settings.has_teams:
        from bot.adapters.teams import TeamsAdapter
        from bot.adapters.teams.server import wsgi_app as teams_wsgi

        teams = TeamsAdapter(router, settings)
        teams_app = teams_wsgi(teams)
    try:
        server = HttpServer(routes(slack_app, teams_app), host, port)
    except OSError as exc:
        if teams is not None:
            teams.stop()
        if slack is not None:
            slack.work.shutdown()
        raise CannotListen(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}). Stop what uses that port, "
            "or choose another with --port (or another address with --host)."
        ) from exc
    return Served(server, slack, teams, slack_http=slack_http)


def start_in_thread(settings: Settings, router: Any, host: str = "127.0.0.1", port: int = 0) -> Served:
    """`build` with Slack over HTTP, serving on a background thread (tests, benchmarks)."""
    served = build(settings, router, slack_http=True, host=host, port=port)
    threading.Thread(
        target=served.server.serve_forever, args=(0.05,), name="learnbot-http", daemon=True
    ).start()
    return served


def _start_failed(exc: BaseException, settings: Settings, method: str = "auth.test") -> int:
    """Say why the start failed and return exit code 2, or re-raise what is not a start problem."""
    from bot.adapters.slack.server import start_problem

    problem = str(exc) if isinstance(exc, CannotListen) else start_problem(exc, settings, method=method)
    if problem is None:
        raise exc
    print(f"error: {problem}", file=sys.stderr)
    return EXIT_USAGE


def started_lines(served: Served, settings: Settings) -> list[str]:
    """What `serve` prints once everything is up: where each platform is reached, and how to stop."""
    from bot.adapters.slack import EVENTS_PATH, INSTALL_PATH
    from bot.adapters.teams.server import MESSAGES_PATH

    lines = []
    if served.slack_http:
        lines.append(f"learnbot is listening for Slack on {served.url}{EVENTS_PATH}")
    elif served.slack is not None:
        lines.append("learnbot is connected to Slack in Socket Mode")
    if served.teams is not None:
        lines.append(f"learnbot is listening for Teams on {served.url}{MESSAGES_PATH}")
    if served.slack_http and settings.has_slack_oauth:
        lines.append(f"install it in a workspace at {served.url}{INSTALL_PATH}")
    lines.append(f"health check at {served.url}/healthz (Ctrl-C to stop)")
    return lines


def serve(settings: Settings, *, host: str, port: int, nudges: bool, socket_mode: bool) -> int:
    """Run until Ctrl-C (then exit 0): whatever is configured on host:port, Slack over HTTP or Socket Mode.

    The configuration is already checked (bot.cli); a start that fails on Slack's answer or on the port
    says why and returns 2. Everything started is shut down on the way out."""
    from bot.adapters.slack.guard import configure_logging
    from bot.adapters.slack.server import socket_mode_handler
    from bot.app import open_bot
    from bot.router import Router
    from bot.wiring import start_nudges  # this replica's planner, dispatcher and campaign crons

    configure_logging(settings.log_level)  # one line per record, third-party loggers at WARNING
    quiet_sdk_logs(settings)
    if settings.teams_allow_anonymous:
        print(ANONYMOUS_WARNING, file=sys.stderr, flush=True)
        log.warning(ANONYMOUS_WARNING)
    bot = open_bot(settings)
    try:
        served = build(settings, Router(bot), slack_http=not socket_mode, host=host, port=port)
    except Exception as exc:
        return _start_failed(exc, settings)
    scheduler = start_nudges(bot, settings) if nudges else None
    socket = None
    try:
        if served.slack is not None and not served.slack_http:
            socket = socket_mode_handler(served.slack, settings.slack_app_token or "")
            try:
                socket.connect()
            except Exception as exc:
                return _start_failed(exc, settings, method="apps.connections.open")
        for line in started_lines(served, settings):
            print(line, flush=True)
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a served bot is stopped
            served.server.serve_forever()
        return 0
    finally:
        if socket is not None:
            socket.close()
        if scheduler is not None:
            scheduler.shutdown()
        served.close()
