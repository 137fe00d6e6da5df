"""The buttons under answer cards (the card itself comes from `content_index.cards`)."""

from __future__ import annotations

from bot.events import Button


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
