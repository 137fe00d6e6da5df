"""Inbound event ids already handled: a retry or duplicate delivery must not answer twice."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete

from storage.models import ProcessedEvent


def first_delivery(*, session: Session, event_id: str) -> bool:
    """Record the id; False when it was already recorded, by any process, before or after a restart."""
    if session.get(ProcessedEvent, event_id) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(ProcessedEvent(id=event_id))
    except IntegrityError:
        return False
    return True


def prune_processed_events(*, session: Session, before: dt.datetime) -> int:
    """Forget ids handled before `before`: platforms retry within minutes, so old ids only take space."""
    result = session.exec(delete(ProcessedEvent).where(col(ProcessedEvent.processed_at) < before))  # type: ignore[call-overload]
    return int(result.rowcount or 0)
