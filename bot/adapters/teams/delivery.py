"""Delivering replies in Teams: text or an Adaptive Card per reply, in the chat or the channel's reply
chain; a post elsewhere (the experts' channel) by its conversation id; failures explained.

Plain text goes as a markdown message; anything with a lesson, quote or buttons as a card. In a
channel, replies answer the message that mentioned learnbot (`replyToId`), which keeps them in its
reply chain; a post of learnbot's own in a channel (a campaign, a question for the experts) starts a
new thread there (`create_conversation` with the channel's id, as TeamsInfo does). Teams has no
ephemeral messages for bots: a private note in a channel is posted in the reply chain (in a personal
chat everything is private anyway).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from microsoft_agents.activity import ConversationParameters
from microsoft_agents.hosting.core import ConnectorClientBase

from bot.adapters.teams import cards
from bot.adapters.teams.connector import CHANNEL, classify, message
from bot.adapters.teams.text import render
from bot.events import Reply

log = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on my side and I couldn't finish that. Please try again in a moment."
BUSY = "I'm busy right now, so I couldn't do that. Please try again in a minute."
SME_UNREACHABLE = (
    "I couldn't post in the experts channel ({reason}). Ask an admin to add me to that team, "
    "or to set `channels.sme` to a Teams channel I'm in."
)


@dataclass(frozen=True)
class Place:
    """Where replies go: a conversation, and in a channel the message whose reply chain they join."""

    conversation_id: str
    reply_to: str | None = None
    tenant_id: str | None = None
    bot: dict[str, Any] | None = None  # learnbot's account in this conversation (the message's `from`)
    user: dict[str, Any] | None = None  # the person's account (its `recipient`)


def payload(reply: Reply) -> dict[str, Any]:
    """A reply as the JSON of a message activity: a card when it needs one, else markdown text."""
    if cards.needs_card(reply):
        return {
            "attachments": [cards.attachment(cards.reply_card(reply))],
            "summary": cards.summary_text(reply),
        }
    rendered = render(reply.text)
    body: dict[str, Any] = {"text": rendered.text or " ", "textFormat": "markdown"}
    if rendered.entities:
        body["entities"] = rendered.entities
    return body


async def post(
    connector: ConnectorClientBase, place: Place, body: dict[str, Any], *, thread: bool = True
) -> str | None:
    """Send one message; the connector's id for it. Raises `DeliveryError`."""
    activity = message(
        {
            **body,
            "channelId": CHANNEL,
            "conversation": {"id": place.conversation_id, "tenantId": place.tenant_id},
            **({"from": place.bot} if place.bot else {}),
            **({"recipient": place.user} if place.user and thread else {}),
        }
    )
    try:
        if place.reply_to and thread:
            sent = await connector.conversations.reply_to_activity(
                place.conversation_id, place.reply_to, activity
            )
        else:
            sent = await connector.conversations.send_to_conversation(place.conversation_id, activity)
    except Exception as exc:
        raise classify(exc) from None
    return getattr(sent, "id", None)


async def start_thread(connector: ConnectorClientBase, place: Place, body: dict[str, Any]) -> str | None:
    """A new post in a Teams channel (a campaign, a question for the experts): its own reply chain.
    Raises `DeliveryError`."""
    activity = message({**body, "channelId": CHANNEL, **({"from": place.bot} if place.bot else {})})
    params = ConversationParameters(
        is_group=True,
        channel_data={"channel": {"id": place.conversation_id}, "tenant": {"id": place.tenant_id}},
        activity=activity,
        tenant_id=place.tenant_id,
    )
    try:
        created = await connector.conversations.create_conversation(params)
    except Exception as exc:
        raise classify(exc) from None
    return created.activity_id or created.id


async def tell(connector: ConnectorClientBase, place: Place, text: str) -> None:
    """A short note to the person (what went wrong); failures only logged."""
    try:
        await post(connector, place, payload(Reply(text=text)))
    except Exception as exc:
        log.warning("teams: could not tell %s what happened (%s)", place.conversation_id, exc)


async def deliver(connector: ConnectorClientBase, place: Place, replies: list[Reply]) -> list[Reply]:
    """Send each reply; returns those that did not arrive (the person is told why when possible)."""
    lost: list[Reply] = []
    for number, reply in enumerate(replies):
        try:
            if reply.to_channel:
                elsewhere = Place(reply.to_channel, tenant_id=place.tenant_id, bot=place.bot)
                await start_thread(connector, elsewhere, payload(reply))
            else:
                await post(connector, place, payload(reply))
        except Exception as exc:
            error = classify(exc)
            log.warning("teams: delivery to %s failed: %s", place.conversation_id, error.reason)
            if reply.to_channel:
                await tell(connector, place, SME_UNREACHABLE.format(reason=error.reason))
                lost += replies[number:]
                break  # what follows would claim it was sent
            lost.append(reply)
    return lost
