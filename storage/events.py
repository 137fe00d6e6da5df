"""Inbound event ids already handled: a retry or duplicate delivery must not answer twice."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

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
