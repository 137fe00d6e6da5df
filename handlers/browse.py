"""Browse the library: search words and/or a pillar give a page of answer cards (Slack's /learn modal)."""

from __future__ import annotations

from sqlmodel import Session

from bot.app import LearnBot
from bot.events import Catalogue
from content_index.cards import card_for
from content_index.search import Filters, search
from storage.content import active_content, get_content
from storage.models import ContentItem

PAGE = 10


def _visible(item: ContentItem, audience: str | None) -> bool:
    return audience is None or not item.audience or "everyone" in item.audience or audience in item.audience


def browse(
    *, query: str, pillar: str | None, audience: str | None, session: Session, bot: LearnBot
) -> Catalogue:
    """Search within a pillar when words are given; otherwise list the pillar's lessons by title."""
    pillars = tuple((p.id, p.name) for p in bot.config.pillars)
    pillar = pillar if any(p == pillar for p, _ in pillars) else None
    query = query.strip()
    items: list[tuple[ContentItem, float]] = []
    if query:
        for hit in search(bot.index, query, filters=Filters(audience=audience, pillar=pillar), k=PAGE):
            item = get_content(session=session, content_id=hit.id)
            if item is not None:
                items.append((item, hit.confidence))
    elif pillar:
        matching = [
            i for i in active_content(session=session) if i.pillar == pillar and _visible(i, audience)
        ]
        items = [(item, 0.0) for item in sorted(matching, key=lambda i: i.title.lower())[:PAGE]]
    cards = tuple(
        card_for(item, pillar_name=bot.pillar_names.get(item.pillar or ""), confidence=c) for item, c in items
    )
    return Catalogue(query=query, pillar=pillar, pillars=pillars, cards=cards)
