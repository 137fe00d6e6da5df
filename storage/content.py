"""Content items in storage: compare with what a source yields, add, update, deactivate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal, Protocol

from sqlmodel import Session, select

from storage.models import ContentItem, utcnow

Change = Literal["added", "updated", "unchanged"]


class ItemFields(Protocol):
    """What a source yields for one item (content_index's `SourceItem` fits)."""

    id: str
    source: str
    kind: str
    title: str
    summary: str
    body: str
    skills: Sequence[str]
    pillar: str | None
    impact: Sequence[str]
    audience: Sequence[str]
    duration_minutes: int | None
    url: str | None
    reviewed: dt.date | None
    location: str

    @property
    def content_hash(self) -> str: ...


def all_content(*, session: Session) -> dict[str, ContentItem]:
    """Every stored item, active or not, by id."""
    return {item.id: item for item in session.exec(select(ContentItem))}


def active_content(*, session: Session) -> list[ContentItem]:
    return list(session.exec(select(ContentItem).where(ContentItem.active).order_by(ContentItem.id)))


def get_content(*, session: Session, content_id: str) -> ContentItem | None:
    return session.get(ContentItem, content_id)


def upsert_item(*, session: Session, item: ItemFields, existing: ContentItem | None) -> Change:
    """Store a source item; an unchanged hash on an active item is skipped."""
    if existing is not None and existing.content_hash == item.content_hash and existing.active:
        if existing.location != item.location:
            existing.location = item.location
            session.add(existing)
        return "unchanged"
    row = existing or ContentItem(id=item.id, title=item.title, source=item.source, content_hash="")
    was_active = existing is not None and existing.active
    for name in (
        "source",
        "kind",
        "title",
        "summary",
        "body",
        "pillar",
        "duration_minutes",
        "url",
        "reviewed",
    ):
        setattr(row, name, getattr(item, name))
    row.skills, row.impact, row.audience = list(item.skills), list(item.impact), list(item.audience)
    row.content_hash, row.location = item.content_hash, item.location
    row.active, row.deactivated_at, row.updated_at = True, None, utcnow()
    session.add(row)
    return "updated" if was_active else "added"


def deactivate(*, session: Session, item: ContentItem) -> None:
    """Mark an item its source no longer has; kept for history, hidden from search."""
    item.active, item.deactivated_at, item.updated_at = False, utcnow(), utcnow()
    session.add(item)
