"""The outbox: every message learnbot sends unprompted, enqueued once, claimed with a lease, then sent.

Enqueueing is insert-or-ignore on the idempotency key, so planning twice (or in two
processes) makes one row. Claiming takes due rows, and rows whose lease ran out, with
`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two dispatchers never hold the same row; SQLite
ignores the lock clause and takes the write lock for the whole transaction instead.

Claims are fenced: each claim writes a fresh token into its rows, and every later state
change (renew, sent, retry, failed) names the token and succeeds only while the row is still
`sending` under that token with an unexpired lease. A dispatcher whose lease ran out (it was
slow, paused or partitioned) therefore cannot overwrite what the next holder did.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, case, func, or_, update
from sqlmodel import Session, col, select

from storage.db import insert_ignore
from storage.models import OutboxMessage

PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"


def enqueue(
    *,
    session: Session,
    key: str,
    platform: str,
    kind: str,
    payload: dict[str, Any],
    due_at: dt.datetime,
    user_id: int | None = None,
    channel_id: str | None = None,
) -> bool:
    """Add one message to send at `due_at`; False when a message with this key already exists."""
    row = message_row(key, platform, kind, payload, due_at, user_id=user_id, channel_id=channel_id)
    return enqueue_many(session=session, rows=[row]) == 1


def message_row(
    key: str,
    platform: str,
    kind: str,
    payload: dict[str, Any],
    due_at: dt.datetime,
    *,
    user_id: int | None = None,
    channel_id: str | None = None,
) -> dict[str, Any]:
    """One outbox row as a dict, for `enqueue_many`."""
    return {
        "idempotency_key": key,
        "platform": platform,
        "kind": kind,
        "payload": payload,
        "due_at": due_at,
        "user_id": user_id,
        "channel_id": channel_id,
        "status": PENDING,
        "attempts": 0,
        "created_at": due_at,
    }


def enqueue_many(*, session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert-or-ignore many rows in one statement; returns how many were new."""
    return insert_ignore(session, OutboxMessage, rows, ["idempotency_key"])


def claim(
    *,
    session: Session,
    now: dt.datetime,
    platforms: Iterable[str],
    limit: int,
    lease: dt.timedelta,
    token: str | None = None,
) -> list[OutboxMessage]:
    """Lease up to `limit` due rows (or rows whose lease ran out) for these platforms until now + lease.

    Every claimed row carries `token` (default: a new uuid): `renew`, `mark_sent`, `mark_retry`
    and `mark_failed` only act while the row still holds it. A row taken over from an expired
    lease may have been sent by its last holder, so it is flagged `maybe_sent`.

    Due rows are taken oldest message first (`created_at`, when it was first due), not by
    `due_at`: a retry's `due_at` is only when it may go again. Ordered by `due_at`, a row put
    back for a few seconds (a back-off, a rate limit) would wait behind the whole backlog of
    rows first due before it, and every retry of an outage would pile up until the backlog ran out.
    """
    due = or_(
        and_(col(OutboxMessage.status) == PENDING, col(OutboxMessage.due_at) <= now),
        and_(col(OutboxMessage.status) == SENDING, col(OutboxMessage.lease_until) < now),
    )
    # Two statements, not UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED): PostgreSQL
    # may run such a subquery once per outer row (a nested-loop semi join) and claim far more than n.
    chosen = list(
        session.exec(
            select(OutboxMessage.id)
            .where(due, col(OutboxMessage.platform).in_(list(platforms)))
            .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not chosen:
        return []
    taken_over = case((col(OutboxMessage.status) == SENDING, True), else_=col(OutboxMessage.maybe_sent))
    statement = (
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(chosen))
        .values(
            status=SENDING,
            lease_until=now + lease,
            claim_token=token or str(uuid.uuid4()),
            maybe_sent=taken_over,
            attempts=col(OutboxMessage.attempts) + 1,
        )
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    return sorted(session.execute(statement).scalars(), key=lambda r: (r.created_at, r.id or 0))


def _held(message_ids: Sequence[int], token: str, now: dt.datetime) -> Any:
    """Rows still held by this claim, with an unexpired lease."""
    return and_(
        col(OutboxMessage.id).in_(list(message_ids)),
        col(OutboxMessage.claim_token) == token,
        col(OutboxMessage.status) == SENDING,
        col(OutboxMessage.lease_until) >= now,
    )


def renew(
    *, session: Session, ids: Sequence[int], token: str, now: dt.datetime, lease: dt.timedelta
) -> set[int]:
    """Extend the lease of the rows this claim still holds to now + lease; returns their ids."""
    if not ids:
        return set()
    statement = (
        update(OutboxMessage)
        .where(_held(ids, token, now))
        .values(lease_until=now + lease)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return {int(i) for i in session.execute(statement).scalars()}


def mark_sent(
    *, session: Session, message_id: int, token: str, now: dt.datetime, delivery_id: str | None = None
) -> bool:
    """Sent, if this claim still holds the row with an unexpired lease; False otherwise (nothing changed)."""
    result = session.execute(
        update(OutboxMessage)
        .where(_held([message_id], token, now))
        .values(
            status=SENT,
            sent_at=now,
            lease_until=None,
            claim_token=None,
            maybe_sent=False,
            last_error=None,
            delivery_id=None if delivery_id is None else delivery_id[:100],
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_retry(
    *,
    session: Session,
    message_id: int,
    token: str,
    now: dt.datetime,
    due_at: dt.datetime,
    error: str | None,
    count_attempt: bool = True,
    maybe_sent: bool | None = None,
) -> bool:
    """Back to pending, due again at `due_at`, if this claim still holds the row; False otherwise.

    A delay that is not the message's fault (pacing, a rate limit, a held nudge:
    `count_attempt=False`) does not use up an attempt. `maybe_sent=True` when the attempt may
    have reached the platform (the next one looks before sending).
    """
    values: dict[str, Any] = {"status": PENDING, "due_at": due_at, "lease_until": None, "claim_token": None}
    if error is not None:
        values["last_error"] = error[:2000]
    if not count_attempt:
        values["attempts"] = col(OutboxMessage.attempts) - 1
    if maybe_sent is not None:
        values["maybe_sent"] = maybe_sent
    result = session.execute(
        update(OutboxMessage)
        .where(_held([message_id], token, now))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_failed(*, session: Session, message_id: int, token: str, now: dt.datetime, error: str) -> bool:
    """Failed for good with the reason, if this claim still holds the row; False otherwise."""
    result = session.execute(
        update(OutboxMessage)
        .where(_held([message_id], token, now))
        .values(status=FAILED, lease_until=None, claim_token=None, last_error=error[:2000])
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def cancel_pending(*, session: Session, user_id: int, kinds: Iterable[str]) -> int:
    """Cancel a learner's unsent messages of these kinds (e.g. after 'Stop nudges'); returns how many."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.user_id) == user_id,
            col(OutboxMessage.kind).in_(list(kinds)),
            col(OutboxMessage.status) == PENDING,
        )
        .values(status=CANCELLED, last_error="cancelled: the learner stopped nudges")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def status_counts(*, session: Session, now: dt.datetime) -> dict[str, int]:
    """queued (due now), deferred (waiting for a retry or pacing time), sending, sent, failed, cancelled."""
    bucket = case(
        (and_(col(OutboxMessage.status) == PENDING, col(OutboxMessage.due_at) > now), "deferred"),
        (col(OutboxMessage.status) == PENDING, "queued"),
        else_=col(OutboxMessage.status),
    )
    counts = dict.fromkeys(("queued", "deferred", SENDING, SENT, FAILED, CANCELLED), 0)
    for name, count in session.exec(select(bucket, func.count()).group_by(bucket)):
        counts[str(name)] = int(count)
    return counts


def next_due(*, session: Session, limit: int = 5) -> list[OutboxMessage]:
    """The pending messages that are due soonest."""
    query = (
        select(OutboxMessage)
        .where(col(OutboxMessage.status) == PENDING)
        .order_by(col(OutboxMessage.due_at), col(OutboxMessage.id))
        .limit(limit)
    )
    return list(session.exec(query))


def recent_failures(*, session: Session, limit: int = 5) -> list[OutboxMessage]:
    query = (
        select(OutboxMessage)
        .where(col(OutboxMessage.status) == FAILED)
        .order_by(col(OutboxMessage.id).desc())
        .limit(limit)
    )
    return list(session.exec(query))


def sent_times_since(
    *, session: Session, since: dt.datetime, kinds: Iterable[str]
) -> dict[int, list[dt.datetime]]:
    """Per learner, when nudges of these kinds were (or are to be) sent since `since`: for weekly caps."""
    query = select(OutboxMessage.user_id, OutboxMessage.due_at).where(
        col(OutboxMessage.kind).in_(list(kinds)),
        col(OutboxMessage.due_at) > since,
        col(OutboxMessage.status).in_([PENDING, SENDING, SENT]),
        col(OutboxMessage.user_id).is_not(None),
    )
    out: dict[int, list[dt.datetime]] = {}
    for user_id, due_at in session.exec(query):
        out.setdefault(int(user_id), []).append(due_at)
    return out
