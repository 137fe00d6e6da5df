"""Delivering the outbox: claim due rows, send each through its platform's `Sender`, record the outcome.

Every row carries a `ConversationRef` (who or which channel, on which platform) and a neutral
`Reply`; the dispatcher hands each to the sender registered for the row's platform. Senders
are one method (`send(outbound) -> delivery id`) plus `platform` and `min_interval`, like
httpx transports; `MemorySender` ships beside the real ones for tests and demos.

Errors form a small tree: `DeliveryError` is what a sender raises; `permanent=True` means
retrying cannot help (channel gone, bad payload) and the row fails at once with the reason;
otherwise the row is retried with exponential back-off, or after `retry_after` seconds when
the platform said so (Slack's 429 Retry-After), until `max_attempts`, then fails with the last
reason. A crash after the claim leaves the row leased; when the lease expires any dispatcher
takes it again, so nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Engine

from bot import markup
from bot.events import AnswerCard, Button, ConversationRef, Reply
from nudges.clock import Clock, SystemClock
from nudges.hours import next_slot, window_from
from storage.db import session_scope
from storage.models import OutboxMessage
from storage.outbox import claim, mark_failed, mark_retry, mark_sent

log = logging.getLogger(__name__)


# ---- what travels in a row's payload ----------------------------------------------------------


def reply_payload(reply: Reply, *, to: ConversationRef, **extra: Any) -> dict[str, Any]:
    """A `Reply` as JSON for the outbox (neutral text, card, buttons), plus where it goes."""
    card = reply.card
    return {
        "text": markup.to_json(reply.text),
        "quote": markup.to_json(reply.quote),
        "card": None
        if card is None
        else {
            "content_id": card.content_id,
            "title": card.title,
            "summary": card.summary,
            "pillar": card.pillar,
            "impact": card.impact,
            "duration_minutes": card.duration_minutes,
            "url": card.url,
        },
        "buttons": [[b.label, b.name, b.value, b.style] for b in reply.buttons],
        "to": to.to_json(),
        **extra,
    }


def payload_reply(payload: Mapping[str, Any]) -> Reply:
    """The `Reply` stored by `reply_payload`."""
    card = payload.get("card")
    quote = payload.get("quote")
    return Reply(
        text=markup.from_json(payload.get("text")),
        quote=None if quote is None else markup.from_json(quote),
        card=AnswerCard(**card) if card else None,
        buttons=tuple(
            Button(label, name, value, style) for label, name, value, style in payload.get("buttons", ())
        ),
    )


def row_ref(row: OutboxMessage) -> ConversationRef:
    """Where a row goes: the reference in its payload (rows from before references: its channel or user)."""
    stored = row.payload.get("to")
    if stored:
        return ConversationRef.from_json(stored)
    return ConversationRef(row.platform, str(row.payload.get("to_user") or ""), row.channel_id)


# ---- senders ----------------------------------------------------------------------------------


class DeliveryError(Exception):
    """A send failed: `permanent` if retrying cannot help; `retry_after` seconds if the platform said."""

    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True)
class Outbound:
    """One message to send: its outbox key and kind, where it goes (`to`) and what it says."""

    key: str
    kind: str
    to: ConversationRef
    reply: Reply


class Sender(Protocol):
    """Sends one message on one platform; returns the platform's id for it, raises `DeliveryError`.

    `to.channel_id` names a channel (a campaign post) or the person's own conversation; with
    only `to.user_id` the sender opens a direct conversation with them (Slack: conversations.open).
    A sender that cannot do that (Teams: nobody can be messaged before an install) also sets
    `needs_reference = True`, so only people with a stored reference there count as reachable.
    """

    platform: str
    min_interval: float  # seconds between two messages to the same channel

    def send(self, outbound: Outbound) -> str | None: ...


class MemorySender:
    """A sender that keeps what it was given, with the clock time: for tests, demos and the console.

    `fail` (optional) is called before each send and may raise `DeliveryError` to play a platform error.
    """

    def __init__(
        self,
        platform: str = "memory",
        clock: Clock | None = None,
        *,
        min_interval: float = 0.0,
        needs_reference: bool = False,
        fail: Any = None,
    ) -> None:
        self.platform = platform
        self.min_interval = min_interval
        self.needs_reference = needs_reference
        self.clock = clock or SystemClock()
        self.fail = fail
        self.delivered: list[tuple[dt.datetime, Outbound]] = []
        self._lock = threading.Lock()

    def send(self, outbound: Outbound) -> str | None:
        if self.fail is not None:
            self.fail(outbound)
        with self._lock:
            self.delivered.append((self.clock.now(), outbound))
            return f"{self.platform}-{len(self.delivered)}"

    @property
    def messages(self) -> list[Outbound]:
        return [message for _, message in self.delivered]


# ---- the dispatcher ---------------------------------------------------------------------------


@dataclass
class DispatchResult:
    """What one or more passes did."""

    sent: int = 0
    retried: int = 0
    paced: int = 0
    held: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DispatchResult) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.paced += other.paced
        self.held += other.held
        self.failed += other.failed
        self.errors += other.errors


class Dispatcher:
    """Claims due outbox rows for the platforms it has senders for and delivers them."""

    def __init__(
        self,
        engine: Engine,
        senders: Mapping[str, Sender],
        clock: Clock,
        *,
        batch: int = 200,
        lease: dt.timedelta = dt.timedelta(seconds=60),
        max_attempts: int = 5,
        workers: int = 8,
        base_backoff: float = 2.0,
    ) -> None:
        self.engine = engine
        self.senders = dict(senders)
        self.clock = clock
        self.batch, self.lease, self.max_attempts = batch, lease, max_attempts
        self.base_backoff = base_backoff
        self.workers = max(1, workers)
        self._last_sent: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix=f"dispatch-{os.getpid()}")

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def claim(self) -> list[OutboxMessage]:
        """Lease a batch of due rows (its own transaction, committed before anything is sent)."""
        if not self.senders:
            return []
        with session_scope(self.engine) as session:
            return claim(
                session=session,
                now=self.clock.now(),
                platforms=self.senders,
                limit=self.batch,
                lease=self.lease,
            )

    def run_once(self) -> DispatchResult:
        """Claim one batch and deliver it; returns what happened."""
        return self.deliver(self.claim())

    def drain(self, max_passes: int = 1000) -> DispatchResult:
        """Passes until nothing is due (or `max_passes`); for ticks, demos and tests."""
        total = DispatchResult()
        for _ in range(max_passes):
            result = self.run_once()
            total.add(result)
            if not (result.sent or result.retried or result.failed or result.paced or result.held):
                break
        return total

    def deliver(self, rows: list[OutboxMessage]) -> DispatchResult:
        """Send claimed rows, paced per channel, then record sent, retry or failed in one transaction.

        Rows for one channel go out one after another, `min_interval` apart; more than fit
        comfortably inside the lease are handed back, due a little later, without counting an attempt.
        """
        with self._lock:  # only recent sends matter for pacing; forget the rest
            if len(self._last_sent) > 10_000:
                recent = time.monotonic() - 60
                self._last_sent = {k: t for k, t in self._last_sent.items() if t > recent}
        now = self.clock.now()
        held: list[tuple[OutboxMessage, dt.datetime]] = []
        for row in rows:  # a nudge that came up late, after the learner's working day, waits for the next
            window = row.payload.get("window")
            opens = next_slot(now, window_from(window)) if window else None
            if opens is not None and opens > now:
                held.append((row, opens))
        waiting = {row.id for row, _ in held}
        rows = [row for row in rows if row.id not in waiting]
        groups: dict[tuple[str, str], list[OutboxMessage]] = {}
        for row in rows:
            to = row_ref(row)
            channel = to.channel_id or f"@{to.user_id}"
            groups.setdefault((row.platform, channel), []).append(row)
        batches: list[tuple[tuple[str, str], list[OutboxMessage]]] = []
        handed_back: list[tuple[OutboxMessage, float]] = []
        for key, group in groups.items():
            interval = self.senders[key[0]].min_interval
            fits = len(group) if interval <= 0 else max(1, int(self.lease.total_seconds() / (4 * interval)))
            batches.append((key, group[:fits]))
            handed_back += [(row, interval * (n + 1)) for n, row in enumerate(group[fits:])]
        outcomes: list[tuple[OutboxMessage, DeliveryError | None]] = []
        for done in self._pool.map(self._send_group, batches):
            outcomes += done
        result = DispatchResult()
        sent_ids: list[int] = []
        with session_scope(self.engine) as session:
            for row, error in outcomes:
                assert row.id is not None
                if error is None:
                    sent_ids.append(row.id)
                    continue
                reason = f"{error.reason} (attempt {row.attempts} of {self.max_attempts})"
                if error.permanent or row.attempts >= self.max_attempts:
                    gave_up = "not retried: " if error.permanent else "gave up: "
                    mark_failed(session=session, message_id=row.id, error=gave_up + reason)
                    result.failed += 1
                    result.errors.append(f"{row.idempotency_key}: {gave_up}{reason}")
                    log.warning("outbox %s failed for good: %s", row.idempotency_key, reason)
                    continue
                delay = error.retry_after if error.retry_after is not None else self._backoff(row.attempts)
                mark_retry(
                    session=session, message_id=row.id, due_at=now + dt.timedelta(seconds=delay), error=reason
                )
                result.retried += 1
                log.info("outbox %s retry in %.1fs: %s", row.idempotency_key, delay, reason)
            for row, wait in handed_back:
                assert row.id is not None
                due = now + dt.timedelta(seconds=wait)
                mark_retry(session=session, message_id=row.id, due_at=due, error=None, count_attempt=False)
                result.paced += 1
            for row, opens in held:
                assert row.id is not None
                note = "held: the learner's working day had ended; due again when it next starts"
                mark_retry(session=session, message_id=row.id, due_at=opens, error=note, count_attempt=False)
                result.held += 1
            mark_sent(session=session, ids=sent_ids, now=now)
        result.sent = len(sent_ids)
        return result

    def _send_group(
        self, batch: tuple[tuple[str, str], list[OutboxMessage]]
    ) -> list[tuple[OutboxMessage, DeliveryError | None]]:
        """One channel's rows in order, waiting `min_interval` (real time) between two sends."""
        key, rows = batch
        interval = self.senders[key[0]].min_interval
        out = []
        for row in rows:
            if interval > 0:
                with self._lock:
                    wait = self._last_sent.get(key, -interval) + interval - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            out.append((row, self._send_one(row)))
            if interval > 0:
                with self._lock:
                    self._last_sent[key] = time.monotonic()
        return out

    def _backoff(self, attempts: int) -> float:
        return min(self.base_backoff * 2 ** max(attempts - 1, 0), 3600.0)

    def _send_one(self, row: OutboxMessage) -> DeliveryError | None:
        message = Outbound(row.idempotency_key, row.kind, row_ref(row), payload_reply(row.payload))
        try:
            delivery = self.senders[row.platform].send(message)
        except DeliveryError as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - a sender bug must not lose the row; it is retried
            log.exception("sending outbox %s raised", row.idempotency_key)
            return DeliveryError(f"{type(exc).__name__}: {exc}")
        log.debug("outbox %s delivered on %s as %s", row.idempotency_key, row.platform, delivery)
        return None
