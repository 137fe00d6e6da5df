"""Helpful / Not helpful clicks: store the verdict; after a miss, offer the next-best lesson."""

from __future__ import annotations

from sqlmodel import Session

from bot.access import Caller
from bot.app import LearnBot
from bot.events import Action, Reply
from content_index.cards import card_for
from handlers.cards import ask_experts_button, feedback_buttons, follow_up_buttons, parse_answer_value
from storage.content import get_content
from storage.questions import answers_shown, record_feedback

THANKS_HELPFUL = "Glad it helped! Thanks for telling me: it helps the next person who asks."
THANKS_MISS = "Thanks, noted. Here's the next-best lesson I have:"
NO_MORE = "Thanks, noted. That was the best I had, so I've flagged this question for the L&D team."
BAD_ACTION = "Sorry, I couldn't tell which answer that button belongs to. Please ask your question again."


def on_feedback(action: Action, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Record the verdict for this answer; a second click replaces the first."""
    parsed = parse_answer_value(action.value)
    if parsed is None or get_content(session=session, content_id=parsed[1]) is None:
        return [Reply(text=BAD_ACTION)]
    question_id, content_id = parsed
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
    shown = [row for row in answers_shown(session=session, question_id=question_id)]
    ids = [row.content_id for row in shown]
    later = ids[ids.index(content_id) + 1 :] if content_id in ids else []
    for row in shown:
        item = get_content(session=session, content_id=row.content_id)
        if row.content_id in later and item is not None and item.active:
            card = card_for(
                item, pillar_name=bot.pillar_names.get(item.pillar or ""), confidence=row.confidence
            )
            buttons = feedback_buttons(question_id, item.id) + experts
            return [Reply(text=THANKS_MISS, card=card, buttons=buttons)]
    return [Reply(text=NO_MORE, replace_message=True, buttons=experts)]
