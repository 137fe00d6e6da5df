"""Teams activities in: who, where, what they wrote or clicked → neutral `Who`, `Incoming`, `Action`.

Teams writes mentions into the text as `<at>name</at>` with a `mention` entity each: learnbot's
own is removed, a person's becomes `@name` and a `Mention` (their Entra object id when Teams gives
it), a channel's (its id is `19:…@thread…`) becomes `#name` and a `ChannelMention`. A person is
their Entra object id (`from.aadObjectId`) in their tenant, so the same person has one identity
in every chat. `reach` is the personal chat, the only conversation learnbot can always message
later.
"""

from __future__ import annotations

import hashlib
import html
import re
from typing import Any

from bot.events import Action, ChannelMention, ConversationRef, Incoming, Mention, Who

PLATFORM = "teams"
_AT = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]{1,200}>")
_TEAMS_CHANNEL = re.compile(r"^19:[\w.-]{1,200}@thread\.(tacv2|skype|v2)$")
_SLUG = re.compile(r"[^\w.-]+")


def _get(node: Any, *path: str) -> Any:
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def tenant(activity: dict[str, Any]) -> str | None:
    return _get(activity, "conversation", "tenantId") or _get(activity, "channelData", "tenant", "id")


def conversation_type(activity: dict[str, Any]) -> str:
    return str(_get(activity, "conversation", "conversationType") or "personal")


def is_personal(activity: dict[str, Any]) -> bool:
    return conversation_type(activity) == "personal"


def user_key(activity: dict[str, Any]) -> str:
    """The person's id: their Entra object id, else the Teams user id (`29:…`)."""
    sender = activity.get("from") or {}
    return str(sender.get("aadObjectId") or sender.get("id") or "")


def timezone(activity: dict[str, Any]) -> str | None:
    for entity in activity.get("entities") or []:
        if isinstance(entity, dict) and entity.get("type") == "clientInfo" and entity.get("timezone"):
            return str(entity["timezone"])
    return None


def who(activity: dict[str, Any], email: str | None = None) -> Who:
    """Who is acting; `email` only as the connector's member lookup gave it (never from the activity)."""
    sender = activity.get("from") or {}
    return Who(
        PLATFORM,
        user_key(activity),
        workspace=tenant(activity),
        name=sender.get("name") or None,
        email=email,
        timezone=timezone(activity),
    )


def reference_data(activity: dict[str, Any]) -> dict[str, Any]:
    """What the sender needs besides the ids to reach this conversation later."""
    sender, bot = activity.get("from") or {}, activity.get("recipient") or {}
    return {
        "service_url": activity.get("serviceUrl"),
        "tenant_id": tenant(activity),
        "bot_id": bot.get("id"),
        "bot_name": bot.get("name"),
        "teams_user_id": sender.get("id"),
        "conversation_type": conversation_type(activity),
        "channel": activity.get("channelId") or "msteams",
    }


def reach(activity: dict[str, Any]) -> ConversationRef | None:
    """How to message this person later: their personal chat with learnbot (None from a channel)."""
    if not is_personal(activity):
        return None
    conversation = _get(activity, "conversation", "id")
    return ConversationRef(PLATFORM, user_key(activity), conversation, data=reference_data(activity))


def _mentions(activity: dict[str, Any]) -> tuple[str, tuple[Mention, ...], tuple[ChannelMention, ...]]:
    """The text with people as `@name` and channels as `#name` (learnbot's own mention removed), and
    the people and channels named."""
    text = str(activity.get("text") or "")
    bot_id = _get(activity, "recipient", "id")
    people: dict[str, Mention] = {}
    channels: dict[str, ChannelMention] = {}
    for entity in activity.get("entities") or []:
        if not isinstance(entity, dict) or entity.get("type") != "mention":
            continue
        mentioned = entity.get("mentioned") or {}
        tag = str(entity.get("text") or "")
        if mentioned.get("id") == bot_id:
            text = text.replace(tag, " ") if tag else text
            continue
        label = html.unescape(_AT.sub(r"\1", tag) or mentioned.get("name") or "someone").strip()
        if _TEAMS_CHANNEL.match(str(mentioned.get("id") or "")):
            name = _SLUG.sub("-", label).strip("-")[:80] or "channel"
            channels.setdefault(mentioned["id"], ChannelMention(mentioned["id"], name))
            text = text.replace(tag, f"#{name}") if tag else text
            continue
        key = str(mentioned.get("aadObjectId") or mentioned.get("id") or "")
        if key:
            people.setdefault(key, Mention(key, label))
        if tag:
            text = text.replace(tag, f"@{label}")
    text = html.unescape(_TAG.sub("", _AT.sub(r"@\1", text)))
    return " ".join(text.split()), tuple(people.values()), tuple(channels.values())


def _event_id(conversation: str, activity_id: Any) -> str | None:
    """A stable id for duplicate detection (Teams retries a delivery it thinks failed)."""
    if not activity_id:
        return None
    return f"teams:{hashlib.sha256(conversation.encode()).hexdigest()[:20]}:{activity_id}"[:300]


def incoming(activity: dict[str, Any], person: Who) -> Incoming:
    """A message to learnbot: in the personal chat, or an @mention in a channel or group chat."""
    text, mentions, channels = _mentions(activity)
    conversation = str(_get(activity, "conversation", "id") or "")
    personal = is_personal(activity)
    return Incoming(
        platform=PLATFORM,
        user_id=person.user_id,
        text=text,
        channel_id=conversation,
        is_direct=personal,
        thread_id=None if personal else str(activity.get("replyToId") or activity.get("id") or "") or None,
        event_id=_event_id(conversation, activity.get("id")),
        user_name=person.name,
        user_email=person.email,
        user_timezone=person.timezone,
        workspace=person.workspace,
        mentions=mentions,
        channels=channels,
        reach=reach(activity),
        raw={"type": activity.get("type"), "id": activity.get("id")},
    )


def clicked(activity: dict[str, Any]) -> tuple[str, str, dict[str, Any] | None, str]:
    """An `adaptiveCard/action` invoke: (action name, value, what the card showed, verb)."""
    action = _get(activity, "value", "action") or {}
    data = action.get("data") if isinstance(action.get("data"), dict) else {}
    verb = str(action.get("verb") or "")
    name = str(data.get("lb") or verb.removeprefix("lb:"))
    shown = data.get("keep") if isinstance(data.get("keep"), dict) else None
    return name, str(data.get("value") or ""), shown, verb


def action(activity: dict[str, Any], person: Who) -> Action:
    """A card button clicked, as the router's `Action`."""
    name, value, _, _ = clicked(activity)
    return Action(
        platform=PLATFORM,
        user_id=person.user_id,
        name=name,
        value=value,
        channel_id=str(_get(activity, "conversation", "id") or ""),
        message_id=activity.get("replyToId"),
        is_direct=is_personal(activity),
        user_name=person.name,
        user_email=person.email,
        user_timezone=person.timezone,
        workspace=person.workspace,
        reach=reach(activity),
        raw={"type": activity.get("type"), "id": activity.get("id")},
    )


def added_learnbot(activity: dict[str, Any]) -> bool:
    """An install: learnbot added to a chat or team (`conversationUpdate`) or `installationUpdate` add."""
    if activity.get("type") == "installationUpdate":
        return str(activity.get("action") or "add").startswith("add")
    bot_id = _get(activity, "recipient", "id")
    return any(isinstance(m, dict) and m.get("id") == bot_id for m in activity.get("membersAdded") or [])
