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
FAILED_TTL = 60.0  # a failed lookup is tried again after a minute, not an hour


class People:
    """users.info answers, kept for an hour per user (thread-safe: listeners run in a pool)."""

    def __init__(self, ttl: float = PROFILE_TTL) -> None:
        self.ttl = ttl
        self._profiles: dict[str, tuple[float, dict[str, Any]]] = {}  # user → (expires, users.info)
        self._lock = threading.Lock()

    def _cached(self, user: str) -> dict[str, Any] | None:
        with self._lock:
            cached = self._profiles.get(user)
        return cached[1] if cached and time.monotonic() < cached[0] else None

    def profile(self, client: WebClient, user: str) -> dict[str, Any]:
        """The users.info `user` object (cached); empty when Slack would not say or cannot be reached."""
        cached = self._cached(user)
        if cached is not None:
            return cached
        ttl = self.ttl
        try:
            profile = client.users_info(user=user).get("user") or {}
        except SlackApiError as exc:
            log.warning("slack users.info failed for %s: %s", user, exc.response.get("error"))
            profile, ttl = {}, min(ttl, FAILED_TTL)
        except Exception as exc:  # noqa: BLE001 - unreachable Slack costs the profile, never the question
            log.warning("slack users.info for %s did not complete: %r", user, exc)
            profile, ttl = {}, min(ttl, FAILED_TTL)
        with self._lock:
            self._profiles[user] = (time.monotonic() + ttl, profile)
        return profile

    def known(self, user: str, team: str | None = None) -> Who | None:
        """Who someone is from the cache alone (no Slack call), or None when not looked up lately."""
        found = self._cached(user)
        return None if found is None else self._who(found, user, team)

    def who(self, client: WebClient, user: str, team: str | None = None) -> Who:
        """The person acting: id, workspace, display name, email (Slack's profile email) and time zone."""
        return self._who(self.profile(client, user), user, team)

    @staticmethod
    def _who(found: dict[str, Any], user: str, team: str | None) -> Who:
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
        found = self._cached(user)
        return _name(found) if found else None


def _name(found: dict[str, Any]) -> str | None:
    return _text((found.get("profile") or {}).get("display_name")) or _text(found.get("real_name"))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def reach(who: Who, dm_channel: str | None = None) -> ConversationRef:
    """How to message this person later: their id, the DM with learnbot when known, their workspace."""
    data = {"team": who.workspace} if who.workspace else {}
    return ConversationRef(PLATFORM, who.user_id, channel_id=dm_channel, data=data)
