"""Process wiring for nudges: which senders this process has, by platform, and starting the scheduler.

The console sender is always there (its deliveries are shown in the terminal); Slack's when a
bot token is set or the app is installed in workspaces by OAuth (each workspace's own token,
from its install). A new platform registers its sender here, one line in `senders`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine

from bot.config import Settings
from nudges.clock import Clock
from nudges.outbox import Sender

if TYPE_CHECKING:
    from nudges.scheduler import Host, NudgeScheduler


def slack_sender(settings: Settings, engine: Engine | None = None) -> Sender:
    """Outbox delivery to Slack through the Web API (no sleeping retry handlers: the outbox retries).

    With OAuth installs and an `engine`, each message uses the bot token of the recipient's workspace.
    """
    from bot.adapters.slack.installations import bot_tokens
    from bot.adapters.slack.sender import SlackSender, outbox_client

    several = engine is not None and settings.has_slack_oauth and settings.slack_client_id
    token_for = bot_tokens(engine, settings.slack_client_id) if several else None  # type: ignore[arg-type]
    return SlackSender(outbox_client(settings), token_for=token_for)


def teams_sender(settings: Settings, engine: Engine | None = None) -> Sender:
    """Outbox delivery to Teams through the connector, into the chats stored at install or first contact
    (and channels, through the latest contact's service URL, found with `engine`)."""
    from bot.adapters.teams import TeamsSender

    return TeamsSender(settings, engine=engine)


def senders(
    settings: Settings, clock: Clock, *, console: bool = True, engine: Engine | None = None
) -> dict[str, Sender]:
    """Platform → sender for this process: the console (unless `console=False`), Slack when configured."""
    from bot.adapters.console import ConsoleSender

    registered: dict[str, Sender] = {}
    if console:
        registered["console"] = ConsoleSender(clock)
    if settings.slack_bot_token or settings.has_slack_oauth:
        registered["slack"] = slack_sender(settings, engine)
    if settings.has_teams:
        registered["teams"] = teams_sender(settings, engine)
    if settings.xapi_endpoint and engine is not None:
        registered["xapi"] = xapi_sender(settings, engine, clock)
    return registered


def xapi_sender(settings: Settings, engine: Engine, clock: Clock) -> Sender:
    """Outbox delivery of xAPI statement batches to the LRS at XAPI_ENDPOINT (basic auth)."""
    from nudges.xapi.sender import XapiSender

    assert settings.xapi_endpoint and settings.xapi_key and settings.xapi_secret  # checked by Settings
    return XapiSender(
        settings.xapi_endpoint, settings.xapi_key, settings.xapi_secret, engine=engine, clock=clock
    )


def start_nudges(host: Host, settings: Settings) -> NudgeScheduler:
    """Start this process's scheduler (planner, dispatcher, campaign crons); the caller shuts it down.

    A served bot has no terminal to show console messages on, so it delivers on the chat platforms only.
    """
    from nudges.scheduler import NudgeScheduler

    registered = senders(settings, host.clock, console=False, engine=host.engine)
    if isinstance(getattr(host, "senders", None), dict):
        host.senders.update(registered)  # type: ignore[attr-defined]  # so `nudges status` knows who is reachable
    scheduler = NudgeScheduler(host, registered, settings=settings)
    scheduler.start()
    return scheduler
