"""Answer a question with the best micro-lesson, or say honestly there is none yet (a content gap)."""

from __future__ import annotations

from sqlmodel import Session

from bot.access import Caller
from bot.app import LearnBot
from bot.events import Incoming, Reply
from bot.markup import Text, italic
from content_index.cards import card_for
from content_index.search import Filters, Hit, search
from handlers.cards import ask_experts_button, feedback_buttons
from storage.content import get_content
from storage.questions import record_question

NO_LESSON = (
    "I don't have a lesson for that yet. I've logged your question as a content gap, "
    "so the L&D team can see what people need."
)
EMPTY_QUESTION = Text(
    "Ask me anything you're stuck on at work, e.g. ", italic("how do I give feedback to a peer?")
)


def answer_question(incoming: Incoming, *, session: Session, bot: LearnBot, caller: Caller) -> list[Reply]:
    """Search, record the question and what was shown, and reply with an answer card or an honest gap."""
    question = incoming.text.strip()
    if not question:
        return [Reply(text=EMPTY_QUESTION)]
    bot.refresh_if_due(session=session)  # content re-indexed since start, cheaply checked
    hits = search(
        bot.index, question, filters=Filters(audience=caller.audience), k=1 + bot.config.search.alternatives
    )
    if hits and hits[0].confidence >= bot.threshold:
        return [answer_card(incoming, question, hits, user_id=caller.person_id, session=session, bot=bot)]
    recorded = record_question(
        session=session,
        user_id=caller.person_id,
        platform=incoming.platform,
        channel_id=incoming.channel_id,
        thread_id=incoming.thread_id,
        text=question,
        shown=[],
        answered=False,
        confidence=hits[0].confidence if hits else 0.0,
    )
    assert recorded.id is not None
    experts = (ask_experts_button(recorded.id),) if bot.config.channels.sme else ()
    return [Reply(text=NO_LESSON, quote=question, buttons=experts)]


def answer_card(
    incoming: Incoming,
    question: str,
    hits: list[Hit],
    *,
    user_id: int | None,
    session: Session,
    bot: LearnBot,
) -> Reply:
    """Record a confident answer (the question and every lesson shown) and reply with its card and buttons."""
    recorded = record_question(
        session=session,
        user_id=user_id,
        platform=incoming.platform,
        channel_id=incoming.channel_id,
        thread_id=incoming.thread_id,
        text=question,
        shown=[(hit.id, hit.confidence) for hit in hits],
        answered=True,
        confidence=hits[0].confidence,
    )
    item = get_content(session=session, content_id=hits[0].id)
    assert item is not None and recorded.id is not None
    card = card_for(item, pillar_name=bot.pillar_names.get(item.pillar or ""), confidence=hits[0].confidence)
    return Reply(card=card, buttons=feedback_buttons(recorded.id, item.id))
