"""Outbox delivery to Slack: one `chat.postMessage` per row, errors sorted into retry or give up.

Each row says where it goes as a `ConversationRef`: a channel post has `to.channel_id` and no
user; a DM has `to.user_id` and the DM channel when learnbot knows it (else conversations.open,
remembered). `send` returns the posted message's `ts`, Slack's id for it.

The client has no 429 retry handler on purpose: the outbox dispatcher reschedules the row
after Retry-After instead of holding a thread asleep. `chat.postMessage` has no idempotency
key, so the row's key travels in the message metadata instead, and `find` reads it back
(`conversations.history` with `include_all_metadata`): before re-sending a row whose earlier
attempt may have arrived (a timeout, a connection dropped after the request went out, a
dispatcher that died mid-send) the dispatcher asks `find`, and only sends when it is not there.
"""

from __future__ import annotations

import datetime as dt
import http.client
import logging
import socket
import threading
import urllib.error
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.adapters.slack import blocks as kit
from bot.config import Settings
from nudges.outbox import DeliveryError, Outbound

PERMANENT = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "user_not_found",
    "cannot_dm_bot",
    "account_inactive",
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "missing_scope",
    "invalid_blocks",
    "invalid_arguments",
    "msg_too_long",
    "no_text",
    "restricted_action",
}
METADATA_EVENT = "learnbot_outbox"
HISTORY_PAGES = 5  # at most this many pages of 200 messages are searched for an earlier delivery
HISTORY_SLACK = dt.timedelta(minutes=5)  # look a little before the row was created (clock skew)

log = logging.getLogger(__name__)


def outbox_client(settings: Settings, timeout: int = 10) -> WebClient:
    """A Web API client for delivery: SLACK_API_URL honoured, no sleeping retry handlers."""
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url or WebClient.BASE_URL,
        timeout=timeout,
        retry_handlers=[],
    )


class SlackSender:
    """Posts outbox messages to Slack channels and DMs, about one per second per channel."""

    platform = "slack"
    min_interval = 1.0

    def __init__(
        self, client: WebClient, *, token_for: Callable[[str | None], str | None] | None = None
    ) -> None:
        """`token_for(team)` gives each workspace's bot token (see `installations.bot_tokens`)."""
        self.client = client
        self.token_for = token_for
        # conversations.open then chat.postMessage, each bounded by the client's timeout
        self.max_send_seconds = 2.0 * float(client.timeout or 30)
        self._dms: dict[tuple[str | None, str], str] = {}
        self._lock = threading.Lock()

    def send(self, outbound: Outbound) -> str | None:
        channel_id, user_id = _where(outbound)
        team, auth = self._auth(outbound)
        try:
            channel = channel_id or self._dm(user_id, team, auth)
            posted = self.client.chat_postMessage(
                **auth,
                channel=channel,
                blocks=kit.reply_blocks(outbound.reply),
                text=kit.fallback_text(outbound.reply),
                unfurl_links=False,
                unfurl_media=False,
                metadata={"event_type": METADATA_EVENT, "event_payload": {"key": outbound.key}},
            )
        except SlackApiError as exc:
            raise _classify(exc) from None
        except OSError as exc:
            raise _unreachable(exc) from None
        ts = posted.get("ts")
        return str(ts) if ts else None

    def find(self, outbound: Outbound) -> str | None:
        """The `ts` of a message already posted for this outbox key, else None (looked up in history).

        Raises `DeliveryError` when Slack cannot be asked now (the dispatcher tries again later).
        When learnbot may not read the conversation (not a member, a scope missing) it cannot tell,
        logs it and returns None: the message is then sent again (at-least-once).
        """
        channel_id, user_id = _where(outbound)
        team, auth = self._auth(outbound)
        since = outbound.since - HISTORY_SLACK if outbound.since else None
        cursor: str | None = None
        try:
            channel = channel_id or self._dm(user_id, team, auth)
            for _ in range(HISTORY_PAGES):
                page = self.client.conversations_history(
                    **auth,
                    channel=channel,
                    include_all_metadata=True,
                    limit=200,
                    **({"oldest": f"{since.timestamp():.6f}"} if since else {}),
                    **({"cursor": cursor} if cursor else {}),
                )
                for message in page.get("messages") or []:
                    metadata = message.get("metadata") or {}
                    if (
                        metadata.get("event_type") == METADATA_EVENT
                        and (metadata.get("event_payload") or {}).get("key") == outbound.key
                    ):
                        return str(message.get("ts") or "") or "found"
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not page.get("has_more") or not cursor:
                    return None
        except SlackApiError as exc:
            error = _classify(exc)
            if error.permanent:
                log.warning(
                    "cannot read %s's history to check %s: %s", outbound.to, outbound.key, error.reason
                )
                return None
            raise error from None
        except OSError as exc:
            raise _unreachable(exc) from None
        log.warning("outbox %s not found in the %d newest pages of history", outbound.key, HISTORY_PAGES)
        return None

    def _auth(self, outbound: Outbound) -> tuple[str | None, dict[str, Any]]:
        team = (getattr(getattr(outbound, "to", None), "data", None) or {}).get("team")
        token = self.token_for(team) if self.token_for else None
        return team, {"token": token} if token else {}

    def _dm(self, user: str | None, team: str | None, auth: dict[str, Any]) -> str:
        """The DM channel with a user (conversations.open, remembered), for users never seen in a DM."""
        if not user:
            raise DeliveryError("no channel and no user to open a DM with", permanent=True)
        with self._lock:
            known = self._dms.get((team, user))
        if known:
            return known
        channel = str(self.client.conversations_open(users=user, **auth)["channel"]["id"])
        with self._lock:
            self._dms[(team, user)] = channel
        return channel


def _where(outbound: Outbound) -> tuple[str | None, str | None]:
    """(channel, user) from the row's reference; rows written before references carried both fields."""
    to = getattr(outbound, "to", None)
    if to is not None:
        return to.channel_id or None, to.user_id or None
    return getattr(outbound, "channel_id", None), getattr(outbound, "to_user", None)


def _unreachable(exc: OSError) -> DeliveryError:
    """A network failure; ambiguous unless the request certainly never left (refused, no such host)."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    never_sent = isinstance(reason, ConnectionRefusedError | socket.gaierror) or (
        isinstance(exc, urllib.error.URLError) and isinstance(reason, str)
    )
    ambiguous = not never_sent or isinstance(reason, http.client.RemoteDisconnected)
    return DeliveryError(f"cannot reach Slack: {type(exc).__name__}: {exc}", ambiguous=ambiguous)


def _classify(exc: SlackApiError) -> DeliveryError:
    response = exc.response
    status = getattr(response, "status_code", None)
    error = str(response.get("error") if hasattr(response, "get") else exc)
    if status == 429 or error == "ratelimited":
        headers = getattr(response, "headers", {}) or {}
        retry_after = headers.get("Retry-After") or headers.get("retry-after") or "1"
        try:
            seconds = float(retry_after if not isinstance(retry_after, list) else retry_after[0])
        except ValueError:
            seconds = 1.0
        return DeliveryError("Slack rate limit (429)", retry_after=max(seconds, 0.0))
    if error in PERMANENT:
        return DeliveryError(f"Slack refused: {error}", permanent=True)
    # a server error may come after Slack acted on the request: look before sending again
    return DeliveryError(f"Slack error: {error} (HTTP {status})", ambiguous=(status or 0) >= 500)
