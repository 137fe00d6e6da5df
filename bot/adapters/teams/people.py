"""Who someone is in Teams: their email from the connector's member lookup (cached), never their role.

An activity says who wrote (`from.id`, `from.aadObjectId`, name) but not their email. The
connector's `GET /v3/conversations/{id}/members/{userId}` (the SDK's `get_conversation_member`,
what TeamsInfo's member lookup calls) returns the tenant's account: its `email`, else its
`userPrincipalName` when that is an address. That is the email Teams vouches for, used to link
the same person across platforms. A failed lookup leaves the email unknown (logged), never the
message unanswered.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from microsoft_agents.hosting.core import ConnectorClientBase

from bot.adapters.teams.activities import tenant, user_key

log = logging.getLogger(__name__)

TTL = 3600.0  # seconds a looked-up email is trusted before asking again
SIZE = 10000


class People:
    """Emails by (tenant, person), looked up once an hour at most."""

    def __init__(self, ttl: float = TTL) -> None:
        self.ttl = ttl
        self._known: dict[tuple[str | None, str], tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def known(self, activity: dict[str, Any]) -> tuple[bool, str | None]:
        """(True, email) when this person was looked up within the last `ttl` seconds."""
        with self._lock:
            cached = self._known.get((tenant(activity), user_key(activity)))
        if cached and time.monotonic() - cached[0] < self.ttl:
            return True, cached[1]
        return False, None

    async def email(self, connector: ConnectorClientBase | None, activity: dict[str, Any]) -> str | None:
        key = (tenant(activity), user_key(activity))
        with self._lock:
            cached = self._known.get(key)
        if cached and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        member_id = (activity.get("from") or {}).get("id")
        # a channel thread's id ends in ";messageid=…": members belong to the channel itself
        conversation = str((activity.get("conversation") or {}).get("id") or "").split(";")[0]
        if connector is None or not member_id or not conversation:
            return None
        try:
            member = await connector.conversations.get_conversation_member(conversation, member_id)
        except Exception as exc:
            log.warning("teams: member lookup for %s failed (%s)", key[1], type(exc).__name__)
            if not (400 <= getattr(exc, "status", 0) < 500):
                return cached[1] if cached else None  # the connector may answer next time: ask again
            email = None  # not a member we may look up: known without an email until the next hour
        else:
            extra = member.model_extra or {}
            found = extra.get("email") or extra.get("userPrincipalName")
            email = str(found) if found and "@" in str(found) else None
        with self._lock:
            if len(self._known) >= SIZE:
                self._known.clear()
            self._known[key] = (time.monotonic(), email)
        return email
