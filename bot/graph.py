"""The one Microsoft Graph client: the real msgraph-sdk `GraphServiceClient`, configured from Settings.

Client credentials (azure-identity `ClientSecretCredential`) from GRAPH_TENANT_ID / GRAPH_CLIENT_ID /
GRAPH_CLIENT_SECRET; requests go to GRAPH_API_URL; GRAPH_ALLOW_ANONYMOUS (loopback only, checked in
`bot.config.Settings`) skips authentication for local fakes. 429, 503 and 504 are retried by the SDK's
own retry middleware, honouring Retry-After, a bounded number of times and never waiting longer than
`max_wait` seconds for one retry. The org sync, the calendar scan and the SharePoint source import
this module; nothing else imports msgraph, azure or kiota (tests/import_rules.py).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
from kiota_abstractions.api_error import APIError
from kiota_abstractions.authentication import AnonymousAuthenticationProvider, AuthenticationProvider
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from kiota_http.kiota_client_factory import KiotaClientFactory
from kiota_http.middleware import RetryHandler
from kiota_http.middleware.options import RetryHandlerOption
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.graph_request_adapter import options as sdk_options
from msgraph_core import GraphClientFactory

from bot.config import Settings

T = TypeVar("T")

# Retries after the first attempt, and the longest single wait (seconds) a Retry-After may ask for
# before the call gives up and reports the throttling instead of stalling a scan.
DEFAULT_RETRIES = 3
DEFAULT_MAX_WAIT = 60.0
DEFAULT_TIMEOUT = 30.0


class GraphNotConfigured(RuntimeError):
    """Graph was asked for but the environment has no credentials (nor anonymous access to a fake)."""


class _BoundedRetry(RetryHandler):
    """The SDK's retry middleware with waits capped: a Retry-After above `max_wait` is not waited for."""

    def __init__(self, options: RetryHandlerOption, max_wait: float) -> None:
        super().__init__(options)
        self.max_wait = max_wait

    def get_delay_time(
        self, retry_count: int, response: httpx.Response | None = None, delay: float = 0.0
    ) -> float:
        wanted = super().get_delay_time(retry_count, response, delay)
        return wanted if wanted <= self.max_wait else RetryHandlerOption.MAX_DELAY  # MAX_DELAY: no retry


def _auth(settings: Settings) -> AuthenticationProvider:
    return _auth_and_credential(settings)[0]


def _auth_and_credential(settings: Settings) -> tuple[AuthenticationProvider, Any]:
    """The SDK's authentication provider and the credential behind it (None when anonymous)."""
    if settings.graph_allow_anonymous:
        return AnonymousAuthenticationProvider(), None
    if not (settings.graph_tenant_id and settings.graph_client_id and settings.graph_client_secret):
        raise GraphNotConfigured(
            "Microsoft Graph is not configured: set GRAPH_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET "
            "(an app registration with application permissions User.Read.All and Calendars.Read)"
        )
    from azure.identity.aio import ClientSecretCredential

    credential = ClientSecretCredential(
        settings.graph_tenant_id, settings.graph_client_id, settings.graph_client_secret
    )
    return AzureIdentityAuthenticationProvider(credential), credential


def http_client(
    settings: Settings,
    *,
    retries: int = DEFAULT_RETRIES,
    max_wait: float = DEFAULT_MAX_WAIT,
    timeout: float = DEFAULT_TIMEOUT,
) -> httpx.AsyncClient:
    """The httpx client under the SDK: base URL from GRAPH_API_URL and the SDK's middleware chain."""
    client = httpx.AsyncClient(base_url=settings.graph_api_url, timeout=httpx.Timeout(timeout))
    middleware = KiotaClientFactory.get_default_middleware(sdk_options)
    retry = _BoundedRetry(RetryHandlerOption(delay=0.0, max_retries=retries), max_wait)
    middleware = [retry if isinstance(handler, RetryHandler) else handler for handler in middleware]
    middleware.append(GraphClientFactory._get_telemetry_handler(sdk_options))
    return GraphClientFactory.create_with_custom_middleware(middleware, client=client)


def graph_client(settings: Settings, *, http: httpx.AsyncClient | None = None) -> GraphServiceClient:
    """The real msgraph-sdk client for these settings (raises GraphNotConfigured without credentials).

    Pass `http` (from `http_client`) to close it yourself; `open_graph` does that for you.
    """
    adapter = GraphRequestAdapter(_auth(settings), client=http or http_client(settings))
    adapter.base_url = settings.graph_api_url
    return GraphServiceClient(request_adapter=adapter)


@asynccontextmanager
async def open_graph(settings: Settings, **http_options: float) -> AsyncIterator[GraphServiceClient]:
    """A Graph client whose connections are closed when the block ends (one per scan or sync)."""
    http = http_client(settings, **http_options)  # type: ignore[arg-type]
    auth, credential = _auth_and_credential(settings)
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = settings.graph_api_url
    try:
        yield GraphServiceClient(request_adapter=adapter)
    finally:
        await http.aclose()
        if credential is not None:
            await credential.close()  # its own token HTTP session


async def get_json(client: GraphServiceClient, builder: Any, config: Any = None) -> dict[str, Any]:
    """GET what `builder` (an SDK request builder) addresses, through the SDK's adapter and middleware,
    and read the JSON with `json`: the SDK's typed models cost about 25 ms an object to build, which is
    minutes for an org chart. Errors still raise the SDK's ODataError (with its status code)."""
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError

    info = builder.to_get_request_information(config)
    raw = await client.request_adapter.send_primitive_async(info, "bytes", {"XXX": ODataError})
    return json.loads(raw) if raw else {}


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of a Graph error (None for a connection error or anything else)."""
    return exc.response_status_code if isinstance(exc, APIError) else None


def problem(exc: BaseException, *, reading: str, permission: str) -> str:
    """One line saying what failed and what to do: 401/403 name the application permission that is missing."""
    status = status_of(exc)
    if status in (401, 403):
        return (
            f"Microsoft Graph refused to let learnbot read {reading} (HTTP {status}): the app registration "
            f"needs the application permission {permission}, with admin consent"
        )
    if status in (429, 503, 504):
        return f"Microsoft Graph was still busy reading {reading} after retries (HTTP {status})"
    if status is not None:
        return f"Microsoft Graph could not read {reading} (HTTP {status})"
    if isinstance(exc, httpx.HTTPError):
        return f"Microsoft Graph could not be reached reading {reading} ({type(exc).__name__})"
    return f"reading {reading} failed ({type(exc).__name__}: {exc})"


def run(work: Callable[[], Awaitable[T]]) -> T:
    """Run async Graph work from synchronous code (CLI, scheduler threads), even under a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_call(work))
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(_call(work)))
        except BaseException as exc:  # handed back to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=target, name="graph", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


async def _call(work: Callable[[], Awaitable[T]]) -> T:
    return await work()
