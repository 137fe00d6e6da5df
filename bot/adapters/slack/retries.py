"""Which Slack calls are repeated, and when: 429s after Retry-After (bounded), a broken connection
only for idempotent methods. A post whose connection dropped after Slack processed it is never
sent again, so an answer cannot appear twice (chat.postMessage has no idempotency key).
"""

from __future__ import annotations

from http.client import HTTPException
from typing import Any

from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

MAX_RATE_LIMIT_RETRIES = 3
# Web API methods that change nothing, or whose repeat leaves the same state: safe to send again
# when the connection broke and we cannot tell whether Slack processed the first attempt.
IDEMPOTENT = frozenset(
    {
        "auth.test",
        "users.info",
        "conversations.open",
        "chat.getPermalink",
        "chat.update",
        "views.publish",
        "views.update",
    }
)
UNREACHABLE = (OSError, HTTPException)  # connection refused or dropped, timeouts, a cut-off answer


class IdempotentConnectionRetry(ConnectionErrorRetryHandler):
    """Retries a broken connection only for idempotent methods: a post whose connection dropped after
    Slack processed it would otherwise appear twice (chat.postMessage has no idempotency key)."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = request.url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
        return method in IDEMPOTENT and super()._can_retry(
            state=state, request=request, response=response, error=error
        )


def retry_handlers() -> list[Any]:
    """Broken connections retried for idempotent methods only; 429s after Retry-After, a bounded number
    of times (MAX_RATE_LIMIT_RETRIES)."""
    return [IdempotentConnectionRetry(), RateLimitErrorRetryHandler(max_retry_count=MAX_RATE_LIMIT_RETRIES)]


def response_url_retries() -> list[Any]:
    """A response_url post is never repeated after a broken connection: it could show twice."""
    return [RateLimitErrorRetryHandler(max_retry_count=MAX_RATE_LIMIT_RETRIES)]
