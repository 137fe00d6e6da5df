"""A stored lesson as an answer card: what it is, why it matters (pillar, impact), how long, where."""

from __future__ import annotations

from bot.events import AnswerCard
from storage.models import ContentItem

SUMMARY_LIMIT = 240


def short_summary(item: ContentItem) -> str:
    """Two lines at most: the summary, else the start of the body, cut at a word."""
    text = (item.summary or item.body).strip().replace("\n", " ")
    if len(text) <= SUMMARY_LIMIT:
        return text
    return text[:SUMMARY_LIMIT].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def card_for(item: ContentItem, *, pillar_name: str | None, confidence: float) -> AnswerCard:
    return AnswerCard(
        content_id=item.id,
        title=item.title,
        summary=short_summary(item),
        pillar=pillar_name,
        impact=item.impact[0] if item.impact else None,
        duration_minutes=item.duration_minutes,
        url=item.url,
        confidence=confidence,
    )
