"""Turn a stored lesson into an answer card with its reasons (pillar, impact) and feedback buttons."""

from __future__ import annotations

from bot.events import AnswerCard, Button
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


def feedback_buttons(question_id: int, content_id: str) -> tuple[Button, ...]:
    """Under every answer card: the verdict, a 1-5 rating, and keeping the lesson on a pathway."""
    value = f"{question_id}|{content_id}"
    return (
        Button("Helpful", "helpful", value, style="primary"),
        Button("Not helpful", "not_helpful", value),
        *follow_up_buttons(question_id, content_id),
    )


def follow_up_buttons(question_id: int, content_id: str) -> tuple[Button, ...]:
    """What is still worth doing once the verdict is in: rate it, keep it on a pathway."""
    value = f"{question_id}|{content_id}"
    return (Button("Rate", "rate", value), Button("Add to my pathway", "add_to_pathway", value))


def ask_experts_button(question_id: int) -> Button:
    """Send the question to the SME channel, linked back to where it was asked."""
    return Button("Ask the experts", "ask_experts", str(question_id))


def parse_answer_value(value: str) -> tuple[int, str] | None:
    """`question_id|content_id` as carried by answer buttons, or None when it is not that."""
    question, _, content_id = value.partition("|")
    return (int(question), content_id) if question.isdigit() and content_id else None
