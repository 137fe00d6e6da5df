"""Delivering replies in Slack: post, update, ephemeral or response_url; failures explained to the person.

A `Place` says where replies go (a conversation and thread, a response_url, the clicked
message). The Web API client retries 429s after Retry-After a bounded number of times, and a
broken connection only for idempotent calls (`retries`); a Slack error is logged with its
context and the person is told, privately, what happened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.adapters.slack import blocks as kit
from bot.adapters.slack.mrkdwn import inert
from bot.adapters.slack.retries import UNREACHABLE, response_url_retries
from bot.events import Reply

log = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on my side and I couldn't finish that. Please try again in a moment."
NOT_IN_CHANNEL = (
    "I couldn't post in <#{channel}> because I'm not a member. Invite me with `/invite @learnbot`."
)
SME_UNREACHABLE = (
    "I couldn't post in the experts channel (Slack said: {error}). "
    "Ask an admin to invite me there, or to set `channels.sme` to a channel I'm in."
)
BUSY = "Slack is rate-limiting me right now, so I couldn't reply. Please try again in a minute."
REFUSED = (
    "Slack refused my reply (it said: {error}). Please try again; if it keeps happening, tell your L&D admin."
)


@dataclass(frozen=True)
class Place:
    """Where replies go: a conversation and thread, or a response_url; and the clicked message, if any."""

    user: str
    channel: str | None
    thread_ts: str | None = None
    message_ts: str | None = None
    blocks: list[dict[str, Any]] = field(default_factory=list)
    response_url: str | None = None
    ephemeral: bool = False
    from_home: bool = False


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error") if hasattr(exc.response, "get") else exc)


def open_dm(client: WebClient, user: str) -> str:
    """The DM channel between learnbot and `user`."""
    return str(client.conversations_open(users=user)["channel"]["id"])


def respond(url: str, **message: Any) -> None:
    """Post to a response_url (ephemeral answers, updates of ephemeral messages); raises SlackApiError."""
    response = WebhookClient(url, retry_handlers=response_url_retries()).send(**message)
    if response.status_code != 200:
        raise SlackApiError(f"response_url answered {response.status_code}", {"error": response.body})


def run(
    client: WebClient,
    place: Place,
    work: Callable[[], list[Reply]],
    clicked_label: str = "",
    undelivered: Callable[[list[Reply]], None] | None = None,
) -> None:
    """Call the router (`work`) and deliver its replies; any failure is logged and the person told.
    `undelivered` hears of the replies that never reached the person (Slack refused or unreachable)."""
    try:
        replies = work()
    except Exception:
        log.exception("handling a Slack request from %s in %s failed", place.user, place.channel)
        tell(client, place, SORRY)
        return
    lost = deliver(client, replies, place, clicked_label=clicked_label)
    if lost and undelivered is not None:
        try:
            undelivered(lost)
        except Exception:
            log.exception("recording an undelivered reply for %s failed", place.user)


def deliver(client: WebClient, replies: list[Reply], place: Place, *, clicked_label: str = "") -> list[Reply]:
    """Post, update or send ephemerally each reply; failures are logged and explained to the person.
    Returns the replies that did not reach them (no post is repeated after a broken connection)."""
    if place.from_home and replies:
        try:
            place = replace(place, channel=open_dm(client, place.user), from_home=False)
        except (SlackApiError, *UNREACHABLE) as exc:
            log.warning("slack conversations.open failed for %s: %r", place.user, exc)
            return list(replies)
    replaced = failed = False
    lost: list[Reply] = []
    for number, reply in enumerate(replies):
        try:
            if reply.to_channel:
                if not _post_elsewhere(client, reply, place):
                    failed = True
                    lost += replies[number:]
                    break  # the person was told why; what follows would claim it was sent
            elif reply.replace_message and (place.message_ts or place.ephemeral):
                _update(client, reply, place)
                replaced = True
            else:
                _post(client, reply, place)
        except SlackApiError as exc:
            failed = True
            lost.append(reply)
            _explain(client, place, exc)
        except UNREACHABLE as exc:
            failed = True
            lost.append(reply)
            log.warning("slack delivery to %s did not complete (%r): not repeated", place.channel, exc)
    public = any(not reply.ephemeral for reply in replies)  # a private note never rewrites the message
    if public and not (replaced or failed) and place.message_ts and not place.ephemeral and clicked_label:
        try:
            client.chat_update(
                channel=place.channel or "",
                ts=place.message_ts,
                blocks=kit.chosen(place.blocks, clicked_label),
                text=kit.fallback_text(Reply(text=clicked_label)),
            )
        except (SlackApiError, *UNREACHABLE) as exc:
            log.warning("slack chat.update failed in %s: %r", place.channel, exc)
    return lost


def _post(client: WebClient, reply: Reply, place: Place) -> None:
    blocks, text = kit.reply_blocks(reply), kit.fallback_text(reply)
    if place.response_url and (place.ephemeral or reply.ephemeral):
        respond(place.response_url, text=text, blocks=blocks, response_type="ephemeral")
    elif reply.ephemeral or place.ephemeral:
        client.chat_postEphemeral(
            channel=place.channel or "", user=place.user, thread_ts=place.thread_ts, blocks=blocks, text=text
        )
    else:
        client.chat_postMessage(
            channel=place.channel or "",
            thread_ts=place.thread_ts,
            blocks=blocks,
            text=text,
            unfurl_links=False,
            unfurl_media=False,
        )


def _update(client: WebClient, reply: Reply, place: Place) -> None:
    blocks, text = kit.replace_buttons(place.blocks, reply), kit.fallback_text(reply)
    if place.ephemeral and place.response_url:
        respond(place.response_url, text=text, blocks=blocks, replace_original=True)
    else:
        client.chat_update(channel=place.channel or "", ts=place.message_ts or "", blocks=blocks, text=text)


def _post_elsewhere(client: WebClient, reply: Reply, place: Place) -> bool:
    """A post in another channel (the experts'), with a permalink to the asker's thread if any."""
    permalink = None
    ref = reply.link_to
    if ref and ref.channel_id and not ref.channel_id.startswith("D") and ref.thread_id:
        try:
            found = client.chat_getPermalink(channel=ref.channel_id, message_ts=ref.thread_id)
            permalink = found["permalink"]
        except (SlackApiError, *UNREACHABLE) as exc:
            log.warning("slack chat.getPermalink failed in %s: %r", ref.channel_id, exc)
    try:
        client.chat_postMessage(
            channel=reply.to_channel or "",
            blocks=kit.reply_blocks(reply, permalink=permalink),
            text=kit.fallback_text(reply),
            unfurl_links=False,
        )
    except SlackApiError as exc:
        log.warning("slack chat.postMessage to %s failed: %s", reply.to_channel, _error(exc))
        tell(client, place, SME_UNREACHABLE.format(error=_error(exc)))
        return False
    return True


def _explain(client: WebClient, place: Place, exc: SlackApiError) -> None:
    """Log the failed call with its context, then tell the person what happened and what to do."""
    error = _error(exc)
    status = getattr(exc.response, "status_code", None)
    log.warning(
        "slack delivery to %s (thread %s) failed: %s [%s]", place.channel, place.thread_ts, error, status
    )
    if status == 429 or error == "ratelimited":
        message = BUSY
    elif error in ("not_in_channel", "channel_not_found", "is_archived"):
        message = NOT_IN_CHANNEL.format(channel=place.channel)
    else:
        message = REFUSED.format(error=inert(error))
    tell(client, replace(place, channel=None), message)


def tell(client: WebClient, place: Place, text: str) -> None:
    """Tell the person privately (adapter text, mrkdwn): via response_url, in the channel, else by DM."""
    blocks = kit.note(text)
    try:
        if place.response_url:
            respond(place.response_url, text=text, blocks=blocks, response_type="ephemeral")
            return
        if place.channel and not place.from_home:
            client.chat_postEphemeral(
                channel=place.channel, user=place.user, thread_ts=place.thread_ts, text=text, blocks=blocks
            )
            return
        client.chat_postMessage(channel=open_dm(client, place.user), text=text, blocks=blocks)
    except Exception as exc:  # noqa: BLE001 - the person cannot be reached; the log must say so
        log.error("could not tell %s about a problem (%s): %s", place.user, text[:60], exc)
