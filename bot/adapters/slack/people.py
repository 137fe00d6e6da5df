"""Who someone is on Slack: users.info, cached, as a neutral `Who` (name, email, time zone, workspace).

Never a role: `bot.access` decides that from what is said here. A failed lookup only costs
the name, email and zone; the person is still who their user id says.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.events import ConversationRef, Who

log = logging.getLogger(__name__)

PLATFORM = "slack"
PROFILE_TTL = 3600.0


class People:
    """users.info answers, kept for an hour per user (thread-safe: listeners run in a pool)."""

    def __init__(self, ttl: float = PROFILE_TTL) -> None:
        self.ttl = ttl
        self._profiles: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def profile(self, client: WebClient, user: str) -> dict[str, Any]:
        """The users.info `user` object (cached); empty when Slack would not say."""
        now = time.monotonic()
        with self._lock:
            cached = self._profiles.get(user)
        if cached and now - cached[0] < self.ttl:
            return cached[1]
        try:
            profile = client.users_info(user=user).get("user") or {}
        except SlackApiError as exc:
            log.warning("slack users.info failed for %s: %s", user, exc.response.get("error"))
            profile = {}
        with self._lock:
            self._profiles[user] = (now, profile)
        return profile

    def who(self, client: WebClient, user: str, team: str | None = None) -> Who:
        """The person acting: id, workspace, display name, email (Slack's profile email) and time zone."""
        found = self.profile(client, user)
        return Who(
            platform=PLATFORM,
            user_id=user,
            workspace=team or _text(found.get("team_id")),
            name=_name(found),
            email=_text((found.get("profile") or {}).get("email")),
            timezone=_text(found.get("tz")),
        )

    def cached_name(self, user: str) -> str | None:
        """A display name already looked up (no Slack call): for labelling mentions in a message."""
        with self._lock:
            cached = self._profiles.get(user)
        return _name(cached[1]) if cached else None


def _name(found: dict[str, Any]) -> str | None:
    return _text((found.get("profile") or {}).get("display_name")) or _text(found.get("real_name"))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def reach(who: Who, dm_channel: str | None = None) -> ConversationRef:
    """How to message this person later: their id, the DM with learnbot when known, their workspace."""
    data = {"team": who.workspace} if who.workspace else {}
    return ConversationRef(PLATFORM, who.user_id, channel_id=dm_channel, data=data)
