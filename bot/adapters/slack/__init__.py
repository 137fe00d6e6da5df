"""Slack: a Bolt app over the router, in HTTP mode (`learnbot serve`) or Socket Mode. It only translates.

    manifest      paths, command, shortcuts, scopes (what manifest.yaml declares)
    syntax        Slack text in: mentions, channels, entities → neutral text and fields
    mrkdwn        neutral text out: spans → escaped, inert mrkdwn
    blocks        replies, answer cards and buttons as Block Kit
    views         the App Home tab and the /learn browse modal
    forms         the 'Announce a pathway' modal and its submission as an `Announcement`
    people        users.info, cached → who someone is (never their role)
    delivery      post, update, ephemeral, response_url; failures explained to the person
    retries       429s after Retry-After; a broken connection retried for idempotent calls only
    surfaces      Home and browse over the router
    listeners     events, /learn, the message shortcut → `Incoming`
    interactions  buttons, modals, the campaign form → `Action`, `Announcement`
    work          bounded pools for the work after the ack; tests wait on them
    installations multi-workspace OAuth installs (one workspace per install) and states
    sender        outbox delivery (`send(outbound) -> ts`)
    guard         before authentication: body cap (413), signature (401), shape (400); one-line logs
    server        WSGI under waitress and Socket Mode (imports this package; not re-exported here)

Listeners ack at once and queue the work on bounded pools (`work`): an overloaded process tells
the person it is busy rather than letting Slack time out; duplicates are dropped by the router on the
event id (stored, so a restart does not answer twice); 429s are retried after Retry-After a
bounded number of times; a Slack error is logged and the person told.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt import App, BoltResponse
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient

from bot.adapters.slack.delivery import Place, deliver
from bot.adapters.slack.installations import (
    OtherWorkspace,
    bot_tokens,
    installation_store,
    other_workspace_page,
    state_store,
)
from bot.adapters.slack.interactions import Interactions
from bot.adapters.slack.listeners import MessageListeners
from bot.adapters.slack.manifest import (
    CAMPAIGN_SHORTCUT,
    COMMAND,
    EVENTS_PATH,
    INSTALL_PATH,
    PLATFORM,
    REDIRECT_PATH,
    SCOPES,
    SHORTCUT,
)
from bot.adapters.slack.people import People, reach
from bot.adapters.slack.retries import retry_handlers
from bot.adapters.slack.sender import SlackSender, outbox_client
from bot.adapters.slack.work import Work
from bot.config import Settings
from bot.events import Who

if TYPE_CHECKING:
    from bot.router import Router

__all__ = [
    "CAMPAIGN_SHORTCUT",
    "COMMAND",
    "EVENTS_PATH",
    "INSTALL_PATH",
    "PLATFORM",
    "REDIRECT_PATH",
    "SCOPES",
    "SHORTCUT",
    "Place",
    "SlackAdapter",
    "SlackSender",
    "Work",
    "bot_tokens",
    "deliver",
    "make_client",
    "outbox_client",
]

log = logging.getLogger(__name__)

# Bolt's listener threads only ack and queue (the work runs in `Work`), so a few are plenty.
LISTENER_THREADS = 8


def make_client(settings: Settings) -> WebClient:
    """The Web API client: our base URL (SLACK_API_URL), 429s retried after Retry-After, bounded."""
    return WebClient(
        token=None if settings.has_slack_oauth else settings.slack_bot_token,
        base_url=settings.slack_api_url or WebClient.BASE_URL,
        retry_handlers=retry_handlers(),
    )


class SlackAdapter:
    """One Bolt app whose listeners turn Slack payloads into router calls and replies into Block Kit."""

    def __init__(
        self,
        router: Router,
        settings: Settings,
        *,
        client: WebClient | None = None,
        work: Work | None = None,
    ) -> None:
        self.router = router
        self.settings = settings
        self.client = client or make_client(settings)
        self.people = People()
        self.work = work or Work()
        self.app = App(
            signing_secret=settings.slack_signing_secret or "",
            client=self.client,  # carries the bot token (none in multi-workspace mode)
            oauth_settings=self._oauth_settings() if settings.has_slack_oauth else None,
            listener_executor=self.work.executor(LISTENER_THREADS),
            logger=_bolt_logger(),
        )
        MessageListeners(router, self.people, self.work).register(self.app)
        Interactions(router, self.people, self.work).register(self.app)

    def _oauth_settings(self) -> OAuthSettings:
        engine, client_id = self.router.bot.engine, self.settings.slack_client_id or ""
        oauth = OAuthSettings(
            client_id=client_id,
            client_secret=self.settings.slack_client_secret,
            scopes=SCOPES,
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
            installation_store=installation_store(engine, client_id),
            state_store=state_store(engine),
            callback_options=CallbackOptions(success=self._installed, failure=_failed),
        )
        # Bolt checks each workspace's token with auth.test before every request unless told to keep
        # the answer: with a slow Slack that alone would cost the 3-second ack. Kept per token.
        if isinstance(oauth.authorize, InstallationStoreAuthorize):
            oauth.authorize.cache_enabled = True
        return oauth

    def _installed(self, args: SuccessArgs) -> BoltResponse:
        """A workspace installed learnbot: remember how to reach the installer, then Bolt's own page."""
        installed = args.installation
        if installed.user_id:
            who = Who(PLATFORM, installed.user_id, workspace=installed.team_id)
            try:
                self.router.on_contact(who, reach(who))
            except Exception:
                log.exception("remembering the installer %s failed", installed.user_id)
        return args.default.success(args)


def _failed(args: FailureArgs) -> BoltResponse:
    if isinstance(args.error, OtherWorkspace):
        return BoltResponse(
            status=403, body=other_workspace_page(args.error), headers={"Content-Type": "text/html"}
        )
    return args.default.failure(args)


class _NoBodies(logging.Filter):
    """Bolt's warnings about unhandled requests quote the request body: keep the first line, drop it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Unhandled request"):
            record.msg, record.args = "Unhandled request (body not logged)", None
        return True


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger("learnbot.bolt")
    if not any(isinstance(f, _NoBodies) for f in logger.filters):
        logger.addFilter(_NoBodies())
    return logger
