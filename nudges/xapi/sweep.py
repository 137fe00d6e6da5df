"""The sweep: record a statement for every learning event not recorded yet, then batch them into the outbox.

Handlers stay as they are: the sweep reads what they stored, matching rows to recorded
statements by event key (so nothing is missed, whenever a row was committed), and puts
unbatched statements into outbox rows of `batch_size` each, platform and kind "xapi",
delivered by the xAPI sender like any other message.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from bot.config import AppConfig
from bot.events import ConversationRef
from bot.markup import Text, to_json
from nudges.xapi.statements import StatementBuilder, unrecorded_events
from storage.outbox import enqueue
from storage.xapi import assign_batch, record_statements, statements_between, unbatched_ids

PLATFORM = KIND = "xapi"
PER_SWEEP = 10_000  # statements recorded by one sweep at most (bounded memory and transaction)
LRS = ConversationRef(PLATFORM, "", "lrs")


@dataclass
class SweepResult:
    """What one sweep did: statements recorded (by verb) and outbox batches enqueued."""

    recorded: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    more: bool = False  # it stopped at its limit: events are left for the next sweep

    def line(self) -> str:
        verbs = ", ".join(f"{n} {verb}" for verb, n in sorted(self.recorded.items())) or "nothing new"
        return f"xAPI: recorded {verbs}; {self.batches} batch(es) queued for the LRS"


def sweep(*, session: Session, config: AppConfig, now: dt.datetime, limit: int = PER_SWEEP) -> SweepResult:
    """Record statements for up to `limit` new events, in outbox batches, and queue any left unbatched.

    Each statement gets its batch as it is recorded (no second write); `result.more` says events
    were left for the next sweep, so a long history is backfilled a bounded piece at a time.
    """
    result = SweepResult()
    rows = new_statements(session=session, config=config, now=now, limit=limit)
    rows.sort(key=lambda row: (row["timestamp"], row["id"]))
    size = config.xapi.batch_size
    batches: list[tuple[str, int]] = []
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        key = f"xapi:{chunk[0]['id']}"
        for row in chunk:
            row["batch"] = key
        batches.append((key, len(chunk)))
    if rows:
        record_statements(session=session, rows=rows)
        result.recorded.update(row["verb"] for row in rows)
    for key, count in batches:
        _enqueue(session, key, count, now)
    result.batches = len(batches) + queue_batches(session=session, config=config, now=now)
    result.more = len(rows) >= limit
    return result


def new_statements(
    *,
    session: Session,
    config: AppConfig,
    now: dt.datetime,
    since: dt.datetime | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Statement rows for events (since `since`, when given) whose statements are not recorded yet."""
    events = unrecorded_events(session=session, now=now, since=since, limit=limit)
    return StatementBuilder(config.xapi).rows(session, events)


def queue_batches(*, session: Session, config: AppConfig, now: dt.datetime) -> int:
    """Statements recorded without a batch (none, normally) into outbox rows of `xapi.batch_size` each."""
    ids = unbatched_ids(session=session)
    size = config.xapi.batch_size
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        key = f"xapi:{chunk[0]}"
        assign_batch(session=session, ids=chunk, batch=key)
        _enqueue(session, key, len(chunk), now)
    return -(-len(ids) // size)


def _enqueue(session: Session, key: str, count: int, now: dt.datetime) -> None:
    payload = {"to": LRS.to_json(), "text": to_json(Text(f"{count} xAPI statements")), "statements": count}
    enqueue(session=session, key=key, platform=PLATFORM, kind=KIND, payload=payload, due_at=now)


def export(
    *, session: Session, config: AppConfig, since: dt.datetime | None, now: dt.datetime
) -> list[dict[str, Any]]:
    """The statements for events since `since`: as recorded (what the LRS got), plus any not yet recorded."""
    stored = [row.statement for row in statements_between(session=session, since=since)]
    fresh = [row["statement"] for row in new_statements(session=session, config=config, now=now, since=since)]
    return sorted(stored + fresh, key=lambda s: (s["timestamp"], s["id"]))
