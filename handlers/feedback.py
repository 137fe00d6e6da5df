"""Helpful / Not helpful clicks: store the verdict; after a miss, offer the next-best lesson.

Only the asker's clicks count: anyone else who presses the buttons under someone's answer
gets a private note, and nothing is stored or rewritten. Every button value is checked: the
question must exist, be the caller's, and have shown that lesson.
"""

from __future__ import annotations

from sqlmodel import Session

from bot.access import Caller
from bot.app import LearnBot
from bot.events import Action, Reply
from content_index.cards import card_for
from handlers.cards import ask_experts_button, feedback_buttons, follow_up_buttons, parse_answer_value
from storage.content import get_content
from storage.models import Question
from storage.questions import answers_shown, get_question, mark_unanswered, record_feedback

THANKS_HELPFUL = "Glad it helped! Thanks for telling me: it helps the next person who asks."
THANKS_MISS = "Thanks, noted. Here's the next-best lesson I have:"
NO_MORE = "Thanks, noted. That was the best I had, so I've flagged this question for the L&D team."
BAD_ACTION = "Sorry, I couldn't tell which answer that button belongs to. Please ask your question again."
UNKNOWN_QUESTION = "Sorry, I couldn't find that question any more. Please ask it again."
NOT_YOURS = (
    "Those buttons are for the person who asked, so I haven't changed anything. "
    "Ask me yourself and I'll find you a lesson."
)
ANSWER_ACTIONS = ("helpful", "not_helpful", "rate", "add_to_pathway")


def asker_question(value: str, caller: Caller, *, session: Session) -> Question | Reply:
    """The question an answer button belongs to, if it is the caller's; else the private reply to give."""
    parsed = parse_answer_value(value)
    if parsed is None:
        return Reply(text=BAD_ACTION, ephemeral=True)
    question = get_question(session=session, question_id=parsed[0])
    if question is None:
        return Reply(text=UNKNOWN_QUESTION, ephemeral=True)
    if question.user_id != caller.person_id:
        return Reply(text=NOT_YOURS, ephemeral=True)
    return question


def on_feedback(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Record the asker's verdict for this answer; a second click replaces the first."""
    question = asker_question(action.value, caller, session=session)
    if isinstance(question, Reply):
        return [question]
    assert question.id is not None
    question_id, content_id = question.id, action.value.partition("|")[2]
    shown = answers_shown(session=session, question_id=question_id)
    ids = [row.content_id for row in shown]
    if content_id not in ids or get_content(session=session, content_id=content_id) is None:
        return [Reply(text=BAD_ACTION, ephemeral=True)]
    verdict = "helpful" if action.name == "helpful" else "not_helpful"
    feedback = record_feedback(
        session=session,
        user_id=caller.person_id,
        content_id=content_id,
        verdict=verdict,
        question_id=question_id,
    )
    bot.note_feedback(feedback, session=session)  # ranks the next similar question at once
    if verdict == "helpful":
        more = follow_up_buttons(question_id, content_id)
        return [Reply(text=THANKS_HELPFUL, replace_message=True, buttons=more)]
    experts = (ask_experts_button(question_id),) if bot.config.channels.sme else ()
    later = ids[ids.index(content_id) + 1 :]
    for row in shown:
        item = get_content(session=session, content_id=row.content_id)
        if row.content_id in later and item is not None and item.active:
            card = card_for(
                item,
                pillar_name=bot.pillar_names.get(item.pillar or ""),
                confidence=row.confidence,
                session=session,
            )
            buttons = feedback_buttons(question_id, item.id) + experts
            return [Reply(text=THANKS_MISS, card=card, buttons=buttons)]
    return [Reply(text=NO_MORE, replace_message=True, buttons=experts)]


def not_delivered(replies: list[Reply], *, session: Session) -> list[int]:
    """Answers that never reached the asker: their questions count as unanswered (content gaps)."""
    ids = []
    for reply in replies:
        for button in reply.buttons:
            parsed = parse_answer_value(button.value) if button.name in ANSWER_ACTIONS else None
            if reply.card is not None and parsed is not None and parsed[0] not in ids:
                ids.append(parsed[0])
    return mark_unanswered(session=session, question_ids=ids)
