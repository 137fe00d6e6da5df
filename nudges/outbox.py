"""Delivering the outbox: claim due rows, send each through its platform's `Sender`, record the outcome.

Every row carries a `ConversationRef` (who or which channel, on which platform) and a neutral
`Reply`; the dispatcher hands each to the sender registered for the row's platform. Senders
are one method (`send(outbound) -> delivery id`) plus `platform` and `min_interval`, like
httpx transports; `MemorySender` ships beside the real ones for tests and demos.

Errors form a small tree: `DeliveryError` is what a sender raises; `permanent=True` means
retrying cannot help (channel gone, bad payload) and the row fails at once with the reason; a
rate limit (`retry_after`, Slack's 429 Retry-After) defers the row, and the rest of its
conversation's batch, without using up an attempt; otherwise the row is retried with
exponential back-off until `max_attempts`, then fails with the last reason. `ambiguous=True`
(a timeout, a connection dropped after the request went out) flags the row `maybe_sent`.

Delivery is fenced (see `storage.outbox`): each row is marked sent right after its own send,
under its claim's token and only while the lease holds; a batch renews its lease before any
send that could outlive it, and stops sending rows it no longer holds. A dispatcher that dies
after the claim leaves its rows leased; when the lease expires another takes them over, flagged
`maybe_sent`, and asks the sender whether each arrived (`find`) before sending it again.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot import markup
from bot.events import AnswerCard, Button, ConversationRef, Reply
from nudges.clock import Clock, SystemClock, as_utc
from nudges.hours import next_slot, window_from
from storage.db import session_scope
from storage.models import OutboxMessage
from storage.outbox import claim, mark_failed, mark_retry, mark_sent, renew

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
    """A send failed.

    `permanent`: retrying cannot help (the row fails at once). `retry_after`: the platform asked
    to wait this long (a rate limit: the row is deferred without using up an attempt).
    `ambiguous`: the request may have reached the platform (a timeout or a connection dropped
    after sending), so the next attempt first looks for the message instead of sending blindly.
    """

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        self.ambiguous = ambiguous


@dataclass(frozen=True)
class Outbound:
    """One message to send: its outbox key and kind, where it goes (`to`) and what it says.

    `since` is the earliest moment it can have been delivered (for `Sender.find`).
    """

    key: str
    kind: str
    to: ConversationRef
    reply: Reply
    since: dt.datetime | None = None


class Sender(Protocol):
    """Sends one message on one platform; returns the platform's id for it, raises `DeliveryError`.

    `to.channel_id` names a channel (a campaign post) or the person's own conversation; with
    only `to.user_id` the sender opens a direct conversation with them (Slack: conversations.open).
    A sender that cannot do that (Teams: nobody can be messaged before an install) also sets
    `needs_reference = True`, so only people with a stored reference there count as reachable.

    A sender may also offer `find(outbound) -> delivery id | None`: whether a message with this
    outbox key was already delivered (Slack: the key in the message metadata, read back from the
    conversation history). The dispatcher asks before re-sending a row whose earlier attempt may
    have arrived; without `find` such a row is sent again (at-least-once). `max_send_seconds` is
    the longest one `send` can take (its network timeouts): a claim is renewed before it has
    less than that left, so no send can outlive its lease.
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
        self._lock = threading.Condition()

    def send(self, outbound: Outbound) -> str | None:
        if self.fail is not None:
            self.fail(outbound)
        with self._lock:
            self.delivered.append((self.clock.now(), outbound))
            self._lock.notify_all()
            return f"{self.platform}-{len(self.delivered)}"

    def wait_for(self, count: int, timeout: float) -> bool:
        """Block until `count` messages were delivered (False after `timeout` seconds)."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self.delivered) >= count, timeout)

    @property
    def messages(self) -> list[Outbound]:
        return [message for _, message in self.delivered]


# ---- the dispatcher ---------------------------------------------------------------------------


@dataclass
class DispatchResult:
    """What one or more passes did.

    `deferred`: rate-limited rows put back until Retry-After (no attempt used); `found`: rows
    whose earlier attempt had in fact arrived (marked sent without sending again); `lost`: rows
    this dispatcher stopped handling because its claim on them had expired or been taken over.
    """

    sent: int = 0
    retried: int = 0
    paced: int = 0
    held: int = 0
    failed: int = 0
    deferred: int = 0
    found: int = 0
    lost: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DispatchResult) -> None:
        for name in ("sent", "retried", "paced", "held", "failed", "deferred", "found", "lost"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors

    @property
    def busy(self) -> bool:
        """Anything happened (a pass that did nothing means nothing is due)."""
        return bool(self.sent or self.retried or self.failed or self.paced or self.held or self.deferred)


class _Recorder:
    """One thread that runs the workers' small row updates (send started, outcome) in shared
    transactions: whatever queued up while the last commit ran goes in the next one (group commit).
    Each update still checks its own claim; if a shared transaction fails, each runs alone."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._queue: queue.SimpleQueue[tuple[Callable[[Session], Any], Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._loop, name=f"outbox-recorder-{os.getpid()}", daemon=True)
        self._thread.start()

    def run(self, operation: Callable[[Session], Any]) -> Any:
        """Run `operation(session)` in the next shared transaction; its result once committed."""
        done: Future[Any] = Future()
        self._queue.put((operation, done))
        return done.result()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, stop = [first], False
            while not stop:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                else:
                    batch.append(item)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[tuple[Callable[[Session], Any], Future[Any]]]) -> None:
        try:
            with session_scope(self.engine) as session:
                results = [operation(session) for operation, _ in batch]
        except Exception as exc:  # noqa: BLE001 - retried one by one below, so one bad update fails alone
            if len(batch) == 1:
                batch[0][1].set_exception(exc)  # handed to the waiting worker
                return
            for item in batch:
                self._commit([item])
            return
        for (_, done), result in zip(batch, results, strict=True):
            done.set_result(result)


class _Claim:
    """One claimed batch: its token, the rows it still holds and until when (this process's view)."""

    def __init__(self, token: str, ids: set[int], until: dt.datetime) -> None:
        self.token, self.held, self.until = token, ids, until
        self.done: set[int] = set()
        self.lock = threading.Lock()


class Dispatcher:
    """Claims due outbox rows for the platforms it has senders for and delivers them, each exactly once.

    Each row is recorded (sent, retry, failed) in its own short transaction right after its own
    send, under the claim's token: if the claim was lost meanwhile, the record is refused and
    the row is left to its new holder. Before each send the dispatcher makes sure the claim has
    at least the sender's longest send time left, renewing the lease of the batch's remaining rows
    when it has not; a row whose claim cannot be renewed is not sent. A row taken over from an
    expired lease, or whose last attempt timed out, is looked up first (`Sender.find`) and only
    sent when it did not arrive.
    """

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
        ticks: Callable[[], float] = time.monotonic,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        """`ticks` and `pause` are the real-time clock and sleep used to pace sends (tests replace them)."""
        self.ticks, self.pause = ticks, pause
        self.engine = engine
        self.senders = dict(senders)
        self.clock = clock
        self.batch, self.lease, self.max_attempts = batch, lease, max_attempts
        self.base_backoff = base_backoff
        self.workers = max(1, workers)
        self._last_sent: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix=f"dispatch-{os.getpid()}")
        self._recorder = _Recorder(engine)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._recorder.close()

    def claim(self, limit: int | None = None) -> list[OutboxMessage]:
        """Lease up to `limit` (at most `batch`) due rows in their own transaction, before any send."""
        if not self.senders:
            return []
        with session_scope(self.engine) as session:
            return claim(
                session=session,
                now=self.clock.now(),
                platforms=self.senders,
                limit=min(self.batch, limit if limit is not None else self.batch),
                lease=self.lease,
            )

    def run_once(self) -> DispatchResult:
        """One pass: claim due rows as workers free up and deliver them; returns what happened.

        A claim takes only as many rows as there are free workers (plus `PREFETCH`, at most
        `batch`), so a dispatcher holds little more than what it is sending: no worker idles
        at the end of a big batch while the other dispatcher holds the last rows, and a
        dispatcher that dies leaves few rows to be taken over (each looked up before it is sent
        again). Rows of one channel stay in order, one group at a time. The pass stops claiming
        once a claim finds nothing due or after `PASS_SECONDS`, then waits for its sends.
        """
        result = DispatchResult()
        if not self.senders:
            return result
        started = self.ticks()
        running: dict[Future[DispatchResult], tuple[tuple[str, str], int]] = {}
        waiting: dict[tuple[str, str], list[tuple[list[OutboxMessage], _Claim]]] = {}
        claiming = True
        try:
            while True:
                outstanding = sum(n for _, n in running.values())
                outstanding += sum(len(rows) for queued in waiting.values() for rows, _ in queued)
                free = self.workers + PREFETCH - outstanding
                if claiming and free > 0 and (not running or free >= PREFETCH):
                    try:
                        rows = self.claim(free)
                    except SQLAlchemyError:
                        if not running and not waiting:
                            raise
                        log.exception("outbox: could not claim more rows; finishing this pass's sends")
                        rows = []
                    if not rows:
                        claiming = False
                    else:
                        work, groups = self._prepare(rows, result)
                        for key, group in groups:
                            waiting.setdefault(key, []).append((group, work))
                    if self.ticks() - started >= PASS_SECONDS:
                        claiming = False
                busy = {key for key, _ in running.values()}
                for key in [k for k in waiting if k not in busy]:
                    group, work = waiting[key].pop(0)
                    if not waiting[key]:
                        del waiting[key]
                    future = self._pool.submit(self._send_group, (key, group), work)
                    running[future] = (key, len(group))
                if not running:
                    if claiming:
                        continue
                    return result
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    running.pop(future)
                    result.add(future.result())
        finally:
            wait(running)  # only after an unexpected error: let the sends finish and be recorded

    def deliver(self, rows: list[OutboxMessage]) -> DispatchResult:
        """Send claimed rows, paced per channel, recording each outcome right after its send.

        Rows for one channel go out one after another, `min_interval` apart; more than fit
        comfortably inside the lease are handed back, due a little later, without counting an
        attempt; so are nudges that came up after the learner's working day (due when it starts).
        """
        result = DispatchResult()
        if not rows:
            return result
        work, batches = self._prepare(rows, result)
        for done in self._pool.map(lambda batch: self._send_group(batch, work), batches):
            result.add(done)
        return result

    def drain(self, max_passes: int = 1000) -> DispatchResult:
        """Passes until nothing is due (or `max_passes`); for ticks, demos and tests."""
        total = DispatchResult()
        for _ in range(max_passes):
            result = self.run_once()
            total.add(result)
            if not result.busy:
                break
        return total

    def _prepare(
        self, rows: list[OutboxMessage], result: DispatchResult
    ) -> tuple[_Claim, list[tuple[tuple[str, str], list[OutboxMessage]]]]:
        """One claim's rows as per-channel groups to send; held and paced rows handed back (into `result`)."""
        with self._lock:  # only recent sends matter for pacing; forget the rest
            if len(self._last_sent) > 10_000:
                recent = self.ticks() - 60
                self._last_sent = {k: t for k, t in self._last_sent.items() if t > recent}
        now = self.clock.now()
        token = str(rows[0].claim_token)
        until = min(as_utc(row.lease_until) if row.lease_until else now + self.lease for row in rows)
        work = _Claim(token, {row.id for row in rows if row.id is not None}, until)
        later: list[tuple[OutboxMessage, dt.datetime, str | None, str]] = []
        groups: dict[tuple[str, str], list[OutboxMessage]] = {}
        for row in rows:  # a nudge that came up late, after the learner's working day, waits for the next
            window = row.payload.get("window")
            opens = next_slot(now, window_from(window)) if window else None
            if opens is not None and opens > now:
                later.append((row, opens, HELD, "held"))
                continue
            to = row_ref(row)
            channel = to.channel_id or f"@{to.user_id}"
            groups.setdefault((row.platform, channel), []).append(row)
        batches: list[tuple[tuple[str, str], list[OutboxMessage]]] = []
        for key, group in groups.items():
            interval = self.senders[key[0]].min_interval
            fits = len(group) if interval <= 0 else max(1, int(self.lease.total_seconds() / (4 * interval)))
            batches.append((key, group[:fits]))
            later += [
                (row, now + dt.timedelta(seconds=interval * (n + 1)), None, "paced")
                for n, row in enumerate(group[fits:])
            ]
        if later:
            with session_scope(self.engine) as session:
                for row, due, note, counter in later:
                    assert row.id is not None
                    if self._put_back(session, work, row, due, note):
                        setattr(result, counter, getattr(result, counter) + 1)
                    else:
                        result.lost += 1
        return work, batches

    def _put_back(
        self, session: Session, work: _Claim, row: OutboxMessage, due: dt.datetime, note: str | None
    ) -> bool:
        assert row.id is not None
        work.done.add(row.id)
        return mark_retry(
            session=session,
            message_id=row.id,
            token=work.token,
            now=self.clock.now(),
            due_at=due,
            error=note,
            count_attempt=False,
        )

    def _still_held(self, work: _Claim, row: OutboxMessage, guard: float) -> bool:
        """True while the claim holds the row with at least `guard` seconds left (renewing if needed)."""
        assert row.id is not None
        with work.lock:
            if row.id not in work.held:
                return False
            now = self.clock.now()
            if (work.until - now).total_seconds() >= guard and guard < self.lease.total_seconds():
                return True
            remaining = sorted(work.held - work.done)
            renewed = self._recorder.run(  # through the recorder: one writer per process, no deadlocks
                lambda session: renew(
                    session=session, ids=remaining, token=work.token, now=now, lease=self.lease
                )
            )
            work.held = renewed | (work.held & work.done)
            work.until = now + self.lease
            if row.id not in work.held:
                log.warning(
                    "outbox claim %s expired before %s was sent; left to its new holder",
                    work.token,
                    row.idempotency_key,
                )
                return False
            return True

    def _send_group(self, batch: tuple[tuple[str, str], list[OutboxMessage]], work: _Claim) -> DispatchResult:
        """One channel's rows in order, `min_interval` (real time) apart, each recorded after its send."""
        key, rows = batch
        sender = self.senders[key[0]]
        interval = sender.min_interval
        guard = float(getattr(sender, "max_send_seconds", 0.0) or 0.0) + CLOCK_SKEW
        result = DispatchResult()
        for n, row in enumerate(rows):
            assert row.id is not None
            if interval > 0:
                with self._lock:
                    wait = self._last_sent.get(key, -interval) + interval - self.ticks()
                if wait > 0:
                    self.pause(wait)
            try:
                ready = self._still_held(work, row, guard)
            except SQLAlchemyError:  # the database is unreachable or refused: leave the rest to the lease
                log.exception("outbox %s: could not check the claim; not sent", row.idempotency_key)
                result.lost += len(rows) - n
                break
            if not ready:
                result.lost += 1
                continue
            message = Outbound(
                row.idempotency_key,
                row.kind,
                row_ref(row),
                payload_reply(row.payload),
                as_utc(row.created_at),
            )
            delivery, error, found = self._attempt(sender, row, message)
            if interval > 0:
                with self._lock:
                    self._last_sent[key] = self.ticks()

            def record(
                session: Session,
                row: OutboxMessage = row,
                n: int = n,
                error: DeliveryError | None = error,
                delivery: str | None = delivery,
                found: bool = found,
            ) -> tuple[bool, DispatchResult]:
                outcome = DispatchResult()  # counted only once its transaction commits
                held = self._record(session, work, row, delivery, error, found, outcome)
                if held and error is not None and error.retry_after is not None and not error.permanent:
                    # the platform is rate-limiting this conversation: the rest waits too, no attempt used
                    due = self.clock.now() + dt.timedelta(seconds=error.retry_after)
                    for later in rows[n + 1 :]:
                        if self._put_back(session, work, later, due, None):
                            outcome.deferred += 1
                        else:
                            outcome.lost += 1
                return held, outcome

            try:
                held, outcome = self._recorder.run(record)
            except SQLAlchemyError:  # maybe_sent stays set: whoever takes the row over looks first
                log.exception("outbox %s: could not record its outcome", row.idempotency_key)
                result.lost += len(rows) - n
                break
            result.add(outcome)
            work.done.add(row.id)
            if not held:
                result.lost += 1
                log.warning(
                    "outbox %s: the claim was lost before its outcome was recorded", row.idempotency_key
                )
            if held and error is not None and error.retry_after is not None and not error.permanent:
                break
        return result

    def _attempt(
        self, sender: Sender, row: OutboxMessage, message: Outbound
    ) -> tuple[str | None, DeliveryError | None, bool]:
        """(delivery id, error, found): looks first when an earlier attempt may have arrived, else sends."""
        find = getattr(sender, "find", None)
        if row.maybe_sent and find is not None:
            try:
                earlier = find(message)
            except DeliveryError as exc:
                return (
                    None,
                    DeliveryError(
                        f"could not check for an earlier delivery: {exc.reason}",
                        retry_after=exc.retry_after,
                        ambiguous=True,
                    ),
                    False,
                )
            except Exception as exc:  # noqa: BLE001 - a sender bug must not lose the row; it is retried
                log.exception("looking up outbox %s raised", row.idempotency_key)
                return None, DeliveryError(f"{type(exc).__name__}: {exc}", ambiguous=True), False
            if earlier is not None:
                log.info("outbox %s had already arrived as %s; not sent again", row.idempotency_key, earlier)
                return earlier, None, True
        try:
            delivery = sender.send(message)
        except DeliveryError as exc:
            return None, exc, False
        except Exception as exc:  # noqa: BLE001 - a sender bug must not lose the row; it is retried
            log.exception("sending outbox %s raised", row.idempotency_key)
            return None, DeliveryError(f"{type(exc).__name__}: {exc}", ambiguous=True), False
        log.debug("outbox %s delivered on %s as %s", row.idempotency_key, row.platform, delivery)
        return delivery, None, False

    def _record(
        self,
        session: Session,
        work: _Claim,
        row: OutboxMessage,
        delivery: str | None,
        error: DeliveryError | None,
        found: bool,
        result: DispatchResult,
    ) -> bool:
        """Record one row's outcome under the claim; False when the claim no longer holds it."""
        assert row.id is not None
        now = self.clock.now()
        token = work.token
        if error is None:
            if not mark_sent(session=session, message_id=row.id, token=token, now=now, delivery_id=delivery):
                return False
            result.sent += 1
            result.found += found
            return True
        reason = f"{error.reason} (attempt {row.attempts} of {self.max_attempts})"
        maybe = bool(row.maybe_sent or error.ambiguous)
        if error.retry_after is not None and not error.permanent:  # a rate limit: wait, no attempt used
            due = now + dt.timedelta(seconds=error.retry_after)
            note = f"{error.reason}; waiting {error.retry_after:g}s as asked"
            if not mark_retry(
                session=session,
                message_id=row.id,
                token=token,
                now=now,
                due_at=due,
                error=note,
                count_attempt=False,
                maybe_sent=maybe,
            ):
                return False
            result.deferred += 1
            log.info("outbox %s deferred %.1fs: %s", row.idempotency_key, error.retry_after, error.reason)
            return True
        if error.permanent or row.attempts >= self.max_attempts:
            gave_up = "not retried: " if error.permanent else "gave up: "
            if not mark_failed(
                session=session, message_id=row.id, token=token, now=now, error=gave_up + reason
            ):
                return False
            result.failed += 1
            result.errors.append(f"{row.idempotency_key}: {gave_up}{reason}")
            log.warning("outbox %s failed for good: %s", row.idempotency_key, reason)
            return True
        delay = self._backoff(row.attempts)
        if not mark_retry(
            session=session,
            message_id=row.id,
            token=token,
            now=now,
            due_at=now + dt.timedelta(seconds=delay),
            error=reason,
            maybe_sent=maybe,
        ):
            return False
        result.retried += 1
        log.info("outbox %s retry in %.1fs: %s", row.idempotency_key, delay, reason)
        return True

    def _backoff(self, attempts: int) -> float:
        return min(self.base_backoff * 2 ** max(attempts - 1, 0), 3600.0)


PREFETCH = 4  # rows claimed beyond the free workers, so a freed worker need not wait for a claim
PASS_SECONDS = 120.0  # a pass stops claiming after this long (real time), so its caller regains control
CLOCK_SKEW = 5.0  # seconds replicas' clocks may differ: a send starts only with this much lease to spare
HELD = "held: the learner's working day had ended; due again when it next starts"
