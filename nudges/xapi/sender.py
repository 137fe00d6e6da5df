"""The outbox sender for platform "xapi": POSTs one batch of statements to the LRS's statements resource.

Statement ids are set by learnbot, so sending a batch again is harmless: an LRS stores each id
once and answers 204 (nothing new) or 200 for the rest; a 409 means it holds a statement with the
same id already, which counts as delivered. Errors map onto the outbox's: a refused connection
is retried, a timeout, dropped connection or 5xx is retried as "may have arrived" (harmless here),
429 waits for Retry-After, 400 fails the batch with the LRS's reason. Request bodies are never logged.
"""

from __future__ import annotations

import logging

import httpx
from sqlalchemy import Engine

from nudges.clock import Clock
from nudges.outbox import DeliveryError, Outbound
from storage.db import session_scope
from storage.xapi import batch_statements, mark_sent

log = logging.getLogger(__name__)

XAPI_VERSION = "1.0.3"
CONNECT_SECONDS = 10.0
READ_SECONDS = 30.0
REASON_LIMIT = 300  # characters of the LRS's reason kept in the outbox row


class XapiSender:
    """Delivers "xapi" outbox rows: the statements of the batch named by the row's key, in one POST."""

    platform = "xapi"
    min_interval = 0.0
    needs_reference = False
    max_send_seconds = CONNECT_SECONDS + READ_SECONDS + 5

    def __init__(
        self,
        endpoint: str,
        key: str,
        secret: str,
        *,
        engine: Engine,
        clock: Clock,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = endpoint.rstrip("/") + "/statements"
        self.engine, self.clock = engine, clock
        self.client = httpx.Client(
            auth=(key, secret),
            timeout=httpx.Timeout(READ_SECONDS, connect=CONNECT_SECONDS),
            headers={"X-Experience-API-Version": XAPI_VERSION},
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def send(self, outbound: Outbound) -> str | None:
        with session_scope(self.engine) as session:
            statements = batch_statements(session=session, batch=outbound.key)
        if not statements:
            return "empty"
        status = self._post(statements)
        with session_scope(self.engine) as session:
            mark_sent(session=session, batch=outbound.key, at=self.clock.now())
        return f"lrs-{status}-{len(statements)}"

    def _post(self, statements: list[dict]) -> int:
        host = httpx.URL(self.url).host
        try:
            response = self.client.post(self.url, json=statements)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise DeliveryError(f"could not reach the LRS at {host}: {type(exc).__name__}") from None
        except httpx.TransportError as exc:  # the request may have arrived: sending again is harmless
            raise DeliveryError(
                f"no answer from the LRS at {host}: {type(exc).__name__}", ambiguous=True
            ) from None
        status = response.status_code
        if status in (200, 204):
            return status
        if status == 409:
            log.warning("LRS already holds statements with these ids (409); counted as delivered")
            return status
        reason = f"LRS answered HTTP {status}: {_detail(response)}"
        if status == 429:
            raise DeliveryError(reason, retry_after=_seconds(response.headers.get("Retry-After")))
        if status in (401, 403):
            raise DeliveryError(f"{reason} (check XAPI_KEY and XAPI_SECRET)")
        if status >= 500:
            raise DeliveryError(reason, ambiguous=True)
        raise DeliveryError(reason, permanent=True)


def _detail(response: httpx.Response) -> str:
    """The LRS's reason, without the statements it may echo back (validation errors quote their input)."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "no reason given"
    detail = body.get("detail", body.get("message")) if isinstance(body, dict) else None
    if isinstance(detail, list):  # validation errors: where and what, never the input
        parts = [
            f"{'.'.join(str(p) for p in item.get('loc', ()))}: {item.get('msg', '')}"
            for item in detail[:3]
            if isinstance(item, dict)
        ]
        detail = "; ".join(parts) + (f" (and {len(detail) - 3} more)" if len(detail) > 3 else "")
    text = str(detail) if detail else response.reason_phrase or "no reason given"
    return text[:REASON_LIMIT]


def _seconds(value: str | None) -> float:
    try:
        return max(1.0, float(value)) if value else 30.0
    except ValueError:
        return 30.0
