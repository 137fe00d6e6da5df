"""The Agents SDK pieces learnbot uses: token checks, the adapter, and turns against the connector.

Inbound: every request's `Authorization: Bearer` token goes through the SDK's `JwtTokenValidator`
(signature from the Bot Framework / Entra keys, audience = TEAMS_APP_ID); with
TEAMS_ALLOW_ANONYMOUS a request *without* a header is let in as anonymous, and one with a
header is still validated. Outbound: replies and proactive messages run in an SDK turn
(`continue_conversation_with_claims`), so the connector client carries the SDK's token (MSAL
client credentials, or none for anonymous requests). Connector errors become `DeliveryError`s:
429 and 503 with their Retry-After, 4xx permanent, 5xx and broken connections ambiguous.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
from microsoft_agents.activity import Activity, ChannelAccount, ConversationAccount, ConversationReference
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import (
    AgentAuthConfiguration,
    ClaimsIdentity,
    ConnectorClientBase,
    JwtTokenValidator,
    TurnContext,
)
from microsoft_agents.hosting.core.authorization import AuthTypes
from pydantic import ValidationError

from bot.config import Settings
from bot.events import ConversationRef
from nudges.outbox import DeliveryError

log = logging.getLogger(__name__)

T = TypeVar("T")
CHANNEL = "msteams"


def auth_configuration(settings: Settings) -> AgentAuthConfiguration:
    """The SDK's connection settings from ours: client secret or certificate; anonymous when allowed."""
    certificate = settings.teams_cert_pfx_file and not settings.teams_app_password
    return AgentAuthConfiguration(
        auth_type=AuthTypes.certificate if certificate else AuthTypes.client_secret,
        client_id=settings.teams_app_id,
        tenant_id=settings.teams_tenant_id,
        client_secret=settings.teams_app_password,
        cert_pfx_file=str(settings.teams_cert_pfx_file) if certificate else None,
        anonymous_allowed=settings.teams_allow_anonymous,
        connection_name="SERVICE_CONNECTION",
    )


def cloud_adapter(config: AgentAuthConfiguration) -> CloudAdapter:
    """The SDK's adapter: it runs turns and makes connector clients with the right token."""
    manager = MsalConnectionManager(connections_configurations={"SERVICE_CONNECTION": config})
    cloud = CloudAdapter(connection_manager=manager)
    # The SDK's default turn-error handler posts the exception's text into the chat: errors are ours to
    # handle (logged, and the person told in our words), so they propagate instead.
    cloud.on_turn_error = None  # type: ignore[assignment]
    return cloud


def has_credentials(settings: Settings) -> bool:
    return bool(settings.teams_app_id and (settings.teams_app_password or settings.teams_cert_pfx_file))


async def authorize(header: str | None, config: AgentAuthConfiguration) -> ClaimsIdentity | None:
    """The caller's claims, or None (answer 401): no header only when anonymous is allowed, and any
    token present must validate. Only the failure's type is logged, never the token."""
    if not header:
        return ClaimsIdentity() if config.ANONYMOUS_ALLOWED else None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or any(char.isspace() for char in token):
        return None
    try:
        return await JwtTokenValidator(config).validate_token(token)
    except Exception as exc:  # PyJWT errors, bad audience or tenant, keys unreachable
        log.warning("teams: rejected a request token (%s)", type(exc).__name__)
        return None


def outbound_claims(settings: Settings, cloud: CloudAdapter) -> ClaimsIdentity:
    """Who learnbot speaks as when nobody just wrote to it: its app id, or anonymous for local fakes."""
    if has_credentials(settings):
        return cloud.create_claims_identity(settings.teams_app_id or "")
    return ClaimsIdentity()


def reference(
    ref: ConversationRef, conversation_id: str | None = None, activity_id: str | None = None
) -> ConversationReference:
    """The SDK's conversation reference for a stored `ConversationRef` (see `activities.reference_data`)."""
    data = ref.data or {}
    service_url = str(data.get("service_url") or "")
    if not service_url:
        raise DeliveryError("the stored Teams reference has no service URL", permanent=True)
    try:
        return ConversationReference(
            channel_id=str(data.get("channel") or CHANNEL),
            service_url=service_url,
            conversation=ConversationAccount(
                id=conversation_id or ref.channel_id or "",
                tenant_id=data.get("tenant_id") or None,
                conversation_type=data.get("conversation_type") or None,
            ),
            agent=ChannelAccount(
                id=str(data.get("bot_id") or "learnbot"), name=str(data.get("bot_name") or "")
            ),
            user=ChannelAccount(id=str(data.get("teams_user_id") or ref.user_id or "user")),
            activity_id=activity_id,
        )
    except ValidationError as exc:
        problems = exc.error_count()
        raise DeliveryError(
            f"the stored Teams reference is malformed ({problems} problems)", permanent=True
        ) from None


async def in_turn(
    cloud: CloudAdapter,
    claims: ClaimsIdentity,
    where: ConversationReference,
    work: Callable[[ConnectorClientBase, TurnContext], Awaitable[T]],
) -> T:
    """Run `work` with a connector client for this conversation (an SDK proactive turn)."""
    result: list[T] = []

    async def callback(context: TurnContext) -> None:
        connector = context.services.get(ConnectorClientBase)
        result.append(await work(connector, context))

    await cloud.continue_conversation_with_claims(
        claims, where.get_continuation_activity(), callback, claims.get_token_audience()
    )
    return result[0]


def retry_after(headers: Any) -> float:
    try:
        return max(float((headers or {}).get("Retry-After") or 1), 0.0)
    except (TypeError, ValueError):
        return 1.0


def classify(exc: BaseException) -> DeliveryError:
    """A connector failure as the outbox understands it (see `nudges.outbox.DeliveryError`)."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, aiohttp.ClientResponseError):
        status = exc.status
        if status == 429:
            return DeliveryError("Teams rate limit (429)", retry_after=retry_after(exc.headers))
        if status == 503:  # the service asks to come back later; it may still have taken the message
            return DeliveryError(
                "Teams unavailable (503)", retry_after=retry_after(exc.headers), ambiguous=True
            )
        if 400 <= status < 500:
            return DeliveryError(f"Teams refused the message (HTTP {status})", permanent=True)
        return DeliveryError(f"Teams error (HTTP {status})", ambiguous=True)
    if isinstance(exc, aiohttp.ClientConnectorError):  # never connected: nothing was sent
        return DeliveryError(f"cannot reach Teams: {type(exc).__name__}")
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | OSError):
        return DeliveryError(f"Teams did not answer: {type(exc).__name__}", ambiguous=True)
    return DeliveryError(f"Teams delivery failed: {type(exc).__name__}: {exc}")


def message(payload: dict[str, Any]) -> Activity:
    """An outgoing message activity from its JSON (camelCase, as the connector receives it)."""
    return Activity.model_validate({"type": "message", **payload})
