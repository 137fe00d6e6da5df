"""xAPI statements kept as built: recorded once by id, grouped into batches for the outbox, marked sent.

A statement's id is derived from its event, so recording the same event twice is a no-op; the
stored JSON is what every (re)send and every export uses, so the LRS always sees one version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from storage.db import insert_ignore
from storage.models import OutboxMessage, XapiStatement


def known_ids(*, session: Session, ids: Iterable[str]) -> set[str]:
    """Which of these statement ids are already recorded."""
    wanted = list(dict.fromkeys(ids))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):  # bounded IN lists
        chunk = wanted[start : start + 500]
        found.update(session.exec(select(XapiStatement.id).where(col(XapiStatement.id).in_(chunk))))
    return found


def record_statements(*, session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert statements (dicts of XapiStatement columns), skipping known ids; count the new."""
    return insert_ignore(session, XapiStatement, rows, ["id"])


def latest_timestamp(*, session: Session) -> dt.datetime | None:
    """The newest event time recorded (where the next sweep picks up, less an overlap)."""
    return session.exec(select(func.max(XapiStatement.timestamp))).one()


def unbatched_ids(*, session: Session) -> list[str]:
    """Ids of recorded statements not yet in a batch, oldest event first."""
    query = (
        select(XapiStatement.id)
        .where(col(XapiStatement.batch).is_(None))
        .order_by(col(XapiStatement.timestamp), col(XapiStatement.id))
    )
    return list(session.exec(query))


def assign_batch(*, session: Session, ids: Sequence[str], batch: str) -> int:
    """Put these (unbatched) statements into `batch`; how many it took."""
    statement = (
        update(XapiStatement)
        .where(col(XapiStatement.id).in_(list(ids)), col(XapiStatement.batch).is_(None))
        .values(batch=batch)
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


def batch_statements(*, session: Session, batch: str) -> list[dict[str, Any]]:
    """The statements of one batch, as sent, in a stable order."""
    query = (
        select(XapiStatement.statement)
        .where(XapiStatement.batch == batch)
        .order_by(col(XapiStatement.timestamp), col(XapiStatement.id))
    )
    return [dict(row) for row in session.exec(query) if row]  # a forgotten person's are empty


def mark_sent(*, session: Session, batch: str, at: dt.datetime) -> int:
    """The LRS accepted (or already held) this batch: stamp its statements' `sent_at` once."""
    statement = (
        update(XapiStatement)
        .where(XapiStatement.batch == batch, col(XapiStatement.sent_at).is_(None))
        .values(sent_at=at)
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


def statements_between(
    *, session: Session, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> list[XapiStatement]:
    """Recorded statements whose event time is in [since, until), oldest first."""
    query = select(XapiStatement)
    if since is not None:
        query = query.where(col(XapiStatement.timestamp) >= since)
    if until is not None:
        query = query.where(col(XapiStatement.timestamp) < until)
    return list(session.exec(query.order_by(col(XapiStatement.timestamp), col(XapiStatement.id))))


def statements_for_person(*, session: Session, user_id: int) -> list[XapiStatement]:
    """Everything recorded about one person (their export lists it, sent or not)."""
    query = (
        select(XapiStatement)
        .where(XapiStatement.user_id == user_id)
        .order_by(col(XapiStatement.timestamp), col(XapiStatement.id))
    )
    return list(session.exec(query))


def counts(*, session: Session) -> dict[str, int]:
    """Statements recorded and sent, and their outbox batches by state (platform "xapi")."""
    recorded = session.exec(select(func.count()).select_from(XapiStatement)).one()
    sent = session.exec(
        select(func.count()).select_from(XapiStatement).where(col(XapiStatement.sent_at).is_not(None))
    ).one()
    out = {"recorded": int(recorded), "sent": int(sent), "waiting": int(recorded) - int(sent)}
    query = (
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.platform == "xapi")
        .group_by(col(OutboxMessage.status))
    )
    for status, count in session.exec(query):
        out[f"batches_{status}"] = int(count)
    return out


def last_failure(*, session: Session) -> str | None:
    """Why the latest xAPI batch that failed for good failed (the LRS's reason), if any did."""
    query = (
        select(OutboxMessage.last_error)
        .where(OutboxMessage.platform == "xapi", OutboxMessage.status == "failed")
        .order_by(col(OutboxMessage.id).desc())
        .limit(1)
    )
    return session.exec(query).first()


def forget_person(*, session: Session, user_id: int) -> int:
    """A person's data is deleted: their statements lose the person and their content, keeping only
    the event key (so the sweep does not build them again from rows kept as anonymous counts).

    Statements not sent yet are never sent; those already in the LRS stay there (their ids are in
    the person's export beforehand).
    """
    statement = (
        update(XapiStatement)
        .where(XapiStatement.user_id == user_id)
        .values(user_id=None, statement={})
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]
