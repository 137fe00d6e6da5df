"""Bolt listeners for what people write: mentions, DMs, passive-help channels, /learn, the message shortcut.

Each turns a Slack payload into a neutral `Incoming` (who from `people`, text and mentions
from `syntax`, how to reach them later) and hands it to the router after the ack; `delivery`
renders the replies where they belong. Bolt acks events itself; commands and shortcuts ack first.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.adapters.slack import delivery, surfaces
from bot.adapters.slack.delivery import Place
from bot.adapters.slack.manifest import COMMAND, PLATFORM, SHORTCUT
from bot.adapters.slack.people import People, reach
from bot.adapters.slack.syntax import mentions_bot, parse
from bot.events import Incoming

if TYPE_CHECKING:
    from bot.router import Router

log = logging.getLogger(__name__)


class MessageListeners:
    """What people write to (or near) learnbot, as `Incoming` for the router."""

    def __init__(self, router: Router, people: People) -> None:
        self.router = router
        self.people = people

    def register(self, app: App) -> None:
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        app.event("app_home_opened")(self.on_home_opened)
        app.command(COMMAND)(self.on_command)
        app.shortcut(SHORTCUT)(self.on_shortcut)

    def _incoming(
        self,
        client: WebClient,
        context: BoltContext,
        *,
        user: str,
        text: str,
        channel: str,
        direct: bool,
        dm: str | None = None,
        own_mention: bool = False,
        **extra: Any,
    ) -> Incoming:
        """`dm` is learnbot's DM channel with the person, when this payload proves it is one."""
        who = self.people.who(client, user, context.team_id)
        parsed = parse(
            text,
            bot_user_id=context.bot_user_id,
            drop_first_mention=own_mention,
            names=self.people.cached_name,
        )
        return Incoming(
            platform=PLATFORM,
            user_id=user,
            text=parsed.text,
            channel_id=channel,
            is_direct=direct,
            user_name=who.name,
            user_email=who.email,
            user_timezone=who.timezone,
            workspace=who.workspace,
            mentions=parsed.mentions,
            channels=parsed.channels,
            reach=reach(who, dm),
            **extra,
        )

    def _answer(self, client: WebClient, incoming: Incoming, place: Place) -> None:
        delivery.run(client, place, lambda: self.router.on_message(incoming))

    def on_mention(
        self, body: dict[str, Any], event: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        """An @mention in a channel: answer in the thread (a new one under the message if needed)."""
        thread = event.get("thread_ts") or event["ts"]
        incoming = self._incoming(
            client,
            context,
            user=event["user"],
            text=event.get("text", ""),
            channel=event["channel"],
            direct=False,
            own_mention=True,
            thread_id=thread,
            event_id=body.get("event_id"),
            raw=event,
        )
        self._answer(client, incoming, Place(user=event["user"], channel=event["channel"], thread_ts=thread))

    def on_message(
        self, body: dict[str, Any], event: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        """A DM to the bot; or, in a channel opted in to passive help, a message not addressed to it."""
        if (
            event.get("subtype") not in (None, "thread_broadcast")
            or event.get("bot_id")
            or "user" not in event
        ):
            return
        direct = event.get("channel_type") == "im"
        text = event.get("text", "")
        if not direct:
            passive = self.router.bot.config.passive_help.channels
            if event["channel"] not in passive or mentions_bot(text, context.bot_user_id):
                return  # not opted in, or an @mention (answered as app_mention)
        thread = event.get("thread_ts") if direct else event.get("thread_ts") or event["ts"]
        incoming = self._incoming(
            client,
            context,
            user=event["user"],
            text=text,
            channel=event["channel"],
            direct=direct,
            dm=event["channel"] if direct else None,
            addressed=direct,
            thread_id=thread,
            event_id=body.get("event_id"),
            raw=event,
        )
        self._answer(client, incoming, Place(user=event["user"], channel=event["channel"], thread_ts=thread))

    def on_home_opened(self, event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """Someone opened learnbot's App Home: remember their DM with us; a fresh Home tab if it is Home."""
        who = self.people.who(client, event["user"], context.team_id)
        channel = event.get("channel")
        try:
            self.router.on_contact(who, reach(who, channel if str(channel or "").startswith("D") else None))
        except Exception:
            log.exception("remembering how to reach %s failed", who.user_id)
        if event.get("tab", "home") == "home":
            surfaces.publish_home(self.router, client, who)

    def on_command(self, ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """`/learn question` answers privately; `/learn` alone opens the browse modal."""
        ack()
        text, user = body.get("text", "").strip(), body["user_id"]
        if not text:
            who = self.people.who(client, user, context.team_id)
            surfaces.open_browse(self.router, client, body["trigger_id"], who)
            return
        channel = body.get("channel_id", "")
        direct = body.get("channel_name") == "directmessage" or channel.startswith("D")
        incoming = self._incoming(
            client, context, user=user, text=text, channel=channel, direct=direct, raw=body
        )
        place = Place(user=user, channel=channel, response_url=body.get("response_url"), ephemeral=True)
        self._answer(client, incoming, place)

    def on_shortcut(self, ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """'Find a lesson for this' on a message: a private answer in that message's thread."""
        ack()
        message, user = body.get("message", {}), body["user"]["id"]
        channel = body.get("channel", {}).get("id", "")
        thread = message.get("thread_ts") or message.get("ts")
        incoming = self._incoming(
            client,
            context,
            user=user,
            text=message.get("text", ""),
            channel=channel,
            direct=False,
            thread_id=thread,
            raw=body,
        )
        place = Place(
            user=user,
            channel=channel,
            thread_ts=thread,
            response_url=body.get("response_url"),
            ephemeral=True,
        )
        self._answer(client, incoming, place)
