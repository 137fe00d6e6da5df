"""Outbox delivery to Teams: one message per row into the conversation its stored reference names.

Nobody can be messaged in Teams before learnbot is installed for them, so the sender needs a
stored reference (`needs_reference`): the personal chat remembered at install or first contact,
with its service URL, tenant and bot id. A campaign post goes to a channel by its id (`19:…`, from
a channel mention) as a new thread, through the service URL of the latest Teams contact. Each send
is an SDK proactive turn; the connector's 429 and 503 defer the row by their Retry-After
(`connector.classify`).

Delivery guarantee: the connector has no idempotency key and a bot cannot read a chat's history,
so there is no `find`. A row is sent exactly once unless an attempt fails ambiguously (a timeout,
a dropped connection, a 5xx or 503 after the request went out, a dispatcher that died mid-send);
then it is sent again and the person may see it twice (at-least-once).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace
from typing import Any

from microsoft_agents.hosting.core import ConnectorClientBase, TurnContext
from sqlalchemy import Engine
from sqlmodel import select

from bot.adapters.teams import connector, delivery
from bot.adapters.teams.activities import PLATFORM
from bot.adapters.teams.delivery import Place
from bot.adapters.teams.runtime import Loop
from bot.config import Settings
from nudges.outbox import DeliveryError, Outbound
from storage.db import session_scope
from storage.models import ConversationReference

log = logging.getLogger(__name__)

TEAMS_CHANNEL = re.compile(r"^19:[\w.-]{1,200}@thread\.(tacv2|skype|v2)$")


class TeamsSender:
    """Posts outbox messages to Teams chats through the connector, about one per second per chat."""

    platform = PLATFORM
    min_interval = 1.0
    needs_reference = True

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine | None = None,
        loop: Loop | None = None,
        timeout: float = 10.0,
    ) -> None:
        """`engine`: where to find the service URL for channel posts (the latest Teams contact's)."""
        self.auth = connector.auth_configuration(settings)
        self.cloud = connector.cloud_adapter(self.auth)
        self.claims = connector.outbound_claims(settings, self.cloud)
        self.engine = engine
        self.loop = loop or Loop("teams-sender")
        self.timeout = timeout
        self.max_send_seconds = 2.0 * timeout  # a token request, then the post

    def send(self, outbound: Outbound) -> str | None:
        to = outbound.to
        conversation = to.channel_id
        if not conversation:
            raise DeliveryError("no Teams conversation stored for this person yet", permanent=True)
        in_channel = not to.user_id  # a campaign post: a new thread in a channel
        if in_channel and not TEAMS_CHANNEL.match(conversation):
            raise DeliveryError(
                f"{conversation[:80]!r} is not a Teams channel id (19:…@thread…): in Teams, mention the "
                "channel (@channel name) when announcing",
                permanent=True,
            )
        data = dict(to.data or {})
        if in_channel and not data.get("service_url"):
            data = {**self._latest_contact(), **data}
        where = connector.reference(replace(to, data=data))
        bot, user = where.agent, where.user
        place = Place(
            conversation,
            tenant_id=data.get("tenant_id"),
            bot={"id": bot.id, "name": bot.name} if bot else None,
            user={"id": user.id} if user and not in_channel else None,
        )
        body = delivery.payload(outbound.reply)

        async def post(client: ConnectorClientBase, _: TurnContext) -> str | None:
            if in_channel:
                return await delivery.start_thread(client, place, body)
            return await delivery.post(client, place, body)

        async def attempt() -> str | None:
            return await asyncio.wait_for(
                connector.in_turn(self.cloud, self.claims, where, post), self.max_send_seconds
            )

        try:
            sent = self.loop.run(attempt(), self.max_send_seconds + 5)
        except Exception as exc:
            raise connector.classify(exc) from None
        return sent or f"teams:{outbound.key}"

    def _latest_contact(self) -> dict[str, Any]:
        """Service URL, tenant and bot id from the most recent Teams contact (one tenant per install)."""
        if self.engine is None:
            return {}
        with session_scope(self.engine) as session:
            latest = session.exec(
                select(ConversationReference)
                .where(ConversationReference.platform == PLATFORM)
                .order_by(ConversationReference.updated_at.desc())  # type: ignore[attr-defined]
            ).first()
            stored = dict(latest.data or {}) if latest is not None else {}
        keys = ("service_url", "tenant_id", "bot_id", "bot_name", "channel")
        return {key: stored[key] for key in keys if stored.get(key)}

    def close(self) -> None:
        self.loop.stop()
