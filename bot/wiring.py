"""Process wiring for nudges: which senders this process has, by platform, and starting the scheduler.

The console sender is always there (its deliveries are shown in the terminal); Slack's when
`SLACK_BOT_TOKEN` is set. A new platform registers its sender here, one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.config import Settings
from nudges.clock import Clock
from nudges.outbox import Sender

if TYPE_CHECKING:
    from nudges.scheduler import Host, NudgeScheduler


def slack_sender(settings: Settings) -> Sender:
    """Outbox delivery to Slack through the Web API (no sleeping retry handlers: the outbox retries)."""
    try:
        from bot.adapters.slack.sender import SlackSender, outbox_client
    except ModuleNotFoundError as exc:  # the Slack adapter before it became a package
        if exc.name != "bot.adapters.slack.sender":
            raise
        from bot.adapters.slack_sender import SlackSender, outbox_client
    return SlackSender(outbox_client(settings))


def senders(settings: Settings, clock: Clock, *, console: bool = True) -> dict[str, Sender]:
    """Platform → sender for this process: the console (unless `console=False`), Slack when configured."""
    from bot.adapters.console import ConsoleSender

    registered: dict[str, Sender] = {}
    if console:
        registered["console"] = ConsoleSender(clock)
    if settings.slack_bot_token:
        registered["slack"] = slack_sender(settings)
    return registered


def start_nudges(host: Host, settings: Settings) -> NudgeScheduler:
    """Start this process's scheduler (planner, dispatcher, campaign crons); the caller shuts it down.

    A served bot has no terminal to show console messages on, so it delivers on the chat platforms only.
    """
    from nudges.scheduler import NudgeScheduler

    scheduler = NudgeScheduler(host, senders(settings, host.clock, console=False))
    scheduler.start()
    return scheduler
