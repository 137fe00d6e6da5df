"""A pick from "Not sure - is it one of these?": show that lesson and count the pick as a Helpful."""

from __future__ import annotations

from sqlmodel import Session

from bot.access import Caller
from bot.app import LearnBot
from bot.events import Action, Reply
from content_index.cards import card_for
from handlers.answer import NO_LESSON
from handlers.cards import ask_experts_button, follow_up_buttons, parse_answer_value
from storage.content import get_content
from storage.questions import get_question, record_feedback

PICKED = "Thanks! I'll remember that this lesson answers questions like yours."
BAD_PICK = "Sorry, that choice no longer works. Please ask your question again."
NOT_YOURS = "Those choices are for the person who asked; ask me yourself and I'll find you a lesson."


def on_not_sure(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """`not_sure_pick`: the chosen lesson's card, stored as a Helpful; `not_sure_none`: a content gap."""
    if action.name == "not_sure_none":
        question = get_question(session=session, question_id=action.value)
        if question is not None and question.user_id not in (None, caller.person_id):
            return [Reply(text=NOT_YOURS, ephemeral=True)]
        experts = (
            (ask_experts_button(question.id),) if question and question.id and bot.config.channels.sme else ()
        )
        return [Reply(text=NO_LESSON, replace_message=True, buttons=experts)]
    parsed = parse_answer_value(action.value)
    item = get_content(session=session, content_id=parsed[1]) if parsed else None
    question = get_question(session=session, question_id=parsed[0]) if parsed else None
    if parsed is None or item is None or question is None:
        return [Reply(text=BAD_PICK)]
    if question.user_id not in (None, caller.person_id):
        return [Reply(text=NOT_YOURS, ephemeral=True)]
    feedback = record_feedback(
        session=session,
        user_id=caller.person_id,
        content_id=item.id,
        verdict="helpful",
        question_id=question.id,
    )
    question.answered = True  # the asker found their lesson: no longer a content gap
    session.add(question)
    bot.note_feedback(feedback, session=session)  # ranks the next similar question at once
    pillar = bot.pillar_names.get(item.pillar or "")
    card = card_for(item, pillar_name=pillar, confidence=question.confidence, session=session)
    return [
        Reply(text=PICKED, card=card, replace_message=True, buttons=follow_up_buttons(parsed[0], item.id))
    ]
