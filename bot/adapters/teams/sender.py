"""Outbox delivery to Teams: one message per row into the conversation its stored reference names.

Nobody can be messaged in Teams before learnbot is installed for them, so the sender needs a
stored reference (`needs_reference`): the personal chat remembered at install or first contact,
with its service URL, tenant and bot id. Each send is an SDK proactive turn; the connector's
429 and 503 defer the row by their Retry-After (`connector.classify`).

Delivery guarantee: the connector has no idempotency key and a bot cannot read a chat's history,
so there is no `find`. A row is sent exactly once unless an attempt fails ambiguously (a timeout,
a dropped connection, a 5xx or 503 after the request went out, a dispatcher that died mid-send);
then it is sent again and the person may see it twice (at-least-once).
"""

from __future__ import annotations

import asyncio
import logging

from microsoft_agents.hosting.core import ConnectorClientBase, TurnContext

from bot.adapters.teams import connector, delivery
from bot.adapters.teams.activities import PLATFORM
from bot.adapters.teams.delivery import Place
from bot.adapters.teams.runtime import Loop
from bot.config import Settings
from nudges.outbox import DeliveryError, Outbound

log = logging.getLogger(__name__)


class TeamsSender:
    """Posts outbox messages to Teams chats through the connector, about one per second per chat."""

    platform = PLATFORM
    min_interval = 1.0
    needs_reference = True

    def __init__(self, settings: Settings, *, loop: Loop | None = None, timeout: float = 10.0) -> None:
        self.auth = connector.auth_configuration(settings)
        self.cloud = connector.cloud_adapter(self.auth)
        self.claims = connector.outbound_claims(settings, self.cloud)
        self.loop = loop or Loop("teams-sender")
        self.timeout = timeout
        self.max_send_seconds = 2.0 * timeout  # a token request, then the post

    def send(self, outbound: Outbound) -> str | None:
        to = outbound.to
        conversation = to.channel_id
        if not conversation:
            raise DeliveryError("no Teams conversation stored for this person yet", permanent=True)
        where = connector.reference(to)
        bot, user = where.agent, where.user
        place = Place(
            conversation,
            tenant_id=(to.data or {}).get("tenant_id"),
            bot={"id": bot.id, "name": bot.name} if bot else None,
            user={"id": user.id} if user else None,
        )
        body = delivery.payload(outbound.reply)

        async def post(client: ConnectorClientBase, _: TurnContext) -> str | None:
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

    def close(self) -> None:
        self.loop.stop()
