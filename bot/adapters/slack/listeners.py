"""Bolt listeners for what people write: mentions, DMs, passive-help channels, /learn, the message shortcut.

Each acks at once (Bolt acks events itself) and queues a job (`work`) that turns the Slack
payload into a neutral `Incoming` (who from `people`, text and mentions from `syntax`, how to
reach them later), hands it to the router and lets `delivery` render the replies where they
belong. An overloaded process says so to the person; an answer that never arrived is not
counted as answered.
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
from bot.adapters.slack.work import Work
from bot.events import Incoming, Reply
from handlers.feedback import not_delivered

if TYPE_CHECKING:
    from bot.router import Router

log = logging.getLogger(__name__)

BUSY = "I'm busy right now, so I couldn't look at that. Please try again in a minute."


class MessageListeners:
    """What people write to (or near) learnbot, as `Incoming` for the router."""

    def __init__(self, router: Router, people: People, work: Work) -> None:
        self.router = router
        self.people = people
        self.work = work

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
        delivery.run(client, place, lambda: self.router.on_message(incoming), undelivered=self._undelivered)

    def _undelivered(self, replies: list[Reply]) -> None:
        """An answer that never reached the person is not counted as answered (it shows as a gap)."""
        with self.router.bot.session() as session:
            marked = not_delivered(replies, session=session)
        if marked:
            log.warning("questions %s were answered but the answer never arrived: counted unanswered", marked)

    def _later(
        self, client: WebClient, context: BoltContext, place: Place, busy: bool, **fields: Any
    ) -> bool:
        """Queue: who is this (users.info), the router, the replies. Overloaded: tell the person if `busy`."""
        if self.work.submit(lambda: self._answer(client, self._incoming(client, context, **fields), place)):
            return True
        if busy:
            self.work.soon(lambda: delivery.tell(client, place, BUSY))
        return False

    def on_mention(
        self, body: dict[str, Any], event: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        """An @mention in a channel: answer in the thread (a new one under the message if needed)."""
        thread = event.get("thread_ts") or event["ts"]
        place = Place(user=event["user"], channel=event["channel"], thread_ts=thread)
        ids = {"thread_id": thread, "event_id": body.get("event_id"), "raw": event}
        said = {"user": event["user"], "text": event.get("text", ""), "channel": event["channel"]}
        self._later(client, context, place, True, **said, **ids, direct=False, own_mention=True)

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
        place = Place(user=event["user"], channel=event["channel"], thread_ts=thread)
        ids = {"thread_id": thread, "event_id": body.get("event_id"), "raw": event}
        said = {"user": event["user"], "text": text, "channel": event["channel"], "direct": direct}
        dm = event["channel"] if direct else None
        self._later(client, context, place, direct, **said, **ids, dm=dm, addressed=direct)  # passive: quiet

    def on_home_opened(self, event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """Someone opened learnbot's App Home: remember their DM with us; a fresh Home tab if it is Home."""

        def job() -> None:
            who = self.people.who(client, event["user"], context.team_id)
            channel = event.get("channel")
            dm = channel if str(channel or "").startswith("D") else None
            try:
                self.router.on_contact(who, reach(who, dm))
            except Exception:
                log.exception("remembering how to reach %s failed", who.user_id)
            if event.get("tab", "home") == "home":
                surfaces.publish_home(self.router, client, who)

        self.work.submit(job)

    def on_command(self, ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """`/learn question` answers privately; `/learn` alone opens the browse modal (at once: the
        trigger id lives 3 seconds, so the modal opens before anyone is looked up)."""
        text, user, team = body.get("text", "").strip(), body["user_id"], context.team_id
        if not text:
            trigger = body["trigger_id"]

            def browse() -> None:
                surfaces.open_browse(
                    self.router,
                    client,
                    trigger,
                    user,
                    self.people.known(user, team),
                    lambda: self.people.who(client, user, team),
                )

            if self.work.soon(browse):
                ack()
            else:
                ack(text=BUSY, response_type="ephemeral")
            return
        channel = body.get("channel_id", "")
        direct = body.get("channel_name") == "directmessage" or channel.startswith("D")
        place = Place(user=user, channel=channel, response_url=body.get("response_url"), ephemeral=True)
        fields = {"user": user, "text": text, "channel": channel, "direct": direct, "raw": body}
        if self._later(client, context, place, False, **fields):
            ack()
        else:
            ack(text=BUSY, response_type="ephemeral")

    def on_shortcut(self, ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """'Find a lesson for this' on a message: a private answer in that message's thread."""
        message, user = body.get("message", {}), body["user"]["id"]
        channel = body.get("channel", {}).get("id", "")
        thread = message.get("thread_ts") or message.get("ts")
        place = Place(
            user=user,
            channel=channel,
            thread_ts=thread,
            response_url=body.get("response_url"),
            ephemeral=True,
        )

        said = {"user": user, "text": message.get("text", ""), "channel": channel, "direct": False}
        self._later(client, context, place, True, **said, thread_id=thread, raw=body)
        ack()
