"""Rate a lesson 1-5 for relevance, then for clarity, in two taps; stored as a "rating" feedback.

One rating per person per lesson (rating again updates it). Under an answer only the asker
rates (it was their question, and the message is theirs); the value must name a lesson shown
for that question.
"""

from __future__ import annotations

from sqlmodel import Session

from bot.access import Caller
from bot.app import LearnBot
from bot.events import Action, Button, Reply
from bot.markup import Text, bold
from handlers.feedback import NOT_YOURS, UNKNOWN_QUESTION
from storage.content import get_content
from storage.questions import answers_shown, get_question, record_feedback

SCALE = range(1, 6)
BAD_RATING = "Sorry, I couldn't tell which lesson that rating is for. Please ask your question again."


def _parse(value: str) -> tuple[int | None, str, list[int]] | None:
    """`question|content[|relevance[|clarity]]`; the question part may be empty (e.g. rated from Home)."""
    question, _, rest = value.partition("|")
    content_id, *scores = rest.split("|")
    if not content_id or (question and not (question.isascii() and question.isdigit())) or len(scores) > 2:
        return None
    if not all(score in {str(n) for n in SCALE} for score in scores):
        return None
    return (int(question) if question else None), content_id, [int(score) for score in scores]


def _scale(name: str, prefix: str) -> tuple[Button, ...]:
    return tuple(Button(str(n), name, f"{prefix}|{n}") for n in SCALE)


def on_rate(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Step 1 asks relevance, step 2 clarity, step 3 stores both and thanks the learner."""
    parsed = _parse(action.value)
    item = get_content(session=session, content_id=parsed[1]) if parsed else None
    if parsed is None or item is None:
        return [Reply(text=BAD_RATING, ephemeral=True)]
    question_id, content_id, scores = parsed
    if question_id is not None:
        question = get_question(session=session, question_id=question_id)
        if question is None:
            return [Reply(text=UNKNOWN_QUESTION, ephemeral=True)]
        if question.user_id != caller.person_id:
            return [Reply(text=NOT_YOURS, ephemeral=True)]
        shown = answers_shown(session=session, question_id=question_id)
        if content_id not in {row.content_id for row in shown}:
            return [Reply(text=BAD_RATING, ephemeral=True)]
    title = bold(item.title)
    if len(scores) == 0:
        text = Text("How relevant was ", title, " to what you needed? (1 = not at all, 5 = spot on)")
        return [Reply(text=text, buttons=_scale("rate", action.value), replace_message=True)]
    if len(scores) == 1:
        text = "And how clear was it? (1 = confusing, 5 = crystal clear)"
        return [Reply(text=text, buttons=_scale("rate", action.value), replace_message=True)]
    relevance, clarity = scores
    record_feedback(
        session=session,
        user_id=caller.person_id,
        content_id=content_id,
        verdict="rating",
        question_id=question_id,
        relevance=relevance,
        clarity=clarity,
    )
    text = Text("Thanks for rating ", title, f": relevance {relevance}/5, clarity {clarity}/5.")
    return [Reply(text=text, replace_message=True)]
