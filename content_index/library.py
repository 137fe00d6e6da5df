"""The in-memory search index of the active content library, built from storage."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session

from content_index.search import Document, SearchIndex
from storage.content import active_content
from storage.models import ContentItem


def document_for(item: ContentItem, pillar_name: str | None = None) -> Document:
    """What search sees of a stored item: its text, its tags (skills, impact, pillar) and audience."""
    tags = [*item.skills, *item.impact]
    if pillar_name:
        tags.append(pillar_name)
    return Document(
        id=item.id,
        title=item.title,
        summary=item.summary,
        body=item.body,
        tags=tuple(tags),
        audience=tuple(item.audience),
        pillar=item.pillar,
    )


def build_index(*, session: Session, pillar_names: dict[str, str] | None = None) -> SearchIndex:
    """A fresh index over every active item."""
    names = pillar_names or {}
    return SearchIndex(
        document_for(item, names.get(item.pillar or "")) for item in active_content(session=session)
    )


def refresh_index(
    index: SearchIndex, changed: Iterable[ContentItem], pillar_names: dict[str, str] | None = None
) -> None:
    """Apply changed items to a live index without rebuilding it."""
    names = pillar_names or {}
    for item in changed:
        if item.active:
            index.add(document_for(item, names.get(item.pillar or "")))
        else:
            index.remove(item.id)
