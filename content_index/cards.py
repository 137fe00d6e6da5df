"""A stored lesson as an answer card: what it is, why it matters (pillar, impact), how long, where."""

from __future__ import annotations

from sqlmodel import Session

from bot.events import AnswerCard
from storage.curation import CURATED_SOURCE, curator_name, validations
from storage.models import ContentItem

SUMMARY_LIMIT = 240


def short_summary(item: ContentItem) -> str:
    """Two lines at most: the summary, else the start of the body, cut at a word."""
    text = (item.summary or item.body).strip().replace("\n", " ")
    if len(text) <= SUMMARY_LIMIT:
        return text
    return text[:SUMMARY_LIMIT].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def curation_note(card: AnswerCard) -> str | None:
    """The line under a lesson saved from chat (Curated by Maria · validated by 4 colleagues), else None."""
    if not card.curated_by:
        return None
    note = f"Curated by {card.curated_by}"
    if card.validated_by:
        note += f" · validated by {card.validated_by} colleague{'s' if card.validated_by != 1 else ''}"
    return note


def card_for(
    item: ContentItem, *, pillar_name: str | None, confidence: float, session: Session | None = None
) -> AnswerCard:
    """The card; with a session, a lesson curated from chat also says who curated it and how many
    colleagues found it helpful."""
    curated_by, validated_by = None, 0
    if session is not None and item.source == CURATED_SOURCE:
        curated_by = curator_name(session=session, content_id=item.id) or "an expert"
        validated_by = validations(session=session, content_ids=[item.id]).get(item.id, 0)
    return AnswerCard(
        content_id=item.id,
        title=item.title,
        summary=short_summary(item),
        pillar=pillar_name,
        impact=item.impact[0] if item.impact else None,
        duration_minutes=item.duration_minutes,
        url=item.url,
        confidence=confidence,
        curated_by=curated_by,
        validated_by=validated_by,
    )
