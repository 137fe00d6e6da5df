"""`learnbot serve` with Teams: every configured platform on one HTTP server and one port.

Slack keeps `/slack/events` (and its OAuth pages and `/healthz`), Teams gets `/api/messages`;
one waitress server routes by path. The adapters never import each other: this module, above
both, composes them. Slack in Socket Mode runs beside the HTTP server when SLACK_APP_TOKEN is set.
With only Slack configured, `learnbot serve` does not come here (bot.cli serves Slack as before).
"""

from __future__ import annotations

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
    """The adapters behind one server; `stop()` shuts everything down."""

    def __init__(self, server: Any, slack: Any, teams: Any) -> None:
        self.server, self.slack, self.teams = server, slack, teams
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self.teams is not None:
            self.teams.stop()
        if self.slack is not None:
            self.slack.work.wait_idle(5)
            self.slack.work.shutdown()


def build(settings: Settings, router: Any, *, slack_http: bool, host: str, port: int) -> Served:
    """The HTTP server for the configured platforms (not started): Slack over HTTP when `slack_http`."""
    from bot.adapters.slack.server import HttpServer

    slack = teams = None
    slack_app = teams_app = None
    if settings.has_teams:
        from bot.adapters.teams import TeamsAdapter
        from bot.adapters.teams.server import wsgi_app as teams_wsgi

        teams = TeamsAdapter(router, settings)
        teams_app = teams_wsgi(teams)
    if settings.has_slack:
        from bot.adapters.slack import SlackAdapter
        from bot.adapters.slack.server import wsgi_app as slack_wsgi

        slack = SlackAdapter(router, settings)  # checks the bot token with auth.test
        slack_app = slack_wsgi(slack) if slack_http else None
    return Served(HttpServer(routes(slack_app, teams_app), host, port), slack, teams)


def start_in_thread(settings: Settings, router: Any, host: str = "127.0.0.1", port: int = 0) -> Served:
    """`build` with Slack over HTTP, serving on a background thread (tests, benchmarks)."""
    served = build(settings, router, slack_http=True, host=host, port=port)
    threading.Thread(
        target=served.server.serve_forever, args=(0.05,), name="learnbot-http", daemon=True
    ).start()
    return served


def serve(
    settings: Settings,
    *,
    host: str,
    port: int,
    nudges: bool,
    socket_mode: bool,
    slack: list[str] | None = None,
) -> int:
    """Run until interrupted: Teams (and Slack over HTTP) on host:port, Slack Socket Mode beside it.

    `slack` lists what is missing for Slack (from the CLI's checks); any problem stops the start."""
    from bot.adapters.slack.server import socket_mode_handler, start_problem
    from bot.adapters.teams.server import MESSAGES_PATH
    from bot.app import open_bot
    from bot.router import Router

    for problems, section in (
        (slack or [], "Install in Slack"),
        (teams_problems(settings), "Install in Teams"),
    ):
        if problems:
            for problem in problems:
                print(f"error: {problem}", file=sys.stderr)
            print(f"see README, '{section}'", file=sys.stderr)
            return EXIT_USAGE
    quiet_sdk_logs(settings)
    if settings.teams_allow_anonymous:
        print(ANONYMOUS_WARNING, file=sys.stderr, flush=True)
        log.warning(ANONYMOUS_WARNING)
    bot = open_bot(settings)
    try:
        served = build(settings, Router(bot), slack_http=not socket_mode, host=host, port=port)
    except Exception as exc:
        problem = start_problem(exc, settings)
        if problem is None:
            raise
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    from bot.wiring import start_nudges

    scheduler = start_nudges(bot, settings) if nudges else None
    try:
        if served.slack is not None and socket_mode:
            socket_mode_handler(served.slack, settings.slack_app_token or "").connect()
            print("learnbot is connected to Slack in Socket Mode", flush=True)
        elif served.slack is not None:
            print(f"learnbot is listening for Slack on {served.url}/slack/events", flush=True)
        print(f"learnbot is listening for Teams on {served.url}{MESSAGES_PATH} (Ctrl-C to stop)", flush=True)
        try:
            served.server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            served.server.server_close()
        return 0
    finally:
        if scheduler is not None:
            scheduler.shutdown()
        if served.teams is not None:
            served.teams.stop()
